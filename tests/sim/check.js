#!/usr/bin/env node
// Checks a `ward simulate` output directory against the table schemas and the simulator's
// promises (simulator/README.md): every row has every column of its table with the declared
// type and no others; string columns are not empty (except the few listed below, where an
// empty value is what the real log holds); files are in time order; the labels cover every
// event id exactly once; every benign mail read has a sign-in by the same principal from the
// same IP within 24 h before it, and no forged-token mail read (step F) has one; published
// IOC IPs appear only inside their first/last-seen windows (MSTI-0714, transcribed here
// independently of the simulator).
//
// The relying party's consumer-issuer tokens: benign ones only at the app that admits personal
// accounts, never with the 2016 key.
// usage: check.js SCHEMA_JSON TOKEN_VALIDATION_WARD OUT_DIR [--expect-malicious]
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const [schemaPath, wardPath, dir, ...flags] = process.argv.slice(2);
if (!dir) { console.error('usage: check.js SCHEMA_JSON TOKEN_VALIDATION_WARD OUT_DIR'); process.exit(2); }
const expectMalicious = flags.includes('--expect-malicious');
const errors = [];
const fail = (m) => { if (errors.length < 40) errors.push(m); else if (errors.length === 40) errors.push('... more'); };

// ---- schemas
const tables = {};
for (const [t, cols] of Object.entries(JSON.parse(fs.readFileSync(schemaPath, 'utf8')).tables)) {
  tables[t] = {};
  for (const [c, d] of Object.entries(cols)) tables[t][c] = d.type;
}
{
  const src = fs.readFileSync(wardPath, 'utf8');
  const m = /table\s+(\w+)\s*\{([\s\S]*?)\n\}/.exec(src);
  const cols = {};
  for (const line of m[2].split('\n')) {
    const c = /^\s*(\w+)\s*:\s*(\w+)/.exec(line);
    if (c) cols[c[1]] = c[2];
  }
  tables[m[1]] = cols;
}
const idColumn = {
  SigninLogs: 'Id', AADNonInteractiveUserSignInLogs: 'Id', AADServicePrincipalSignInLogs: 'Id', AuditLogs: 'Id',
  OfficeActivity: 'OfficeId', CloudAppEvents: 'ReportId', MicrosoftGraphActivityLogs: 'RequestId',
  AppTokenValidation_CL: null, // the table has no id column; labels key it by a generated id and its line
};
// Columns where an empty string is the real value in context.
const mayBeEmpty = {
  AppTokenValidation_CL: ['ValidationError'],            // schema: "empty when accepted"
  MicrosoftGraphActivityLogs: ['Roles', 'Scopes', 'UserId'], // delegated tokens have no roles; app-only no scp, no user
};
const isoRe = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

function typeOk(type, v) {
  switch (type) {
    case 'string': case 'guid': return typeof v === 'string';
    case 'int': case 'long': return Number.isInteger(v);
    case 'real': return typeof v === 'number';
    case 'bool': return typeof v === 'boolean';
    case 'datetime': return typeof v === 'string' && isoRe.test(v) && !Number.isNaN(Date.parse(v));
    case 'timespan': return typeof v === 'string';
    case 'dynamic': return v !== null && typeof v === 'object';
    default: return false;
  }
}

function readLines(file) {
  let buf = fs.readFileSync(file);
  if (file.endsWith('.gz')) buf = zlib.gunzipSync(buf);
  const lines = buf.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

// ---- events
const events = new Map(); // id -> {table, line, row}
const rowsByTable = {};
let total = 0;
const files = fs.readdirSync(dir).filter((f) => /\.jsonl(\.gz)?$/.test(f)).sort();
for (const f of files) {
  const table = f.replace(/\.jsonl(\.gz)?$/, '');
  const schema = tables[table];
  if (!schema) { fail(`${f}: no schema for table ${table}`); continue; }
  const lines = readLines(path.join(dir, f));
  rowsByTable[table] = [];
  let last = '';
  lines.forEach((text, i) => {
    const where = `${f}:${i + 1}`;
    let row;
    try { row = JSON.parse(text); } catch (e) { fail(`${where}: not JSON: ${e.message}`); return; }
    total++;
    if (row.Type !== table) fail(`${where}: Type ${row.Type} in ${f}`);
    for (const [col, type] of Object.entries(schema)) {
      if (!(col in row)) { fail(`${where}: missing column ${col}`); continue; }
      const v = row[col];
      if (!typeOk(type, v)) fail(`${where}: ${col} should be ${type}, is ${JSON.stringify(v).slice(0, 60)}`);
      else if (type === 'string' && v === '' && !(mayBeEmpty[table] || []).includes(col)) fail(`${where}: ${col} is an empty string`);
    }
    for (const col of Object.keys(row)) if (!(col in schema)) fail(`${where}: column ${col} is not in the ${table} schema`);
    if (row.TimeGenerated < last) fail(`${where}: out of time order (${row.TimeGenerated} after ${last})`);
    last = row.TimeGenerated;
    rowsByTable[table].push(row);
    const idc = idColumn[table];
    if (idc !== undefined && idc !== null) {
      const id = row[idc];
      if (events.has(id)) fail(`${where}: duplicate event id ${id}`);
      events.set(id, { table, line: i + 1, row });
    } else {
      events.set(`${table}#${i + 1}`, { table, line: i + 1, row, positional: true });
    }
  });
}

// ---- labels
const labelsFile = path.join(dir, 'labels', 'labels.jsonl');
const labels = readLines(labelsFile).map((l) => JSON.parse(l));
const byId = new Map();
const byPos = new Map();
for (const l of labels) {
  if (byId.has(l.id)) fail(`labels: id ${l.id} twice`);
  byId.set(l.id, l);
  byPos.set(`${l.table}#${l.line}`, l);
  if (l.truth !== 'benign' && l.truth !== 'malicious') fail(`labels: bad truth ${l.truth}`);
  if (l.truth === 'malicious' && !(l.campaign && l.step && l.technique)) fail(`labels: malicious without campaign/step/technique: ${JSON.stringify(l)}`);
}
if (labels.length !== total) fail(`labels: ${labels.length} labels for ${total} events`);
const labelOf = new Map(); // row -> label
for (const [key, e] of events) {
  const l = e.positional ? byPos.get(key) : byId.get(key);
  if (!l) { fail(`no label for ${e.table} ${key}`); continue; }
  if (l.table !== e.table || l.line !== e.line) fail(`label ${l.id}: says ${l.table}:${l.line}, event is ${e.table}:${e.line}`);
  labelOf.set(e.row, l);
  // the label must not leak into the event
  const text = JSON.stringify(e.row);
  if (/"truth"|storm0558"|malicious/.test(text)) fail(`${e.table}:${e.line}: ground truth visible in the event`);
}

// ---- causal chains
const ms = (s) => Date.parse(s);
const signins = new Map(); // principal|ip -> [times]
const anySignin = new Map();
function addSignin(key, t, map) { if (!map.has(key)) map.set(key, []); map.get(key).push(t); }
for (const t of ['SigninLogs', 'AADNonInteractiveUserSignInLogs']) for (const r of rowsByTable[t] || []) {
  const key = `${r.UserPrincipalName.toLowerCase()}|${r.IPAddress}`;
  addSignin(key, ms(r.TimeGenerated), anySignin);
  if (r.ResultType === '0') addSignin(key, ms(r.TimeGenerated), signins);
}
for (const r of rowsByTable.AADServicePrincipalSignInLogs || []) addSignin(`${r.ServicePrincipalId}|${r.IPAddress}`, ms(r.TimeGenerated), signins);
const within = (map, key, t, span) => (map.get(key) || []).some((s) => s <= t && t - s <= span);
const DAY = 86400000;
let benignReads = 0, forgedReads = 0;
for (const r of rowsByTable.OfficeActivity || []) {
  if (r.Operation !== 'MailItemsAccessed') continue;
  const l = labelOf.get(r);
  if (!l) continue;
  const key = `${r.UserId.toLowerCase()}|${r.ClientIP}`;
  const t = ms(r.TimeGenerated);
  if (l.truth === 'benign') {
    benignReads++;
    if (!within(signins, key, t, DAY)) fail(`OfficeActivity:${l.line}: benign mail read by ${r.UserId} from ${r.ClientIP} with no sign-in in the 24 h before`);
  } else if (l.step === 'F') {
    forgedReads++;
    if (within(anySignin, key, t, DAY)) fail(`OfficeActivity:${l.line}: forged-token mail read has a sign-in from ${r.ClientIP} behind it`);
  }
}
if (benignReads === 0) fail('no benign MailItemsAccessed rows at all');
if (expectMalicious && forgedReads === 0) fail('no forged-token (step F) mail reads');

// ---- IOC windows (MSTI-0714, 2023, month/day first and last seen)
const ioc = {
  '51.89.156.153': [3, 9, 7, 10], '176.31.90.129': [3, 28, 6, 29], '137.74.181.100': [3, 31, 7, 11], '193.36.119.45': [4, 19, 7, 7],
  '185.158.248.159': [4, 24, 7, 6], '131.153.78.188': [5, 6, 6, 29], '37.143.130.146': [5, 12, 5, 19], '146.70.157.45': [5, 12, 6, 8],
  '185.195.200.39': [5, 15, 6, 29], '185.38.142.229': [5, 15, 7, 12], '146.70.121.44': [5, 17, 6, 29], '31.42.177.181': [5, 22, 5, 23],
  '185.51.134.52': [6, 7, 7, 11], '173.44.226.70': [6, 9, 7, 11], '45.14.227.233': [6, 12, 6, 26], '185.236.231.109': [6, 12, 7, 3],
  '178.73.220.149': [6, 16, 7, 12], '45.14.227.212': [6, 19, 6, 29], '91.222.173.225': [6, 20, 7, 1], '146.70.35.168': [6, 22, 6, 29],
  '146.70.157.213': [6, 26, 6, 30], '31.42.177.201': [6, 27, 6, 29], '5.252.176.8': [7, 1, 7, 1], '80.85.158.215': [7, 1, 7, 9],
  '193.149.129.88': [7, 2, 7, 12], '5.252.178.68': [7, 3, 7, 11], '116.202.251.8': [7, 4, 7, 7], '185.158.248.93': [6, 25, 6, 26],
  '20.108.240.252': [6, 25, 7, 5], '146.70.135.182': [5, 18, 6, 22], '195.26.87.219': [5, 15, 6, 25], '185.236.228.183': [5, 24, 6, 11],
  '85.239.63.160': [6, 7, 6, 11], '193.105.134.58': [6, 24, 6, 25], '146.0.74.16': [6, 28, 7, 4], '91.231.186.226': [6, 29, 7, 4],
  '91.222.174.41': [6, 29, 7, 3], '185.38.142.249': [6, 29, 7, 2],
};
let iocRows = 0;
for (const [table, rows] of Object.entries(rowsByTable)) for (const r of rows) {
  for (const col of ['ClientIP', 'IPAddress', 'Client_IPAddress', 'ActorIpAddress']) {
    const w = ioc[r[col]];
    if (!w) continue;
    iocRows++;
    const day = r.TimeGenerated.slice(0, 10);
    const pad = (n) => String(n).padStart(2, '0');
    const first = `2023-${pad(w[0])}-${pad(w[1])}`, last = `2023-${pad(w[2])}-${pad(w[3])}`;
    if (day < first || day > last) fail(`${table}: ${r[col]} used on ${day}, outside its window ${first}..${last}`);
    const l = labelOf.get(r);
    if (l && l.truth !== 'malicious') fail(`${table}: IOC ${r[col]} on a benign row`);
  }
}

// ---- relying party: consumer-issuer tokens (storm0558.md §3.1-3.2, §7 ideas 4-5). Benign
// personal-account tokens reach only the app that admits personal accounts (the partner
// app), through the consumers JWKS and never with the 2016 key; at the enterprise-only app
// (the one that validates tenant tokens) a consumer issuer or the 2016 key is the attack.
const CONSUMER_TID = '9188040d-6c67-4c5b-b112-36a304b66dad', FORGED_KID = '1LTMzakihiRla_8z2BEJVXeWMqo';
const tokens = rowsByTable.AppTokenValidation_CL || [];
const enterpriseApps = new Set(tokens.filter((r) => r.KeySource === 'tenant').map((r) => r.AppId));
let benignConsumer = 0;
for (const r of tokens) {
  const l = labelOf.get(r);
  if (!l) continue;
  const consumer = r.TokenTenantId === CONSUMER_TID || r.TokenIssuer.includes(CONSUMER_TID) || r.Claims.tid === CONSUMER_TID;
  if (l.truth === 'benign') {
    if (r.TokenKid === FORGED_KID) fail(`AppTokenValidation_CL:${l.line}: a benign token signed with the 2016 MSA key`);
    if (r.ValidationResult !== 'Accepted') fail(`AppTokenValidation_CL:${l.line}: a benign token rejected`);
    if (!consumer) continue;
    benignConsumer++;
    if (enterpriseApps.has(r.AppId)) fail(`AppTokenValidation_CL:${l.line}: a benign consumer token at the enterprise-only app`);
    if (r.KeySource !== 'consumers') fail(`AppTokenValidation_CL:${l.line}: benign consumer token validated by ${r.KeySource}`);
    if (!r.TokenObjectId.startsWith('00000000-0000-0000-')) fail(`AppTokenValidation_CL:${l.line}: personal-account oid ${r.TokenObjectId}`);
  } else if (r.TokenKid !== FORGED_KID) {
    fail(`AppTokenValidation_CL:${l.line}: a malicious token not signed with the 2016 key`);
  }
}
if (tokens.length && benignConsumer === 0) fail('no benign consumer-issuer tokens at the relying party');

const mal = labels.filter((l) => l.truth === 'malicious').length;
console.log(`checked ${total} rows in ${files.length} tables, ${labels.length} labels (${mal} malicious), ` +
            `${benignReads} benign and ${forgedReads} forged mail reads, ${iocRows} IOC-IP cells, ` +
            `${benignConsumer} benign consumer tokens`);
if (errors.length) { for (const e of errors) console.error('FAIL ' + e); process.exit(1); }
