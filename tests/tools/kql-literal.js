#!/usr/bin/env node
// Why this exists: a property test for Ward's KQL string quoting. Each stdin
// line is {"value": original string, "literal": the KQL literal Ward emitted};
// Microsoft's Kusto parser must read the literal back as exactly one string
// literal token, with no diagnostics, whose decoded value equals `value`.
//
// Usage: ward-side generator | node tests/tools/kql-literal.js
// Decoding comes from the parser's own LiteralExpression.LiteralValue
// (the same as the token's ValueText / KustoFacts.GetStringLiteralValue).
"use strict";
const fs = require("fs");
const path = require("path");

const pkg = path.join(__dirname, "..", "node_modules", "@kusto", "language-service-next");
require(path.join(pkg, "bridge.min.js"));
require(path.join(pkg, "Kusto.Language.Bridge.min.js"));
const K = global.Kusto.Language, SK = K.Syntax.SyntaxKind, Bridge = global.Bridge;
const globals = K.GlobalState.Default;

// Returns the decoded value, or throws with the reason the literal is not acceptable.
function decode(literal) {
  const code = K.KustoCode.ParseAndAnalyze("print x = " + literal, globals);
  const diags = Bridge.toArray(code.GetDiagnostics());
  if (diags.length) throw new Error(`diagnostics: ${diags.map((d) => `${d.Code} ${d.Message}`).join("; ")}`);
  const tokens = Bridge.toArray(code.Syntax.GetTokens(true)); // true: include the end-of-text token
  // Expect exactly: print x = <literal> <end>, with the literal as one token spanning all of it.
  const lit = tokens[3];
  if (tokens.length !== 5 || lit.Kind !== SK.StringLiteralToken || lit.Text !== literal ||
      tokens[4].Kind !== SK.EndOfTextToken || tokens[4].Trivia !== "")
    throw new Error(`not a single string literal token (tokens: ${tokens.slice(3).map((t) => JSON.stringify(t.Trivia + t.Text)).join(" ")})`);
  const expr = lit.Parent;
  if (expr.Kind !== SK.StringLiteralExpression)
    throw new Error("the token is not a StringLiteralExpression");
  if (expr.LiteralValue !== lit.ValueText)
    throw new Error(`LiteralValue ${JSON.stringify(expr.LiteralValue)} != ValueText ${JSON.stringify(lit.ValueText)}`);
  return expr.LiteralValue;
}

// Known decodings, checked first so a change in the service cannot pass silently.
const KNOWN = [
  ['"a\\"b"', 'a"b'], ["'it\\'s'", "it's"], ['@"c:\\x"', "c:\\x"], ['@"say ""hi"""', 'say "hi"'],
  ['"\\u00e9"', "\u00e9"], ['"\\ud83d\\ude00"', "\u{1F600}"], ['"\\\\"', "\\"], ['"a\\tb\\nc\\rd"', "a\tb\nc\rd"],
  ["'it''s'", null], ['"a" "b"', null], ['"a\\qb"', null], ['"x" | take 1', null], ['"x" // c', null],
];

function main() {
  for (const [literal, want] of KNOWN) {
    let got;
    try { got = decode(literal); } catch (e) { got = null; }
    if (got !== want) {
      console.error(`kql-literal: self-check failed: ${literal} decoded to ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      return 2;
    }
  }
  const lines = fs.readFileSync(0, "utf8").split("\n").filter((l) => l.trim() !== "");
  const failures = [];
  for (const [i, line] of lines.entries()) {
    let value, literal, reason = null;
    try {
      ({ value, literal } = JSON.parse(line));
      if (typeof value !== "string" || typeof literal !== "string") throw new Error("bad input line: need string fields value and literal");
      const got = decode(literal);
      if (got !== value) reason = `decodes to ${JSON.stringify(got)}`;
    } catch (e) {
      reason = e.message;
    }
    if (reason) failures.push(`line ${i + 1}: value ${JSON.stringify(value)}\n  literal ${JSON.stringify(literal)}\n  ${reason}`);
  }
  if (failures.length) {
    console.log(failures.slice(0, 10).join("\n"));
    console.log(`kql-literal: ${failures.length} of ${lines.length} literals fail`);
    return 1;
  }
  console.log(`kql-literal: ${lines.length} literals round-trip`);
  return 0;
}

module.exports = { decode };
if (require.main === module) process.exitCode = main();
