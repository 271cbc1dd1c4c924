#!/usr/bin/env bash
# Pathological nesting must end in a clear error (E0113), never a stack overflow:
# run under the ASan build, whose frames are largest. Shapes at the limit must compile.
set -uo pipefail
ward=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
head='import sentinel
rule r { meta { title = "t" description = "d" severity = low }
 events { $m = OfficeActivity where '
gen() {  # gen NAME EXPR-PYTHON-FREE
  printf '%s%s } }\n' "$head" "$2" > "$work/$1.ward"
}
rep() { local s=$1 n=$2 out=""; for ((i = 0; i < n; i++)); do out+=$s; done; printf '%s' "$out"; }
join() { local sep=$1 item=$2 n=$3; local out=$item; for ((i = 1; i < n; i++)); do out+="$sep$item"; done; printf '%s' "$out"; }

gen parens_20000   "$(rep '(' 20000)Operation == \"x\"$(rep ')' 20000)"
gen and_50000      "$(join ' and ' 'Operation == "x"' 50000)"
gen not_20000      "$(rep 'not ' 20000)Operation == \"x\""
gen neg_20000      "$(rep '-' 20000)1 > 0"
gen member_20000   "OperationProperties$(rep '.a' 20000) == 1"
gen index_20000    "OperationProperties$(rep '[0]' 20000) == 1"
gen compare_20000  "$(join ' == ' '1' 20000)"
gen calls_5000     "$(rep 'tolower(' 5000)Operation$(rep ')' 5000) == \"x\""
gen list_20000     "Operation in [$(join ', ' '"x"' 20000)]"
gen parens_128     "$(rep '(' 128)Operation == \"x\"$(rep ')' 128)"
gen or_200         "$(join ' or ' 'Operation == "x"' 200)"

fail=0
for f in "$work"/*.ward; do
  name=$(basename "$f" .ward)
  "$ward" compile "$f" >/dev/null 2>"$work/err"; rc=$?
  case $name in
    parens_128|or_200|list_20000) want=0 ;;
    *) want=1 ;;
  esac
  if [ "$rc" != "$want" ]; then
    echo "FAIL $name: exit $rc, want $want"; head -c 600 "$work/err"; echo; fail=1
  elif [ "$want" = 1 ] && ! grep -q "error\[E0113\]" "$work/err"; then
    echo "FAIL $name: no E0113"; head -c 600 "$work/err"; echo; fail=1
  else
    echo "ok $name (exit $rc)"
  fi
done
exit $fail
