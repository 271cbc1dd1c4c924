#!/usr/bin/env bash
# The shipped examples export to Sentinel YAML (one file per rule, and one multi-document file)
# and to ARM (one template per rule, and one for the whole set); every output passes the checker
# of the Azure-Sentinel repository's rules (tests/tools/sentinel-check.js), the YAML query is the
# KQL backend's query with zero Kusto diagnostics and every mapped column in its result schema,
# and each ARM resource says what its YAML rule says. The real Azure-Sentinel rules in
# tests/tools/sentinel-corpus pass the same checker (proof it is not too strict), and the export
# is deterministic.
set -euo pipefail
ward=$1; root=$2; dir=${3:-examples}  # the rule directory: examples/ or a shipped library
cd "$root"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
check=tests/tools/sentinel-check.js
rules=$(ls $dir/*.ward)
"$ward" compile --target kql --format json $rules -o "$d/kql.json"
"$ward" compile --target sentinel-yaml $rules -o "$d/yaml/" 2>"$d/yaml.err"
"$ward" compile --target sentinel-yaml $rules -o "$d/all.yaml" 2>/dev/null
"$ward" compile --target sentinel-arm $rules -o "$d/arm/" 2>/dev/null
"$ward" compile --target sentinel-arm $rules -o "$d/all.json" 2>/dev/null
n_rules=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).queries.length)' "$d/kql.json")
n_yaml=$(ls "$d"/yaml/*.yaml | wc -l); n_arm=$(ls "$d"/arm/*.json | wc -l)
[ "$n_rules" -ge 6 ] && [ "$n_yaml" = "$n_rules" ] && [ "$n_arm" = "$n_rules" ] ||
  { echo "expected one YAML and one ARM file per rule ($n_rules rules): $n_yaml YAML, $n_arm ARM"; exit 1; }
# only the warnings the examples are known to carry (NRT's alert cap)
if grep -E "warning\[" "$d/yaml.err" | grep -v "W0701" ; then echo "unexpected export warnings"; exit 1; fi
node $check --kql "$d/kql.json" --arm "$d/all.json" --pair "$d"/yaml/*.yaml
node $check --kql "$d/kql.json" --arm "$d/all.json" --pair "$d/all.yaml"
for a in "$d"/arm/*.json; do node $check --arm "$a" --pair "$d/all.yaml" >/dev/null || node $check --arm "$a" --pair "$d/all.yaml"; done
# the multi-document file is the per-rule files, in order
cat $(for r in $(node -e 'for (const q of JSON.parse(require("fs").readFileSync(process.argv[1])).queries) console.log(q.rule)' "$d/kql.json"); do echo "$d/yaml/$r.yaml"; done) |
  awk 'NR>1 && /^id: /{print "---"} {print}' | diff -u - "$d/all.yaml"
# deterministic
"$ward" compile --target sentinel-arm $rules 2>/dev/null | cmp - "$d/all.json"
# the checker accepts the real Azure-Sentinel rules it was written from
node $check tests/tools/sentinel-corpus/*.yaml
if [ -d ../shared/corpus/sentinel ]; then node $check ../shared/corpus/sentinel/*.yaml; fi
# the connector-id snapshot is the shared one, where that is present
if [ -f ../shared/schemas/sentinel/ValidConnectorIds.json ]; then
  cmp rules/schemas/source/ValidConnectorIds.json ../shared/schemas/sentinel/ValidConnectorIds.json
fi
echo "examples_sentinel: $n_rules rules exported and checked"
