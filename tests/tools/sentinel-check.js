#!/usr/bin/env node
// Why this exists: a rule Ward exports must pass the checks the Azure-Sentinel repository
// runs on every analytics rule before it is merged (.script/tests/detectionTemplateSchemaValidation:
// ScheduledTemplateInternalModel and its validation attributes, ValidConnectorIds.json, no
// duplicate ids), written here again in JavaScript from those rules, and deploy as an ARM template.
// It knows nothing of Ward: it reads only the YAML and JSON files.
//
// Usage:
//   node tests/tools/sentinel-check.js [--kql KQL.json] [--arm T.json]... [--pair] FILE.yaml...
//     FILE.yaml   analytics rules (one or more YAML documents each); files without `kind` are
//                 hunting queries and get the checks that apply to them
//     --kql F     `ward compile --target kql --format json` output: each rule's query (by id) must
//                 equal the YAML's exactly, draw zero Kusto diagnostics with its tables, and its
//                 result schema (the Kusto language service's) must hold every mapped column
//     --arm F     ARM templates: structural check; with --pair each resource must say what the
//                 YAML rule of the same id says
// Library: require("./sentinel-check").checkRule(doc) -> [problems]; checkArm(obj) -> [problems]
"use strict";
const fs = require("fs");
const path = require("path");
const YAML = require(path.join(__dirname, "..", "node_modules", "yaml"));

const CONNECTORS = new Set(JSON.parse(fs.readFileSync(
  path.join(__dirname, "..", "..", "rules", "schemas", "source", "ValidConnectorIds.json"), "utf8")));

// AttackTactic.cs
const TACTICS = ["InitialAccess", "Execution", "Persistence", "PrivilegeEscalation", "DefenseEvasion",
  "CredentialAccess", "Discovery", "LateralMovement", "Collection", "Exfiltration", "CommandAndControl", "Impact",
  "Reconnaissance", "ResourceDevelopment", "ImpairProcessControl", "InhibitResponseFunction"];

// KillChainTechniquesHelper.cs: technique -> tactics
const TECHNIQUE_TACTICS = (() => {
  const table = {
    InitialAccess: "T1189 T1190 T1133 T1200 T1566 T1091 T1195 T1199 T1078 T0817 T0819 T0866 T0822 T0883 T0886 T0847 T0848 T0865 T0862 T0864 T0860 T1456 T1461 T1458 T1474",
    Persistence: "T1098 T1197 T1547 T1037 T1176 T1554 T1136 T1543 T1546 T1133 T1574 T1525 T1556 T1137 T1542 T1053 T1505 T1205 T1078 T1398 T1577 T1645 T1624 T1541 T1625 T1603 T0891 T0889 T0839 T0873 T0857 T0859",
    PrivilegeEscalation: "T1548 T1134 T1547 T1037 T1543 T1484 T1611 T1546 T1068 T1574 T1055 T1053 T1078 T1626 T1404 T1631 T0890 T0874",
    DefenseEvasion: "T1548 T1134 T1197 T1612 T1622 T1140 T1610 T1006 T1484 T1480 T1211 T1222 T1564 T1574 T1562 T1070 T1202 T1036 T1556 T1578 T1112 T1601 T1599 T1027 T1647 T1542 T1055 T1620 T1207 T1014 T1553 T1218 T1216 T1221 T1205 T1127 T1535 T1550 T1078 T1497 T1600 T1220 T1407 T1627 T1541 T1628 T1617 T1629 T1630 T1516 T1575 T1406 T1631 T1604 T1632 T1633 T0858 T0820 T0872 T0849 T0851 T0856",
    CredentialAccess: "T1557 T1110 T1555 T1212 T1187 T1606 T1056 T1556 T1111 T1621 T1040 T1003 T1528 T1539 T1649 T1558 T1552 T1517 T1414 T1634 T1417 T1635",
    Discovery: "T1087 T1010 T1217 T1580 T1538 T1526 T1619 T1613 T1622 T1652 T1482 T1083 T1615 T1046 T1135 T1040 T1201 T1120 T1069 T1057 T1012 T1018 T1518 T1082 T1614 T1016 T1049 T1033 T1007 T1124 T1497 T1420 T1430 T1423 T1424 T1418 T1426 T1422 T1421 T0840 T0842 T0846 T0888 T0887",
    LateralMovement: "T1210 T1534 T1570 T1563 T1021 T1091 T1072 T1080 T1550 T1428 T1458 T0812 T0866 T0891 T0867 T0843 T0886 T0859",
    Execution: "T1651 T1059 T1609 T1610 T1203 T1559 T1106 T1053 T1648 T1129 T1072 T1569 T1204 T1047 T1623 T1575 T1603 T0858 T0807 T0871 T0823 T0874 T0821 T0834 T0853 T0863",
    Collection: "T1557 T1560 T1123 T1119 T1185 T1115 T1074 T1530 T1602 T1213 T1005 T1039 T1025 T1114 T1056 T1113 T1125 T1517 T1638 T1532 T1429 T1616 T1414 T1533 T1417 T1430 T1636 T1513 T1409 T1512 T0830 T0802 T0811 T0893 T0868 T0877 T0801 T0861 T0845 T0852 T0887",
    Exfiltration: "T1020 T1030 T1048 T1041 T1011 T1052 T1567 T1029 T1537 T1639 T1646",
    CommandAndControl: "T1071 T1092 T1132 T1001 T1568 T1573 T1008 T1105 T1104 T1095 T1571 T1572 T1090 T1219 T1205 T1102 T1437 T1616 T1637 T1521 T1544 T1509 T1644 T1481 T0885 T0884 T0869",
    Impact: "T1531 T1485 T1486 T1565 T1491 T1561 T1499 T1495 T1490 T1498 T1496 T1489 T1529 T1640 T1616 T1471 T1641 T1642 T1643 T1516 T1464 T1582 T0879 T0813 T0815 T0826 T0827 T0828 T0837 T0880 T0829 T0831 T0832 T0882",
    ImpairProcessControl: "T0806 T0836 T0839 T0856 T0855",
    InhibitResponseFunction: "T0800 T0878 T0803 T0804 T0805 T0892 T0809 T0814 T0816 T0835 T0838 T0851 T0881 T0857",
    Reconnaissance: "T1595 T1592 T1589 T1590 T1591 T1598 T1597 T1596 T1593 T1594",
    ResourceDevelopment: "T1650 T1583 T1586 T1584 T1587 T1585 T1588 T1608",
  };
  const m = new Map();
  for (const [tactic, list] of Object.entries(table))
    for (const t of list.split(" ")) m.set(t, [...(m.get(t) || []), tactic]);
  return m;
})();

// EntityMappingIdentifiers.cs: identifiers, and the sets of which one must be present in full
const ENTITIES = {
  Account: [["Name", "FullName", "NTDomain", "DnsDomain", "UPNSuffix", "Sid", "AadTenantId", "AadUserId", "PUID", "IsDomainJoined", "DisplayName", "ObjectGuid"], [["FullName"], ["Sid"], ["Name"], ["AadUserId"], ["PUID"], ["ObjectGuid"]]],
  AzureResource: [["ResourceId"], [["ResourceId"]]],
  CloudApplication: [["AppId", "Name", "InstanceName"], [["AppId"], ["Name"]]],
  DNS: [["DomainName"], [["DomainName"]]],
  File: [["Directory", "Name"], [["Name"]]],
  FileHash: [["Algorithm", "Value"], [["Algorithm", "Value"]]],
  Host: [["DnsDomain", "NTDomain", "HostName", "FullName", "NetBiosName", "AzureID", "OMSAgentID", "OSFamily", "OSVersion", "IsDomainJoined"], [["FullName"], ["HostName"], ["NetBiosName"], ["AzureID"], ["OMSAgentID"]]],
  IoTDevice: [["DeviceId", "DeviceName", "Manufacturer", "Model", "FirmwareVersion", "OperatingSystem", "MacAddress", "Protocols", "SerialNumber", "Source", "IoTSecurityAgentId", "DeviceType"], [["DeviceId"]]],
  IP: [["Address"], [["Address"]]],
  Mailbox: [["MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel"], [["MailboxPrimaryAddress"]]],
  MailCluster: [["NetworkMessageIds", "CountByDeliveryStatus", "CountByThreatType", "CountByProtectionStatus", "Threats", "Query", "QueryTime", "MailCount", "IsVolumeAnomaly", "Source", "ClusterSourceIdentifier", "ClusterSourceType", "ClusterQueryStartTime", "ClusterQueryEndTime", "ClusterGroup"], [["Query"], ["Source"]]],
  MailMessage: [["Recipient", "Urls", "Threats", "Sender", "P1Sender", "P1SenderDisplayName", "P1SenderDomain", "SenderIP", "P2Sender", "P2SenderDisplayName", "P2SenderDomain", "ReceivedDate", "NetworkMessageId", "InternetMessageId", "Subject", "BodyFingerprintBin1", "BodyFingerprintBin2", "BodyFingerprintBin3", "BodyFingerprintBin4", "BodyFingerprintBin5", "AntispamDirection", "DeliveryAction", "DeliveryLocation", "Language", "ThreatDetectionMethods"], [["NetworkMessageId"], ["Recipient"]]],
  Malware: [["Name", "Category"], [["Name"]]],
  Process: [["ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"], [["CommandLine"], ["ProcessId"]]],
  RegistryKey: [["Hive", "Key"], [["Key"], ["Hive"]]],
  RegistryValue: [["Name", "Value", "ValueType"], [["Name"]]],
  SecurityGroup: [["DistinguishedName", "SID", "ObjectGuid"], [["DistinguishedName"], ["SID"], ["ObjectGuid"]]],
  SubmissionMail: [["NetworkMessageId", "Timestamp", "Recipient", "Sender", "SenderIp", "Subject", "ReportType", "SubmissionId", "SubmissionDate", "Submitter"], [["SubmissionId"], ["NetworkMessageId"], ["Recipient"], ["Submitter"]]],
  URL: [["Url"], [["Url"]]],
};

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TECHNIQUE = /^T\d{4}$/, SUBTECHNIQUE = /^T\d{4}\.\d{3}$/;
const MINUTE = 60, HOUR = 3600, DAY = 86400;

// .NET String length (UTF-16 code units) is JavaScript's.
const isStr = (v) => typeof v === "string";

// ScheduledTemplateTimeSpanConverter: TimeSpan.TryParse first ([d.]hh:mm[:ss[.fffffff]]), then <int><m|h|d>.
function yamlDuration(v) {
  if (!isStr(v)) return null;
  let m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?$/.exec(v);
  if (m) {
    const [h, mi, s] = [+m[2], +m[3], +(m[4] || 0)];
    if (h > 23 || mi > 59 || s > 59) return null;
    return (+(m[1] || 0)) * DAY + h * HOUR + mi * MINUTE + s + (m[5] ? +("0." + m[5]) : 0);
  }
  m = /^(\d+)([mhd])$/.exec(v);
  if (m) return +m[1] * { m: MINUTE, h: HOUR, d: DAY }[m[2]];
  if (/^\d+$/.test(v)) return +v * DAY;  // TimeSpan.TryParse reads a bare number as days
  return null;
}

// ISO 8601 durations as ARM takes them: PnDTnHnMnS (no years or months for rule schedules).
function isoDuration(v) {
  if (!isStr(v)) return null;
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(v);
  if (!m || v === "P" || v.endsWith("T")) return null;
  return (+(m[1] || 0)) * DAY + (+(m[2] || 0)) * HOUR + (+(m[3] || 0)) * MINUTE + (+(m[4] || 0));
}

function placeholders(s) { return [...String(s).matchAll(/\{\{([^{}]*)\}\}/g)].map((m) => m[1]); }

function checkTactics(doc, p, techniquesKey) {
  const tactics = doc.tactics == null ? [] : doc.tactics;
  if (!Array.isArray(tactics)) return p.push("tactics: not a list");
  for (const t of tactics) if (!TACTICS.includes(t)) p.push(`tactics: '${t}' is not an ATT&CK tactic Sentinel knows`);
  const techniques = doc[techniquesKey] == null ? [] : doc[techniquesKey];
  if (!Array.isArray(techniques)) return p.push(`${techniquesKey}: not a list`);
  for (const t of techniques) {
    if (!isStr(t) || !(TECHNIQUE.test(t) || SUBTECHNIQUE.test(t))) { p.push(`${techniquesKey}: '${t}' is not T#### or T####.###`); continue; }
    // NoTechniquesWithoutMatchingTactics: some tactic of the technique must be among the rule's
    const own = TECHNIQUE_TACTICS.get(t.split(".")[0]) || [];
    if (!own.length || !own.some((x) => tactics.includes(x)))
      p.push(`${techniquesKey}: no valid tactic corresponding to the technique ${t} was provided in the tactics field`);
  }
}

function checkConnectors(doc, p, required) {
  const rdc = doc.requiredDataConnectors;
  if (rdc == null) { if (required) p.push("requiredDataConnectors: required"); return; }
  if (!Array.isArray(rdc)) return p.push("requiredDataConnectors: not a list");
  for (const c of rdc) {
    if (!c || !isStr(c.connectorId)) { p.push("requiredDataConnectors: an entry without connectorId"); continue; }
    if (!CONNECTORS.has(c.connectorId)) p.push(`requiredDataConnectors: '${c.connectorId}' is not a valid connector id`);
    if (c.dataTypes != null && (!Array.isArray(c.dataTypes) || !c.dataTypes.every(isStr)))
      p.push(`requiredDataConnectors: ${c.connectorId}: dataTypes must be a list of strings`);
  }
}

// ValidEntityMappings(1, 10, 1, 3) with EntityMappingIdentifiers
function checkEntities(mappings, p) {
  if (mappings == null) return;
  if (!Array.isArray(mappings) || mappings.length < 1 || mappings.length > 10)
    return p.push(`entityMappings: length ${Array.isArray(mappings) ? mappings.length : "?"} is not between 1 and 10`);
  for (const m of mappings) {
    const spec = m && ENTITIES[m.entityType];
    if (!spec) { p.push(`entityMappings: '${m && m.entityType}' is not an entity type`); continue; }
    const fms = m.fieldMappings;
    if (!Array.isArray(fms) || fms.length < 1 || fms.length > 3) {
      p.push(`entityMappings: ${m.entityType}: fieldMappings length ${Array.isArray(fms) ? fms.length : "?"} is not between 1 and 3`);
      continue;
    }
    const used = new Set();
    for (const f of fms) {
      if (!f || !spec[0].includes(f.identifier)) { p.push(`entityMappings: invalid identifier '${f && f.identifier}' for entity type '${m.entityType}'`); continue; }
      if (used.has(f.identifier)) p.push(`entityMappings: identifier '${f.identifier}' is defined multiple times`);
      used.add(f.identifier);
      if (!isStr(f.columnName) || f.columnName.length > 500 || !/^[a-zA-Z_]+\w*$/.test(f.columnName))
        p.push(`entityMappings: the ColumnName '${f.columnName}' is invalid`);
    }
    if (!spec[1].some((set) => set.every((i) => used.has(i))))
      p.push(`entityMappings: missing required identifiers for type '${m.entityType}': one of ${spec[1].map((s) => s.join("+")).join(", ")}`);
  }
}

function checkDetails(doc, p) {
  const cd = doc.customDetails;
  if (cd != null) {
    if (typeof cd !== "object" || Array.isArray(cd)) p.push("customDetails: not a map");
    else {
      const keys = Object.keys(cd);
      if (keys.length > 20) p.push(`customDetails: ${keys.length} entries; at most 20`);
      for (const k of keys) {
        if (k.length > 20 || !/^[a-zA-Z]+\w*$/.test(k)) p.push(`customDetails: key '${k}' is invalid`);
        const v = cd[k];
        if (!isStr(v) || v.length > 500 || !/^[a-zA-Z_]+\w*$/.test(v)) p.push(`customDetails: value '${v}' of '${k}' is invalid`);
      }
    }
  }
  const ado = doc.alertDetailsOverride;
  if (ado != null) {
    for (const [k, max] of [["alertDisplayNameFormat", 256], ["alertDescriptionFormat", 5000]]) {
      if (ado[k] == null) continue;
      if (!isStr(ado[k]) || !ado[k].trim() || ado[k].length > max) p.push(`alertDetailsOverride.${k}: must be 1 to ${max} characters`);
      else if (placeholders(ado[k]).length > 3) p.push(`alertDetailsOverride.${k}: ${placeholders(ado[k]).length} parameters; the maximum allowed is 3`);
    }
  }
  const egs = doc.eventGroupingSettings;
  if (egs != null && !["SingleAlert", "AlertPerResult"].includes(egs.aggregationKind))
    p.push(`eventGroupingSettings.aggregationKind: '${egs.aggregationKind}' is not SingleAlert or AlertPerResult`);
  const ic = doc.incidentConfiguration;
  if (ic != null) {
    if (!["true", "false", true, false].includes(ic.createIncident)) p.push("incidentConfiguration.createIncident: not a boolean");
    const g = ic.groupingConfiguration;
    if (g != null) {
      if (!["true", "false", true, false].includes(g.enabled)) p.push("incidentConfiguration.groupingConfiguration.enabled: not a boolean");
      if (g.matchingMethod != null && !["AllEntities", "AnyAlert", "Selected"].includes(g.matchingMethod))
        p.push(`incidentConfiguration.groupingConfiguration.matchingMethod: '${g.matchingMethod}' is invalid`);
      if (g.lookbackDuration != null && yamlDuration(g.lookbackDuration) == null && isoDuration(g.lookbackDuration) == null)
        p.push(`incidentConfiguration.groupingConfiguration.lookbackDuration: '${g.lookbackDuration}' is not a duration`);
    }
  }
}

// Problems with one YAML document (parsed with the failsafe schema: every scalar a string,
// as YamlDotNet hands them to the C# model).
function checkRule(doc) {
  const p = [];
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return ["the document is not a map"];
  if (!isStr(doc.id) || !GUID.test(doc.id)) p.push(`id: '${doc.id}' is not a GUID`);
  if (!isStr(doc.name) || !doc.name.length || doc.name.length > 256) p.push("name: required, at most 256 characters");
  if (!isStr(doc.description) || doc.description.length > 5000) p.push("description: required, at most 5000 characters");
  if (!isStr(doc.query) || doc.query.length < 1 || doc.query.length > 10000) p.push(`query: required, 1 to 10000 characters (has ${isStr(doc.query) ? doc.query.length : 0})`);
  const hunting = doc.kind == null && doc.queryFrequency == null && doc.severity == null;
  if (hunting) {  // a hunting query: the fields it has must be right
    checkConnectors(doc, p, false);
    checkTactics(doc, p, "relevantTechniques");
    checkEntities(doc.entityMappings, p);
    return p;
  }
  if (!["Scheduled", "NRT"].includes(doc.kind)) p.push(`kind: '${doc.kind}' is not Scheduled or NRT`);
  if (!["Informational", "Low", "Medium", "High"].includes(doc.severity)) p.push(`severity: '${doc.severity}' is invalid`);
  checkConnectors(doc, p, doc.kind !== "NRT");
  if (doc.kind !== "NRT") {
    const f = yamlDuration(doc.queryFrequency), q = yamlDuration(doc.queryPeriod);
    if (f == null) p.push(`queryFrequency: '${doc.queryFrequency}' is not a duration`);
    if (q == null) p.push(`queryPeriod: '${doc.queryPeriod}' is not a duration`);
    for (const [k, v] of [["queryFrequency", f], ["queryPeriod", q]])
      if (v != null && (v < 5 * MINUTE || v > 14 * DAY)) p.push(`${k}: ${doc[k]} is outside 5m..14d`);
    if (f != null && q != null) {
      if (q < f) p.push("queryPeriod: must be greater than or equal to queryFrequency");
      if (q >= 2 * DAY && f < HOUR) p.push("queryFrequency: must be at least 1h when queryPeriod is 2d or more");
    }
    if (!["gt", "lt", "eq", "ne", "GreaterThan", "LessThan", "Equal", "NotEqual"].includes(doc.triggerOperator))
      p.push(`triggerOperator: '${doc.triggerOperator}' is invalid`);
    if (!/^\d+$/.test(String(doc.triggerThreshold)) || +doc.triggerThreshold > 10000) p.push(`triggerThreshold: '${doc.triggerThreshold}' is not 0..10000`);
  }
  if (doc.version != null && (!isStr(doc.version) || doc.version.length > 20 || !/^(\d+\.)(\d+\.)(\d+)$/.test(doc.version)))
    p.push(`version: '${doc.version}' should be in format X.Y.Z (all numbers)`);
  checkTactics(doc, p, "relevantTechniques");
  checkEntities(doc.entityMappings, p);
  checkDetails(doc, p);
  for (const k of ["queryFrequency", "queryPeriod", "triggerOperator", "triggerThreshold"])
    if (doc.kind === "NRT" && doc[k] != null) p.push(`${k}: an NRT rule has no ${k}`);
  if (doc.suppressionDuration != null && yamlDuration(doc.suppressionDuration) == null) p.push("suppressionDuration: not a duration");
  return p;
}

// The columns a rule's alert refers to, which the query's output must have.
function referencedColumns(doc, arm) {
  const cols = new Set();
  for (const m of doc.entityMappings || []) for (const f of m.fieldMappings || []) cols.add(f.columnName);
  for (const v of Object.values(doc.customDetails || {})) cols.add(v);
  const o = doc.alertDetailsOverride || {};
  for (const k of ["alertDisplayNameFormat", "alertDescriptionFormat"]) for (const x of placeholders(o[k] || "")) cols.add(x);
  return cols;
}

// A deployable template: the resource shape Microsoft.SecurityInsights/alertRules takes.
function checkArm(t) {
  const p = [];
  if (!t || typeof t !== "object") return ["not a JSON object"];
  if (!/^https:\/\/schema\.management\.azure\.com\/schemas\/[0-9-]+\/deploymentTemplate\.json#$/.test(t.$schema || "")) p.push("$schema: not a deployment template schema");
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(t.contentVersion || "")) p.push("contentVersion: not n.n.n.n");
  if (!t.parameters || !t.parameters.workspace || String(t.parameters.workspace.type).toLowerCase() !== "string") p.push("parameters.workspace: a string parameter is required");
  if (!Array.isArray(t.resources)) return [...p, "resources: not a list"];
  const names = new Set();
  for (const [i, r] of t.resources.entries()) {
    const at = `resources[${i}]`;
    if (r.type !== "Microsoft.SecurityInsights/alertRules") p.push(`${at}.type: '${r.type}'`);
    if (!/^\d{4}-\d{2}-\d{2}(-preview)?$/.test(r.apiVersion || "")) p.push(`${at}.apiVersion: '${r.apiVersion}'`);
    if (!GUID.test(r.name || "")) p.push(`${at}.name: '${r.name}' is not a GUID`);
    if (names.has(r.name)) p.push(`${at}.name: '${r.name}' twice`);
    names.add(r.name);
    if (!/^\[.*Microsoft\.OperationalInsights\/workspaces.*parameters\('workspace'\).*\]$/.test(r.scope || "")) p.push(`${at}.scope: not the workspace parameter's workspace`);
    if (!["Scheduled", "NRT"].includes(r.kind)) p.push(`${at}.kind: '${r.kind}'`);
    const q = r.properties || {};
    for (const k of ["displayName", "description", "query", "severity"]) if (!isStr(q[k])) p.push(`${at}.properties.${k}: required string`);
    p.push(...expressions(q, `${at}.properties`, []));
    if (typeof q.enabled !== "boolean") p.push(`${at}.properties.enabled: required boolean`);
    if (typeof q.suppressionEnabled !== "boolean" || isoDuration(q.suppressionDuration) == null) p.push(`${at}.properties: suppressionEnabled and an ISO 8601 suppressionDuration are required`);
    if (r.kind === "Scheduled") {
      const f = isoDuration(q.queryFrequency), per = isoDuration(q.queryPeriod);
      if (f == null || per == null) p.push(`${at}.properties: queryFrequency and queryPeriod must be ISO 8601 durations`);
      else {
        if (f < 5 * MINUTE || f > 14 * DAY || per < 5 * MINUTE || per > 14 * DAY) p.push(`${at}.properties: durations outside PT5M..P14D`);
        if (per < f) p.push(`${at}.properties.queryPeriod: shorter than queryFrequency`);
        if (per >= 2 * DAY && f < HOUR) p.push(`${at}.properties.queryFrequency: under PT1H with a queryPeriod of P2D or more`);
      }
      if (!["GreaterThan", "LessThan", "Equal", "NotEqual"].includes(q.triggerOperator)) p.push(`${at}.properties.triggerOperator: '${q.triggerOperator}'`);
      if (!Number.isInteger(q.triggerThreshold)) p.push(`${at}.properties.triggerThreshold: not an integer`);
    }
    const techniques = q.techniques || [], sub = q.subTechniques || [];
    for (const x of techniques) if (!TECHNIQUE.test(x)) p.push(`${at}.properties.techniques: '${x}' is not T####`);
    for (const x of sub) {
      if (!SUBTECHNIQUE.test(x)) p.push(`${at}.properties.subTechniques: '${x}' is not T####.###`);
      else if (!techniques.includes(x.split(".")[0])) p.push(`${at}.properties.subTechniques: '${x}' without its technique`);
    }
    const tp = [];
    checkTactics({ tactics: q.tactics, t: [...techniques, ...sub] }, tp, "t");
    p.push(...tp.map((x) => `${at}.properties.${x}`));
    const ep = [];
    checkEntities(q.entityMappings, ep);
    checkDetails(q, ep);
    p.push(...ep.map((x) => `${at}.properties.${x}`));
  }
  return p;
}

// A template string's value after ARM's own reading: `[[` at the start of an expression-like
// string stands for `[`.
function armValue(v) {
  if (typeof v === "string") return v.startsWith("[[") && v.endsWith("]") ? v.slice(1) : v;
  if (Array.isArray(v)) return v.map(armValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, armValue(x)]));
  return v;
}

// Strings ARM would evaluate as expressions (start with `[`, end with `]`, not escaped).
function expressions(v, at, out) {
  if (typeof v === "string") { if (v.startsWith("[") && v.endsWith("]") && !v.startsWith("[[")) out.push(`${at}: would be evaluated as a template expression`); }
  else if (Array.isArray(v)) v.forEach((x, i) => expressions(x, `${at}[${i}]`, out));
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) expressions(x, `${at}.${k}`, out);
  return out;
}

// What the YAML rule and the ARM resource of the same id must agree on.
function comparePair(y, r) {
  const p = [], q = armValue(r.properties || {});
  const same = (what, a, b) => { if (JSON.stringify(a) !== JSON.stringify(b)) p.push(`${what}: YAML ${JSON.stringify(a)} but ARM ${JSON.stringify(b)}`); };
  same("name", y.name, q.displayName);
  same("description", y.description, q.description);
  same("severity", y.severity, q.severity);
  same("query", y.query, q.query);
  same("kind", y.kind, r.kind);
  if (y.kind === "Scheduled") {
    same("queryFrequency", yamlDuration(y.queryFrequency), isoDuration(q.queryFrequency));
    same("queryPeriod", yamlDuration(y.queryPeriod), isoDuration(q.queryPeriod));
    same("triggerThreshold", +y.triggerThreshold, q.triggerThreshold);
  }
  same("tactics", y.tactics || [], q.tactics || []);
  same("techniques", [...(y.relevantTechniques || [])].sort(), [...(q.techniques || []), ...(q.subTechniques || [])]
    .filter((t) => !(q.subTechniques || []).some((s) => s.startsWith(t + "."))).sort());
  same("entityMappings", y.entityMappings || null, q.entityMappings || null);
  same("customDetails", y.customDetails || null, q.customDetails || null);
  same("alertDetailsOverride", y.alertDetailsOverride || null, q.alertDetailsOverride || null);
  same("suppressionEnabled", y.suppressionEnabled === "true", q.suppressionEnabled);
  return p;
}

function readYamlDocs(file) { return parseYamlText(fs.readFileSync(file, "utf8")); }

function parseYamlText(text) {
  const docs = YAML.parseAllDocuments(text, { schema: "failsafe", uniqueKeys: true });
  return docs.map((d) => ({ errors: d.errors.map((e) => e.message), doc: d.errors.length ? null : d.toJS() }));
}

function main(argv) {
  const yamlFiles = [], armFiles = [];
  let kqlFile = null, pair = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--kql") kqlFile = argv[++i];
    else if (argv[i] === "--arm") armFiles.push(argv[++i]);
    else if (argv[i] === "--pair") pair = true;
    else yamlFiles.push(argv[i]);
  }
  let bad = 0, rules = 0;
  const fail = (where, msgs) => { bad++; console.log(`FAIL ${where}`); for (const m of msgs) console.log(`  ${m}`); };
  const byId = new Map();
  for (const f of yamlFiles) {
    for (const [i, { errors, doc }] of readYamlDocs(f).entries()) {
      const where = `${f}${i ? ` (document ${i + 1})` : ""}`;
      if (errors.length) { fail(where, errors); continue; }
      rules++;
      const p = checkRule(doc);
      if (byId.has(String(doc.id).toLowerCase())) p.push(`id ${doc.id}: also in ${byId.get(String(doc.id).toLowerCase()).where}`);
      else byId.set(String(doc.id).toLowerCase(), { where, doc });
      if (p.length) fail(where, p);
    }
  }
  if (kqlFile) {
    const { checkQuery, resultColumns } = require("./kql-check.js");
    const queries = JSON.parse(fs.readFileSync(kqlFile, "utf8")).queries;
    for (const q of queries) {
      const y = byId.get(q.id.toLowerCase());
      if (!y) { fail(`rule ${q.rule}`, ["no YAML rule has its id"]); continue; }
      const p = [];
      if (y.doc.query !== q.query) p.push("the YAML query is not exactly the KQL backend's query");
      const ds = checkQuery(y.doc.query, q.tables);
      for (const d of ds) p.push(`Kusto ${d.code} ${d.severity}: ${d.message}`);
      const cols = resultColumns(y.doc.query, q.tables);
      for (const c of referencedColumns(y.doc)) if (!cols.includes(c)) p.push(`column '${c}' is not in the query's result schema (${cols.join(", ")})`);
      if (p.length) fail(`${y.where} (rule ${q.rule})`, p);
    }
  }
  for (const f of armFiles) {
    let t;
    try { t = JSON.parse(fs.readFileSync(f, "utf8")); } catch (e) { fail(f, [`not JSON: ${e.message}`]); continue; }
    const p = checkArm(t);
    if (pair) for (const r of t.resources || []) {
      const y = byId.get(String(r.name).toLowerCase());
      if (!y) p.push(`resource ${r.name}: no YAML rule has its id`);
      else p.push(...comparePair(y.doc, r).map((x) => `resource ${r.name}: ${x}`));
    }
    if (p.length) fail(f, p);
    else rules += 0;
  }
  console.log(`sentinel-check: ${rules} YAML rule(s), ${armFiles.length} ARM template(s), ${bad} failure(s)`);
  return bad ? 1 : 0;
}

module.exports = { checkRule, checkArm, comparePair, yamlDuration, isoDuration, readYamlDocs, parseYamlText };
if (require.main === module) process.exit(main(process.argv.slice(2)));
