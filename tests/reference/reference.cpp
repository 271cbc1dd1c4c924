// The reference evaluator. Section numbers refer to docs/semantics.md; each piece is the
// document's definition written as directly as possible, with no indexing, no incremental state
// and no streaming, so that a disagreement with the VM points at one of the two definitions.
#include "reference.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>
#include <simdjson.h>
#include <unicode/uchar.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <memory>

namespace ward::ref {
namespace {

using ir::Expr;
using ir::Fn;
using ir::Type;
using ast::Op;

// ---------------------------------------------------------------- dynamic values (§6)

struct Json;
using JsonPtr = std::shared_ptr<const Json>;

struct Json {
  enum class K { Null, Bool, Int, UInt, Real, Str, Arr, Obj } k = K::Null;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;  // integers above INT64_MAX, kept so they print as integers
  double r = 0;
  std::string s;
  std::vector<JsonPtr> arr;
  std::vector<std::pair<std::string, JsonPtr>> obj;  // input order, as the outcome prints it
};

JsonPtr from_dom(simdjson::dom::element el) {
  auto j = std::make_shared<Json>();
  using T = simdjson::dom::element_type;
  switch (el.type()) {
    case T::ARRAY:
      j->k = Json::K::Arr;
    {
      simdjson::dom::array a = el.get_array().value();  // a named copy: the result object is a temporary
      for (auto v : a) j->arr.push_back(from_dom(v));
    }
      break;
    case T::OBJECT:
      j->k = Json::K::Obj;
    {
      simdjson::dom::object o = el.get_object().value();
      for (auto f : o) j->obj.emplace_back(std::string(f.key), from_dom(f.value));
    }
      break;
    case T::INT64: j->k = Json::K::Int; j->i = el.get_int64().value(); break;
    // beyond int64 a JSON integer is a real (docs/semantics.md §2.3), as in the VM
    case T::UINT64: j->k = Json::K::Real; j->r = static_cast<double>(el.get_uint64().value()); break;
    case T::DOUBLE: j->k = Json::K::Real; j->r = el.get_double().value(); break;
    case T::STRING: j->k = Json::K::Str; j->s = std::string(el.get_string().value()); break;
    case T::BOOL: j->k = Json::K::Bool; j->b = el.get_bool().value(); break;
    case T::NULL_VALUE: j->k = Json::K::Null; break;
  }
  return j;
}

// Strict RFC 8259 (simdjson's): anything it rejects, including out-of-range numbers, is not JSON.
std::optional<JsonPtr> parse_json_text(std::string_view text) {
  static simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element el;
  if (parser.parse(padded).get(el)) return std::nullopt;
  return from_dom(el);
}

std::string fmt_real(double d) { return fmt::format("{}", d); }

void write_json(const Json& j, std::string& out) {
  switch (j.k) {
    case Json::K::Null: out += "null"; break;
    case Json::K::Bool: out += j.b ? "true" : "false"; break;
    case Json::K::Int: out += std::to_string(j.i); break;
    case Json::K::UInt: out += std::to_string(j.u); break;
    case Json::K::Real: out += std::isfinite(j.r) ? fmt_real(j.r) : "null"; break;
    case Json::K::Str: out += json_quote(j.s); break;
    case Json::K::Arr:
      out += '[';
      for (std::size_t n = 0; n < j.arr.size(); ++n) {
        if (n) out += ',';
        write_json(*j.arr[n], out);
      }
      out += ']';
      break;
    case Json::K::Obj:
      out += '{';
      for (std::size_t n = 0; n < j.obj.size(); ++n) {
        if (n) out += ',';
        out += json_quote(j.obj[n].first);
        out += ':';
        write_json(*j.obj[n].second, out);
      }
      out += '}';
      break;
  }
}

std::string json_text(const Json& j) {
  std::string s;
  write_json(j, s);
  return s;
}

// ---------------------------------------------------------------- run-time values

// One run-time value. Guids are Str (their text); the IR type says when a Str is a guid.
// A dynamic value is Dyn with a non-null Json; a dynamic null is Null, as §6.1 makes them one.
struct Val {
  enum class K { Null, Bool, Int, Real, Str, Time, Span, Dyn } k = K::Null;
  bool b = false;
  std::int64_t i = 0;  // Int, Time, Span
  double r = 0;
  std::string s;
  JsonPtr d;

  static Val null() { return {}; }
  static Val boolean(bool v) { Val x; x.k = K::Bool; x.b = v; return x; }
  static Val integer(std::int64_t v) { Val x; x.k = K::Int; x.i = v; return x; }
  static Val real(double v) { Val x; x.k = K::Real; x.r = v; return x; }
  static Val str(std::string v) { Val x; x.k = K::Str; x.s = std::move(v); return x; }
  static Val time(std::int64_t v) { Val x; x.k = K::Time; x.i = v; return x; }
  static Val span(std::int64_t v) { Val x; x.k = K::Span; x.i = v; return x; }
  static Val dyn(JsonPtr j) {
    if (!j || j->k == Json::K::Null) return {};
    Val x; x.k = K::Dyn; x.d = std::move(j); return x;
  }
  bool is_null() const { return k == K::Null; }
};

Val dyn_of_scalar(const Val& v) {
  auto j = std::make_shared<Json>();
  switch (v.k) {
    case Val::K::Bool: j->k = Json::K::Bool; j->b = v.b; break;
    case Val::K::Int: j->k = Json::K::Int; j->i = v.i; break;
    case Val::K::Real: j->k = Json::K::Real; j->r = v.r; break;
    case Val::K::Str: j->k = Json::K::Str; j->s = v.s; break;
    case Val::K::Dyn: return v;
    default: return Val::null();  // JSON has no datetime or timespan
  }
  return Val::dyn(j);
}

// The scalar a dynamic value takes part as (§6.3). Arrays and objects stay Dyn: no scalar kind.
Val unwrap(const Val& v) {
  if (v.k != Val::K::Dyn) return v;
  const Json& j = *v.d;
  switch (j.k) {
    case Json::K::Bool: return Val::boolean(j.b);
    case Json::K::Int: return Val::integer(j.i);
    case Json::K::UInt: return Val::real(static_cast<double>(j.u));
    case Json::K::Real: return Val::real(j.r);
    case Json::K::Str: return Val::str(j.s);
    default: return v;
  }
}

bool is_number(const Val& v) { return v.k == Val::K::Int || v.k == Val::K::Real; }
double as_double(const Val& v) { return v.k == Val::K::Int ? static_cast<double>(v.i) : v.r; }

// ---------------------------------------------------------------- text

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string ascii_fold(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = ascii_lower(c);
  return o;
}
bool alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// UTF-8 decoding for tolower/toupper/strlen. Input text is valid UTF-8 (simdjson validates every
// line, the compiler every source); a stray byte is still kept, as one code point of its own.
std::vector<std::uint32_t> decode_utf8(std::string_view s) {
  std::vector<std::uint32_t> cps;
  for (std::size_t n = 0; n < s.size();) {
    auto c = static_cast<unsigned char>(s[n]);
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || n + len > s.size()) {
      cps.push_back(c);
      ++n;
      continue;
    }
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
    for (int k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[n + k]) & 0x3f);
    cps.push_back(cp);
    n += len;
  }
  return cps;
}
void encode_utf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}
// §5: "Unicode simple mapping": ICU's per-code-point u_tolower/u_toupper are exactly that.
std::string map_case(std::string_view s, bool upper) {
  std::string out;
  for (auto cp : decode_utf8(s)) {
    auto m = upper ? u_toupper(static_cast<UChar32>(cp)) : u_tolower(static_cast<UChar32>(cp));
    encode_utf8(static_cast<std::uint32_t>(m), out);
  }
  return out;
}

bool is_trim_space(char c) { return c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == ' '; }

// §4.3, `has`, with both sides already folded. Byte positions stand in for code points: UTF-8
// matches only at character starts, and a non-ASCII neighbour is never alnum either way.
bool has_term(const std::string& x, const std::string& t) {
  if (t.size() > x.size()) return false;
  for (std::size_t i = 0; i + t.size() <= x.size(); ++i) {
    if (x.compare(i, t.size(), t) != 0) continue;
    bool start_ok = i == 0 || !alnum(x[i - 1]) || t.empty() || !alnum(t.front());
    std::size_t e = i + t.size();
    bool end_ok = e == x.size() || !alnum(x[e]) || t.empty() || !alnum(t.back());
    if (start_ok && end_ok) return true;
  }
  return false;
}

// ---------------------------------------------------------------- numbers and times in text

std::optional<std::int64_t> parse_decimal_int(std::string_view s) {
  std::size_t n = 0;
  bool neg = false;
  if (n < s.size() && (s[n] == '+' || s[n] == '-')) neg = s[n++] == '-';
  if (n == s.size()) return std::nullopt;
  std::uint64_t v = 0;
  const std::uint64_t limit = neg ? 9223372036854775808ull : 9223372036854775807ull;
  for (; n < s.size(); ++n) {
    if (s[n] < '0' || s[n] > '9') return std::nullopt;
    std::uint64_t dgt = static_cast<std::uint64_t>(s[n] - '0');
    if (v > (limit - dgt) / 10) return std::nullopt;
    v = v * 10 + dgt;
  }
  return neg ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
}

// A decimal number: [+-] digits [. digits] [e [+-] digits], with digits on at least one side of
// the point. No hex, no inf/nan, no surrounding space; a value beyond a double is no number.
std::optional<double> parse_decimal_real(std::string_view s) {
  std::size_t n = 0;
  if (n < s.size() && (s[n] == '+' || s[n] == '-')) ++n;
  std::size_t int_digits = 0, frac_digits = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n, ++int_digits;
  if (n < s.size() && s[n] == '.') {
    ++n;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n, ++frac_digits;
  }
  if (int_digits + frac_digits == 0) return std::nullopt;
  if (n < s.size() && (s[n] == 'e' || s[n] == 'E')) {
    ++n;
    if (n < s.size() && (s[n] == '+' || s[n] == '-')) ++n;
    std::size_t exp_digits = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n, ++exp_digits;
    if (exp_digits == 0) return std::nullopt;
  }
  if (n != s.size()) return std::nullopt;
  std::string z(s);
  double d = std::strtod(z.c_str(), nullptr);
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool digits(std::string_view s, std::size_t at, std::size_t count, int& out) {
  if (at + count > s.size()) return false;
  out = 0;
  for (std::size_t n = at; n < at + count; ++n) {
    if (s[n] < '0' || s[n] > '9') return false;
    out = out * 10 + (s[n] - '0');
  }
  return true;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// ---------------------------------------------------------------- arithmetic helpers

std::int64_t wrap_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrap_sub(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
std::optional<std::int64_t> int_div(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  if (b == -1) return wrap_sub(0, a);  // INT64_MIN / -1 wraps instead of trapping
  return a / b;
}
// §4.8: `%` is never negative, 0 <= N % D < |D|.
std::optional<std::int64_t> int_mod(std::int64_t a, std::int64_t b) {
  if (b == 0) return std::nullopt;
  if (b == -1) return 0;
  std::int64_t r = a % b;
  if (r < 0) {
    std::uint64_t mag = b < 0 ? 0 - static_cast<std::uint64_t>(b) : static_cast<std::uint64_t>(b);
    r = static_cast<std::int64_t>(static_cast<std::uint64_t>(r) + mag);
  }
  return r;
}
// A real scaled back to ticks: truncated toward zero; a result beyond 64 bits has no value.
std::optional<std::int64_t> real_ticks(double d) {
  if (!std::isfinite(d)) return std::nullopt;
  d = std::trunc(d);
  if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) return std::nullopt;
  return static_cast<std::int64_t>(d);
}

// ---------------------------------------------------------------- conversions (§5)

std::string to_text(const Val& v) {
  switch (v.k) {
    case Val::K::Null: return "";
    case Val::K::Bool: return v.b ? "true" : "false";
    case Val::K::Int: return std::to_string(v.i);
    case Val::K::Real: return fmt_real(v.r);
    case Val::K::Str: return v.s;
    case Val::K::Time: return format_datetime(v.i);
    case Val::K::Span: return format_timespan(v.i);
    case Val::K::Dyn: return v.d->k == Json::K::Str ? v.d->s : json_text(*v.d);
  }
  return "";
}

Val to_long(const Val& v0) {
  Val v = unwrap(v0);
  switch (v.k) {
    case Val::K::Int: return v;
    case Val::K::Real: {
      auto t = real_ticks(v.r);
      return t ? Val::integer(*t) : Val::null();
    }
    case Val::K::Str: {
      auto n = parse_decimal_int(v.s);
      return n ? Val::integer(*n) : Val::null();
    }
    case Val::K::Bool: return Val::integer(v.b ? 1 : 0);
    case Val::K::Time:
    case Val::K::Span: return Val::integer(v.i);
    default: return Val::null();
  }
}

Val to_real(const Val& v0) {
  Val v = unwrap(v0);
  switch (v.k) {
    case Val::K::Int: return Val::real(static_cast<double>(v.i));
    case Val::K::Real: return v;
    case Val::K::Str: {
      auto d = parse_decimal_real(v.s);
      return d ? Val::real(*d) : Val::null();
    }
    case Val::K::Bool: return Val::real(v.b ? 1 : 0);
    case Val::K::Time:
    case Val::K::Span: return Val::real(static_cast<double>(v.i));
    default: return Val::null();
  }
}

Val to_datetime(const Val& v0) {
  Val v = unwrap(v0);
  if (v.k == Val::K::Time) return v;
  if (v.k == Val::K::Str) {
    auto t = parse_datetime(v.s);
    return t ? Val::time(*t) : Val::null();
  }
  return Val::null();
}

Val to_timespan(const Val& v0) {
  Val v = unwrap(v0);
  switch (v.k) {
    case Val::K::Span: return v;
    case Val::K::Str: {
      auto t = parse_timespan(v.s);
      return t ? Val::span(*t) : Val::null();
    }
    case Val::K::Int: return Val::span(v.i);
    case Val::K::Real: {
      auto t = real_ticks(v.r);
      return t ? Val::span(*t) : Val::null();
    }
    default: return Val::null();
  }
}

// parse_json of a string (§5); also how §2.3 reads a dynamic column that holds a JSON string.
Val parse_json_string(const std::string& s) {
  if (s.empty()) return Val::null();
  if (auto j = parse_json_text(s)) return Val::dyn(*j);
  auto j = std::make_shared<Json>();
  j->k = Json::K::Str;
  j->s = s;
  return Val::dyn(j);
}

bool exists(const Val& v) {
  if (v.is_null()) return false;
  if (v.k == Val::K::Str) return !v.s.empty();
  if (v.k == Val::K::Dyn && v.d->k == Json::K::Str) return !v.d->s.empty();
  return true;
}

// ---------------------------------------------------------------- comparison (§4.1, §4.2, §6.3)

// Equality with its null: nullopt when an operand is null or the kinds do not meet.
std::optional<bool> equal(const Val& a0, const Val& b0, bool fold) {
  if (a0.is_null() || b0.is_null()) return std::nullopt;
  Val a = unwrap(a0), b = unwrap(b0);
  // §6.3: a dynamic value against a datetime or timespan is converted first.
  if (a0.k == Val::K::Dyn && (b.k == Val::K::Time || b.k == Val::K::Span))
    a = b.k == Val::K::Time ? to_datetime(a0) : to_timespan(a0);
  if (b0.k == Val::K::Dyn && (a.k == Val::K::Time || a.k == Val::K::Span))
    b = a.k == Val::K::Time ? to_datetime(b0) : to_timespan(b0);
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (is_number(a) && is_number(b)) {
    if (a.k == Val::K::Int && b.k == Val::K::Int) return a.i == b.i;
    return as_double(a) == as_double(b);
  }
  if (a.k != b.k) return std::nullopt;
  switch (a.k) {
    case Val::K::Str: return fold ? ascii_fold(a.s) == ascii_fold(b.s) : a.s == b.s;
    case Val::K::Bool: return a.b == b.b;
    case Val::K::Time:
    case Val::K::Span: return a.i == b.i;
    default: return std::nullopt;  // arrays and objects compare with nothing
  }
}

std::optional<std::partial_ordering> order(const Val& a0, const Val& b0) {
  if (a0.is_null() || b0.is_null()) return std::nullopt;
  Val a = unwrap(a0), b = unwrap(b0);
  if (a0.k == Val::K::Dyn && (b.k == Val::K::Time || b.k == Val::K::Span))
    a = b.k == Val::K::Time ? to_datetime(a0) : to_timespan(a0);
  if (b0.k == Val::K::Dyn && (a.k == Val::K::Time || a.k == Val::K::Span))
    b = a.k == Val::K::Time ? to_datetime(b0) : to_timespan(b0);
  if (a.is_null() || b.is_null()) return std::nullopt;
  if (is_number(a) && is_number(b)) {
    if (a.k == Val::K::Int && b.k == Val::K::Int) return a.i <=> b.i;
    return as_double(a) <=> as_double(b);
  }
  if (a.k == b.k && (a.k == Val::K::Time || a.k == Val::K::Span)) return a.i <=> b.i;
  return std::nullopt;  // strings and bools have no order
}

// ---------------------------------------------------------------- in cidr (§4.6)

struct Addr {
  int family = 0;  // AF_INET or AF_INET6
  unsigned char bytes[16] = {};
};

std::optional<Addr> parse_addr(const std::string& s) {
  Addr a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes) == 1) {
    a.family = AF_INET;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return std::nullopt;
}

struct Range {
  Addr base;
  int prefix = 0;
};

// A range as the IR holds it: a Cidr value (text, maybe with its `/n`, and `prefix`), or an
// address, which is its own /32 or /128 (§1.3).
std::optional<Range> range_of(const Value& v) {
  std::string text = v.s;
  int prefix = v.kind == LitKind::Cidr ? v.prefix : -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    if (prefix < 0) {
      auto p = parse_decimal_int(std::string_view(text).substr(slash + 1));
      if (!p) return std::nullopt;
      prefix = static_cast<int>(*p);
    }
    text.resize(slash);
  }
  auto a = parse_addr(text);
  if (!a) return std::nullopt;
  int full = a->family == AF_INET ? 32 : 128;
  if (prefix < 0) prefix = full;
  if (prefix > full) return std::nullopt;
  return Range{*a, prefix};
}

bool in_range(const Addr& a, const Range& r) {
  if (a.family != r.base.family) return false;  // only ranges of its own family
  int bits = r.prefix;
  for (int n = 0; bits > 0; ++n, bits -= 8) {
    unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a.bytes[n] & mask) != (r.base.bytes[n] & mask)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- events

struct Event {
  std::size_t row = 0;      // input line: a row's identity across variables (§7.0)
  std::int64_t time = 0;
  std::int64_t now = 0;     // §8: the latest event time read so far, this one included
  std::vector<Val> cols;    // by column index of its table
};

// §2.3: one column of one exported row, by its declared type.
Val read_column(simdjson::simdjson_result<simdjson::dom::element> found, Type type) {
  simdjson::dom::element el;
  bool present = !std::move(found).get(el) && !el.is_null();
  if (!present) return type == Type::String ? Val::str("") : Val::null();
  switch (type) {
    case Type::String:
      if (el.is_string()) return Val::str(std::string(el.get_string().value()));
      return Val::str(json_text(*from_dom(el)));
    case Type::Int:
    case Type::Long: {
      std::optional<std::int64_t> n;
      if (el.is_int64()) n = el.get_int64().value();
      else if (el.is_string()) n = parse_decimal_int(el.get_string().value());
      if (!n) return Val::null();
      if (type == Type::Int && (*n < std::numeric_limits<std::int32_t>::min() ||
                                *n > std::numeric_limits<std::int32_t>::max()))
        return Val::null();
      return Val::integer(*n);
    }
    case Type::Real: {
      if (el.is_int64()) return Val::real(static_cast<double>(el.get_int64().value()));
      if (el.is_uint64()) return Val::real(static_cast<double>(el.get_uint64().value()));
      if (el.is_double()) return Val::real(el.get_double().value());
      if (el.is_string()) {
        auto d = parse_decimal_real(el.get_string().value());
        return d ? Val::real(*d) : Val::null();
      }
      return Val::null();
    }
    case Type::Bool:
      return el.is_bool() ? Val::boolean(el.get_bool().value()) : Val::null();
    case Type::Datetime: {
      if (!el.is_string()) return Val::null();
      auto t = parse_datetime(el.get_string().value());
      return t ? Val::time(*t) : Val::null();
    }
    case Type::Timespan: {
      if (!el.is_string()) return Val::null();
      auto t = parse_timespan(el.get_string().value());
      return t ? Val::span(*t) : Val::null();
    }
    case Type::Guid:
      return el.is_string() ? Val::str(std::string(el.get_string().value())) : Val::null();
    case Type::Dynamic:
      if (el.is_string()) return parse_json_string(std::string(el.get_string().value()));
      return Val::dyn(from_dom(el));
    default: return Val::null();
  }
}

// ---------------------------------------------------------------- expressions

// What one evaluation sees: the event bound to each variable, and for a threshold's outcome
// the window S(t) its aggregates run over.
struct Ctx {
  std::vector<const Event*> ev;            // by Rule::events index; null when unbound
  const std::vector<const Event*>* window = nullptr;
  std::int64_t now = 0;
};

class Evaluator {
 public:
  explicit Evaluator(const ir::Module& m) : m_(m) {}

  Val eval(const Expr& e, const Ctx& c) { return coerce(raw(e, c), e.type); }

  bool truth(const Expr& e, const Ctx& c) {
    Val v = eval(e, c);
    return v.k == Val::K::Bool && v.b;  // a null bool as a predicate is false (§3.1)
  }

  // §7.2 aggregates over a set of events. A threshold has exactly one event variable, so the
  // event is bound to every slot of a context as wide as the rule's events.
  Val aggregate(ir::Agg agg, const Expr* arg, std::size_t nvars, const std::vector<const Event*>& set,
                Type result) {
    if (agg == ir::Agg::Count || !arg) return Val::integer(static_cast<std::int64_t>(set.size()));
    std::vector<Val> vals;
    for (const Event* e : set) {
      Ctx c;
      c.ev.assign(std::max<std::size_t>(nvars, 1), e);
      c.now = e->now;
      vals.push_back(eval(*arg, c));
    }
    if (agg == ir::Agg::DCount) {
      bool fold = arg->type == Type::Guid;  // GUIDs are distinct by ==, which ignores their case
      std::vector<Val> distinct;
      for (const Val& v : vals) {
        if (!exists(v)) continue;
        bool seen = false;
        for (const Val& d : distinct) {
          auto eq = equal(v, d, fold);
          if (eq && *eq) { seen = true; break; }
        }
        if (!seen) distinct.push_back(v);
      }
      return Val::integer(static_cast<std::int64_t>(distinct.size()));
    }
    // Summed in input order; the generator's reals are exact in binary, so order cannot show.
    bool real = result == Type::Real || arg->type == Type::Real;
    std::int64_t si = 0;
    double sr = 0;
    for (const Val& v0 : vals) {
      Val v = unwrap(v0);
      if (!is_number(v)) continue;
      if (real) sr += as_double(v);
      else si = wrap_add(si, v.i);
    }
    return real ? Val::real(sr) : Val::integer(si);
  }

 private:
  const ir::Module& m_;
  std::map<std::string, std::unique_ptr<RE2>> regexes_;

  static Val coerce(Val v, Type t) {
    switch (t) {
      case Type::String:
        return v.k == Val::K::Str ? v : Val::str(to_text(v));  // strings are never null (§1.5)
      case Type::Real:
        if (v.k == Val::K::Int) return Val::real(static_cast<double>(v.i));
        return v;
      case Type::Int:
        if (v.k == Val::K::Int) v.i = static_cast<std::int32_t>(v.i);  // int arithmetic wraps at 32 bits
        return v;
      case Type::Dynamic:
        return v.k == Val::K::Dyn || v.is_null() ? v : dyn_of_scalar(v);
      default: return v;
    }
  }

  static Val literal(const Value& v) {
    switch (v.kind) {
      case LitKind::None: return Val::null();
      case LitKind::Bool: return Val::boolean(v.b);
      case LitKind::Int: return Val::integer(v.i);
      case LitKind::Real: return Val::real(v.r);
      case LitKind::String:
      case LitKind::Ip:
      case LitKind::Guid: return Val::str(v.s);
      case LitKind::Cidr: return Val::str(v.s);
      case LitKind::Duration: return Val::span(v.i);
      case LitKind::Datetime: return Val::time(v.i);
    }
    return Val::null();
  }

  std::optional<std::string> text_operand(const Val& v) {
    if (v.is_null()) return std::nullopt;
    return to_text(v);
  }

  // The right side of in/in~ as values, and whether it holds GUIDs (§1.4: then case is ignored).
  std::vector<Val> list_values(const Expr& e, const Ctx& c, bool& guids) {
    std::vector<Val> out;
    if (e.kind == Expr::Kind::ListRef) {
      const ir::List& l = m_.lists.at(e.list);
      guids = l.elem == ir::ListElem::Guid;
      for (const Value& v : l.values) out.push_back(literal(v));
    } else if (e.kind == Expr::Kind::ListLit) {
      guids = !e.args.empty();
      for (const auto& a : e.args) {
        out.push_back(eval(*a, c));
        guids = guids && a->type == Type::Guid;
      }
    } else {
      guids = e.type == Type::Guid;
      out.push_back(eval(e, c));
    }
    return out;
  }

  // §4.5 with §6.3: null when x is null or meets no element's kind, so that !in is false too.
  std::optional<bool> member_of(const Val& x, const std::vector<Val>& list, bool fold) {
    if (x.is_null()) return std::nullopt;
    if (unwrap(x).k == Val::K::Dyn) return std::nullopt;  // an array or object
    if (list.empty()) return false;
    bool comparable = false;
    for (const Val& e : list) {
      auto eq = equal(x, e, fold);
      if (!eq) continue;
      comparable = true;
      if (*eq) return true;
    }
    if (!comparable) return std::nullopt;
    return false;
  }

  std::vector<Range> ranges(const Expr& e) {
    std::vector<Range> out;
    auto add = [&](const Value& v) {
      if (auto r = range_of(v)) out.push_back(*r);
    };
    if (e.kind == Expr::Kind::ListRef) {
      for (const Value& v : m_.lists.at(e.list).values) add(v);
    } else if (e.kind == Expr::Kind::ListLit) {
      for (const auto& a : e.args) add(a->value);
    } else {
      add(e.value);
    }
    return out;
  }

  Val arith(Op op, const Val& a0, const Val& b0) {
    if (a0.is_null() || b0.is_null()) return Val::null();
    bool dyn = a0.k == Val::K::Dyn || b0.k == Val::K::Dyn;
    Val a = unwrap(a0), b = unwrap(b0);
    if (dyn && ((a0.k == Val::K::Dyn && !is_number(a)) || (b0.k == Val::K::Dyn && !is_number(b))))
      return Val::null();  // a dynamic operand must hold a number (§4.8)
    Val r = arith_scalar(op, a, b);
    return dyn ? dyn_of_scalar(r) : r;
  }

  static Val arith_scalar(Op op, const Val& a, const Val& b) {
    using K = Val::K;
    if (is_number(a) && is_number(b)) {
      if (a.k == K::Int && b.k == K::Int) {
        switch (op) {
          case Op::Add: return Val::integer(wrap_add(a.i, b.i));
          case Op::Sub: return Val::integer(wrap_sub(a.i, b.i));
          case Op::Mul: return Val::integer(wrap_mul(a.i, b.i));
          case Op::Div: { auto q = int_div(a.i, b.i); return q ? Val::integer(*q) : Val::null(); }
          case Op::Mod: { auto q = int_mod(a.i, b.i); return q ? Val::integer(*q) : Val::null(); }
          default: return Val::null();
        }
      }
      double x = as_double(a), y = as_double(b);
      switch (op) {
        case Op::Add: return Val::real(x + y);
        case Op::Sub: return Val::real(x - y);
        case Op::Mul: return Val::real(x * y);
        case Op::Div: return y == 0 ? Val::null() : Val::real(x / y);
        case Op::Mod: {
          if (y == 0) return Val::null();
          double m = std::fmod(x, y);
          if (m < 0) m += std::fabs(y);
          return Val::real(m);
        }
        default: return Val::null();
      }
    }
    if (a.k == K::Time && b.k == K::Span) {
      if (op == Op::Add) return Val::time(wrap_add(a.i, b.i));
      if (op == Op::Sub) return Val::time(wrap_sub(a.i, b.i));
    }
    if (a.k == K::Span && b.k == K::Time && op == Op::Add) return Val::time(wrap_add(a.i, b.i));
    if (a.k == K::Time && b.k == K::Time && op == Op::Sub) return Val::span(wrap_sub(a.i, b.i));
    if (a.k == K::Span && b.k == K::Span) {
      if (op == Op::Add) return Val::span(wrap_add(a.i, b.i));
      if (op == Op::Sub) return Val::span(wrap_sub(a.i, b.i));
      if (op == Op::Div) return b.i == 0 ? Val::null() : Val::real(static_cast<double>(a.i) / static_cast<double>(b.i));
    }
    if (op == Op::Mul && (a.k == K::Span || b.k == K::Span)) {
      const Val& s = a.k == K::Span ? a : b;
      const Val& n = a.k == K::Span ? b : a;
      if (n.k == K::Int) return Val::span(wrap_mul(s.i, n.i));
      if (n.k == K::Real) { auto t = real_ticks(static_cast<double>(s.i) * n.r); return t ? Val::span(*t) : Val::null(); }
    }
    if (op == Op::Div && a.k == K::Span) {
      if (b.k == K::Int) { auto q = int_div(a.i, b.i); return q ? Val::span(*q) : Val::null(); }
      if (b.k == K::Real) {
        if (b.r == 0) return Val::null();
        auto t = real_ticks(static_cast<double>(a.i) / b.r);
        return t ? Val::span(*t) : Val::null();
      }
    }
    return Val::null();
  }

  Val call(const Expr& e, const Ctx& c) {
    std::vector<Val> a;
    for (const auto& x : e.args) a.push_back(eval(*x, c));
    auto arg = [&](std::size_t n) { return n < a.size() ? a[n] : Val::null(); };
    const std::int64_t day = kTicksPerDay;
    switch (e.fn) {
      case Fn::ToLower: return Val::str(map_case(to_text(arg(0)), false));
      case Fn::ToUpper: return Val::str(map_case(to_text(arg(0)), true));
      case Fn::StrLen: return Val::integer(static_cast<std::int64_t>(decode_utf8(to_text(arg(0))).size()));
      case Fn::Trim: {
        std::string s = to_text(arg(0));
        std::size_t b = 0, en = s.size();
        while (b < en && is_trim_space(s[b])) ++b;
        while (en > b && is_trim_space(s[en - 1])) --en;
        return Val::str(s.substr(b, en - b));
      }
      case Fn::ToString: return Val::str(to_text(arg(0)));
      case Fn::ToLong: return to_long(arg(0));
      case Fn::ToReal: return to_real(arg(0));
      case Fn::ToDatetime: return to_datetime(arg(0));
      case Fn::ToTimespan: return to_timespan(arg(0));
      case Fn::ParseJson: {
        Val v = arg(0);
        if (v.k == Val::K::Dyn || v.is_null()) return v;  // a dynamic argument is not re-parsed
        return parse_json_string(to_text(v));
      }
      case Fn::ArrayLength: {
        Val v = arg(0);
        if (v.k == Val::K::Dyn && v.d->k == Json::K::Arr) return Val::integer(static_cast<std::int64_t>(v.d->arr.size()));
        return Val::null();
      }
      case Fn::Now: return Val::time(c.now);
      case Fn::Ago: {
        Val v = arg(0);
        return v.k == Val::K::Span ? Val::time(wrap_sub(c.now, v.i)) : Val::null();
      }
      case Fn::HourOfDay: {
        Val v = arg(0);
        if (v.k != Val::K::Time) return Val::null();
        return Val::integer((v.i - floor_div(v.i, day) * day) / kTicksPerHour);
      }
      case Fn::DayOfWeek: {
        Val v = arg(0);
        if (v.k != Val::K::Time) return Val::null();
        std::int64_t d = floor_div(v.i, day);
        return Val::integer(((d + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday; 0 = Sunday
      }
      case Fn::StartOfDay: {
        Val v = arg(0);
        if (v.k != Val::K::Time) return Val::null();
        return Val::time(floor_div(v.i, day) * day);
      }
      case Fn::Exists: return Val::boolean(exists(arg(0)));
      case Fn::Empty: return Val::boolean(!exists(arg(0)));
    }
    return Val::null();
  }

  Val raw(const Expr& e, const Ctx& c) {
    switch (e.kind) {
      case Expr::Kind::Literal: return literal(e.value);
      case Expr::Kind::Column: {
        const Event* ev = e.var < c.ev.size() ? c.ev[e.var] : nullptr;
        if (!ev || e.column >= ev->cols.size()) return Val::null();
        return ev->cols[e.column];
      }
      case Expr::Kind::Member: {
        Val d = eval(*e.args[0], c);
        if (d.k != Val::K::Dyn || d.d->k != Json::K::Obj) return Val::null();
        for (const auto& [k, v] : d.d->obj)
          if (k == e.member) return Val::dyn(v);
        return Val::null();
      }
      case Expr::Kind::Index: {
        Val d = eval(*e.args[0], c);
        Val i = unwrap(eval(*e.args[1], c));
        if (d.k != Val::K::Dyn) return Val::null();
        if (d.d->k == Json::K::Arr && i.k == Val::K::Int) {
          auto n = static_cast<std::int64_t>(d.d->arr.size());
          std::int64_t at = i.i < 0 ? i.i + n : i.i;  // negative counts from the end
          if (at < 0 || at >= n) return Val::null();
          return Val::dyn(d.d->arr[static_cast<std::size_t>(at)]);
        }
        if (d.d->k == Json::K::Obj && i.k == Val::K::Str) {
          for (const auto& [k, v] : d.d->obj)
            if (k == i.s) return Val::dyn(v);
        }
        return Val::null();
      }
      case Expr::Kind::Call: return call(e, c);
      case Expr::Kind::Unary: {
        if (e.op == Op::Not) return Val::boolean(!truth(*e.args[0], c));
        Val v0 = eval(*e.args[0], c);
        Val v = unwrap(v0);
        Val r;
        if (v.k == Val::K::Int) r = Val::integer(wrap_sub(0, v.i));
        else if (v.k == Val::K::Real) r = Val::real(-v.r);
        else if (v.k == Val::K::Span) r = Val::span(wrap_sub(0, v.i));
        else return Val::null();
        return v0.k == Val::K::Dyn ? dyn_of_scalar(r) : r;
      }
      case Expr::Kind::Binary: return binary(e, c);
      case Expr::Kind::ListRef:
      case Expr::Kind::ListLit: return Val::null();  // only ever the right side of in
      case Expr::Kind::Aggregate: {
        if (!c.window) return Val::null();
        auto agg = static_cast<ir::Agg>(e.value.i);
        return aggregate(agg, e.args.empty() ? nullptr : e.args[0].get(), c.ev.size(), *c.window, e.type);
      }
    }
    return Val::null();
  }

  Val binary(const Expr& e, const Ctx& c) {
    const Expr& l = *e.args[0];
    const Expr& r = *e.args[1];
    switch (e.op) {
      case Op::And: {
        bool x = truth(l, c), y = truth(r, c);
        return Val::boolean(x && y);
      }
      case Op::Or: {
        bool x = truth(l, c), y = truth(r, c);
        return Val::boolean(x || y);
      }
      case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
        return arith(e.op, eval(l, c), eval(r, c));
      case Op::Eq: case Op::Ne: case Op::EqCi: case Op::NeCi: {
        // §1.4: == and != with a GUID on either side ignore case, whether or not the checker
        // has already spelled them =~ and !~.
        bool fold = e.op == Op::EqCi || e.op == Op::NeCi || l.type == Type::Guid || r.type == Type::Guid;
        auto eq = equal(eval(l, c), eval(r, c), fold);
        if (!eq) return Val::boolean(false);
        return Val::boolean((e.op == Op::Eq || e.op == Op::EqCi) ? *eq : !*eq);
      }
      case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge: {
        auto o = order(eval(l, c), eval(r, c));
        if (!o) return Val::boolean(false);
        switch (e.op) {
          case Op::Lt: return Val::boolean(*o == std::partial_ordering::less);
          case Op::Le: return Val::boolean(*o == std::partial_ordering::less || *o == std::partial_ordering::equivalent);
          case Op::Gt: return Val::boolean(*o == std::partial_ordering::greater);
          default: return Val::boolean(*o == std::partial_ordering::greater || *o == std::partial_ordering::equivalent);
        }
      }
      case Op::Contains: case Op::NotContains: case Op::StartsWith: case Op::NotStartsWith:
      case Op::EndsWith: case Op::NotEndsWith: case Op::Has: case Op::NotHas: {
        auto x = text_operand(eval(l, c)), t = text_operand(eval(r, c));
        if (!x || !t) return Val::boolean(false);
        std::string fx = ascii_fold(*x), ft = ascii_fold(*t);
        bool pos = false;
        switch (e.op) {
          case Op::Contains: case Op::NotContains: pos = fx.find(ft) != std::string::npos; break;
          case Op::StartsWith: case Op::NotStartsWith: pos = fx.starts_with(ft); break;
          case Op::EndsWith: case Op::NotEndsWith: pos = fx.ends_with(ft); break;
          default: pos = has_term(fx, ft); break;
        }
        bool negated = e.op == Op::NotContains || e.op == Op::NotStartsWith ||
                       e.op == Op::NotEndsWith || e.op == Op::NotHas;
        return Val::boolean(negated ? !pos : pos);
      }
      case Op::Regex: {
        auto x = text_operand(eval(l, c)), p = text_operand(eval(r, c));
        if (!x || !p) return Val::boolean(false);
        auto& re = regexes_[*p];
        if (!re) re = std::make_unique<RE2>(*p, RE2::Quiet);
        if (!re->ok()) return Val::boolean(false);
        return Val::boolean(RE2::PartialMatch(*x, *re));
      }
      case Op::In: case Op::NotIn: case Op::InCi: case Op::NotInCi: {
        bool guids = false;
        auto list = list_values(r, c, guids);
        // §1.4 names the case-insensitive `in` exactly: a list of GUIDs. A guid column tested
        // against a list of strings stays case-sensitive, as the checker leaves it.
        bool fold = e.op == Op::InCi || e.op == Op::NotInCi || guids;
        auto in = member_of(eval(l, c), list, fold);
        if (!in) return Val::boolean(false);
        return Val::boolean((e.op == Op::In || e.op == Op::InCi) ? *in : !*in);
      }
      case Op::InCidr: case Op::NotInCidr: {
        auto x = text_operand(eval(l, c));
        if (!x) return Val::boolean(false);
        auto a = parse_addr(*x);
        if (!a) return Val::boolean(false);  // not an address: null, so both forms are false
        bool in = false;
        for (const Range& rg : ranges(r)) in = in || in_range(*a, rg);
        return Val::boolean(e.op == Op::InCidr ? in : !in);
      }
      default: return Val::null();
    }
  }
};

// ---------------------------------------------------------------- the outcome's canonical form

std::string outcome_value(const Val& v, Type t) {
  switch (v.k) {
    case Val::K::Null: return t == Type::String ? "\"\"" : "null";
    case Val::K::Bool: return v.b ? "true" : "false";
    case Val::K::Int: return std::to_string(v.i);
    case Val::K::Real: return std::isfinite(v.r) ? fmt_real(v.r) : "null";
    case Val::K::Str: return json_quote(v.s);
    case Val::K::Time: return json_quote(format_datetime(v.i));
    case Val::K::Span: return json_quote(format_timespan(v.i));
    case Val::K::Dyn: return json_text(*v.d);
  }
  return "null";
}

std::string outcome_json(Evaluator& ev, const ir::Rule& r, const Ctx& c) {
  std::string out = "{";
  for (std::size_t n = 0; n < r.outcome.size(); ++n) {
    if (n) out += ',';
    out += json_quote(r.outcome[n].name);
    out += ':';
    out += outcome_value(ev.eval(*r.outcome[n].value, c), r.outcome[n].value->type);
  }
  return out + "}";
}

// ---------------------------------------------------------------- correlations (§7)

// One event of one variable with its key values (§7.0), those with an empty key already gone.
struct Member {
  const Event* e;
  std::vector<Val> keys;
};

bool empty_key(const Val& v) {
  return v.is_null() || (v.k == Val::K::Str && v.s.empty()) ||
         (v.k == Val::K::Dyn && v.d->k == Json::K::Str && v.d->s.empty());
}

// Keys correlate by == (§7.0): case-sensitive, GUIDs included.
bool same_keys(const std::vector<Val>& a, const std::vector<Val>& b) {
  for (std::size_t k = 0; k < a.size(); ++k) {
    auto eq = equal(a[k], b[k], false);
    if (!eq || !*eq) return false;
  }
  return true;
}

// §7.0 ties: among the candidates at the latest time, the one last in the input.
bool later(const Member& cand, const Member* best) {
  return !best || cand.e->time > best->e->time ||
         (cand.e->time == best->e->time && cand.e->row > best->e->row);
}

class RuleEval {
 public:
  RuleEval(const ir::Rule& r, Evaluator& ev, const std::vector<std::vector<Event>>& by_table,
           std::vector<Alert>& out)
      : r_(r), ev_(ev), out_(out) {
    // §2.1: an event of $v is a row of its table for which its where is true.
    for (std::uint32_t v = 0; v < r.events.size(); ++v) {
      std::vector<const Event*> list;
      for (const Event& e : by_table[r.events[v].table]) {
        Ctx c = bind(v, &e);
        if (!r.events[v].where || ev.truth(*r.events[v].where, c)) list.push_back(&e);
      }
      vars_.push_back(std::move(list));
    }
  }

  void run() {
    switch (r_.corr.kind) {
      case ir::CorrKind::Single: single(); break;
      case ir::CorrKind::Threshold: threshold(); break;
      case ir::CorrKind::Sequence: sequence(); break;
      case ir::CorrKind::Join: join(); break;
      case ir::CorrKind::Absence: absence(); break;
    }
  }

 private:
  const ir::Rule& r_;
  Evaluator& ev_;
  std::vector<Alert>& out_;
  std::vector<std::vector<const Event*>> vars_;

  Ctx bind(std::uint32_t var, const Event* e) const {
    Ctx c;
    c.ev.assign(r_.events.size(), nullptr);
    c.ev[var] = e;
    c.now = e->now;
    return c;
  }

  void emit(std::int64_t time, const Ctx& c) { out_.push_back({r_.name, time, outcome_json(ev_, r_, c)}); }

  std::uint32_t var_at(std::size_t i) const { return r_.corr.order.empty() ? 0 : r_.corr.order[i]; }

  // The events of step i with their key values; key group k's expression for the step is keys[k][i].
  std::vector<Member> members(std::size_t i) {
    std::uint32_t var = var_at(i);
    std::vector<Member> out;
    for (const Event* e : vars_[var]) {
      Ctx c = bind(var, e);
      Member mb{e, {}};
      bool keep = true;
      for (const auto& group : r_.corr.keys) {
        Val k = ev_.eval(*group.at(i), c);
        if (empty_key(k)) { keep = false; break; }
        mb.keys.push_back(std::move(k));
      }
      if (keep) out.push_back(std::move(mb));
    }
    return out;
  }

  // §7.1
  void single() {
    std::uint32_t var = var_at(0);
    for (const Event* e : vars_[var]) emit(e->time, bind(var, e));
  }

  // §7.2, by the definition: groups, distinct times, S(t) by scanning, H(t), the rising edge.
  void threshold() {
    const auto& corr = r_.corr;
    std::uint32_t var = var_at(0);
    const std::int64_t W = corr.window;
    std::vector<std::vector<Member>> groups;
    for (Member& mb : members(0)) {
      auto g = std::find_if(groups.begin(), groups.end(),
                            [&](const std::vector<Member>& grp) { return same_keys(grp.front().keys, mb.keys); });
      if (g == groups.end()) groups.push_back({std::move(mb)});
      else g->push_back(std::move(mb));
    }
    for (const auto& grp : groups) {
      std::vector<std::int64_t> times;
      for (const Member& mb : grp) times.push_back(mb.e->time);
      std::sort(times.begin(), times.end());
      times.erase(std::unique(times.begin(), times.end()), times.end());
      auto window = [&](std::int64_t t) {
        std::vector<const Event*> s;
        for (const Member& mb : grp)
          if (mb.e->time >= t - W && mb.e->time <= t) s.push_back(mb.e);
        return s;
      };
      auto holds = [&](const std::vector<const Event*>& s) {
        Val v = ev_.aggregate(corr.agg, corr.agg_arg.get(), r_.events.size(), s,
                              corr.agg_arg ? corr.agg_arg->type : Type::Long);
        double x = v.k == Val::K::Int ? static_cast<double>(v.i) : v.r;
        double n = corr.threshold;
        switch (corr.cmp) {
          case Op::Eq: return x == n;
          case Op::Ne: return x != n;
          case Op::Lt: return x < n;
          case Op::Le: return x <= n;
          case Op::Gt: return x > n;
          default: return x >= n;
        }
      };
      bool prev_held = false;
      std::optional<std::int64_t> prev_t;
      for (std::int64_t t : times) {
        auto s = window(t);
        bool h = holds(s);
        bool continues = prev_t && prev_held && t - *prev_t <= W;
        if (h && !continues) {
          // Key expressions read "any event at time t": the last such one in the input.
          const Event* at = nullptr;
          for (const Event* e : s)
            if (e->time == t && (!at || e->row > at->row)) at = e;
          Ctx c = bind(var, at);
          c.window = &s;
          emit(t, c);
        }
        prev_held = h;
        prev_t = t;
      }
    }
  }

  // §7.3: one alert per last-step event that completes a chain, steps chosen greedily backwards.
  void sequence() {
    const std::size_t n = r_.corr.order.size();
    std::vector<std::vector<Member>> steps;
    for (std::size_t i = 0; i < n; ++i) steps.push_back(members(i));
    for (const Member& last : steps[n - 1]) {
      std::vector<const Member*> chain(n, nullptr);
      chain[n - 1] = &last;
      bool ok = true;
      for (std::size_t i = n - 1; i-- > 0;) {
        const Member* best = nullptr;
        for (const Member& cand : steps[i])
          if (cand.e->time < chain[i + 1]->e->time && same_keys(cand.keys, last.keys) && later(cand, best))
            best = &cand;
        if (!best) { ok = false; break; }
        chain[i] = best;
      }
      if (!ok || last.e->time - chain[0]->e->time > r_.corr.window) continue;
      Ctx c;
      c.ev.assign(r_.events.size(), nullptr);
      for (std::size_t i = 0; i < n; ++i) c.ev[r_.corr.order[i]] = chain[i]->e;
      c.now = last.e->now;
      emit(last.e->time, c);
    }
  }

  // §7.4: $a events pair at or before, $b events strictly before; never a row with itself.
  void join() {
    const std::int64_t W = r_.corr.window;
    auto A = members(0), B = members(1);
    auto pair_up = [&](const std::vector<Member>& self, const std::vector<Member>& other, bool strict,
                       std::uint32_t self_var, std::uint32_t other_var) {
      for (const Member& x : self) {
        const Member* best = nullptr;
        for (const Member& y : other) {
          if (y.e->row == x.e->row) continue;
          bool before = strict ? y.e->time < x.e->time : y.e->time <= x.e->time;
          if (before && y.e->time >= x.e->time - W && same_keys(x.keys, y.keys) && later(y, best)) best = &y;
        }
        if (!best) continue;
        Ctx c;
        c.ev.assign(r_.events.size(), nullptr);
        c.ev[self_var] = x.e;
        c.ev[other_var] = best->e;
        c.now = x.e->now;
        emit(x.e->time, c);
      }
    };
    pair_up(A, B, false, var_at(0), var_at(1));
    pair_up(B, A, true, var_at(1), var_at(0));
  }

  // §7.5: an anchor with no witness in [t-W, t) before or (t, t+W] after.
  void absence() {
    const std::int64_t W = r_.corr.window;
    bool after = r_.corr.direction == ir::Direction::After;
    auto A = members(0), B = members(1);
    for (const Member& a : A) {
      bool witnessed = false;
      for (const Member& b : B) {
        std::int64_t ta = a.e->time, tb = b.e->time;
        bool in = after ? (ta < tb && tb <= ta + W) : (ta - W <= tb && tb < ta);
        if (in && same_keys(a.keys, b.keys)) { witnessed = true; break; }
      }
      if (!witnessed) emit(a.e->time, bind(var_at(0), a.e));
    }
  }
};

}  // namespace

// ---------------------------------------------------------------- public pieces

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += ch;
    }
  }
  return out + "\"";
}

std::string format_timespan(std::int64_t ticks) {
  std::uint64_t mag = ticks < 0 ? 0 - static_cast<std::uint64_t>(ticks) : static_cast<std::uint64_t>(ticks);
  const auto day = static_cast<std::uint64_t>(kTicksPerDay), hour = static_cast<std::uint64_t>(kTicksPerHour),
             minute = static_cast<std::uint64_t>(kTicksPerMinute), second = static_cast<std::uint64_t>(kTicksPerSecond);
  std::string out = ticks < 0 ? "-" : "";
  if (std::uint64_t d = mag / day) out += fmt::format("{}.", d);
  out += fmt::format("{:02}:{:02}:{:02}", mag % day / hour, mag % hour / minute, mag % minute / second);
  if (std::uint64_t f = mag % second) {
    std::string frac = fmt::format("{:07}", f);
    while (frac.back() == '0') frac.pop_back();
    out += "." + frac;
  }
  return out;
}

// YYYY-MM-DDTHH:MM[:SS[.f{1,7}]] then Z or ±HH:MM. Exports always carry a zone, and a time
// without one names no single instant, so it is no datetime here.
std::optional<std::int64_t> parse_datetime(std::string_view s) {
  int y, mo, d, h, mi, sec = 0;
  if (!digits(s, 0, 4, y) || s.size() < 16 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d) || s[10] != 'T' || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi))
    return std::nullopt;
  std::size_t n = 16;
  std::int64_t frac = 0;
  if (n < s.size() && s[n] == ':') {
    if (!digits(s, n + 1, 2, sec)) return std::nullopt;
    n += 3;
    if (n < s.size() && s[n] == '.') {
      ++n;
      int count = 0;
      while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
        if (++count > 7) return std::nullopt;
        frac = frac * 10 + (s[n] - '0');
        ++n;
      }
      if (count == 0) return std::nullopt;
      for (; count < 7; ++count) frac *= 10;
    }
  }
  std::int64_t offset = 0;
  if (n < s.size() && s[n] == 'Z') {
    ++n;
  } else if (n < s.size() && (s[n] == '+' || s[n] == '-')) {
    int oh, om;
    if (!digits(s, n + 1, 2, oh) || n + 3 >= s.size() || s[n + 3] != ':' || !digits(s, n + 4, 2, om) ||
        oh > 23 || om > 59)
      return std::nullopt;
    offset = (oh * 60 + om) * kTicksPerMinute * (s[n] == '-' ? -1 : 1);
    n += 6;
  } else {
    return std::nullopt;
  }
  if (n != s.size()) return std::nullopt;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || sec > 59)
    return std::nullopt;
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * kTicksPerDay + h * kTicksPerHour + mi * kTicksPerMinute + sec * kTicksPerSecond + frac - offset;
}

// [-][d.]hh:mm:ss[.f{1,7}], hours 1-2 digits below 24, minutes and seconds 2 digits below 60.
std::optional<std::int64_t> parse_timespan(std::string_view s) {
  std::size_t n = 0;
  bool neg = n < s.size() && s[n] == '-';
  if (neg) ++n;
  auto number = [&](std::size_t max_digits, std::int64_t& out) {
    std::size_t start = n;
    out = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9' && n - start < max_digits) out = out * 10 + (s[n++] - '0');
    return n > start;
  };
  std::int64_t days = 0, first, h, mi, sec, frac = 0;
  if (!number(8, first)) return std::nullopt;
  if (n < s.size() && s[n] == '.') {
    days = first;
    ++n;
    std::size_t start = n;
    if (!number(2, h) || n - start > 2) return std::nullopt;
  } else {
    if (n > (neg ? 3u : 2u)) return std::nullopt;
    h = first;
  }
  if (n >= s.size() || s[n] != ':') return std::nullopt;
  ++n;
  std::size_t at = n;
  if (!number(2, mi) || n - at != 2 || n >= s.size() || s[n] != ':') return std::nullopt;
  ++n;
  at = n;
  if (!number(2, sec) || n - at != 2) return std::nullopt;
  if (n < s.size() && s[n] == '.') {
    ++n;
    at = n;
    if (!number(7, frac)) return std::nullopt;
    for (std::size_t count = n - at; count < 7; ++count) frac *= 10;
  }
  if (n != s.size() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  std::int64_t t = days * kTicksPerDay + h * kTicksPerHour + mi * kTicksPerMinute + sec * kTicksPerSecond + frac;
  return neg ? -t : t;
}

std::string format_alert(const Alert& a) {
  return a.rule + "\t" + format_datetime(a.time) + "\t" + a.outcome;
}

std::vector<Alert> evaluate(const ir::Module& m, const std::vector<std::string>& jsonl_lines) {
  // Only tables some rule reads become events, and only their times move the clock (§8).
  std::vector<bool> read(m.catalog.tables.size(), false);
  for (const auto& r : m.rules)
    for (const auto& e : r.events) read.at(e.table) = true;

  std::vector<std::vector<Event>> by_table(m.catalog.tables.size());
  simdjson::dom::parser parser;
  std::optional<std::int64_t> clock;
  for (std::size_t row = 0; row < jsonl_lines.size(); ++row) {
    simdjson::padded_string padded(jsonl_lines[row]);
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (parser.parse(padded).get(doc) || doc.get_object().get(obj)) continue;
    std::string_view type;
    if (obj.at_key("Type").get_string().get(type)) continue;
    const ir::Table* t = m.catalog.find(std::string(type));
    if (!t) continue;
    auto tid = m.catalog.index.at(t->name);
    if (!read[tid]) continue;
    Val time = read_column(obj.at_key("TimeGenerated"), Type::Datetime);
    if (time.k != Val::K::Time) continue;  // §2.2: dropped before any rule sees it
    clock = clock ? std::max(*clock, time.i) : time.i;
    Event e;
    e.row = row;
    e.time = time.i;
    e.now = *clock;
    for (const auto& col : t->columns) e.cols.push_back(read_column(obj.at_key(col.name), col.type));
    by_table[tid].push_back(std::move(e));
  }

  std::vector<Alert> out;
  Evaluator ev(m);
  for (const auto& r : m.rules) RuleEval(r, ev, by_table, out).run();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace ward::ref
