// Ward bytecode: the in-memory program, its binary bundle form, and the loader that
// verifies a bundle before anything runs it. docs/bytecode.md describes the format;
// runtime/opcodes.def is the one list of instructions.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ward::bc {

enum class Opcode : std::uint8_t {
#define WARD_OP(name, mn, a, b, c, pops, pushes, doc) name,
#include "runtime/opcodes.def"
#undef WARD_OP
  Count_
};
const char* mnemonic(Opcode op);

struct Insn {
  Opcode op = Opcode::Ret;
  std::uint8_t a = 0;
  std::uint16_t b = 0;
  std::uint32_t c = 0;
};
static_assert(sizeof(Insn) == 8);

// Operator codes carried in operand A.
enum class CmpOp : std::uint8_t { Eq, Ne, EqCi, NeCi, Lt, Le, Gt, Ge, Count_ };
enum class StrOp : std::uint8_t { Contains, NotContains, StartsWith, NotStartsWith, EndsWith, NotEndsWith, Has, NotHas, Count_ };
enum class SetOp : std::uint8_t { In, NotIn, InCi, NotInCi, Count_ };
enum class ArithOp : std::uint8_t { Add, Sub, Mul, Div, Mod, Count_ };
// Functions (operand A of `call`): the order of compiler/sema/functions.def.
enum class Fn : std::uint8_t {
#define WARD_FN(name, kql, ret, ...) name,
#include "sema/functions.def"
#undef WARD_FN
  Count_
};
const char* fn_name(Fn f);
int fn_arity(Fn f);

// Value types, as declared for columns and constants.
enum class Type : std::uint8_t { Bool, Int, Long, Real, String, Datetime, Timespan, Guid, Dynamic, Null, Count_ };
const char* type_name(Type t);

struct Const {
  Type type = Type::Null;
  std::int64_t i = 0;  // Bool, Int, Long, Datetime, Timespan; String/Guid: string index
  double r = 0;        // Real
};

struct Field {  // a column some rule reads
  std::uint32_t table = 0, name = 0;  // name: string index
  Type type = Type::String;
};

struct Set {  // the elements of an `in` list; constants of one kind
  std::vector<std::uint32_t> elems;  // constant indices
};

struct CidrRange {
  bool v6 = false;
  std::uint8_t prefix = 0;
  std::uint8_t addr[16] = {};
};
struct CidrSet {
  std::vector<CidrRange> ranges;
};

enum class ChunkRole : std::uint8_t { Where, Key, AggArg, Outcome, Count_ };
struct Chunk {  // one expression's code: code[start, start + len), ending in `ret`
  std::uint32_t start = 0, len = 0;
  ChunkRole role = ChunkRole::Where;
  std::uint32_t rule = 0;
  std::uint32_t vars = 0;  // bit i: the chunk may read event i of its rule
  std::uint16_t max_stack = 0;  // computed by the verifier
  std::uint32_t span = 0;  // index into spans
};
inline constexpr std::uint32_t kNone = 0xffffffffu;

struct Span {  // where an expression or a rule is in its source
  std::uint32_t file = 0;  // string index
  std::uint32_t line = 0, col = 0;
};

enum class Shape : std::uint8_t { Single, Threshold, Sequence, Join, Absence, Count_ };
enum class AggKind : std::uint8_t { Count, DCount, Sum, Count_ };
enum class Severity : std::uint8_t { Informational, Low, Medium, High, Count_ };

struct Event {
  std::uint32_t var = 0;    // string index, without `$`
  std::uint32_t table = 0;
  std::uint32_t where = kNone;  // chunk, or kNone: every row
};

struct Aggregate {  // an aggregate a threshold evaluates over its window
  AggKind kind = AggKind::Count;
  std::uint32_t arg = kNone;  // chunk (DCount, Sum); kNone for Count
  bool real = false;          // Sum of reals
  bool fold = false;          // DCount of GUIDs: distinct ignoring case (semantics §1.4)
};

struct OutcomeField {
  std::uint32_t name = 0;  // string
  std::uint32_t chunk = 0;
};

struct EntityMapping {
  std::uint32_t type = 0;                                          // string
  std::vector<std::pair<std::uint32_t, std::uint32_t>> identifiers;  // identifier, outcome field name
};

struct Rule {
  std::uint32_t name = 0, id = 0, title = 0;  // strings
  Severity severity = Severity::Medium;
  Shape shape = Shape::Single;
  std::vector<Event> events;
  std::vector<std::uint32_t> order;               // the events of the condition, in order
  std::vector<std::vector<std::uint32_t>> keys;   // keys[k][i]: chunk of key k for order[i]
  std::int64_t window = 0;                        // ticks
  bool after = false;                             // absence direction
  // Threshold: aggs[0] is the condition's aggregate; `agg A` in outcomes reads aggs[A].
  std::vector<Aggregate> aggs;
  CmpOp cmp = CmpOp::Ge;
  double threshold = 0;
  std::vector<OutcomeField> outcome;
  std::vector<EntityMapping> entities;
  std::uint32_t span = 0;
};

struct Program {
  std::vector<std::string> strings;
  std::vector<std::uint32_t> tables;  // table names (strings)
  std::vector<Field> fields;
  std::vector<Const> consts;
  std::vector<Set> sets;
  std::vector<CidrSet> cidrs;
  std::vector<std::uint32_t> regexes;  // patterns (strings)
  std::vector<Insn> code;
  std::vector<Chunk> chunks;
  std::vector<Span> spans;
  std::vector<Rule> rules;
};

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kMaxStack = 256;

// The binary bundle (docs/bytecode.md).
std::string serialize(const Program& p);

struct BundleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Reads and verifies a bundle; throws BundleError naming what is wrong. `check_sum`
// false skips only the checksum (the fuzzer uses it to reach the structural checks).
Program load(std::string_view bytes, bool check_sum = true);
// Structural verification of a program (load calls it): every index, jump, operand,
// stack depth and chunk context. Fills Chunk::max_stack.
void verify(Program& p);

// `ward disasm`.
std::string disassemble(const Program& p);
// docs/bytecode.md, generated from opcodes.def.
std::string opcodes_markdown();

}  // namespace ward::bc
