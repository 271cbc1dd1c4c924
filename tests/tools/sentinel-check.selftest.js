#!/usr/bin/env node
// The Sentinel checker must reject what the Azure-Sentinel checks reject: a valid rule
// passes, and each single mutation of it, of the kind Sentinel refuses, fails with the
// problem named. Same for the ARM template checker and the result-schema check.
"use strict";
const path = require("path");
const YAML = require(path.join(__dirname, "..", "node_modules", "yaml"));
const { checkRule, checkArm, comparePair } = require("./sentinel-check.js");
const { resultColumns } = require("./kql-check.js");

const GOOD = `
id: 2d3b2c4e-1f0a-4b6c-9d8e-7a6b5c4d3e2f
name: "Mailbox read in a session no sign-in created"
description: "A test rule."
severity: High
requiredDataConnectors:
  - connectorId: Office365
    dataTypes: [OfficeActivity]
queryFrequency: 1h
queryPeriod: 25h
triggerOperator: gt
triggerThreshold: 0
tactics: [DefenseEvasion, Collection]
relevantTechniques: [T1550.001, T1114]
query: |
  OfficeActivity
  | project TimeGenerated, account = UserId, ip = ClientIP
entityMappings:
  - entityType: Account
    fieldMappings:
      - identifier: FullName
        columnName: account
  - entityType: IP
    fieldMappings:
      - identifier: Address
        columnName: ip
customDetails:
  account: account
alertDetailsOverride:
  alertDisplayNameFormat: "Mail of {{account}} read from {{ip}}"
eventGroupingSettings:
  aggregationKind: AlertPerResult
incidentConfiguration:
  createIncident: true
  groupingConfiguration:
    enabled: false
    lookbackDuration: 5h
    matchingMethod: AllEntities
version: "1.0.0"
kind: Scheduled
`;
const parse = (t) => YAML.parse(t, { schema: "failsafe" });
const good = () => parse(GOOD);

let failed = 0, ran = 0;
function expect(name, problems, pattern) {
  ran++;
  const hit = pattern ? problems.some((p) => pattern.test(p)) : problems.length === 0;
  if (!hit) {
    failed++;
    console.log(`FAIL ${name}: expected ${pattern ? pattern : "no problems"}, got ${JSON.stringify(problems)}`);
  }
}

expect("valid rule", checkRule(good()), null);

const mutations = [
  ["id not a GUID", (d) => { d.id = "not-a-guid"; }, /^id:/],
  ["missing name", (d) => { delete d.name; }, /^name:/],
  ["name too long", (d) => { d.name = "x".repeat(257); }, /^name:/],
  ["bad severity", (d) => { d.severity = "Critical"; }, /^severity:/],
  ["bad kind", (d) => { d.kind = "Hunting"; }, /^kind:/],
  ["unknown connector", (d) => { d.requiredDataConnectors[0].connectorId = "Office366"; }, /not a valid connector id/],
  ["connectors missing", (d) => { delete d.requiredDataConnectors; }, /requiredDataConnectors: required/],
  ["frequency under 5m", (d) => { d.queryFrequency = "4m"; }, /queryFrequency: 4m is outside/],
  ["period over 14d", (d) => { d.queryPeriod = "15d"; }, /queryPeriod: 15d is outside/],
  ["period under frequency", (d) => { d.queryFrequency = "2h"; d.queryPeriod = "1h"; }, /greater than or equal/],
  ["long period short frequency", (d) => { d.queryFrequency = "30m"; d.queryPeriod = "2d"; }, /at least 1h/],
  ["duration garbage", (d) => { d.queryPeriod = "1w"; }, /not a duration/],
  ["trigger operator", (d) => { d.triggerOperator = "gte"; }, /triggerOperator/],
  ["trigger threshold", (d) => { d.triggerThreshold = "10001"; }, /triggerThreshold/],
  ["unknown tactic", (d) => { d.tactics.push("Exfiltrate"); }, /not an ATT&CK tactic/],
  ["technique format", (d) => { d.relevantTechniques.push("T155"); }, /not T####/],
  ["technique without its tactic", (d) => { d.relevantTechniques.push("T1606"); }, /technique T1606/],
  ["query too long", (d) => { d.query = "x".repeat(10001); }, /^query:/],
  ["empty query", (d) => { d.query = ""; }, /^query:/],
  ["11 entity mappings", (d) => { d.entityMappings = Array(11).fill(d.entityMappings[1]); }, /between 1 and 10/],
  ["4 identifiers", (d) => {
    d.entityMappings[0].fieldMappings = ["FullName", "Name", "UPNSuffix", "Sid"].map((i) => ({ identifier: i, columnName: "account" }));
  }, /between 1 and 3/],
  ["invalid identifier", (d) => { d.entityMappings[1].fieldMappings[0].identifier = "Addr"; }, /invalid identifier 'Addr'/],
  ["duplicate identifier", (d) => { d.entityMappings[0].fieldMappings.push({ identifier: "FullName", columnName: "x" }); }, /multiple times/],
  ["missing required identifier", (d) => { d.entityMappings[0].fieldMappings[0].identifier = "UPNSuffix"; }, /missing required identifiers/],
  ["bad entity type", (d) => { d.entityMappings[0].entityType = "User"; }, /not an entity type/],
  ["bad column name", (d) => { d.entityMappings[0].fieldMappings[0].columnName = "1account"; }, /ColumnName/],
  ["21 custom details", (d) => { for (let i = 0; i < 21; i++) d.customDetails[`k${i}`] = "account"; }, /customDetails: 22 entries/],
  ["custom detail key", (d) => { d.customDetails["_key"] = "account"; }, /key '_key'/],
  ["custom detail key length", (d) => { d.customDetails["k".repeat(21)] = "account"; }, /key 'k+'/],
  ["4 placeholders", (d) => { d.alertDetailsOverride.alertDisplayNameFormat = "{{a}} {{b}} {{c}} {{d}}"; }, /maximum allowed is 3/],
  ["grouping kind", (d) => { d.eventGroupingSettings.aggregationKind = "PerResult"; }, /aggregationKind/],
  ["version format", (d) => { d.version = "1.0"; }, /X\.Y\.Z/],
  ["NRT with a schedule", (d) => { d.kind = "NRT"; }, /an NRT rule has no queryFrequency/],
];
for (const [name, mutate, pattern] of mutations) {
  const d = good();
  mutate(d);
  expect(name, checkRule(d), pattern);
}

// a hunting query (no kind, no schedule) is held to what it has
expect("hunting query", checkRule(parse("id: 0a8f410d-38b5-4d75-90da-32b472b97230\nname: h\ndescription: d\nquery: T\ntactics: [Collection]\nrelevantTechniques: [T1114]\n")), null);
expect("hunting query bad tactic pair", checkRule(parse("id: 0a8f410d-38b5-4d75-90da-32b472b97230\nname: h\ndescription: d\nquery: T\ntactics: [Collection]\nrelevantTechniques: [T1606]\n")), /technique T1606/);

// result schema: a mapped column must be in the query's output
const tables = { OfficeActivity: { TimeGenerated: "datetime", UserId: "string", ClientIP: "string" } };
const cols = resultColumns(good().query, tables);
ran++;
if (JSON.stringify(cols) !== JSON.stringify(["TimeGenerated", "account", "ip"])) { failed++; console.log(`FAIL result columns: ${JSON.stringify(cols)}`); }
ran++;
if (resultColumns("OfficeActivity | project TimeGenerated, user = UserId", tables).includes("account")) { failed++; console.log("FAIL result columns: a dropped column is still there"); }

// ARM
const ARM = () => ({
  $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  contentVersion: "1.0.0.0",
  parameters: { workspace: { type: "string" } },
  resources: [{
    type: "Microsoft.SecurityInsights/alertRules", apiVersion: "2024-03-01", name: "2d3b2c4e-1f0a-4b6c-9d8e-7a6b5c4d3e2f",
    scope: "[format('Microsoft.OperationalInsights/workspaces/{0}', parameters('workspace'))]", kind: "Scheduled",
    properties: {
      displayName: "Mailbox read in a session no sign-in created", description: "A test rule.", severity: "High", enabled: true,
      query: good().query, queryFrequency: "PT1H", queryPeriod: "P1DT1H", triggerOperator: "GreaterThan", triggerThreshold: 0,
      suppressionEnabled: false, suppressionDuration: "PT5H", tactics: ["DefenseEvasion", "Collection"],
      techniques: ["T1550", "T1114"], subTechniques: ["T1550.001"],
      entityMappings: good().entityMappings, customDetails: { account: "account" },
      alertDetailsOverride: { alertDisplayNameFormat: "Mail of {{account}} read from {{ip}}" },
      eventGroupingSettings: { aggregationKind: "AlertPerResult" },
    },
  }],
});
expect("valid ARM", checkArm(ARM()), null);
expect("YAML and ARM agree", comparePair(good(), ARM().resources[0]), null);
const armMutations = [
  ["resource type", (t) => { t.resources[0].type = "Microsoft.OperationalInsights/workspaces/providers/alertRules"; }, /\.type:/],
  ["no workspace parameter", (t) => { delete t.parameters.workspace; }, /parameters\.workspace/],
  ["scope", (t) => { t.resources[0].scope = "workspace"; }, /scope/],
  ["non-ISO duration", (t) => { t.resources[0].properties.queryPeriod = "25h"; }, /ISO 8601/],
  ["short-form operator", (t) => { t.resources[0].properties.triggerOperator = "gt"; }, /triggerOperator/],
  ["period under frequency", (t) => { t.resources[0].properties.queryPeriod = "PT30M"; }, /shorter than queryFrequency/],
  ["subtechnique without technique", (t) => { t.resources[0].properties.subTechniques = ["T1606.002"]; }, /without its technique/],
  ["expression-looking name", (t) => { t.resources[0].properties.displayName = "[Nobelium]"; }, /template expression/],
  ["threshold not integer", (t) => { t.resources[0].properties.triggerThreshold = "0"; }, /triggerThreshold/],
  ["name not GUID", (t) => { t.resources[0].name = "rule1"; }, /not a GUID/],
];
for (const [name, mutate, pattern] of armMutations) {
  const t = ARM();
  mutate(t);
  expect(`ARM ${name}`, checkArm(t), pattern);
}
{
  const t = ARM();
  t.resources[0].properties.queryPeriod = "P2D";
  expect("YAML and ARM disagree", comparePair(good(), t.resources[0]), /queryPeriod/);
}

console.log(`sentinel-check selftest: ${ran - failed}/${ran} passed`);
process.exit(failed ? 1 : 0);
