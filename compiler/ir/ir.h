// The typed IR: what sema produces and every backend consumes. Small on purpose:
// columns are interned to (table, column) ids, operators are enums, and every
// node has a type and a source span. `print()` is the text form IR goldens compare.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ast/ast.h"
#include "ast/value.h"
#include "source/source.h"

namespace ward::ir {

using source::Span;
using ast::Op;

enum class Type : std::uint8_t { Unknown, Bool, Int, Long, Real, String, Datetime, Timespan, Guid, Dynamic };
const char* type_name(Type t);
std::optional<Type> type_from_name(const std::string& name);
bool is_numeric(Type t);

struct Column {
  std::string name;
  Type type = Type::Unknown;
  std::string doc;
  Span span;
};

struct Table {
  std::string name;
  std::string doc;
  std::vector<Column> columns;
  std::unordered_map<std::string, std::uint32_t> index;
  Span span;
  std::string module;  // "sentinel", "token_validation", or "" for a user file
  const Column* find(const std::string& n) const {
    auto it = index.find(n);
    return it == index.end() ? nullptr : &columns[it->second];
  }
};

// Every table known to one compilation, interned by id.
struct Catalog {
  std::vector<Table> tables;
  std::unordered_map<std::string, std::uint32_t> index;
  const Table* find(const std::string& n) const {
    auto it = index.find(n);
    return it == index.end() ? nullptr : &tables[it->second];
  }
};

enum class ListElem : std::uint8_t { String, Guid, Ip, Cidr, Long, Real };
const char* list_elem_name(ListElem e);

struct List {
  std::string name;
  ListElem elem = ListElem::String;
  std::vector<Value> values;
  std::string source_file;  // when loaded with file("...")
  Span span;
};

// Built-in functions: one table in sema/functions.def.
enum class Fn : std::uint8_t {
#define WARD_FN(name, kql, ret, ...) name,
#include "sema/functions.def"
#undef WARD_FN
};
const char* fn_name(Fn f);

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : std::uint8_t {
    Literal,   // value
    Column,    // event var, column
    Member,    // args[0] . member     (dynamic)
    Index,     // args[0] [ args[1] ]  (dynamic)
    Call,      // fn(args)
    Unary,     // op args[0]
    Binary,    // args[0] op args[1]
    ListRef,   // list (a named list)
    ListLit,   // [args...] (inline)
    Aggregate, // count/dcount/sum(...) in a threshold outcome
  };
  Kind kind = Kind::Literal;
  Type type = Type::Unknown;
  Span span;
  Value value;
  std::uint32_t var = 0;     // Column: index into Rule::events
  std::uint32_t column = 0;  // Column: index into the table's columns
  std::string member;        // Member
  Fn fn{};                   // Call
  Op op = Op::Eq;            // Unary, Binary
  std::uint32_t list = 0;    // ListRef: index into Module::lists
  std::vector<ExprPtr> args;
  ExprPtr clone() const;
};

struct Event {
  std::string var;  // without `$`
  std::uint32_t table = 0;
  ExprPtr where;    // null: every row
  Span span;
};

enum class CorrKind : std::uint8_t { Single, Threshold, Sequence, Join, Absence };
enum class Agg : std::uint8_t { Count, DCount, Sum };
enum class Direction : std::uint8_t { Before, After };

struct Correlation {
  CorrKind kind = CorrKind::Single;
  // Threshold
  Agg agg = Agg::Count;
  ExprPtr agg_arg;  // DCount/Sum: the value aggregated; Count: null
  Op cmp = Op::Ge;
  double threshold = 0;
  // Sequence (in order), Join (2), Absence ([positive, absent]), Threshold/Single ([the event]).
  std::vector<std::uint32_t> order;
  // keys[k][i]: the k-th key's expression for event order[i]. Threshold: keys[k][0].
  std::vector<std::vector<ExprPtr>> keys;
  std::int64_t window = 0;  // ticks
  Direction direction = Direction::Before;
  Span span, window_span;
};

enum class Severity : std::uint8_t { Informational, Low, Medium, High };
const char* severity_name(Severity s);

struct Meta {
  std::string id;  // GUID
  bool id_explicit = false;
  std::string title, description, author, version = "1.0.0", status = "experimental";
  Severity severity = Severity::Medium;
  std::vector<std::string> tactics, techniques, tags, references, falsepositives;
  std::string created, modified;  // dates as written (yyyy-mm-dd)
  // Sentinel's alertDetailsOverride: text with up to 3 {{column}} placeholders.
  std::string alert_title, alert_description;
  std::map<std::string, Span> spans;  // each metadata key's value, for diagnostics raised later (export)
};

struct OutcomeField {
  std::string name;
  ExprPtr value;
  Span span;
};

struct EntityMapping {
  std::string type;  // Account, IP, ...
  std::vector<std::pair<std::string, std::string>> identifiers;  // identifier -> outcome field
  Span span;
};

struct Schedule {
  bool nrt = false;
  bool explicit_ = false;
  std::int64_t frequency = 0, period = 0;
  // How far before a completing event a run must see for the run to decide it exactly:
  // the window, or twice it for a threshold's rising edge (semantics §9).
  std::int64_t reach = 0;
  Span span;
};

struct TestCase {
  std::string name;
  std::string scenario;  // or
  std::string trace;
  std::map<std::string, std::string> params;
  struct Expectation {
    std::string what;  // alerts | none | steps | entities
    std::optional<Op> cmp;
    std::vector<std::string> values;
    double number = 0;
  };
  std::vector<Expectation> expect;
  Span span;
};

struct Rule {
  std::string name;
  Meta meta;
  std::vector<Event> events;
  Correlation corr;
  std::vector<OutcomeField> outcome;
  std::vector<EntityMapping> entities;
  Schedule schedule;
  std::int64_t suppress = 0;
  std::vector<TestCase> tests;
  Span span;
  std::string file;
};

struct Module {
  Catalog catalog;
  std::vector<List> lists;
  std::vector<Rule> rules;
};

// Lists, tables and rules the rule uses, for backends that emit per rule.
std::vector<std::uint32_t> lists_used(const Rule& r);

// The IR's text form (stable; compared by IR golden tests).
std::string print(const Module& m, const Rule& r);
std::string print_expr(const Module& m, const Rule& r, const Expr& e);

}  // namespace ward::ir
