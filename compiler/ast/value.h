// Literal values, shared by the AST and the IR.
#pragma once
#include <cstdint>
#include <string>

namespace ward {

enum class LitKind : std::uint8_t { None, Bool, Int, Real, String, Duration, Datetime, Ip, Cidr, Guid };

// A decoded literal. Durations and datetimes are in 100-ns ticks, as in Kusto
// (datetime: ticks since 1970-01-01T00:00:00Z), so that both backends agree exactly.
struct Value {
  LitKind kind = LitKind::None;
  bool b = false;
  std::int64_t i = 0;  // Int, Duration, Datetime (ticks)
  double r = 0;
  std::string s;       // String, Ip, Cidr, Guid (canonical text)
  int prefix = -1;     // Cidr prefix length

  static Value boolean(bool v) { Value x; x.kind = LitKind::Bool; x.b = v; return x; }
  static Value integer(std::int64_t v) { Value x; x.kind = LitKind::Int; x.i = v; return x; }
  static Value real(double v) { Value x; x.kind = LitKind::Real; x.r = v; return x; }
  static Value string(std::string v) { Value x; x.kind = LitKind::String; x.s = std::move(v); return x; }
  static Value duration(std::int64_t ticks) { Value x; x.kind = LitKind::Duration; x.i = ticks; return x; }
  static Value datetime(std::int64_t ticks) { Value x; x.kind = LitKind::Datetime; x.i = ticks; return x; }
  bool operator==(const Value& o) const {
    return kind == o.kind && b == o.b && i == o.i && r == o.r && s == o.s && prefix == o.prefix;
  }
};

inline constexpr std::int64_t kTicksPerSecond = 10'000'000;
inline constexpr std::int64_t kTicksPerMinute = 60 * kTicksPerSecond;
inline constexpr std::int64_t kTicksPerHour = 60 * kTicksPerMinute;
inline constexpr std::int64_t kTicksPerDay = 24 * kTicksPerHour;

// `1d`, `90m`, `30s`, `250ms`: the shortest exact spelling of a duration.
std::string format_duration(std::int64_t ticks);
// `2023-05-15T00:00:00Z` (fraction only when non-zero).
std::string format_datetime(std::int64_t ticks);

}  // namespace ward
