#include "ir/ir.h"

#include <fmt/format.h>

#include <set>

#include "ast/literals.h"

namespace ward::ir {

const char* type_name(Type t) {
  switch (t) {
    case Type::Unknown: return "unknown";
    case Type::Bool: return "bool";
    case Type::Int: return "int";
    case Type::Long: return "long";
    case Type::Real: return "real";
    case Type::String: return "string";
    case Type::Datetime: return "datetime";
    case Type::Timespan: return "timespan";
    case Type::Guid: return "guid";
    case Type::Dynamic: return "dynamic";
  }
  return "unknown";
}

std::optional<Type> type_from_name(const std::string& n) {
  static const std::pair<const char*, Type> k[] = {
      {"bool", Type::Bool},         {"boolean", Type::Bool},      {"int", Type::Int},       {"long", Type::Long},
      {"real", Type::Real},         {"double", Type::Real},       {"string", Type::String}, {"datetime", Type::Datetime},
      {"timespan", Type::Timespan}, {"guid", Type::Guid},         {"dynamic", Type::Dynamic}};
  for (auto [name, t] : k)
    if (n == name) return t;
  return std::nullopt;
}

bool is_numeric(Type t) { return t == Type::Int || t == Type::Long || t == Type::Real; }

const char* list_elem_name(ListElem e) {
  switch (e) {
    case ListElem::String: return "string";
    case ListElem::Guid: return "guid";
    case ListElem::Ip: return "ip";
    case ListElem::Cidr: return "cidr";
    case ListElem::Long: return "long";
    case ListElem::Real: return "real";
  }
  return "string";
}

const char* fn_name(Fn f) {
  switch (f) {
#define WARD_FN(name, kql, ret, ...) \
  case Fn::name: return kql;
#include "sema/functions.def"
#undef WARD_FN
  }
  return "?";
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::Informational: return "Informational";
    case Severity::Low: return "Low";
    case Severity::Medium: return "Medium";
    case Severity::High: return "High";
  }
  return "Medium";
}

ExprPtr Expr::clone() const {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->type = type;
  e->span = span;
  e->value = value;
  e->var = var;
  e->column = column;
  e->member = member;
  e->fn = fn;
  e->op = op;
  e->list = list;
  for (const auto& a : args) e->args.push_back(a->clone());
  return e;
}

namespace {
void collect_lists(const Expr& e, std::set<std::uint32_t>& out) {
  if (e.kind == Expr::Kind::ListRef) out.insert(e.list);
  for (const auto& a : e.args) collect_lists(*a, out);
}

std::string value_text(const Value& v) {
  switch (v.kind) {
    case LitKind::None: return "<error>";
    case LitKind::Bool: return v.b ? "true" : "false";
    case LitKind::Int: return std::to_string(v.i);
    case LitKind::Real: return fmt::format("{}", v.r);
    case LitKind::String: return literals::quote(v.s);
    case LitKind::Duration: return format_duration(v.i);
    case LitKind::Datetime: return format_datetime(v.i);
    case LitKind::Ip: return "ip:" + v.s;
    case LitKind::Cidr: return "cidr:" + v.s;
    case LitKind::Guid: return "guid:" + v.s;
  }
  return "?";
}

const char* agg_name(Agg a) {
  switch (a) {
    case Agg::Count: return "count";
    case Agg::DCount: return "dcount";
    case Agg::Sum: return "sum";
  }
  return "?";
}

const char* corr_name(CorrKind k) {
  switch (k) {
    case CorrKind::Single: return "single";
    case CorrKind::Threshold: return "threshold";
    case CorrKind::Sequence: return "sequence";
    case CorrKind::Join: return "join";
    case CorrKind::Absence: return "absence";
  }
  return "?";
}
}  // namespace

std::vector<std::uint32_t> lists_used(const Rule& r) {
  std::set<std::uint32_t> s;
  for (const auto& e : r.events)
    if (e.where) collect_lists(*e.where, s);
  for (const auto& o : r.outcome) collect_lists(*o.value, s);
  return {s.begin(), s.end()};
}

std::string print_expr(const Module& m, const Rule& r, const Expr& e) {
  auto sub = [&](std::size_t i) { return print_expr(m, r, *e.args[i]); };
  switch (e.kind) {
    case Expr::Kind::Literal: return value_text(e.value);
    case Expr::Kind::Column: {
      const auto& ev = r.events[e.var];
      const auto& t = m.catalog.tables[ev.table];
      return fmt::format("${}.{}:{}", ev.var, t.columns[e.column].name, type_name(e.type));
    }
    case Expr::Kind::Member: return fmt::format("{}.{}", sub(0), e.member);
    case Expr::Kind::Index: return fmt::format("{}[{}]", sub(0), sub(1));
    case Expr::Kind::Call: {
      std::string s = fmt::format("{}(", fn_name(e.fn));
      for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + sub(i);
      return s + ")";
    }
    case Expr::Kind::Unary: return fmt::format("({} {})", ast::op_spelling(e.op), sub(0));
    case Expr::Kind::Binary: return fmt::format("({} {} {})", sub(0), ast::op_spelling(e.op), sub(1));
    case Expr::Kind::ListRef: return fmt::format("list:{}", m.lists[e.list].name);
    case Expr::Kind::ListLit: {
      std::string s = "[";
      for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + sub(i);
      return s + "]";
    }
    case Expr::Kind::Aggregate: {
      auto a = static_cast<Agg>(e.value.i);
      if (a == Agg::Count) return fmt::format("count(${})", r.events[e.var].var);
      return fmt::format("{}({})", agg_name(a), e.args.empty() ? "" : sub(0));
    }
  }
  return "?";
}

std::string print(const Module& m, const Rule& r) {
  std::string out;
  out += fmt::format("rule {} id={} severity={}\n", r.name, r.meta.id, severity_name(r.meta.severity));
  out += fmt::format("  title {}\n", literals::quote(r.meta.title));
  if (!r.meta.tactics.empty()) {
    out += "  tactics";
    for (const auto& t : r.meta.tactics) out += " " + t;
    out += "\n";
  }
  if (!r.meta.techniques.empty()) {
    out += "  techniques";
    for (const auto& t : r.meta.techniques) out += " " + t;
    out += "\n";
  }
  for (auto li : lists_used(r)) {
    const auto& l = m.lists[li];
    out += fmt::format("  list {}: {} [", l.name, list_elem_name(l.elem));
    for (std::size_t i = 0; i < l.values.size() && i < 4; ++i) out += (i ? ", " : "") + value_text(l.values[i]);
    if (l.values.size() > 4) out += fmt::format(", ... {} more", l.values.size() - 4);
    out += "]\n";
  }
  for (const auto& e : r.events) {
    out += fmt::format("  event ${} = {}", e.var, m.catalog.tables[e.table].name);
    if (e.where) out += " where " + print_expr(m, r, *e.where);
    out += "\n";
  }
  const auto& c = r.corr;
  out += fmt::format("  condition {}", corr_name(c.kind));
  if (c.kind == CorrKind::Threshold) {
    out += fmt::format(" {}(", agg_name(c.agg));
    out += c.agg_arg ? print_expr(m, r, *c.agg_arg) : (c.order.empty() ? "" : "$" + r.events[c.order[0]].var);
    out += fmt::format(") {} {}", ast::op_spelling(c.cmp), c.threshold);
  }
  for (auto o : c.order) out += " $" + r.events[o].var;
  if (c.kind == CorrKind::Absence) out += c.direction == Direction::Before ? " before" : " after";
  if (c.kind != CorrKind::Single) out += " within " + format_duration(c.window);
  out += "\n";
  for (const auto& k : c.keys) {
    out += "    key";
    for (std::size_t i = 0; i < k.size(); ++i) out += (i ? " = " : " ") + (k[i] ? print_expr(m, r, *k[i]) : "?");
    out += "\n";
  }
  for (const auto& o : r.outcome) out += fmt::format("  outcome {} = {}\n", o.name, print_expr(m, r, *o.value));
  for (const auto& en : r.entities) {
    out += "  entity " + en.type;
    for (const auto& [i, f] : en.identifiers) out += fmt::format(" {}={}", i, f);
    out += "\n";
  }
  if (r.schedule.nrt) out += "  schedule nrt\n";
  else
    out += fmt::format("  schedule every {} over {}{}{}\n", format_duration(r.schedule.frequency),
                       format_duration(r.schedule.period), r.schedule.explicit_ ? "" : " (default)",
                       r.schedule.reach && r.schedule.reach != r.corr.window ? " reach " + format_duration(r.schedule.reach) : "");
  if (r.suppress) out += fmt::format("  suppress {}\n", format_duration(r.suppress));
  for (const auto& t : r.tests) {
    out += fmt::format("  test {} {}", literals::quote(t.name),
                       t.scenario.empty() ? "trace " + literals::quote(t.trace) : "scenario " + literals::quote(t.scenario));
    for (const auto& [k, v] : t.params) out += fmt::format(" {}={}", k, v);
    for (const auto& x : t.expect) {
      out += " expect " + x.what;
      if (x.cmp) out += fmt::format(" {} {}", ast::op_spelling(*x.cmp), x.number);
      if (!x.values.empty()) {
        out += " [";
        for (std::size_t i = 0; i < x.values.size(); ++i) out += (i ? ", " : "") + literals::quote(x.values[i]);
        out += "]";
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace ward::ir
