#!/usr/bin/env bash
# `make fuzz`: each libFuzzer target for SECONDS over its seeds, in a build with coverage of all
# code (WARD_FUZZ_COVERAGE). Crashes, timeouts and OOMs are kept in BUILD/fuzz-artifacts/TARGET/.
#   scripts/fuzz.sh BUILD SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
B=$1; S=$2; root=$PWD
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$root/tests/lsan.supp:print_suppressions=0 WARD_SCHEMA_PATH=$root/rules/schemas
export WARD_FUZZ_RULES=$root/examples
seeds() {  # TARGET: its seed files
  case $1 in
    fuzz_frontend) find "$root/examples" "$root/rules" "$root/tests/golden" -name '*.ward' ;;
    fuzz_bundle) d=$B/fuzz-seeds/bundle; mkdir -p "$d"; "$B/ward" compile --target bytecode "$root"/examples/*.ward -o "$d/ex.wardc"; echo "$d/ex.wardc" ;;
    fuzz_events) echo "$root/tests/vm/ingest.jsonl $root/tests/vm/sequence.jsonl $root/tests/vm/absence.jsonl" ;;
    fuzz_sigma_import) ls "$root"/tests/golden/sigma/import/*.yml "$root"/tests/golden/sigma/*.sigma.yml ;;
  esac
}
rc=0
for t in fuzz_frontend fuzz_bundle fuzz_events fuzz_sigma_import; do
  a=$B/fuzz-artifacts/$t; c=$B/fuzz-corpus/$t; mkdir -p "$a" "$c"
  for f in $(seeds $t); do cp "$f" "$c/"; done
  echo "== $t: $S s"
  "$B/tests/$t" -max_total_time="$S" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -artifact_prefix="$a/" \
    -print_final_stats=1 "$c" 2>&1 | grep -E "^stat::(number_of_executed_units|new_units_added)|ERROR|SUMMARY" || true
  if ls "$a"/* >/dev/null 2>&1; then echo "$t: artifacts in $a"; rc=1; fi
done
exit $rc
