// `ward simulate`: a seeded, deterministic tenant with benign traffic and an injected
// campaign, streamed day by day to one JSON Lines file per table plus labels.jsonl.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "simulator/scenario.h"

namespace ward::sim {

struct SimOptions {
  int users = 200;
  int days = 7;
  std::uint64_t seed = 1;
  std::string out;
  std::string labels;  // empty: OUT/labels/labels.jsonl
  bool gzip = false;
  bool discard = false;  // generate and count, write nothing (benchmarks, the memory test)
  bool writer_thread = true;  // files written on a second thread while rows are rendered
  std::string start;  // YYYY-MM-DD; empty: the scenario's start
  std::function<void(int day, int days, std::uint64_t rows)> progress;
};

struct SimStats {
  std::uint64_t rows = 0, malicious = 0, bytes = 0;
  std::map<std::string, std::uint64_t> per_table;
  std::map<std::string, std::uint64_t> per_step;  // malicious rows per campaign step
  std::size_t peak_pending = 0;                   // largest number of planned events held at once
};

// Throws std::runtime_error (and ScenarioError) with a printable message.
SimStats simulate(const Scenario& sc, const SimOptions& opt);

}  // namespace ward::sim
