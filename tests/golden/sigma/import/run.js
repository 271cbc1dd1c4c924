#!/usr/bin/env node
// Import goldens for `ward import-sigma`: every <case>.yml here is imported; stdout must be
// <case>.ward and the diagnostics <case>.stderr. fail_* cases must exit 1 (an error); the others
// exit 0 and their .ward must pass `ward check` (exit 0; its warnings are <case>.check.stderr).
// Every E09xx/W09xx code of compiler/diag/diagnostics.def must be covered by some case.
// Usage: run.js --ward PATH [--update]
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const args = process.argv.slice(2);
let wardBin = null, update = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--ward") wardBin = path.resolve(args[++i]);
  else if (args[i] === "--update") update = true;
  else { console.error(`run.js: unknown argument ${args[i]}`); process.exit(2); }
}
if (!wardBin) { console.error("run.js: --ward PATH is required"); process.exit(2); }
const root = __dirname;
const env = { ...process.env, NO_COLOR: "1", WARD_SCHEMA_PATH: path.resolve(root, "../../../../rules/schemas") };
const ward = (argv) => spawnSync(wardBin, argv, { cwd: root, env, encoding: "utf8" });

let passed = 0;
const failures = [];
const covered = new Set();
function compare(name, file, actual) {
  const p = path.join(root, file);
  const expected = fs.existsSync(p) ? fs.readFileSync(p, "utf8") : "";
  if (expected === actual) return true;
  if (update) {
    if (actual === "") { if (fs.existsSync(p)) fs.unlinkSync(p); } else fs.writeFileSync(p, actual);
    console.log(`updated ${file}`);
    return true;
  }
  const x = expected.split("\n"), y = actual.split("\n");
  let at = 0;
  while (at < x.length && x[at] === y[at]) at++;
  failures.push(`FAIL ${name}: ${file} differs at line ${at + 1}\n    - ${JSON.stringify(x[at])}\n    + ${JSON.stringify(y[at])}`);
  return false;
}

for (const f of fs.readdirSync(root).filter((f) => f.endsWith(".yml")).sort()) {
  const base = f.slice(0, -4);
  const r = ward(["import-sigma", f]);
  if (r.signal) { failures.push(`FAIL ${base}: crashed with ${r.signal}`); continue; }
  for (const m of r.stderr.matchAll(/(?:error|warning)\[([EW]09\d\d)\]/g)) covered.add(m[1]);
  const failCase = base.startsWith("fail_");
  if (failCase ? r.status !== 1 : r.status !== 0) {
    failures.push(`FAIL ${base}: exit ${r.status}, expected ${failCase ? 1 : 0}\n${r.stderr}`);
    continue;
  }
  if (failCase && !/error\[E09\d\d\]/.test(r.stderr)) { failures.push(`FAIL ${base}: no E09xx error`); continue; }
  let ok = compare(base, base + ".stderr", r.stderr);
  ok = compare(base, base + ".ward", r.stdout) && ok;
  if (r.stdout !== "") {
    // what was written is Ward that checks clean of errors
    const out = path.join(root, base + ".ward");
    const tmp = fs.mkdtempSync(path.join(require("os").tmpdir(), "ward-import-"));
    const w = path.join(tmp, base + ".ward");
    fs.writeFileSync(w, r.stdout);
    const c = ward(["check", w]);
    fs.rmSync(tmp, { recursive: true, force: true });
    if (c.status !== 0) { failures.push(`FAIL ${base}: ward check of the import failed (${out})\n${c.stderr}`); ok = false; }
    else ok = compare(base, base + ".check.stderr", c.stderr.split(w).join(base + ".ward")) && ok;
  }
  if (!failCase && r.stdout === "") { failures.push(`FAIL ${base}: nothing imported`); ok = false; }
  if (ok) passed++;
}
const def = fs.readFileSync(path.resolve(root, "../../../../compiler/diag/diagnostics.def"), "utf8");
const all = [...def.matchAll(/^WARD_DIAG\(([EW]09\d\d),/gm)].map((m) => m[1]);
const missing = all.filter((c) => !covered.has(c));
if (missing.length) failures.push(`FAIL coverage: no import golden reports ${missing.join(", ")}`);
for (const f of failures) console.log(f);
console.log(`sigma import: ${passed} cases passed, ${failures.length} failures; ${covered.size} of ${all.length} E09xx/W09xx codes covered`);
process.exit(failures.length ? 1 : 0);
