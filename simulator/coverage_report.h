// The replay results that `ward coverage` writes as an ATT&CK Navigator layer (navigator.cpp)
// and as a self-contained HTML report (report.cpp); filled by coverage.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ward::sim {

struct CoverageReport {
  struct Step {
    std::string id, what;
    std::uint64_t events = 0, caught = 0;
    std::int64_t ttd_s = -1;  // seconds from the step's first row to the first alert; -1: none
    std::vector<std::string> techniques;
  };
  struct RuleStep {
    std::uint64_t caught = 0;
    std::int64_t ttd_s = -1;
  };
  struct Rule {
    std::string name, title;
    std::uint64_t alerts = 0, tp = 0, fp = 0;
    double fp_rate = 0;              // false positives per 1,000 users per day
    std::array<RuleStep, 5> steps;   // C..G, as `steps`
  };
  struct Technique {
    std::string id;
    std::uint64_t events = 0, caught = 0;  // malicious rows labelled with it; caught by any rule
    std::vector<std::string> steps;
    std::map<std::string, std::uint64_t> rules;  // rule -> its rows caught
  };
  std::string scenario;
  int users = 0, days = 0;
  long long seed = 0;
  std::uint64_t events = 0, malicious = 0;
  std::map<std::string, std::uint64_t> infra;  // malicious rows by source infrastructure
  std::vector<Step> steps;                     // C, D, E, F, G
  std::vector<Rule> rules;
  std::vector<Technique> techniques;
};

// Both return false (and say why on stderr) when the file cannot be written or rendered.
bool write_navigator(const CoverageReport& r, const std::string& path);
bool write_html(const CoverageReport& r, const std::string& path);

}  // namespace ward::sim
