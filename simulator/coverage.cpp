// `ward coverage`: replay a labelled trace (simulated now, or an existing DIR + labels)
// through the VM and score each rule and each campaign step against the ground truth.
#include "simulator/coverage.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ast/value.h"
#include "runtime/engine.h"
#include "simulator/coverage_report.h"
#include "simulator/replay.h"
#include "simulator/output.h"
#include "simulator/scenario.h"
#include "simulator/simulate.h"

namespace ward::sim {

namespace fs = std::filesystem;

struct CoverageCli {
  CLI::App* cmd = nullptr;
  std::vector<std::string> rules;
  std::string scenario, events, labels, json, keep, start, sweep;
  std::vector<std::string> set;
  std::string navigator, html, markdown;
  int users = 200, days = 7;
  long long seed = 1;
};

CoverageCli* add_coverage(CLI::App& app) {
  static std::vector<std::unique_ptr<CoverageCli>> keep;
  keep.push_back(std::make_unique<CoverageCli>());
  CoverageCli* c = keep.back().get();
  c->cmd = app.add_subcommand("coverage", "replay a labelled trace through the VM: recall, time to detect and false positives per step and rule");
  c->cmd->add_option("--rules,-r", c->rules, "a bundle, or rule files")->required()->check(CLI::ExistingFile);
  c->cmd->add_option("--scenario,-s", c->scenario, "simulate this scenario (name or YAML file) and replay it");
  c->cmd->add_option("--set", c->set, "with --scenario: override a knob, e.g. campaign.victims=3 (repeatable)");
  c->cmd->add_option("--sweep", c->sweep, "with --scenario: rerun for each value, e.g. campaign.infrastructure=ioc,fresh,mixed");
  c->cmd->add_option("--users,-u", c->users, "with --scenario: users (default 200)");
  c->cmd->add_option("--days,-d", c->days, "with --scenario: days (default 7)");
  c->cmd->add_option("--seed", c->seed, "with --scenario: seed (default 1)");
  c->cmd->add_option("--start", c->start, "with --scenario: first day YYYY-MM-DD");
  c->cmd->add_option("--keep", c->keep, "with --scenario: write the trace here and keep it (default: a temporary directory)");
  c->cmd->add_option("--events,-e", c->events, "an existing trace directory (from `ward simulate`)");
  c->cmd->add_option("--labels", c->labels, "its labels (default EVENTS/labels/labels.jsonl)");
  c->cmd->add_option("--json", c->json, "also write the report as JSON to this file");
  c->cmd->add_option("--navigator", c->navigator, "also write an ATT&CK Navigator layer (format 4.5) scored by recall per technique");
  c->cmd->add_option("--html", c->html, "also write a self-contained HTML report with Graphviz SVG graphs");
  c->cmd->add_option("--markdown", c->markdown, "also write the step x rule matrix as Markdown (docs/coverage.md is made of these)");
  return c;
}

bool coverage_selected(const CoverageCli* c) { return c && c->cmd && c->cmd->parsed(); }

namespace {

void json_str(std::string& out, std::string_view s) { json_escape(out, s); }

struct Summary {
  std::array<std::uint64_t, kStepCount> events{}, caught{};
  std::vector<std::pair<std::string, std::uint64_t>> rule_tp;  // rule, true-positive alerts
  std::vector<double> rule_fp;                                 // per 1k users per day
};

double recall(std::uint64_t caught, std::uint64_t events) {
  return events ? static_cast<double>(caught) / static_cast<double>(events) : 0.0;
}

void print_text(const CoverageReport& rep, const Replay& rp, std::size_t nrules) {
  std::cout << fmt::format("coverage: {}, {} users x {} days, seed {}: {} events ({} malicious), {} rule(s)\n\n",
                           rep.scenario, rep.users, rep.days, rep.seed, rep.events, rep.malicious, nrules);
  std::cout << fmt::format("{:<5} {:<62} {:>7} {:>9} {:>8} {:>14}\n", "step", "", "events", "detected", "recall", "time to detect");
  for (std::size_t i = 0; i < kStepCount; ++i) {
    const auto& st = rep.steps[i];
    if (i == 0) {
      std::string src;
      for (auto& [k, n] : rep.infra) src += fmt::format("{}{} {}", src.empty() ? "" : ", ", n, k);
      std::cout << fmt::format("{:<5} {:<62}\n      (malicious rows by source: {})\n", st.id, st.what, src.empty() ? "none" : src);
      continue;
    }
    bool det = st.caught > 0;
    std::cout << fmt::format("{:<5} {:<62} {:>7} {:>9} {:>7.1f}% {:>14}\n", st.id, st.what, st.events,
                             st.events == 0 ? "-" : det ? "yes" : "NO", 100.0 * recall(st.caught, st.events),
                             det ? short_duration(st.ttd_s) : "-");
  }
  std::cout << fmt::format("\n{:<34} {:>7} {:>6} {:>6} {:>13}  {}\n", "rule", "alerts", "true", "false", "FP/1k users/d", "steps caught (recall, time to detect)");
  for (const auto& ru : rep.rules) {
    std::string steps;
    for (std::size_t i = 1; i < kStepCount; ++i)
      if (ru.steps[i].caught)
        steps += fmt::format("{}{} {:.0f}% {}", steps.empty() ? "" : ", ", step_name(i),
                             100.0 * recall(ru.steps[i].caught, rep.steps[i].events), short_duration(ru.steps[i].ttd_s));
    std::cout << fmt::format("{:<34} {:>7} {:>6} {:>6} {:>13.2f}  {}\n", ru.name, ru.alerts, ru.tp, ru.fp, ru.fp_rate, steps.empty() ? "-" : steps);
  }
  if (rp.truncated)
    std::cout << fmt::format("\nnote: some alerts name more than {} events; recall counts the events alerts name.\n", vm::kMaxAlertEvents);
  if (rp.run.input.malformed || rp.run.input.late)
    std::cout << fmt::format("\nwarning: {} malformed and {} late line(s) in the trace\n", rp.run.input.malformed, rp.run.input.late);
}

std::string report_json(const CoverageReport& rep, std::uint64_t labels) {
  std::string j = "{\"scenario\":";
  json_str(j, rep.scenario);
  j += fmt::format(",\"users\":{},\"days\":{},\"seed\":{},\"events\":{},\"labels\":{},\"malicious\":{},\"steps\":{{", rep.users, rep.days,
                   rep.seed, rep.events, labels, rep.malicious);
  for (std::size_t i = 1; i < kStepCount; ++i) {
    const auto& st = rep.steps[i];
    bool det = st.caught > 0;
    j += fmt::format("{}\"{}\":{{\"events\":{},\"detected\":{},\"caught\":{},\"recall\":{:.4f},\"time_to_detect_s\":{}}}", i > 1 ? "," : "",
                     st.id, st.events, det ? "true" : "false", st.caught, recall(st.caught, st.events),
                     det ? std::to_string(st.ttd_s) : "null");
  }
  j += "},\"rules\":{";
  bool first_rule = true;
  for (const auto& ru : rep.rules) {
    if (!first_rule) j += ',';
    first_rule = false;
    json_str(j, ru.name);
    j += fmt::format(":{{\"alerts\":{},\"true_positive_alerts\":{},\"false_positive_alerts\":{},\"fp_per_1k_users_per_day\":{:.4f},\"steps\":{{",
                     ru.alerts, ru.tp, ru.fp, ru.fp_rate);
    bool first = true;
    for (std::size_t i = 1; i < kStepCount; ++i) {
      if (!ru.steps[i].caught) continue;
      j += fmt::format("{}\"{}\":{{\"caught\":{},\"recall\":{:.4f},\"time_to_detect_s\":{}}}", first ? "" : ",", step_name(i), ru.steps[i].caught,
                       recall(ru.steps[i].caught, rep.steps[i].events), ru.steps[i].ttd_s);
      first = false;
    }
    j += "}}";
  }
  j += "}}\n";
  return j;
}

std::string pct(std::uint64_t caught, std::uint64_t events) { return events ? fmt::format("{:.1f}%", 100.0 * recall(caught, events)) : "-"; }

// Markdown for docs/coverage.md: the steps, then the rule x step matrix (recall and time to detect).
std::string report_markdown(const CoverageReport& rep) {
  std::string md = fmt::format("### `{}`: {} users x {} days, seed {}\n\n{} events, {} of them malicious", rep.scenario, rep.users, rep.days,
                               rep.seed, rep.events, rep.malicious);
  std::string src;
  for (auto& [k, n] : rep.infra) src += fmt::format("{}{} {}", src.empty() ? "" : ", ", n, k);
  md += src.empty() ? ".\n\n" : fmt::format(" (by source infrastructure: {}).\n\n", src);
  md += "| step | what | events | detected | recall | time to detect | caught by |\n|---|---|---:|---|---:|---:|---|\n";
  for (std::size_t i = 1; i < kStepCount; ++i) {
    const auto& st = rep.steps[i];
    std::string by;
    for (const auto& ru : rep.rules)
      if (ru.steps[i].caught) by += fmt::format("{}`{}`", by.empty() ? "" : ", ", ru.name);
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} |\n", st.id, st.what, st.events, st.events == 0 ? "no rows" : st.caught ? "yes" : "**no**",
                      pct(st.caught, st.events), st.caught ? short_duration(st.ttd_s) : "-", by.empty() ? "-" : by);
  }
  md += "\n| rule | alerts | true | false | FP per 1k users per day |";
  for (std::size_t i = 1; i < kStepCount; ++i) md += fmt::format(" {} |", step_name(i));
  md += "\n|---|---:|---:|---:|---:|";
  for (std::size_t i = 1; i < kStepCount; ++i) md += "---|";
  md += "\n";
  double fp = 0;
  for (const auto& ru : rep.rules) {
    fp += ru.fp_rate;
    md += fmt::format("| `{}` | {} | {} | {} | {:.2f} |", ru.name, ru.alerts, ru.tp, ru.fp, ru.fp_rate);
    for (std::size_t i = 1; i < kStepCount; ++i)
      md += ru.steps[i].caught ? fmt::format(" {} in {} |", pct(ru.steps[i].caught, rep.steps[i].events), short_duration(ru.steps[i].ttd_s)) : " |";
    md += "\n";
  }
  md += fmt::format("| **all rules** | | | | **{:.2f}** |", fp);
  for (std::size_t i = 1; i < kStepCount; ++i) md += rep.steps[i].caught ? fmt::format(" **{}** |", pct(rep.steps[i].caught, rep.steps[i].events)) : " |";
  md += "\n\nA cell is the rule's recall over the step's rows and the time from the step's first row to the rule's first alert on it.\n";
  return md;
}

int replay_one(const CoverageCli* c, const vm::Image* image, const std::vector<std::string>& overrides, Summary& sum) {
  TraceSource src;
  src.scenario = c->scenario;
  src.overrides = overrides;
  src.users = c->users;
  src.days = c->days;
  src.seed = c->seed;
  src.start = c->start;
  src.keep = c->keep;
  src.events = c->events;
  src.labels = c->labels;
  std::string error;
  int rc = 0;
  auto trace = open_trace(src, error, rc);
  if (!trace) {
    std::cerr << "error: " << error << "\n";
    return rc;
  }
  Replay rp;
  try {
    rp = replay(*image, *trace);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: {}\n", e.what());
    return 2;
  }
  const CoverageReport& rep = rp.report;
  print_text(rep, rp, image->program().rules.size());
  if (!c->json.empty()) {
    std::ofstream f(c->json, std::ios::binary);
    f << report_json(rep, trace->labels);
    if (!f) {
      std::cerr << fmt::format("error: cannot write `{}`\n", c->json);
      return 2;
    }
  }
  if (!c->markdown.empty()) {
    std::ofstream f(c->markdown, std::ios::binary);
    f << report_markdown(rep);
    if (!f) {
      std::cerr << fmt::format("error: cannot write `{}`\n", c->markdown);
      return 2;
    }
  }
  if (!c->navigator.empty() && !write_navigator(rep, c->navigator)) return 2;
  if (!c->html.empty() && !write_html(rep, c->html)) return 2;
  for (std::size_t i = 0; i < kStepCount; ++i) {
    sum.events[i] = rep.steps[i].events;
    sum.caught[i] = rep.steps[i].caught;
  }
  for (const auto& ru : rep.rules) {
    sum.rule_tp.push_back({ru.name, ru.tp});
    sum.rule_fp.push_back(ru.fp_rate);
  }
  return 0;
}

}  // namespace

int run_coverage(const CoverageCli* c, const RuleLoader& load) {
  if (c->scenario.empty() == c->events.empty()) {
    std::cerr << "error: ward coverage needs exactly one of --scenario NAME or --events DIR\n";
    return 2;
  }
  if (!c->sweep.empty() && c->scenario.empty()) {
    std::cerr << "error: --sweep needs --scenario (it simulates each variant)\n";
    return 2;
  }
  int rc = 0;
  auto image = load(c->rules, rc);
  if (!image) return rc ? rc : 2;
  if (c->sweep.empty()) {
    Summary s;
    return replay_one(c, image.get(), c->set, s);
  }
  auto eq = c->sweep.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == c->sweep.size()) {
    std::cerr << "error: --sweep KNOB=a,b,c, e.g. --sweep campaign.infrastructure=ioc,fresh\n";
    return 2;
  }
  std::string knob = c->sweep.substr(0, eq);
  std::vector<std::string> values;
  for (std::size_t at = eq + 1;;) {
    auto comma = c->sweep.find(',', at);
    values.push_back(c->sweep.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  std::vector<Summary> sums;
  for (const auto& v : values) {
    std::cout << fmt::format("==== {}={}\n", knob, v);
    auto ov = c->set;
    ov.push_back(knob + "=" + v);
    Summary s;
    if (int r = replay_one(c, image.get(), ov, s)) return r;
    sums.push_back(std::move(s));
    std::cout << "\n";
  }
  // Where detection breaks: recall per step for each value, and each rule's true positives.
  std::cout << fmt::format("==== sweep {}: recall per step (any rule) and true-positive alerts per rule\n", knob);
  std::cout << fmt::format("{:<34}", knob);
  for (auto& v : values) std::cout << fmt::format(" {:>14}", v);
  std::cout << "\n";
  for (std::size_t i = 1; i < kStepCount; ++i) {
    std::cout << fmt::format("{:<34}", fmt::format("step {} recall", step_name(i)));
    for (auto& s : sums)
      std::cout << fmt::format(" {:>14}", s.events[i] ? fmt::format("{:.0f}%", 100.0 * static_cast<double>(s.caught[i]) / static_cast<double>(s.events[i])) : "-");
    std::cout << "\n";
  }
  for (std::size_t r = 0; !sums.empty() && r < sums[0].rule_tp.size(); ++r) {
    std::cout << fmt::format("{:<34}", sums[0].rule_tp[r].first);
    for (auto& s : sums) std::cout << fmt::format(" {:>14}", fmt::format("{} ({:.0f} FP)", s.rule_tp[r].second, s.rule_fp[r]));
    std::cout << "\n";
  }
  std::cout << "(FP: false positives per 1,000 users per day)\n";
  return 0;
}

}  // namespace ward::sim
