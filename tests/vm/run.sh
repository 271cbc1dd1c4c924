#!/usr/bin/env bash
# VM cases: each tests/vm/NAME.ward runs over NAME.jsonl and must give exactly NAME.alerts
# (canonical `rule<TAB>time<TAB>outcome` lines, worked out by hand from docs/semantics.md).
# Also: the same alerts from a compiled bundle, from gzip input and from a JSON array; a
# corrupted or truncated bundle is a clear error (exit 2), never a crash.
#   bash tests/vm/run.sh WARD [--update]
set -uo pipefail
WARD=$(realpath "$1")
UPDATE=${2:-}
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() {  # name, expected file, actual file
  if ! diff -u "$2" "$3" >"$tmp/diff"; then
    echo "FAIL $1"; cat "$tmp/diff"; fail=1
  else
    echo "ok   $1"
  fi
}
for w in *.ward; do
  n=${w%.ward}
  [ -f "$n.jsonl" ] || continue
  "$WARD" run --canonical -q --rules "$w" --events "$n.jsonl" >"$tmp/$n.out" 2>"$tmp/$n.err" || { echo "FAIL $n: ward run exited $?"; cat "$tmp/$n.err"; fail=1; continue; }
  if [ "$UPDATE" = "--update" ]; then cp "$tmp/$n.out" "$n.alerts"; echo "updated $n.alerts"; continue; fi
  check "$n" "$n.alerts" "$tmp/$n.out"
  # the same through a bundle, and from gzip input
  "$WARD" compile --target bytecode "$w" -o "$tmp/$n.wardc" && \
    "$WARD" run --canonical -q --rules "$tmp/$n.wardc" --events "$n.jsonl" >"$tmp/$n.bundle.out"
  check "$n (bundle)" "$n.alerts" "$tmp/$n.bundle.out"
  gzip -c "$n.jsonl" >"$tmp/$n.jsonl.gz"
  "$WARD" run --canonical -q --rules "$w" --events "$tmp/$n.jsonl.gz" >"$tmp/$n.gz.out"
  check "$n (gzip)" "$n.alerts" "$tmp/$n.gz.out"
done

# A JSON array of rows (only the lines that are objects: an array cannot hold the bad lines)
grep '^{.*}$' sequence.jsonl | paste -sd, | sed 's/^/[/; s/$/]/' >"$tmp/sequence.array.json"
"$WARD" run --canonical -q --rules sequence.ward --events "$tmp/sequence.array.json" >"$tmp/array.out"
check "sequence (JSON array)" sequence.alerts "$tmp/array.out"

# Events split across two files (one per table, as exports come) merge in time order
grep '"SigninLogs"' sequence.jsonl >"$tmp/s.jsonl"; grep '"OfficeActivity"' sequence.jsonl >"$tmp/o.jsonl"
"$WARD" run --canonical -q --rules sequence.ward --events "$tmp/o.jsonl" "$tmp/s.jsonl" >"$tmp/split.out"
check "sequence (one file per table)" sequence.alerts "$tmp/split.out"

# Shuffled input within the lateness is reordered; beyond it, late events are counted
shuf --random-source=<(yes) threshold.jsonl >"$tmp/shuffled.jsonl"
"$WARD" run --canonical -q --lateness 1h --rules threshold.ward --events "$tmp/shuffled.jsonl" >"$tmp/shuf.out"
check "threshold (shuffled, --lateness 1h)" threshold.alerts "$tmp/shuf.out"
"$WARD" run --canonical --rules threshold.ward --events "$tmp/shuffled.jsonl" >/dev/null 2>"$tmp/late.err"
if grep -q "late event(s) (dropped)" "$tmp/late.err"; then echo "ok   late events reported"; else echo "FAIL late events not reported"; cat "$tmp/late.err"; fail=1; fi

# Alerts as JSON Lines carry rule, id, title, severity, time, outcome, entities, event lines
"$WARD" run -q --rules join.ward --events join.jsonl >"$tmp/alerts.jsonl"
if node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  if (lines.length !== 3) throw new Error("expected 3 alerts");
  for (const a of lines) for (const k of ["rule","id","title","severity","time","outcome","entities","events","events_total"])
    if (!(k in a)) throw new Error("missing " + k);
  if (!lines.some(a => a.events.join() === "join.jsonl:1,join.jsonl:2")) throw new Error("event lines: " + JSON.stringify(lines.map(a => a.events)));
' "$tmp/alerts.jsonl"; then echo "ok   alert JSON Lines"; else fail=1; fi

# Hostile bundles: truncated, a flipped byte, wrong magic, empty
"$WARD" compile --target bytecode ../../examples/*.ward -o "$tmp/ex.wardc"
"$WARD" disasm "$tmp/ex.wardc" >"$tmp/disasm.txt" && grep -q "^rule mail_read_without_signin" "$tmp/disasm.txt" && echo "ok   disasm" || { echo "FAIL disasm"; fail=1; }
size=$(stat -c %s "$tmp/ex.wardc")
head -c $((size / 2)) "$tmp/ex.wardc" >"$tmp/trunc.wardc"
cp "$tmp/ex.wardc" "$tmp/flip.wardc"; printf '\xff' | dd of="$tmp/flip.wardc" bs=1 seek=$((size - 40)) conv=notrunc status=none
printf 'WARDBC\r\nxx' >"$tmp/short.wardc"
: >"$tmp/empty.wardc"
for b in trunc flip short; do
  "$WARD" run -q --rules "$tmp/$b.wardc" --events join.jsonl >/dev/null 2>"$tmp/$b.err"
  rc=$?
  if [ $rc -eq 2 ] && grep -q "invalid bundle" "$tmp/$b.err"; then echo "ok   $b bundle refused: $(cat "$tmp/$b.err")"; else echo "FAIL $b bundle: exit $rc"; cat "$tmp/$b.err"; fail=1; fi
done
exit $fail
