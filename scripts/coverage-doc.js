#!/usr/bin/env node
// Writes docs/coverage.md: `ward coverage` of the rule library on every campaign variant and on
// benign traffic, with the issue's targets checked, and the library's blind spots.
//
//   node scripts/coverage-doc.js WARD [--users N] [--days D] [--seed S] [--lib DIR] [-o docs/coverage.md]
//   node scripts/coverage-doc.js WARD --check [docs/coverage.md]
//
// The document carries a fingerprint: a hash of the library's files, the scenario files and the
// library's alerts (`ward run --canonical`) on a small trace simulated now. --check recomputes it
// in seconds and fails when it differs — a rule, a scenario, the simulator or the VM changed
// since the document was generated at full size — so the checked-in figures cannot go stale.
'use strict';
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
let LIB = 'rules/storm0558';
const VARIANTS = ['storm0558', 'storm0558-stealthy', 'storm0558-loud'];
const STEPS = ['D', 'E', 'F', 'G'];

function usage(msg) {
  process.stderr.write(`error: ${msg}\nusage: coverage-doc.js WARD [--users N] [--days D] [--seed S] [-o FILE] | WARD --check [FILE]\n`);
  process.exit(2);
}
const argv = process.argv.slice(2);
if (!argv.length) usage('name the ward binary');
const ward = path.resolve(argv.shift());
let users = 10000, days = 14, seed = 7, out = path.join(root, 'docs/coverage.md'), check = false;
while (argv.length) {
  const a = argv.shift();
  if (a === '--users') users = Number(argv.shift());
  else if (a === '--days') days = Number(argv.shift());
  else if (a === '--seed') seed = Number(argv.shift());
  else if (a === '-o') out = path.resolve(argv.shift());
  else if (a === '--lib') LIB = argv.shift();
  else if (a === '--check') { check = true; if (argv.length && !argv[0].startsWith('-')) out = path.resolve(argv.shift()); }
  else usage(`unknown argument ${a}`);
}
if (![users, days, seed].every(Number.isInteger)) usage('--users, --days and --seed take integers');

function walk(dir) {
  const found = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) found.push(...walk(p));
    else found.push(p);
  }
  return found.sort();
}
const ruleFiles = walk(path.join(root, LIB)).filter((f) => f.endsWith('.ward'));
if (!ruleFiles.length) usage(`no rules in ${LIB}`);
const ward_ = (args, opts = {}) => execFileSync(ward, args, { cwd: root, maxBuffer: 1 << 30, ...opts });

// BLINDSPOTS.md as the document carries it: its title one level down
function blindText(f) { return fs.readFileSync(f, 'utf8').replace(/^# /m, '## '); }

function fingerprint() {
  const h = crypto.createHash('sha256');
  // prose (*.md) is not an input: BLINDSPOTS.md is copied into the document and compared as text by --check
  const inputs = [...walk(path.join(root, LIB)).filter((f) => !f.endsWith('.alerts.jsonl') && !f.endsWith('.md')), ...walk(path.join(root, 'simulator/scenarios'))];
  for (const f of inputs) h.update(path.relative(root, f) + '\0').update(fs.readFileSync(f)).update('\0');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ward-coverage-doc-'));
  try {
    ward_(['simulate', '--scenario', 'storm0558', '--users', '50', '--days', '14', '--seed', '7', '--out', tmp, '--quiet'], { stdio: 'ignore' });
    const events = fs.readdirSync(tmp).filter((f) => f.endsWith('.jsonl')).sort().map((f) => path.join(tmp, f));
    for (const f of events) h.update(fs.readFileSync(f));
    h.update(fs.readFileSync(path.join(tmp, 'labels/labels.jsonl')));
    h.update(ward_(['run', '-q', '--canonical', '--rules', ...ruleFiles, '--events', ...events]));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return h.digest('hex').slice(0, 32);
}

const fp = fingerprint();
if (check) {
  let text;
  try { text = fs.readFileSync(out, 'utf8'); } catch (e) { usage(`cannot read ${out}`); }
  const m = text.match(/<!-- fingerprint: ([0-9a-f]+) -->/);
  if (!m) { console.log(`FAIL: ${path.relative(root, out)} has no fingerprint line`); process.exit(1); }
  if (m[1] !== fp) {
    console.log(`FAIL: ${path.relative(root, out)} is stale (fingerprint ${m[1]}, the tree gives ${fp}): a rule, a scenario, the ` +
      `simulator or the VM changed. Regenerate it: node scripts/coverage-doc.js build/ward (see its header for the size)`);
    process.exit(1);
  }
  const blindFile = path.join(root, LIB, 'BLINDSPOTS.md');
  if (fs.existsSync(blindFile) && !text.includes(blindText(blindFile))) {
    console.log(`FAIL: ${path.relative(root, out)} does not carry the current ${path.relative(root, blindFile)}: regenerate it`);
    process.exit(1);
  }
  console.log(`${path.relative(root, out)} is up to date (fingerprint ${fp})`);
  process.exit(0);
}

// ---- generate
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ward-coverage-doc-'));
const runs = {};
try {
  for (const v of [...VARIANTS, 'benign']) {
    process.stderr.write(`ward coverage ${v}: ${users} users x ${days} days, seed ${seed}\n`);
    const json = path.join(tmp, `${v}.json`), md = path.join(tmp, `${v}.md`);
    ward_(['coverage', '--rules', ...ruleFiles, '--scenario', v, '--users', String(users), '--days', String(days), '--seed', String(seed),
      '--json', json, '--markdown', md], { stdio: ['ignore', 'ignore', 'inherit'] });
    runs[v] = { json: JSON.parse(fs.readFileSync(json, 'utf8')), md: fs.readFileSync(md, 'utf8') };
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}

const ioc = new Set();
for (const f of ruleFiles) if (/tags\s*=\s*\[[^\]]*"ioc-only"/.test(fs.readFileSync(f, 'utf8'))) ioc.add(path.basename(f, '.ward'));
const pct = (x) => `${(100 * x).toFixed(1)}%`;
let doc = `# Coverage of the Storm-0558 rule library

Generated by \`node scripts/coverage-doc.js build/ward --users ${users} --days ${days} --seed ${seed}\` (\`ward coverage\` of
every rule in \`${LIB}/\` on each scenario of \`simulator/scenarios/\`); do not edit by hand. The ctest
\`coverage_doc_fresh\` fails when a rule, a scenario, the simulator or the VM changes the fingerprint below
without this file being regenerated.

<!-- fingerprint: ${fp} -->

## Targets (issue 6), measured here

`;
const def = runs['storm0558'].json, stealthy = runs['storm0558-stealthy'].json, benign = runs['benign'].json;
const line = (ok, what) => `- ${ok ? '**met**' : '**MISSED**'}: ${what}\n`;
for (const [name, r] of [['storm0558', def], ['storm0558-stealthy', stealthy]]) {
  const missed = STEPS.filter((s) => r.steps[s] && r.steps[s].events > 0 && !r.steps[s].detected);
  doc += line(!missed.length, `every step with rows is caught by at least one rule in \`${name}\`` + (missed.length ? ` (missed: ${missed.join(', ')})` : ''));
}
const low = STEPS.filter((s) => def.steps[s] && def.steps[s].events > 0 && def.steps[s].recall < 0.9);
doc += line(!low.length, 'recall per step ≥ 0.9 on `storm0558`: ' + STEPS.filter((s) => def.steps[s] && def.steps[s].events > 0).map((s) => `${s} ${pct(def.steps[s].recall)}`).join(', '));
for (const [name, r] of [['benign', benign], ['storm0558', def]]) {
  const rules = Object.entries(r.rules);
  const total = rules.reduce((a, [, x]) => a + x.fp_per_1k_users_per_day, 0);
  const worst = rules.reduce((a, b) => (b[1].fp_per_1k_users_per_day > a[1].fp_per_1k_users_per_day ? b : a), rules[0]);
  doc += line(total <= 1, `false positives of the whole library on \`${name}\` traffic ≤ 1 per 1,000 users per day: ${total.toFixed(3)}`);
  doc += line(worst[1].fp_per_1k_users_per_day <= 0.2, `no single rule above 0.2 on \`${name}\`: the highest is \`${worst[0]}\` at ${worst[1].fp_per_1k_users_per_day.toFixed(3)}`);
}
doc += `- IOC-only rules (tagged \`ioc-only\`): ${ioc.size ? [...ioc].map((r) => `\`${r}\``).join(', ') : 'none'}; \`storm0558-stealthy\` uses fresh infrastructure, so its row above is the library without them.\n`;

doc += '\n## Recall per step and variant (any rule)\n\n| variant | ' + STEPS.join(' | ') + ' | FP per 1k users per day |\n|---|' + STEPS.map(() => '---:|').join('') + '---:|\n';
for (const v of [...VARIANTS, 'benign']) {
  const r = runs[v].json;
  const total = Object.values(r.rules).reduce((a, x) => a + x.fp_per_1k_users_per_day, 0);
  doc += `| \`${v}\` | ` + STEPS.map((s) => (r.steps[s] && r.steps[s].events ? pct(r.steps[s].recall) : 'no rows')).join(' | ') + ` | ${total.toFixed(3)} |\n`;
}
for (const v of [...VARIANTS, 'benign']) doc += '\n## Variant ' + runs[v].md.replace(/^### /, '');
const blind = path.join(root, LIB, 'BLINDSPOTS.md');
if (fs.existsSync(blind)) doc += '\n' + blindText(blind);
fs.writeFileSync(out, doc);
process.stderr.write(`wrote ${path.relative(root, out)}\n`);
