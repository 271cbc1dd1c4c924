#include "runtime/bundle.h"

#include <fmt/format.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "ast/literals.h"
#include "ast/value.h"

namespace ward::bc {

namespace {

enum class K : std::uint8_t { None, Var, Field, Const, Str, Set, Cidr, Regex, Jump, CmpOp, StrOp, SetOp, ArithOp, Fn, Argc, Agg, Neg };

struct OpInfo {
  const char* mnemonic;
  K a, b, c;
  int pops, pushes;
  const char* doc;
};

constexpr OpInfo kOps[] = {
#define WARD_OP(name, mn, a, b, c, pops, pushes, doc) {mn, K::a, K::b, K::c, pops, pushes, doc},
#include "runtime/opcodes.def"
#undef WARD_OP
};
static_assert(sizeof(kOps) / sizeof(kOps[0]) == static_cast<std::size_t>(Opcode::Count_));

constexpr const char* kFnNames[] = {
#define WARD_FN(name, kql, ret, ...) #name,
#include "sema/functions.def"
#undef WARD_FN
};

// A function's arity: the number of parameter names in its functions.def row.
constexpr int count_params(const char* s) {
  if (!*s) return 0;
  int n = 1;
  for (; *s; ++s) n += *s == ',';
  return n;
}
constexpr int kFnArity[] = {
#define WARD_FN(name, kql, ret, ...) count_params(#__VA_ARGS__ ""),
#include "sema/functions.def"
#undef WARD_FN
};

constexpr const char* kCmpNames[] = {"==", "!=", "=~", "!~", "<", "<=", ">", ">="};
constexpr const char* kStrNames[] = {"contains", "!contains", "startswith", "!startswith", "endswith", "!endswith", "has", "!has"};
constexpr const char* kSetNames[] = {"in", "!in", "in~", "!in~"};
constexpr const char* kArithNames[] = {"+", "-", "*", "/", "%"};
constexpr const char* kTypeNames[] = {"bool", "int", "long", "real", "string", "datetime", "timespan", "guid", "dynamic", "null"};
constexpr const char* kShapeNames[] = {"single", "threshold", "sequence", "join", "absence"};
constexpr const char* kAggNames[] = {"count", "dcount", "sum"};
constexpr const char* kSevNames[] = {"Informational", "Low", "Medium", "High"};
constexpr const char* kRoleNames[] = {"where", "key", "aggregate", "outcome"};

constexpr char kMagic[8] = {'W', 'A', 'R', 'D', 'B', 'C', '\r', '\n'};
constexpr std::size_t kHeader = 8 + 4 + 4 + 8;  // magic, version, section count, checksum

// Section tags, in the order they are written.
constexpr std::array<const char*, 11> kSections = {"STRS", "TABL", "FLDS", "CNST", "SETS", "CIDR",
                                                   "REGX", "CODE", "CHNK", "SPAN", "RULE"};

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
  std::uint64_t h = 1469598103934665603ull;
  for (auto part : {a, b})
    for (unsigned char ch : part) h = (h ^ ch) * 1099511628211ull;
  return h;
}

struct Writer {
  std::string out;
  void u8(std::uint8_t v) { out.push_back(static_cast<char>(v)); }
  void u16(std::uint16_t v) { u8(v & 0xff), u8(v >> 8); }
  void u32(std::uint32_t v) { for (int i = 0; i < 4; ++i) u8((v >> (8 * i)) & 0xff); }
  void u64(std::uint64_t v) { for (int i = 0; i < 8; ++i) u8((v >> (8 * i)) & 0xff); }
  void f64(double d) { std::uint64_t v; std::memcpy(&v, &d, 8); u64(v); }
  void bytes(std::string_view s) { u32(static_cast<std::uint32_t>(s.size())); out += s; }
  void vec32(const std::vector<std::uint32_t>& v) { u32(static_cast<std::uint32_t>(v.size())); for (auto x : v) u32(x); }
};

struct Reader {
  std::string_view data;
  std::size_t pos = 0;
  const char* section;
  [[noreturn]] void fail(const std::string& what) const {
    throw BundleError(fmt::format("section {} at byte {}: {}", section, pos, what));
  }
  void need(std::size_t n) const {
    if (data.size() - pos < n) fail(fmt::format("truncated: {} more byte(s) needed, {} left", n, data.size() - pos));
  }
  std::uint8_t u8() { need(1); return static_cast<std::uint8_t>(data[pos++]); }
  std::uint16_t u16() { std::uint16_t lo = u8(); return static_cast<std::uint16_t>(lo | (u8() << 8)); }
  std::uint32_t u32() {
    need(4);
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(data[pos + i])) << (8 * i);
    pos += 4;
    return v;
  }
  std::uint64_t u64() { std::uint64_t lo = u32(); return lo | (static_cast<std::uint64_t>(u32()) << 32); }
  double f64() { auto v = u64(); double d; std::memcpy(&d, &v, 8); return d; }
  // A count of items that each take at least `min_size` bytes: refuse counts the data cannot hold,
  // so that a hostile count never makes the loader allocate.
  std::uint32_t count(std::size_t min_size) {
    auto n = u32();
    if (min_size && n > (data.size() - pos) / min_size) fail(fmt::format("count {} exceeds what the section can hold", n));
    return n;
  }
  std::string bytes() {
    auto n = count(1);
    std::string s(data.substr(pos, n));
    pos += n;
    return s;
  }
  std::vector<std::uint32_t> vec32() {
    auto n = count(4);
    std::vector<std::uint32_t> v(n);
    for (auto& x : v) x = u32();
    return v;
  }
  template <typename E>
  E enum8(const char* what) {
    auto v = u8();
    if (v >= static_cast<std::uint8_t>(E::Count_)) fail(fmt::format("{} {} is out of range", what, v));
    return static_cast<E>(v);
  }
  void done() const {
    if (pos != data.size()) fail(fmt::format("{} unread byte(s) at the end", data.size() - pos));
  }
};

void write_sections(const Program& p, std::array<std::string, kSections.size()>& s) {
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.strings.size()));
    for (const auto& x : p.strings) w.bytes(x);
    s[0] = std::move(w.out);
  }
  { Writer w; w.vec32(p.tables); s[1] = std::move(w.out); }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.fields.size()));
    for (const auto& f : p.fields) w.u32(f.table), w.u32(f.name), w.u8(static_cast<std::uint8_t>(f.type));
    s[2] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.consts.size()));
    for (const auto& c : p.consts) {
      w.u8(static_cast<std::uint8_t>(c.type));
      if (c.type == Type::Real) w.f64(c.r);
      else w.u64(static_cast<std::uint64_t>(c.i));
    }
    s[3] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.sets.size()));
    for (const auto& x : p.sets) w.vec32(x.elems);
    s[4] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.cidrs.size()));
    for (const auto& c : p.cidrs) {
      w.u32(static_cast<std::uint32_t>(c.ranges.size()));
      for (const auto& r : c.ranges) {
        w.u8(r.v6), w.u8(r.prefix);
        for (auto b : r.addr) w.u8(b);
      }
    }
    s[5] = std::move(w.out);
  }
  { Writer w; w.vec32(p.regexes); s[6] = std::move(w.out); }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.code.size()));
    for (const auto& i : p.code) w.u8(static_cast<std::uint8_t>(i.op)), w.u8(i.a), w.u16(i.b), w.u32(i.c);
    s[7] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.chunks.size()));
    for (const auto& c : p.chunks)
      w.u32(c.start), w.u32(c.len), w.u8(static_cast<std::uint8_t>(c.role)), w.u32(c.rule), w.u32(c.vars), w.u32(c.span);
    s[8] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.spans.size()));
    for (const auto& x : p.spans) w.u32(x.file), w.u32(x.line), w.u32(x.col);
    s[9] = std::move(w.out);
  }
  {
    Writer w;
    w.u32(static_cast<std::uint32_t>(p.rules.size()));
    for (const auto& r : p.rules) {
      w.u32(r.name), w.u32(r.id), w.u32(r.title), w.u8(static_cast<std::uint8_t>(r.severity));
      w.u8(static_cast<std::uint8_t>(r.shape)), w.u64(static_cast<std::uint64_t>(r.window)), w.u8(r.after);
      w.u8(static_cast<std::uint8_t>(r.cmp)), w.f64(r.threshold), w.u32(r.span);
      w.u32(static_cast<std::uint32_t>(r.events.size()));
      for (const auto& e : r.events) w.u32(e.var), w.u32(e.table), w.u32(e.where);
      w.vec32(r.order);
      w.u32(static_cast<std::uint32_t>(r.keys.size()));
      for (const auto& k : r.keys) w.vec32(k);
      w.u32(static_cast<std::uint32_t>(r.aggs.size()));
      for (const auto& a : r.aggs) w.u8(static_cast<std::uint8_t>(a.kind)), w.u32(a.arg), w.u8(a.real), w.u8(a.fold);
      w.u32(static_cast<std::uint32_t>(r.outcome.size()));
      for (const auto& o : r.outcome) w.u32(o.name), w.u32(o.chunk);
      w.u32(static_cast<std::uint32_t>(r.entities.size()));
      for (const auto& e : r.entities) {
        w.u32(e.type);
        w.u32(static_cast<std::uint32_t>(e.identifiers.size()));
        for (const auto& [id, field] : e.identifiers) w.u32(id), w.u32(field);
      }
    }
    s[10] = std::move(w.out);
  }
}

void read_sections(const std::array<std::string_view, kSections.size()>& s, Program& p) {
  {
    Reader r{s[0], 0, kSections[0]};
    auto n = r.count(4);
    p.strings.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) p.strings.push_back(r.bytes());
    r.done();
  }
  { Reader r{s[1], 0, kSections[1]}; p.tables = r.vec32(); r.done(); }
  {
    Reader r{s[2], 0, kSections[2]};
    p.fields.resize(r.count(9));
    for (auto& f : p.fields) f.table = r.u32(), f.name = r.u32(), f.type = r.enum8<Type>("field type");
    r.done();
  }
  {
    Reader r{s[3], 0, kSections[3]};
    p.consts.resize(r.count(9));
    for (auto& c : p.consts) {
      c.type = r.enum8<Type>("constant type");
      if (c.type == Type::Real) c.r = r.f64();
      else c.i = static_cast<std::int64_t>(r.u64());
    }
    r.done();
  }
  {
    Reader r{s[4], 0, kSections[4]};
    p.sets.resize(r.count(4));
    for (auto& x : p.sets) x.elems = r.vec32();
    r.done();
  }
  {
    Reader r{s[5], 0, kSections[5]};
    p.cidrs.resize(r.count(4));
    for (auto& c : p.cidrs) {
      c.ranges.resize(r.count(18));
      for (auto& x : c.ranges) {
        auto v6 = r.u8();
        if (v6 > 1) r.fail("range family flag is not 0 or 1");
        x.v6 = v6;
        x.prefix = r.u8();
        for (auto& b : x.addr) b = r.u8();
      }
    }
    r.done();
  }
  { Reader r{s[6], 0, kSections[6]}; p.regexes = r.vec32(); r.done(); }
  {
    Reader r{s[7], 0, kSections[7]};
    p.code.resize(r.count(8));
    for (auto& i : p.code) {
      i.op = r.enum8<Opcode>("opcode");
      i.a = r.u8(), i.b = r.u16(), i.c = r.u32();
    }
    r.done();
  }
  {
    Reader r{s[8], 0, kSections[8]};
    p.chunks.resize(r.count(21));
    for (auto& c : p.chunks) {
      c.start = r.u32(), c.len = r.u32();
      c.role = r.enum8<ChunkRole>("chunk role");
      c.rule = r.u32(), c.vars = r.u32(), c.span = r.u32();
    }
    r.done();
  }
  {
    Reader r{s[9], 0, kSections[9]};
    p.spans.resize(r.count(12));
    for (auto& x : p.spans) x.file = r.u32(), x.line = r.u32(), x.col = r.u32();
    r.done();
  }
  {
    Reader r{s[10], 0, kSections[10]};
    p.rules.resize(r.count(40));
    for (auto& x : p.rules) {
      x.name = r.u32(), x.id = r.u32(), x.title = r.u32();
      x.severity = r.enum8<Severity>("severity");
      x.shape = r.enum8<Shape>("rule shape");
      x.window = static_cast<std::int64_t>(r.u64());
      auto after = r.u8();
      if (after > 1) r.fail("absence direction is not 0 or 1");
      x.after = after;
      x.cmp = r.enum8<CmpOp>("threshold operator");
      x.threshold = r.f64();
      x.span = r.u32();
      x.events.resize(r.count(12));
      for (auto& e : x.events) e.var = r.u32(), e.table = r.u32(), e.where = r.u32();
      x.order = r.vec32();
      x.keys.resize(r.count(4));
      for (auto& k : x.keys) k = r.vec32();
      x.aggs.resize(r.count(7));
      for (auto& a : x.aggs) {
        a.kind = r.enum8<AggKind>("aggregate");
        a.arg = r.u32();
        auto real = r.u8();
        auto fold = r.u8();
        if (real > 1 || fold > 1) r.fail("aggregate flag is not 0 or 1");
        a.real = real;
        a.fold = fold;
      }
      x.outcome.resize(r.count(8));
      for (auto& o : x.outcome) o.name = r.u32(), o.chunk = r.u32();
      x.entities.resize(r.count(8));
      for (auto& e : x.entities) {
        e.type = r.u32();
        e.identifiers.resize(r.count(8));
        for (auto& [id, field] : e.identifiers) id = r.u32(), field = r.u32();
      }
    }
    r.done();
  }
}

}  // namespace

const char* mnemonic(Opcode op) {
  auto i = static_cast<std::size_t>(op);
  return i < static_cast<std::size_t>(Opcode::Count_) ? kOps[i].mnemonic : "?";
}
const char* fn_name(Fn f) {
  auto i = static_cast<std::size_t>(f);
  return i < static_cast<std::size_t>(Fn::Count_) ? kFnNames[i] : "?";
}
int fn_arity(Fn f) { return kFnArity[static_cast<std::size_t>(f)]; }
const char* type_name(Type t) {
  auto i = static_cast<std::size_t>(t);
  return i < static_cast<std::size_t>(Type::Count_) ? kTypeNames[i] : "?";
}

std::string serialize(const Program& p) {
  std::array<std::string, kSections.size()> sec;
  write_sections(p, sec);
  Writer w;
  w.out.append(kMagic, 8);
  w.u32(kFormatVersion);
  w.u32(static_cast<std::uint32_t>(kSections.size()));
  w.u64(0);  // checksum, filled below
  std::uint32_t offset = static_cast<std::uint32_t>(kHeader + 12 * kSections.size());
  for (std::size_t i = 0; i < kSections.size(); ++i) {
    w.out.append(kSections[i], 4);
    w.u32(offset);
    w.u32(static_cast<std::uint32_t>(sec[i].size()));
    offset += static_cast<std::uint32_t>(sec[i].size());
  }
  for (const auto& s : sec) w.out += s;
  auto sum = fnv1a(std::string_view(w.out).substr(0, 16), std::string_view(w.out).substr(kHeader));
  for (int i = 0; i < 8; ++i) w.out[16 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
  return w.out;
}

Program load(std::string_view bytes, bool check_sum) {
  Reader h{bytes, 0, "header"};
  h.need(kHeader);
  if (std::memcmp(bytes.data(), kMagic, 8) != 0) throw BundleError("not a Ward bytecode bundle (bad magic number)");
  h.pos = 8;
  auto version = h.u32();
  if (version != kFormatVersion)
    throw BundleError(fmt::format("bundle format version {} is not supported (this ward reads version {}); recompile the rules",
                                  version, kFormatVersion));
  auto nsec = h.u32();
  auto sum = h.u64();
  if (check_sum && sum != fnv1a(bytes.substr(0, 16), bytes.substr(kHeader)))
    throw BundleError("checksum mismatch: the bundle is corrupted or truncated");
  if (nsec != kSections.size())
    throw BundleError(fmt::format("header: {} sections, expected {}", nsec, kSections.size()));
  std::array<std::string_view, kSections.size()> sec;
  std::size_t expect = kHeader + 12 * kSections.size();
  for (std::size_t i = 0; i < kSections.size(); ++i) {
    h.need(12);
    std::string_view tag = bytes.substr(h.pos, 4);
    h.pos += 4;
    auto off = h.u32(), size = h.u32();
    if (tag != kSections[i])
      throw BundleError(fmt::format("section table entry {}: expected section {}, found '{}'", i, kSections[i],
                                    literals::quote(std::string(tag))));
    if (off != expect || size > bytes.size() || off > bytes.size() - size)
      throw BundleError(fmt::format("section {}: offset {} size {} do not fit the {}-byte bundle", kSections[i], off, size,
                                    bytes.size()));
    sec[i] = bytes.substr(off, size);
    expect = off + size;
  }
  if (expect != bytes.size()) throw BundleError(fmt::format("{} byte(s) after the last section", bytes.size() - expect));
  Program p;
  read_sections(sec, p);
  verify(p);
  return p;
}

// ---------------------------------------------------------------------------
// The verifier. Everything the VM indexes is checked here once, so the VM itself
// never bounds-checks an operand.
namespace {

struct V {
  Program& p;
  [[noreturn]] void fail(const std::string& what) const { throw BundleError(what); }
  void str(std::uint32_t i, const char* what) const {
    if (i >= p.strings.size()) fail(fmt::format("{}: string index {} out of range ({} strings)", what, i, p.strings.size()));
  }
  std::string where_rule(std::uint32_t r) const {
    return r < p.rules.size() && p.rules[r].name < p.strings.size() ? fmt::format("rule `{}`", p.strings[p.rules[r].name])
                                                                    : fmt::format("rule {}", r);
  }

  void chunk(std::uint32_t ci, std::uint32_t rule, ChunkRole role, std::uint32_t vars, const char* what) {
    if (ci >= p.chunks.size()) fail(fmt::format("{} {}: chunk index {} out of range", where_rule(rule), what, ci));
    auto& c = p.chunks[ci];
    if (c.rule != rule || c.role != role || c.vars != vars)
      fail(fmt::format("{} {}: chunk {} is declared for another context", where_rule(rule), what, ci));
  }

  void code(std::uint32_t ci) {
    auto& c = p.chunks[ci];
    auto ctx = [&] { return fmt::format("chunk {} ({} of {})", ci, kRoleNames[static_cast<int>(c.role)], where_rule(c.rule)); };
    if (c.rule >= p.rules.size()) fail(fmt::format("chunk {}: rule index {} out of range", ci, c.rule));
    if (c.span >= p.spans.size()) fail(fmt::format("{}: span index out of range", ctx()));
    if (c.len == 0 || c.start > p.code.size() || c.len > p.code.size() - c.start)
      fail(fmt::format("{}: code range [{}, +{}) outside the {} instructions", ctx(), c.start, c.len, p.code.size()));
    const auto& rule = p.rules[c.rule];
    std::vector<int> depth_at(c.len + 1, -1);
    depth_at[0] = 0;
    int max_depth = 0;
    for (std::uint32_t i = 0; i < c.len; ++i) {
      const auto& in = p.code[c.start + i];
      auto pc = [&] { return fmt::format("{} at pc {} ({})", ctx(), c.start + i, mnemonic(in.op)); };
      int d = depth_at[i];
      if (d < 0) fail(fmt::format("{}: unreachable instruction", pc()));
      const auto& info = kOps[static_cast<std::size_t>(in.op)];
      auto check = [&](K kind, std::uint32_t v, const char* slot) {
        auto bad = [&](std::size_t n) {
          if (v >= n) fail(fmt::format("{}: operand {} = {} out of range ({})", pc(), slot, v, n));
        };
        switch (kind) {
          case K::None: if (v) fail(fmt::format("{}: operand {} must be 0", pc(), slot)); break;
          case K::Var:
            bad(rule.events.size());
            if (!(c.vars >> v & 1)) fail(fmt::format("{}: reads event {} which this chunk may not read", pc(), v));
            break;
          case K::Field:
            bad(p.fields.size());
            if (p.fields[v].table != rule.events[in.a].table)
              fail(fmt::format("{}: field {} is not a column of event {}'s table", pc(), v, in.a));
            break;
          case K::Const: bad(p.consts.size()); break;
          case K::Str: bad(p.strings.size()); break;
          case K::Set: bad(p.sets.size()); break;
          case K::Cidr: bad(p.cidrs.size()); break;
          case K::Regex: bad(p.regexes.size()); break;
          case K::Jump:
            if (v <= i || v >= c.len) fail(fmt::format("{}: jump to {} is not forward inside the chunk", pc(), v));
            break;
          case K::CmpOp: bad(static_cast<std::size_t>(CmpOp::Count_)); break;
          case K::StrOp: bad(static_cast<std::size_t>(StrOp::Count_)); break;
          case K::SetOp: bad(static_cast<std::size_t>(SetOp::Count_)); break;
          case K::ArithOp: bad(static_cast<std::size_t>(ArithOp::Count_)); break;
          case K::Fn: bad(static_cast<std::size_t>(Fn::Count_)); break;
          case K::Argc:
            if (static_cast<int>(v) != fn_arity(static_cast<Fn>(in.a)))
              fail(fmt::format("{}: {} takes {} argument(s), not {}", pc(), fn_name(static_cast<Fn>(in.a)),
                               fn_arity(static_cast<Fn>(in.a)), v));
            break;
          case K::Agg:
            if (c.role != ChunkRole::Outcome || rule.shape != Shape::Threshold)
              fail(fmt::format("{}: aggregates exist only in threshold outcomes", pc()));
            bad(rule.aggs.size());
            break;
          case K::Neg: bad(2); break;
        }
      };
      check(info.a, in.a, "A");
      check(info.b, in.b, "B");
      check(info.c, in.c, "C");
      int pops = info.pops < 0 ? in.b : info.pops;
      if (d < pops) fail(fmt::format("{}: needs {} value(s) on the stack, has {}", pc(), pops, d));
      int after = d - pops + info.pushes;
      max_depth = std::max(max_depth, after);
      if (static_cast<std::size_t>(max_depth) > kMaxStack) fail(fmt::format("{}: stack deeper than {}", pc(), kMaxStack));
      auto flow = [&](std::uint32_t to, int depth) {
        if (depth_at[to] >= 0 && depth_at[to] != depth)
          fail(fmt::format("{}: stack depth {} at pc {} disagrees with {} on another path", pc(), depth, c.start + to, depth_at[to]));
        depth_at[to] = depth;
      };
      if (in.op == Opcode::Ret) {
        if (d != 1) fail(fmt::format("{}: returns with {} values on the stack, not 1", pc(), d));
        continue;  // nothing falls through a ret
      }
      if (in.op == Opcode::AndJmp || in.op == Opcode::OrJmp) {
        flow(in.c, d);       // taken: the value stays
        flow(i + 1, d - 1);  // not taken: popped
      } else {
        flow(i + 1, after);
      }
    }
    if (depth_at[c.len] >= 0) fail(fmt::format("{}: falls off the end without `ret`", ctx()));
    c.max_stack = static_cast<std::uint16_t>(max_depth);
  }

  void run() {
    for (auto t : p.tables) str(t, "table name");
    for (std::size_t i = 0; i < p.fields.size(); ++i) {
      if (p.fields[i].table >= p.tables.size()) fail(fmt::format("field {}: table index out of range", i));
      str(p.fields[i].name, "field name");
      if (p.fields[i].type == Type::Null) fail(fmt::format("field {}: a column cannot have type null", i));
    }
    for (std::size_t i = 0; i < p.consts.size(); ++i) {
      const auto& c = p.consts[i];
      if ((c.type == Type::String || c.type == Type::Guid) &&
          (c.i < 0 || static_cast<std::uint64_t>(c.i) >= p.strings.size()))
        fail(fmt::format("constant {}: string index {} out of range ({} strings)", i, c.i, p.strings.size()));
      if (c.type == Type::Bool && c.i > 1) fail(fmt::format("constant {}: a bool is 0 or 1", i));
      if (c.type == Type::Dynamic) fail(fmt::format("constant {}: dynamic constants do not exist", i));
    }
    for (std::size_t i = 0; i < p.sets.size(); ++i)
      for (auto e : p.sets[i].elems) {
        if (e >= p.consts.size()) fail(fmt::format("set {}: constant index {} out of range", i, e));
        auto t = p.consts[e].type;
        if (t == Type::Null || t == Type::Bool || t == Type::Dynamic)
          fail(fmt::format("set {}: elements are strings or numbers, not {}", i, type_name(t)));
      }
    for (std::size_t i = 0; i < p.cidrs.size(); ++i)
      for (const auto& r : p.cidrs[i].ranges)
        if (r.prefix > (r.v6 ? 128 : 32)) fail(fmt::format("cidr set {}: prefix /{} is too long", i, r.prefix));
    for (auto rx : p.regexes) str(rx, "regex pattern");
    for (const auto& s : p.spans) str(s.file, "span file");
    for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
      auto& r = p.rules[ri];
      str(r.name, "rule name"), str(r.id, "rule id"), str(r.title, "rule title");
      auto rname = where_rule(ri);
      if (r.span >= p.spans.size()) fail(fmt::format("{}: span index out of range", rname));
      if (r.events.empty() || r.events.size() > 32) fail(fmt::format("{}: {} events (1 to 32 allowed)", rname, r.events.size()));
      for (std::uint32_t e = 0; e < r.events.size(); ++e) {
        str(r.events[e].var, "event name");
        if (r.events[e].table >= p.tables.size()) fail(fmt::format("{}: event {} reads table index out of range", rname, e));
        if (r.events[e].where != kNone) chunk(r.events[e].where, ri, ChunkRole::Where, 1u << e, "filter");
      }
      std::size_t want = 1;
      switch (r.shape) {
        case Shape::Single: case Shape::Threshold: want = 1; break;
        case Shape::Sequence: want = 0; break;
        case Shape::Join: case Shape::Absence: want = 2; break;
        case Shape::Count_: break;
      }
      if (want ? r.order.size() != want : (r.order.size() < 2 || r.order.size() > 5))
        fail(fmt::format("{}: a {} condition cannot have {} events", rname, kShapeNames[static_cast<int>(r.shape)], r.order.size()));
      std::uint32_t seen = 0;
      for (auto e : r.order) {
        if (e >= r.events.size()) fail(fmt::format("{}: condition event {} out of range", rname, e));
        if (seen >> e & 1) fail(fmt::format("{}: event {} appears twice in the condition", rname, e));
        seen |= 1u << e;
      }
      if (r.shape != Shape::Single && (r.window <= 0 || r.window > 14 * 864000000000ll))
        fail(fmt::format("{}: window of {} ticks is outside (0, 14d]", rname, r.window));
      if (r.shape == Shape::Single && !r.keys.empty()) fail(fmt::format("{}: a single-event rule has no keys", rname));
      for (const auto& k : r.keys) {
        if (k.size() != r.order.size()) fail(fmt::format("{}: a key group has {} sides for {} events", rname, k.size(), r.order.size()));
        for (std::size_t i = 0; i < k.size(); ++i) chunk(k[i], ri, ChunkRole::Key, 1u << r.order[i], "key");
      }
      if (r.shape == Shape::Threshold) {
        if (r.aggs.empty()) fail(fmt::format("{}: a threshold needs its aggregate", rname));
        for (const auto& a : r.aggs) {
          if ((a.kind == AggKind::Count) != (a.arg == kNone)) fail(fmt::format("{}: aggregate argument mismatch", rname));
          if (a.arg != kNone) chunk(a.arg, ri, ChunkRole::AggArg, 1u << r.order[0], "aggregate argument");
        }
      } else if (!r.aggs.empty()) {
        fail(fmt::format("{}: only thresholds have aggregates", rname));
      }
      std::uint32_t outcome_vars = 0;
      switch (r.shape) {
        case Shape::Single: case Shape::Threshold: outcome_vars = 1u << r.order[0]; break;
        case Shape::Absence: outcome_vars = 1u << r.order[0]; break;
        default: outcome_vars = seen; break;
      }
      for (const auto& o : r.outcome) {
        str(o.name, "outcome name");
        chunk(o.chunk, ri, ChunkRole::Outcome, outcome_vars, "outcome");
      }
      for (const auto& e : r.entities) {
        str(e.type, "entity type");
        for (auto [id, f] : e.identifiers) str(id, "entity identifier"), str(f, "entity field");
      }
    }
    for (std::uint32_t ci = 0; ci < p.chunks.size(); ++ci) code(ci);
  }
};

}  // namespace

void verify(Program& p) { V{p}.run(); }

// ---------------------------------------------------------------------------

namespace {

std::string const_text(const Program& p, std::uint32_t k) {
  const auto& c = p.consts[k];
  switch (c.type) {
    case Type::Bool: return c.i ? "true" : "false";
    case Type::Int: case Type::Long: return fmt::format("{}", c.i);
    case Type::Real: return fmt::format("{}", c.r);
    case Type::String: return literals::quote(p.strings[c.i]);
    case Type::Guid: return "guid " + literals::quote(p.strings[c.i]);
    case Type::Datetime: return format_datetime(c.i);
    case Type::Timespan: return format_duration(c.i);
    default: return "null";
  }
}

std::string cidr_text(const CidrRange& r) {
  if (!r.v6) return fmt::format("{}.{}.{}.{}/{}", r.addr[0], r.addr[1], r.addr[2], r.addr[3], r.prefix);
  std::string s;
  for (int i = 0; i < 16; i += 2) s += fmt::format("{}{:x}", i ? ":" : "", r.addr[i] << 8 | r.addr[i + 1]);
  return fmt::format("{}/{}", s, r.prefix);
}

}  // namespace

std::string disassemble(const Program& p) {
  std::string out = fmt::format("; Ward bytecode bundle, format version {}\n", kFormatVersion);
  out += fmt::format("; {} rule(s), {} chunk(s), {} instruction(s), {} string(s), {} field(s), {} constant(s)\n\n",
                     p.rules.size(), p.chunks.size(), p.code.size(), p.strings.size(), p.fields.size(), p.consts.size());
  auto S = [&](std::uint32_t i) -> const std::string& { return p.strings[i]; };
  out += "tables:";
  for (auto t : p.tables) out += " " + S(t);
  out += "\n";
  for (std::size_t i = 0; i < p.fields.size(); ++i)
    out += fmt::format("field {:<4} {}.{} : {}\n", i, S(p.tables[p.fields[i].table]), S(p.fields[i].name), type_name(p.fields[i].type));
  for (std::size_t i = 0; i < p.sets.size(); ++i) {
    out += fmt::format("set {:<4} [", i);
    for (std::size_t j = 0; j < p.sets[i].elems.size(); ++j) {
      if (j == 8) { out += fmt::format(", ... {} more", p.sets[i].elems.size() - 8); break; }
      out += (j ? ", " : "") + const_text(p, p.sets[i].elems[j]);
    }
    out += "]\n";
  }
  for (std::size_t i = 0; i < p.cidrs.size(); ++i) {
    out += fmt::format("cidr {:<3} [", i);
    for (std::size_t j = 0; j < p.cidrs[i].ranges.size(); ++j) {
      if (j == 8) { out += fmt::format(", ... {} more", p.cidrs[i].ranges.size() - 8); break; }
      out += (j ? ", " : "") + cidr_text(p.cidrs[i].ranges[j]);
    }
    out += "]\n";
  }
  for (std::size_t i = 0; i < p.regexes.size(); ++i) out += fmt::format("regex {:<2} {}\n", i, literals::quote(S(p.regexes[i])));

  auto chunk_text = [&](std::uint32_t ci, const std::string& label) {
    const auto& c = p.chunks[ci];
    const auto& sp = p.spans[c.span];
    std::string s = fmt::format("  {}  ; chunk {}, {}:{}:{}\n", label, ci, S(sp.file), sp.line, sp.col);
    const auto& rule = p.rules[c.rule];
    for (std::uint32_t i = 0; i < c.len; ++i) {
      const auto& in = p.code[c.start + i];
      std::string ops;
      switch (in.op) {
        case Opcode::Col: {
          const auto& f = p.fields[in.c];
          ops = fmt::format("${}.{}", S(rule.events[in.a].var), S(f.name));
          break;
        }
        case Opcode::Const: ops = const_text(p, in.c); break;
        case Opcode::Cmp: ops = kCmpNames[in.a]; break;
        case Opcode::StrOp: ops = kStrNames[in.a]; break;
        case Opcode::Regex: ops = fmt::format("regex {}", in.c); break;
        case Opcode::InSet: ops = fmt::format("{} set {}", kSetNames[in.a], in.c); break;
        case Opcode::InCidr: ops = fmt::format("{} cidr {}", in.a ? "!in" : "in", in.c); break;
        case Opcode::AndJmp: case Opcode::OrJmp: ops = fmt::format("-> {:04}", in.c); break;
        case Opcode::Arith: ops = kArithNames[in.a]; break;
        case Opcode::Member: ops = literals::quote(S(in.c)); break;
        case Opcode::Call: ops = fmt::format("{}/{}", fn_name(static_cast<Fn>(in.a)), in.b); break;
        case Opcode::Agg: {
          const auto& a = rule.aggs[in.a];
          ops = fmt::format("{} {}", kAggNames[static_cast<int>(a.kind)], in.a);
          break;
        }
        default: break;
      }
      s += fmt::format("    {:04}  {:<7}{}\n", i, mnemonic(in.op), ops);
    }
    return s;
  };

  for (std::uint32_t ri = 0; ri < p.rules.size(); ++ri) {
    const auto& r = p.rules[ri];
    const auto& sp = p.spans[r.span];
    out += fmt::format("\nrule {} ({}) {} {}  ; {}:{}:{}\n", S(r.name), S(r.id), kSevNames[static_cast<int>(r.severity)],
                       kShapeNames[static_cast<int>(r.shape)], S(sp.file), sp.line, sp.col);
    out += fmt::format("  title {}\n", literals::quote(S(r.title)));
    for (std::size_t e = 0; e < r.events.size(); ++e) {
      out += fmt::format("  event ${} = {}\n", S(r.events[e].var), S(p.tables[r.events[e].table]));
      if (r.events[e].where != kNone) out += chunk_text(r.events[e].where, "where");
    }
    if (r.shape != Shape::Single) {
      std::string order;
      for (auto e : r.order) order += (order.empty() ? "$" : ", $") + S(r.events[e].var);
      out += fmt::format("  condition {} [{}] within {}{}\n", kShapeNames[static_cast<int>(r.shape)], order,
                         format_duration(r.window), r.shape == Shape::Absence ? (r.after ? " after" : " before") : "");
    }
    if (r.shape == Shape::Threshold)
      out += fmt::format("  threshold aggregate 0 {} {}\n", kCmpNames[static_cast<int>(r.cmp)], r.threshold);
    for (std::size_t a = 0; a < r.aggs.size(); ++a) {
      out += fmt::format("  aggregate {} = {}{}\n", a, kAggNames[static_cast<int>(r.aggs[a].kind)], r.aggs[a].real ? " (real)" : r.aggs[a].fold ? " (guid, ignoring case)" : "");
      if (r.aggs[a].arg != kNone) out += chunk_text(r.aggs[a].arg, "of");
    }
    for (std::size_t k = 0; k < r.keys.size(); ++k)
      for (std::size_t i = 0; i < r.keys[k].size(); ++i)
        out += chunk_text(r.keys[k][i], fmt::format("key {} of ${}", k, S(r.events[r.order[i]].var)));
    for (const auto& o : r.outcome) out += chunk_text(o.chunk, "outcome " + S(o.name));
    for (const auto& e : r.entities) {
      out += "  entity " + S(e.type);
      for (auto [id, f] : e.identifiers) out += fmt::format(" {}={}", S(id), S(f));
      out += "\n";
    }
  }
  return out;
}

std::string opcodes_markdown() {
  std::string s =
      "# Ward bytecode\n\n"
      "Generated by `ward disasm --opcodes-markdown` from `runtime/opcodes.def`, the one list of\n"
      "instructions that also generates the opcode enum, the disassembler and the verifier's tables. A test\n"
      "keeps this file in step with it. `ward compile --target bytecode -o rules.wardc` writes a bundle;\n"
      "`ward disasm rules.wardc` prints one; `ward run --rules rules.wardc` runs one.\n\n"
      "## Bundle layout\n\n"
      "All integers are little-endian. A bundle is a header, a section table and the sections, in this order:\n\n"
      "| Bytes | Field |\n|---|---|\n"
      "| 8 | magic `WARDBC\\r\\n` |\n"
      "| 4 | format version (u32); a loader refuses any version but its own |\n"
      "| 4 | section count (u32) |\n"
      "| 8 | checksum: 64-bit FNV-1a over bytes 0–15 and everything after the header |\n"
      "| 12 × count | section table: tag (4 ASCII bytes), offset (u32), size (u32); sections are contiguous, in the order below |\n\n"
      "| Section | Contents |\n|---|---|\n"
      "| `STRS` | count, then each string as length (u32) and UTF-8 bytes: names, ids, titles, literals, patterns, file paths |\n"
      "| `TABL` | table names (string indices) |\n"
      "| `FLDS` | the columns the rules read: table index (u32), name (string index), type (u8); an event's columns are decoded only if a field names them |\n"
      "| `CNST` | constants: type (u8) and an 8-byte payload (integer, ticks, string index, or IEEE-754 double) |\n"
      "| `SETS` | `in` lists: element constant indices |\n"
      "| `CIDR` | `in cidr` range sets: family (u8, 1 = IPv6), prefix (u8), 16 address bytes |\n"
      "| `REGX` | RE2 patterns (string indices), compiled once at load |\n"
      "| `CODE` | instructions, 8 bytes each: opcode (u8), A (u8), B (u16), C (u32) |\n"
      "| `CHNK` | chunks: code start and length, role (where, key, aggregate argument, outcome), rule, the rule's events it may read (bit set), debug span |\n"
      "| `SPAN` | debug spans: file (string index), line, column — each chunk's and rule's place in its source |\n"
      "| `RULE` | rules: name, id, title, severity, shape, window (ticks), absence direction, threshold operator and value, events (name, table, filter chunk), condition order, key chunks, aggregates, outcome fields, entity mappings |\n\n"
      "## Verification\n\n"
      "Before a bundle runs, the loader checks: the magic, version and checksum; that each section is where the\n"
      "table says and is read to its last byte; every count against the bytes that could hold it (so a hostile\n"
      "count cannot make it allocate); every string, table, field, constant, set, range, pattern, chunk and span\n"
      "index; every enum value; each rule's shape against its events, keys, aggregates and window (0 < W ≤ 14d);\n"
      "that each chunk belongs to its rule and role and reads only the events that role allows (a filter its own\n"
      "event, an absence outcome only the anchor); and, by abstract interpretation of every chunk, that jumps go\n"
      "forward inside the chunk, every path reaches a `ret` with exactly one value, stack depths agree where paths\n"
      "meet, and the stack never exceeds 256 values. The VM then runs with no bounds checks of its own. A failure\n"
      "is a `BundleError` naming the section, rule, chunk or pc.\n\n"
      "## Values\n\n"
      "The stack holds null, bool, long, real, datetime, timespan (100-ns ticks), string and dynamic values.\n"
      "Predicates always produce a bool (`docs/semantics.md` §3: a comparison with a null operand is false).\n\n"
      "## Instructions\n\n| Opcode | Mnemonic | A | B | C | Pops | Pushes | Meaning |\n|---|---|---|---|---|---|---|---|\n";
  const char* kinds[] = {"", "event", "field", "constant", "string", "set", "cidr set", "regex", "jump target",
                         "comparison", "string op", "set op", "arith op", "function", "argc", "aggregate", "negated"};
  for (std::size_t i = 0; i < static_cast<std::size_t>(Opcode::Count_); ++i) {
    const auto& o = kOps[i];
    s += fmt::format("| {} | `{}` | {} | {} | {} | {} | {} | {} |\n", i, o.mnemonic, kinds[static_cast<int>(o.a)],
                     kinds[static_cast<int>(o.b)], kinds[static_cast<int>(o.c)], o.pops < 0 ? std::string("B") : std::to_string(o.pops),
                     o.pushes, o.doc);
  }
  s += "\nOperator codes: comparison ";
  for (int i = 0; i < 8; ++i) s += fmt::format("{}{} `{}`", i ? ", " : "", i, kCmpNames[i]);
  s += "; string op ";
  for (int i = 0; i < 8; ++i) s += fmt::format("{}{} `{}`", i ? ", " : "", i, kStrNames[i]);
  s += "; set op ";
  for (int i = 0; i < 4; ++i) s += fmt::format("{}{} `{}`", i ? ", " : "", i, kSetNames[i]);
  s += "; arith op ";
  for (int i = 0; i < 5; ++i) s += fmt::format("{}{} `{}`", i ? ", " : "", i, kArithNames[i]);
  s += ".\n\nFunctions (operand A of `call`), in the order of `compiler/sema/functions.def`: ";
  for (std::size_t i = 0; i < static_cast<std::size_t>(Fn::Count_); ++i)
    s += fmt::format("{}{} `{}`/{}", i ? ", " : "", i, kFnNames[i], kFnArity[i]);
  s += ".\n";
  return s;
}

}  // namespace ward::bc
