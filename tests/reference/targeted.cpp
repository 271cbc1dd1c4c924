// Events aimed at the rules of a module (see targeted.h). Independent of runtime/: it reads
// only the IR, and what it writes is judged by the reference evaluator and the VM alike.
#include "targeted.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "reference.h"
#include "rng.h"

namespace ward::ref {
namespace {

using ir::Expr;

// A place in a row a rule reads: a column, or a member path inside a dynamic column.
struct Slot {
  std::uint32_t table = 0, column = 0;
  std::vector<std::string> path;
  auto operator<=>(const Slot&) const = default;
};

struct SlotInfo {
  std::vector<std::string> candidates;  // JSON texts from the rules' constants
  int group = -1;                       // key pool shared with the columns it is joined on
  int distinct = 3;                     // size of its own generic pool
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string num(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) return fmt::format("{}", static_cast<std::int64_t>(v));
  return fmt::format("{}", v);
}

// An IPv4 address inside `cidr` (a.b.c.d/p) with random host bits, and one just outside it.
std::vector<std::string> around_cidr(const std::string& cidr, Rng& r) {
  auto slash = cidr.find('/');
  std::string addr = cidr.substr(0, slash);
  int prefix = slash == std::string::npos ? 32 : std::atoi(cidr.c_str() + slash + 1);
  unsigned a, b, c, d;
  if (std::sscanf(addr.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || addr.find(':') != std::string::npos) {
    // IPv6: the written address is inside (host bits are kept as written).
    return {addr};
  }
  std::uint32_t ip = (a << 24) | (b << 16) | (c << 8) | d;
  std::uint32_t mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
  auto text = [](std::uint32_t x) { return fmt::format("{}.{}.{}.{}", x >> 24, (x >> 16) & 255, (x >> 8) & 255, x & 255); };
  std::vector<std::string> out;
  std::uint32_t host = prefix >= 32 ? 0 : static_cast<std::uint32_t>(r.next()) & ~mask;
  out.push_back(text((ip & mask) | host));
  if (prefix > 0) out.push_back(text((ip & mask) ^ (1u << (32 - prefix))));  // the neighbouring range
  return out;
}

class Targeter {
 public:
  Targeter(const ir::Module& m, Rng& r) : m_(m), r_(r) {}

  void read_rules() {
    for (const auto& rule : m_.rules) {
      rule_ = &rule;
      for (const auto& e : rule.events) {
        tables_[e.table];  // every table a rule reads gets rows, even with no column read
        if (e.where) walk(*e.where);
      }
      const auto& c = rule.corr;
      if (c.window > window_) window_ = c.window;
      for (const auto& key : c.keys) {
        int g = groups_++;
        for (const auto& k : key)
          if (k) {
            walk(*k);
            if (auto s = resolve(*k)) info_[*s].group = g;
          }
      }
      if (c.agg_arg) {
        walk(*c.agg_arg);
        auto s = resolve(*c.agg_arg);
        // dcount: enough distinct values to pass; sum: addends that reach the threshold in a few rows
        if (s && c.agg == ir::Agg::DCount) info_[*s].distinct = std::max(3, static_cast<int>(c.threshold) + 3);
        if (s && c.agg == ir::Agg::Sum)
          for (double part : {c.threshold, c.threshold / 2, c.threshold / 4}) info_[*s].candidates.push_back(num(part));
      }
      // count: enough rows that one key can pass within one window
      if (c.kind == ir::CorrKind::Threshold && c.agg == ir::Agg::Count) count_rows_ = std::max(count_rows_, c.threshold * 25);
      for (const auto& o : rule.outcome)
        if (o.value) walk(*o.value);
    }
    if (window_ <= 0) window_ = kTicksPerHour;
  }

  int rows_wanted(int count) const {
    return std::max(count, std::min(1500, static_cast<int>(count_rows_)));
  }

  std::vector<std::string> rows(int n) {
    // Times on sixths of the longest window over three windows: many rows share an instant
    // and windows end exactly on rows. Near the rules' own datetime constants if they have any.
    std::int64_t base = kTicksPerDay * 19524 + r_.below(24) * kTicksPerHour;  // 2023-06-16, any hour
    if (!time_constants_.empty()) base = *time_constants_.begin() - window_;
    std::int64_t step = std::max<std::int64_t>(window_ / 6, kTicksPerSecond);
    std::vector<std::int64_t> times;
    for (int k = 0; k < n; ++k) {
      std::int64_t t = base + r_.range(0, 18) * step;
      if (r_.chance(10)) t += kTicksPerSecond;
      times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    std::vector<std::string> out;
    for (auto t : times) {
      const auto& rule = m_.rules[static_cast<std::size_t>(r_.below(static_cast<int>(m_.rules.size())))];
      if (rule.events.empty()) continue;
      const auto& ev = rule.events[static_cast<std::size_t>(r_.below(static_cast<int>(rule.events.size())))];
      out.push_back(row(ev.table, t));
    }
    return out;
  }

 private:
  static constexpr std::int64_t kTicksPerDay = 24ll * 3600 * 10'000'000;
  static constexpr std::int64_t kTicksPerHour = 3600ll * 10'000'000;
  static constexpr std::int64_t kTicksPerSecond = 10'000'000;

  SlotInfo& touch(const Slot& s, bool column) {
    if (column) tables_[s.table].insert(s.column);
    return info_[s];
  }

  // The slot an expression reads, looking through conversions: tostring($e.D.x) reads D.x.
  std::optional<Slot> resolve(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Column: {
        Slot s{rule_->events[e.var].table, e.column, {}};
        touch(s, true);
        return s;
      }
      case Expr::Kind::Member: {
        auto s = resolve(*e.args[0]);
        if (!s) return std::nullopt;
        s->path.push_back(e.member);
        touch(*s, false);
        return s;
      }
      case Expr::Kind::Index: {
        auto s = resolve(*e.args[0]);
        if (!s || e.args[1]->kind != Expr::Kind::Literal) return std::nullopt;
        const Value& k = e.args[1]->value;
        if (k.kind == LitKind::String) s->path.push_back(k.s);
        else if (k.kind == LitKind::Int && k.i >= 0 && k.i < 8) s->path.push_back(fmt::format("#{}", k.i));  // array element
        else return std::nullopt;
        touch(*s, false);
        return s;
      }
      case Expr::Kind::Call:
        // Conversions keep the value: tostring(x) == "a" asks for x = "a". strlen(x) > 0 does not.
        switch (e.fn) {
          case ir::Fn::ToLower: case ir::Fn::ToUpper: case ir::Fn::Trim: case ir::Fn::ToString:
          case ir::Fn::ToLong: case ir::Fn::ToReal: case ir::Fn::ToDatetime: case ir::Fn::ToTimespan:
          case ir::Fn::ParseJson:
            return e.args.empty() ? std::nullopt : resolve(*e.args[0]);
          default: return std::nullopt;
        }
      default: return std::nullopt;
    }
  }

  void walk(const Expr& e) {
    for (const auto& a : e.args)
      if (a) walk(*a);
    if (e.kind != Expr::Kind::Binary || e.args.size() != 2) {
      resolve(e);
      return;
    }
    const Expr* col = e.args[0].get();
    const Expr* rhs = e.args[1].get();
    auto s = resolve(*col);
    if (!s) {
      std::swap(col, rhs);
      s = resolve(*col);
    }
    if (!s) return;
    std::vector<const Value*> values;
    if (rhs->kind == Expr::Kind::Literal) values.push_back(&rhs->value);
    if (rhs->kind == Expr::Kind::ListLit)
      for (const auto& a : rhs->args)
        if (a->kind == Expr::Kind::Literal) values.push_back(&a->value);
    if (rhs->kind == Expr::Kind::ListRef)
      for (const auto& v : m_.lists[rhs->list].values) values.push_back(&v);
    auto& c = info_[*s].candidates;
    for (const Value* v : values) add(c, e.op, *v, *s);
  }

  void add(std::vector<std::string>& c, ir::Op op, const Value& v, const Slot& s) {
    using ir::Op;
    auto str = [&](const std::string& x) { c.push_back(json_quote(x)); };
    switch (v.kind) {
      case LitKind::String:
        switch (op) {
          case Op::Contains: case Op::NotContains: case Op::Has: case Op::NotHas:
            str(v.s); str("x " + v.s + " y"); str("pre" + v.s); break;
          case Op::StartsWith: case Op::NotStartsWith: str(v.s + "-tail"); str(upper(v.s)); break;
          case Op::EndsWith: case Op::NotEndsWith: str("head-" + v.s); str(lower(v.s)); break;
          case Op::Regex: break;
          default: str(v.s); str(upper(v.s)); break;
        }
        break;
      case LitKind::Int: case LitKind::Real: {
        double x = v.kind == LitKind::Int ? static_cast<double>(v.i) : v.r;
        c.push_back(num(x));
        if (op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge) { c.push_back(num(x - 1)); c.push_back(num(x + 1)); }
        break;
      }
      case LitKind::Datetime:
        if (s.path.empty() && m_.catalog.tables[s.table].columns[s.column].name == "TimeGenerated") time_constants_.insert(v.i);
        str(format_datetime(v.i)); str(format_datetime(v.i - kTicksPerHour)); str(format_datetime(v.i + kTicksPerHour));
        break;
      case LitKind::Duration: str(format_timespan(v.i)); str(format_timespan(v.i + kTicksPerSecond)); break;
      case LitKind::Ip: str(v.s); break;
      case LitKind::Cidr: for (auto& a : around_cidr(v.s, r_)) str(a); break;
      case LitKind::Guid: str(v.s); str(upper(v.s)); break;
      case LitKind::Bool: c.push_back(v.b ? "true" : "false"); break;
      default: break;
    }
  }

  // A value for a slot: one of its candidates, of its key pool, or of its type.
  std::string value(const Slot& s, ir::Type type) {
    const auto& in = info_[s];
    std::vector<std::string> pool = in.candidates;
    if (in.group >= 0) {
      auto& g = group_pool_[in.group];
      if (g.empty()) {
        // A few of the joined columns' constants and one value of its own: keys must meet often.
        std::vector<std::string> all;
        for (const auto& [slot, other] : info_)
          if (other.group == in.group) all.insert(all.end(), other.candidates.begin(), other.candidates.end());
        for (int k = 0; k < 3 && !all.empty(); ++k) g.push_back(r_.pick(all));
        g.push_back(generic(type, 0, fmt::format("k{}", in.group)));
      }
      if (r_.chance(85)) return r_.pick(g);
    }
    if (!pool.empty() && r_.chance(70)) return r_.pick(pool);
    return generic(type, r_.below(in.distinct), m_.catalog.tables[s.table].columns[s.column].name);
  }

  std::string generic(ir::Type t, int k, const std::string& tag) {
    static const std::vector<std::string> guids = {"9188040d-6c67-4c5b-b112-36a304b66dad",
                                                   "00000002-0000-0ff1-ce00-000000000000",
                                                   "d3590ed6-52b3-4102-aeff-aad2292ab01c"};
    static const std::vector<std::string> ips = {"198.51.100.7", "10.1.2.3", "2001:db8::5", "203.0.113.40"};
    switch (t) {
      case ir::Type::Bool: return k % 2 ? "true" : "false";
      case ir::Type::Int: case ir::Type::Long: return fmt::format("{}", k);
      case ir::Type::Real: return fmt::format("{}.5", k);
      case ir::Type::Datetime: return json_quote(format_datetime(kTicksPerDay * 19524 + k * 13 * kTicksPerHour));
      case ir::Type::Timespan: return json_quote(format_timespan((k + 1) * 300 * kTicksPerSecond));
      case ir::Type::Guid: return json_quote(guids[static_cast<std::size_t>(k) % guids.size()]);
      default:
        if (tag.find("IP") != std::string::npos || tag.find("Ip") != std::string::npos)
          return json_quote(static_cast<std::size_t>(k) < ips.size() ? ips[static_cast<std::size_t>(k)] : fmt::format("192.0.2.{}", k));
        return json_quote(fmt::format("{}-{}", tag, k));
    }
  }

  // A dynamic column: an object holding every path the rules read (or one of its own values).
  bool has_paths(std::uint32_t table, std::uint32_t column) const {
    auto it = info_.lower_bound(Slot{table, column, {}});
    for (; it != info_.end() && it->first.table == table && it->first.column == column; ++it)
      if (!it->first.path.empty()) return true;
    return false;
  }

  // `as_text`: the column is a string holding JSON (read with parse_json).
  std::string dynamic(std::uint32_t table, std::uint32_t column, bool as_text) {
    std::map<std::vector<std::string>, std::string> leaves;
    for (const auto& [s, in] : info_)
      if (s.table == table && s.column == column && !s.path.empty()) {
        bool has_child = false;
        for (const auto& [t, _] : info_)
          if (t.table == table && t.column == column && t.path.size() > s.path.size() &&
              std::equal(s.path.begin(), s.path.end(), t.path.begin()))
            has_child = true;
        if (!has_child && !r_.chance(10)) leaves[s.path] = value(s, ir::Type::String);
      }
    Slot root{table, column, {}};
    if (leaves.empty()) return info_[root].candidates.empty() ? "{}" : r_.pick(info_[root].candidates);
    // Nested objects (and arrays, for `#n` elements) from the sorted paths.
    using Leaves = std::map<std::vector<std::string>, std::string>;
    std::function<std::string(std::size_t, Leaves&)> build = [&](std::size_t depth, Leaves& ls) {
      std::map<std::string, std::string> members;  // name -> JSON text
      std::map<std::string, Leaves> kids;
      for (auto& [p, v] : ls) {
        if (p.size() == depth + 1) members[p[depth]] = v;
        else kids[p[depth]][p] = v;
      }
      for (auto& [k, sub] : kids) members[k] = build(depth + 1, sub);
      bool array = !members.empty() && members.begin()->first[0] == '#';
      std::string out = array ? "[" : "{";
      std::size_t n = 0;
      for (auto& [k, v] : members) {
        if (array) {
          std::size_t at = static_cast<std::size_t>(std::atoi(k.c_str() + 1));
          for (; n < at; ++n) out += n ? ",{}" : "{}";  // filler elements before the one read
          out += fmt::format("{}{}", n ? "," : "", v);
        } else {
          out += fmt::format("{}{}:{}", n ? "," : "", json_quote(k), v);
        }
        ++n;
      }
      if (array)
        for (int extra = r_.below(3); extra > 0; --extra) out += ",{}";  // arrays longer than read
      return out + (array ? "]" : "}");
    };
    std::string obj = build(0, leaves);
    return as_text || r_.chance(30) ? json_quote(obj) : obj;  // JSON inside a string, as some exports have it
  }

  std::string row(std::uint32_t table, std::int64_t t) {
    const auto& tab = m_.catalog.tables[table];
    std::string out = fmt::format("{{\"Type\":{},\"TimeGenerated\":{}", json_quote(tab.name), json_quote(format_datetime(t)));
    for (std::uint32_t c : tables_[table]) {
      const auto& col = tab.columns[c];
      if (col.name == "TimeGenerated" || col.name == "Type") continue;
      int k = r_.below(100);
      if (k < 4) continue;  // absent
      bool nested = col.type == ir::Type::Dynamic || has_paths(table, c);
      std::string v = k < 7 ? "null" : nested ? dynamic(table, c, col.type != ir::Type::Dynamic) : value(Slot{table, c, {}}, col.type);
      out += fmt::format(",{}:{}", json_quote(col.name), v);
    }
    return out + "}";
  }

  const ir::Module& m_;
  Rng& r_;
  const ir::Rule* rule_ = nullptr;
  std::map<Slot, SlotInfo> info_;
  std::map<std::uint32_t, std::set<std::uint32_t>> tables_;  // columns read, per table
  std::map<int, std::vector<std::string>> group_pool_;
  std::set<std::int64_t> time_constants_;
  int groups_ = 0;
  std::int64_t window_ = 0;
  double count_rows_ = 0;
};

}  // namespace

std::vector<std::string> targeted_events(const ir::Module& m, std::uint64_t seed, int count) {
  Rng r(seed ^ 0x5441524745543031ull);  // "TARGET01"
  Targeter t(m, r);
  t.read_rules();
  if (m.rules.empty()) return {};
  return t.rows(t.rows_wanted(count));
}

}  // namespace ward::ref
