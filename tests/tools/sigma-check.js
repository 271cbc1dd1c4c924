#!/usr/bin/env node
// Why this exists: every Sigma document Ward writes must validate against the Sigma
// specification's JSON schemas (detection rules, and correlation rules V2.1), and each
// correlation must name detection rules that are in the same output.
// Usage: node tests/tools/sigma-check.js [--schemas DIR] FILE.yml...
//   DIR defaults to ../shared/schemas/sigma beside the repository; without it: exit 77 (skip).
// Library: require("./sigma-check").validator(dir) -> (doc) => [problems]
"use strict";
const fs = require("fs");
const path = require("path");
const nm = path.join(__dirname, "..", "node_modules");
const Ajv2020 = require(path.join(nm, "ajv", "dist", "2020"));
const addFormats = require(path.join(nm, "ajv-formats"));
const YAML = require(path.join(nm, "yaml"));

function validator(dir) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const load = (f) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const rule = ajv.compile(load("sigma-detection-rule-schema.json"));
  const corr = ajv.compile(load("sigma-correlation-rules-schema.json"));
  return (doc) => {
    const v = doc && doc.correlation ? corr : rule;
    if (v(doc)) return [];
    return v.errors.map((e) => `${e.instancePath || "/"} ${e.message}${e.params && e.params.allowedValue ? ` (${e.params.allowedValue})` : ""}`);
  };
}

function check(validate, texts) {
  const problems = [], names = new Set(), refs = [];
  let n = 0;
  for (const [file, text] of texts) {
    const docs = YAML.parseAllDocuments(text, { uniqueKeys: true });
    docs.forEach((d, i) => {
      const where = `${file} (document ${i + 1})`;
      if (d.errors.length) { problems.push(`${where}: ${d.errors.map((e) => e.message).join("; ")}`); return; }
      const doc = d.toJS();
      n++;
      for (const p of validate(doc)) problems.push(`${where}: ${p}`);
      if (doc && doc.name) {
        if (names.has(doc.name)) problems.push(`${where}: name ${doc.name} twice`);
        names.add(doc.name);
      }
      if (doc && doc.correlation) for (const r of doc.correlation.rules || []) refs.push([where, r]);
    });
  }
  for (const [where, r] of refs) if (!names.has(r)) problems.push(`${where}: correlation names rule ${r}, which is not there`);
  return { n, problems };
}

function main(argv) {
  let dir = path.resolve(__dirname, "sigma-schemas");  // the in-tree copy (PROVENANCE.md there)
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--schemas") dir = path.resolve(argv[++i]);
    else files.push(argv[i]);
  }
  if (!fs.existsSync(path.join(dir, "sigma-detection-rule-schema.json"))) {
    console.error(`sigma-check: no Sigma schemas at ${dir}`);
    return 2;
  }
  const { n, problems } = check(validator(dir), files.map((f) => [f, fs.readFileSync(f, "utf8")]));
  for (const p of problems) console.log(`FAIL ${p}`);
  console.log(`sigma-check: ${n} document(s), ${problems.length} problem(s)`);
  return problems.length ? 1 : 0;
}

module.exports = { validator, check };
if (require.main === module) process.exit(main(process.argv.slice(2)));
