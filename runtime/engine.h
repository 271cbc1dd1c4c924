// The Ward VM's correlation engine: events in event-time order, in batches of equal
// TimeGenerated, against per-(rule, key) state that expires with event time and is capped.
// Every shape follows docs/semantics.md §7 exactly; the reference evaluator in
// tests/reference checks it on random rules and streams.
#pragma once
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/eval.h"
#include "runtime/ingest.h"

namespace ward::vm {

struct EventId {
  std::uint32_t file;
  std::uint64_t line;
};

struct Alert {
  std::uint32_t rule = 0;
  std::int64_t time = 0;
  std::string outcome;   // compact JSON object, fields in declared order
  std::string entities;  // JSON array of {"type": ..., identifier: value}
  std::vector<EventId> events;  // the first kMaxAlertEvents
  std::uint64_t events_total = 0;
};
inline constexpr std::size_t kMaxAlertEvents = 50;

struct EngineOptions {
  std::size_t max_keys = 1'000'000;  // per rule; beyond it the least recently used key is evicted
};

struct RuleStats {
  std::uint64_t matches = 0, alerts = 0, evictions = 0, expired = 0, decided_at_end = 0;
  std::size_t peak_keys = 0;
};

class Engine {
 public:
  using Sink = std::function<void(const Alert&)>;
  Engine(const Image& image, EngineOptions opt, Sink sink);
  ~Engine();
  // Events must come in non-decreasing time; the caller drops late ones (Runner does).
  void push(std::shared_ptr<const Event> e);
  // Ends the input: the last batch, then absences whose window is still open (no witness
  // can come any more).
  void finish();
  std::int64_t clock() const { return clock_; }
  const std::vector<RuleStats>& rule_stats() const { return stats_; }
  std::size_t live_keys() const;

  struct RuleState;

 private:
  void process_batch();
  const Image& image_;
  EngineOptions opt_;
  Sink sink_;
  std::vector<std::shared_ptr<const Event>> batch_;
  std::int64_t clock_ = INT64_MIN;
  bool started_ = false;
  std::vector<std::unique_ptr<RuleState>> rules_;
  std::vector<RuleStats> stats_;
  // Per table, the (rule, event) pairs that read it: those whose filter needs a column to
  // equal a string (Image::required_equality) indexed by that column and string, so a row
  // meets only the filters it can pass; the others always.
  struct Entry {
    std::uint32_t rule, var;
    std::uint32_t from = 0;  // where its filter starts (Image::Equality::rest when indexed)
    bool operator<(const Entry& o) const { return rule != o.rule ? rule < o.rule : var < o.var; }
  };
  struct Dispatch {
    std::vector<Entry> always;
    struct Index {
      std::uint32_t slot = 0;
      // lists[0] is empty (a string no filter wants), lists[1] every indexed entry (for a row
      // whose value there is not a string), lists[by_text[s]] the entries that want `s`.
      std::unordered_map<std::string_view, std::uint32_t> by_text;
      std::vector<std::vector<Entry>> lists{2};
    };
    std::vector<Index> indexes;
    // A row's sorted candidates depend only on the list each index picked for it: merged once
    // per combination seen (up to kMemo of them, up to 4 indexes), not sorted per row.
    std::unordered_map<std::uint64_t, std::vector<Entry>> memo;
    static constexpr std::size_t kMemo = 4096;
  };
  std::vector<Dispatch> dispatch_;
  std::vector<Entry> candidates_;  // this row's entries (reused)
  Arena scratch_;
  std::vector<RuleState*> touched_;  // rules with matches in the current batch (reused)
  std::string part_;                 // a key part being built (reused)
  std::vector<Val> aggs_;            // a threshold's aggregates (reused)
};

// Merges event files into one time-ordered stream: each file through a reorder buffer that
// holds `lateness` of event time, then a k-way merge. An event older than the stream's
// clock when it leaves its buffer is late: counted, reported, dropped.
struct RunOptions {
  std::int64_t lateness = 0;  // ticks
  EngineOptions engine;
  std::function<void(std::uint64_t events, std::uint64_t bytes)> progress;  // called now and then
};
struct RunResult {
  InputStats input;
  std::uint64_t events = 0;  // events that reached the engine
  std::vector<RuleStats> rules;
};
RunResult run(const Image& image, const std::vector<std::string>& files, const RunOptions& opt, const Engine::Sink& sink);

}  // namespace ward::vm
