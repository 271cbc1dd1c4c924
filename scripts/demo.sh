#!/usr/bin/env bash
# `make demo`: check the example rules, compile them to KQL, Sentinel, Sigma and bytecode, run them,
# simulate the Storm-0558 campaign in a tenant, replay it and print which steps the rules catch.
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
echo "${bold}== ward compile --target sentinel-yaml / sentinel-arm examples/*.ward: checked by the Azure-Sentinel rules${reset}"
"$WARD" compile --target sentinel-yaml examples/*.ward -o out/sentinel/
"$WARD" compile --target sentinel-arm examples/*.ward -o out/sentinel-rules.json 2>/dev/null
sed -n '1,12p' out/sentinel/mail_read_without_signin.yaml; echo "  ..."
node tests/tools/sentinel-check.js --kql out/examples.kql.json --arm out/sentinel-rules.json --pair out/sentinel/*.yaml
echo
echo "${bold}== ward compile --target sigma examples/mail_read_without_signin.ward (absence: Sigma cannot say it)${reset}"
"$WARD" compile --target sigma examples/mail_read_without_signin.ward || true
echo "${bold}== ward compile --target sigma --allow-lossy examples/mail_bind_burst_from_hosting.ward${reset}"
"$WARD" compile --target sigma --allow-lossy examples/mail_bind_burst_from_hosting.ward -o out/mail_bind_burst_from_hosting.sigma.yml
sed -n '/^correlation:/,$p' out/mail_bind_burst_from_hosting.sigma.yml
echo
echo "${bold}== ward compile --target bytecode examples/*.ward -o out/examples.wardc; ward disasm (first rule)${reset}"
"$WARD" compile --target bytecode examples/*.ward -o out/examples.wardc
"$WARD" disasm out/examples.wardc | sed -n '/^rule mail_read_without_signin/,/^rule /p' | sed '$d'
echo
echo "${bold}== ward run --rules out/examples.wardc --events examples/events/sample.jsonl${reset}"
"$WARD" run --rules out/examples.wardc --events examples/events/sample.jsonl -o out/alerts.jsonl
cat out/alerts.jsonl
echo
echo "${bold}== ward simulate --scenario storm0558 --users 200 --days 14 --seed 7 --gzip --out out/trace${reset}"
rm -rf out/trace
"$WARD" simulate --scenario storm0558 --users 200 --days 14 --seed 7 --gzip --out out/trace
echo
echo "${bold}== ward coverage --rules rules/storm0558/*.ward --events out/trace: which steps the library catches${reset}"
"$WARD" coverage --rules rules/storm0558/*.ward --events out/trace --json out/coverage.json \
  --html out/coverage.html --navigator out/coverage-navigator.json
echo "report: $PWD/out/coverage.html (open it in a browser)"
echo "ATT&CK Navigator layer: $PWD/out/coverage-navigator.json"
echo
echo "${bold}== the library to Sentinel: ward compile --target sentinel-arm rules/storm0558/*.ward${reset}"
"$WARD" compile --target sentinel-yaml rules/storm0558/*.ward -o out/storm0558-sentinel/
"$WARD" compile --target sentinel-arm rules/storm0558/*.ward -o out/storm0558-sentinel.json 2>/dev/null
echo "deploy: az deployment group create -g RESOURCE_GROUP --template-file out/storm0558-sentinel.json --parameters workspace=WORKSPACE"
echo
echo "${bold}== ward test rules/storm0558: every rule against attack replays, benign traffic and edge-case traces${reset}"
"$WARD" test rules/storm0558 --junit out/ward-test.xml | tail -n 1
echo
echo "Wrote out/examples.kql, out/sentinel/*.yaml, out/sentinel-rules.json, out/*.sigma.yml, out/examples.wardc, out/alerts.jsonl,"
echo "out/storm0558-sentinel/*.yaml, out/storm0558-sentinel.json (the library as one ARM template) and out/ward-test.xml (JUnit)."
