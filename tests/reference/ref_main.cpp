// ward_ref: the reference evaluator and the case generator on the command line.
//   ward_ref RULE_FILES... --events FILE...   the canonical alerts, one per line, sorted, unique
//   ward_ref --gen SEED --out DIR             DIR/case.ward and DIR/events.jsonl
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

namespace {

int usage() {
  std::cerr << "usage: ward_ref RULE_FILES... --events FILE...\n"
               "       ward_ref --gen SEED --out DIR\n";
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 4 && args[0] == "--gen" && args[2] == "--out") return gen(args[1], args[3]);

  std::vector<std::string> rules, event_files;
  bool in_events = false;
  for (const auto& a : args) {
    if (a == "--events") in_events = true;
    else (in_events ? event_files : rules).push_back(a);
  }
  if (rules.empty() || event_files.empty()) return usage();

  ward::driver::Compilation c;
  ward::driver::compile(rules, {}, c);
  if (c.input_error || c.sink.has_errors()) {
    std::cerr << "ward_ref: the rules do not compile (run `ward check` on them for the diagnostics)\n";
    return 2;
  }

  std::vector<std::string> lines;
  for (const auto& f : event_files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      std::cerr << "ward_ref: cannot read " << f << "\n";
      return 1;
    }
    for (std::string line; std::getline(in, line);) lines.push_back(std::move(line));
  }

  // Sorted as text (byte order, like `LC_ALL=C sort -u`), so any other tool can produce the same file.
  std::set<std::string> out;
  for (const auto& a : ward::ref::evaluate(c.module, lines)) out.insert(ward::ref::format_alert(a));
  for (const auto& l : out) std::cout << l << "\n";
  return 0;
}
