#!/usr/bin/env bash
# Every example exports to Sigma with --allow-lossy or is refused with Sigma diagnostics only
# (E08xx: absence, functions, computed keys), never a crash; what is written validates against
# the Sigma JSON schemas; and the schema validator rejects broken documents (self-test).
set -euo pipefail
ward=$1; root=$2; dir=${3:-examples}  # the rule directory: examples/ or a shipped library
cd "$root"
schemas=tests/tools/sigma-schemas  # public-domain copies of the Sigma specification's schemas (PROVENANCE.md)
if [ -d ../shared/schemas/sigma ]; then  # the copy must stay the one the brief points at
  for f in ../shared/schemas/sigma/*.json; do
    cmp -s "$f" "$schemas/$(basename "$f")" || { echo "$schemas/$(basename "$f") differs from $f: copy it again"; exit 1; }
  done
fi
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
written=0
for f in $dir/*.ward; do
  [ "$(basename "$f")" = common.ward ] && continue
  set +e; "$ward" compile --target sigma --allow-lossy "$f" -o "$d/$(basename "$f" .ward).yml" 2>"$d/err"; rc=$?; set -e
  if [ $rc -eq 0 ]; then written=$((written + 1)); continue; fi
  [ $rc -eq 1 ] || { echo "$f: exit $rc"; cat "$d/err"; exit 1; }
  if grep -E "error\[" "$d/err" | grep -vE "error\[E08"; then echo "$f: refused for a non-Sigma reason"; exit 1; fi
  rm -f "$d/$(basename "$f" .ward).yml"
done
[ $written -ge 3 ] || { echo "only $written examples exported to Sigma"; exit 1; }
node tests/tools/sigma-check.js --schemas $schemas "$d"/*.yml
# the validator is not a rubber stamp
printf 'title: x\nlogsource: {product: azure}\ndetection: {sel: {a: 1}}\ntags: [Not-A-Tag]\n' > "$d/bad1.yml"
printf 'title: x\ncorrelation: {type: event_count, rules: [r1]}\n' > "$d/bad2.yml"
printf 'title: x\nid: not-a-uuid\nlogsource: {product: azure}\ndetection: {sel: {a: 1}, condition: sel}\n' > "$d/bad3.yml"
for b in bad1 bad2 bad3; do
  if node tests/tools/sigma-check.js --schemas $schemas "$d/$b.yml" >/dev/null; then echo "sigma-check accepted $b"; exit 1; fi
done
echo "examples_sigma: $written examples exported and validated; the validator rejects 3 broken documents"
