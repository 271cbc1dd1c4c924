#!/usr/bin/env bash
# Runs Ward's benchmarks from a build directory and prints the report (docs/PERFORMANCE.md
# explains it). `make bench` calls this.
#
#   bash bench/run.sh [BUILD_DIR] [compile_bench options...]    e.g. bash bench/run.sh build --rules 2000
#
# 1. bench/compile_bench: generated rules compiled in memory, timed per stage, with the
#    parse-only baseline, cold start and peak memory in fresh processes.
# 2. A cross-check through the real CLI: the same generated library written to a temporary
#    directory and compiled by `ward compile --target kql` (process start, file I/O, import
#    resolution and output included), timed with /usr/bin/time when it is installed.
# 3. bench/vm_bench: `ward run` against a parse-only simdjson baseline, correlation state at
#    1k/100k/1M keys, memory as the trace grows 10x, bundle load of 1,000 rules
#    (WARD_VM_BENCH_GB=0.1 for a quick run).
# 4. bench/sim_bench: `ward simulate` generating (rows/s per core), writing JSON Lines and gzip
#    against the floor of writing the same bytes pre-rendered, and memory by simulated day
#    (WARD_SIM_BENCH_USERS, default 2000; WARD_SIM_BENCH_E2E=1 adds simulate + coverage at
#    10,000 users x 7 days, which writes about 16 GB).
# Nothing here asserts on timings: the exit status is non-zero only if something fails to run
# or a generated rule does not compile.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
[ $# -gt 0 ] && shift

if [ ! -f "$BUILD/build.ninja" ] && [ ! -f "$BUILD/Makefile" ]; then
  echo "bench/run.sh: $BUILD is not a configured build directory (run \`make build\` first)" >&2
  exit 2
fi
cmake --build "$BUILD" --target compile_bench ward >/dev/null
BT=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BUILD/CMakeCache.txt")
case "$BT" in
  Release|RelWithDebInfo) ;;
  *) echo "warning: $BUILD is a '$BT' build; timings of a non-optimised build are not representative" >&2 ;;
esac

if git rev-parse --git-dir >/dev/null 2>&1; then
  dirty=$(git status --porcelain -- compiler grammar | wc -l)
  echo "ward $(git rev-parse --short HEAD), $dirty uncommitted change(s) under compiler/ and grammar/; build dir $BUILD ($BT)"
fi
echo

"$BUILD/bench/compile_bench" "$@"

echo
echo "Cross-check through the CLI (one cold process; includes start-up, file I/O and printing):"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/bench/compile_bench" "$@" --write "$tmp" --generate-only >/dev/null
files=("$tmp"/library/*.ward)
rules=$(grep -c '^rule ' "$tmp/single.ward")
if [ -x /usr/bin/time ]; then
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$BUILD/ward" compile --target kql -o "$tmp/out.kql" "${files[@]}" 2>"$tmp/stderr" ||
    { echo "ward compile failed:"; tail -20 "$tmp/stderr"; exit 1; }
  read -r secs kb <"$tmp/time"
  awk -v s="$secs" -v kb="$kb" -v n="$rules" -v f="${#files[@]}" -v out="$(wc -c <"$tmp/out.kql")" 'BEGIN {
    printf "  ward compile --target kql, %d files, %d rules: %.2f s wall = %.1f us per rule, peak RSS %.1f MiB, %d bytes of KQL\n",
           f, n, s, s * 1e6 / n, kb / 1024, out }'
else
  start=$(date +%s%N)
  "$BUILD/ward" compile --target kql -o "$tmp/out.kql" "${files[@]}" 2>"$tmp/stderr" ||
    { echo "ward compile failed:"; tail -20 "$tmp/stderr"; exit 1; }
  end=$(date +%s%N)
  awk -v ns="$((end - start))" -v n="$rules" 'BEGIN { printf "  ward compile --target kql, %d rules: %.2f s wall = %.1f us per rule (install GNU time for peak RSS)\n", n, ns / 1e9, ns / 1e3 / n }'
fi
echo "  diagnostics: $(tail -1 "$tmp/stderr")"

# 3. The VM: bench/vm_bench generates its own exports (WARD_VM_BENCH_GB of them, default 1 GB,
#    written to a temporary directory and deleted) and runs `ward run` as a user would.
echo
cmake --build "$BUILD" --target vm_bench >/dev/null
"$BUILD/bench/vm_bench" --ward "$BUILD/ward" --dir "$tmp/vm" --gb "${WARD_VM_BENCH_GB:-1}" \
  --state-events "${WARD_VM_BENCH_STATE_EVENTS:-2000000}" --flat-events "${WARD_VM_BENCH_FLAT_EVENTS:-1000000}"

# 4. The simulator: bench/sim_bench forks a child per measurement and times its CPU.
echo
cmake --build "$BUILD" --target sim_bench >/dev/null
e2e=()
[ "${WARD_SIM_BENCH_E2E:-0}" = 1 ] && e2e=(--e2e --ward "$BUILD/ward" --rules rules/storm0558/*.ward)
"$BUILD/bench/sim_bench" --dir "$tmp/sim" --users "${WARD_SIM_BENCH_USERS:-2000}" --rss-users "${WARD_SIM_BENCH_USERS:-2000}" "${e2e[@]}"
