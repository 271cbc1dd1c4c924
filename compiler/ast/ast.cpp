#include "ast/ast.h"

namespace ward::ast {

const char* op_spelling(Op op) {
  switch (op) {
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::EqCi: return "=~";
    case Op::NeCi: return "!~";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Contains: return "contains";
    case Op::NotContains: return "!contains";
    case Op::StartsWith: return "startswith";
    case Op::NotStartsWith: return "!startswith";
    case Op::EndsWith: return "endswith";
    case Op::NotEndsWith: return "!endswith";
    case Op::Has: return "has";
    case Op::NotHas: return "!has";
    case Op::Regex: return "matches regex";
    case Op::In: return "in";
    case Op::NotIn: return "!in";
    case Op::InCi: return "in~";
    case Op::NotInCi: return "!in~";
    case Op::InCidr: return "in cidr";
    case Op::NotInCidr: return "!in cidr";
    case Op::And: return "and";
    case Op::Or: return "or";
    case Op::Not: return "not";
    case Op::Neg: return "-";
    case Op::Add: return "+";
    case Op::Sub: return "-";
    case Op::Mul: return "*";
    case Op::Div: return "/";
    case Op::Mod: return "%";
  }
  return "?";
}

}  // namespace ward::ast
