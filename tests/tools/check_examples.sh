#!/usr/bin/env bash
# The shipped examples check clean, compile to KQL, and every query passes Microsoft's
# Kusto language service with the schemas the rules were checked against.
set -euo pipefail
ward=$1; root=$2; dir=${3:-examples}  # the rule directory: examples/ or a shipped library
cd "$root"
out=$(mktemp); trap 'rm -f "$out"' EXIT
n=$(ls $dir/*.ward | wc -l)
[ "$n" -ge 6 ] || { echo "expected at least 6 examples, found $n"; exit 1; }
NO_COLOR=1 "$ward" check $dir/*.ward
"$ward" compile --target kql --format json $dir/*.ward -o "$out"
node tests/tools/kql-check.js "$out"
