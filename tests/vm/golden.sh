#!/usr/bin/env bash
# VM goldens: every compiling golden case (tests/golden/{ir,kql}) and every example rule has a
# golden event file tests/vm/golden/GROUP__NAME.jsonl, aimed at its rules (tests/reference/
# targeted.cpp: their constants, near misses, joined keys, window-boundary times, dynamic columns
# as objects and as JSON text), and the expected alerts GROUP__NAME.alerts. Checked here:
#   - the VM's alerts (from the rule files and from a bundle) equal the expected alerts;
#   - the independent reference evaluator (tests/reference) still gives the expected alerts;
#   - every case has its files (a new golden case without them fails: run with --update).
# `--update` regenerates the events and alerts of every case with the reference (seed 1 on,
# the first seed whose rows raise an alert) and shows what changed.
#   bash tests/vm/golden.sh WARD WARD_REF [--update]
set -uo pipefail
WARD=$(realpath "$1"); REF=$(realpath "$2"); UPDATE=${3:-}
cd "$(dirname "$0")/../.."
export WARD_SCHEMA_PATH=$PWD/rules/schemas
out=tests/vm/golden
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0; cases=0; alerts=0; quiet=()

# Cases: NAME and the rule files it compiles (examples import common.ward themselves).
list_cases() {
  for w in examples/*.ward; do
    n=$(basename "$w" .ward)
    [ "$n" = common ] || echo "examples__$n $w"
  done
  for w in tests/golden/ir/*.ward tests/golden/kql/*.ward; do
    n=$(basename "$w" .ward); d=$(basename "$(dirname "$w")")
    case "$n" in _*|fail_*) continue ;; esac  # imported helpers and failing cases
    # only cases that compile cleanly to something the VM runs
    [ -f "${w%.ward}.ir.txt" ] || [ -f "${w%.ward}.kql" ] || continue
    (cd "$(dirname "$w")" && "$WARD" check "$(basename "$w")" >/dev/null 2>&1) || continue
    echo "${d}__$n $w"
  done
}

list_cases >"$tmp/cases"
while read -r name file; do
  cases=$((cases + 1))
  dir=$(dirname "$file"); base=$(basename "$file")
  ev=$PWD/$out/$name.jsonl; al=$PWD/$out/$name.alerts
  if [ "$UPDATE" = "--update" ]; then
    old=$(cat "$al" 2>/dev/null | wc -l)
    msg=$(cd "$dir" && "$REF" "$base" --golden "$tmp/$name" --seed 1 --rows 150) || { echo "FAIL $name: generator"; fail=1; continue; }
    if ! cmp -s "$tmp/$name.jsonl" "$ev" || ! cmp -s "$tmp/$name.alerts" "$al"; then
      cp "$tmp/$name.jsonl" "$ev"; cp "$tmp/$name.alerts" "$al"
      echo "updated $name ($msg; had $old alerts)"
    fi
  fi
  if [ ! -f "$ev" ] || [ ! -f "$al" ]; then
    echo "FAIL $name: no $out/$name.{jsonl,alerts} (run tests/vm/golden.sh WARD WARD_REF --update)"; fail=1; continue
  fi
  n_alerts=$(wc -l <"$al"); alerts=$((alerts + n_alerts))
  [ "$n_alerts" -eq 0 ] && quiet+=("$name")
  (cd "$dir" && "$WARD" run --canonical -q --rules "$base" --events "$ev") >"$tmp/vm" 2>"$tmp/err" \
    || { echo "FAIL $name: ward run exited $?"; cat "$tmp/err"; fail=1; continue; }
  (cd "$dir" && "$WARD" compile --target bytecode "$base" -o "$tmp/b.wardc" && \
     "$WARD" run --canonical -q --rules "$tmp/b.wardc" --events "$ev") >"$tmp/bundle" 2>"$tmp/err" \
    || { echo "FAIL $name: bundle run exited $?"; cat "$tmp/err"; fail=1; continue; }
  (cd "$dir" && "$REF" "$base" --events "$ev") >"$tmp/ref" 2>"$tmp/err" \
    || { echo "FAIL $name: reference exited $?"; cat "$tmp/err"; fail=1; continue; }
  ok=1
  for what in vm bundle ref; do
    if ! cmp -s "$al" "$tmp/$what"; then
      ok=0; fail=1; echo "FAIL $name: $what alerts differ from $out/$name.alerts"; diff "$al" "$tmp/$what" | head -8
    fi
  done
  [ $ok = 1 ] && echo "ok   $name ($n_alerts alerts)"
done <"$tmp/cases"

# Stale files: a golden file whose case is gone
for f in "$out"/*.alerts; do
  [ -e "$f" ] || continue
  n=$(basename "$f" .alerts)
  grep -q "^$n " "$tmp/cases" || { echo "FAIL stale $f (its case is gone; delete it)"; fail=1; }
done

echo "vm goldens: $cases case(s), $alerts expected alert(s); cases that raise none: ${quiet[*]:-none}"
exit $fail
