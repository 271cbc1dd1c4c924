// ward_ref: the reference evaluator and the case generator on the command line.
//   ward_ref RULE_FILES... --events FILE...   the canonical alerts, one per line, sorted, unique
//   ward_ref --gen SEED --out DIR             DIR/case.ward and DIR/events.jsonl
//   ward_ref RULE_FILES... --golden PREFIX --seed S --rows N
//       PREFIX.jsonl: rows aimed at the rules (targeted.h), PREFIX.alerts: their alerts. Seeds
//       from S on are tried until the rows raise at least one alert; the seed used is printed.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "gen.h"
#include "reference.h"
#include "targeted.h"

namespace {

int usage() {
  std::cerr << "usage: ward_ref RULE_FILES... --events FILE...\n"
               "       ward_ref --gen SEED --out DIR\n"
               "       ward_ref RULE_FILES... --golden PREFIX --seed S --rows N\n";
  return 2;
}

bool write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
  return static_cast<bool>(out);
}

int gen(const std::string& seed_text, const std::string& dir) {
  char* end = nullptr;
  unsigned long long seed = std::strtoull(seed_text.c_str(), &end, 10);
  if (seed_text.empty() || *end) return usage();
  ward::ref::Case c = ward::ref::generate(seed);
  std::filesystem::create_directories(dir);
  std::string events;
  for (const auto& line : c.events) events += line + "\n";
  if (!write_file(std::filesystem::path(dir) / "case.ward", c.ward_source) ||
      !write_file(std::filesystem::path(dir) / "events.jsonl", events)) {
    std::cerr << "ward_ref: cannot write to " << dir << "\n";
    return 1;
  }
  return 0;
}

// Sorted as text (byte order, like `LC_ALL=C sort -u`), so any other tool can produce the same file.
std::string canonical_alerts(const ward::ir::Module& m, const std::vector<std::string>& lines) {
  std::set<std::string> out;
  for (const auto& a : ward::ref::evaluate(m, lines)) out.insert(ward::ref::format_alert(a));
  std::string text;
  for (const auto& l : out) text += l + "\n";
  return text;
}

int make_golden(const ward::ir::Module& m, const std::string& prefix, unsigned long long seed, int rows) {
  for (unsigned long long s = seed; s < seed + 50; ++s) {
    auto lines = ward::ref::targeted_events(m, s, rows);
    std::string alerts = canonical_alerts(m, lines);
    if (alerts.empty() && s + 1 < seed + 50) continue;
    std::string events;
    for (const auto& l : lines) events += l + "\n";
    if (!write_file(prefix + ".jsonl", events) || !write_file(prefix + ".alerts", alerts)) {
      std::cerr << "ward_ref: cannot write " << prefix << ".*\n";
      return 1;
    }
    std::cout << "seed " << s << ": " << lines.size() << " rows, "
              << std::count(alerts.begin(), alerts.end(), '\n') << " alerts\n";
    return 0;
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "--gen" && args[2] == "--out") return gen(args[1], args[3]);

  std::vector<std::string> rules, event_files;
  std::string golden;
  unsigned long long seed = 1;
  int rows = 150;
  bool in_events = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    bool has_value = i + 1 < args.size();
    if (a == "--events") in_events = true;
    else if (a == "--golden" && has_value) golden = args[++i];
    else if (a == "--seed" && has_value) seed = std::strtoull(args[++i].c_str(), nullptr, 10);
    else if (a == "--rows" && has_value) rows = std::atoi(args[++i].c_str());
    else (in_events ? event_files : rules).push_back(a);
  }
  if (rules.empty() || (event_files.empty() == golden.empty())) return usage();

  ward::driver::Compilation c;
  ward::driver::compile(rules, {}, c);
  if (c.input_error || c.sink.has_errors()) {
    std::cerr << "ward_ref: the rules do not compile (run `ward check` on them for the diagnostics)\n";
    return 2;
  }

  if (!golden.empty()) return make_golden(c.module, golden, seed, rows);

  std::vector<std::string> lines;
  for (const auto& f : event_files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << "ward_ref: cannot read " << f << "\n";
      return 1;
    }
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }

  std::cout << canonical_alerts(c.module, lines);
  return 0;
}
