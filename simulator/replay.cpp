// A labelled trace replayed through the VM and scored against its ground truth
// (simulator/replay.h). Used by `ward coverage` and `ward test`.
#include "simulator/replay.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <unordered_set>

#include "ast/value.h"
#include "simulator/output.h"
#include "simulator/scenario.h"
#include "simulator/simulate.h"

namespace ward::sim {

namespace fs = std::filesystem;

namespace {

struct StepInfo {
  const char* step;
  const char* what;
};
const StepInfo kSteps[kStepCount] = {
    {"C", "infrastructure (no rows of its own: seen as the source IP of D-G)"},
    {"D", "forged token presented to an enterprise app"},
    {"E", "OWA token minting / renewal with no sign-in"},
    {"F", "mail collection through OWA REST"},
    {"G", "after mitigation: failed attempts, phishing"},
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

}  // namespace

const char* step_name(std::size_t i) { return i < kStepCount ? kSteps[i].step : "?"; }
const char* step_what(std::size_t i) { return i < kStepCount ? kSteps[i].what : "?"; }

std::string short_duration(std::int64_t s) {
  if (s < 0) return "-";
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
  return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

LabelledTrace::~LabelledTrace() {
  std::error_code ec;
  if (!tmpdir.empty()) fs::remove_all(tmpdir, ec);
}

std::unique_ptr<LabelledTrace> open_trace(const TraceSource& src, std::string& error, int& rc) {
  rc = 2;
  auto t = std::make_unique<LabelledTrace>();
  t->step_first.fill(INT64_MAX);
  t->users = src.users;
  t->days = src.days;
  t->seed = src.seed;

  if (!src.files.empty()) {  // plain event files: no labels, tables from the rows' `Type`
    t->name = src.files.size() == 1 ? src.files[0] : fmt::format("{} files", src.files.size());
    t->files = src.files;
    t->file_table.assign(src.files.size(), 0);
    rc = 0;
    return t;
  }

  std::string dir = src.events;
  if (!src.scenario.empty()) {
    Scenario sc;
    try {
      sc = load_scenario(src.scenario, src.overrides);
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
    if (src.keep.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "ward-replay-XXXXXX").string();
      std::vector<char> buf(tmpl.begin(), tmpl.end());
      buf.push_back(0);
      if (!mkdtemp(buf.data())) {
        error = "cannot create a temporary directory";
        return nullptr;
      }
      t->tmpdir = dir = buf.data();
    } else {
      dir = src.keep;
    }
    SimOptions opt;
    opt.users = src.users;
    opt.days = src.days;
    opt.seed = static_cast<std::uint64_t>(src.seed);
    opt.out = dir;
    opt.start = src.start;
    opt.progress = src.progress;
    try {
      simulate(sc, opt);
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
  }
  t->name = src.scenario.empty() ? dir : src.scenario;
  t->labelled = true;

  std::string labels_path = src.labels.empty() ? dir + "/labels/labels.jsonl" : src.labels;
  // Trace metadata (users and days scale the false-positive rate).
  simdjson::dom::parser parser;
  {
    auto meta = fs::path(labels_path).parent_path() / "meta.json";
    simdjson::dom::element m;
    if (fs::exists(meta) && !parser.load(meta.string()).get(m)) {
      std::string_view s;
      std::int64_t n;
      if (!m["scenario"].get(s)) t->name = std::string(s);
      if (!m["users"].get(n)) t->users = static_cast<int>(n);
      if (!m["days"].get(n)) t->days = static_cast<int>(n);
      if (!m["seed"].get(n)) t->seed = n;
    } else if (!src.events.empty()) {
      fmt::print(stderr, "warning: no {}: assuming --users {} --days {} for the false-positive rate\n", meta.string(), t->users, t->days);
    }
  }

  // Event files: DIR/*.jsonl[.gz], sorted, and their tables.
  std::error_code ec;
  for (auto& e : fs::directory_iterator(dir, ec)) {
    std::string n = e.path().filename().string();
    if (e.is_regular_file() && (n.ends_with(".jsonl") || n.ends_with(".jsonl.gz"))) t->files.push_back(e.path().string());
  }
  if (ec || t->files.empty()) {
    error = fmt::format("no event files (*.jsonl) in `{}`", dir);
    return nullptr;
  }
  std::sort(t->files.begin(), t->files.end());
  std::map<std::string, std::uint32_t> table_of_name;
  for (auto& f : t->files) {
    std::string n = fs::path(f).filename().string();
    n = n.substr(0, n.find(".jsonl"));
    t->file_table.push_back(table_of_name.emplace(n, static_cast<std::uint32_t>(table_of_name.size())).first->second);
  }

  // Labels: keep only the malicious ones (the benign are counted).
  std::vector<std::set<std::uint8_t>> tech_steps;
  std::ifstream in(labels_path);
  if (!in) {
    error = fmt::format("cannot read labels `{}`", labels_path);
    return nullptr;
  }
  std::string line;
  std::uint64_t ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (line.empty()) continue;
    simdjson::dom::element e;
    if (parser.parse(line).get(e)) {
      error = fmt::format("{}:{}: not JSON", labels_path, ln);
      return nullptr;
    }
    ++t->labels;
    std::string_view truth, table, step, when, inf;
    std::int64_t lno = 0;
    if (e["truth"].get(truth) || e["table"].get(table) || e["line"].get(lno)) {
      error = fmt::format("{}:{}: a label needs truth, table and line", labels_path, ln);
      return nullptr;
    }
    if (truth != "malicious") {
      ++t->benign;
      continue;
    }
    if (e["step"].get(step) || step.size() != 1 || step[0] < 'C' || step[0] > 'G') {
      error = fmt::format("{}:{}: a malicious label needs a step C..G", labels_path, ln);
      return nullptr;
    }
    auto tb = table_of_name.find(std::string(table));
    if (tb == table_of_name.end()) continue;  // a table whose file is not here
    std::int64_t ticks = e["time"].get(when) ? 0 : parse_ticks(when);
    auto si = static_cast<std::uint8_t>(step[0] - 'C');
    std::string_view tq;
    std::string tname = e["technique"].get(tq) ? std::string("unlabelled") : std::string(tq);
    auto ti = std::find(t->techniques.begin(), t->techniques.end(), tname);
    if (ti == t->techniques.end()) {
      if (t->techniques.size() >= 255) {
        error = fmt::format("{}:{}: more than 255 distinct techniques", labels_path, ln);
        return nullptr;
      }
      ti = t->techniques.insert(t->techniques.end(), tname);
      t->technique_events.push_back(0);
      tech_steps.emplace_back();
    }
    auto tix = static_cast<std::uint8_t>(ti - t->techniques.begin());
    ++t->technique_events[tix];
    tech_steps[tix].insert(si);
    t->mal[LabelledTrace::key(tb->second, static_cast<std::uint64_t>(lno))] = LabelledTrace::Mal{si, tix, ticks};
    ++t->step_events[si];
    t->step_first[si] = std::min(t->step_first[si], ticks);
    if (!e["infra"].get(inf)) ++t->infra[std::string(inf)];
  }
  for (auto& s : tech_steps) t->technique_steps.emplace_back(s.begin(), s.end());
  rc = 0;
  return t;
}

Replay replay(const vm::Image& image, const LabelledTrace& trace, const std::function<void(const vm::Alert&)>& each) {
  const auto& prog = image.program();
  std::size_t nrules = prog.rules.size(), ntech = trace.techniques.size();
  struct RuleScore {
    std::uint64_t alerts = 0, tp = 0, fp = 0;
    std::array<std::uint64_t, kStepCount> caught{};
    std::array<std::int64_t, kStepCount> first{};
  };
  std::vector<RuleScore> score(nrules);
  std::vector<std::vector<std::uint64_t>> rule_tech(nrules, std::vector<std::uint64_t>(ntech));
  std::vector<std::uint64_t> tech_caught(ntech);
  for (auto& s : score) s.first.fill(INT64_MAX);
  std::vector<std::unordered_set<std::uint64_t>> seen(nrules);
  std::unordered_set<std::uint64_t> caught_any;
  std::array<std::uint64_t, kStepCount> step_caught{};
  std::array<std::int64_t, kStepCount> step_alert{};
  step_alert.fill(INT64_MAX);
  Replay out;
  auto sink = [&](const vm::Alert& al) {
    if (each) each(al);
    RuleScore& s = score[al.rule];
    ++s.alerts;
    bool any = false;
    if (al.events_total > al.events.size()) out.truncated = true;
    for (const auto& ev : al.events) {
      const auto* m = trace.label(ev);
      if (!m) continue;
      any = true;
      std::uint64_t k = trace.event_key(ev);
      if (seen[al.rule].insert(k).second) {
        ++s.caught[m->step];
        ++rule_tech[al.rule][m->tech];
      }
      s.first[m->step] = std::min(s.first[m->step], al.time);
      if (caught_any.insert(k).second) {
        ++step_caught[m->step];
        ++tech_caught[m->tech];
      }
      step_alert[m->step] = std::min(step_alert[m->step], al.time);
    }
    ++(any ? s.tp : s.fp);
  };
  vm::RunOptions ro;
  out.run = vm::run(image, trace.files, ro, sink);

  CoverageReport& rep = out.report;
  std::uint64_t malicious = 0;
  for (auto n : trace.step_events) malicious += n;
  double scale = (trace.users / 1000.0) * trace.days;
  rep.scenario = trace.name;
  rep.users = trace.users;
  rep.days = trace.days;
  rep.seed = trace.seed;
  rep.events = out.run.input.lines;
  rep.malicious = malicious;
  rep.infra = trace.infra;
  auto ttd = [&](std::int64_t alert, std::size_t step) {
    return alert == INT64_MAX ? std::int64_t{-1} : (alert - trace.step_first[step]) / kTicksPerSecond;
  };
  for (std::size_t i = 0; i < kStepCount; ++i) {
    CoverageReport::Step st{kSteps[i].step, kSteps[i].what, trace.step_events[i], step_caught[i], ttd(step_alert[i], i), {}};
    for (std::size_t t = 0; t < ntech; ++t)
      if (std::binary_search(trace.technique_steps[t].begin(), trace.technique_steps[t].end(), static_cast<std::uint8_t>(i)))
        st.techniques.push_back(trace.techniques[t]);
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
    for (std::size_t i = 0; i < kStepCount; ++i) ru.steps[i] = {s.caught[i], s.caught[i] ? ttd(s.first[i], i) : -1};
    rep.rules.push_back(std::move(ru));
  }
  for (std::size_t t = 0; t < ntech; ++t) {
    CoverageReport::Technique te{trace.techniques[t], trace.technique_events[t], tech_caught[t], {}, {}};
    for (auto si : trace.technique_steps[t]) te.steps.push_back(kSteps[si].step);
    for (std::size_t r = 0; r < nrules; ++r)
      if (rule_tech[r][t]) te.rules[prog.strings[prog.rules[r].name]] = rule_tech[r][t];
    rep.techniques.push_back(std::move(te));
  }
  return out;
}

}  // namespace ward::sim
