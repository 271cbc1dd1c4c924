#!/usr/bin/env bash
# `ward coverage --navigator/--html` checks (ctest navigator_layer, report_html, report_screenshot):
#   usage: coverage_report.sh WARD SOURCE_DIR CHECK
#   navigator    the layer validates against navigator-layer-4.5.schema.json (ajv) and scores each
#                technique with its step's recall from --json; a tampered layer is caught
#   html         self-contained, two inline Graphviz SVGs, nodes coloured by the --json recall, every
#                rule in the matrix, rule text escaped; tampered reports are caught
#   screenshot   headless Chromium renders it (not blank, SVG colours present); fails without chromium
set -uo pipefail
ward=$1 src=$2 check=$3
tools=$src/tests/tools
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
export NODE_PATH=$src/tests/node_modules

# A small fixed trace, Monday to Friday before the mitigations: steps D, E and F, one technique each.
"$ward" simulate -q --scenario storm0558 --users 50 --days 5 --seed 7 --start 2023-06-19 --out "$tmp/t" || bad "simulate"
# A rule whose title needs escaping, beside the shipped ones.
cat >"$tmp/esc.ward" <<'WARD'
import sentinel
rule esc_check {
  meta {
    title       = "<script>alert(1)</script> & \"quoted\" 'single' </td>"
    description = "escaping check"
    severity    = low
  }
  events {
    $m = OfficeActivity where Operation == "MailItemsAccessed" and ClientIP == "203.0.113.255"
  }
}
WARD
"$ward" coverage --rules "$src"/examples/*.ward "$tmp/esc.ward" --events "$tmp/t" --json "$tmp/c.json" \
  --navigator "$tmp/layer.json" --html "$tmp/report.html" >"$tmp/out.txt" || bad "ward coverage failed"

case $check in
navigator)
  node "$tools/navigator-check.js" "$tmp/layer.json" || bad "layer does not validate"
  node "$tools/report-check.js" navigator "$tmp/layer.json" "$tmp/c.json" D=T1606 E=T1550.001 F=T1114.002 || bad "layer scores"
  # the checks can fail: a wrong score, a wrong version
  node -e 'const f=process.argv[1],l=JSON.parse(require("fs").readFileSync(f));l.techniques[0].score+=7;require("fs").writeFileSync(f+".bad",JSON.stringify(l))' "$tmp/layer.json"
  node "$tools/report-check.js" navigator "$tmp/layer.json.bad" "$tmp/c.json" D=T1606 E=T1550.001 F=T1114.002 2>/dev/null && bad "a tampered score passed"
  sed 's/"layer":"4.5"/"layer":"4.4"/' "$tmp/layer.json" >"$tmp/v.json"
  node "$tools/navigator-check.js" "$tmp/v.json" 2>/dev/null && bad "layer version 4.4 passed the schema"
  "$ward" coverage --rules "$src"/examples/*.ward --events "$tmp/t" --navigator "$tmp/no/such/dir/l.json" >/dev/null 2>&1
  [ $? -eq 2 ] || bad "an unwritable --navigator path did not exit 2"
  ;;
html)
  node "$tools/report-check.js" html "$tmp/report.html" "$tmp/c.json" || bad "report content"
  grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quoted&quot; &#39;single&#39; &lt;/td&gt;' "$tmp/report.html" || bad "rule title not escaped"
  grep -q '<script>alert' "$tmp/report.html" && bad "raw rule text in the report"
  if command -v xmllint >/dev/null; then
    for id in campaign matrix; do
      sed -n "/id=\"$id\"/,/<\/svg>/p" "$tmp/report.html" | sed '1s/^.*<svg/<svg/; $s/<\/svg>.*$/<\/svg>/' >"$tmp/$id.svg"
      xmllint --noout "$tmp/$id.svg" || bad "$id SVG is not well-formed XML"
    done
  fi
  # the checks can fail: a node coloured wrongly, an external resource
  sed '0,/fill="#66bd63"/s//fill="#f46d43"/' "$tmp/report.html" >"$tmp/b1.html"
  node "$tools/report-check.js" html "$tmp/b1.html" "$tmp/c.json" 2>/dev/null && bad "a wrongly coloured node passed"
  sed 's|</title>|</title><link rel="stylesheet" href="https://example.com/x.css">|' "$tmp/report.html" >"$tmp/b2.html"
  node "$tools/report-check.js" html "$tmp/b2.html" "$tmp/c.json" 2>/dev/null && bad "an external stylesheet passed"
  "$ward" coverage --rules "$src"/examples/*.ward --events "$tmp/t" --html "$tmp/no/such/dir/r.html" >/dev/null 2>&1
  [ $? -eq 2 ] || bad "an unwritable --html path did not exit 2"
  ;;
screenshot)
  node "$tools/html-screenshot.js" "$tmp/report.html" "$tmp/shot.png" || bad "screenshot of the report"
  # the check can fail: the same report without its SVGs
  perl -0pe 's/<svg\b.*?<\/svg>//gs' "$tmp/report.html" >"$tmp/nosvg.html"
  grep -q '<svg' "$tmp/nosvg.html" && bad "could not strip the SVGs"
  node "$tools/html-screenshot.js" "$tmp/nosvg.html" "$tmp/nosvg.png" >/dev/null 2>&1 && bad "a report without its SVGs passed"
  ;;
*) bad "unknown check $check" ;;
esac
[ "$fails" -eq 0 ] && echo "coverage_report $check: ok"
exit $((fails > 0))
