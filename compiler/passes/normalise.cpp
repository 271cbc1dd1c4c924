// Negation normal form for the cheap cases: not(a == b) -> a != b, not(not x) -> x,
// not(exists(x)) -> empty(x). Backends then emit `!=`/`!contains` directly.
//
// Ward's logic is two-valued: a comparison with a null operand is false, whatever the
// operator (docs/semantics.md). So `not(x == 5)` is true for a missing x while
// `x != 5` is false: the rewrite is only sound when neither operand can be null, that is
// for strings (never null) and literals.
#include "passes/passes.h"

namespace ward::passes {

namespace {
using ir::Expr;
using ast::Op;

std::optional<Op> negated(Op op) {
  switch (op) {
    case Op::Eq: return Op::Ne;
    case Op::Ne: return Op::Eq;
    case Op::EqCi: return Op::NeCi;
    case Op::NeCi: return Op::EqCi;
    case Op::Contains: return Op::NotContains;
    case Op::NotContains: return Op::Contains;
    case Op::StartsWith: return Op::NotStartsWith;
    case Op::NotStartsWith: return Op::StartsWith;
    case Op::EndsWith: return Op::NotEndsWith;
    case Op::NotEndsWith: return Op::EndsWith;
    case Op::Has: return Op::NotHas;
    case Op::NotHas: return Op::Has;
    case Op::In: return Op::NotIn;
    case Op::NotIn: return Op::In;
    case Op::InCi: return Op::NotInCi;
    case Op::NotInCi: return Op::InCi;
    // `!in cidr` is false for a string that is no IP address, `not (... in cidr ...)` true.
    // <, <= ... are not negated: NaN makes x < y and x >= y both false.
    default: return std::nullopt;
  }
}

void normalise(ir::ExprPtr& e) {
  for (auto& a : e->args) normalise(a);
  if (e->kind != Expr::Kind::Unary || e->op != Op::Not) return;
  auto& x = e->args[0];
  if (x->kind == Expr::Kind::Unary && x->op == Op::Not) {
    auto inner = std::move(x->args[0]);
    auto span = e->span;
    e = std::move(inner);
    e->span = span;
    return;
  }
  if (x->kind == Expr::Kind::Call && (x->fn == ir::Fn::Exists || x->fn == ir::Fn::Empty)) {
    auto span = e->span;
    auto inner = std::move(x);
    inner->fn = inner->fn == ir::Fn::Exists ? ir::Fn::Empty : ir::Fn::Exists;
    inner->span = span;
    e = std::move(inner);
    return;
  }
  auto never_null = [](const Expr& o) { return o.kind == Expr::Kind::Literal || o.type == ir::Type::String; };
  if (x->kind == Expr::Kind::Binary && never_null(*x->args[0]) &&
      (never_null(*x->args[1]) || x->args[1]->kind == Expr::Kind::ListRef || x->args[1]->kind == Expr::Kind::ListLit))
    if (auto n = negated(x->op)) {
      auto span = e->span;
      auto inner = std::move(x);
      inner->op = *n;
      inner->span = span;
      e = std::move(inner);
    }
}
}  // namespace

void normalise_negation(ir::Module& m) {
  for (auto& r : m.rules)
    for (auto& ev : r.events)
      if (ev.where) normalise(ev.where);
}

}  // namespace ward::passes
