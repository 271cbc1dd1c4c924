#include "backend/kql/kql.h"

#include <fmt/format.h>

#include <functional>
#include <set>

namespace ward::backend::kql {

using ir::CorrKind;
using ir::Expr;
using ir::Type;

std::string string_literal(const std::string& s) {
  // Double-quoted with backslash escapes. Every byte that could end the literal or
  // be misread (quote, backslash, control characters) is escaped; other UTF-8 is kept.
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string name(const std::string& n) {
  // Names Kusto parses as keywords (checked against KustoFacts.CanBeIdentifier).
  static const std::set<std::string> reserved = {
      "and",     "or",      "not",      "in",       "has",     "contains", "between",  "by",     "on",
      "let",     "where",   "project",  "extend",   "summarize", "join",   "kind",     "true",   "false",
      "null",    "as",      "with",     "sort",     "order",   "take",     "limit",    "top",    "union",
      "range",   "print",   "datatable", "dynamic", "bool",    "int",      "long",     "real",   "string",
      "datetime", "timespan", "guid",   "decimal",  "type",    "count",    "of",       "asc",    "desc",
      "from",    "to",      "step",     "set",      "evaluate", "first",   "last",     "title",  "materialize",
      "toscalar", "sample", "search",   "invoke",   "find"};
  bool plain = !n.empty() && (std::isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_');
  for (unsigned char c : n) plain = plain && (std::isalnum(c) || c == '_');
  // every reserved word is lower-case; most names are CamelCase columns
  if (plain && (!(n[0] >= 'a' && n[0] <= 'z') || !reserved.count(n))) return n;
  std::string out = "['";
  for (char c : n) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "']";
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

std::string timespan(std::int64_t ticks) {
  // KQL timespan literals: 1d 1h 1m 1s 1ms; fall back to ticks for odd values.
  if (ticks % kTicksPerDay == 0) return fmt::format("{}d", ticks / kTicksPerDay);
  if (ticks % kTicksPerHour == 0) return fmt::format("{}h", ticks / kTicksPerHour);
  if (ticks % kTicksPerMinute == 0) return fmt::format("{}m", ticks / kTicksPerMinute);
  if (ticks % kTicksPerSecond == 0) return fmt::format("{}s", ticks / kTicksPerSecond);
  if (ticks % 10'000 == 0) return fmt::format("{}ms", ticks / 10'000);
  return fmt::format("{}tick", ticks);
}

std::string real_text(double v) {
  auto s = fmt::format("{}", v);
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return fmt::format("real({})", s);
}

std::string literal(const Value& v) {
  switch (v.kind) {
    case LitKind::None: return "dynamic(null)";
    case LitKind::Bool: return v.b ? "true" : "false";
    case LitKind::Int: return std::to_string(v.i);
    case LitKind::Real: return real_text(v.r);
    case LitKind::Duration: return timespan(v.i);
    case LitKind::Datetime: return fmt::format("datetime({})", format_datetime(v.i));
    // Sentinel's ids, IPs and ranges are string columns: compare as strings.
    case LitKind::String:
    case LitKind::Ip:
    case LitKind::Cidr:
    case LitKind::Guid: return string_literal(v.s);
  }
  return "dynamic(null)";
}

// The Sentinel column types of a list's elements, for `dynamic([...])`.
std::string list_literal(const ir::List& l) {
  std::string out = "dynamic([";
  for (std::size_t i = 0; i < l.values.size(); ++i) {
    if (i) out += i % 4 == 0 ? ",\n    " : ", ";
    out += literal(l.values[i]);
  }
  return out + "])";
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
    std::string out;
    for (const auto& [li, use] : lists_) {
      const auto& l = m_.lists[li];
      if (use.plain) out += fmt::format("let {} = {};\n", list_name(li), list_literal(l));
      if (use.cidr) {
        // KQL's range functions are per address family: split the list once.
        ir::List v4 = l, v6 = l;
        v4.values.clear();
        v6.values.clear();
        for (const auto& v : l.values) (is_v6(v) ? v6 : v4).values.push_back(cidr_value(v));
        out += fmt::format("let {} = {};\n", cidr_list_name(li, false), list_literal(v4));
        out += fmt::format("let {} = {};\n", cidr_list_name(li, true), list_literal(v6));
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
  static Value cidr_value(const Value& v) {
    if (v.kind != LitKind::Ip) return v;
    Value c = v;
    c.kind = LitKind::Cidr;
    c.s += is_v6(v) ? "/128" : "/32";
    return c;
  }

  // ---- naming ----
  std::string var(std::uint32_t ev) const { return r_.events[ev].var; }
  std::string tcol(std::uint32_t ev) const { return "_t_" + var(ev); }
  std::string kcol(std::size_t k, std::uint32_t ev) const { return fmt::format("_k{}_{}", k, var(ev)); }
  std::string rid(std::uint32_t ev) const { return "_rid_" + var(ev); }
  std::string step(std::uint32_t ev) const { return "_ev_" + var(ev); }
  const ir::Table& table(std::uint32_t ev) const { return m_.catalog.tables[r_.events[ev].table]; }
  std::string column_name(std::uint32_t ev, std::uint32_t col) const { return table(ev).columns[col].name; }

  // In a correlation each event's columns are carried as `<var>_<Column>`; if two such
  // names would coincide (`$a.B_C` and `$a_B.C`), every carried name uses the event's
  // index instead: `_c0_<Column>`.
  bool indexed_carry_ = false;
  void choose_carried_names() {
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
  std::string carried(std::uint32_t ev, std::uint32_t col) const {
    if (indexed_carry_) return name(fmt::format("_c{}_{}", ev, column_name(ev, col)));
    return name(var(ev) + "_" + column_name(ev, col));
  }

  // ---- expressions ----
  // How a column (or any node the context wants to name itself) reads in the current
  // query; returns "" to let the node print normally.
  using ColumnFn = std::function<std::string(const Expr&)>;

  std::string bare_column(const Expr& e) const {
    return e.kind == Expr::Kind::Column ? name(column_name(e.var, e.column)) : std::string();
  }
  ColumnFn bare_fn() const {
    return [this](const Expr& x) { return bare_column(x); };
  }
  ColumnFn carried_fn() const {
    return [this](const Expr& x) { return x.kind == Expr::Kind::Column ? carried(x.var, x.column) : std::string(); };
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
    auto sub = [&](const Expr& x, int p) { return expr(x, col, p); };
    if (auto over = col(e); !over.empty()) return over;
    switch (e.kind) {
      case Expr::Kind::Literal: return literal(e.value);
      case Expr::Kind::Column: return "dynamic(null)";
      case Expr::Kind::Member: {
        const auto& mname = e.member;
        bool plain = !mname.empty() && (std::isalpha(static_cast<unsigned char>(mname[0])) || mname[0] == '_');
        for (unsigned char c : mname) plain = plain && (std::isalnum(c) || c == '_');
        auto base = sub(*e.args[0], 100);
        return plain && name(mname) == mname ? fmt::format("{}.{}", base, mname)
                                             : fmt::format("{}[{}]", base, string_literal(mname));
      }
      case Expr::Kind::Index: return fmt::format("{}[{}]", sub(*e.args[0], 100), sub(*e.args[1], 0));
      case Expr::Kind::Call: return call(e, col);
      case Expr::Kind::Unary:
        if (e.op == ast::Op::Not) {
          // two-valued `not`: a null operand (false in Ward) must negate to true
          auto inner = sub(*e.args[0], 0);
          return maybe_null(*e.args[0]) ? fmt::format("not(coalesce({}, false))", inner) : fmt::format("not({})", inner);
        }
        return fmt::format("-{}", sub(*e.args[0], 90));
      case Expr::Kind::Binary: return binary(e, col, parent_prec);
      case Expr::Kind::ListRef: return list_name(e.list);
      case Expr::Kind::ListLit: {
        std::string s = "dynamic([";
        for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + sub(*e.args[i], 0);
        return s + "])";
      }
      case Expr::Kind::Aggregate: return "dynamic(null)";
    }
    return "dynamic(null)";
  }

  std::string call(const Expr& e, const ColumnFn& col) const {
    std::vector<std::string> a;
    for (const auto& x : e.args) a.push_back(expr(*x, col, 0));
    switch (e.fn) {
      case ir::Fn::DayOfWeek: return fmt::format("tolong(dayofweek({}) / 1d)", a[0]);
      case ir::Fn::Trim: return fmt::format("trim(@\"\\s+\", {})", a[0]);
      case ir::Fn::HourOfDay: return fmt::format("tolong(hourofday({}))", a[0]);
      case ir::Fn::Now: return "now()";
      default: break;
    }
    std::string s = fmt::format("{}(", ir::fn_name(e.fn));
    for (std::size_t i = 0; i < a.size(); ++i) s += (i ? ", " : "") + a[i];
    return s + ")";
  }

  std::string binary(const Expr& e, const ColumnFn& col, int parent_prec) const {
    int p = prec(e.op);
    // comparisons do not chain in KQL: a comparison operand of a comparison is parenthesised
    int lp = is_comparison(e.op) ? p + 1 : p;
    auto l = expr(*e.args[0], col, lp);
    auto r = expr(*e.args[1], col, p + 1);
    // Kusto defines `=~` and `in~` on strings only: a guid-typed column is compared as
    // its text (tostring() of a guid is lower case, so the test stays case-insensitive).
    if (e.op == ast::Op::EqCi || e.op == ast::Op::NeCi || e.op == ast::Op::InCi || e.op == ast::Op::NotInCi) {
      auto as_text = [](const Expr& x, std::string& s) {
        if (x.type == Type::Guid && x.kind != Expr::Kind::Literal) s = fmt::format("tostring({})", s);
      };
      as_text(*e.args[0], l);
      as_text(*e.args[1], r);
    }
    std::string s;
    switch (e.op) {
      case ast::Op::In:
      case ast::Op::NotIn:
      case ast::Op::InCi:
      case ast::Op::NotInCi: s = fmt::format("{} {} ({})", l, ast::op_spelling(e.op), in_list(*e.args[1], col)); break;
      case ast::Op::InCidr: return fmt::format("coalesce({}, false)", cidr_test(l, *e.args[1]));
      case ast::Op::NotInCidr: return fmt::format("not(coalesce({}, true))", cidr_test(l, *e.args[1]));
      case ast::Op::Div:
      case ast::Op::Mod: s = fmt::format("{} {} {}", l, ast::op_spelling(e.op), nonzero_divisor(*e.args[1], r)); break;
      default: s = fmt::format("{} {} {}", l, ast::op_spelling(e.op), r);
    }
    if (is_negative(e.op)) {
      std::string guard;
      if (nullable(*e.args[0])) guard += fmt::format("isnotnull({}) and ", l);
      if (nullable(*e.args[1])) guard += fmt::format("isnotnull({}) and ", r);
      if (!guard.empty()) {
        s = guard + s;
        p = prec(ast::Op::And);
      }
    }
    return p < parent_prec ? "(" + s + ")" : s;
  }

  // Ward defines x / 0 and x % 0 as null (semantics §4.8); Kusto leaves them undocumented,
  // so a divisor that may be zero becomes null when it is.
  static std::string nonzero_divisor(const Expr& d, const std::string& text) {
    if (d.kind == Expr::Kind::Literal)
      return (d.value.kind == LitKind::Real ? d.value.r != 0 : d.value.i != 0) ? text
                                                                              : fmt::format("{}(null)", kusto_type(d.type));
    const char* zero = d.type == Type::Timespan ? "0s" : d.type == Type::Real ? "real(0)" : "0";
    return fmt::format("iff({0} == {1}, {2}(null), {0})", text, zero, kusto_type(d.type));
  }

  std::string in_list(const Expr& list, const ColumnFn& col) const {
    if (list.kind == Expr::Kind::ListRef) return list_name(list.list);
    if (list.args.empty()) return "dynamic([])";
    std::string s;
    for (std::size_t i = 0; i < list.args.size(); ++i) s += (i ? ", " : "") + expr(*list.args[i], col, 0);
    return s;
  }

  // true/false for an address of either family, null for a string that is no address.
  std::string cidr_test(const std::string& ip, const Expr& list) const {
    std::string v4, v6;
    if (list.kind == Expr::Kind::ListRef) {
      v4 = cidr_list_name(list.list, false);
      v6 = cidr_list_name(list.list, true);
    } else {
      std::vector<std::string> a4, a6;
      for (const auto& x : list.args) (is_v6(x->value) ? a6 : a4).push_back(literal(x->value));
      auto join = [](const std::vector<std::string>& v) {
        std::string s = "dynamic([";
        for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + v[i];
        return s + "])";
      };
      v4 = join(a4);
      v6 = join(a6);
    }
    return fmt::format("iff(indexof({0}, \":\") >= 0, ipv6_is_in_any_range({0}, {1}), ipv4_is_in_any_range({0}, {2}))",
                       ip, v6, v4);
  }

  // ---- query pieces ----
  std::string time_filter(const char* indent = "") const {
    if (!opt_.time_filter || r_.schedule.nrt) return "";
    return fmt::format("{}| where TimeGenerated >= ago({})\n", indent, timespan(r_.schedule.period));
  }
  // Completing events must have their whole window inside the query period.
  std::string anchor_filter(const std::string& tcolumn) const {
    if (!opt_.time_filter || r_.schedule.nrt) return "";
    if (r_.corr.kind == CorrKind::Absence && r_.corr.direction == ir::Direction::After)
      return fmt::format("| where {} <= now() - {}\n", tcolumn, timespan(r_.corr.window));
    return fmt::format("| where {} >= ago({}) + {}\n", tcolumn, timespan(r_.schedule.period),
                       timespan(r_.schedule.reach ? r_.schedule.reach : r_.corr.window));
  }

  // `| where a and b and c`: one conjunct per line when the whole would be long.
  std::string where(std::uint32_t ev, const char* indent = "") const {
    const auto& e = r_.events[ev];
    if (!e.where) return "";
    std::vector<const Expr*> conj;
    std::function<void(const Expr&)> flatten = [&](const Expr& x) {
      if (x.kind == Expr::Kind::Binary && x.op == ast::Op::And) {
        flatten(*x.args[0]);
        flatten(*x.args[1]);
      } else {
        conj.push_back(&x);
      }
    };
    flatten(*e.where);
    std::vector<std::string> parts;
    std::size_t total = 0;
    for (const auto* c : conj) {
      parts.push_back(expr(*c, bare_fn(), prec(ast::Op::And) + 1));
      total += parts.back().size() + 5;
    }
    return fmt::format("{}| where ", indent) + join_lines(parts, " and", total, indent) + "\n";
  }

  // Items joined by `sep`; one per line (indented) when the whole would be long.
  static std::string join_lines(const std::vector<std::string>& parts, const char* sep, std::size_t total,
                                const char* indent) {
    bool wrap = total > 90 && parts.size() > 1;
    std::string s;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i) s += wrap ? fmt::format("\n{}    {} ", indent, std::string(sep).substr(1)) : std::string(sep) + " ";
      s += parts[i];
    }
    return s;
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
    std::vector<std::string> items = {time.empty() ? "TimeGenerated" : "TimeGenerated = " + time};
    std::size_t total = 0;
    for (const auto& o : r_.outcome) {
      auto v = expr(*o.value, col);
      // a predicate's null (Kusto) is false (Ward) in an alert's fields too
      if (o.value->type == Type::Bool && o.value->kind != Expr::Kind::Column && maybe_null(*o.value))
        v = fmt::format("coalesce({}, false)", v);
      items.push_back(fmt::format("{} = {}", name(o.name), v));
    }
    for (const auto& i : items) total += i.size() + 2;
    if (total <= 90) {
      std::string s = "| project ";
      for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i];
      return s + "\n";
    }
    std::string s = "| project";
    for (std::size_t i = 0; i < items.size(); ++i) s += fmt::format("\n    {}{}", items[i], i + 1 < items.size() ? "," : "");
    return s + "\n";
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
    s += where(ev, "    ");
    const auto& keys = r_.corr.keys;
    if (!keys.empty()) {
      s += "    | extend ";
      for (std::size_t k = 0; k < keys.size(); ++k)
        s += fmt::format("{}{} = {}", k ? ", " : "", kcol(k, ev), keys[k][pos] ? key_expr(*keys[k][pos]) : "\"\"");
      s += "\n    | where ";
      for (std::size_t k = 0; k < keys.size(); ++k) s += fmt::format("{}isnotempty({})", k ? " and " : "", kcol(k, ev));
      s += "\n";
    }
    s += fmt::format("    | project {} = TimeGenerated", tcol(ev));
    for (std::size_t k = 0; k < keys.size(); ++k) s += ", " + kcol(k, ev);
    for (auto c : outcome_columns(ev)) s += fmt::format(", {} = {}", carried(ev, c), name(column_name(ev, c)));
    if (with_rid && !base.empty()) s += fmt::format(", {} = _row", rid(ev));
    if (own_rid) s += fmt::format("\n    | serialize {} = row_number())", rid(ev));
    return s + ";\n";
  }

  std::string join_on(std::uint32_t left, std::uint32_t right) const {
    std::string s;
    for (std::size_t k = 0; k < r_.corr.keys.size(); ++k)
      s += fmt::format("{}$left.{} == $right.{}", k ? " and " : "", kcol(k, left), kcol(k, right));
    return s;
  }

  // ---- rule shapes ----
  std::string single() const {
    std::string s = name(table(0).name) + "\n";
    s += time_filter();
    s += where(0);
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
    s += where(ev, "    ");
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
      for (std::size_t k = 0; k < c.keys.size(); ++k) s += fmt::format("{}isnotempty(_k{})", k ? " and " : "", k);
      s += "\n";
    }
    std::string keys, keys_sort;
    for (std::size_t k = 0; k < c.keys.size(); ++k) {
      keys += fmt::format("{}_k{}", k ? ", " : "", k);
      keys_sort += fmt::format("_k{} asc, ", k);
    }
    std::string join_keys = keys.empty() ? "_kall" : keys;
    std::string carry = join_keys;
    if (c.agg_arg) carry += ", _v";
    for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
      if (!outcome_aggs[i]->args.empty()) carry += fmt::format(", _o{}v", i);
    s += fmt::format("    | project TimeGenerated, {};\n", carry);
    // every distinct event time of a key is a window end
    s += "_e\n";
    s += fmt::format("| summarize by {}, TimeGenerated\n", join_keys);
    s += fmt::format("| join kind=inner (_e | project-rename _t2 = TimeGenerated) on {}\n", join_keys);
    s += fmt::format("| where _t2 between ((TimeGenerated - {}) .. TimeGenerated)\n", W);
    auto agg_call = [](ir::Agg a, const std::string& arg) {
      switch (a) {
        case ir::Agg::Count: return std::string("count()");
        // KQL's dcount() is a HyperLogLog estimate; a set is exact (up to its 1,048,576 cap).
        case ir::Agg::DCount: return fmt::format("array_length(make_set_if({0}, isnotempty({0}), 1048576))", arg);
        case ir::Agg::Sum: return fmt::format("sum({})", arg);
      }
      return std::string("count()");
    };
    s += fmt::format("| summarize _value = {}", agg_call(c.agg, "_v"));
    for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
      s += fmt::format(", _o{} = {}", i, agg_call(static_cast<ir::Agg>(outcome_aggs[i]->value.i), fmt::format("_o{}v", i)));
    s += fmt::format(" by {}, TimeGenerated\n", join_keys);
    s += fmt::format("| sort by {}TimeGenerated asc\n", keys_sort);
    s += fmt::format("| extend _hit = _value {} {}\n", ast::op_spelling(c.cmp), threshold_text());
    // the condition continues from the key's previous evaluation if that held and was
    // within one window; prev() is null on the first row, so default it to false
    std::string same_key;
    for (std::size_t k = 0; k < c.keys.size(); ++k) same_key += fmt::format(" and prev(_k{}) == _k{}", k, k);
    s += fmt::format("| extend _rising = _hit and not(prev(_hit, 1, false){} and TimeGenerated - prev(TimeGenerated) <= {})\n",
                     same_key, W);
    s += "| where _rising\n";
    s += anchor_filter("TimeGenerated");
    // outcome: sub-expressions equal to a key read `_kN`, aggregates read `_value`/`_oN`
    ColumnFn grouped = [&, this](const Expr& x) -> std::string {
      for (std::size_t k = 0; k < c.keys.size(); ++k)
        if (c.keys[k][0] && same(*c.keys[k][0], x)) return fmt::format("_k{}", k);
      if (x.kind == Expr::Kind::Aggregate) {
        if (is_condition_agg(x)) return "_value";
        for (std::size_t i = 0; i < outcome_aggs.size(); ++i)
          if (outcome_aggs[i] == &x) return fmt::format("_o{}", i);
      }
      return bare_column(x);
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
      s += fmt::format("| join kind=inner {} on {}\n", step(ev), join_on(last, ev));
      s += fmt::format("| where {} < {} and {} - {} <= {}\n", tcol(ev), tcol(next), tcol(last), tcol(ev),
                       timespan(c.window));
      s += fmt::format("| summarize arg_max({}, *) by {}\n", tcol(ev), rid(last));
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
      s += fmt::format("let _base = materialize({}\n", name(table(a).name));
      s += time_filter("    ");
      s += "    | serialize _row = row_number());\n";
      s += step_let(a, 0, true, "_base") + step_let(b, 1, true, "_base");
      distinct = fmt::format(" and {} != {}", rid(a), rid(b));
    } else {
      s += step_let(a, 0, true) + step_let(b, 1, true);
    }
    s += fmt::format("let _pairs = materialize({} | join kind=inner {} on {});\n", step(a), step(b), join_on(a, b));
    auto W = timespan(c.window);
    s += "union\n";
    s += fmt::format("    (_pairs\n        | where {} <= {} and {} - {} <= {}{}\n        | summarize arg_max({}, *) by {}\n"
                     "        | extend _t = {}),\n",
                     tcol(b), tcol(a), tcol(a), tcol(b), W, distinct, tcol(b), rid(a), tcol(a));
    s += fmt::format("    (_pairs\n        | where {} < {} and {} - {} <= {}\n        | summarize arg_max({}, *) by {}\n"
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
    s += fmt::format("let _seen = {}\n    | join kind=inner {} on {}\n", step(a), step(b), join_on(a, b));
    if (c.direction == ir::Direction::Before)
      s += fmt::format("    | where {} >= {} - {} and {} < {}\n", tcol(b), tcol(a), W, tcol(b), tcol(a));
    else
      s += fmt::format("    | where {} > {} and {} <= {} + {}\n", tcol(b), tcol(a), tcol(b), tcol(a), W);
    s += fmt::format("    | distinct {};\n", rid(a));
    s += fmt::format("{}\n| join kind=leftanti _seen on {}\n", step(a), rid(a));
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
