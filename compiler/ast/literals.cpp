#include "ast/literals.h"

#include <arpa/inet.h>

#include <boost/spirit/home/x3.hpp>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "ast/value.h"

namespace ward::literals {

namespace x3 = boost::spirit::x3;

namespace {
bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned days_in_month(std::int64_t y, unsigned m) {
  static const unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : k[m - 1];
}
}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view text) {
  using x3::char_;
  using x3::lit;
  x3::uint_parser<unsigned, 10, 4, 4> d4;
  x3::uint_parser<unsigned, 10, 2, 2> d2;
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, oh = 0, om = 0;
  std::string frac;
  char tz = 0;
  auto it = text.begin();
  auto set = [](unsigned& target) { return [&target](auto& ctx) { target = x3::_attr(ctx); }; };
  auto date = d4[set(y)] >> lit('-') >> d2[set(mo)] >> lit('-') >> d2[set(d)];
  auto fraction = lit('.') >> (+x3::digit)[([&](auto& ctx) { auto& v = x3::_attr(ctx); frac.assign(v.begin(), v.end()); })];
  auto offset = char_("+-")[([&](auto& ctx) { tz = x3::_attr(ctx); })] >> d2[set(oh)] >> lit(':') >> d2[set(om)];
  auto zulu = lit('Z')[([&](auto&) { tz = 'Z'; })];
  auto time = char_("Tt ") >> d2[set(h)] >> lit(':') >> d2[set(mi)] >> -(lit(':') >> d2[set(s)] >> -fraction) >>
              -(zulu | offset);
  if (!x3::parse(it, text.end(), date >> -time >> x3::eoi)) return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 || oh > 23 || om > 59)
    return std::nullopt;
  std::int64_t ticks = days_from_civil(y, mo, d) * kTicksPerDay + h * kTicksPerHour + mi * kTicksPerMinute +
                       s * kTicksPerSecond;
  if (!frac.empty()) {
    std::string f = frac.substr(0, 7);
    while (f.size() < 7) f += '0';
    ticks += std::stoll(f);
  }
  std::int64_t off = (static_cast<std::int64_t>(oh) * 60 + om) * kTicksPerMinute;
  if (tz == '+') ticks -= off;
  if (tz == '-') ticks += off;
  return ticks;
}

std::optional<std::int64_t> parse_duration(std::string_view text) {
  double n = 0;
  std::string unit;
  auto it = text.begin();
  x3::real_parser<double, x3::ureal_policies<double>> num;
  if (!x3::parse(it, text.end(), num, n)) return std::nullopt;
  unit.assign(it, text.end());
  std::int64_t per = 0;
  if (unit == "ms") per = 10'000;
  else if (unit == "s") per = kTicksPerSecond;
  else if (unit == "m") per = kTicksPerMinute;
  else if (unit == "h") per = kTicksPerHour;
  else if (unit == "d") per = kTicksPerDay;
  else return std::nullopt;
  double t = n * static_cast<double>(per);
  if (!std::isfinite(t) || t > 9.2e18) return std::nullopt;
  return static_cast<std::int64_t>(std::llround(t));
}

std::optional<std::string> parse_ip(std::string_view text, bool* is_v6) {
  std::string s(text);
  unsigned char buf[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) {
    if (is_v6) *is_v6 = false;
    inet_ntop(AF_INET, buf, out, sizeof out);
    return std::string(out);
  }
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) {
    if (is_v6) *is_v6 = true;
    inet_ntop(AF_INET6, buf, out, sizeof out);
    return std::string(out);
  }
  return std::nullopt;
}

std::optional<Cidr> parse_cidr(std::string_view text, CidrError* err) {
  auto set_err = [&](CidrError e) { if (err) *err = e; return std::nullopt; };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return set_err(CidrError::BadAddress);
  bool v6 = false;
  auto addr = parse_ip(text.substr(0, slash), &v6);
  if (!addr) return set_err(CidrError::BadAddress);
  auto p = text.substr(slash + 1);
  if (p.empty() || p.size() > 3) return set_err(CidrError::BadPrefix);
  int prefix = 0;
  for (char c : p) {
    if (c < '0' || c > '9') return set_err(CidrError::BadPrefix);
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > (v6 ? 128 : 32)) return set_err(CidrError::BadPrefix);
  if (err) *err = CidrError::None;
  return Cidr{*addr, prefix, v6};
}

bool is_guid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (t[i] != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(t[i]))) {
      return false;
    }
  }
  return true;
}

namespace {
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) out += static_cast<char>(cp);
  else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

std::optional<std::string> unescape(std::string_view body, std::size_t* bad_offset, std::size_t* bad_len) {
  std::string out;
  out.reserve(body.size());
  for (std::size_t i = 0; i < body.size(); ++i) {
    // the run up to the next backslash is copied as it is
    auto bs = body.find('\\', i);
    if (bs == std::string_view::npos) {
      out.append(body.data() + i, body.size() - i);
      break;
    }
    out.append(body.data() + i, bs - i);
    i = bs;
    auto fail = [&](std::size_t len) -> std::optional<std::string> {
      if (bad_offset) *bad_offset = i;
      if (bad_len) *bad_len = std::min(len, body.size() - i);
      return std::nullopt;
    };
    if (i + 1 >= body.size()) return fail(1);
    char e = body[i + 1];
    switch (e) {
      case '"': out += '"'; ++i; break;
      case '\\': out += '\\'; ++i; break;
      case 'n': out += '\n'; ++i; break;
      case 'r': out += '\r'; ++i; break;
      case 't': out += '\t'; ++i; break;
      case '0': out += '\0'; ++i; break;
      case 'u': {
        std::size_t j = i + 2;
        std::uint32_t cp = 0;
        std::size_t digits = 0;
        bool braced = j < body.size() && body[j] == '{';
        if (braced) ++j;
        while (j < body.size() && std::isxdigit(static_cast<unsigned char>(body[j])) && digits < (braced ? 6 : 4)) {
          auto h = static_cast<unsigned char>(body[j]);
          cp = cp * 16 + static_cast<std::uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
          ++j, ++digits;
        }
        if (braced) {
          if (j >= body.size() || body[j] != '}' || digits == 0) return fail(j - i + 1);
          ++j;
        } else if (digits != 4) {
          return fail(j - i);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return fail(j - i);
        append_utf8(out, cp);
        i = j - 1;
        break;
      }
      default: return fail(2);
    }
  }
  return out;
}

std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{{{:x}}}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace ward::literals
