#!/usr/bin/env bash
# `make demo`: check and compile the shipped example rules, and show the KQL.
set -euo pipefail
WARD=${1:-build/ward}
cd "$(dirname "$0")/.."
bold=""; reset=""
if [ -t 1 ]; then bold=$'\e[1m'; reset=$'\e[0m'; fi

echo "${bold}== ward check examples/*.ward${reset}"
"$WARD" check examples/*.ward
echo "all $(ls examples/*.ward | wc -l) files check clean"
echo
echo "${bold}== a rule with a typo gets a precise error${reset}"
"$WARD" check tests/golden/sema/fail_unknown_column.ward || true
echo
for f in examples/mail_read_without_signin.ward examples/mail_bind_burst_from_hosting.ward examples/token_then_scripted_collection.ward; do
  echo "${bold}== ward compile --target kql $f${reset}"
  "$WARD" compile --target kql "$f"
  echo
done
mkdir -p out
"$WARD" compile --target kql examples/*.ward -o out/examples.kql
"$WARD" compile --target kql --format json examples/*.ward -o out/examples.kql.json
echo "${bold}== every query through Microsoft's Kusto language service${reset}"
node tests/tools/kql-check.js out/examples.kql.json
echo
echo
echo "${bold}== ward compile --target bytecode examples/*.ward -o out/examples.wardc; ward disasm (first rule)${reset}"
"$WARD" compile --target bytecode examples/*.ward -o out/examples.wardc
"$WARD" disasm out/examples.wardc | sed -n '/^rule mail_read_without_signin/,/^rule /p' | sed '$d'
echo
echo "${bold}== ward run --rules out/examples.wardc --events examples/events/sample.jsonl${reset}"
"$WARD" run --rules out/examples.wardc --events examples/events/sample.jsonl -o out/alerts.jsonl
cat out/alerts.jsonl
echo
echo "Wrote out/examples.kql, out/examples.wardc and out/alerts.jsonl. Still to come: Sentinel/Sigma export, the simulator and coverage (issues 4-6)."
