#!/usr/bin/env node
// Validates ATT&CK Navigator layer files against navigator-layer-4.5.schema.json (ajv 8), plus
// what JSON Schema cannot say (gradient maxValue > minValue).
//   node navigator-check.js LAYER.json...      exit 1 if any is invalid
//   node navigator-check.js --selftest         the schema accepts the spec's example and rejects broken layers
"use strict";
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");
const addFormats = require("ajv-formats");

const schema = JSON.parse(fs.readFileSync(path.join(__dirname, "navigator-layer-4.5.schema.json"), "utf8"));
const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

function check(layer) {
  const errs = [];
  if (!validate(layer)) for (const e of validate.errors) errs.push(`${e.instancePath || "/"} ${e.message}`);
  for (const l of Array.isArray(layer) ? layer : [layer]) {
    const g = l && l.gradient;
    if (g && typeof g.minValue === "number" && typeof g.maxValue === "number" && !(g.maxValue > g.minValue))
      errs.push("/gradient maxValue must be > minValue");
  }
  return errs;
}

function selftest() {
  // The single-layer example of layers/spec/v4.5/layerformat.md (abridged).
  const good = {
    name: "example layer", versions: { attack: "18", navigator: "5.2.0", layer: "4.5" },
    domain: "enterprise-attack", description: "hello, world", filters: { platforms: ["Windows", "macOS"] }, sorting: 2,
    layout: { layout: "side", showName: true, showID: false, showAggregateScores: true, countUnscored: true,
              aggregateFunction: "average", expandedSubtechniques: "annotated" },
    hideDisabled: false,
    techniques: [
      { techniqueID: "T1110", score: 0, color: "#fd8d3c", comment: "c", showSubtechniques: true },
      { techniqueID: "T1110.001", score: 100, links: [{ label: "Navigator GitHub", url: "https://github.com/mitre-attack/attack-navigator" }] },
      { techniqueID: "T1134", tactic: "defense-evasion", score: 75 },
      { techniqueID: "T1078", tactic: "discovery", enabled: false },
      { techniqueID: "T1053", tactic: "privilege-escalation", metadata: [{ name: "a", value: "b" }, { divider: true }] },
    ],
    gradient: { colors: ["#ff6666", "#ffe766", "#8ec843"], minValue: 0, maxValue: 100 },
    legendItems: [{ label: "Legend Item Label", color: "#FF00FF" }],
    showTacticRowBackground: true, tacticRowBackground: "#dddddd", selectTechniquesAcrossTactics: false,
    selectSubtechniquesWithParent: false, selectVisibleTechniques: false,
    metadata: [{ name: "layer metadata 1", value: "v" }, { divider: true }],
  };
  const mut = (f) => { const l = JSON.parse(JSON.stringify(good)); f(l); return l; };
  const cases = [
    ["spec example", good, true],
    ["a list of layers", [good, good], true],
    ["no name", mut((l) => delete l.name), false],
    ["no domain", mut((l) => delete l.domain), false],
    ["unknown domain", mut((l) => (l.domain = "enterprise")), false],
    ["layer version 4.4", mut((l) => (l.versions.layer = "4.4")), false],
    ["navigator 4.8.2", mut((l) => (l.versions.navigator = "4.8.2")), false],
    ["versions without navigator", mut((l) => delete l.versions.navigator), false],
    ["bad technique id", mut((l) => (l.techniques[0].techniqueID = "1110")), false],
    ["sub-technique with 2 digits", mut((l) => (l.techniques[1].techniqueID = "T1110.01")), false],
    ["score as a string", mut((l) => (l.techniques[0].score = "50")), false],
    ["technique without id", mut((l) => delete l.techniques[2].techniqueID), false],
    ["misspelt key", mut((l) => (l.techniques[0].Comment = "x")), false],
    ["gradient with one colour", mut((l) => (l.gradient.colors = ["#ff0000"])), false],
    ["gradient colour not hex", mut((l) => (l.gradient.colors[0] = "red")), false],
    ["gradient max <= min", mut((l) => (l.gradient.maxValue = 0)), false],
    ["sorting 4", mut((l) => (l.sorting = 4)), false],
    ["link without protocol", mut((l) => (l.techniques[1].links[0].url = "github.com/x")), false],
    ["metadata without value", mut((l) => (l.metadata[0] = { name: "a" })), false],
    ["aggregate function median", mut((l) => (l.layout.aggregateFunction = "median")), false],
    ["not an object", "layer", false],
  ];
  let fails = 0;
  for (const [name, layer, ok] of cases) {
    const errs = check(layer);
    if ((errs.length === 0) !== ok) {
      console.error(`FAIL: ${name}: expected ${ok ? "valid" : "invalid"}${errs.length ? ": " + errs.join("; ") : ""}`);
      fails++;
    }
  }
  // and through the command line: a broken layer file exits 1
  const os = require("os");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "navcheck-"));
  const bad = path.join(tmp, "bad.json");
  fs.writeFileSync(bad, JSON.stringify(mut((l) => (l.versions.layer = "4.3"))));
  const r = require("child_process").spawnSync(process.execPath, [__filename, bad], { encoding: "utf8" });
  if (r.status !== 1 || !/layer/.test(r.stderr)) { console.error(`FAIL: cli on a broken layer: exit ${r.status} ${r.stderr}`); fails++; }
  fs.rmSync(tmp, { recursive: true });
  console.log(`navigator-check selftest: ${cases.length + 1 - fails}/${cases.length + 1} ok`);
  return fails ? 1 : 0;
}

function main(argv) {
  if (argv[0] === "--selftest") return selftest();
  if (!argv.length) { console.error("usage: navigator-check.js LAYER.json... | --selftest"); return 2; }
  let bad = 0;
  for (const f of argv) {
    let layer;
    try { layer = JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { console.error(`${f}: ${e.message}`); bad++; continue; }
    const errs = check(layer);
    for (const e of errs) console.error(`${f}: ${e}`);
    if (errs.length) bad++;
  }
  return bad ? 1 : 0;
}
process.exitCode = main(process.argv.slice(2));
