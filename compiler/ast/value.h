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

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms):
// the one calendar the compiler, the VM and the simulator share.
inline std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
inline void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

// `1d`, `90m`, `30s`, `250ms`: the shortest exact spelling of a duration.
std::string format_duration(std::int64_t ticks);
// `2023-05-15T00:00:00Z` (fraction only when non-zero).
std::string format_datetime(std::int64_t ticks);

}  // namespace ward
