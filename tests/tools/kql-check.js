#!/usr/bin/env node
// Why this exists: Ward's KQL must be accepted by Kusto as-is. This runs
// Microsoft's Kusto language service (parser, binder and analyzers) on the
// queries from `ward compile --target kql --format json`, each against exactly
// the tables it declares, and fails on ANY diagnostic (error, warning, suggestion).
//
// Usage: node tests/tools/kql-check.js [--allow KS500,...] FILE.json... | -
// Library: require("./kql-check").checkQuery(query, tables) -> [{code, severity, ...}]
"use strict";
const fs = require("fs");
const path = require("path");

const pkg = path.join(__dirname, "..", "node_modules", "@kusto", "language-service-next");
require(path.join(pkg, "bridge.min.js"));
require(path.join(pkg, "Kusto.Language.Bridge.min.js"));
const K = global.Kusto.Language, S = K.Symbols, Bridge = global.Bridge;

// Ward column types map one-to-one onto Kusto scalar types.
const T = S.ScalarTypes;
const TYPES = {
  string: T.String, int: T.Int, long: T.Long, real: T.Real, bool: T.Bool,
  datetime: T.DateTime, timespan: T.TimeSpan, guid: T.Guid, dynamic: T.Dynamic,
};

// tables: {TableName: {ColumnName: "wardtype"}}. Symbols are built directly,
// so odd column names need no quoting.
function globalsFor(tables) {
  const syms = Object.entries(tables || {}).map(([name, cols]) =>
    new S.TableSymbol.$ctor4(name, Object.entries(cols).map(([col, type]) => {
      if (!TYPES[type]) throw new Error(`table ${name}: column ${col} has unknown type ${JSON.stringify(type)}`);
      return new S.ColumnSymbol(col, TYPES[type], null, null, null, null);
    })));
  return K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.ctor("db", syms));
}

// All diagnostics: syntax and semantic ones, plus the analyzers' (KS5xx).
function checkQuery(query, tables) {
  const code = K.KustoCode.ParseAndAnalyze(query, globalsFor(tables));
  const analyzers = new K.Editor.KustoCodeService.ctor(code).GetAnalyzerDiagnostics(true);
  return [...Bridge.toArray(code.GetDiagnostics()), ...Bridge.toArray(analyzers)]
    .map((d) => ({ code: d.Code, severity: d.Severity, category: d.Category, message: d.Message,
                   start: d.HasLocation ? d.Start : -1, length: d.HasLocation ? d.Length : 0 }))
    .sort((a, b) => a.start - b.start);
}

// The query line holding the diagnostic, with a caret (and ~ for its span) under it.
function excerpt(query, start, length) {
  if (start < 0) return "    (no location)";
  const from = start > 0 ? query.lastIndexOf("\n", start - 1) + 1 : 0;
  let to = query.indexOf("\n", start);
  if (to < 0) to = query.length;
  const line = query.slice(from, to);
  const lineNo = query.slice(0, from).split("\n").length;
  const pad = line.slice(0, start - from).replace(/[^\t]/g, " ");
  const span = Math.max(1, Math.min(length, to - start));
  return `    ${lineNo} | ${line}\n    ${" ".repeat(String(lineNo).length)} | ${pad}^${"~".repeat(span - 1)}`;
}

function main(argv) {
  let allow = new Set();
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--allow") allow = new Set(argv[++i].split(","));
    else files.push(argv[i]);
  }
  if (!files.length) {
    console.error("usage: kql-check.js [--allow KS500,...] FILE.json... | -");
    return 2;
  }
  let nQueries = 0, nDiags = 0;
  for (const file of files) {
    const doc = JSON.parse(fs.readFileSync(file === "-" ? 0 : file, "utf8"));
    if (!Array.isArray(doc.queries)) throw new Error(`${file}: no "queries" array`);
    for (const q of doc.queries) {
      nQueries++;
      for (const d of checkQuery(q.query, q.tables)) {
        if (allow.has(d.code)) continue;
        nDiags++;
        console.log(`${q.rule}: ${d.code} ${d.severity}: ${d.message.replace(/\s*\n\s*/g, " ")}`);
        console.log(excerpt(q.query, d.start, d.length));
      }
    }
  }
  if (nDiags) {
    console.log(`kql-check: ${nQueries} queries, ${nDiags} diagnostics`);
    return 1;
  }
  console.log(`kql-check: ${nQueries} queries, 0 diagnostics`);
  return 0;
}

// The column names of the query's result, as the Kusto binder types it (for checkers of
// what an alert maps: every mapped column must be in the output).
function resultColumns(query, tables) {
  const rt = K.KustoCode.ParseAndAnalyze(query, globalsFor(tables)).ResultType;
  return rt && rt.Columns ? Bridge.toArray(rt.Columns).map((c) => c.Name) : [];
}

module.exports = { checkQuery, resultColumns };
if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`kql-check: ${e.message}`);
    process.exitCode = 2;
  }
}
