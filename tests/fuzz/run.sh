#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time over a seed corpus made of every .ward
# file in the repository (copied, so the fuzzer never writes into the tree).
set -euo pipefail
fuzzer=$1; root=$2; seconds=${3:-45}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
find "$root/examples" "$root/tests/golden" "$root/rules" -name '*.ward' -exec cp {} "$work/corpus/" \; 2>/dev/null || true
cp "$root"/tests/fuzz/dict.txt "$work/" 2>/dev/null || true
args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1)
[ -f "$work/dict.txt" ] && args+=(-dict="$work/dict.txt")
cd "$work"
"$fuzzer" "${args[@]}" corpus 2>&1 | tail -n 15
