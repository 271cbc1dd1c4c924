#!/usr/bin/env bash
# The CLI contract: 0 ok, 1 rule errors, 2 usage or input errors; diagnostics on stderr.
set -uo pipefail
ward=$1; root=$2
fail=0
expect() {  # expect CODE DESCRIPTION -- ARGS...
  local want=$1 what=$2; shift 3
  "$ward" "$@" >/dev/null 2>&1; local got=$?
  if [ "$got" != "$want" ]; then echo "FAIL: $what: exit $got, want $want"; fail=1; else echo "ok: $what"; fi
}
cd "$root"
expect 0 "clean file" -- check examples/mail_read_without_signin.ward
expect 1 "rule errors" -- check tests/golden/sema/fail_unknown_column.ward
expect 2 "no subcommand" --
expect 2 "unknown subcommand" -- frobnicate
expect 2 "missing file" -- check does/not/exist.ward
expect 2 "bad target" -- compile --target cobol examples/mail_read_without_signin.ward
expect 2 "bad diagnostics format" -- check --diagnostics-format xml examples/mail_read_without_signin.ward
expect 1 "compile with errors" -- compile tests/golden/sema/fail_unknown_column.ward
# json diagnostics are valid JSON with the code
json=$("$ward" check --diagnostics-format json tests/golden/sema/fail_unknown_column.ward 2>&1 >/dev/null)
if node -e 'const d=JSON.parse(require("fs").readFileSync(0,"utf8")); if(!d.length||!d[0].code.startsWith("E0")) process.exit(1)' <<<"$json"; then
  echo "ok: json diagnostics"; else echo "FAIL: json diagnostics: $json"; fail=1; fi
exit $fail
