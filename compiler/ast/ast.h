// The owned AST: plain structs built by compiler/syntax from the parse tree.
// Nothing outside compiler/syntax sees ANTLR. Every node keeps byte spans,
// including those of the keywords and punctuation that diagnostics point at.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast/value.h"
#include "source/source.h"

namespace ward::ast {

using source::Span;

struct Name {
  std::string text;
  Span span;
};

enum class Op : std::uint8_t {
  // comparisons
  Eq, Ne, EqCi, NeCi, Lt, Le, Gt, Ge,
  // string predicates
  Contains, NotContains, StartsWith, NotStartsWith, EndsWith, NotEndsWith, Has, NotHas, Regex,
  // membership
  In, NotIn, InCi, NotInCi, InCidr, NotInCidr,
  // logic and arithmetic
  And, Or, Not, Neg, Add, Sub, Mul, Div, Mod,
};
const char* op_spelling(Op op);  // the Ward spelling: "==", "!contains", "in cidr", ...

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : std::uint8_t {
    Literal,  // value
    Name,     // name: column, constant or list
    Var,      // name: `$mail`
    Member,   // args[0] . name
    Index,    // args[0] [ args[1] ]
    Call,     // name ( args... )
    Unary,    // op args[0]
    Binary,   // args[0] op args[1]
    List,     // [ args... ]
  };
  Kind kind;
  Span span;
  Value value;
  std::string name;
  Span name_span;  // the name, callee or member
  Op op = Op::Eq;
  Span op_span;
  std::vector<ExprPtr> args;
};

struct Import {
  std::optional<Name> module;  // import sentinel
  std::string path;            // import "other.ward"
  Span span;
};

struct ColumnDecl {
  Name name;
  Name type;
  std::string doc;
};

struct TableDecl {
  Name name;
  std::string doc;
  std::vector<ColumnDecl> columns;
  Span span;
};

struct ConstDecl {
  Name name;
  std::optional<Name> type;
  ExprPtr value;
  Span span;
};

struct ListDecl {
  Name name;
  Name elem_type;
  bool from_file = false;
  std::string path;
  Span path_span;
  std::vector<ExprPtr> items;
  Span span;
};

struct MetaValue {
  enum class Kind : std::uint8_t { Literal, Name, Technique, List };
  Kind kind = Kind::Literal;
  Value value;       // Literal
  std::string text;  // Name, Technique
  std::vector<MetaValue> items;
  Span span;
};

struct MetaEntry {
  Name key;
  MetaValue value;
};

struct EventDecl {
  Name var;  // without the `$`
  Name table;
  ExprPtr where;  // may be null
  Span span;
};

struct KeyGroup {
  std::vector<ExprPtr> exprs;  // `$a.X = $b.Y` -> two
  Span span;
};

enum class Direction : std::uint8_t { None, Before, After };

struct Window {
  std::int64_t ticks = 0;
  Span span;          // the whole `within ...`
  Span duration_span;
  Direction dir = Direction::None;
  std::optional<Name> anchor;
};

struct Condition {
  enum class Kind : std::uint8_t { Single, Threshold, Sequence, Join, Absence, BareAbsence };
  Kind kind = Kind::Single;
  std::vector<Name> vars;  // in written order; for Absence: [positive, absent]
  Name agg;                // Threshold: count / dcount / sum
  ExprPtr agg_arg;
  Op cmp = Op::Ge;
  Span cmp_span;
  ExprPtr threshold;
  std::vector<KeyGroup> keys;
  Span by_span;
  std::optional<Window> window;
  Span span;
};

struct OutcomeField {
  Name name;
  ExprPtr value;
};

struct EntityIdent {
  Name identifier;
  Name field;
};

struct EntityMap {
  Name type;
  std::vector<EntityIdent> idents;
  Span span;
};

struct Schedule {
  bool nrt = false;
  std::int64_t frequency = 0, period = 0;
  Span frequency_span, period_span, span;
};

struct Suppress {
  std::int64_t ticks = 0;
  Span span;
};

struct TestItem {
  enum class Kind : std::uint8_t { Scenario, Trace, Expect };
  Kind kind;
  std::string text;  // scenario name or trace path
  Span text_span;
  std::vector<MetaEntry> params;  // scenario parameters
  Name what;                      // expect WHAT
  std::optional<Op> cmp;
  std::optional<MetaValue> value;
  Span span;
};

struct Test {
  std::string name;
  Span name_span;
  std::vector<TestItem> items;
  Span span;
};

struct Rule {
  Name name;
  Span span;
  std::vector<Span> meta_spans;  // one per `meta` block (a second one is an error)
  std::vector<MetaEntry> meta;
  std::vector<Span> events_spans;
  std::vector<EventDecl> events;
  std::vector<Condition> conditions;  // more than one is an error
  std::vector<Span> outcome_spans;
  std::vector<OutcomeField> outcome;
  std::vector<Span> entities_spans;
  std::vector<EntityMap> entities;
  std::vector<Schedule> schedules;
  std::vector<Suppress> suppressions;
  std::vector<Test> tests;
};

struct File {
  source::FileId file = source::kNoFile;
  std::vector<Import> imports;
  std::vector<TableDecl> tables;
  std::vector<ConstDecl> consts;
  std::vector<ListDecl> lists;
  std::vector<Rule> rules;
};

}  // namespace ward::ast
