#!/usr/bin/env node
// Golden tests, one directory per pipeline stage (tests/golden/<stage>/<case>.ward):
//   syntax/, sema/  fail_*.ward must fail `ward check`; the rendered diagnostics are <case>.stderr.
//                   Other cases must check clean (their warnings, if any, are <case>.stderr).
//   ir/             `ward compile --target ir` output is <case>.ir.txt.
//   kql/            `ward compile --target kql` output is <case>.kql, and every query is
//                   analysed by Microsoft's Kusto language service (zero diagnostics; a case
//                   whose .stderr carries W0301 may draw KS500, the same advice).
// Usage: run.js --ward PATH [--update] [--filter SUBSTR]
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const args = process.argv.slice(2);
const opt = { ward: null, update: false, filter: "" };
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--ward") opt.ward = path.resolve(args[++i]);
  else if (args[i] === "--update") opt.update = true;
  else if (args[i] === "--filter") opt.filter = args[++i];
  else { console.error(`run.js: unknown argument ${args[i]}`); process.exit(2); }
}
if (!opt.ward) { console.error("run.js: --ward PATH is required"); process.exit(2); }

const root = __dirname;
const env = { ...process.env, NO_COLOR: "1", WARD_SCHEMA_PATH: path.resolve(root, "../../rules/schemas") };
let checkQuery = null;
try { ({ checkQuery } = require("../tools/kql-check.js")); } catch (e) { /* reported below */ }

function ward(dir, argv) {
  const r = spawnSync(opt.ward, argv, { cwd: dir, env, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

let passed = 0, failed = 0, updated = 0;
const failures = [];
function fail(name, why) { failed++; failures.push(`FAIL ${name}: ${why}`); }

function compare(name, file, actual) {
  const exists = fs.existsSync(file);
  const expected = exists ? fs.readFileSync(file, "utf8") : null;
  if (expected === actual) return true;
  if (opt.update) {
    if (actual === "" && !exists) return true;
    if (actual === "") fs.unlinkSync(file); else fs.writeFileSync(file, actual);
    updated++;
    console.log(`updated ${path.relative(root, file)}`);
    return true;
  }
  if (expected === null && actual === "") return true;
  fail(name, `${path.basename(file)} differs (run with --update to accept)\n` + diff(expected || "", actual));
  return false;
}

function diff(a, b) {
  const x = a.split("\n"), y = b.split("\n");
  const out = [];
  for (let i = 0; i < Math.max(x.length, y.length) && out.length < 16; i++)
    if (x[i] !== y[i]) out.push(`  line ${i + 1}:\n    - ${JSON.stringify(x[i])}\n    + ${JSON.stringify(y[i])}`);
  return out.join("\n");
}

const stages = ["syntax", "sema", "ir", "kql", "sentinel", "sigma"];
let sentinelCheck = null;
try { sentinelCheck = require("../tools/sentinel-check.js"); } catch (e) { /* reported below */ }
const codes = new Set();
for (const stage of stages) {
  const dir = path.join(root, stage);
  if (!fs.existsSync(dir)) continue;
  const cases = fs.readdirSync(dir).filter(f => f.endsWith(".ward") && !f.startsWith("_")).sort();
  for (const file of cases) {
    const base = file.slice(0, -5);
    const name = `${stage}/${base}`;
    if (opt.filter && !name.includes(opt.filter)) continue;
    const stem = path.join(dir, base);
    let ok = true;
    if (stage === "sigma") {
      if (sigmaGolden(name, stem, dir, file, base.startsWith("fail_"))) passed++;
      continue;
    }
    if (stage === "sentinel") {  // export: limits are checked by compile, not check (tests/golden/sentinel/README.md)
      if (sentinelGolden(name, stem, dir, file, base.startsWith("fail_"))) passed++;
      continue;
    }
    if (base.startsWith("fail_")) {
      const r = ward(dir, ["check", file]);
      if (r.signal) { fail(name, `ward crashed with ${r.signal}`); continue; }
      ok = failCaseResult(name, stem, r);
    } else {
      const target = stage === "ir" ? "ir" : "kql";
      const r = ward(dir, ["compile", "--target", target, file]);
      if (r.signal) { fail(name, `ward crashed with ${r.signal}`); continue; }
      if (r.code !== 0) { fail(name, `expected exit 0, got ${r.code}\n${r.stderr}`); continue; }
      ok = compare(name, stem + ".stderr", r.stderr);
      if (stage === "ir") ok = compare(name, stem + ".ir.txt", r.stdout) && ok;
      if (stage === "kql" || stage === "syntax" || stage === "sema") {
        if (stage === "kql") ok = compare(name, stem + ".kql", r.stdout) && ok;
        const j = ward(dir, ["compile", "--target", "kql", "--format", "json", file]);
        if (j.code !== 0) { fail(name, `json compile failed\n${j.stderr}`); continue; }
        if (!checkQuery) { fail(name, "tests/tools/kql-check.js could not be loaded (npm tools missing?)"); continue; }
        const allow = new Set(r.stderr.includes("warning[W0301]") ? ["KS500"] : []);
        for (const q of JSON.parse(j.stdout).queries) {
          const ds = checkQuery(q.query, q.tables).filter(d => !allow.has(d.code));
          if (ds.length) {
            ok = false;
            fail(name, `Kusto diagnostics for rule ${q.rule}:\n` +
              ds.map(d => `  ${d.code} ${d.severity}: ${d.message} at ${JSON.stringify(q.query.substr(d.start, Math.max(d.length, 1)))}`).join("\n"));
          }
        }
      }
    }
    if (ok) passed++;
  }
}

// A fail_ case of any stage: exit 1, its expected <case>.stderr, and the error codes it covers.
function failCaseResult(name, stem, r) {
  if (r.code !== 1) { fail(name, `expected exit 1 (errors), got ${r.code}\n${r.stderr}`); return false; }
  if (!fs.existsSync(stem + ".stderr") && !opt.update) { fail(name, "a fail_ case needs its expected .stderr"); return false; }
  for (const m of r.stderr.matchAll(/error\[(E\d{4})\]/g)) codes.add(m[1]);
  return compare(name, stem + ".stderr", r.stderr);
}

// sentinel/: fail_* must fail `ward compile --target sentinel-yaml` (exit 1) with <case>.stderr;
// others give <case>.sentinel.yaml and <case>.arm.json, which must pass tests/tools/sentinel-check.js,
// agree with each other, and carry the KQL backend's query with zero Kusto diagnostics.
function sentinelGolden(name, stem, dir, file, failCase) {
  const y = ward(dir, ["compile", "--target", "sentinel-yaml", file]);
  if (y.signal) { fail(name, `ward crashed with ${y.signal}`); return false; }
  if (failCase) return failCaseResult(name, stem, y);
  if (y.code !== 0) { fail(name, `expected exit 0, got ${y.code}\n${y.stderr}`); return false; }
  const a = ward(dir, ["compile", "--target", "sentinel-arm", file]);
  if (a.code !== 0) { fail(name, `sentinel-arm failed\n${a.stderr}`); return false; }
  let ok = compare(name, stem + ".stderr", y.stderr);
  ok = compare(name, stem + ".sentinel.yaml", y.stdout) && ok;
  ok = compare(name, stem + ".arm.json", a.stdout) && ok;
  if (!sentinelCheck || !checkQuery) { fail(name, "tests/tools/sentinel-check.js could not be loaded (npm tools missing?)"); return false; }
  const j = ward(dir, ["compile", "--target", "kql", "--format", "json", file]);
  const queries = new Map(JSON.parse(j.stdout).queries.map((q) => [q.id, q]));
  let template;
  try { template = JSON.parse(a.stdout); } catch (e) { fail(name, `ARM is not JSON: ${e.message}`); return false; }
  const problems = sentinelCheck.checkArm(template);
  const docs = [];
  for (const d of sentinelCheck.parseYamlText(y.stdout)) {
    if (d.errors.length) problems.push(...d.errors);
    else docs.push(d.doc);
  }
  for (const d of docs) {
    problems.push(...sentinelCheck.checkRule(d));
    const q = queries.get(d.id);
    if (!q || q.query !== d.query) { problems.push(`rule ${d.id}: the YAML query is not the KQL backend's`); continue; }
    for (const k of checkQuery(d.query, q.tables)) problems.push(`Kusto ${k.code}: ${k.message}`);
    const r = (template.resources || []).find((x) => x.name === d.id);
    if (!r) problems.push(`rule ${d.id}: not in the ARM template`);
    else problems.push(...sentinelCheck.comparePair(d, r));
  }
  if (problems.length) { fail(name, problems.join("\n  ")); return false; }
  return ok;
}

// sigma/: fail_* must fail `ward compile --target sigma` (exit 1) with <case>.stderr (errors, or
// lossy warnings without --allow-lossy); others are compiled with --allow-lossy to <case>.sigma.yml
// (their warnings in <case>.stderr), which must validate against the Sigma JSON schemas
// (../shared/schemas/sigma, when present beside the repository).
var sigmaValidate;  // var: used by the stage loop above
function sigmaGolden(name, stem, dir, file, failCase) {
  const y = ward(dir, ["compile", "--target", "sigma", ...(failCase ? [] : ["--allow-lossy"]), file]);
  if (y.signal) { fail(name, `ward crashed with ${y.signal}`); return false; }
  if (failCase) return failCaseResult(name, stem, y);
  if (y.code !== 0) { fail(name, `expected exit 0, got ${y.code}\n${y.stderr}`); return false; }
  let ok = compare(name, stem + ".stderr", y.stderr);
  ok = compare(name, stem + ".sigma.yml", y.stdout) && ok;
  // The in-tree copy of the Sigma schemas (tests/tools/sigma-schemas, public domain).
  const sc = require("../tools/sigma-check.js");
  if (!sigmaValidate) sigmaValidate = sc.validator(path.resolve(root, "../tools/sigma-schemas"));
  const { problems } = sc.check(sigmaValidate, [[file, y.stdout]]);
  if (problems.length) { fail(name, problems.join("\n  ")); return false; }
  return ok;
}

for (const f of failures) console.log(f);
const failCases = [...codes].length;
console.log(`golden: ${codes.size} distinct error codes covered by fail_ cases`);
if (opt.update) console.log(`golden: ${updated} files updated`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
