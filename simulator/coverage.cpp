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
  std::string navigator, html;
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
  return c;
}

bool coverage_selected(const CoverageCli* c) { return c && c->cmd && c->cmd->parsed(); }

namespace {

struct StepInfo {
  const char* step;
  const char* what;
};
const StepInfo kSteps[] = {
    {"C", "infrastructure (no rows of its own: seen as the source IP of D-G)"},
    {"D", "forged token presented to an enterprise app"},
    {"E", "OWA token minting / renewal with no sign-in"},
    {"F", "mail collection through OWA REST"},
    {"G", "after mitigation: failed attempts, phishing"},
};

struct Mal {
  std::uint8_t step;  // index into kSteps
  std::uint8_t tech;  // index into techs
  std::int64_t time;  // ticks
};

std::int64_t parse_ticks(std::string_view iso) {
  // 2023-06-15T00:00:40.000Z
  auto day = parse_date(iso.substr(0, 10));
  if (!day || iso.size() < 19) return 0;
  auto num = [&](std::size_t at) { return (iso[at] - '0') * 10 + (iso[at + 1] - '0'); };
  std::int64_t ms = *day + num(11) * kHour + num(14) * kMinute + num(17) * kSecond;
  if (iso.size() >= 23 && iso[19] == '.') ms += (iso[20] - '0') * 100 + (iso[21] - '0') * 10 + (iso[22] - '0');
  return ms * (kTicksPerSecond / 1000);
}

std::string duration(std::int64_t ticks) {
  if (ticks < 0) return "-";
  std::int64_t s = ticks / kTicksPerSecond;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

void json_str(std::string& out, std::string_view s) { json_escape(out, s); }

struct Summary {
  std::array<std::uint64_t, 5> events{}, caught{};
  std::vector<std::pair<std::string, std::uint64_t>> rule_tp;  // rule, true-positive alerts
  std::vector<double> rule_fp;                                 // per 1k users per day
};

int replay_one(const CoverageCli* c, const vm::Image* image, const std::vector<std::string>& overrides, Summary& sum) {
  std::string dir = c->events;
  std::string tmpdir;
  if (!c->scenario.empty()) {
    Scenario sc;
    try {
      sc = load_scenario(c->scenario, overrides);
    } catch (const std::exception& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
    if (c->keep.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "ward-coverage-XXXXXX").string();
      std::vector<char> buf(tmpl.begin(), tmpl.end());
      buf.push_back(0);
      if (!mkdtemp(buf.data())) {
        std::cerr << "error: cannot create a temporary directory\n";
        return 2;
      }
      tmpdir = dir = buf.data();
    } else {
      dir = c->keep;
    }
    SimOptions opt;
    opt.users = c->users;
    opt.days = c->days;
    opt.seed = static_cast<std::uint64_t>(c->seed);
    opt.out = dir;
    opt.start = c->start;
    try {
      simulate(sc, opt);
    } catch (const std::exception& e) {
      std::cerr << "error: " << e.what() << "\n";
      if (!tmpdir.empty()) fs::remove_all(tmpdir);
      return 2;
    }
  }
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      if (!d.empty()) fs::remove_all(d, ec);
    }
  } cleanup{tmpdir};

  std::string labels_path = c->labels.empty() ? dir + "/labels/labels.jsonl" : c->labels;
  // Trace metadata (users and days scale the false-positive rate).
  std::string scenario_name = c->scenario;
  int users = c->users, days = c->days;
  long long seed = c->seed;
  simdjson::dom::parser parser;
  {
    auto meta = fs::path(labels_path).parent_path() / "meta.json";
    simdjson::dom::element m;
    if (fs::exists(meta) && !parser.load(meta.string()).get(m)) {
      std::string_view s;
      std::int64_t n;
      if (!m["scenario"].get(s)) scenario_name = std::string(s);
      if (!m["users"].get(n)) users = static_cast<int>(n);
      if (!m["days"].get(n)) days = static_cast<int>(n);
      if (!m["seed"].get(n)) seed = n;
    } else if (!c->events.empty()) {
      std::cerr << fmt::format("warning: no {}: assuming --users {} --days {} for the false-positive rate\n", meta.string(), users, days);
    }
  }

  // Event files: DIR/*.jsonl[.gz], sorted, and their tables.
  std::vector<std::string> files;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (e.is_regular_file() && (n.ends_with(".jsonl") || n.ends_with(".jsonl.gz"))) files.push_back(e.path().string());
  }
  if (ec || files.empty()) {
    std::cerr << fmt::format("error: no event files (*.jsonl) in `{}`\n", dir);
    return 2;
  }
  std::sort(files.begin(), files.end());
  std::map<std::string, std::uint32_t> table_of_name;
  std::vector<std::uint32_t> file_table;
  for (auto& f : files) {
    std::string n = fs::path(f).filename().string();
    n = n.substr(0, n.find(".jsonl"));
    file_table.push_back(table_of_name.emplace(n, static_cast<std::uint32_t>(table_of_name.size())).first->second);
  }

  // Labels: keep only the malicious ones (the benign are counted).
  std::unordered_map<std::uint64_t, Mal> mal;  // (table << 40 | line) -> step
  auto key = [](std::uint64_t table, std::uint64_t line) { return table << 40 | line; };
  std::uint64_t labelled = 0, benign = 0;
  std::array<std::uint64_t, 5> step_events{};
  std::array<std::int64_t, 5> step_first{};
  step_first.fill(INT64_MAX);
  std::map<std::string, std::uint64_t> infra;
  std::vector<std::string> techs;  // label techniques, in order of first appearance
  std::vector<std::uint64_t> tech_events;
  std::vector<std::set<std::uint8_t>> tech_steps;
  {
    std::ifstream in(labels_path);
    if (!in) {
      std::cerr << fmt::format("error: cannot read labels `{}`\n", labels_path);
      return 2;
    }
    std::string line;
    std::uint64_t ln = 0;
    while (std::getline(in, line)) {
      ++ln;
      if (line.empty()) continue;
      simdjson::dom::element e;
      if (parser.parse(line).get(e)) {
        std::cerr << fmt::format("error: {}:{}: not JSON\n", labels_path, ln);
        return 2;
      }
      ++labelled;
      std::string_view truth, table, step, when, inf;
      std::int64_t lno = 0;
      if (e["truth"].get(truth) || e["table"].get(table) || e["line"].get(lno)) {
        std::cerr << fmt::format("error: {}:{}: a label needs truth, table and line\n", labels_path, ln);
        return 2;
      }
      if (truth != "malicious") {
        ++benign;
        continue;
      }
      if (e["step"].get(step) || step.size() != 1 || step[0] < 'C' || step[0] > 'G') {
        std::cerr << fmt::format("error: {}:{}: a malicious label needs a step C..G\n", labels_path, ln);
        return 2;
      }
      auto t = table_of_name.find(std::string(table));
      if (t == table_of_name.end()) continue;  // a table whose file is not here
      std::int64_t ticks = e["time"].get(when) ? 0 : parse_ticks(when);
      auto si = static_cast<std::uint8_t>(step[0] - 'C');
      std::string_view tq;
      std::string tname = e["technique"].get(tq) ? std::string("unlabelled") : std::string(tq);
      auto ti = std::find(techs.begin(), techs.end(), tname);
      if (ti == techs.end()) {
        if (techs.size() >= 255) {
          std::cerr << fmt::format("error: {}:{}: more than 255 distinct techniques\n", labels_path, ln);
          return 2;
        }
        ti = techs.insert(techs.end(), tname);
        tech_events.push_back(0);
        tech_steps.emplace_back();
      }
      auto tix = static_cast<std::uint8_t>(ti - techs.begin());
      ++tech_events[tix];
      tech_steps[tix].insert(si);
      mal[key(t->second, static_cast<std::uint64_t>(lno))] = Mal{si, tix, ticks};
      ++step_events[si];
      step_first[si] = std::min(step_first[si], ticks);
      if (!e["infra"].get(inf)) ++infra[std::string(inf)];
    }
  }

  // Replay.
  const auto& prog = image->program();
  std::size_t nrules = prog.rules.size();
  struct RuleScore {
    std::uint64_t alerts = 0, tp = 0, fp = 0;
    std::array<std::uint64_t, 5> caught{};
    std::array<std::int64_t, 5> first{};
  };
  std::vector<RuleScore> score(nrules);
  std::vector<std::vector<std::uint64_t>> rule_tech(nrules, std::vector<std::uint64_t>(techs.size()));
  std::vector<std::uint64_t> tech_caught(techs.size());
  for (auto& s : score) s.first.fill(INT64_MAX);
  std::vector<std::unordered_set<std::uint64_t>> seen(nrules);
  std::unordered_set<std::uint64_t> caught_any;
  std::array<std::uint64_t, 5> step_caught{};
  std::array<std::int64_t, 5> step_alert{};
  step_alert.fill(INT64_MAX);
  bool truncated = false;
  auto sink = [&](const vm::Alert& al) {
    RuleScore& s = score[al.rule];
    ++s.alerts;
    bool any = false;
    if (al.events_total > al.events.size()) truncated = true;
    for (const auto& ev : al.events) {
      auto it = mal.find(key(file_table[ev.file], ev.line));
      if (it == mal.end()) continue;
      any = true;
      std::uint8_t st = it->second.step;
      if (seen[al.rule].insert(it->first).second) {
        ++s.caught[st];
        ++rule_tech[al.rule][it->second.tech];
      }
      s.first[st] = std::min(s.first[st], al.time);
      if (caught_any.insert(it->first).second) {
        ++step_caught[st];
        ++tech_caught[it->second.tech];
      }
      step_alert[st] = std::min(step_alert[st], al.time);
    }
    ++(any ? s.tp : s.fp);
  };
  vm::RunOptions ro;
  vm::RunResult res;
  try {
    res = vm::run(*image, files, ro, sink);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: {}\n", e.what());
    return 2;
  }
  std::uint64_t malicious = 0;
  for (auto n : step_events) malicious += n;
  double scale = (users / 1000.0) * days;

  // ---- text
  std::cout << fmt::format("coverage: {}, {} users x {} days, seed {}: {} events ({} malicious), {} rule(s)\n\n",
                           scenario_name.empty() ? dir : scenario_name, users, days, seed, res.input.lines, malicious, nrules);
  std::cout << fmt::format("{:<5} {:<62} {:>7} {:>9} {:>8} {:>14}\n", "step", "", "events", "detected", "recall", "time to detect");
  for (std::size_t i = 0; i < 5; ++i) {
    if (i == 0) {
      std::string src;
      for (auto& [k, n] : infra) src += fmt::format("{}{} {}", src.empty() ? "" : ", ", n, k);
      std::cout << fmt::format("{:<5} {:<62}\n      (malicious rows by source: {})\n", kSteps[i].step, kSteps[i].what, src.empty() ? "none" : src);
      continue;
    }
    bool det = step_caught[i] > 0;
    std::cout << fmt::format("{:<5} {:<62} {:>7} {:>9} {:>7.1f}% {:>14}\n", kSteps[i].step, kSteps[i].what, step_events[i],
                             step_events[i] == 0 ? "-" : det ? "yes" : "NO",
                             step_events[i] ? 100.0 * static_cast<double>(step_caught[i]) / static_cast<double>(step_events[i]) : 0.0,
                             det ? duration(step_alert[i] - step_first[i]) : "-");
  }
  std::cout << fmt::format("\n{:<34} {:>7} {:>6} {:>6} {:>13}  {}\n", "rule", "alerts", "true", "false", "FP/1k users/d", "steps caught (recall, time to detect)");
  for (std::size_t r = 0; r < nrules; ++r) {
    const RuleScore& s = score[r];
    std::string steps;
    for (std::size_t i = 1; i < 5; ++i)
      if (s.caught[i])
        steps += fmt::format("{}{} {:.0f}% {}", steps.empty() ? "" : ", ", kSteps[i].step,
                             100.0 * static_cast<double>(s.caught[i]) / static_cast<double>(step_events[i]), duration(s.first[i] - step_first[i]));
    std::cout << fmt::format("{:<34} {:>7} {:>6} {:>6} {:>13.2f}  {}\n", prog.strings[prog.rules[r].name], s.alerts, s.tp, s.fp,
                             scale > 0 ? static_cast<double>(s.fp) / scale : 0.0, steps.empty() ? "-" : steps);
  }
  if (truncated)
    std::cout << fmt::format("\nnote: some alerts name more than {} events; recall counts the events alerts name.\n", vm::kMaxAlertEvents);
  if (res.input.malformed || res.input.late)
    std::cout << fmt::format("\nwarning: {} malformed and {} late line(s) in the trace\n", res.input.malformed, res.input.late);

  // ---- JSON
  if (!c->json.empty()) {
    std::string j = "{\"scenario\":";
    json_str(j, scenario_name);
    j += fmt::format(",\"users\":{},\"days\":{},\"seed\":{},\"events\":{},\"labels\":{},\"malicious\":{},\"steps\":{{", users, days, seed,
                     res.input.lines, labelled, malicious);
    for (std::size_t i = 1; i < 5; ++i) {
      bool det = step_caught[i] > 0;
      j += fmt::format("{}\"{}\":{{\"events\":{},\"detected\":{},\"caught\":{},\"recall\":{:.4f},\"time_to_detect_s\":{}}}", i > 1 ? "," : "",
                       kSteps[i].step, step_events[i], det ? "true" : "false", step_caught[i],
                       step_events[i] ? static_cast<double>(step_caught[i]) / static_cast<double>(step_events[i]) : 0.0,
                       det ? std::to_string((step_alert[i] - step_first[i]) / kTicksPerSecond) : "null");
    }
    j += "},\"rules\":{";
    for (std::size_t r = 0; r < nrules; ++r) {
      const RuleScore& s = score[r];
      if (r) j += ',';
      json_str(j, prog.strings[prog.rules[r].name]);
      j += fmt::format(":{{\"alerts\":{},\"true_positive_alerts\":{},\"false_positive_alerts\":{},\"fp_per_1k_users_per_day\":{:.4f},\"steps\":{{",
                       s.alerts, s.tp, s.fp, scale > 0 ? static_cast<double>(s.fp) / scale : 0.0);
      bool first = true;
      for (std::size_t i = 1; i < 5; ++i) {
        if (!s.caught[i]) continue;
        j += fmt::format("{}\"{}\":{{\"caught\":{},\"recall\":{:.4f},\"time_to_detect_s\":{}}}", first ? "" : ",", kSteps[i].step, s.caught[i],
                         static_cast<double>(s.caught[i]) / static_cast<double>(step_events[i]), (s.first[i] - step_first[i]) / kTicksPerSecond);
        first = false;
      }
      j += "}}";
    }
    j += "}}\n";
    std::ofstream f(c->json, std::ios::binary);
    f << j;
    if (!f) {
      std::cerr << fmt::format("error: cannot write `{}`\n", c->json);
      return 2;
    }
  }
  // ---- Navigator layer and HTML report
  if (!c->navigator.empty() || !c->html.empty()) {
    CoverageReport rep;
    rep.scenario = scenario_name.empty() ? dir : scenario_name;
    rep.users = users;
    rep.days = days;
    rep.seed = seed;
    rep.events = res.input.lines;
    rep.malicious = malicious;
    rep.infra = infra;
    for (std::size_t i = 0; i < 5; ++i) {
      CoverageReport::Step st{kSteps[i].step, kSteps[i].what, step_events[i], step_caught[i],
                              step_caught[i] ? (step_alert[i] - step_first[i]) / kTicksPerSecond : -1, {}};
      for (std::size_t t = 0; t < techs.size(); ++t)
        if (tech_steps[t].count(static_cast<std::uint8_t>(i))) st.techniques.push_back(techs[t]);
      rep.steps.push_back(std::move(st));
    }
    for (std::size_t r = 0; r < nrules; ++r) {
      const RuleScore& s = score[r];
      CoverageReport::Rule ru;
      ru.name = prog.strings[prog.rules[r].name];
      ru.title = prog.strings[prog.rules[r].title];
      ru.alerts = s.alerts;
      ru.tp = s.tp;
      ru.fp = s.fp;
      ru.fp_rate = scale > 0 ? static_cast<double>(s.fp) / scale : 0.0;
      for (std::size_t i = 0; i < 5; ++i)
        ru.steps[i] = {s.caught[i], s.caught[i] ? (s.first[i] - step_first[i]) / kTicksPerSecond : -1};
      rep.rules.push_back(std::move(ru));
    }
    for (std::size_t t = 0; t < techs.size(); ++t) {
      CoverageReport::Technique te{techs[t], tech_events[t], tech_caught[t], {}, {}};
      for (auto si : tech_steps[t]) te.steps.push_back(kSteps[si].step);
      for (std::size_t r = 0; r < nrules; ++r)
        if (rule_tech[r][t]) te.rules[prog.strings[prog.rules[r].name]] = rule_tech[r][t];
      rep.techniques.push_back(std::move(te));
    }
    if (!c->navigator.empty() && !write_navigator(rep, c->navigator)) return 2;
    if (!c->html.empty() && !write_html(rep, c->html)) return 2;
  }
  sum.events = step_events;
  sum.caught = step_caught;
  for (std::size_t r = 0; r < nrules; ++r) {
    sum.rule_tp.push_back({prog.strings[prog.rules[r].name], score[r].tp});
    sum.rule_fp.push_back(scale > 0 ? static_cast<double>(score[r].fp) / scale : 0.0);
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
  for (std::size_t i = 1; i < 5; ++i) {
    std::cout << fmt::format("{:<34}", fmt::format("step {} recall", kSteps[i].step));
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
