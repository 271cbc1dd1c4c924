#include "ast/value.h"

#include <fmt/format.h>

namespace ward {

std::string format_duration(std::int64_t t) {
  if (t == 0) return "0s";
  std::string sign = t < 0 ? "-" : "";
  std::uint64_t a = t < 0 ? static_cast<std::uint64_t>(-(t + 1)) + 1 : static_cast<std::uint64_t>(t);
  const std::pair<std::uint64_t, const char*> units[] = {{kTicksPerDay, "d"},    {kTicksPerHour, "h"},
                                                         {kTicksPerMinute, "m"}, {kTicksPerSecond, "s"},
                                                         {10'000, "ms"}};
  for (auto [n, u] : units)
    if (a % n == 0) return fmt::format("{}{}{}", sign, a / n, u);
  return fmt::format("{}{}ms", sign, static_cast<double>(a) / 10'000.0);
}

std::string format_datetime(std::int64_t ticks) {
  std::int64_t days = ticks >= 0 ? ticks / kTicksPerDay : -((-ticks + kTicksPerDay - 1) / kTicksPerDay);
  std::int64_t rem = ticks - days * kTicksPerDay;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  auto hh = rem / kTicksPerHour;
  auto mm = (rem % kTicksPerHour) / kTicksPerMinute;
  auto ss = (rem % kTicksPerMinute) / kTicksPerSecond;
  auto frac = rem % kTicksPerSecond;
  if (frac == 0) return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, hh, mm, ss);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z", y, m, d, hh, mm, ss, frac);
}

}  // namespace ward
