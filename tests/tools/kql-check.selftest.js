#!/usr/bin/env node
// Why this exists: kql-check.js is only useful if it really catches bad KQL.
// This feeds it known-good and known-bad queries and fails if it misses any,
// both through checkQuery() and through the command line (exit codes, output).
//
// Usage: node tests/tools/kql-check.selftest.js
"use strict";
const { execFileSync } = require("child_process");
const path = require("path");
const { checkQuery } = require("./kql-check");

const tables = {
  OfficeActivity: { TimeGenerated: "datetime", Operation: "string", UserId: "string",
                    ClientIP: "string", OperationProperties: "dynamic", "odd name": "long" },
  SigninLogs: { TimeGenerated: "datetime", UserPrincipalName: "string" },
};
const good = [
  'let L = dynamic(["MailItemsAccessed"]);',
  "OfficeActivity",
  "| where TimeGenerated > ago(1d) and Operation in~ (L) and ['odd name'] > 0",
  '| where ipv4_is_in_any_range(ClientIP, dynamic(["10.0.0.0/8"]))',
  "| join kind=leftanti (SigninLogs | project UserId = UserPrincipalName) on UserId",
  "| extend p = tostring(OperationProperties['MailAccessType'])",
].join("\n");

// [name, query, code expected (null: none)]
const cases = [
  ["(a) correct query", good, null],
  ["(b) unknown column", "OfficeActivity | where NoSuchColumn == 'x'", "KS142"],
  ["(c) datetime compared to string", "OfficeActivity | where TimeGenerated > '2023-05-15'", "KS106"],
  ["(d) syntax error", "OfficeActivity | where (Operation == 'x'", "KS005"],
  ["(e) analyzer warning (join without kind)", "OfficeActivity | join (SigninLogs) on TimeGenerated", "KS508"],
  ["(f) unknown table", "Nope | take 1", "KS204"],
];

let failures = 0;
const fail = (msg) => { failures++; console.error(`FAIL ${msg}`); };
for (const [name, query, want] of cases) {
  const codes = checkQuery(query, tables).map((d) => d.code);
  if (want === null ? codes.length !== 0 : !codes.includes(want))
    fail(`${name}: expected ${want || "no diagnostics"}, got [${codes.join(", ")}]`);
}

// The command line: exit 0 and the summary for clean input, exit 1 and a caret otherwise.
const cli = (queries) => {
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, "kql-check.js"), "-"],
                             { input: JSON.stringify({ queries }), encoding: "utf8" });
    return { status: 0, out };
  } catch (e) {
    return { status: e.status, out: String(e.stdout) };
  }
};
const ok = cli([{ rule: "r1", file: "f.ward", query: good, tables }]);
if (ok.status !== 0 || !ok.out.includes("kql-check: 1 queries, 0 diagnostics"))
  fail(`CLI on a clean query: status ${ok.status}, output:\n${ok.out}`);
const bad = cli([{ rule: "r2", file: "f.ward", query: "OfficeActivity\n| where Nope == 1", tables }]);
if (bad.status !== 1 || !bad.out.includes("r2: KS142 Error:") || !bad.out.includes("| | where Nope == 1\n") ||
    !/\|\s{9}\^~~~\n/.test(bad.out))
  fail(`CLI on a bad query: status ${bad.status}, output:\n${bad.out}`);

if (failures) {
  console.error(`kql-check.selftest: ${failures} failure(s)`);
  process.exitCode = 1;
} else {
  console.log(`kql-check.selftest: ${cases.length + 2} checks passed`);
}
