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

const stages = ["syntax", "sema", "ir", "kql"];
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
    if (base.startsWith("fail_")) {
      const r = ward(dir, ["check", file]);
      if (r.signal) { fail(name, `ward crashed with ${r.signal}`); continue; }
      if (r.code !== 1) { fail(name, `expected exit 1 (errors), got ${r.code}\n${r.stderr}`); continue; }
      if (!fs.existsSync(stem + ".stderr") && !opt.update) { fail(name, "a fail_ case needs its expected .stderr"); continue; }
      ok = compare(name, stem + ".stderr", r.stderr);
      for (const m of r.stderr.matchAll(/error\[(E\d{4})\]/g)) codes.add(m[1]);
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

for (const f of failures) console.log(f);
const failCases = [...codes].length;
console.log(`golden: ${codes.size} distinct error codes covered by fail_ cases`);
if (opt.update) console.log(`golden: ${updated} files updated`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
