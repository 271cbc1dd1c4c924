// The reference evaluator: docs/semantics.md read literally, over a whole event file at once.
// It is what the VM is tested against, so it is written from the document only, never from
// runtime/, and it is slow on purpose: every window, chain and witness is found by scanning.
#pragma once
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/ir.h"

namespace ward::ref {

struct Alert {
  std::string rule;
  std::int64_t time = 0;  // ticks, the completing event's time (§10)
  std::string outcome;    // canonical JSON: the outcome fields in declared order, no spaces
  auto operator<=>(const Alert&) const = default;
};

// Every alert of every rule of `m` over the JSON Lines, sorted and without duplicates (§10: a set).
std::vector<Alert> evaluate(const ir::Module& m, const std::vector<std::string>& jsonl_lines);

// `<rule>\t<format_datetime(time)>\t<outcome>`: the line ward_ref prints and the VM is diffed on.
std::string format_alert(const Alert& a);

// Pieces of the canonical form and of §2.3 reading, exposed for the unit tests.
std::string format_timespan(std::int64_t ticks);     // [-][d.]hh:mm:ss[.fffffff]
std::string json_quote(std::string_view s);          // the escaping the outcome JSON uses
std::optional<std::int64_t> parse_datetime(std::string_view s);  // ISO 8601 with Z or offset
std::optional<std::int64_t> parse_timespan(std::string_view s);  // Kusto's timespan text

}  // namespace ward::ref
