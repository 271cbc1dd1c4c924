#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time over the seed files given (copied first).
#   run_corpus.sh FUZZER SECONDS SEED...
set -euo pipefail
fuzzer=$1; seconds=$2; shift 2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
for f in "$@"; do cp "$f" "$work/corpus/"; done
cd "$work"
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1 corpus 2>&1 | tail -n 12
