#include "backend/kql/kql.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <iterator>
#include <set>
#include <string_view>

namespace ward::backend::kql {

using ir::CorrKind;
using ir::Expr;
using ir::Type;

// Everything below appends to one output string: the query is built in place, without a
// temporary string per node (std::string-returning forms are kept for the callers outside).
namespace {

bool ascii_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool ascii_alnum(unsigned char c) { return ascii_alpha(c) || (c >= '0' && c <= '9'); }

// Names Kusto parses as keywords (checked against KustoFacts.CanBeIdentifier), sorted.
constexpr std::string_view kReserved[] = {
    "and", "as", "asc", "between", "bool", "by", "contains", "count", "datatable", "datetime", "decimal",
    "desc", "dynamic", "evaluate", "extend", "false", "find", "first", "from", "guid", "has", "in", "int",
    "invoke", "join", "kind", "last", "let", "limit", "long", "materialize", "not", "null", "of", "on",
    "or", "order", "print", "project", "range", "real", "sample", "search", "set", "sort", "step",
    "string", "summarize", "take", "timespan", "title", "to", "top", "toscalar", "true", "type", "union",
    "where", "with"};

// Whether a name is written as it is (a plain identifier that is no keyword), i.e. name(n) == n.
bool plain_name(std::string_view n) {
  if (n.empty()) return false;
  auto c0 = static_cast<unsigned char>(n[0]);
  if (!ascii_alpha(c0) && c0 != '_') return false;
  for (unsigned char c : n)
    if (!ascii_alnum(c) && c != '_') return false;
  // every reserved word is lower-case; most names are CamelCase columns
  return !(c0 >= 'a' && c0 <= 'z') || !std::binary_search(std::begin(kReserved), std::end(kReserved), n);
}

void append_name(std::string& out, std::string_view n) {
  if (plain_name(n)) {
    out += n;
    return;
  }
  out += "['";
  for (char c : n) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += "']";
}

void append_string_literal(std::string& out, std::string_view s) {
  // Double-quoted with backslash escapes. Every byte that could end the literal or
  // be misread (quote, backslash, control characters) is escaped; other UTF-8 is kept.
  out += '"';
  std::size_t run = 0;  // the first byte not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != 0x7f && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, res.ptr);
}

}  // namespace

std::string string_literal(const std::string& s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_string_literal(out, s);
  return out;
}

std::string name(const std::string& n) {
  if (plain_name(n)) return n;
  std::string out;
  append_name(out, n);
  return out;
}

const char* kusto_type(Type t) {
  switch (t) {
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Long: return "long";
    case Type::Real: return "real";
    case Type::String: return "string";
    case Type::Datetime: return "datetime";
    case Type::Timespan: return "timespan";
    case Type::Guid: return "guid";
    case Type::Dynamic: return "dynamic";
    case Type::Unknown: return "dynamic";
  }
  return "dynamic";
}

namespace {

void append_timespan(std::string& out, std::int64_t ticks) {
  // KQL timespan literals: 1d 1h 1m 1s 1ms; fall back to ticks for odd values.
  if (ticks % kTicksPerDay == 0) append_int(out, ticks / kTicksPerDay), out += 'd';
  else if (ticks % kTicksPerHour == 0) append_int(out, ticks / kTicksPerHour), out += 'h';
  else if (ticks % kTicksPerMinute == 0) append_int(out, ticks / kTicksPerMinute), out += 'm';
  else if (ticks % kTicksPerSecond == 0) append_int(out, ticks / kTicksPerSecond), out += 's';
  else if (ticks % 10'000 == 0) append_int(out, ticks / 10'000), out += "ms";
  else append_int(out, ticks), out += "tick";
}
std::string timespan(std::int64_t ticks) {
  std::string s;
  append_timespan(s, ticks);
  return s;
}

std::string real_text(double v) {
  auto s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return fmt::format("real({})", s);
}

void append_literal(std::string& out, const Value& v) {
  switch (v.kind) {
    case LitKind::None: out += "dynamic(null)"; return;
    case LitKind::Bool: out += v.b ? "true" : "false"; return;
    case LitKind::Int: append_int(out, v.i); return;
    case LitKind::Real: out += real_text(v.r); return;
    case LitKind::Duration: append_timespan(out, v.i); return;
    case LitKind::Datetime:
      out += "datetime(";
      out += format_datetime(v.i);
      out += ')';
      return;
    // Sentinel's ids, IPs and ranges are string columns: compare as strings.
    case LitKind::String:
    case LitKind::Ip:
    case LitKind::Cidr:
    case LitKind::Guid: append_string_literal(out, v.s); return;
  }
  out += "dynamic(null)";
}

// The Sentinel column types of a list's elements, for `dynamic([...])`.
template <class Values, class Each>
void append_list_literal(std::string& out, const Values& values, Each&& each) {
  out += "dynamic([";
  std::size_t i = 0;
  for (const auto& v : values) {
    if (i) out += i % 4 == 0 ? ",\n    " : ", ";
    each(out, v);
    ++i;
  }
  out += "])";
}

bool is_v6(const Value& v) { return v.s.find(':') != std::string::npos; }

bool is_comparison(ast::Op op) {
  switch (op) {
    case ast::Op::And:
    case ast::Op::Or:
    case ast::Op::Add:
    case ast::Op::Sub:
    case ast::Op::Mul:
    case ast::Op::Div:
    case ast::Op::Mod:
    case ast::Op::Not:
    case ast::Op::Neg: return false;
    default: return true;
  }
}

// Negated operators: Kusto makes `null != x` true; Ward makes every comparison with a
// null operand false, so these get an explicit isnotnull() guard on nullable operands.
bool is_negative(ast::Op op) {
  switch (op) {
    case ast::Op::Ne:
    case ast::Op::NeCi:
    case ast::Op::NotContains:
    case ast::Op::NotStartsWith:
    case ast::Op::NotEndsWith:
    case ast::Op::NotHas:
    case ast::Op::NotIn:
    case ast::Op::NotInCi: return true;
    default: return false;
  }
}

// Strings are never null in Kusto (absent reads as ""); literals and lists are not null.
bool nullable(const Expr& e) {
  if (e.kind == Expr::Kind::Literal || e.kind == Expr::Kind::ListRef || e.kind == Expr::Kind::ListLit) return false;
  return e.type != Type::String;
}

// Whether the KQL we emit for a boolean expression can evaluate to null.
bool maybe_null(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::Literal: return false;
    case Expr::Kind::Unary: return false;  // not(...) is emitted null-safe
    case Expr::Kind::Call: return !(e.fn == ir::Fn::Exists || e.fn == ir::Fn::Empty);
    case Expr::Kind::Binary:
      if (e.op == ast::Op::And || e.op == ast::Op::Or) return maybe_null(*e.args[0]) || maybe_null(*e.args[1]);
      if (e.op == ast::Op::InCidr || e.op == ast::Op::NotInCidr || is_negative(e.op)) return false;
      return nullable(*e.args[0]) || nullable(*e.args[1]);
    default: return nullable(e);
  }
}

class Emitter {
 public:
  Emitter(const ir::Module& m, const ir::Rule& r, const Options& o) : m_(m), r_(r), opt_(o) {
    collect_lists();
    choose_carried_names();
  }

  std::string run() {
    std::string out;  // (not reserved: the queries are kept, and a tight string is smaller)
    for (const auto& [li, use] : lists_) {
      const auto& l = m_.lists[li];
      if (use.plain) {
        out += "let ";
        out += list_name(li);
        out += " = ";
        append_list_literal(out, l.values, [](std::string& o, const Value& v) { append_literal(o, v); });
        out += ";\n";
      }
      if (use.cidr) {
        // KQL's range functions are per address family: split the list once.
        std::vector<const Value*> v4, v6;
        for (const auto& v : l.values) (is_v6(v) ? v6 : v4).push_back(&v);
        auto each = [](std::string& o, const Value* v) { append_cidr_value(o, *v); };
        out += "let ";
        out += cidr_list_name(li, false);
        out += " = ";
        append_list_literal(out, v4, each);
        out += ";\nlet ";
        out += cidr_list_name(li, true);
        out += " = ";
        append_list_literal(out, v6, each);
        out += ";\n";
      }
    }
    switch (r_.corr.kind) {
      case CorrKind::Single: out += single(); break;
      case CorrKind::Threshold: out += threshold(); break;
      case CorrKind::Sequence: out += sequence(); break;
      case CorrKind::Join: out += join(); break;
      case CorrKind::Absence: out += absence(); break;
    }
    return out;
  }

 private:
  // ---- lists: which are used, and how ----
  struct ListUse {
    bool plain = false, cidr = false;
  };
  std::map<std::uint32_t, ListUse> lists_;
  // A column of one of the rule's tables (a `let` must not shadow one). Looked up in the
  // tables' indexes: copying every column name into a set was a third of emission's time.
  bool is_column(const std::string& n) const {
    for (const auto& e : r_.events)
      if (m_.catalog.tables[e.table].find(n)) return true;
    return false;
  }

  void collect_lists() {
    std::function<void(const Expr&)> walk = [&](const Expr& x) {
      if (x.kind == Expr::Kind::Binary && (x.op == ast::Op::InCidr || x.op == ast::Op::NotInCidr) &&
          x.args[1]->kind == Expr::Kind::ListRef) {
        walk(*x.args[0]);
        lists_[x.args[1]->list].cidr = true;
        return;
      }
      if (x.kind == Expr::Kind::ListRef) lists_[x.list].plain = true;
      for (const auto& a : x.args) walk(*a);
    };
    for (const auto& e : r_.events)
      if (e.where) walk(*e.where);
    for (const auto& o : r_.outcome) walk(*o.value);
  }

  std::string list_name(std::uint32_t i) const {
    const auto& n = m_.lists[i].name;
    return is_column(n) ? name("_list_" + n) : name(n);
  }
  std::string cidr_list_name(std::uint32_t i, bool v6) const {
    return name(fmt::format("_cidr{}_{}", v6 ? 6 : 4, m_.lists[i].name));
  }
  // An address in a list of ranges is the range of that one address.
  static void append_cidr_value(std::string& out, const Value& v) {
    if (v.kind != LitKind::Ip) return append_literal(out, v);
    append_string_literal(out, v.s + (is_v6(v) ? "/128" : "/32"));
  }

  // ---- naming ----
  const std::string& var(std::uint32_t ev) const { return r_.events[ev].var; }
  std::string tcol(std::uint32_t ev) const { return "_t_" + var(ev); }
  std::string kcol(std::size_t k, std::uint32_t ev) const { return fmt::format("_k{}_{}", k, var(ev)); }
  std::string rid(std::uint32_t ev) const { return "_rid_" + var(ev); }
  std::string step(std::uint32_t ev) const { return "_ev_" + var(ev); }
  const ir::Table& table(std::uint32_t ev) const { return m_.catalog.tables[r_.events[ev].table]; }
  const std::string& column_name(std::uint32_t ev, std::uint32_t col) const { return table(ev).columns[col].name; }

  // In a correlation each event's columns are carried as `<var>_<Column>`; if two such
  // names would coincide (`$a.B_C` and `$a_B.C`), every carried name uses the event's
  // index instead: `_c0_<Column>`.
  bool indexed_carry_ = false;
  void choose_carried_names() {
    // only sequences, joins and absences carry columns (single events and thresholds do not)
    if (r_.corr.kind == CorrKind::Single || r_.corr.kind == CorrKind::Threshold) return;
    std::set<std::pair<std::uint32_t, std::uint32_t>> used;
    std::function<void(const Expr&)> walk = [&](const Expr& x) {
      if (x.kind == Expr::Kind::Column) used.insert({x.var, x.column});
      for (const auto& a : x.args) walk(*a);
    };
    for (const auto& o : r_.outcome) walk(*o.value);
    std::set<std::string> names;
    for (auto [ev, col] : used)
      if (!names.insert(var(ev) + "_" + column_name(ev, col)).second) indexed_carry_ = true;
  }
  void append_carried(std::string& out, std::uint32_t ev, std::uint32_t col) const {
    std::string n;
    if (indexed_carry_) {
      n = "_c";
      append_int(n, ev);
      n += '_';
    } else {
      n = var(ev);
      n += '_';
    }
    n += column_name(ev, col);
    append_name(out, n);
  }
  std::string carried(std::uint32_t ev, std::uint32_t col) const {
    std::string s;
    append_carried(s, ev, col);
    return s;
  }

  // ---- expressions ----
  // How a column (or any node the context wants to name itself) reads in the current
  // query: appends the text and returns true, or returns false to let the node print normally.
  using ColumnFn = std::function<bool(const Expr&, std::string&)>;

  bool append_bare_column(const Expr& e, std::string& out) const {
    if (e.kind != Expr::Kind::Column) return false;
    append_name(out, column_name(e.var, e.column));
    return true;
  }
  ColumnFn bare_fn() const {
    return [this](const Expr& x, std::string& out) { return append_bare_column(x, out); };
  }
  ColumnFn carried_fn() const {
    return [this](const Expr& x, std::string& out) {
      if (x.kind != Expr::Kind::Column) return false;
      append_carried(out, x.var, x.column);
      return true;
    };
  }

  static int prec(ast::Op op) {
    switch (op) {
      case ast::Op::Or: return 10;
      case ast::Op::And: return 20;
      case ast::Op::Add:
      case ast::Op::Sub: return 60;
      case ast::Op::Mul:
      case ast::Op::Div:
      case ast::Op::Mod: return 70;
      default: return 40;  // comparisons and string predicates
    }
  }

  std::string expr(const Expr& e, const ColumnFn& col, int parent_prec = 0) const {
    std::string s;
    expr_to(s, e, col, parent_prec);
    return s;
  }

  void expr_to(std::string& out, const Expr& e, const ColumnFn& col, int parent_prec = 0) const {
    if (col(e, out)) return;
    switch (e.kind) {
      case Expr::Kind::Literal: append_literal(out, e.value); return;
      case Expr::Kind::Column: out += "dynamic(null)"; return;
      case Expr::Kind::Member:
        expr_to(out, *e.args[0], col, 100);
        if (plain_name(e.member)) {
          out += '.';
          out += e.member;
        } else {
          out += '[';
          append_string_literal(out, e.member);
          out += ']';
        }
        return;
      case Expr::Kind::Index:
        expr_to(out, *e.args[0], col, 100);
        out += '[';
        expr_to(out, *e.args[1], col, 0);
        out += ']';
        return;
      case Expr::Kind::Call: call_to(out, e, col); return;
      case Expr::Kind::Unary:
        if (e.op == ast::Op::Not) {
          // two-valued `not`: a null operand (false in Ward) must negate to true
          bool guard = maybe_null(*e.args[0]);
          out += guard ? "not(coalesce(" : "not(";
          expr_to(out, *e.args[0], col, 0);
          out += guard ? ", false))" : ")";
          return;
        }
        out += '-';
        expr_to(out, *e.args[0], col, 90);
        return;
      case Expr::Kind::Binary: binary_to(out, e, col, parent_prec); return;
      case Expr::Kind::ListRef: out += list_name(e.list); return;
      case Expr::Kind::ListLit:
        out += "dynamic([";
        for (std::size_t i = 0; i < e.args.size(); ++i) {
          if (i) out += ", ";
          expr_to(out, *e.args[i], col, 0);
        }
        out += "])";
        return;
      case Expr::Kind::Aggregate: out += "dynamic(null)"; return;
    }
    out += "dynamic(null)";
  }

  void call_to(std::string& out, const Expr& e, const ColumnFn& col) const {
    switch (e.fn) {
      case ir::Fn::DayOfWeek:
        out += "tolong(dayofweek(";
        expr_to(out, *e.args[0], col, 0);
        out += ") / 1d)";
        return;
      case ir::Fn::Trim:
        out += "trim(@\"\\s+\", ";
        expr_to(out, *e.args[0], col, 0);
        out += ')';
        return;
      case ir::Fn::HourOfDay:
        out += "tolong(hourofday(";
        expr_to(out, *e.args[0], col, 0);
        out += "))";
        return;
      case ir::Fn::Now: out += "now()"; return;
      default: break;
    }
    out += ir::fn_name(e.fn);
    out += '(';
    for (std::size_t i = 0; i < e.args.size(); ++i) {
      if (i) out += ", ";
      expr_to(out, *e.args[i], col, 0);
    }
    out += ')';
  }

  void binary_to(std::string& out, const Expr& e, const ColumnFn& col, int parent_prec) const {
    const int p0 = prec(e.op);
    // comparisons do not chain in KQL: a comparison operand of a comparison is parenthesised
    const int lp = is_comparison(e.op) ? p0 + 1 : p0;
    const Expr& L = *e.args[0];
    const Expr& R = *e.args[1];
    if (e.op == ast::Op::InCidr || e.op == ast::Op::NotInCidr) {
      std::string l;
      expr_to(l, L, col, lp);
      bool in = e.op == ast::Op::InCidr;
      out += in ? "coalesce(" : "not(coalesce(";
      cidr_test_to(out, l, R);
      out += in ? ", false)" : ", true))";
      return;
    }
    // Kusto defines `=~` and `in~` on strings only: a guid-typed column is compared as
    // its text (tostring() of a guid is lower case, so the test stays case-insensitive).
    const bool ci = e.op == ast::Op::EqCi || e.op == ast::Op::NeCi || e.op == ast::Op::InCi || e.op == ast::Op::NotInCi;
    auto operand_to = [&](std::string& o, const Expr& x, int xp) {
      bool text = ci && x.type == Type::Guid && x.kind != Expr::Kind::Literal;
      if (text) o += "tostring(";
      expr_to(o, x, col, xp);
      if (text) o += ')';
    };
    // Negated operators on nullable operands get isnotnull() guards (and bind as `and`).
    const bool guard_l = is_negative(e.op) && nullable(L), guard_r = is_negative(e.op) && nullable(R);
    const bool guarded = guard_l || guard_r;
    const int p = guarded ? prec(ast::Op::And) : p0;
    std::string l, r;  // only when an operand is written twice
    if (guarded) {
      operand_to(l, L, lp);
      operand_to(r, R, p0 + 1);
    }
    auto left = [&](std::string& o) { guarded ? void(o += l) : operand_to(o, L, lp); };
    auto right = [&](std::string& o) { guarded ? void(o += r) : operand_to(o, R, p0 + 1); };
    const bool paren = p < parent_prec;
    if (paren) out += '(';
    if (guard_l) out += "isnotnull(", out += l, out += ") and ";
    if (guard_r) out += "isnotnull(", out += r, out += ") and ";
    left(out);
    out += ' ';
    out += ast::op_spelling(e.op);
    out += ' ';
    switch (e.op) {
      case ast::Op::In:
      case ast::Op::NotIn:
      case ast::Op::InCi:
      case ast::Op::NotInCi:
        out += '(';
        in_list_to(out, R, col);
        out += ')';
        break;
      case ast::Op::Div:
      case ast::Op::Mod: nonzero_divisor_to(out, R, right); break;
      default: right(out);
    }
    if (paren) out += ')';
  }

  // Ward defines x / 0 and x % 0 as null (semantics §4.8); Kusto leaves them undocumented,
  // so a divisor that may be zero becomes null when it is.
  template <class Text>
  static void nonzero_divisor_to(std::string& out, const Expr& d, const Text& text) {
    if (d.kind == Expr::Kind::Literal) {
      if (d.value.kind == LitKind::Real ? d.value.r != 0 : d.value.i != 0) {
        text(out);
      } else {
        out += kusto_type(d.type);
        out += "(null)";
      }
      return;
    }
    const char* zero = d.type == Type::Timespan ? "0s" : d.type == Type::Real ? "real(0)" : "0";
    out += "iff(";
    text(out);
    out += " == ";
    out += zero;
    out += ", ";
    out += kusto_type(d.type);
    out += "(null), ";
    text(out);
    out += ')';
  }

  void in_list_to(std::string& out, const Expr& list, const ColumnFn& col) const {
    if (list.kind == Expr::Kind::ListRef) {
      out += list_name(list.list);
      return;
    }
    if (list.args.empty()) {
      out += "dynamic([])";
      return;
    }
    for (std::size_t i = 0; i < list.args.size(); ++i) {
      if (i) out += ", ";
      expr_to(out, *list.args[i], col, 0);
    }
  }

  // true/false for an address of either family, null for a string that is no address.
  void cidr_test_to(std::string& out, const std::string& ip, const Expr& list) const {
    std::string v4, v6;
    if (list.kind == Expr::Kind::ListRef) {
      v4 = cidr_list_name(list.list, false);
      v6 = cidr_list_name(list.list, true);
    } else {
      v4 = v6 = "dynamic([";
      bool any4 = false, any6 = false;
      for (const auto& x : list.args) {
        bool six = is_v6(x->value);
        auto& v = six ? v6 : v4;
        auto& any = six ? any6 : any4;
        if (any) v += ", ";
        any = true;
        append_literal(v, x->value);
      }
      v4 += "])";
      v6 += "])";
    }
    fmt::format_to(std::back_inserter(out),
                   "iff(indexof({0}, \":\") >= 0, ipv6_is_in_any_range({0}, {1}), ipv4_is_in_any_range({0}, {2}))", ip,
                   v6, v4);
  }

  // ---- query pieces ----
  std::string time_filter(const char* indent = "") const {
    if (!opt_.time_filter || r_.schedule.nrt) return "";
    std::string s = indent;
    s += "| where TimeGenerated >= ago(";
    append_timespan(s, r_.schedule.period);
    s += ")\n";
    return s;
  }
  // Completing events must have their whole window inside the query period.
  std::string anchor_filter(const std::string& tcolumn) const {
    if (!opt_.time_filter || r_.schedule.nrt) return "";
    if (r_.corr.kind == CorrKind::Absence && r_.corr.direction == ir::Direction::After)
      return fmt::format("| where {} <= now() - {}\n", tcolumn, timespan(r_.corr.window));
    return fmt::format("| where {} >= ago({}) + {}\n", tcolumn, timespan(r_.schedule.period),
                       timespan(r_.schedule.reach ? r_.schedule.reach : r_.corr.window));
  }

  static void flatten_and(const Expr& x, std::vector<const Expr*>& conj) {
    if (x.kind == Expr::Kind::Binary && x.op == ast::Op::And) {
      flatten_and(*x.args[0], conj);
      flatten_and(*x.args[1], conj);
    } else {
      conj.push_back(&x);
    }
  }

  // `| where a and b and c`: one conjunct per line when the whole would be long.
  std::string where(std::uint32_t ev, const char* indent = "") const {
    std::string s;
    where_to(s, ev, indent);
    return s;
  }
  void where_to(std::string& out, std::uint32_t ev, const char* indent = "") const {
    const auto& e = r_.events[ev];
    if (!e.where) return;
    std::vector<const Expr*> conj;
    flatten_and(*e.where, conj);
    // the conjuncts, written one after the other into `parts`; ends[i] is where the i-th ends
    std::string parts;
    std::vector<std::size_t> ends;
    ends.reserve(conj.size());
    const auto col = bare_fn();
    for (const auto* c : conj) {
      expr_to(parts, *c, col, prec(ast::Op::And) + 1);
      ends.push_back(parts.size());
    }
    std::size_t total = parts.size() + 5 * conj.size();
    out += indent;
    out += "| where ";
    // Items joined by ` and`; one per line (indented) when the whole would be long.
    bool wrap = total > 90 && conj.size() > 1;
    std::size_t begin = 0;
    for (std::size_t i = 0; i < ends.size(); ++i) {
      if (i) {
        if (wrap) {
          out += '\n';
          out += indent;
          out += "    and ";
        } else {
          out += " and ";
        }
      }
      out.append(parts, begin, ends[i] - begin);
      begin = ends[i];
    }
    out += '\n';
  }

  // Columns of event `ev` that the outcome reads.
  std::set<std::uint32_t> outcome_columns(std::uint32_t ev) const {
    std::set<std::uint32_t> out;
    std::function<void(const Expr&)> walk = [&](const Expr& x) {
      if (x.kind == Expr::Kind::Column && x.var == ev) out.insert(x.column);
      for (const auto& a : x.args) walk(*a);
    };
    for (const auto& o : r_.outcome) walk(*o.value);
    return out;
  }

  std::string project_outcome(const ColumnFn& col, const std::string& time) const {
    std::vector<std::string> items;
    items.reserve(r_.outcome.size() + 1);
    items.push_back(time.empty() ? "TimeGenerated" : "TimeGenerated = " + time);
    std::size_t total = 0;
    for (const auto& o : r_.outcome) {
      std::string item;
      append_name(item, o.name);
      item += " = ";
      // a predicate's null (Kusto) is false (Ward) in an alert's fields too
      bool coalesce = o.value->type == Type::Bool && o.value->kind != Expr::Kind::Column && maybe_null(*o.value);
      if (coalesce) item += "coalesce(";
      expr_to(item, *o.value, col);
      if (coalesce) item += ", false)";
      items.push_back(std::move(item));
    }
    for (const auto& i : items) total += i.size() + 2;
    std::string s;
    if (total <= 90) {
      s = "| project ";
      for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) s += ", ";
        s += items[i];
      }
      s += '\n';
      return s;
    }
    s = "| project";
    for (std::size_t i = 0; i < items.size(); ++i) {
      s += "\n    ";
      s += items[i];
      if (i + 1 < items.size()) s += ',';
    }
    s += '\n';
    return s;
  }

  // A key value as it is compared: GUIDs as text (Kusto will not join guid with string).
  std::string key_expr(const Expr& k) const {
    auto s = expr(k, bare_fn());
    return k.type == Type::Guid ? fmt::format("tostring({})", s) : s;
  }

  // One correlation step: the event's rows with its time, keys and carried columns.
  // `base` is a shared, numbered source (same-table joins), or "" to read the table.
  std::string step_let(std::uint32_t ev, std::size_t pos, bool with_rid, const std::string& base = "") const {
    bool own_rid = with_rid && base.empty();
    std::string s = fmt::format("let {} = {}{}\n", step(ev), own_rid ? "materialize(" : "",
                                base.empty() ? name(table(ev).name) : base);
    if (base.empty()) s += time_filter("    ");
    where_to(s, ev, "    ");
    const auto& keys = r_.corr.keys;
    if (!keys.empty()) {
      s += "    | extend ";
      for (std::size_t k = 0; k < keys.size(); ++k)
        fmt::format_to(std::back_inserter(s), "{}{} = {}", k ? ", " : "", kcol(k, ev), keys[k][pos] ? key_expr(*keys[k][pos]) : "\"\"");
      s += "\n    | where ";
      for (std::size_t k = 0; k < keys.size(); ++k) fmt::format_to(std::back_inserter(s), "{}isnotempty({})", k ? " and " : "", kcol(k, ev));
      s += "\n";
    }
    fmt::format_to(std::back_inserter(s), "    | project {} = TimeGenerated", tcol(ev));
    for (std::size_t k = 0; k < keys.size(); ++k) s += ", " + kcol(k, ev);
    for (auto c : outcome_columns(ev)) fmt::format_to(std::back_inserter(s), ", {} = {}", carried(ev, c), name(column_name(ev, c)));
    if (with_rid && !base.empty()) fmt::format_to(std::back_inserter(s), ", {} = _row", rid(ev));
    if (own_rid) fmt::format_to(std::back_inserter(s), "\n    | serialize {} = row_number())", rid(ev));
    return s + ";\n";
  }

  std::string join_on(std::uint32_t left, std::uint32_t right) const {
    std::string s;
    for (std::size_t k = 0; k < r_.corr.keys.size(); ++k)
      fmt::format_to(std::back_inserter(s), "{}$left.{} == $right.{}", k ? " and " : "", kcol(k, left), kcol(k, right));
    return s;
  }

  // ---- rule shapes ----
  std::string single() const {
    std::string s = name(table(0).name) + "\n";
    s += time_filter();
    where_to(s, 0);
    if (!r_.outcome.empty()) s += project_outcome(bare_fn(), "");  // no outcome: the whole row
    return s;
  }

  static bool same(const Expr& a, const Expr& b) {
    if (a.kind != b.kind || a.var != b.var || a.column != b.column || a.member != b.member || a.fn != b.fn ||
        a.op != b.op || a.list != b.list || !(a.value == b.value) || a.args.size() != b.args.size())
      return false;
    for (std::size_t i = 0; i < a.args.size(); ++i)
      if (!same(*a.args[i], *b.args[i])) return false;
    return true;
  }

  // Sliding window per key, evaluated at each event time; alerts on the rising edge.
  std::string threshold() const {
    const auto& c = r_.corr;
    std::uint32_t ev = c.order.empty() ? 0 : c.order[0];
    auto W = timespan(c.window);
    // aggregates the outcome needs beyond the condition's own
    auto is_condition_agg = [&](const Expr& x) {
      auto a = static_cast<ir::Agg>(x.value.i);
      if (a != c.agg) return false;
      if (a == ir::Agg::Count) return true;
      return !x.args.empty() && c.agg_arg && same(*x.args[0], *c.agg_arg);
    };
    std::vector<const Expr*> outcome_aggs;
    std::function<void(const Expr&)> walk = [&](const Expr& x) {
      if (x.kind == Expr::Kind::Aggregate && !is_condition_agg(x)) outcome_aggs.push_back(&x);
      for (const auto& a : x.args) walk(*a);
    };
    for (const auto& o : r_.outcome) walk(*o.value);

    std::string s = fmt::format("let _e = {}\n", name(table(ev).name));
    s += time_filter("    ");
    where_to(s, ev, "    ");
    std::vector<std::string> extend;
    if (c.keys.empty()) extend.push_back("_kall = 1");  // one group: a constant key for the self-join
    for (std::size_t k = 0; k < c.keys.size(); ++k)
      extend.push_back(fmt::format("_k{} = {}", k, c.keys[k][0] ? key_expr(*c.keys[k][0]) : "\"\""));
    if (c.agg_arg) extend.push_back(fmt::format("_v = {}", expr(*c.agg_arg, bare_fn())));
    for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
      if (!outcome_aggs[i]->args.empty())
        extend.push_back(fmt::format("_o{}v = {}", i, expr(*outcome_aggs[i]->args[0], bare_fn())));
    s += "    | extend ";
    for (std::size_t i = 0; i < extend.size(); ++i) s += (i ? ", " : "") + extend[i];
    s += "\n";
    if (!c.keys.empty()) {
      s += "    | where ";
      for (std::size_t k = 0; k < c.keys.size(); ++k) fmt::format_to(std::back_inserter(s), "{}isnotempty(_k{})", k ? " and " : "", k);
      s += "\n";
    }
    std::string keys, keys_sort;
    for (std::size_t k = 0; k < c.keys.size(); ++k) {
      fmt::format_to(std::back_inserter(keys), "{}_k{}", k ? ", " : "", k);
      keys_sort += fmt::format("_k{} asc, ", k);
    }
    std::string join_keys = keys.empty() ? "_kall" : keys;
    std::string carry = join_keys;
    if (c.agg_arg) carry += ", _v";
    for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
      if (!outcome_aggs[i]->args.empty()) carry += fmt::format(", _o{}v", i);
    fmt::format_to(std::back_inserter(s), "    | project TimeGenerated, {};\n", carry);
    // every distinct event time of a key is a window end
    s += "_e\n";
    fmt::format_to(std::back_inserter(s), "| summarize by {}, TimeGenerated\n", join_keys);
    fmt::format_to(std::back_inserter(s), "| join kind=inner (_e | project-rename _t2 = TimeGenerated) on {}\n", join_keys);
    fmt::format_to(std::back_inserter(s), "| where _t2 between ((TimeGenerated - {}) .. TimeGenerated)\n", W);
    auto agg_call = [](ir::Agg a, const std::string& arg) {
      switch (a) {
        case ir::Agg::Count: return std::string("count()");
        // KQL's dcount() is a HyperLogLog estimate; a set is exact (up to its 1,048,576 cap).
        case ir::Agg::DCount: return fmt::format("array_length(make_set_if({0}, isnotempty({0}), 1048576))", arg);
        case ir::Agg::Sum: return fmt::format("sum({})", arg);
      }
      return std::string("count()");
    };
    fmt::format_to(std::back_inserter(s), "| summarize _value = {}", agg_call(c.agg, "_v"));
    for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
      fmt::format_to(std::back_inserter(s), ", _o{} = {}", i, agg_call(static_cast<ir::Agg>(outcome_aggs[i]->value.i), fmt::format("_o{}v", i)));
    fmt::format_to(std::back_inserter(s), " by {}, TimeGenerated\n", join_keys);
    fmt::format_to(std::back_inserter(s), "| sort by {}TimeGenerated asc\n", keys_sort);
    fmt::format_to(std::back_inserter(s), "| extend _hit = _value {} {}\n", ast::op_spelling(c.cmp), threshold_text());
    // the condition continues from the key's previous evaluation if that held and was
    // within one window; prev() is null on the first row, so default it to false
    std::string same_key;
    for (std::size_t k = 0; k < c.keys.size(); ++k) same_key += fmt::format(" and prev(_k{}) == _k{}", k, k);
    fmt::format_to(std::back_inserter(s), "| extend _rising = _hit and not(prev(_hit, 1, false){} and TimeGenerated - prev(TimeGenerated) <= {})\n",
                     same_key, W);
    s += "| where _rising\n";
    s += anchor_filter("TimeGenerated");
    // outcome: sub-expressions equal to a key read `_kN`, aggregates read `_value`/`_oN`
    ColumnFn grouped = [&, this](const Expr& x, std::string& out) -> bool {
      for (std::size_t k = 0; k < c.keys.size(); ++k)
        if (c.keys[k][0] && same(*c.keys[k][0], x)) {
          out += "_k";
          append_int(out, static_cast<std::int64_t>(k));
          return true;
        }
      if (x.kind == Expr::Kind::Aggregate) {
        if (is_condition_agg(x)) {
          out += "_value";
          return true;
        }
        for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
          if (outcome_aggs[i] == &x) {
            out += "_o";
            append_int(out, static_cast<std::int64_t>(i));
            return true;
          }
      }
      return append_bare_column(x, out);
    };
    s += project_outcome(grouped, "");
    return s;
  }

  std::string threshold_text() const {
    double t = r_.corr.threshold;
    if (t == static_cast<double>(static_cast<std::int64_t>(t))) return std::to_string(static_cast<std::int64_t>(t));
    return real_text(t);
  }

  // Ordered: for each event of the last step, the latest strictly earlier event of each
  // earlier step (searching backwards), all within the window of the last.
  std::string sequence() const {
    const auto& c = r_.corr;
    std::string s;
    auto n = c.order.size();
    for (std::size_t i = 0; i < n; ++i) s += step_let(c.order[i], i, i + 1 == n);
    auto last = c.order[n - 1];
    s += step(last) + "\n";
    for (std::size_t i = n - 1; i-- > 0;) {
      auto ev = c.order[i], next = c.order[i + 1];
      fmt::format_to(std::back_inserter(s), "| join kind=inner {} on {}\n", step(ev), join_on(last, ev));
      fmt::format_to(std::back_inserter(s), "| where {} < {} and {} - {} <= {}\n", tcol(ev), tcol(next), tcol(last), tcol(ev),
                       timespan(c.window));
      fmt::format_to(std::back_inserter(s), "| summarize arg_max({}, *) by {}\n", tcol(ev), rid(last));
    }
    s += anchor_filter(tcol(last));
    s += project_outcome(carried_fn(), tcol(last));
    return s;
  }

  // Unordered: each event completes a pair with the latest partner at or before it
  // (strictly before for the second event, so a simultaneous pair alerts once). Two
  // distinct events: when both read one table, rows are numbered once and a row never
  // pairs with itself.
  std::string join() const {
    const auto& c = r_.corr;
    auto a = c.order[0], b = c.order[1];
    std::string s;
    bool same_table = r_.events[a].table == r_.events[b].table;
    std::string distinct;
    if (same_table) {
      fmt::format_to(std::back_inserter(s), "let _base = materialize({}\n", name(table(a).name));
      s += time_filter("    ");
      s += "    | serialize _row = row_number());\n";
      s += step_let(a, 0, true, "_base") + step_let(b, 1, true, "_base");
      distinct = fmt::format(" and {} != {}", rid(a), rid(b));
    } else {
      s += step_let(a, 0, true) + step_let(b, 1, true);
    }
    fmt::format_to(std::back_inserter(s), "let _pairs = materialize({} | join kind=inner {} on {});\n", step(a), step(b), join_on(a, b));
    auto W = timespan(c.window);
    s += "union\n";
    fmt::format_to(std::back_inserter(s), "    (_pairs\n        | where {} <= {} and {} - {} <= {}{}\n        | summarize arg_max({}, *) by {}\n"
                     "        | extend _t = {}),\n",
                     tcol(b), tcol(a), tcol(a), tcol(b), W, distinct, tcol(b), rid(a), tcol(a));
    fmt::format_to(std::back_inserter(s), "    (_pairs\n        | where {} < {} and {} - {} <= {}\n        | summarize arg_max({}, *) by {}\n"
                     "        | extend _t = {})\n",
                     tcol(a), tcol(b), tcol(b), tcol(a), W, tcol(a), rid(b), tcol(b));
    s += anchor_filter("_t");
    s += project_outcome(carried_fn(), "_t");
    return s;
  }

  // An event of the positive step with no event of the absent step, same keys, in
  // [t - W, t) before it (or (t, t + W] after it). The anchor's own instant is excluded
  // so that an event never witnesses itself when both steps read the same table.
  std::string absence() const {
    const auto& c = r_.corr;
    auto a = c.order[0], b = c.order[1];
    std::string s = step_let(a, 0, true) + step_let(b, 1, false);
    auto W = timespan(c.window);
    fmt::format_to(std::back_inserter(s), "let _seen = {}\n    | join kind=inner {} on {}\n", step(a), step(b), join_on(a, b));
    if (c.direction == ir::Direction::Before)
      fmt::format_to(std::back_inserter(s), "    | where {} >= {} - {} and {} < {}\n", tcol(b), tcol(a), W, tcol(b), tcol(a));
    else
      fmt::format_to(std::back_inserter(s), "    | where {} > {} and {} <= {} + {}\n", tcol(b), tcol(a), tcol(b), tcol(a), W);
    fmt::format_to(std::back_inserter(s), "    | distinct {};\n", rid(a));
    fmt::format_to(std::back_inserter(s), "{}\n| join kind=leftanti _seen on {}\n", step(a), rid(a));
    s += anchor_filter(tcol(a));
    s += project_outcome(carried_fn(), tcol(a));
    return s;
  }

  const ir::Module& m_;
  const ir::Rule& r_;
  const Options& opt_;
};

}  // namespace

std::string emit(const ir::Module& m, const ir::Rule& r, const Options& opt) { return Emitter(m, r, opt).run(); }

std::map<std::string, std::map<std::string, std::string>> tables_used(const ir::Module& m, const ir::Rule& r) {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const auto& e : r.events) {
    const auto& t = m.catalog.tables[e.table];
    auto& cols = out[t.name];
    for (const auto& c : t.columns) cols[c.name] = kusto_type(c.type);
  }
  return out;
}

}  // namespace ward::backend::kql
