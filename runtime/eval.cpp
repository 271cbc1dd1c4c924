#include "runtime/eval.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <locale.h>
#include <re2/re2.h>
#include <wctype.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "ast/literals.h"
#include "ast/value.h"

namespace ward::vm {

namespace {

using bc::Opcode;

inline char fold(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline bool alnum(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool starts_ci(std::string_view x, std::string_view t) {
  return x.size() >= t.size() && ascii_iequal(x.substr(0, t.size()), t);
}
bool ends_ci(std::string_view x, std::string_view t) {
  return x.size() >= t.size() && ascii_iequal(x.substr(x.size() - t.size()), t);
}
// Calls f(i) for every position where t occurs in x (case-folded) until f returns true.
template <typename F>
bool find_ci(std::string_view x, std::string_view t, F&& f) {
  if (t.size() > x.size()) return false;
  if (t.empty()) return f(std::size_t{0});
  // Candidates for the first byte by memchr, in both cases: most bytes of x are not it.
  const char lo = fold(t[0]), up = lo >= 'a' && lo <= 'z' ? static_cast<char>(lo - 32) : lo;
  const char* const base = x.data();
  const char* const end = base + (x.size() - t.size() + 1);  // last start + 1
  const char* next_lo = static_cast<const char*>(std::memchr(base, lo, static_cast<std::size_t>(end - base)));
  const char* next_up = lo == up ? nullptr : static_cast<const char*>(std::memchr(base, up, static_cast<std::size_t>(end - base)));
  while (next_lo || next_up) {
    const char* c = !next_up || (next_lo && next_lo < next_up) ? next_lo : next_up;
    auto i = static_cast<std::size_t>(c - base);
    if (ascii_iequal(x.substr(i + 1, t.size() - 1), t.substr(1)) && f(i)) return true;
    auto after = [&](char ch) {
      return c + 1 < end ? static_cast<const char*>(std::memchr(c + 1, ch, static_cast<std::size_t>(end - c - 1))) : nullptr;
    };
    if (c == next_lo) next_lo = after(lo);
    else next_up = after(up);
  }
  return false;
}
bool contains_ci(std::string_view x, std::string_view t) {
  return find_ci(x, t, [](std::size_t) { return true; });
}
// Kusto's term match (semantics §4.3).
bool has(std::string_view x, std::string_view t) {
  return find_ci(x, t, [&](std::size_t i) {
    bool start_ok = i == 0 || !alnum(x[i - 1]) || t.empty() || !alnum(t[0]);
    std::size_t e = i + t.size();
    bool end_ok = e == x.size() || !alnum(x[e]) || t.empty() || !alnum(t.back());
    return start_ok && end_ok;
  });
}

// A value's text (tostring, §5) as a view: strings as they are, anything else written into
// the scratch arena; null gives false.
bool text_of(const Val& v, std::string_view& out, Arena& scratch) {
  if (v.tag == Tag::Null) return false;
  if (v.tag == Tag::String) {
    out = v.str();
    return true;
  }
  std::string s;
  append_text(s, v);
  out = scratch.copy(s);
  return true;
}
std::string_view text_or_empty(const Val& v, Arena& scratch) {
  std::string_view s;
  text_of(v, s, scratch);
  return s;
}

enum class Cls { Null, Str, Num, Bool, Time, Span, Container };
inline Cls cls(const Val& v) {
  switch (v.tag) {
    case Tag::Null: return Cls::Null;
    case Tag::String: return Cls::Str;
    case Tag::Long: case Tag::Real: return Cls::Num;
    case Tag::Bool: return Cls::Bool;
    case Tag::Datetime: return Cls::Time;
    case Tag::Timespan: return Cls::Span;
    case Tag::Dyn: return Cls::Container;
  }
  return Cls::Null;
}

// <0, 0, >0 for numbers; NaN compares unordered (every comparison false but !=).
int num_cmp(const Val& a, const Val& b, bool& unordered) {
  unordered = false;
  if (a.tag == Tag::Long && b.tag == Tag::Long) return a.i < b.i ? -1 : a.i > b.i;
  double x = a.tag == Tag::Long ? static_cast<double>(a.i) : a.r;
  double y = b.tag == Tag::Long ? static_cast<double>(b.i) : b.r;
  if (std::isnan(x) || std::isnan(y)) {
    unordered = true;
    return 0;
  }
  return x < y ? -1 : x > y;
}

}  // namespace

bool compare(bc::CmpOp op, const Val& a, const Val& b) {
  Cls ca = cls(a), cb = cls(b);
  if (ca == Cls::Null || cb == Cls::Null || ca != cb || ca == Cls::Container) return false;
  using bc::CmpOp;
  if (op == CmpOp::EqCi || op == CmpOp::NeCi) {
    if (ca != Cls::Str) return false;
    return ascii_iequal(a.str(), b.str()) == (op == CmpOp::EqCi);
  }
  int c = 0;
  bool unordered = false;
  switch (ca) {
    case Cls::Str: {
      if (op != CmpOp::Eq && op != CmpOp::Ne) return false;  // strings have no order
      return (a.str() == b.str()) == (op == CmpOp::Eq);
    }
    case Cls::Bool:
      if (op != CmpOp::Eq && op != CmpOp::Ne) return false;
      return (a.b == b.b) == (op == CmpOp::Eq);
    case Cls::Num: c = num_cmp(a, b, unordered); break;
    case Cls::Time: case Cls::Span: c = a.i < b.i ? -1 : a.i > b.i; break;
    default: return false;
  }
  if (unordered) return op == CmpOp::Ne;
  switch (op) {
    case CmpOp::Eq: return c == 0;
    case CmpOp::Ne: return c != 0;
    case CmpOp::Lt: return c < 0;
    case CmpOp::Le: return c <= 0;
    case CmpOp::Gt: return c > 0;
    case CmpOp::Ge: return c >= 0;
    default: return false;
  }
}

namespace {

bool parse_address(std::string_view s, bool& v6, std::uint8_t out[16]) {
  if (s.empty() || s.size() > 45) return false;
  // The last text parsed, compared by content: one row's address meets every `in cidr` of
  // every rule on its table, so it is parsed once, not once per rule.
  struct Last {
    char text[46];
    std::size_t len = 0;
    bool v6 = false, ok = false;
    std::uint8_t addr[16];
  };
  thread_local Last last;
  if (last.len == s.size() && std::memcmp(last.text, s.data(), s.size()) == 0) {
    v6 = last.v6;
    std::memcpy(out, last.addr, 16);
    return last.ok;
  }
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  v6 = s.find(':') != std::string_view::npos;
  std::memset(out, 0, 16);
  bool ok = inet_pton(v6 ? AF_INET6 : AF_INET, buf, out) == 1;
  std::memcpy(last.text, s.data(), s.size());
  last.len = s.size(), last.v6 = v6, last.ok = ok;
  std::memcpy(last.addr, out, 16);
  return ok;
}

bool in_cidr(const PreparedCidr& c, std::string_view s, bool& valid) {
  bool v6;
  std::uint8_t a[16];
  valid = parse_address(s, v6, a);
  if (!valid) return false;
  if (!v6) {
    std::uint32_t x = static_cast<std::uint32_t>(a[0]) << 24 | a[1] << 16 | a[2] << 8 | a[3];
    for (auto [net, mask] : c.v4)
      if ((x & mask) == net) return true;
    return false;
  }
  for (const auto& r : c.v6) {
    int full = r.prefix / 8, rest = r.prefix % 8;
    if (std::memcmp(a, r.addr, full) != 0) continue;
    if (rest) {
      std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
      if ((a[full] & mask) != (r.addr[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

// Unicode simple case mapping through the C library's UTF-8 tables.
locale_t utf8_locale() {
  static locale_t loc = [] {
    locale_t l = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(0));
    return l;
  }();
  return loc;
}

std::string_view map_case(std::string_view s, bool upper, Arena& scratch) {
  bool ascii = true;
  for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
  char* out = static_cast<char*>(scratch.alloc(s.size() * 2 + 8, 1));
  if (ascii) {
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      out[i] = upper ? ((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c) : fold(c);
    }
    return {out, s.size()};
  }
  auto loc = utf8_locale();
  std::string r;
  std::size_t i = 0;
  while (i < s.size()) {
    // decode one UTF-8 sequence; an invalid byte is kept as it is
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    std::uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = cp << 6 | (cc & 0x3f);
    }
    if (!ok || !loc) {
      r += s[i++];
      continue;
    }
    append_utf8(r, static_cast<std::uint32_t>(upper ? towupper_l(static_cast<wint_t>(cp), loc) : towlower_l(static_cast<wint_t>(cp), loc)));
    i += n;
  }
  return scratch.copy(r);
}

Val to_long(const Val& v) {
  switch (v.tag) {
    case Tag::Long: return v;
    case Tag::Real: {
      if (!std::isfinite(v.r) || v.r >= 9223372036854775808.0 || v.r < -9223372036854775808.0) return Val{};
      return Val::integer(static_cast<std::int64_t>(v.r));
    }
    case Tag::Bool: return Val::integer(v.b);
    case Tag::Datetime: case Tag::Timespan: return Val::integer(v.i);
    case Tag::String: {
      auto x = parse_long(v.str());
      return x ? Val::integer(*x) : Val{};
    }
    default: return Val{};
  }
}
Val to_real(const Val& v) {
  switch (v.tag) {
    case Tag::Long: return Val::real(static_cast<double>(v.i));
    case Tag::Real: return v;
    case Tag::Bool: return Val::real(v.b);
    case Tag::Datetime: case Tag::Timespan: return Val::real(static_cast<double>(v.i));
    case Tag::String: {
      auto x = parse_real(v.str());
      return x ? Val::real(*x) : Val{};
    }
    default: return Val{};
  }
}

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

std::int64_t wrap_add(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b)); }
std::int64_t wrap_sub(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b)); }
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b)); }

Val trunc_ticks(double d) {
  if (!std::isfinite(d) || d >= 9223372036854775808.0 || d < -9223372036854775808.0) return Val{};
  return Val::timespan(static_cast<std::int64_t>(d));
}

Val arith(bc::ArithOp op, const Val& a, const Val& b) {
  using bc::ArithOp;
  Cls ca = cls(a), cb = cls(b);
  if (ca == Cls::Num && cb == Cls::Num) {
    if (a.tag == Tag::Long && b.tag == Tag::Long) {
      switch (op) {
        case ArithOp::Add: return Val::integer(wrap_add(a.i, b.i));
        case ArithOp::Sub: return Val::integer(wrap_sub(a.i, b.i));
        case ArithOp::Mul: return Val::integer(wrap_mul(a.i, b.i));
        case ArithOp::Div:
          if (b.i == 0) return Val{};
          if (a.i == kMin && b.i == -1) return Val::integer(kMin);
          return Val::integer(a.i / b.i);
        case ArithOp::Mod: {
          if (b.i == 0) return Val{};
          if (b.i == -1) return Val::integer(0);
          std::int64_t r = a.i % b.i;
          if (r < 0) r = b.i > 0 ? r + b.i : r - b.i;
          return Val::integer(r);
        }
        default: return Val{};
      }
    }
    double x = a.tag == Tag::Long ? static_cast<double>(a.i) : a.r;
    double y = b.tag == Tag::Long ? static_cast<double>(b.i) : b.r;
    switch (op) {
      case ArithOp::Add: return Val::real(x + y);
      case ArithOp::Sub: return Val::real(x - y);
      case ArithOp::Mul: return Val::real(x * y);
      case ArithOp::Div: return y == 0 ? Val{} : Val::real(x / y);
      case ArithOp::Mod: {
        if (y == 0) return Val{};
        double r = std::fmod(x, y);
        if (r < 0) r += std::fabs(y);
        return Val::real(r);
      }
      default: return Val{};
    }
  }
  if (ca == Cls::Time && cb == Cls::Span) {
    if (op == ArithOp::Add) return Val::datetime(wrap_add(a.i, b.i));
    if (op == ArithOp::Sub) return Val::datetime(wrap_sub(a.i, b.i));
    return Val{};
  }
  if (ca == Cls::Span && cb == Cls::Time) return op == ArithOp::Add ? Val::datetime(wrap_add(a.i, b.i)) : Val{};
  if (ca == Cls::Time && cb == Cls::Time) return op == ArithOp::Sub ? Val::timespan(wrap_sub(a.i, b.i)) : Val{};
  if (ca == Cls::Span && cb == Cls::Span) {
    switch (op) {
      case ArithOp::Add: return Val::timespan(wrap_add(a.i, b.i));
      case ArithOp::Sub: return Val::timespan(wrap_sub(a.i, b.i));
      case ArithOp::Div: return b.i == 0 ? Val{} : Val::real(static_cast<double>(a.i) / static_cast<double>(b.i));
      default: return Val{};
    }
  }
  if (ca == Cls::Span && cb == Cls::Num) {
    if (op == ArithOp::Mul) {
      if (b.tag == Tag::Long) return Val::timespan(wrap_mul(a.i, b.i));
      return trunc_ticks(static_cast<double>(a.i) * b.r);
    }
    if (op == ArithOp::Div) {
      if (b.tag == Tag::Long) {
        if (b.i == 0) return Val{};
        if (a.i == kMin && b.i == -1) return Val::timespan(kMin);
        return Val::timespan(a.i / b.i);
      }
      return b.r == 0 ? Val{} : trunc_ticks(static_cast<double>(a.i) / b.r);
    }
    return Val{};
  }
  if (ca == Cls::Num && cb == Cls::Span && op == ArithOp::Mul) {
    if (a.tag == Tag::Long) return Val::timespan(wrap_mul(a.i, b.i));
    return trunc_ticks(a.r * static_cast<double>(b.i));
  }
  return Val{};
}

Val member(const Val& d, std::string_view k) {
  if (d.tag != Tag::Dyn || d.d->kind != Node::Kind::Object) return Val{};
  for (std::uint32_t i = 0; i < d.d->n; ++i) {
    const auto& m = d.d->members[i];
    if (m.key_len == k.size() && std::memcmp(m.key, k.data(), k.size()) == 0) return node_value(m.value);
  }
  return Val{};
}

Val index(const Val& d, const Val& i) {
  if (d.tag != Tag::Dyn) return Val{};
  if (i.tag == Tag::String) return member(d, i.str());
  if (d.d->kind != Node::Kind::Array) return Val{};
  std::int64_t k;
  if (i.tag == Tag::Long) k = i.i;
  else if (i.tag == Tag::Real && std::floor(i.r) == i.r && std::fabs(i.r) < 1e15) k = static_cast<std::int64_t>(i.r);
  else return Val{};
  std::int64_t n = d.d->n;
  if (k < 0) k += n;
  if (k < 0 || k >= n) return Val{};
  return node_value(d.d->items[k]);
}

bool exists(const Val& v) {
  if (v.tag == Tag::Null) return false;
  if (v.tag == Tag::String) return v.n != 0;
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Val call(bc::Fn fn, const Val* args, const Image::Context& ctx) {
  using bc::Fn;
  Arena& scratch = *ctx.scratch;
  auto text = [&](const Val& v) { return text_or_empty(v, scratch); };
  switch (fn) {
    case Fn::ToLower: return Val::string(map_case(text(args[0]), false, scratch));
    case Fn::ToUpper: return Val::string(map_case(text(args[0]), true, scratch));
    case Fn::StrLen: {
      std::int64_t n = 0;
      for (char c : text(args[0])) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
      return Val::integer(n);
    }
    case Fn::Trim: {
      auto s = text(args[0]);
      auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'; };
      while (!s.empty() && ws(s.front())) s.remove_prefix(1);
      while (!s.empty() && ws(s.back())) s.remove_suffix(1);
      return Val::string(s);
    }
    case Fn::ToString: return Val::string(text(args[0]));
    case Fn::ToLong: return to_long(args[0]);
    case Fn::ToReal: return to_real(args[0]);
    case Fn::ToDatetime: {
      const auto& v = args[0];
      if (v.tag == Tag::Datetime) return v;
      if (v.tag != Tag::String) return Val{};
      auto t = literals::parse_datetime(v.str());
      return t ? Val::datetime(*t) : Val{};
    }
    case Fn::ToTimespan: {
      const auto& v = args[0];
      if (v.tag == Tag::Timespan) return v;
      if (v.tag == Tag::Long) return Val::timespan(v.i);
      if (v.tag == Tag::Real) return trunc_ticks(v.r);
      if (v.tag != Tag::String) return Val{};
      auto t = parse_timespan(v.str());
      return t ? Val::timespan(*t) : Val{};
    }
    case Fn::ParseJson: {
      const auto& v = args[0];
      if (v.tag != Tag::String) return v;  // a dynamic value is returned unchanged
      if (v.n == 0) return Val{};
      bool ok;
      Val parsed = parse_json(v.str(), scratch, &ok);
      if (!ok) return v;  // not JSON: a dynamic string holding the text
      return parsed.tag == Tag::Dyn ? node_value(*parsed.d) : parsed;
    }
    case Fn::ArrayLength:
      if (args[0].tag == Tag::Dyn && args[0].d->kind == Node::Kind::Array) return Val::integer(args[0].d->n);
      return Val{};
    case Fn::Now: return Val::datetime(ctx.now);
    case Fn::Ago:
      if (args[0].tag != Tag::Timespan) return Val{};
      return Val::datetime(wrap_sub(ctx.now, args[0].i));
    case Fn::HourOfDay:
      if (args[0].tag != Tag::Datetime) return Val{};
      return Val::integer(floor_div(args[0].i, kTicksPerHour) - floor_div(args[0].i, kTicksPerDay) * 24);
    case Fn::DayOfWeek: {
      if (args[0].tag != Tag::Datetime) return Val{};
      std::int64_t days = floor_div(args[0].i, kTicksPerDay);  // 1970-01-01 was a Thursday (4)
      std::int64_t w = (days + 4) % 7;
      return Val::integer(w < 0 ? w + 7 : w);
    }
    case Fn::StartOfDay:
      if (args[0].tag != Tag::Datetime) return Val{};
      return Val::datetime(floor_div(args[0].i, kTicksPerDay) * kTicksPerDay);
    case Fn::Exists: return Val::boolean(exists(args[0]));
    case Fn::Empty: return Val::boolean(!exists(args[0]));
    case Fn::Count_: break;
  }
  return Val{};
}

}  // namespace

std::optional<std::int64_t> parse_long(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  std::int64_t v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}
std::optional<double> parse_real(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || !(std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '.')) return std::nullopt;
  double v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::general);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (fold(a[i]) != fold(b[i])) return false;
  return true;
}

std::string ascii_fold(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = fold(c);
  return r;
}

std::optional<std::int64_t> parse_timespan(std::string_view s) {
  // [-][d.]hh:mm:ss[.fffffff]
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  auto num = [&](std::string_view& t, std::int64_t& out, std::size_t min, std::size_t max) {
    std::size_t n = 0;
    out = 0;
    while (n < t.size() && n < max && t[n] >= '0' && t[n] <= '9') out = out * 10 + (t[n++] - '0');
    if (n < min) return false;
    t.remove_prefix(n);
    return true;
  };
  std::int64_t days = 0, h, m, sec;
  auto dot = s.find('.'), colon = s.find(':');
  if (dot != std::string_view::npos && dot < colon) {
    if (!num(s, days, 1, 8) || s.empty() || s[0] != '.') return std::nullopt;
    s.remove_prefix(1);
  }
  if (!num(s, h, 2, 2) || s.empty() || s[0] != ':') return std::nullopt;
  s.remove_prefix(1);
  if (!num(s, m, 2, 2) || s.empty() || s[0] != ':') return std::nullopt;
  s.remove_prefix(1);
  if (!num(s, sec, 2, 2)) return std::nullopt;
  std::int64_t frac = 0;
  if (!s.empty() && s[0] == '.') {
    s.remove_prefix(1);
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
      if (n < 7) frac = frac * 10 + (s[n] - '0');
      ++n;
    }
    if (n == 0) return std::nullopt;
    for (std::size_t k = n; k < 7; ++k) frac *= 10;
    s.remove_prefix(n);
  }
  if (!s.empty() || h > 23 || m > 59 || sec > 59) return std::nullopt;
  std::int64_t t = days * kTicksPerDay + h * kTicksPerHour + m * kTicksPerMinute + sec * kTicksPerSecond + frac;
  return neg ? -t : t;
}

Image::Image(bc::Program p) : p_(std::move(p)) {
  consts_.reserve(p_.consts.size());
  for (const auto& c : p_.consts) {
    switch (c.type) {
      case bc::Type::Bool: consts_.push_back(Val::boolean(c.i != 0)); break;
      case bc::Type::Int: case bc::Type::Long: consts_.push_back(Val::integer(c.i)); break;
      case bc::Type::Real: consts_.push_back(Val::real(c.r)); break;
      case bc::Type::Datetime: consts_.push_back(Val::datetime(c.i)); break;
      case bc::Type::Timespan: consts_.push_back(Val::timespan(c.i)); break;
      case bc::Type::String: case bc::Type::Guid: consts_.push_back(Val::string(p_.strings[c.i])); break;
      default: consts_.push_back(Val{}); break;
    }
  }
  for (const auto& s : p_.sets) {
    PreparedSet ps;
    ps.storage.reserve(s.elems.size());
    for (auto e : s.elems) {
      const auto& c = p_.consts[e];
      if (c.type == bc::Type::String || c.type == bc::Type::Guid) {
        const auto& text = p_.strings[c.i];
        ps.exact.insert(text);
        ps.storage.push_back(ascii_fold(text));
      } else if (c.type == bc::Type::Real) {
        ps.numeric = true, ps.reals.push_back(c.r);
      } else {
        ps.numeric = true, ps.longs.push_back(c.i);
      }
    }
    for (const auto& f : ps.storage) ps.folded.insert(f);
    sets_.push_back(std::move(ps));
  }
  for (const auto& c : p_.cidrs) {
    PreparedCidr pc;
    for (const auto& r : c.ranges) {
      if (!r.v6) {
        std::uint32_t a = static_cast<std::uint32_t>(r.addr[0]) << 24 | r.addr[1] << 16 | r.addr[2] << 8 | r.addr[3];
        std::uint32_t mask = r.prefix == 0 ? 0 : ~0u << (32 - r.prefix);
        pc.v4.emplace_back(a & mask, mask);
      } else {
        PreparedCidr::V6 v;
        std::memcpy(v.addr, r.addr, 16);
        v.prefix = r.prefix;
        pc.v6.push_back(v);
      }
    }
    cidrs_.push_back(std::move(pc));
  }
  RE2::Options opt;
  opt.set_log_errors(false);
  for (auto rx : p_.regexes) {
    auto re = std::make_unique<RE2>(p_.strings[rx], opt);
    if (!re->ok()) throw bc::BundleError(fmt::format("regex {}: {}", literals::quote(p_.strings[rx]), re->error()));
    regexes_.push_back(std::move(re));
  }
  slot_.resize(p_.fields.size());
  table_fields_.resize(p_.tables.size());
  for (std::uint32_t f = 0; f < p_.fields.size(); ++f) {
    auto& tf = table_fields_[p_.fields[f].table];
    slot_[f] = static_cast<std::uint32_t>(tf.size());
    tf.push_back(f);
  }
}

Image::~Image() = default;

std::optional<Image::Equality> Image::required_equality(std::uint32_t ci) const {
  const auto& ch = p_.chunks[ci];
  if (ch.len < 4) return std::nullopt;
  const bc::Insn* code = p_.code.data() + ch.start;
  if (code[0].op != Opcode::Col || code[1].op != Opcode::Const || code[2].op != Opcode::Cmp ||
      static_cast<bc::CmpOp>(code[2].a) != bc::CmpOp::Eq || consts_[code[1].c].tag != Tag::String)
    return std::nullopt;
  // A false first comparison must be the chunk's value: `ret` next, or `and` jumps (through
  // further `and`s, which keep a false and jump on) that end at `ret`.
  std::uint32_t pc = 3;
  while (code[pc].op == Opcode::AndJmp) {
    pc = code[pc].c;
    if (pc >= ch.len) return std::nullopt;
  }
  if (code[pc].op != Opcode::Ret) return std::nullopt;
  // A true first comparison: `and` pops it and goes on at 4, with the stack empty again.
  return Equality{slot_[code[0].c], consts_[code[1].c].str(), code[3].op == Opcode::Ret ? Equality::kTrue : 4u};
}

Val Image::eval(std::uint32_t ci, const Context& ctx, std::uint32_t from) const {
  const auto& ch = p_.chunks[ci];
  // Uninitialised on purpose: the verifier proved every slot is written before it is read.
  alignas(Val) unsigned char raw[sizeof(Val) * (bc::kMaxStack + 1)];
  Val* sp = reinterpret_cast<Val*>(raw);  // next free
  const bc::Insn* code = p_.code.data() + ch.start;
  Arena& scratch = *ctx.scratch;
  for (std::uint32_t pc = from;; ++pc) {
    const auto& in = code[pc];
    switch (in.op) {
      case Opcode::Col: *sp++ = ctx.rows[in.a][slot_[in.c]]; break;
      case Opcode::Const: *sp++ = consts_[in.c]; break;
      case Opcode::Cmp: --sp; sp[-1] = Val::boolean(compare(static_cast<bc::CmpOp>(in.a), sp[-1], sp[0])); break;
      case Opcode::StrOp: {
        --sp;
        std::string_view x, t;
        bool ok = text_of(sp[-1], x, scratch) && text_of(sp[0], t, scratch);
        bool r = false;
        if (ok) {
          auto op = static_cast<bc::StrOp>(in.a);
          switch (op) {
            case bc::StrOp::Contains: case bc::StrOp::NotContains: r = contains_ci(x, t); break;
            case bc::StrOp::StartsWith: case bc::StrOp::NotStartsWith: r = starts_ci(x, t); break;
            case bc::StrOp::EndsWith: case bc::StrOp::NotEndsWith: r = ends_ci(x, t); break;
            default: r = has(x, t); break;
          }
          if (static_cast<int>(op) % 2 == 1) r = !r;
        }
        sp[-1] = Val::boolean(r);
        break;
      }
      case Opcode::Regex: {
        std::string_view x;
        bool r = text_of(sp[-1], x, scratch) && RE2::PartialMatch(x, *regexes_[in.c]);
        sp[-1] = Val::boolean(r);
        break;
      }
      case Opcode::InSet: {
        const auto& s = sets_[in.c];
        const Val& x = sp[-1];
        auto op = static_cast<bc::SetOp>(in.a);
        bool negated = op == bc::SetOp::NotIn || op == bc::SetOp::NotInCi;
        bool found = false, defined = false;
        Cls c = cls(x);
        if (c == Cls::Str && (!s.numeric || s.empty())) {
          defined = true;
          if (op == bc::SetOp::InCi || op == bc::SetOp::NotInCi) {
            auto f = x.str();
            bool plain = true;
            for (char ch2 : f) plain &= !(ch2 >= 'A' && ch2 <= 'Z');
            found = plain ? s.folded.count(f) > 0 : s.folded.count(ascii_fold(f)) > 0;
          } else {
            found = s.exact.count(x.str()) > 0;
          }
        } else if (c == Cls::Num && (s.numeric || s.empty())) {
          defined = true;
          for (auto l : s.longs) found |= compare(bc::CmpOp::Eq, x, Val::integer(l));
          for (auto r : s.reals) found |= compare(bc::CmpOp::Eq, x, Val::real(r));
        }
        sp[-1] = Val::boolean(defined && (found != negated));
        break;
      }
      case Opcode::InCidr: {
        bool valid = false, r = false;
        if (sp[-1].tag == Tag::String) r = in_cidr(cidrs_[in.c], sp[-1].str(), valid);
        sp[-1] = Val::boolean(valid && (r != (in.a == 1)));
        break;
      }
      case Opcode::Not: sp[-1] = Val::boolean(!(sp[-1].tag == Tag::Bool && sp[-1].b)); break;
      case Opcode::AndJmp:
        if (!(sp[-1].tag == Tag::Bool && sp[-1].b)) {
          sp[-1] = Val::boolean(false);
          pc = in.c - 1;
        } else {
          --sp;
        }
        break;
      case Opcode::OrJmp:
        if (sp[-1].tag == Tag::Bool && sp[-1].b) {
          pc = in.c - 1;
        } else {
          --sp;
        }
        break;
      case Opcode::Arith: --sp; sp[-1] = arith(static_cast<bc::ArithOp>(in.a), sp[-1], sp[0]); break;
      case Opcode::Neg: {
        Val& v = sp[-1];
        if (v.tag == Tag::Long) v.i = wrap_sub(0, v.i);
        else if (v.tag == Tag::Real) v.r = -v.r;
        else if (v.tag == Tag::Timespan) v.i = wrap_sub(0, v.i);
        else v = Val{};
        break;
      }
      case Opcode::Member: sp[-1] = member(sp[-1], p_.strings[in.c]); break;
      case Opcode::Index: --sp; sp[-1] = index(sp[-1], sp[0]); break;
      case Opcode::Call: {
        sp -= in.b;
        Val r = call(static_cast<bc::Fn>(in.a), sp, ctx);
        *sp++ = r;
        break;
      }
      case Opcode::Agg: *sp++ = ctx.aggs[in.a]; break;
      case Opcode::Ret: return sp[-1];
      case Opcode::Count_: return Val{};
    }
  }
}

}  // namespace ward::vm
