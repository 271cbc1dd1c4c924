// `ward test [PATHS]` (simulator/test_runner.h). Every test names a source — a scenario with
// its parameters, or a hand-written trace — and tests that name the same source share one
// simulation and one replay of all the loaded rules. A test passes when its expectations hold
// and, against the rule's expected-alerts file, no expected detection is lost and no false
// positive is new; `--update` rewrites those files and prints what changed.
#include "simulator/test_runner.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include "ast/value.h"
#include "simulator/replay.h"

namespace ward::sim {

namespace fs = std::filesystem;

struct TestCli {
  CLI::App* cmd = nullptr;
  std::vector<std::string> paths;
  std::string junit, filter;
  bool update = false, quiet = false;
};

TestCli* add_test_command(CLI::App& app) {
  static std::vector<std::unique_ptr<TestCli>> keep;
  keep.push_back(std::make_unique<TestCli>());
  TestCli* c = keep.back().get();
  c->cmd = app.add_subcommand("test", "run the rules' tests: replay scenarios and traces, check expectations and expected alerts");
  c->cmd->add_option("paths", c->paths, "rule files or directories searched for *.ward (default: rules)");
  c->cmd->add_option("--junit", c->junit, "also write the results as JUnit XML to this file");
  c->cmd->add_flag("--update", c->update, "rewrite the expected-alerts files and show what changed");
  c->cmd->add_option("--filter", c->filter, "run only tests whose `RULE: TEST` contains this text");
  c->cmd->add_flag("--quiet,-q", c->quiet, "print only failures and the summary");
  return c;
}

bool test_selected(const TestCli* c) { return c && c->cmd && c->cmd->parsed(); }

std::string expected_alerts_path(const std::string& rule_file, const std::string& rule, const std::string& test) {
  std::string slug;
  for (char ch : test) {
    char l = static_cast<char>(ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch);
    bool keep = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (keep)
      slug += l;
    else if (!slug.empty() && slug.back() != '-')
      slug += '-';
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  if (slug.empty()) slug = "test";
  return (fs::path(rule_file).parent_path() / "tests" / rule / (slug + ".alerts.jsonl")).lexically_normal().string();
}

namespace {

// One alert as a test sees it: its identity (time and outcome) and its ground truth.
struct AlertRec {
  std::string key;      // "TIME\tOUTCOME", the outcome minified by simdjson
  std::string outcome;  // as the VM wrote it
  bool malicious = false;
  std::uint8_t steps = 0;  // bit i: an event of step_name(i)
};

std::string steps_text(std::uint8_t mask) {
  std::string s;
  for (std::size_t i = 0; i < kStepCount; ++i)
    if (mask >> i & 1) s += step_name(i);
  return s;
}

std::string alert_line(const AlertRec& a) {
  auto tab = a.key.find('\t');
  std::string line = fmt::format("{{\"time\":\"{}\",\"truth\":\"{}\",\"steps\":[", a.key.substr(0, tab), a.malicious ? "malicious" : "benign");
  bool first = true;
  for (char s : steps_text(a.steps)) {
    line += fmt::format("{}\"{}\"", first ? "" : ",", s);
    first = false;
  }
  line += "],\"outcome\":" + (a.outcome.empty() ? std::string("{}") : a.outcome) + "}";
  return line;
}

std::string minified(simdjson::dom::parser& p, const std::string& json) {
  simdjson::dom::element e;
  if (json.empty() || p.parse(json).get(e)) return json;
  return simdjson::minify(e);
}

struct Source {
  std::string key, label;
  TraceSource src;
  bool unlabelled = false;
  std::string error;  // the parameters are wrong
  std::vector<std::size_t> tests;
};

struct TestRun {
  const ir::Rule* rule = nullptr;
  const ir::TestCase* test = nullptr;
  std::uint32_t image_rule = UINT32_MAX;
  std::size_t source = 0;
  std::string file;
  std::uint32_t line = 0;
  std::vector<std::string> failures, notes;
  double seconds = 0;
};

bool compare(ast::Op op, double a, double b) {
  switch (op) {
    case ast::Op::Eq: return a == b;
    case ast::Op::Ne: return a != b;
    case ast::Op::Lt: return a < b;
    case ast::Op::Le: return a <= b;
    case ast::Op::Gt: return a > b;
    case ast::Op::Ge: return a >= b;
    default: return false;
  }
}

std::string xml(std::string_view s) {
  std::string out;
  for (unsigned char ch : s) {
    switch (ch) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (ch < 0x20 && ch != '\n' && ch != '\t') out += fmt::format("&#x{:X};", ch == '\r' ? ch : 0xFFFD);
        else out += static_cast<char>(ch);
    }
  }
  return out;
}

// Reads an expected-alerts file into key -> (count, malicious); a missing file is empty.
bool read_expected(const std::string& path, simdjson::dom::parser& p, std::map<std::string, std::pair<int, bool>>& out,
                   std::vector<std::string>& lines, std::string& error) {
  std::ifstream in(path);
  if (!in) return true;
  std::string line;
  std::uint64_t ln = 0;
  while (std::getline(in, line)) {
    ++ln;
    if (line.empty()) continue;
    simdjson::dom::element e;
    std::string_view time, truth;
    simdjson::dom::element outcome;
    if (p.parse(line).get(e) || e["time"].get(time) || e["truth"].get(truth) || e["outcome"].get(outcome)) {
      error = fmt::format("{}:{}: not an expected alert (a JSON object with time, truth and outcome)", path, ln);
      return false;
    }
    std::string key = std::string(time) + "\t" + simdjson::minify(outcome);
    auto& slot = out[key];
    ++slot.first;
    slot.second = truth == "malicious";
    lines.push_back(line);
  }
  return true;
}

}  // namespace

int run_tests(const TestCli* c, const TestLoader& load) {
  auto t_start = std::chrono::steady_clock::now();
  // ---- the rule files
  std::vector<std::string> paths = c->paths;
  if (paths.empty()) {
    if (!fs::is_directory("rules")) {
      std::cerr << "error: ward test PATHS... (no `rules` directory here to default to)\n";
      return 2;
    }
    paths.push_back("rules");
  }
  std::vector<std::string> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      std::vector<std::string> found;
      for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file() && it->path().extension() == ".ward") found.push_back(it->path().lexically_normal().string());
      std::sort(found.begin(), found.end());
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(p, ec)) {
      files.push_back(fs::path(p).lexically_normal().string());
    } else {
      std::cerr << fmt::format("error: `{}`: no such file or directory\n", p);
      return 2;
    }
  }
  if (files.empty()) {
    std::cerr << "error: no rule files (*.ward) in " << fmt::format("{}", fmt::join(paths, ", ")) << "\n";
    return 2;
  }
  int rc = 0;
  CompiledRules compiled = load(files, rc);
  if (!compiled.image) return rc ? rc : 1;
  const ir::Module& m = compiled.compilation->module;
  const auto& sm = compiled.compilation->sm;
  const auto& prog = compiled.image->program();
  std::map<std::string, std::uint32_t> image_rule;
  for (std::uint32_t i = 0; i < prog.rules.size(); ++i) image_rule[prog.strings[prog.rules[i].name]] = i;

  // ---- the tests and the sources they replay
  std::vector<TestRun> runs;
  std::vector<Source> sources;
  std::map<std::string, std::size_t> source_of;
  for (const auto& r : m.rules) {
    for (const auto& t : r.tests) {
      if (!c->filter.empty() && fmt::format("{}: {}", r.name, t.name).find(c->filter) == std::string::npos) continue;
      TestRun tr;
      tr.rule = &r;
      tr.test = &t;
      tr.image_rule = image_rule.count(r.name) ? image_rule[r.name] : UINT32_MAX;
      tr.file = r.file;
      if (t.span.valid()) tr.line = sm.file(t.span.file).line_col(t.span.begin).line;
      Source s;
      if (!t.scenario.empty()) {
        s.src.scenario = t.scenario;
        std::string params;
        for (const auto& kv : t.params) {
          const std::string& k = kv.first;  // (clang 14 cannot capture a structured binding)
          const std::string& v = kv.second;
          params += fmt::format(" {}={}", k, v);
          auto num = [&](long long& dst) {
            try {
              std::size_t used = 0;
              dst = std::stoll(v, &used);
              if (used != v.size()) throw std::invalid_argument(v);
            } catch (const std::exception&) {
              s.error = fmt::format("scenario parameter `{}` must be an integer, not `{}`", k, v);
            }
          };
          long long n = 0;
          if (k == "users") {
            num(n);
            s.src.users = static_cast<int>(n);
          } else if (k == "days") {
            num(n);
            s.src.days = static_cast<int>(n);
          } else if (k == "seed") {
            num(s.src.seed);
          } else if (k == "start") {
            s.src.start = v;
          } else {
            s.src.overrides.push_back(k + "=" + v);
          }
        }
        s.key = "scenario " + t.scenario + params;
        s.label = fmt::format("{} ({} users x {} days, seed {})", t.scenario, s.src.users, s.src.days, s.src.seed);
      } else {
        auto p = (fs::path(r.file).parent_path() / t.trace).lexically_normal().string();
        s.src.files.push_back(p);
        s.unlabelled = true;
        s.key = "trace " + p;
        s.label = p;
      }
      auto [it, fresh] = source_of.emplace(s.key, sources.size());
      if (fresh) sources.push_back(std::move(s));
      tr.source = it->second;
      sources[tr.source].tests.push_back(runs.size());
      runs.push_back(std::move(tr));
    }
  }
  if (runs.empty()) {
    std::cerr << fmt::format("error: no tests in {} rule file(s){}\n", files.size(), c->filter.empty() ? "" : " match the filter");
    return 2;
  }
  bool tty = isatty(STDERR_FILENO) && !c->quiet;

  // ---- replay each source once; judge its tests
  simdjson::dom::parser parser;
  int failed = 0;
  struct SourceCoverage {
    std::string label;
    CoverageReport report;
  };
  std::vector<SourceCoverage> coverage;
  for (auto& s : sources) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::vector<AlertRec>> alerts(prog.rules.size());
    std::string error = s.error;
    std::unique_ptr<LabelledTrace> trace;
    Replay rp;
    if (error.empty()) {
      if (tty && !s.src.scenario.empty())
        s.src.progress = [&](int day, int days, std::uint64_t rows) {
          std::fprintf(stderr, "\r  simulating %s: day %d/%d, %llu rows", s.src.scenario.c_str(), day, days, static_cast<unsigned long long>(rows));
          std::fflush(stderr);
        };
      int trc = 0;
      trace = open_trace(s.src, error, trc);
      if (tty && !s.src.scenario.empty()) std::fprintf(stderr, "\r\033[K");
    }
    if (trace) {
      try {
        rp = replay(*compiled.image, *trace, [&](const vm::Alert& al) {
          AlertRec a;
          a.outcome = al.outcome;
          a.key = format_datetime(al.time) + "\t" + minified(parser, al.outcome);
          for (const auto& ev : al.events)
            if (const auto* l = trace->label(ev)) {
              a.malicious = true;
              a.steps |= static_cast<std::uint8_t>(1u << l->step);
            }
          alerts[al.rule].push_back(std::move(a));
        });
        if (rp.run.input.malformed)
          error = fmt::format("{} malformed line(s) in the replayed events (see `ward run --events {}`)", rp.run.input.malformed,
                              trace->files.empty() ? s.label : trace->files[0]);
      } catch (const std::exception& e) {
        error = e.what();
      }
      if (!s.unlabelled) coverage.push_back({s.label, rp.report});
    }
    double share = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / static_cast<double>(s.tests.size());

    for (std::size_t ti : s.tests) {
      TestRun& tr = runs[ti];
      tr.seconds = share;
      const ir::TestCase& t = *tr.test;
      if (!error.empty()) {
        tr.failures.push_back(fmt::format("cannot replay {}: {}", s.label, error));
      } else if (tr.image_rule == UINT32_MAX) {
        tr.failures.push_back("the rule is not in the compiled bundle");
      } else {
        auto& mine = alerts[tr.image_rule];
        std::sort(mine.begin(), mine.end(), [](const AlertRec& a, const AlertRec& b) { return a.key < b.key; });
        std::size_t fps = 0;
        std::uint8_t caught = 0;
        for (const auto& a : mine) {
          if (!a.malicious) ++fps;
          caught |= a.steps;
        }
        // expectations
        for (const auto& ex : t.expect) {
          auto op = ex.cmp.value_or(ex.what == "false_positives" ? ast::Op::Le : ast::Op::Ge);
          double want = ex.cmp || !ex.values.empty() || ex.number != 0 ? ex.number : (ex.what == "alerts" ? 1 : 0);
          if (ex.what == "none") {
            if (!mine.empty()) tr.failures.push_back(fmt::format("expected no alert, got {} ({} false positive(s))", mine.size(), fps));
          } else if (ex.what == "alerts") {
            if (!compare(op, static_cast<double>(mine.size()), want))
              tr.failures.push_back(fmt::format("expected alerts {} {}, got {}", ast::op_spelling(op), want, mine.size()));
          } else if (ex.what == "false_positives") {
            if (s.unlabelled) {
              if (!compare(op, static_cast<double>(mine.size()), want))
                tr.failures.push_back(fmt::format("expected false_positives {} {}, got {} alert(s) on an unlabelled trace (every one counts)",
                                                  ast::op_spelling(op), want, mine.size()));
            } else if (!compare(op, static_cast<double>(fps), want)) {
              tr.failures.push_back(fmt::format("expected false_positives {} {}, got {}", ast::op_spelling(op), want, fps));
            }
          } else if (ex.what == "steps") {
            if (s.unlabelled) {
              tr.failures.push_back("`expect steps` needs a labelled trace: a trace file has no labels (use a scenario)");
              continue;
            }
            for (const auto& v : ex.values) {
              std::size_t i = 0;
              while (i < kStepCount && v != step_name(i)) ++i;
              if (i == kStepCount) {
                tr.failures.push_back(fmt::format("`{}` is not a campaign step (C, D, E, F or G)", v));
              } else if (!(caught >> i & 1)) {
                tr.failures.push_back(fmt::format("step {} ({}) not detected: no alert names an event of it ({} such events in the trace)", v,
                                                  step_what(i), trace->step_events[i]));
              }
            }
          } else if (ex.what == "entities") {
            for (const auto& v : ex.values) {
              auto eq = v.find('=');
              if (eq == std::string::npos) {
                tr.failures.push_back(fmt::format("entity expectation `{}` is not FIELD=VALUE", v));
                continue;
              }
              std::string field = v.substr(0, eq), value = v.substr(eq + 1);
              bool found = false;
              for (const auto& a : mine) {
                simdjson::dom::element o;
                if (a.outcome.empty() || parser.parse(a.outcome).get(o)) continue;
                simdjson::dom::element f;
                if (o[field].get(f)) continue;
                std::string_view sv;
                found = !f.get(sv) ? sv == value : simdjson::minify(f) == value;
                if (found) break;
              }
              if (!found) tr.failures.push_back(fmt::format("no alert has {} = `{}`", field, value));
            }
          }
        }
        // expected alerts
        std::string path = expected_alerts_path(tr.file, tr.rule->name, t.name);
        std::map<std::string, std::pair<int, bool>> expected;
        std::vector<std::string> old_lines;
        std::string perr;
        if (!read_expected(path, parser, expected, old_lines, perr)) {
          tr.failures.push_back(perr);
        } else {
          std::map<std::string, std::pair<int, bool>> actual;
          for (const auto& a : mine) {
            auto& slot = actual[a.key];
            ++slot.first;
            slot.second = a.malicious;
          }
          std::uint64_t lost = 0, new_fp = 0, new_tp = 0, gone_fp = 0;
          std::vector<std::string> lost_ex, fp_ex;
          for (const auto& [k, v] : expected) {
            int have = actual.count(k) ? actual[k].first : 0;
            if (have >= v.first) continue;
            (v.second ? lost : gone_fp) += static_cast<std::uint64_t>(v.first - have);
            if ((v.second || s.unlabelled) && lost_ex.size() < 3) lost_ex.push_back(k);
          }
          for (const auto& [k, v] : actual) {
            int had = expected.count(k) ? expected[k].first : 0;
            if (v.first <= had) continue;
            (v.second ? new_tp : new_fp) += static_cast<std::uint64_t>(v.first - had);
            if (!v.second && fp_ex.size() < 3) fp_ex.push_back(k);
          }
          auto show = [](const std::vector<std::string>& ex) {
            std::string out;
            for (const auto& k : ex) out += "\n      " + k;
            return out;
          };
          if (!c->update && s.unlabelled) {
            // A hand-written trace has no ground truth but its expected-alerts file: any change fails.
            if (lost + gone_fp)
              tr.failures.push_back(fmt::format("{} expected alert(s) not raised (in {}):{}", lost + gone_fp, path, show(lost_ex)));
            if (new_tp + new_fp) tr.failures.push_back(fmt::format("{} new alert(s) (not in {}):{}", new_tp + new_fp, path, show(fp_ex)));
          } else if (!c->update) {
            if (lost)
              tr.failures.push_back(fmt::format("{} expected detection(s) lost (in {}, not raised now):{}", lost, path, show(lost_ex)));
            if (new_fp) tr.failures.push_back(fmt::format("{} new false positive(s) (not in {}):{}", new_fp, path, show(fp_ex)));
            if (new_tp || gone_fp)
              tr.notes.push_back(fmt::format("{} new detection(s), {} false positive(s) fewer than {}: `ward test --update` records them", new_tp,
                                             gone_fp, path));
          } else {
            std::vector<std::string> new_lines;
            for (const auto& a : mine) new_lines.push_back(alert_line(a));
            if (new_lines != old_lines) {
              std::error_code ec;
              if (new_lines.empty()) {
                fs::remove(path, ec);
              } else {
                fs::create_directories(fs::path(path).parent_path(), ec);
                std::ofstream f(path, std::ios::binary);
                for (const auto& l : new_lines) f << l << "\n";
                if (!f) tr.failures.push_back(fmt::format("cannot write `{}`", path));
              }
              std::multiset<std::string> o(old_lines.begin(), old_lines.end()), n(new_lines.begin(), new_lines.end());
              std::vector<std::string> minus, plus;
              std::set_difference(o.begin(), o.end(), n.begin(), n.end(), std::back_inserter(minus));
              std::set_difference(n.begin(), n.end(), o.begin(), o.end(), std::back_inserter(plus));
              std::string diff = fmt::format("updated {}: -{} +{}", path, minus.size(), plus.size());
              for (std::size_t i = 0; i < minus.size() && i < 10; ++i) diff += "\n      - " + minus[i];
              if (minus.size() > 10) diff += fmt::format("\n      - ... {} more", minus.size() - 10);
              for (std::size_t i = 0; i < plus.size() && i < 10; ++i) diff += "\n      + " + plus[i];
              if (plus.size() > 10) diff += fmt::format("\n      + ... {} more", plus.size() - 10);
              tr.notes.push_back(diff);
            }
          }
        }
        tr.notes.insert(tr.notes.begin(), s.unlabelled ? fmt::format("{} alert(s) (an unlabelled trace)", mine.size())
                                                       : fmt::format("{} alert(s), {} false positive(s){}", mine.size(), fps,
                                                                     caught ? ", steps " + steps_text(caught) : std::string()));
      }
      bool ok = tr.failures.empty();
      if (!ok) ++failed;
      if (ok && c->quiet) continue;
      std::cout << fmt::format("{} {}: {}  [{}]\n", ok ? "PASS" : "FAIL", tr.rule->name, t.name, s.label);
      for (const auto& f : tr.failures) std::cout << "    - " << f << "\n";
      if (!c->quiet)
        for (const auto& n : tr.notes) std::cout << "    " << n << "\n";
    }
  }

  // ---- coverage summary: each labelled source, every loaded rule
  for (const auto& sc : coverage) {
    std::cout << fmt::format("\ncoverage of {}: {} events, {} malicious\n", sc.label, sc.report.events, sc.report.malicious);
    for (std::size_t i = 1; i < kStepCount; ++i) {
      const auto& st = sc.report.steps[i];
      std::string by;
      for (const auto& ru : sc.report.rules)
        if (ru.steps[i].caught) by += (by.empty() ? "" : ", ") + ru.name;
      std::cout << fmt::format("  {} {:<45} {:>6} events  {:>6.1f}%  {}\n", st.id, st.what.substr(0, 45), st.events,
                               st.events ? 100.0 * static_cast<double>(st.caught) / static_cast<double>(st.events) : 0.0,
                               st.events == 0 ? "(no rows)" : by.empty() ? "MISSED" : by);
    }
    double fp = 0;
    for (const auto& ru : sc.report.rules) fp += ru.fp_rate;
    std::cout << fmt::format("  false positives: {:.2f} per 1,000 users per day (all rules)\n", fp);
  }
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  std::cout << fmt::format("\n{} test(s) in {} rule file(s), {} source(s): {} passed, {} failed ({:.1f} s)\n", runs.size(), files.size(),
                           sources.size(), runs.size() - static_cast<std::size_t>(failed), failed, total);

  // ---- JUnit XML: one testsuite per rule file, one testcase per test
  if (!c->junit.empty()) {
    std::map<std::string, std::vector<const TestRun*>> by_file;
    for (const auto& tr : runs) by_file[tr.file].push_back(&tr);
    std::string x = fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"ward test\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3f}\">\n",
                                runs.size(), failed, total);
    for (const auto& [file, trs] : by_file) {
      double secs = 0;
      std::size_t f = 0;
      for (const auto* tr : trs) {
        secs += tr->seconds;
        f += tr->failures.empty() ? 0 : 1;
      }
      x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3f}\">\n", xml(file), trs.size(), f, secs);
      for (const auto* tr : trs) {
        x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3f}\"", xml(tr->rule->name), xml(tr->test->name),
                         xml(file), tr->line, tr->seconds);
        std::string out;
        for (const auto& n : tr->notes) out += n + "\n";
        if (tr->failures.empty() && out.empty()) {
          x += "/>\n";
          continue;
        }
        x += ">\n";
        if (!tr->failures.empty()) {
          std::string body;
          for (const auto& fl : tr->failures) body += fl + "\n";
          x += fmt::format("      <failure message=\"{}\" type=\"ward.test\">{}</failure>\n", xml(tr->failures[0].substr(0, tr->failures[0].find('\n'))), xml(body));
        }
        if (!out.empty()) x += fmt::format("      <system-out>{}</system-out>\n", xml(out));
        x += "    </testcase>\n";
      }
      x += "  </testsuite>\n";
    }
    x += "</testsuites>\n";
    std::ofstream jf(c->junit, std::ios::binary);
    jf << x;
    if (!jf) {
      std::cerr << fmt::format("error: cannot write `{}`\n", c->junit);
      return 2;
    }
  }
  return failed ? 1 : 0;
}

}  // namespace ward::sim
