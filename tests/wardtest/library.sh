#!/usr/bin/env bash
# ctest rule_library: `ward test` over the whole shipped rule library (rules/), as CI runs it:
# every test passes, and its JUnit XML validates and counts every test.
set -uo pipefail
WARD=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$SRC"
"$WARD" test rules --junit "$T/junit.xml"
rc=$?
xmllint --noout --schema tests/tools/junit.xsd "$T/junit.xml" || { echo "FAIL: the JUnit XML does not validate"; exit 1; }
n=$(grep -c '<testcase ' "$T/junit.xml")
want=$(grep -rhoE '^\s*test "' rules --include='*.ward' | wc -l)
[ "$n" = "$want" ] || { echo "FAIL: the JUnit XML has $n testcases, the library has $want tests"; exit 1; }
exit $rc
