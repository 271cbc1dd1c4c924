#include "runtime/value.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "ast/value.h"

namespace ward::vm {

namespace {

// A small strict JSON parser (RFC 8259) into arena nodes. Used for dynamic columns and
// parse_json(); the event reader itself is simdjson.
struct JsonParser {
  const char* p;
  const char* end;
  Arena& arena;
  int depth = 0;
  std::string scratch;

  void ws() {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) ++p;
  }
  bool lit(const char* w) {
    auto n = std::strlen(w);
    if (static_cast<std::size_t>(end - p) < n || std::memcmp(p, w, n) != 0) return false;
    p += n;
    return true;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool hex4(unsigned& v) {
    if (end - p < 4) return false;
    v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p[i]);
      if (h < 0) return false;
      v = v << 4 | static_cast<unsigned>(h);
    }
    p += 4;
    return true;
  }
  bool string(std::string_view& out) {
    if (p >= end || *p != '"') return false;
    ++p;
    const char* start = p;
    while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20) ++p;
    if (p < end && *p == '"') {  // no escapes: copy as is
      out = arena.copy({start, static_cast<std::size_t>(p - start)});
      ++p;
      return true;
    }
    scratch.assign(start, p);
    while (p < end) {
      char c = *p++;
      if (c == '"') {
        out = arena.copy(scratch);
        return true;
      }
      if (static_cast<unsigned char>(c) < 0x20) return false;
      if (c != '\\') {
        scratch += c;
        continue;
      }
      if (p >= end) return false;
      c = *p++;
      switch (c) {
        case '"': scratch += '"'; break;
        case '\\': scratch += '\\'; break;
        case '/': scratch += '/'; break;
        case 'b': scratch += '\b'; break;
        case 'f': scratch += '\f'; break;
        case 'n': scratch += '\n'; break;
        case 'r': scratch += '\r'; break;
        case 't': scratch += '\t'; break;
        case 'u': {
          unsigned cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            unsigned lo;
            if (end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
              p += 2;
              if (!hex4(lo)) return false;
              if (lo >= 0xdc00 && lo < 0xe000) cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              else { append_utf8(scratch, 0xfffd); cp = lo; }
            } else {
              cp = 0xfffd;  // a lone surrogate has no UTF-8 form
            }
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            cp = 0xfffd;
          }
          append_utf8(scratch, cp);
          break;
        }
        default: return false;
      }
    }
    return false;
  }
  bool number(Node& n) {
    const char* s = p;
    if (p < end && *p == '-') ++p;
    if (p >= end) return false;
    if (*p == '0') ++p;
    else if (*p >= '1' && *p <= '9') while (p < end && *p >= '0' && *p <= '9') ++p;
    else return false;
    bool integral = true;
    if (p < end && *p == '.') {
      integral = false;
      ++p;
      if (p >= end || *p < '0' || *p > '9') return false;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
      integral = false;
      ++p;
      if (p < end && (*p == '+' || *p == '-')) ++p;
      if (p >= end || *p < '0' || *p > '9') return false;
      while (p < end && *p >= '0' && *p <= '9') ++p;
    }
    if (integral) {
      std::int64_t v;
      auto r = std::from_chars(s, p, v);
      if (r.ec == std::errc() && r.ptr == p) {
        n.kind = Node::Kind::Int, n.i = v;
        return true;
      }
    }
    double d;
    auto r = std::from_chars(s, p, d);
    if (r.ec != std::errc() && r.ec != std::errc::result_out_of_range) return false;
    if (r.ec == std::errc::result_out_of_range) d = (*s == '-') ? -HUGE_VAL : HUGE_VAL;
    n.kind = Node::Kind::Real, n.r = d;
    return true;
  }
  // Returns false on invalid JSON; `is_null` for a JSON null (not representable as a Node).
  bool value(Node& n, bool& is_null) {
    is_null = false;
    ws();
    if (p >= end) return false;
    switch (*p) {
      case 'n': if (!lit("null")) return false; is_null = true; return true;
      case 't': if (!lit("true")) return false; n.kind = Node::Kind::Bool, n.b = true; return true;
      case 'f': if (!lit("false")) return false; n.kind = Node::Kind::Bool, n.b = false; return true;
      case '"': {
        std::string_view s;
        if (!string(s)) return false;
        n.kind = Node::Kind::String, n.s = s.data(), n.n = static_cast<std::uint32_t>(s.size());
        return true;
      }
      case '[': case '{': {
        if (++depth > 256) return false;
        bool object = *p == '{';
        ++p;
        std::vector<Member> items;  // collected, then moved to the arena in one block
        ws();
        char close = object ? '}' : ']';
        if (p < end && *p == close) {
          ++p;
        } else {
          while (true) {
            Member m{nullptr, 0, {}};
            ws();
            if (object) {
              std::string_view k;
              if (!string(k)) return false;
              m.key = k.data(), m.key_len = static_cast<std::uint32_t>(k.size());
              ws();
              if (p >= end || *p != ':') return false;
              ++p;
            }
            bool null;
            if (!value(m.value, null)) return false;
            if (null) m.value = Node{};  // a null member or element reads as missing
            items.push_back(m);
            ws();
            if (p < end && *p == ',') { ++p; continue; }
            if (p < end && *p == close) { ++p; break; }
            return false;
          }
        }
        --depth;
        n.n = static_cast<std::uint32_t>(items.size());
        if (object) {
          auto* ms = arena.make<Member>(items.size());
          std::copy(items.begin(), items.end(), ms);
          n.kind = Node::Kind::Object, n.members = ms;
        } else {
          auto* ns = arena.make<Node>(items.size());
          for (std::size_t i = 0; i < items.size(); ++i) ns[i] = items[i].value;
          n.kind = Node::Kind::Array, n.items = ns;
        }
        return true;
      }
      default: return number(n);
    }
  }
};

bool is_null_node(const Node& n) { return n.kind == Node::Kind::Null; }

void append_real(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", d);
}

void node_json(std::string& out, const Node& n) {
  if (is_null_node(n)) {
    out += "null";
    return;
  }
  switch (n.kind) {
    case Node::Kind::Null: out += "null"; return;
    case Node::Kind::Bool: out += n.b ? "true" : "false"; return;
    case Node::Kind::Int: fmt::format_to(std::back_inserter(out), "{}", n.i); return;
    case Node::Kind::Real: append_real(out, n.r); return;
    case Node::Kind::String: append_json_string(out, {n.s, n.n}); return;
    case Node::Kind::Array:
      out += '[';
      for (std::uint32_t i = 0; i < n.n; ++i) {
        if (i) out += ',';
        node_json(out, n.items[i]);
      }
      out += ']';
      return;
    case Node::Kind::Object:
      out += '{';
      for (std::uint32_t i = 0; i < n.n; ++i) {
        if (i) out += ',';
        append_json_string(out, {n.members[i].key, n.members[i].key_len});
        out += ':';
        node_json(out, n.members[i].value);
      }
      out += '}';
      return;
  }
}

// ---- deep copies ----
std::size_t node_size(const Node& n) {
  if (is_null_node(n)) return 0;
  switch (n.kind) {
    case Node::Kind::String: return n.n;
    case Node::Kind::Array: {
      std::size_t s = sizeof(Node) * n.n + 8;
      for (std::uint32_t i = 0; i < n.n; ++i) s += node_size(n.items[i]);
      return s;
    }
    case Node::Kind::Object: {
      std::size_t s = sizeof(Member) * n.n + 8;
      for (std::uint32_t i = 0; i < n.n; ++i) s += n.members[i].key_len + node_size(n.members[i].value);
      return s;
    }
    default: return 0;
  }
}

struct Copier {
  char* p;
  char* take(std::size_t n, std::size_t align) {
    auto a = reinterpret_cast<std::uintptr_t>(p);
    auto aligned = (a + align - 1) & ~(align - 1);
    p = reinterpret_cast<char*>(aligned) + n;
    return reinterpret_cast<char*>(aligned);
  }
  const char* bytes(const char* s, std::size_t n) {
    if (!n) return "";
    char* d = take(n, 1);
    std::memcpy(d, s, n);
    return d;
  }
  Node node(const Node& n) {
    Node out = n;
    if (is_null_node(n)) return out;
    switch (n.kind) {
      case Node::Kind::String: out.s = bytes(n.s, n.n); break;
      case Node::Kind::Array: {
        auto* items = reinterpret_cast<Node*>(take(sizeof(Node) * n.n, alignof(Node)));
        for (std::uint32_t i = 0; i < n.n; ++i) items[i] = node(n.items[i]);
        out.items = items;
        break;
      }
      case Node::Kind::Object: {
        auto* ms = reinterpret_cast<Member*>(take(sizeof(Member) * n.n, alignof(Member)));
        for (std::uint32_t i = 0; i < n.n; ++i) {
          ms[i].key = bytes(n.members[i].key, n.members[i].key_len);
          ms[i].key_len = n.members[i].key_len;
          ms[i].value = node(n.members[i].value);
        }
        out.members = ms;
        break;
      }
      default: break;
    }
    return out;
  }
};

}  // namespace

Val parse_json(std::string_view text, Arena& arena, bool* ok) {
  JsonParser jp{text.data(), text.data() + text.size(), arena, 0, {}};
  Node n;
  bool null;
  bool good = jp.value(n, null);
  if (good) {
    jp.ws();
    good = jp.p == jp.end;
  }
  if (ok) *ok = good;
  if (!good || null) return Val{};
  auto* node = arena.make<Node>(1);
  *node = n;
  return Val::dyn(node);
}

Val node_value(const Node& n) {
  if (is_null_node(n)) return Val{};
  switch (n.kind) {
    case Node::Kind::Bool: return Val::boolean(n.b);
    case Node::Kind::Int: return Val::integer(n.i);
    case Node::Kind::Real: return Val::real(n.r);
    case Node::Kind::String: return Val::string({n.s, n.n});
    default: return Val::dyn(&n);
  }
}

std::string format_timespan(std::int64_t ticks) {
  bool neg = ticks < 0;
  std::uint64_t t = neg ? 0 - static_cast<std::uint64_t>(ticks) : static_cast<std::uint64_t>(ticks);
  auto days = t / static_cast<std::uint64_t>(kTicksPerDay);
  t %= static_cast<std::uint64_t>(kTicksPerDay);
  auto hh = t / kTicksPerHour, mm = t % kTicksPerHour / kTicksPerMinute, ss = t % kTicksPerMinute / kTicksPerSecond;
  auto frac = t % kTicksPerSecond;
  std::string s = neg ? "-" : "";
  if (days) s += fmt::format("{}.", days);
  s += fmt::format("{:02}:{:02}:{:02}", hh, mm, ss);
  if (frac) {
    auto f = fmt::format("{:07}", frac);
    while (f.back() == '0') f.pop_back();
    s += "." + f;
  }
  return s;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | cp >> 6), out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | cp >> 12), out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | cp >> 18), out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
    out += static_cast<char>(0x80 | (cp >> 6 & 0x3f)), out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
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
        if (c < 0x20) fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
        else out += ch;
    }
  }
  out += '"';
}

void append_text(std::string& out, const Val& v) {
  switch (v.tag) {
    case Tag::Null: return;
    case Tag::Bool: out += v.b ? "true" : "false"; return;
    case Tag::Long: fmt::format_to(std::back_inserter(out), "{}", v.i); return;
    case Tag::Real:
      if (std::isnan(v.r)) out += "NaN";
      else if (std::isinf(v.r)) out += v.r > 0 ? "Infinity" : "-Infinity";
      else fmt::format_to(std::back_inserter(out), "{}", v.r);
      return;
    case Tag::Datetime: out += format_datetime(v.i); return;
    case Tag::Timespan: out += format_timespan(v.i); return;
    case Tag::String: out += v.str(); return;
    case Tag::Dyn:
      if (v.d->kind == Node::Kind::String) out.append(v.d->s, v.d->n);
      else node_json(out, *v.d);
      return;
  }
}

void append_json(std::string& out, const Val& v) {
  switch (v.tag) {
    case Tag::Null: out += "null"; return;
    case Tag::Bool: out += v.b ? "true" : "false"; return;
    case Tag::Long: fmt::format_to(std::back_inserter(out), "{}", v.i); return;
    case Tag::Real: append_real(out, v.r); return;
    case Tag::Datetime: append_json_string(out, format_datetime(v.i)); return;
    case Tag::Timespan: append_json_string(out, format_timespan(v.i)); return;
    case Tag::String: append_json_string(out, v.str()); return;
    case Tag::Dyn: node_json(out, *v.d); return;
  }
}

std::size_t Owned::bytes() const {
  return sizeof(Owned) + vals.capacity() * sizeof(Val);  // the blob is counted by own()'s caller
}

Owned own(const Val* vals, std::size_t n) {
  std::size_t size = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (vals[i].tag == Tag::String) size += vals[i].n;
    else if (vals[i].tag == Tag::Dyn) size += sizeof(Node) + 8 + node_size(*vals[i].d);
  }
  Owned o;
  o.vals.assign(vals, vals + n);
  if (size == 0) return o;
  o.blob.reset(new char[size + 16]);
  Copier c{o.blob.get()};
  for (auto& v : o.vals) {
    if (v.tag == Tag::String) {
      v.s = c.bytes(v.s, v.n);
    } else if (v.tag == Tag::Dyn) {
      auto* node = reinterpret_cast<Node*>(c.take(sizeof(Node), alignof(Node)));
      *node = c.node(*v.d);
      v.d = node;
    }
  }
  return o;
}

}  // namespace ward::vm
