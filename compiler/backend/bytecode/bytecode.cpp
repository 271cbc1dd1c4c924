#include "backend/bytecode/bytecode.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <cstring>
#include <map>
#include <unordered_map>

namespace ward::backend::bytecode {

namespace {

using bc::Insn;
using bc::Opcode;
using ir::Expr;
using ir::Type;
using Op = ast::Op;

bc::Type bc_type(Type t) {
  switch (t) {
    case Type::Bool: return bc::Type::Bool;
    case Type::Int: return bc::Type::Int;
    case Type::Long: return bc::Type::Long;
    case Type::Real: return bc::Type::Real;
    case Type::String: return bc::Type::String;
    case Type::Datetime: return bc::Type::Datetime;
    case Type::Timespan: return bc::Type::Timespan;
    case Type::Guid: return bc::Type::Guid;
    case Type::Dynamic: return bc::Type::Dynamic;
    case Type::Unknown: break;
  }
  return bc::Type::Null;
}

class Gen {
 public:
  Gen(const ir::Module& m, const source::SourceManager& sm) : m_(m), sm_(sm) {}

  bc::Program run() {
    for (std::uint32_t i = 0; i < m_.rules.size(); ++i) rule(i, m_.rules[i]);
    bc::verify(p_);
    return std::move(p_);
  }

 private:
  const ir::Module& m_;
  const source::SourceManager& sm_;
  bc::Program p_;
  std::unordered_map<std::string, std::uint32_t> strings_;
  std::map<std::uint32_t, std::uint32_t> tables_;  // catalog table -> program table
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::uint32_t> fields_;
  std::map<std::uint32_t, std::uint32_t> list_sets_, list_cidrs_;
  std::unordered_map<std::string, std::uint32_t> regexes_;
  std::map<std::tuple<int, std::int64_t, std::uint64_t>, std::uint32_t> consts_;
  // per rule
  const ir::Rule* rule_ = nullptr;
  std::uint32_t rule_index_ = 0;
  bc::Rule* out_ = nullptr;

  std::uint32_t str(std::string_view s) {
    auto [it, fresh] = strings_.try_emplace(std::string(s), static_cast<std::uint32_t>(p_.strings.size()));
    if (fresh) p_.strings.emplace_back(s);
    return it->second;
  }

  std::uint32_t span(const source::Span& s) {
    bc::Span out;
    if (s.valid()) {
      const auto& f = sm_.file(s.file);
      auto lc = f.line_col(s.begin);
      out = {str(f.path()), lc.line, lc.column};
    } else {
      out = {str("<unknown>"), 0, 0};
    }
    p_.spans.push_back(out);
    return static_cast<std::uint32_t>(p_.spans.size() - 1);
  }

  std::uint32_t table(std::uint32_t cat) {
    auto [it, fresh] = tables_.try_emplace(cat, static_cast<std::uint32_t>(p_.tables.size()));
    if (fresh) p_.tables.push_back(str(m_.catalog.tables[cat].name));
    return it->second;
  }

  std::uint32_t field(std::uint32_t cat, std::uint32_t col) {
    auto [it, fresh] = fields_.try_emplace({cat, col}, static_cast<std::uint32_t>(p_.fields.size()));
    if (fresh) {
      const auto& c = m_.catalog.tables[cat].columns[col];
      p_.fields.push_back({table(cat), str(c.name), bc_type(c.type)});
    }
    return it->second;
  }

  std::uint32_t constant(bc::Const c) {
    std::uint64_t bits;
    std::memcpy(&bits, &c.r, 8);
    auto [it, fresh] = consts_.try_emplace({static_cast<int>(c.type), c.i, bits}, static_cast<std::uint32_t>(p_.consts.size()));
    if (fresh) p_.consts.push_back(c);
    return it->second;
  }

  std::uint32_t literal(const Value& v) {
    bc::Const c;
    switch (v.kind) {
      case LitKind::None: c.type = bc::Type::Null; break;
      case LitKind::Bool: c.type = bc::Type::Bool, c.i = v.b; break;
      case LitKind::Int: c.type = bc::Type::Long, c.i = v.i; break;
      case LitKind::Real: c.type = bc::Type::Real, c.r = v.r; break;
      case LitKind::Duration: c.type = bc::Type::Timespan, c.i = v.i; break;
      case LitKind::Datetime: c.type = bc::Type::Datetime, c.i = v.i; break;
      case LitKind::String: case LitKind::Ip: c.type = bc::Type::String, c.i = str(v.s); break;
      case LitKind::Cidr:
        c.type = bc::Type::String;
        c.i = str(v.s.find('/') == std::string::npos ? fmt::format("{}/{}", v.s, v.prefix) : v.s);
        break;
      case LitKind::Guid: c.type = bc::Type::Guid, c.i = str(v.s); break;
    }
    return constant(c);
  }

  static bool range_of(const Value& v, bc::CidrRange& r) {
    if (v.kind != LitKind::Cidr && v.kind != LitKind::Ip) return false;
    std::string addr = v.s.substr(0, v.s.find('/'));  // list elements carry their prefix in the text
    r.v6 = addr.find(':') != std::string::npos;
    if (inet_pton(r.v6 ? AF_INET6 : AF_INET, addr.c_str(), r.addr) != 1) return false;
    r.prefix = static_cast<std::uint8_t>(v.kind == LitKind::Cidr ? v.prefix : (r.v6 ? 128 : 32));
    return true;
  }

  std::uint32_t cidr_set(const Expr& e) {
    auto build = [&](auto&& values) {
      bc::CidrSet s;
      for (const Value* v : values) {
        bc::CidrRange r;
        if (range_of(*v, r)) s.ranges.push_back(r);
      }
      p_.cidrs.push_back(std::move(s));
      return static_cast<std::uint32_t>(p_.cidrs.size() - 1);
    };
    std::vector<const Value*> vals;
    if (e.kind == Expr::Kind::ListRef) {
      if (auto it = list_cidrs_.find(e.list); it != list_cidrs_.end()) return it->second;
      for (const auto& v : m_.lists[e.list].values) vals.push_back(&v);
      return list_cidrs_[e.list] = build(vals);
    }
    if (e.kind == Expr::Kind::ListLit)
      for (const auto& a : e.args) vals.push_back(&a->value);
    else
      vals.push_back(&e.value);
    return build(vals);
  }

  std::uint32_t set(const Expr& e) {
    auto build = [&](const std::vector<const Value*>& values) {
      bc::Set s;
      for (const Value* v : values) s.elems.push_back(literal(*v));
      p_.sets.push_back(std::move(s));
      return static_cast<std::uint32_t>(p_.sets.size() - 1);
    };
    std::vector<const Value*> vals;
    if (e.kind == Expr::Kind::ListRef) {
      if (auto it = list_sets_.find(e.list); it != list_sets_.end()) return it->second;
      for (const auto& v : m_.lists[e.list].values) vals.push_back(&v);
      return list_sets_[e.list] = build(vals);
    }
    for (const auto& a : e.args) vals.push_back(&a->value);
    return build(vals);
  }

  std::uint32_t regex(const std::string& pattern) {
    auto [it, fresh] = regexes_.try_emplace(pattern, static_cast<std::uint32_t>(p_.regexes.size()));
    if (fresh) p_.regexes.push_back(str(pattern));
    return it->second;
  }

  // ---- expressions ----
  struct Chunk {
    std::vector<Insn> code;
    bc::ChunkRole role;
  };

  void emit(Chunk& c, Opcode op, std::uint8_t a = 0, std::uint16_t b = 0, std::uint32_t x = 0) { c.code.push_back({op, a, b, x}); }

  static bc::CmpOp cmp_op(Op op) {
    switch (op) {
      case Op::Eq: return bc::CmpOp::Eq;
      case Op::Ne: return bc::CmpOp::Ne;
      case Op::EqCi: return bc::CmpOp::EqCi;
      case Op::NeCi: return bc::CmpOp::NeCi;
      case Op::Lt: return bc::CmpOp::Lt;
      case Op::Le: return bc::CmpOp::Le;
      case Op::Gt: return bc::CmpOp::Gt;
      default: return bc::CmpOp::Ge;
    }
  }

  void expr(Chunk& c, const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Literal: emit(c, Opcode::Const, 0, 0, literal(e.value)); return;
      case Expr::Kind::Column: {
        const auto& ev = rule_->events[e.var];
        emit(c, Opcode::Col, static_cast<std::uint8_t>(e.var), 0, field(ev.table, e.column));
        return;
      }
      case Expr::Kind::Member:
        expr(c, *e.args[0]);
        emit(c, Opcode::Member, 0, 0, str(e.member));
        return;
      case Expr::Kind::Index:
        expr(c, *e.args[0]);
        expr(c, *e.args[1]);
        emit(c, Opcode::Index);
        return;
      case Expr::Kind::Call:
        for (const auto& a : e.args) expr(c, *a);
        emit(c, Opcode::Call, static_cast<std::uint8_t>(e.fn), static_cast<std::uint16_t>(e.args.size()));
        return;
      case Expr::Kind::Unary:
        expr(c, *e.args[0]);
        emit(c, e.op == Op::Not ? Opcode::Not : Opcode::Neg);
        return;
      case Expr::Kind::Aggregate: emit(c, Opcode::Agg, static_cast<std::uint8_t>(aggregate(e))); return;
      case Expr::Kind::ListRef:
      case Expr::Kind::ListLit:
        throw bc::BundleError("internal: a list outside `in`");
      case Expr::Kind::Binary: break;
    }
    const auto& l = *e.args[0];
    const auto& r = *e.args[1];
    switch (e.op) {
      case Op::And:
      case Op::Or: {
        expr(c, l);
        auto at = c.code.size();
        emit(c, e.op == Op::And ? Opcode::AndJmp : Opcode::OrJmp);
        expr(c, r);
        // A chunk's jump targets are relative to the chunk: patched when it is placed.
        c.code[at].c = static_cast<std::uint32_t>(c.code.size());
        // `b` alone might be a null bool column: normalise to a bool as the jump does.
        if (r.kind == Expr::Kind::Column || r.kind == Expr::Kind::Member || r.kind == Expr::Kind::Index) {
          emit(c, Opcode::Not);
          emit(c, Opcode::Not);
          c.code[at].c = static_cast<std::uint32_t>(c.code.size());
        }
        return;
      }
      case Op::Eq: case Op::Ne: case Op::EqCi: case Op::NeCi: case Op::Lt: case Op::Le: case Op::Gt: case Op::Ge:
        expr(c, l), expr(c, r);
        emit(c, Opcode::Cmp, static_cast<std::uint8_t>(cmp_op(e.op)));
        return;
      case Op::Contains: case Op::NotContains: case Op::StartsWith: case Op::NotStartsWith:
      case Op::EndsWith: case Op::NotEndsWith: case Op::Has: case Op::NotHas:
        expr(c, l), expr(c, r);
        emit(c, Opcode::StrOp, static_cast<std::uint8_t>(static_cast<int>(e.op) - static_cast<int>(Op::Contains)));
        return;
      case Op::Regex:
        expr(c, l);
        if (r.kind != Expr::Kind::Literal) throw bc::BundleError("internal: a regex that is not a constant");
        emit(c, Opcode::Regex, 0, 0, regex(r.value.s));
        return;
      case Op::In: case Op::NotIn: case Op::InCi: case Op::NotInCi:
        expr(c, l);
        emit(c, Opcode::InSet, static_cast<std::uint8_t>(static_cast<int>(e.op) - static_cast<int>(Op::In)), 0, set(r));
        return;
      case Op::InCidr: case Op::NotInCidr:
        expr(c, l);
        emit(c, Opcode::InCidr, e.op == Op::NotInCidr, 0, cidr_set(r));
        return;
      case Op::Add: case Op::Sub: case Op::Mul: case Op::Div: case Op::Mod:
        expr(c, l), expr(c, r);
        emit(c, Opcode::Arith, static_cast<std::uint8_t>(static_cast<int>(e.op) - static_cast<int>(Op::Add)));
        return;
      case Op::Not: case Op::Neg: break;
    }
    throw bc::BundleError("internal: unexpected binary operator");
  }

  std::uint32_t chunk(const Expr& e, bc::ChunkRole role, std::uint32_t vars) {
    Chunk c{{}, role};
    expr(c, e);
    emit(c, Opcode::Ret);
    bc::Chunk out;
    out.start = static_cast<std::uint32_t>(p_.code.size());
    out.len = static_cast<std::uint32_t>(c.code.size());
    out.role = role;
    out.rule = rule_index_;
    out.vars = vars;
    out.span = span(e.span);
    p_.code.insert(p_.code.end(), c.code.begin(), c.code.end());
    p_.chunks.push_back(out);
    return static_cast<std::uint32_t>(p_.chunks.size() - 1);
  }

  // An outcome aggregate: the condition's own (slot 0) or another over the same window.
  std::size_t aggregate(const Expr& e) {
    auto kind = static_cast<ir::Agg>(e.value.i);
    std::string arg = e.args.empty() ? "" : ir::print_expr(m_, *rule_, *e.args[0]);
    const auto& corr = rule_->corr;
    auto cond_arg = corr.agg_arg ? ir::print_expr(m_, *rule_, *corr.agg_arg) : "";
    if (kind == corr.agg && (kind == ir::Agg::Count || arg == cond_arg)) return 0;
    for (std::size_t i = 1; i < agg_keys_.size(); ++i)
      if (agg_keys_[i] == std::make_pair(static_cast<int>(kind), arg)) return i;
    bc::Aggregate a;
    a.kind = static_cast<bc::AggKind>(kind);
    if (kind != ir::Agg::Count) {
      a.arg = chunk(*e.args[0], bc::ChunkRole::AggArg, 1u << corr.order[0]);
      a.real = e.type == Type::Real;
      a.fold = e.args[0]->type == Type::Guid;
    }
    out_->aggs.push_back(a);
    agg_keys_.emplace_back(static_cast<int>(kind), arg);
    return out_->aggs.size() - 1;
  }
  std::vector<std::pair<int, std::string>> agg_keys_;

  void rule(std::uint32_t index, const ir::Rule& r) {
    rule_ = &r;
    rule_index_ = index;
    p_.rules.emplace_back();
    out_ = &p_.rules.back();
    auto& o = *out_;
    o.name = str(r.name);
    o.id = str(r.meta.id);
    o.title = str(r.meta.title.empty() ? r.name : r.meta.title);
    o.severity = static_cast<bc::Severity>(r.meta.severity);
    o.span = span(r.span);
    const auto& c = r.corr;
    switch (c.kind) {
      case ir::CorrKind::Single: o.shape = bc::Shape::Single; break;
      case ir::CorrKind::Threshold: o.shape = bc::Shape::Threshold; break;
      case ir::CorrKind::Sequence: o.shape = bc::Shape::Sequence; break;
      case ir::CorrKind::Join: o.shape = bc::Shape::Join; break;
      case ir::CorrKind::Absence: o.shape = bc::Shape::Absence; break;
    }
    o.window = c.window;
    o.after = c.direction == ir::Direction::After;
    o.cmp = cmp_op(c.cmp);
    o.threshold = c.threshold;
    o.order = c.order;
    if (o.order.empty()) o.order.push_back(0);
    for (std::uint32_t e = 0; e < r.events.size(); ++e) {
      bc::Event ev;
      ev.var = str(r.events[e].var);
      ev.table = table(r.events[e].table);
      if (r.events[e].where) ev.where = chunk(*r.events[e].where, bc::ChunkRole::Where, 1u << e);
      out_->events.push_back(ev);
    }
    for (const auto& group : c.keys) {
      std::vector<std::uint32_t> sides;
      for (std::size_t i = 0; i < group.size(); ++i) sides.push_back(chunk(*group[i], bc::ChunkRole::Key, 1u << o.order[i]));
      out_->keys.push_back(std::move(sides));
    }
    agg_keys_.clear();
    if (c.kind == ir::CorrKind::Threshold) {
      bc::Aggregate a;
      a.kind = static_cast<bc::AggKind>(c.agg);
      if (c.agg_arg) {
        a.arg = chunk(*c.agg_arg, bc::ChunkRole::AggArg, 1u << o.order[0]);
        a.real = c.agg_arg->type == Type::Real;
        a.fold = c.agg_arg->type == Type::Guid;
      }
      out_->aggs.push_back(a);
      agg_keys_.emplace_back(static_cast<int>(c.agg), c.agg_arg ? ir::print_expr(m_, r, *c.agg_arg) : "");
    }
    std::uint32_t outcome_vars = 0;
    if (c.kind == ir::CorrKind::Sequence || c.kind == ir::CorrKind::Join)
      for (auto e : o.order) outcome_vars |= 1u << e;
    else
      outcome_vars = 1u << o.order[0];
    for (const auto& f : r.outcome) {
      auto name = str(f.name);
      auto ch = chunk(*f.value, bc::ChunkRole::Outcome, outcome_vars);
      out_->outcome.push_back({name, ch});
    }
    for (const auto& em : r.entities) {
      bc::EntityMapping m;
      m.type = str(em.type);
      for (const auto& [id, fieldname] : em.identifiers) m.identifiers.emplace_back(str(id), str(fieldname));
      out_->entities.push_back(std::move(m));
    }
  }
};

}  // namespace

bc::Program compile(const ir::Module& m, const source::SourceManager& sm) { return Gen(m, sm).run(); }

}  // namespace ward::backend::bytecode
