// The expression interpreter: a verified program made ready to run (constants as
// values, sets hashed, ranges parsed, patterns compiled by RE2) and the loop that runs
// one chunk. Operators and functions follow docs/semantics.md §3-§6 exactly.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "runtime/bundle.h"
#include "runtime/value.h"

namespace re2 {
class RE2;
}

namespace ward::vm {

struct PreparedSet {
  bool numeric = false;
  std::unordered_set<std::string_view> exact, folded;  // views into `storage` or the program's strings
  std::vector<std::string> storage;
  std::vector<std::int64_t> longs;
  std::vector<double> reals;
  bool empty() const { return exact.empty() && longs.empty() && reals.empty(); }
};

struct PreparedCidr {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> v4;  // network, mask
  struct V6 {
    std::uint8_t addr[16];
    int prefix;
  };
  std::vector<V6> v6;
};

class Image {
 public:
  explicit Image(bc::Program p);  // the program must be verified
  ~Image();
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  const bc::Program& program() const { return p_; }
  const std::string& str(std::uint32_t i) const { return p_.strings[i]; }
  // The slot of field f within its table's row (rows hold only the fields rules read).
  std::uint32_t slot(std::uint32_t field) const { return slot_[field]; }
  // Fields of table t, in slot order.
  const std::vector<std::uint32_t>& table_fields(std::uint32_t t) const { return table_fields_[t]; }

  // If predicate `chunk` can be true only when the row's slot holds exactly the string `text`
  // (it starts `col; const "text"; cmp ==` and a false there is the chunk's result), that
  // slot and text; the engine indexes rules by them so that most rows skip most filters.
  struct Equality {
    std::uint32_t slot;
    std::string_view text;
    // Where the rest of the predicate starts once the equality is known to hold (the
    // instruction after the first `and`), or kTrue when the equality is the whole predicate.
    std::uint32_t rest;
    static constexpr std::uint32_t kTrue = UINT32_MAX;
  };
  std::optional<Equality> required_equality(std::uint32_t chunk) const;

  struct Context {
    const Val* const* rows = nullptr;  // rows[event index] -> the event's row (by slot)
    const Val* aggs = nullptr;         // threshold outcome aggregates
    std::int64_t now = 0;              // now(): the replay clock
    Arena* scratch = nullptr;          // temporaries of this evaluation
  };
  // `from`: start there instead of at the chunk's first instruction, with an empty stack
  // (only at a point where the code itself has an empty stack: Equality::rest).
  Val eval(std::uint32_t chunk, const Context& ctx, std::uint32_t from = 0) const;
  // A predicate's truth: null is false.
  bool test(std::uint32_t chunk, const Context& ctx, std::uint32_t from = 0) const {
    Val v = eval(chunk, ctx, from);
    return v.tag == Tag::Bool && v.b;
  }

 private:
  bc::Program p_;
  std::vector<Val> consts_;
  std::vector<PreparedSet> sets_;
  std::vector<PreparedCidr> cidrs_;
  std::vector<std::unique_ptr<re2::RE2>> regexes_;
  std::vector<std::uint32_t> slot_;
  std::vector<std::vector<std::uint32_t>> table_fields_;
};

// Shared with the event reader and tests: semantics §2.3 / §5 conversions.
std::optional<std::int64_t> parse_timespan(std::string_view s);
// A decimal integer / number, the whole text, optional sign (tolong/toreal of a string, §5).
std::optional<std::int64_t> parse_long(std::string_view s);
std::optional<double> parse_real(std::string_view s);
// `a OP b` with the two-valued rules of §3.1 and §6.3.
bool compare(bc::CmpOp op, const Val& a, const Val& b);
bool ascii_iequal(std::string_view a, std::string_view b);
std::string ascii_fold(std::string_view s);

}  // namespace ward::vm
