#!/usr/bin/env node
// Content checks for `ward coverage --html/--navigator` against the same run's --json
// (tests/tools/coverage_report.sh):
//   node report-check.js html REPORT.html COVERAGE.json
//   node report-check.js navigator LAYER.json COVERAGE.json STEP=TECHNIQUE...
"use strict";
const fs = require("fs");
const fails = [];
const bad = (m) => fails.push(m);

// simulator/report.cpp's colours: green caught (>= 90%), amber partly, red missed, grey no rows
function colour(s) {
  if (!s || s.events === 0) return "#bdbdbd";
  return s.recall >= 0.9 ? "#66bd63" : s.caught > 0 ? "#fdae61" : "#f46d43";
}

function html(file, cov) {
  const h = fs.readFileSync(file, "utf8");
  if (!h.startsWith("<!DOCTYPE html>")) bad("no doctype");
  // self-contained: nothing to fetch
  const ext = h.match(/<(script|link|img|iframe|object|embed)\b|\bsrc\s*=|url\(|@import|\bhref\s*=\s*"(?!#)/i);
  if (ext) bad(`external resource or script: ${ext[0]}`);
  const svgs = h.match(/<svg\b/g) || [];
  if (svgs.length !== 2) bad(`${svgs.length} inline <svg> elements, expected 2`);
  if (/<\?xml|<!DOCTYPE svg/.test(h)) bad("the SVG prolog/doctype was left in");
  for (const id of ["campaign", "matrix", "steps", "rules"]) if (!h.includes(`id="${id}"`)) bad(`no #${id}`);
  const campaign = (h.split('id="campaign"')[1] || "").split("</svg>")[0];
  for (const step of ["C", "D", "E", "F", "G"]) {
    const m = campaign.match(new RegExp(`<title>s${step}</title>\\s*(?:<g [^>]*>\\s*<a [^>]*>\\s*)?<path fill="([^"]+)"`));
    const want = colour(cov.steps[step]);
    if (!m) bad(`campaign graph has no node for step ${step}`);
    else if (m[1] !== want) bad(`step ${step} is ${m[1]}, expected ${want}`);
  }
  for (let i = 1; i < 5; i++) {
    const [a, b] = ["CDEFG"[i - 1], "CDEFG"[i]];
    if (!campaign.includes(`<title>s${a}&#45;&gt;s${b}</title>`)) bad(`no edge ${a}->${b}`);
  }
  const matrix = (h.split('id="matrix"')[1] || "").split("</svg>")[0];
  for (const rule of Object.keys(cov.rules)) {
    const e = rule.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    if (!matrix.includes(`>${e}</text>`)) bad(`rule ${rule} is not in the matrix SVG`);
    if (!h.includes(`<tr><td><code>${e}</code>`)) bad(`rule ${rule} has no row in the rule table`);
  }
  // every rule with a caught step has a coloured matrix cell; count them
  let want = 0;
  for (const r of Object.values(cov.rules)) for (const s of Object.keys(r.steps)) if (cov.steps[s].events) want++;
  const cells = (matrix.match(/fill="#(66bd63|fdae61|f46d43)"/g) || []).length;
  if (cells !== want) bad(`${cells} coloured matrix cells, expected ${want}`);
}

function navigator(file, cov, pairs) {
  const l = JSON.parse(fs.readFileSync(file, "utf8"));
  if (l.versions.layer !== "4.5" || l.domain !== "enterprise-attack") bad("not a 4.5 enterprise layer");
  const byId = Object.fromEntries(l.techniques.map((t) => [t.techniqueID, t]));
  for (const p of pairs) {
    const [step, tech] = p.split("=");
    const s = cov.steps[step], t = byId[tech];
    if (!s || !s.events) { bad(`step ${step} has no rows in this trace`); continue; }
    if (!t) { bad(`no technique ${tech} in the layer`); continue; }
    const want = Math.round(100 * s.caught / s.events);
    if (t.score !== want) bad(`${tech} score ${t.score}, expected ${want} (step ${step} recall)`);
    if (!t.comment.includes(`step(s) ${step}`)) bad(`${tech} comment does not name step ${step}: ${t.comment}`);
    for (const [rule, r] of Object.entries(cov.rules))
      if ((r.steps[step] ? 1 : 0) !== (t.comment.includes(rule + " (") ? 1 : 0)) bad(`${tech} comment and rule ${rule} disagree: ${t.comment}`);
  }
}

const [mode, file, json, ...rest] = process.argv.slice(2);
const cov = JSON.parse(fs.readFileSync(json, "utf8"));
if (mode === "html") html(file, cov);
else if (mode === "navigator") navigator(file, cov, rest);
else { console.error("usage: report-check.js html|navigator FILE COVERAGE.json ..."); process.exit(2); }
for (const f of fails) console.error(`FAIL: ${file}: ${f}`);
process.exitCode = fails.length ? 1 : 0;
