// Constant folding: arithmetic whose operands are literals becomes a literal,
// so backends never see `1h * 24` or `datetime(...) + 1d`.
#include <functional>

#include "passes/passes.h"

namespace ward::passes {

namespace {
using ir::Expr;

// Integer arithmetic wraps (semantics §4.8); done unsigned, so it is never undefined.
std::int64_t wrap_add(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b)); }
std::int64_t wrap_sub(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b)); }
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) { return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b)); }

bool fold(Expr& e) {
  for (auto& a : e.args) fold(*a);
  if (e.kind != Expr::Kind::Binary || e.args.size() != 2) return false;
  auto& l = *e.args[0];
  auto& r = *e.args[1];
  if (l.kind != Expr::Kind::Literal || r.kind != Expr::Kind::Literal) return false;
  const Value &a = l.value, &b = r.value;
  std::optional<Value> out;
  auto ticks = [](LitKind k) { return k == LitKind::Duration || k == LitKind::Datetime; };
  switch (e.op) {
    case ast::Op::Add:
      if (a.kind == LitKind::Int && b.kind == LitKind::Int) out = Value::integer(wrap_add(a.i, b.i));
      else if (a.kind == LitKind::Duration && b.kind == LitKind::Duration) out = Value::duration(wrap_add(a.i, b.i));
      else if (a.kind == LitKind::Datetime && b.kind == LitKind::Duration) out = Value::datetime(wrap_add(a.i, b.i));
      break;
    case ast::Op::Sub:
      if (a.kind == LitKind::Int && b.kind == LitKind::Int) out = Value::integer(wrap_sub(a.i, b.i));
      else if (a.kind == LitKind::Duration && b.kind == LitKind::Duration) out = Value::duration(wrap_sub(a.i, b.i));
      else if (a.kind == LitKind::Datetime && b.kind == LitKind::Duration) out = Value::datetime(wrap_sub(a.i, b.i));
      else if (a.kind == LitKind::Datetime && b.kind == LitKind::Datetime) out = Value::duration(wrap_sub(a.i, b.i));
      break;
    case ast::Op::Mul:
      if (a.kind == LitKind::Int && b.kind == LitKind::Int) out = Value::integer(wrap_mul(a.i, b.i));
      else if (a.kind == LitKind::Duration && b.kind == LitKind::Int) out = Value::duration(wrap_mul(a.i, b.i));
      else if (a.kind == LitKind::Int && b.kind == LitKind::Duration) out = Value::duration(wrap_mul(a.i, b.i));
      break;
    default: break;
  }
  (void)ticks;
  if (!out) return false;
  e.kind = Expr::Kind::Literal;
  e.value = *out;
  e.args.clear();
  return true;
}
}  // namespace

void fold_constants(ir::Module& m) {
  for (auto& r : m.rules) {
    for (auto& ev : r.events)
      if (ev.where) fold(*ev.where);
    for (auto& o : r.outcome) fold(*o.value);
  }
}

}  // namespace ward::passes
