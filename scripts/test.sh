#!/usr/bin/env bash
# `make test`: builds the sanitized test configuration (clang, ASan + UBSan, libFuzzer
# targets) and runs every test with ctest. ctest's summary is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
TB=build-asan
cmake -S . -B "$TB" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
  -DWARD_SANITIZE=ON -DWARD_FUZZ=ON -DCMAKE_CXX_FLAGS="-O1" >/dev/null
cmake --build "$TB" -j "$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0  # third-party caches only
set +e
(cd "$TB" && ctest --output-on-failure -j "$(nproc)") > "$TB/ctest.log" 2>&1
rc=$?
set -e
# everything ctest said, minus the timing footer, so that its summary is the last line
awk '!/^Total Test time/ { lines[++n] = $0 } END { while (n > 0 && lines[n] ~ /^[[:space:]]*$/) n--; for (i = 1; i <= n; i++) print lines[i] }' "$TB/ctest.log"
exit $rc
