#!/usr/bin/env bash
# Simulator checks (ctest sim_*): usage: run.sh WARD SOURCE_DIR CHECK
#   determinism   same seed twice -> identical bytes; another seed -> different bytes, similar size
#   schema        every scenario's output against the schemas, labels, causal chains, IOC windows
#   ward_run      `ward run` reads the output (plain and gzip) with no malformed/late/bad rows
#   memory        peak RSS of --days 1 and --days 30 within 10% (and 2 vs 10 days when writing)
#   scenarios     malformed scenario files give file:line:col errors and exit 2, never a crash
set -uo pipefail
ward=$1 src=$2 check=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
schema=$src/rules/schemas/source/sentinel-tables.json
tv=$src/rules/schemas/token_validation.ward
fails=0
bad() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
sim() { "$ward" simulate -q "$@"; }

case $check in
determinism)
  sim --scenario storm0558 --users 50 --days 3 --seed 7 --out "$tmp/a" || bad "simulate a"
  sim --scenario storm0558 --users 50 --days 3 --seed 7 --out "$tmp/b" || bad "simulate b"
  sim --scenario storm0558 --users 50 --days 3 --seed 8 --out "$tmp/c" || bad "simulate c"
  diff -r "$tmp/a" "$tmp/b" >/dev/null || bad "same seed gave different output"
  for f in "$tmp"/a/*.jsonl; do
    cmp -s "$f" "$tmp/c/$(basename "$f")" && bad "seed 8 gave the same $(basename "$f") as seed 7"
  done
  a=$(cat "$tmp"/a/*.jsonl | wc -l) c=$(cat "$tmp"/c/*.jsonl | wc -l)
  # different traffic, same statistics: row counts within 25%
  [ $((a * 4)) -gt $((c * 3)) ] && [ $((c * 4)) -gt $((a * 3)) ] || bad "row counts differ too much: $a vs $c"
  # the tenant's own signing keys (its JWKS) are the scenario's, not the seed's: every seed's
  # tenant-issued tokens carry the kids of tenant.signing_kids
  kids_of() { node -e '
    const rows = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map(JSON.parse);
    console.log([...new Set(rows.filter((r) => r.KeySource === "tenant").map((r) => r.TokenKid))].sort().join(" "));' "$1"; }
  for d in a c; do
    k=$(kids_of "$tmp/$d/AppTokenValidation_CL.jsonl")
    [ "$k" = "OnL78xcJ8bPCjkW60e8Ec0elf20 PlDErPiFuSd7LnAHap8eMItjNDg" ] || bad "tenant signing kids of run $d: '$k'"
  done
  # gzip output is the same bytes once decompressed
  sim --scenario storm0558 --users 50 --days 3 --seed 7 --out "$tmp/g" --gzip || bad "simulate gzip"
  for f in "$tmp"/a/*.jsonl; do
    zcat "$tmp/g/$(basename "$f").gz" | cmp -s - "$f" || bad "gzip $(basename "$f") differs"
  done
  ;;
schema)
  for s in benign storm0558 storm0558-stealthy storm0558-loud; do
    flag=--expect-malicious
    [ $s = benign ] && flag=
    # Monday to Wednesday before the mitigations; the long run below covers those.
    sim --scenario $s --users 20 --days 3 --seed 3 --start 2023-06-19 --out "$tmp/$s" || { bad "simulate $s"; continue; }
    node "$src/tests/sim/check.js" "$schema" "$tv" "$tmp/$s" $flag || bad "check $s"
  done
  # A 16-day run across every mitigation date: steps D, E, F and G all present.
  # (storm0558 without the journaling mailbox, whose 1,000 records a day would dominate a small run)
  { cat "$src/simulator/scenarios/storm0558.yaml"; printf 'benign:\n  throttled_mailboxes: 0\n'; } >"$tmp/long.yaml"
  sim --scenario "$tmp/long.yaml" --users 20 --days 16 --seed 5 --start 2023-06-21 --out "$tmp/long" || bad "simulate long"
  node "$src/tests/sim/check.js" "$schema" "$tv" "$tmp/long" --expect-malicious || bad "check long"
  for step in D E F G; do
    grep -q "\"step\":\"$step\"" "$tmp/long/labels/labels.jsonl" || bad "no step $step events across the mitigation dates"
  done
  grep -q '"ValidationResult":"Rejected"' "$tmp/long/AppTokenValidation_CL.jsonl" || bad "no rejected forged tokens after the key left the JWKS"
  grep -q '"ResultType":"50126"' "$tmp/long/SigninLogs.jsonl" || bad "no phishing sign-in attempts after mitigation"
  # The mitigation dates at the relying party (storm0558.md §1, MSTI-0714): forged tokens naming
  # personal accounts appear at the partner app only from forged_blocked (06-27) to before
  # consumer_blocked (07-03), accepted before key_removed (06-29) and rejected from it; moving
  # consumer_blocked earlier (--set) ends them earlier.
  rp_window() {  # dir, consumer_blocked: prints "accepted rejected"
    node -e '
      const fs = require("fs"), [dir, blocked] = process.argv.slice(1);
      const rows = fs.readFileSync(dir + "/AppTokenValidation_CL.jsonl", "utf8").split("\n").filter(Boolean).map(JSON.parse);
      const labels = fs.readFileSync(dir + "/labels/labels.jsonl", "utf8").split("\n").filter(Boolean).map(JSON.parse)
        .filter((l) => l.table === "AppTokenValidation_CL");
      let acc = 0, rej = 0, bad = [];
      for (const l of labels) {
        const r = rows[l.line - 1];
        if (l.truth !== "malicious" || r.KeySource !== "consumers") continue;
        const day = r.TimeGenerated.slice(0, 10);
        if (day < "2023-06-27" || day >= blocked) bad.push(`${day}: consumer forged token outside 2023-06-27..${blocked}`);
        if ((day < "2023-06-29") !== (r.ValidationResult === "Accepted")) bad.push(`${day}: ${r.ValidationResult}`);
        if (l.step !== "G") bad.push(`step ${l.step}`);
        if (r.ValidationResult === "Accepted") acc++; else rej++;
      }
      if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
      console.log(acc + " " + rej);
    ' "$1" "$2"
  }
  read -r acc rej < <(rp_window "$tmp/long" 2023-07-03) || bad "consumer forged tokens outside their window"
  [ "${acc:-0}" -gt 0 ] && [ "${rej:-0}" -gt 0 ] || bad "consumer forged tokens: want some accepted and some rejected, got ${acc:-?} ${rej:-?}"
  sim --scenario "$tmp/long.yaml" --set campaign.mitigation.consumer_blocked=2023-06-29 --users 20 --days 16 --seed 5 --start 2023-06-21 \
    --out "$tmp/early" || bad "simulate early consumer block"
  read -r acc2 rej2 < <(rp_window "$tmp/early" 2023-06-29) || bad "consumer forged tokens after an earlier consumer_blocked"
  [ "${rej2:-1}" -eq 0 ] && [ "${acc2:-0}" -eq "${acc:-0}" ] || bad "consumer_blocked 06-29: want ${acc:-?} accepted and none rejected, got ${acc2:-?} ${rej2:-?}"
  # fresh infrastructure in the VPN exit range the tenant's own VPN users share (M247, like the
  # published SoftEther nodes): every malicious row says fresh-vpn and comes from that range, where
  # benign rows come from too
  sim --scenario storm0558 --set campaign.infrastructure=fresh --set campaign.fresh_network=vpn --set benign.vpn_share=0.2 \
    --users 50 --days 4 --seed 3 --out "$tmp/fv" || bad "simulate fresh vpn"
  node -e '
    const fs = require("fs"), dir = process.argv[1];
    const rows = fs.readFileSync(dir + "/OfficeActivity.jsonl", "utf8").split("\n").filter(Boolean).map(JSON.parse);
    const labels = fs.readFileSync(dir + "/labels/labels.jsonl", "utf8").split("\n").filter(Boolean).map(JSON.parse);
    const bad = labels.filter((l) => l.truth === "malicious" && l.infra !== "fresh-vpn");
    if (bad.length) { console.error(bad.length + " malicious rows not fresh-vpn, e.g. " + JSON.stringify(bad[0])); process.exit(1); }
    let mal = 0, ben = 0;
    for (const l of labels.filter((l) => l.table === "OfficeActivity")) {
      const ip = rows[l.line - 1].ClientIP;
      if (l.truth === "malicious") { if (!ip.startsWith("198.51.100.")) { console.error("actor outside the VPN range: " + ip); process.exit(1); } mal++; }
      else if (ip.startsWith("198.51.100.")) ben++;
    }
    if (!mal || !ben) { console.error(`want actor and benign rows in the VPN range, got ${mal} and ${ben}`); process.exit(1); }
  ' "$tmp/fv" || bad "fresh_network=vpn"
  # benign: no malicious labels at all
  grep -q '"truth":"malicious"' "$tmp/benign/labels/labels.jsonl" && bad "benign scenario has malicious labels"
  ;;
ward_run)
  sim --scenario storm0558 --users 50 --days 3 --seed 2 --out "$tmp/p" || bad "simulate"
  sim --scenario storm0558 --users 50 --days 3 --seed 2 --out "$tmp/z" --gzip || bad "simulate gzip"
  for d in p z; do
    "$ward" run -q --rules "$src"/examples/*.ward --events "$tmp"/$d/*.jsonl* -o "$tmp/$d.alerts" --summary-json "$tmp/$d.json" ||
      bad "ward run $d"
    node -e '
      const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      const rows = Number(process.argv[2]);
      const problems = ["malformed", "no_time", "bad_values", "late"].filter((k) => s[k] !== 0);
      if (problems.length) { console.error("problems:", problems.map((k) => k + "=" + s[k]).join(" ")); process.exit(1); }
      if (s.lines !== rows) { console.error("read " + s.lines + " lines of " + rows); process.exit(1); }
    ' "$tmp/$d.json" "$(cat "$tmp"/p/*.jsonl | wc -l)" || bad "ward run summary for $d"
  done
  cmp -s "$tmp/p.alerts" "$tmp/z.alerts" || true  # alert event refs name the files; counts must agree:
  [ "$(wc -l <"$tmp/p.alerts")" = "$(wc -l <"$tmp/z.alerts")" ] || bad "plain and gzip runs gave different alert counts"
  ;;
memory)
  # Under AddressSanitizer freed memory sits in a quarantine (256 MB by default) and RSS tracks
  # the total allocated instead of the live heap: turn it off for this check (no-op otherwise).
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
  # --discard: the same generation and rendering, without writing a gigabyte to disk.
  r1=$(sim --scenario storm0558 --users 200 --days 1 --seed 1 --discard --stats | node -pe 'JSON.parse(require("fs").readFileSync(0)).peak_rss_kb')
  r30=$(sim --scenario storm0558 --users 200 --days 30 --seed 1 --discard --stats | node -pe 'JSON.parse(require("fs").readFileSync(0)).peak_rss_kb')
  # and writing (buffers are fixed): 2 vs 10 days of a small tenant
  w2=$(sim --scenario storm0558 --users 30 --days 2 --seed 1 --out "$tmp/w2" --stats | node -pe 'JSON.parse(require("fs").readFileSync(0)).peak_rss_kb')
  w10=$(sim --scenario storm0558 --users 30 --days 10 --seed 1 --out "$tmp/w10" --stats | node -pe 'JSON.parse(require("fs").readFileSync(0)).peak_rss_kb')
  echo "peak RSS writing: 2 days ${w2} kB, 10 days ${w10} kB"
  [ "$w10" -le $((w2 * 5 / 4)) ] || bad "memory grows with --days when writing: ${w2} kB vs ${w10} kB"
  # 1 day and 30 days: 23 times the rows, the same memory within 10%
  echo "peak RSS: 1 day ${r1} kB, 30 days ${r30} kB"
  [ "$r30" -le $((r1 * 11 / 10)) ] || bad "memory grows with --days: ${r1} kB for 1 day, ${r30} kB for 30"
  ;;
scenarios)
  mk() { printf '%b' "$2" >"$tmp/$1.yaml"; }
  expect_err() {  # file, pattern
    out=$("$ward" simulate --scenario "$tmp/$1.yaml" --users 10 --days 1 --out "$tmp/o_$1" 2>&1)
    rc=$?
    [ $rc -eq 2 ] || bad "$1: exit $rc, want 2 ($out)"
    echo "$out" | grep -Eq "$2" || bad "$1: message '$out' does not match /$2/"
  }
  mk unknown_key 'name: x\ncampaign:\n  enabled: true\n  victim: 3\n'
  expect_err unknown_key "unknown_key.yaml:4:3: error: unknown key .victim. in .campaign."
  mk bad_number 'name: x\nbenign:\n  owa_share: lots\n'
  expect_err bad_number "bad_number.yaml:3:14: error: expected a number"
  mk out_of_range 'campaign:\n  victims: 0\n'
  expect_err out_of_range "out_of_range.yaml:2:12: error: value 0 out of range"
  mk bad_enum 'campaign:\n  infrastructure: cloud\n'
  expect_err bad_enum "bad_enum.yaml:2:19: error: .cloud. is not one of: ioc, fresh, mixed"
  mk bad_date 'start: 2023-02-30\n'
  expect_err bad_date "bad_date.yaml:1:8: error: .2023-02-30. is not a date"
  mk bad_yaml 'name: [unclosed\n'
  expect_err bad_yaml "bad_yaml.yaml:[0-9]+:[0-9]+: error:"
  mk not_map '- a\n- b\n'
  expect_err not_map "not_map.yaml:1:1: error: .scenario. must be a mapping"
  mk bad_list 'campaign:\n  user_agents: []\n'
  expect_err bad_list "bad_list.yaml:2:16: error: expected at least one string"
  mk hours 'campaign:\n  hours_start: 9\n  hours_end: 3\n'
  expect_err hours "hours.yaml:2:3: error: campaign.hours_end must be after hours_start"
  mk bad_kid 'tenant:\n  signing_kids: [abc, "a/b"]\n'
  expect_err bad_kid "bad_kid.yaml:2:23: error: .a/b. is not a key id"
  mk bad_domain 'tenant:\n  domain: con toso.example\n'
  expect_err bad_domain "bad_domain.yaml:2:11: error: .con toso.example. is not a domain name"
  printf 'tenant:\n  org: Contoso "Intl"\n' >"$tmp/bad_org.yaml"
  expect_err bad_org "bad_org.yaml:2:8: error: the organisation's name may not contain quotes"
  : >"$tmp/empty.yaml"
  expect_err empty "empty.yaml: error: empty scenario file"
  out=$("$ward" simulate --scenario no-such-scenario --users 10 --days 1 --out "$tmp/o" 2>&1)
  [ $? -eq 2 ] && echo "$out" | grep -q "no scenario .no-such-scenario." || bad "unknown scenario name: $out"
  out=$("$ward" simulate --scenario storm0558 --users 5 --days 1 --out "$tmp/o" 2>&1)
  [ $? -eq 2 ] && echo "$out" | grep -q -- "--users must be" || bad "--users 5: $out"
  ;;
coverage)
  # A hand-made trace (tests/sim/coverage): 2 forged-token reads (F), 1 forged token at the
  # relying party (D), 2 benign reads, one of them with no sign-in. Worked out by hand:
  # offhours_ioc_access catches the 08:00 IOC read only (10:30 is outside 00-09 UTC);
  # mail_read_without_signin alerts on both IOC reads and on carol's benign read (1 FP in a
  # 1,000-user, 1-day trace: 1.0 per 1k users per day); no rule reads AppTokenValidation_CL.
  "$ward" coverage --rules "$src/examples/offhours_ioc_access.ward" "$src/examples/mail_read_without_signin.ward" \
    --events "$src/tests/sim/coverage" --json "$tmp/cov.json" >"$tmp/cov.txt" || bad "coverage exit"
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const want = [
      ["steps.F.events", 2], ["steps.F.caught", 2], ["steps.F.recall", 1], ["steps.F.detected", true], ["steps.F.time_to_detect_s", 0],
      ["steps.D.events", 1], ["steps.D.detected", false], ["steps.E.events", 0],
      ["rules.offhours_ioc_access.alerts", 1], ["rules.offhours_ioc_access.false_positive_alerts", 0],
      ["rules.offhours_ioc_access.steps.F.recall", 0.5],
      ["rules.mail_read_without_signin.alerts", 3], ["rules.mail_read_without_signin.true_positive_alerts", 2],
      ["rules.mail_read_without_signin.false_positive_alerts", 1], ["rules.mail_read_without_signin.fp_per_1k_users_per_day", 1],
      ["users", 1000], ["days", 1], ["malicious", 3], ["events", 6],
    ];
    let bad = 0;
    for (const [path, v] of want) {
      const got = path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), j);
      if (got !== v) { console.error(`${path}: got ${JSON.stringify(got)}, want ${JSON.stringify(v)}`); bad++; }
    }
    process.exit(bad ? 1 : 0);
  ' "$tmp/cov.json" || bad "coverage numbers differ from the hand-computed ones"
  grep -q "^F .*2 .*yes .*100.0%" "$tmp/cov.txt" || bad "text report: $(cat "$tmp/cov.txt")"
  # End to end on a simulated trace: runs, reports every step.
  "$ward" coverage --rules "$src"/examples/*.ward --scenario storm0558 --users 30 --days 3 --start 2023-06-19 --json "$tmp/c2.json" >/dev/null ||
    bad "coverage --scenario"
  node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1])); if (!(j.steps.F.events > 0 && j.malicious > 0)) process.exit(1)' "$tmp/c2.json" ||
    bad "coverage --scenario found no campaign events"
  # --sweep: the IOC-only rule must lose the campaign when the actor uses fresh infrastructure.
  "$ward" coverage --rules "$src/examples/offhours_ioc_access.ward" --scenario storm0558 --users 20 --days 3 --start 2023-06-19 \
    --sweep campaign.infrastructure=ioc,fresh >"$tmp/sweep.txt" || bad "coverage --sweep"
  awk '/^offhours_ioc_access/ && /FP\)/ { ioc = $2; fresh = $5 } END { exit !(ioc > 0 && fresh == 0) }' "$tmp/sweep.txt" ||
    bad "sweep: offhours_ioc_access should catch ioc and miss fresh: $(grep '^offhours' "$tmp/sweep.txt" | tail -1)"
  "$ward" coverage --rules "$src/examples/offhours_ioc_access.ward" --scenario storm0558 --users 10 --days 1 --set campaign.victims=lots >/dev/null 2>"$tmp/set.err"
  [ $? -eq 2 ] && grep -q "(--set): error: expected an integer" "$tmp/set.err" || bad "bad --set value: $(cat "$tmp/set.err")"
  "$ward" coverage --rules "$src/examples/offhours_ioc_access.ward" >/dev/null 2>&1
  [ $? -eq 2 ] || bad "coverage with neither --scenario nor --events should exit 2"
  ;;
*) echo "unknown check $check" >&2; exit 2 ;;
esac
[ $fails -eq 0 ] && echo "sim $check: ok"
exit $((fails > 0))
