#include "runtime/engine.h"

#include <fmt/format.h>

#include "ast/value.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <charconv>
#include <cmath>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <thread>

namespace ward::vm {

namespace {

using EventPtr = std::shared_ptr<const Event>;

// A correlation key's hash, computed once per match and used by every lookup of it.
inline std::uint64_t key_hash(std::string_view k) { return std::hash<std::string_view>{}(k); }

// Per-key state with least-recently-touched order: expiry pops from the back, the cap
// evicts from the back. Touches come in event-time order, so the back is the oldest.
// A flat open-addressing table (linear probing, backward-shift deletion, no tombstones) of
// (hash, node) pairs over nodes that stay where they are (a deque, erased nodes reused), with
// the LRU list threaded through the nodes: a lookup compares hashes in one array and reads one
// node, and touching moves no memory.
template <typename S>
class Keyed {
 public:
  S& touch(const std::string& key, std::uint64_t h, std::int64_t now, RuleStats& st, std::size_t cap,
           const std::function<void(S&)>& on_drop) {
    std::uint32_t n = lookup(key, h);
    if (n == kNil) {
      if (size_ >= cap && tail_ != kNil) {
        on_drop(nodes_[tail_].state);
        erase(tail_);
        ++st.evictions;
      }
      n = insert(key, h);
      st.peak_keys = std::max(st.peak_keys, size_);
    } else if (n != head_) {
      unlink(n);
      push_front(n);
    }
    nodes_[n].touched = now;
    return nodes_[n].state;
  }
  S* find(const std::string& key, std::uint64_t h) {
    std::uint32_t n = lookup(key, h);
    return n == kNil ? nullptr : &nodes_[n].state;
  }
  // The back of the list is the least recently touched: nothing to look up to see that
  // nothing expires, which is what almost every batch finds.
  void expire(std::int64_t before, RuleStats& st, const std::function<void(S&)>& on_drop) {
    while (tail_ != kNil && nodes_[tail_].touched < before) {
      on_drop(nodes_[tail_].state);
      erase(tail_);
      ++st.expired;
    }
  }
  template <typename F>
  void for_each(F&& f) {
    for (std::uint32_t n = head_; n != kNil; n = nodes_[n].next) f(nodes_[n].state);
  }
  std::size_t size() const { return size_; }

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;
  struct Node {
    std::string key;
    std::uint64_t hash = 0;
    std::int64_t touched = 0;
    std::uint32_t prev = kNil, next = kNil;  // the LRU list; `next` chains free nodes
    S state{};
  };
  struct Slot {
    std::uint32_t node = kNil;  // kNil: empty
    std::uint32_t hash = 0;     // the low half of the node's hash
  };

  // A slot's place from the low half of the hash, which the slot keeps: moving slots reads no node.
  std::size_t home(std::uint32_t h) const { return h & (slots_.size() - 1); }
  std::uint32_t lookup(const std::string& key, std::uint64_t h) const {
    if (slots_.empty()) return kNil;
    const auto h32 = static_cast<std::uint32_t>(h);
    for (std::size_t i = home(h32);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& sl = slots_[i];
      if (sl.node == kNil) return kNil;
      if (sl.hash == h32 && nodes_[sl.node].hash == h && nodes_[sl.node].key == key) return sl.node;
    }
  }
  void place(Slot x) {
    std::size_t i = home(x.hash);
    while (slots_[i].node != kNil) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = x;
  }
  std::uint32_t insert(const std::string& key, std::uint64_t h) {
    if ((size_ + 1) * 8 > slots_.size() * 7 || slots_.empty()) {  // at most 7/8 full
      std::vector<Slot> old(std::max<std::size_t>(16, slots_.size() * 2));
      old.swap(slots_);
      for (const Slot& sl : old)
        if (sl.node != kNil) place(sl);
    }
    std::uint32_t n;
    if (free_ != kNil) {
      n = free_;
      free_ = nodes_[n].next;
    } else {
      n = static_cast<std::uint32_t>(nodes_.size());
      nodes_.emplace_back();
    }
    Node& x = nodes_[n];
    x.key.assign(key);
    x.hash = h;
    place(Slot{n, static_cast<std::uint32_t>(h)});
    push_front(n);
    ++size_;
    return n;
  }
  void erase(std::uint32_t n) {
    // Find its slot, then shift back the run after it so that no probe sequence breaks.
    std::size_t mask = slots_.size() - 1, i = home(static_cast<std::uint32_t>(nodes_[n].hash));
    while (slots_[i].node != n) i = (i + 1) & mask;
    for (std::size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
      if (slots_[j].node == kNil) break;
      std::size_t k = home(slots_[j].hash);
      // slots_[j] may move to i iff its home is not cyclically in (i, j]
      bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    unlink(n);
    Node& x = nodes_[n];
    x.state = S{};  // what the state holds goes now; the key keeps its capacity for reuse
    x.next = free_;
    free_ = n;
    --size_;
  }
  void unlink(std::uint32_t n) {
    Node& x = nodes_[n];
    if (x.prev != kNil) nodes_[x.prev].next = x.next;
    else head_ = x.next;
    if (x.next != kNil) nodes_[x.next].prev = x.prev;
    else tail_ = x.prev;
    x.prev = x.next = kNil;
  }
  void push_front(std::uint32_t n) {
    Node& x = nodes_[n];
    x.prev = kNil;
    x.next = head_;
    if (head_ != kNil) nodes_[head_].prev = n;
    head_ = n;
    if (tail_ == kNil) tail_ = n;
  }

  std::deque<Node> nodes_;  // references stay valid as it grows: a state is never moved
  std::vector<Slot> slots_;  // a power of two
  std::uint32_t head_ = kNil, tail_ = kNil, free_ = kNil;
  std::size_t size_ = 0;
};

struct Match {
  EventPtr e;
  std::uint32_t var;
  std::uint32_t step;  // position in the condition's order
  std::string key;
  std::uint64_t hash = 0;  // key_hash(key)
};

// ---- shape states ----
struct ThrEntry {
  std::int64_t time = 0;
  EventId id{};  // not the event: a window can hold millions, and an alert needs only their ids
};
// One aggregate's part of a window entry. A dcount entry points at its value in the state's
// distinct-value map (shared by equal values, erased with the last of them), so a window of
// a million entries keeps each distinct value once; a sum entry keeps its number.
using Distinct = std::map<std::string, std::uint32_t>;
struct AggSlot {
  Distinct::iterator it{};
  bool counted = false;  // dcount: `it` is valid
  bool number = false;   // sum: a long or real
  bool real = false;
  std::int64_t i = 0;
  double r = 0;
};
// A FIFO over a vector: no allocation until the first push (most keys see few events, and
// a std::deque allocates two blocks up front), the consumed prefix dropped now and then.
template <typename T>
class Window {
 public:
  void push_back(T&& x) { v_.push_back(std::move(x)); }
  bool empty() const { return head_ == v_.size(); }
  std::size_t size() const { return v_.size() - head_; }
  T& front() { return v_[head_]; }
  void pop_front() {
    v_[head_++] = T{};
    if (head_ == v_.size()) v_.clear(), head_ = 0;
    else if (head_ >= 64 && head_ * 2 >= v_.size()) v_.erase(v_.begin(), v_.begin() + static_cast<std::ptrdiff_t>(head_)), head_ = 0;
  }
  auto begin() const { return v_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return v_.end(); }

 private:
  std::vector<T> v_;
  std::size_t head_ = 0;
};
struct ThrState {
  Window<ThrEntry> win;
  Window<AggSlot> slots;                   // per entry, one per aggregate (when any reads a value)
  std::vector<Distinct> distinct;          // per DCount aggregate
  std::vector<std::int64_t> lsum;          // per Sum (long) aggregate
  std::int64_t last_eval = INT64_MIN;
  bool last_hit = false;
};
struct SeqBest {
  bool present = false;
  std::int64_t time = 0;
  std::optional<std::int64_t> start;  // chain start, if the greedy chain exists
  std::vector<EventPtr> chain;        // steps 0..i
};
struct SeqState {
  std::vector<SeqBest> best;
};
struct JoinState {
  EventPtr a;                 // latest $a
  EventPtr b[2];              // the two latest $b (b[0] most recent)
};
struct AbsBeforeState {
  std::int64_t witness = INT64_MIN;
};
struct AbsAfterState {
  std::deque<EventPtr> pending;
};

// A value's identity for dcount and correlation keys: equal by == (§4.1) iff equal keys.
// Numbers that are whole share one form, so 1 and 1.0 are one value.
void append_value_key(std::string& s, const Val& v) {
  auto num = [&s](char tag, std::int64_t x) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, x);
    s += tag;
    s.append(buf, end);
  };
  switch (v.tag) {
    case Tag::Long: num('n', v.i); break;
    case Tag::Real:
      if (v.r == std::trunc(v.r) && std::abs(v.r) < 9e18) num('n', static_cast<std::int64_t>(v.r));
      else s += fmt::format("r{}", v.r);
      break;
    case Tag::String: s += 's'; s += v.str(); break;
    case Tag::Bool: s += v.b ? "b1" : "b0"; break;
    case Tag::Datetime: num('d', v.i); break;
    case Tag::Timespan: num('t', v.i); break;
    default: s += 'j'; append_json(s, v); break;
  }
}
std::string value_key(const Val& v) {
  std::string s;
  append_value_key(s, v);
  return s;
}

// The rows an evaluation reads, by event index: the given events, an empty row elsewhere.
// Rules have at most 32 events (the verifier checks), so this never allocates.
struct Rows {
  std::array<const Val*, 32> rows;
  // Only the rule's own events are ever read: fill those (a full 32 per evaluation shows).
  explicit Rows(std::size_t n = 32) { std::fill_n(rows.begin(), std::min<std::size_t>(n, 32), kEmptyRow); }
  void set(std::uint32_t var, const Event* e) { rows[var] = e ? e->row.vals.data() : kEmptyRow; }
  static inline const Val kEmptyRow[1] = {};
};

}  // namespace

struct Engine::RuleState {
  const bc::Rule* rule;
  std::uint32_t index;
  std::vector<int> step_of_var;  // -1: not in the condition
  bool reads_values = false;  // some aggregate has an argument (dcount, sum): entries keep values
  Keyed<ThrState> thr;
  Keyed<SeqState> seq;
  Keyed<JoinState> join;
  Keyed<AbsBeforeState> absb;
  Keyed<AbsAfterState> absa;
  std::vector<Match> matches;  // the first `used` are this batch's; the rest are spare slots
  std::size_t used = 0;
  std::span<const Match> batch() const { return {matches.data(), used}; }
};

Engine::Engine(const Image& image, EngineOptions opt, Sink sink) : image_(image), opt_(opt), sink_(std::move(sink)) {
  const auto& p = image.program();
  dispatch_.resize(p.tables.size());
  stats_.resize(p.rules.size());
  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    auto rs = std::make_unique<RuleState>();
    rs->rule = &p.rules[ri];
    rs->index = ri;
    rs->step_of_var.assign(rs->rule->events.size(), -1);
    for (const auto& a : rs->rule->aggs) rs->reads_values |= a.arg != bc::kNone;
    for (std::uint32_t i = 0; i < rs->rule->order.size(); ++i) rs->step_of_var[rs->rule->order[i]] = static_cast<int>(i);
    for (std::uint32_t e = 0; e < rs->rule->events.size(); ++e)
      if (rs->step_of_var[e] >= 0) {
        auto& d = dispatch_[rs->rule->events[e].table];
        const auto& ev = rs->rule->events[e];
        auto eq = ev.where == bc::kNone ? std::nullopt : image.required_equality(ev.where);
        if (!eq) {
          d.always.push_back({ri, e, 0});
          continue;
        }
        auto ix = std::find_if(d.indexes.begin(), d.indexes.end(), [&](const Dispatch::Index& x) { return x.slot == eq->slot; });
        if (ix == d.indexes.end()) {
          ix = d.indexes.insert(d.indexes.end(), Dispatch::Index{});
          ix->slot = eq->slot;
        }
        auto [at, fresh] = ix->by_text.try_emplace(eq->text, static_cast<std::uint32_t>(ix->lists.size()));
        if (fresh) ix->lists.emplace_back();
        ix->lists[at->second].push_back({ri, e, eq->rest});  // found by its text: the equality holds
        ix->lists[1].push_back({ri, e, 0});
      }
    rules_.push_back(std::move(rs));
  }
}

Engine::~Engine() = default;

std::size_t Engine::live_keys() const {
  std::size_t n = 0;
  for (const auto& r : rules_) n += r->thr.size() + r->seq.size() + r->join.size() + r->absb.size() + r->absa.size();
  return n;
}

void Engine::push(std::shared_ptr<const Event> e) {
  if (started_ && e->time != clock_) process_batch();
  started_ = true;
  clock_ = e->time;
  batch_.push_back(std::move(e));
}

namespace {

struct Emitter {
  const Image& image;
  const Engine::Sink& sink;
  Arena& scratch;
  std::int64_t now;

  // rows: per event of the rule, the event (or null)
  void alert(const Engine::RuleState& rs, RuleStats& st, std::int64_t time, const std::vector<const Event*>& rows,
             const Val* aggs, std::vector<EventId> ids, std::uint64_t total) {
    const auto& r = *rs.rule;
    Rows rowp(rows.size());
    for (std::uint32_t i = 0; i < rows.size(); ++i) rowp.set(i, rows[i]);
    Image::Context ctx{rowp.rows.data(), aggs, now, &scratch};
    Alert a;
    a.rule = rs.index;
    a.time = time;
    std::vector<Val> values;
    a.outcome = "{";
    for (std::size_t i = 0; i < r.outcome.size(); ++i) {
      Val v = image.eval(r.outcome[i].chunk, ctx);
      values.push_back(v);
      if (i) a.outcome += ',';
      append_json_string(a.outcome, image.str(r.outcome[i].name));
      a.outcome += ':';
      append_json(a.outcome, v);
    }
    a.outcome += '}';
    a.entities = "[";
    for (std::size_t k = 0; k < r.entities.size(); ++k) {
      const auto& em = r.entities[k];
      if (k) a.entities += ',';
      a.entities += "{\"type\":";
      append_json_string(a.entities, image.str(em.type));
      for (auto [id, field] : em.identifiers) {
        a.entities += ',';
        append_json_string(a.entities, image.str(id));
        a.entities += ':';
        Val v;
        for (std::size_t i = 0; i < r.outcome.size(); ++i)
          if (r.outcome[i].name == field) v = values[i];
        append_json(a.entities, v);
      }
      a.entities += '}';
    }
    a.entities += ']';
    a.events = std::move(ids);
    a.events_total = total;
    ++st.alerts;
    sink(a);
    scratch.reset();
  }
};

EventId id_of(const Event& e) { return {e.file, e.line}; }

// Calls f(first, matches) per key of a batch (`first` the key's first match: its key and
// hash), keys in first-seen order, matches in input order. A batch is the events of one
// instant: almost always one match, rarely more than a few.
template <typename F>
void for_each_key(std::span<const Match> all, F&& f) {
  static thread_local std::vector<const Match*> group;  // reused: no allocation per batch
  if (all.size() == 1) {
    group.assign(1, &all[0]);
    f(all[0], group);
    return;
  }
  if (all.size() <= 16) {
    std::array<bool, 16> done{};
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (done[i]) continue;
      group.clear();
      for (std::size_t j = i; j < all.size(); ++j)
        if (!done[j] && all[j].hash == all[i].hash && all[j].key == all[i].key) done[j] = true, group.push_back(&all[j]);
      f(all[i], group);
    }
    return;
  }
  std::map<std::string_view, std::vector<const Match*>> groups;
  std::vector<const Match*> order;
  for (const auto& m : all) {
    auto [it, fresh] = groups.try_emplace(m.key);
    if (fresh) order.push_back(&m);
    it->second.push_back(&m);
  }
  for (const auto* m : order) f(*m, groups[m->key]);
}

}  // namespace

void Engine::process_batch() {
  if (batch_.empty()) return;
  const auto t = clock_;
  // 1. filters and keys, in input order
  auto& touched = touched_;
  touched.clear();
  for (const auto& e : batch_) {
    // The filters this row can pass, in (rule, event) order as if every one were tried.
    auto& d = dispatch_[e->table];
    const std::vector<Entry>* list = &d.always;
    if (!d.indexes.empty()) {
      std::uint64_t combo = 0;
      const bool memoable = d.indexes.size() <= 4;
      auto pick = [&](const Dispatch::Index& ix) -> std::uint32_t {
        const Val& v = e->row.vals[ix.slot];
        if (v.tag != Tag::String) return 1;
        auto it = ix.by_text.find(v.str());
        return it == ix.by_text.end() ? 0 : it->second;
      };
      for (std::size_t i = 0; i < d.indexes.size() && memoable; ++i) {
        std::uint32_t l = pick(d.indexes[i]);
        if (l > 0xffff) {
          combo = UINT64_MAX;
          break;
        }
        combo |= static_cast<std::uint64_t>(l) << (16 * i);
      }
      auto m = memoable && combo != UINT64_MAX ? d.memo.find(combo) : d.memo.end();
      if (m != d.memo.end()) {
        list = &m->second;
      } else {
        auto& cand = candidates_;
        cand.assign(d.always.begin(), d.always.end());
        for (const auto& ix : d.indexes) {
          const auto& l = ix.lists[pick(ix)];
          cand.insert(cand.end(), l.begin(), l.end());
        }
        std::sort(cand.begin(), cand.end());
        if (memoable && combo != UINT64_MAX && d.memo.size() < Dispatch::kMemo) list = &(d.memo[combo] = cand);
        else list = &cand;
      }
    }
    for (auto [ri, var, from] : *list) {
      auto& rs = *rules_[ri];
      const auto& r = *rs.rule;
      Rows rows(r.events.size());
      rows.set(var, e.get());
      Image::Context ctx{rows.rows.data(), nullptr, t, &scratch_};
      const auto& ev = r.events[var];
      if (ev.where != bc::kNone && from != Image::Equality::kTrue && !image_.test(ev.where, ctx, from)) {
        scratch_.reset();
        continue;
      }
      auto step = static_cast<std::uint32_t>(rs.step_of_var[var]);
      // The key: each part as <length>:<value key>, so that no two key tuples collide. Built
      // in the next match slot, whose string keeps its capacity from batch to batch.
      if (rs.used == rs.matches.size()) rs.matches.emplace_back();
      std::string& key = rs.matches[rs.used].key;
      key.clear();
      bool empty_key = false;
      for (const auto& group : r.keys) {
        Val v = image_.eval(group[step], ctx);
        if (v.is_null() || (v.tag == Tag::String && v.n == 0)) {
          empty_key = true;
          break;
        }
        part_.clear();
        append_value_key(part_, v);
        char len[24];
        auto [end, ec] = std::to_chars(len, len + sizeof len, part_.size());
        key.append(len, end);
        key += ':';
        key += part_;
      }
      scratch_.reset();
      if (empty_key) continue;
      if (rs.used == 0) touched.push_back(&rs);
      auto& m = rs.matches[rs.used++];
      m.e = e, m.var = var, m.step = step, m.hash = key_hash(key);
      ++stats_[ri].matches;
    }
  }
  Emitter em{image_, sink_, scratch_, t};
  // 2. each rule's shape over its matches
  for (auto* rsp : touched) {
    auto& rs = *rsp;
    const auto& r = *rs.rule;
    auto& st = stats_[rs.index];
    auto rows_for = [&](std::initializer_list<std::pair<std::uint32_t, const Event*>> evs) {
      std::vector<const Event*> rows(r.events.size(), nullptr);
      for (auto [v, e] : evs) rows[v] = e;
      return rows;
    };
    switch (r.shape) {
      case bc::Shape::Single:
        for (const auto& m : rs.batch()) em.alert(rs, st, t, rows_for({{m.var, m.e.get()}}), nullptr, {id_of(*m.e)}, 1);
        break;

      case bc::Shape::Threshold: {
        auto noop = [](ThrState&) {};
        rs.thr.expire(t - r.window, st, noop);
        // group this batch's matches by key, keeping input order within each
        for_each_key(rs.batch(), [&](const Match& k, const std::vector<const Match*>& ms) {
          auto& s = rs.thr.touch(k.key, k.hash, t, st, opt_.max_keys, noop);
          if (s.lsum.empty() && rs.reads_values) {
            s.distinct.resize(r.aggs.size());
            s.lsum.assign(r.aggs.size(), 0);
          }
          for (const Match* m : ms) {
            s.win.push_back(ThrEntry{t, id_of(*m->e)});
            if (!rs.reads_values) continue;
            Rows rows(r.events.size());
            rows.set(m->var, m->e.get());
            Image::Context ctx{rows.rows.data(), nullptr, t, &scratch_};
            for (std::size_t a = 0; a < r.aggs.size(); ++a) {
              AggSlot slot;
              if (r.aggs[a].arg != bc::kNone) {
                Val v = image_.eval(r.aggs[a].arg, ctx);
                if (r.aggs[a].kind == bc::AggKind::DCount && !v.is_null() && !(v.tag == Tag::String && v.n == 0)) {
                  auto [it, fresh] = s.distinct[a].try_emplace(r.aggs[a].fold ? ascii_fold(value_key(v)) : value_key(v), 0);
                  ++it->second;
                  slot.it = it, slot.counted = true;
                }
                if (r.aggs[a].kind == bc::AggKind::Sum && (v.tag == Tag::Long || v.tag == Tag::Real)) {
                  slot.number = true, slot.real = v.tag == Tag::Real, slot.i = v.i, slot.r = v.r;
                  if (!r.aggs[a].real && v.tag == Tag::Long)
                    s.lsum[a] = static_cast<std::int64_t>(static_cast<std::uint64_t>(s.lsum[a]) + static_cast<std::uint64_t>(v.i));
                }
              }
              s.slots.push_back(std::move(slot));
            }
            scratch_.reset();
          }
          // the window [t - W, t]
          while (!s.win.empty() && s.win.front().time < t - r.window) {
            s.win.pop_front();
            if (!rs.reads_values) continue;
            for (std::size_t a = 0; a < r.aggs.size(); ++a) {
              AggSlot& old = s.slots.front();
              if (old.counted && --old.it->second == 0) s.distinct[a].erase(old.it);
              if (r.aggs[a].kind == bc::AggKind::Sum && !r.aggs[a].real && old.number && !old.real)
                s.lsum[a] = static_cast<std::int64_t>(static_cast<std::uint64_t>(s.lsum[a]) - static_cast<std::uint64_t>(old.i));
              s.slots.pop_front();
            }
          }
          auto& aggs = aggs_;  // reused: no allocation per match
          aggs.assign(r.aggs.size(), Val{});
          for (std::size_t a = 0; a < r.aggs.size(); ++a) {
            switch (r.aggs[a].kind) {
              case bc::AggKind::Count: aggs[a] = Val::integer(static_cast<std::int64_t>(s.win.size())); break;
              case bc::AggKind::DCount: aggs[a] = Val::integer(static_cast<std::int64_t>(s.distinct[a].size())); break;
              case bc::AggKind::Sum:
                if (r.aggs[a].real) {
                  double sum = 0;  // summed afresh in window order, so the result never drifts
                  const std::size_t n = r.aggs.size();
                  std::size_t k = 0;
                  for (auto it = s.slots.begin(); it != s.slots.end(); ++it, ++k) {
                    if (k % n != a || !it->number) continue;
                    sum += it->real ? it->r : static_cast<double>(it->i);
                  }
                  aggs[a] = Val::real(sum);
                } else {
                  aggs[a] = Val::integer(s.lsum[a]);
                }
                break;
              case bc::AggKind::Count_: break;
            }
          }
          bool hit = compare(r.cmp, aggs[0], Val::real(r.threshold));
          bool continues = s.last_hit && s.last_eval != INT64_MIN && t - s.last_eval <= r.window;
          s.last_eval = t;
          s.last_hit = hit;
          if (hit && !continues) {
            std::vector<EventId> ids;
            for (const auto& en : s.win) {
              if (ids.size() == kMaxAlertEvents) break;
              ids.push_back(en.id);
            }
            em.alert(rs, st, t, rows_for({{ms.back()->var, ms.back()->e.get()}}), aggs.data(), std::move(ids), s.win.size());
          }
        });
        break;
      }

      case bc::Shape::Sequence: {
        auto noop = [](SeqState&) {};
        rs.seq.expire(t - r.window, st, noop);
        const std::size_t n = r.order.size();
        for_each_key(rs.batch(), [&](const Match& k, const std::vector<const Match*>& ms) {
          // A key with no state whose events are all later steps has no chain to extend or
          // complete, and what they would record (a step with no chain) reads as no state:
          // skip it rather than make a key (most later-step events are of this kind).
          if (std::all_of(ms.begin(), ms.end(), [](const Match* m) { return m->step > 0; }) && !rs.seq.find(k.key, k.hash)) return;
          auto& s = rs.seq.touch(k.key, k.hash, t, st, opt_.max_keys, noop);
          if (s.best.empty()) s.best.resize(n - 1);
          // completions against the state before this batch (strictly earlier steps)
          for (const Match* m : ms) {
            if (m->step != n - 1) continue;
            const auto& prev = s.best[n - 2];
            if (!prev.present || !prev.start || t - *prev.start > r.window) continue;
            std::vector<const Event*> rows(r.events.size(), nullptr);
            std::vector<EventId> ids;
            for (std::size_t i = 0; i < prev.chain.size(); ++i) {
              rows[r.order[i]] = prev.chain[i].get();
              ids.push_back(id_of(*prev.chain[i]));
            }
            rows[m->var] = m->e.get();
            ids.push_back(id_of(*m->e));
            em.alert(rs, st, t, rows, nullptr, std::move(ids), n);
          }
          // new latest events per step, from the pre-batch state of the step before (a
          // batch of last-step events only changes nothing)
          if (std::all_of(ms.begin(), ms.end(), [&](const Match* m) { return m->step >= n - 1; })) return;
          std::vector<SeqBest> next = s.best;
          for (const Match* m : ms) {
            if (m->step >= n - 1) continue;
            SeqBest b;
            b.present = true;
            b.time = t;
            if (m->step == 0) {
              b.start = t;
              b.chain = {m->e};
            } else {
              const auto& prev = s.best[m->step - 1];
              if (prev.present && prev.start) {
                b.start = prev.start;
                b.chain = prev.chain;
                b.chain.push_back(m->e);
              }
            }
            next[m->step] = std::move(b);
          }
          s.best = std::move(next);
        });
        break;
      }

      case bc::Shape::Join: {
        auto noop = [](JoinState&) {};
        rs.join.expire(t - r.window, st, noop);
        const auto va = r.order[0], vb = r.order[1];
        for_each_key(rs.batch(), [&](const Match& k, const std::vector<const Match*>& ms) {
          auto& s = rs.join.touch(k.key, k.hash, t, st, opt_.max_keys, noop);
          // 1. $b completes with the latest $a strictly before it
          for (const Match* m : ms)
            if (m->step == 1 && s.a && t - s.a->time <= r.window)
              em.alert(rs, st, t, rows_for({{va, s.a.get()}, {vb, m->e.get()}}), nullptr, {id_of(*s.a), id_of(*m->e)}, 2);
          // 2. this batch's $b events become the latest
          for (const Match* m : ms)
            if (m->step == 1) s.b[1] = s.b[0], s.b[0] = m->e;
          // 3. $a completes with the latest other $b at or before it
          for (const Match* m : ms) {
            if (m->step != 0) continue;
            const EventPtr& partner = s.b[0] && s.b[0] != m->e ? s.b[0] : s.b[1];
            if (partner && partner != m->e && t - partner->time <= r.window)
              em.alert(rs, st, t, rows_for({{va, m->e.get()}, {vb, partner.get()}}), nullptr, {id_of(*m->e), id_of(*partner)}, 2);
          }
          for (const Match* m : ms)
            if (m->step == 0) s.a = m->e;
        });
        break;
      }

      case bc::Shape::Absence: {
        const auto va = r.order[0];
        if (!r.after) {
          auto noop = [](AbsBeforeState&) {};
          rs.absb.expire(t - r.window, st, noop);
          for (const auto& m : rs.batch()) {
            if (m.step != 0) continue;
            auto* s = rs.absb.find(m.key, m.hash);
            bool witnessed = s && s->witness >= t - r.window;  // witnesses are all strictly earlier
            if (!witnessed) em.alert(rs, st, t, rows_for({{va, m.e.get()}}), nullptr, {id_of(*m.e)}, 1);
          }
          for (const auto& m : rs.batch())
            if (m.step == 1) rs.absb.touch(m.key, m.hash, t, st, opt_.max_keys, noop).witness = t;
        } else {
          auto decide = [&](AbsAfterState& s, std::int64_t before) {
            while (!s.pending.empty() && s.pending.front()->time < before) {
              const auto& a = s.pending.front();
              em.alert(rs, st, a->time, rows_for({{va, a.get()}}), nullptr, {id_of(*a)}, 1);
              s.pending.pop_front();
            }
          };
          auto drop_all = [&](AbsAfterState& s) { decide(s, INT64_MAX); };
          rs.absa.expire(t - r.window, st, drop_all);
          for (const auto& m : rs.batch()) {
            if (m.step != 1) continue;
            if (auto* s = rs.absa.find(m.key, m.hash)) {
              decide(*s, t - r.window);  // windows that closed before t
              s->pending.clear();        // every other pending anchor is before t, within W: witnessed
            }
          }
          for (const auto& m : rs.batch()) {
            if (m.step != 0) continue;
            auto& s = rs.absa.touch(m.key, m.hash, t, st, opt_.max_keys, drop_all);
            decide(s, t - r.window);
            s.pending.push_back(m.e);
          }
        }
        break;
      }
      case bc::Shape::Count_: break;
    }
    for (auto& m : rs.matches) m.e.reset();  // the strings stay, for their capacity
    rs.used = 0;
  }
  batch_.clear();
}

void Engine::finish() {
  process_batch();
  Emitter em{image_, sink_, scratch_, clock_};
  for (auto& rsp : rules_) {
    auto& rs = *rsp;
    if (rs.rule->shape != bc::Shape::Absence || !rs.rule->after) continue;
    auto& st = stats_[rs.index];
    std::vector<EventPtr> rest;
    rs.absa.for_each([&](AbsAfterState& s) {
      for (auto& a : s.pending) rest.push_back(a);
      s.pending.clear();
    });
    std::sort(rest.begin(), rest.end(), [](const EventPtr& x, const EventPtr& y) { return x->seq < y->seq; });
    for (const auto& a : rest) {
      std::vector<const Event*> rows(rs.rule->events.size(), nullptr);
      rows[rs.rule->order[0]] = a.get();
      em.alert(rs, st, a->time, rows, nullptr, {id_of(*a)}, 1);
      ++st.decided_at_end;
    }
  }
}

// ---------------------------------------------------------------------------

namespace {

// One file read and decoded ahead on its own thread, so that parsing and rule evaluation run
// on two cores. Chunks of events pass through a bounded queue: memory stays constant however
// far ahead the reader could run. The events and their order are exactly the reader's; the
// reader's problems go to its own InputStats, merged into the run's in file order at the end.
class Prefetcher {
 public:
  Prefetcher(const std::string& path, std::uint32_t index, const Image& image)
      : reader_(path, index, image, stats_), thread_([this] { produce(); }) {}
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // The next event, or null at the end of the file.
  std::shared_ptr<Event> next() {
    if (pos_ == current_.size()) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || done_; });
      if (queue_.empty()) {
        if (error_) std::rethrow_exception(error_);
        return nullptr;
      }
      current_ = std::move(queue_.front());
      queue_.pop_front();
      pos_ = 0;
      lock.unlock();
      cv_.notify_all();
      if (current_.empty()) return nullptr;
    }
    return std::move(current_[pos_++]);
  }
  std::uint64_t bytes_read() const { return bytes_.load(std::memory_order_relaxed); }
  const InputStats& stats() const { return stats_; }  // complete once next() returned null

 private:
  static constexpr std::size_t kChunk = 512, kChunks = 8;
  void produce() {
    try {
      std::vector<std::shared_ptr<Event>> chunk;
      bool more = true;
      while (more) {
        chunk.reserve(kChunk);
        while (chunk.size() < kChunk) {
          auto e = std::make_shared<Event>();
          if (!(more = reader_.next(*e))) break;
          chunk.push_back(std::move(e));
        }
        bytes_.store(reader_.bytes_read(), std::memory_order_relaxed);
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return queue_.size() < kChunks || stop_; });
        if (stop_) return;
        if (!chunk.empty()) queue_.push_back(std::move(chunk));
        chunk = {};
        if (!more) done_ = true;
        lock.unlock();
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
      done_ = true;
    }
    cv_.notify_all();
  }

  InputStats stats_;
  EventReader reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<std::shared_ptr<Event>>> queue_;
  bool done_ = false, stop_ = false;
  std::exception_ptr error_;
  std::atomic<std::uint64_t> bytes_{0};
  std::vector<std::shared_ptr<Event>> current_;
  std::size_t pos_ = 0;
  std::thread thread_;  // last: it starts once everything it uses exists
};

void merge_into(InputStats& to, const InputStats& from) {
  for (const auto& [t, n] : from.rows_per_table) to.rows_per_table[t] += n;
  for (const auto& [t, n] : from.unknown_tables) to.unknown_tables[t] += n;
  to.lines += from.lines, to.blank += from.blank, to.malformed += from.malformed;
  to.no_time += from.no_time, to.bad_values += from.bad_values, to.late += from.late;
  std::map<std::string, std::size_t> shown;  // the first few of each kind over all files, as note() keeps
  for (const auto& p : to.problems) ++shown[p.kind];
  for (const auto& p : from.problems)
    if (shown[p.kind]++ < InputStats::kShownPerKind) to.problems.push_back(p);
  for (const auto& [kind, n] : from.problem_kinds) to.problem_kinds[kind] += n;
}

}  // namespace

RunResult run(const Image& image, const std::vector<std::string>& files, const RunOptions& opt, const Engine::Sink& sink) {
  RunResult res;
  std::vector<std::unique_ptr<Prefetcher>> readers;
  for (std::uint32_t i = 0; i < files.size(); ++i)
    readers.push_back(std::make_unique<Prefetcher>(files[i], i, image));
  Engine engine(image, opt.engine, sink);
  struct Later {
    bool operator()(const std::shared_ptr<Event>& a, const std::shared_ptr<Event>& b) const {
      return a->time != b->time ? a->time > b->time : a->line > b->line;
    }
  };
  struct Buf {
    std::priority_queue<std::shared_ptr<Event>, std::vector<std::shared_ptr<Event>>, Later> heap;
    std::int64_t max_seen = INT64_MIN;
    bool eof = false;
  };
  std::vector<Buf> bufs(readers.size());
  std::uint64_t seq = 0, since_progress = 0;
  std::int64_t last_time = INT64_MIN;
  while (true) {
    for (std::size_t i = 0; i < readers.size(); ++i) {
      auto& b = bufs[i];
      while (!b.eof && (b.heap.empty() || b.heap.top()->time > b.max_seen - opt.lateness)) {
        auto e = readers[i]->next();
        if (!e) {
          b.eof = true;
          break;
        }
        b.max_seen = std::max(b.max_seen, e->time);
        b.heap.push(std::move(e));
      }
    }
    std::size_t best = readers.size();
    for (std::size_t i = 0; i < readers.size(); ++i) {
      if (bufs[i].heap.empty()) continue;
      if (best == readers.size() || bufs[i].heap.top()->time < bufs[best].heap.top()->time) best = i;
    }
    if (best == readers.size()) break;
    auto e = bufs[best].heap.top();
    bufs[best].heap.pop();
    if (e->time < last_time) {
      ++res.input.late;
      res.input.note(e->file, e->line, "late",
                     fmt::format("event at {} arrived after {}: later than the allowed lateness (--lateness)",
                                 format_datetime(e->time), format_datetime(last_time)));
      continue;
    }
    last_time = e->time;
    e->seq = seq++;
    ++res.events;
    engine.push(std::move(e));
    if (opt.progress && ++since_progress == 65536) {
      since_progress = 0;
      std::uint64_t bytes = 0;
      for (const auto& r : readers) bytes += r->bytes_read();
      opt.progress(res.events, bytes);
    }
  }
  engine.finish();
  for (const auto& r : readers) merge_into(res.input, r->stats());
  res.rules = engine.rule_stats();
  return res;
}

}  // namespace ward::vm
