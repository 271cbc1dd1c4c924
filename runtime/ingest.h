// Reading Log Analytics exports: JSON Lines (one row per line, `Type` names the table) or
// a JSON array of rows, plain or gzip. Only the columns the loaded rules read are decoded,
// each by its declared type (docs/semantics.md §2.3). Bad input is counted, never fatal.
#pragma once
#include <zlib.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/eval.h"
#include "runtime/value.h"

namespace ward::vm {

struct Event {
  std::uint32_t table = 0;  // program table index
  std::int64_t time = 0;    // TimeGenerated, ticks
  std::uint64_t seq = 0;    // position in the merged input (ties: later input wins)
  std::uint32_t file = 0;
  std::uint64_t line = 0;   // 1-based line, or array element
  Owned row;                // the table's used columns, by slot
};

// What went wrong in the input, for the run summary.
struct InputStats {
  std::map<std::string, std::uint64_t> rows_per_table;
  std::map<std::string, std::uint64_t> unknown_tables;  // tables no loaded rule reads (not an error)
  std::uint64_t lines = 0, blank = 0, malformed = 0, no_time = 0, bad_values = 0, late = 0;
  struct Problem {
    std::uint32_t file;
    std::uint64_t line;
    std::string what;
    std::string kind;  // malformed, time, value, late, read
  };
  static constexpr std::size_t kShownPerKind = 20;
  std::vector<Problem> problems;  // the first kShownPerKind of each kind, with line numbers
  std::map<std::string, std::uint64_t> problem_kinds;
  void note(std::uint32_t file, std::uint64_t line, const std::string& kind, std::string what);
};

class EventReader {
 public:
  // `path` "-" reads standard input. Throws std::runtime_error if the file cannot be opened.
  EventReader(const std::string& path, std::uint32_t file_index, const Image& image, InputStats& stats);
  ~EventReader();
  // The next well-formed event of a table some rule reads; false at the end of the input.
  bool next(Event& e);
  const std::string& path() const { return path_; }
  bool is_array() const { return array_; }
  std::uint64_t bytes_read() const { return bytes_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string path_;
  bool array_ = false;
  std::uint64_t bytes_ = 0;
};

}  // namespace ward::vm
