#!/usr/bin/env bash
# Differential test: seeded random rules and event streams (tests/reference/gen.cpp) run
# through `ward run` and through the independent reference evaluator (tests/reference),
# which must print the same canonical alerts. Rules that call now() or ago() are skipped:
# their result depends on read order by definition (docs/semantics.md §8).
#   bash tests/vm/differential.sh WARD WARD_REF FIRST_SEED COUNT
set -uo pipefail
WARD=$1; REF=$2; first=$3; count=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ran=0; skipped=0; failed=0
for ((s = first; s < first + count; s++)); do
  d="$tmp/$s"; mkdir -p "$d"
  "$REF" --gen "$s" --out "$d" >/dev/null || { echo "FAIL seed $s: generator"; failed=$((failed + 1)); continue; }
  if grep -q 'ago(\|now(' "$d/case.ward"; then skipped=$((skipped + 1)); rm -rf "$d"; continue; fi
  "$REF" "$d/case.ward" --events "$d/events.jsonl" >"$d/ref.txt" 2>"$d/ref.err" || { echo "FAIL seed $s: reference"; cat "$d/ref.err"; failed=$((failed + 1)); continue; }
  # the generator shuffles some rows by up to minutes: a lateness of a day reorders them all
  "$WARD" run --canonical -q --lateness 1d --rules "$d/case.ward" --events "$d/events.jsonl" >"$d/vm.txt" 2>"$d/vm.err" || { echo "FAIL seed $s: ward run"; cat "$d/vm.err"; failed=$((failed + 1)); continue; }
  if ! cmp -s "$d/ref.txt" "$d/vm.txt"; then
    failed=$((failed + 1))
    echo "FAIL seed $s: the VM and the reference disagree (reproduce: $REF --gen $s --out DIR)"
    diff "$d/ref.txt" "$d/vm.txt" | head -10
  fi
  ran=$((ran + 1))
  rm -rf "$d"
done
echo "differential: $ran case(s) compared, $skipped skipped (now()/ago()), $failed failed"
[ "$failed" -eq 0 ]
