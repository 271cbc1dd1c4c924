// A labelled trace (simulated now, or an existing directory with its labels) replayed
// through the VM and scored against the ground truth. `ward coverage` prints the score;
// `ward test` also looks at each alert.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/engine.h"
#include "simulator/coverage_report.h"

namespace ward::sim {

// The campaign steps a label may name, C..G, and what each is.
inline constexpr std::size_t kStepCount = 5;
const char* step_name(std::size_t i);
const char* step_what(std::size_t i);

struct TraceSource {
  // Exactly one of: a scenario to simulate, a trace directory (from `ward simulate`), or
  // event files with no labels (every alert then counts as benign).
  std::string scenario;
  std::vector<std::string> overrides;  // knob=value, as `--set`
  int users = 200, days = 7;
  long long seed = 1;
  std::string start;  // YYYY-MM-DD; empty: the scenario's own
  std::string keep;   // write the simulated trace here and keep it; empty: a temporary directory
  std::string events;  // a trace directory
  std::string labels;  // its labels; empty: EVENTS/labels/labels.jsonl
  std::vector<std::string> files;  // plain event files, unlabelled
  std::function<void(int day, int days, std::uint64_t rows)> progress;  // while simulating
};

class LabelledTrace {
 public:
  ~LabelledTrace();
  LabelledTrace() = default;
  LabelledTrace(const LabelledTrace&) = delete;
  LabelledTrace& operator=(const LabelledTrace&) = delete;

  struct Mal {
    std::uint8_t step;  // index of step_name
    std::uint8_t tech;  // index into techniques
    std::int64_t time;  // ticks
  };
  // The label of an event the VM names, or null when it is benign (or unlabelled).
  const Mal* label(const vm::EventId& ev) const {
    auto it = mal.find(key(file_table[ev.file], ev.line));
    return it == mal.end() ? nullptr : &it->second;
  }
  std::uint64_t event_key(const vm::EventId& ev) const { return key(file_table[ev.file], ev.line); }

  std::string name;  // the scenario, or the directory
  int users = 0, days = 0;
  long long seed = 0;
  bool labelled = false;
  std::vector<std::string> files;
  std::vector<std::uint32_t> file_table;  // file -> table index
  std::uint64_t labels = 0, benign = 0;
  std::unordered_map<std::uint64_t, Mal> mal;  // (table << 40 | line) -> label
  std::array<std::uint64_t, kStepCount> step_events{};
  std::array<std::int64_t, kStepCount> step_first{};
  std::map<std::string, std::uint64_t> infra;  // malicious rows by source infrastructure
  std::vector<std::string> techniques;         // in order of first appearance
  std::vector<std::uint64_t> technique_events;
  std::vector<std::vector<std::uint8_t>> technique_steps;  // sorted step indexes
  std::string tmpdir;                                      // removed with the trace

 private:
  static std::uint64_t key(std::uint64_t table, std::uint64_t line) { return table << 40 | line; }
  friend std::unique_ptr<LabelledTrace> open_trace(const TraceSource&, std::string&, int&);
};

// Simulates or opens the trace and reads its labels. On failure returns null with a message
// in `error` and the exit code (2) in `rc`.
std::unique_ptr<LabelledTrace> open_trace(const TraceSource& src, std::string& error, int& rc);

struct Replay {
  CoverageReport report;
  vm::RunResult run;
  bool truncated = false;  // some alert named more than kMaxAlertEvents events
};
// Replays every rule of `image` over the trace. `each` (optional) sees every alert first.
// Throws std::runtime_error when the run fails (unreadable files).
Replay replay(const vm::Image& image, const LabelledTrace& trace, const std::function<void(const vm::Alert&)>& each = {});

// "45s", "3m05s", "2h10m", "1d04h"; "-" for a negative time.
std::string short_duration(std::int64_t seconds);

}  // namespace ward::sim
