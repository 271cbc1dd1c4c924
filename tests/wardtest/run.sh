#!/usr/bin/env bash
# `ward test` end to end on tests/wardtest/fixture (a copy): a fresh library fails on its
# unrecorded false positives, --update records the expected alerts and shows them, then it
# passes and writes JUnit XML that validates; a change that loses a detection, one that adds a
# false positive, one that changes a hand-written trace's alerts and an unmet expectation each
# fail with their own message and exit 1; bad paths exit 2.
set -uo pipefail
WARD=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
cp -r "$SRC/tests/wardtest/fixture" "$T/lib"
rm -rf "$T/lib/tests/mail_from_actor_ip" "$T/lib/tests/burst_by_ip/"*.alerts.jsonl
cd "$T"

run() {  # run EXPECTED_RC ARGS...: stdout+stderr in out.txt
  local want=$1; shift
  "$WARD" test "$@" >out.txt 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || { cat out.txt; fail "ward test $* exited $rc, expected $want"; }
}
expect() { grep -qF -- "$1" out.txt || { cat out.txt; fail "output lacks: $1"; }; }

# 1. nothing recorded: the trace's alert is new; the scenario tests' expectations hold
run 1 lib
expect "FAIL burst_by_ip: window boundary"
expect "1 new alert(s) (not in lib/tests/burst_by_ip/window-boundary.alerts.jsonl)"
expect "PASS mail_from_actor_ip: catches the collection"
expect "new detection(s)"

# 2. --update writes the files and shows the added lines
run 0 --update lib
expect "updated lib/tests/mail_from_actor_ip/catches-the-collection.alerts.jsonl: -0 +"
expect '+ {"time":"2023-06-20T08:10:00Z","truth":"benign","steps":[],"outcome":{"ip":"203.0.113.7","reads":3}}'
[ -s lib/tests/mail_from_actor_ip/catches-the-collection.alerts.jsonl ] || fail "no expected alerts written"
[ ! -e lib/tests/mail_from_actor_ip/quiet-on-benign.alerts.jsonl ] || fail "an empty expectation must not leave a file"
grep -q '"truth":"malicious","steps":\["F"\]' lib/tests/mail_from_actor_ip/catches-the-collection.alerts.jsonl || fail "alerts not labelled F"

# 3. now it passes, the JUnit XML validates and counts
run 0 --junit junit.xml lib
expect "3 test(s) in 1 rule file(s), 3 source(s): 3 passed, 0 failed"
xmllint --noout --schema "$SRC/tests/tools/junit.xsd" junit.xml || fail "junit.xml does not validate"
grep -q '<testsuites name="ward test" tests="3" failures="0"' junit.xml || fail "junit totals"
# (the schema is not vacuous: a testcase without a name is rejected)
sed 's/<testcase classname="burst_by_ip" name="window boundary"/<testcase classname="burst_by_ip"/' junit.xml >bad.xml
if xmllint --noout --schema "$SRC/tests/tools/junit.xsd" bad.xml 2>/dev/null; then fail "the JUnit schema accepts a nameless testcase"; fi

# 4. a change that loses detections (fewer IOC IPs)
cp -r lib lost
grep -v '45.14.227' lib/iocs/storm0558_ips.txt >lost/iocs/storm0558_ips.txt
run 1 --junit lost.xml lost
expect "FAIL mail_from_actor_ip: catches the collection"
expect "expected detection(s) lost"
xmllint --noout --schema "$SRC/tests/tools/junit.xsd" lost.xml || fail "lost.xml does not validate"
grep -q 'failures="1"' lost.xml || fail "junit failure count"
grep -q '<failure message="[0-9]* expected detection(s) lost' lost.xml || fail "junit failure message"

# 5. a change that adds false positives (any mailbox read from 20.0.0.0/8 as well)
cp -r lib fp
sed -i 's/and ClientIP in ActorIps/and (ClientIP in ActorIps or ClientIP in cidr ["20.0.0.0\/8"])/' fp/mail_from_actor_ip.ward
run 1 fp
expect "new false positive(s)"
expect "expected false_positives <= 0, got"
expect "expected no alert, got"

# 6. a hand-written trace whose alerts change (the window made shorter loses the boundary alert)
cp -r lib win
sed -i 's/count(\$read) >= 3 by \$read.ClientIP within 10m/count($read) >= 3 by $read.ClientIP within 9m/' win/mail_from_actor_ip.ward
run 1 win
expect "expected alerts == 1, got 0"
expect "1 expected alert(s) not raised"

# 7. an unmet step expectation and a missing entity
cp -r lib steps
sed -i 's/expect steps \["F"\]/expect steps ["F", "G"]/; s/ip=203.0.113.7/ip=192.0.2.1/' steps/mail_from_actor_ip.ward
run 1 steps
expect "step G (after mitigation: failed attempts, phishing) not detected"
expect 'no alert has ip = `192.0.2.1`'

# 8. --filter, usage and input errors
run 0 --filter "window boundary" lib
expect "1 test(s) in 1 rule file(s), 1 source(s): 1 passed, 0 failed"
run 2 no/such/dir
run 2 --filter "no such test" lib
cp -r lib broken
sed -i 's/Operation == "MailItemsAccessed" and ClientIP/Operatoin == "MailItemsAccessed" and ClientIP/' broken/mail_from_actor_ip.ward
run 1 broken
expect "error[E0204]"
echo "ward test: all checks passed"
