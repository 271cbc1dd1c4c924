// The recursive-descent parser (compiler/syntax/rd_parser.cpp) must build exactly the AST of
// the ANTLR path (syntax::parse_reference) on every input it accepts, and must accept every
// valid file given on the command line.
//
//   parse_check [--random N] [--seed S] [--verbose] FILE...
//
// Each FILE is parsed by both; a file ANTLR parses without a diagnostic must be accepted by the
// fast path, with an identical ast::dump. --random adds N programs from a seeded generator that
// walks grammar/WardParser.g4 (keywords used as names, every operator mixed with no regard for
// precedence, every literal shape including invalid ones, comments between tokens, and one in
// eight mutated by a dropped, doubled or swapped token). For those only agreement is required:
// a generated program the fast path gives up on while ANTLR accepts it is counted, not failed
// (the fast path is allowed to leave rare look-ahead choices to ANTLR). Exit 1 on any failure.
#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ast/dump.h"
#include "source/source.h"
#include "syntax/parse.h"
#include "syntax/rd_parser.h"

namespace {

int failures = 0;
bool verbose = false;

struct Counts {
  int inputs = 0, valid = 0, accepted = 0, valid_rejected = 0;
};

void first_difference(const std::string& a, const std::string& b) {
  std::istringstream x(a), y(b);
  std::string la, lb;
  for (int n = 1;; ++n) {
    bool ga = static_cast<bool>(std::getline(x, la)), gb = static_cast<bool>(std::getline(y, lb));
    if (!ga && !gb) return;
    if (ga != gb || la != lb) {
      fmt::print("  first difference at line {} of the AST dump\n  fast:  {}\n  antlr: {}\n", n, ga ? la : "(none)",
                 gb ? lb : "(none)");
      return;
    }
  }
}

void check(const std::string& name, const std::string& text, bool must_accept, Counts& c) {
  ++c.inputs;
  ward::source::SourceManager sm;
  auto id = sm.add(name, text);
  ward::diag::Sink sink;
  auto ref = ward::syntax::parse_reference(sm.file(id), sink);
  bool valid = sink.all().empty();
  c.valid += valid;
  auto fast = ward::syntax::parse_fast(sm.file(id));
  if (!fast) {
    if (valid) {
      ++c.valid_rejected;
      if (must_accept) {
        ++failures;
        fmt::print("{}: ANTLR parses it without a diagnostic, but the fast path gives up\n", name);
      } else if (verbose) {
        fmt::print("{}: valid, left to ANTLR:\n{}\n", name, text);
      }
    }
    return;
  }
  ++c.accepted;
  if (!valid) {
    ++failures;
    const auto& d = sink.all().front();
    fmt::print("{}: the fast path accepts it, but ANTLR reports {} at byte {}: {}\n", name, ward::diag::code_string(d.code),
               d.primary.begin, d.message);
    if (verbose) fmt::print("{}\n", text);
    return;
  }
  auto a = ward::ast::dump(*fast), b = ward::ast::dump(ref);
  if (a != b) {
    ++failures;
    fmt::print("{}: the ASTs differ\n", name);
    first_difference(a, b);
    if (verbose) fmt::print("{}\n", text);
  }
}

// ---- a seeded generator of programs over WardParser.g4 ----

class Gen {
 public:
  // the seed is mixed first: splitmix64's states for seeds s and s+1 would be one step apart
  explicit Gen(std::uint64_t seed) : s_(seed) { s_ = next(); }

  std::string program() {
    toks_.clear();
    int items = 1 + below(4);
    for (int i = 0; i < items; ++i) {
      switch (below(8)) {
        case 0: emit("import"); chance(2) ? emit(string_lit()) : name(); break;
        case 1: table(); break;
        case 2: konst(); break;
        case 3: list(); break;
        default: rule(); break;
      }
    }
    if (chance(8)) mutate();
    std::string out;
    for (const auto& t : toks_) {
      out += t;
      out += trivia();
    }
    return out;
  }

 private:
  std::uint64_t next() {  // splitmix64: the same sequence everywhere
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int below(int n) { return static_cast<int>(next() % static_cast<std::uint64_t>(n)); }
  bool chance(int one_in) { return below(one_in) == 0; }
  template <typename T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))]; }

  void emit(const std::string& t) { toks_.push_back(t); }

  std::string trivia() {
    switch (below(12)) {
      case 0: return "\n";
      case 1: return "  ";
      case 2: return " /* c */ ";
      case 3: return " // note\n";
      case 4: return "\t";
      default: return " ";
    }
  }

  void mutate() {
    if (toks_.size() < 2) return;
    auto i = static_cast<std::size_t>(below(static_cast<int>(toks_.size())));
    auto j = static_cast<std::size_t>(below(static_cast<int>(toks_.size())));
    switch (below(3)) {
      case 0: toks_.erase(toks_.begin() + static_cast<long>(i)); break;
      case 1: toks_.insert(toks_.begin() + static_cast<long>(i), toks_[j]); break;
      default: std::swap(toks_[i], toks_[j]); break;
    }
  }

  void name() {
    static const std::vector<std::string> idents = {"Operation", "UserId", "ClientIP", "AppId", "x", "_y2", "T1606",
                                                    "T1606.002", "count", "dcount", "tolower"};
    static const std::vector<std::string> keywords = {
        "import", "table", "const", "list", "file", "rule", "meta", "events", "condition", "outcome", "entities",
        "schedule", "every", "over", "nrt", "suppress", "for", "test", "scenario", "trace", "expect", "where", "by",
        "within", "before", "after", "sequence", "then", "in", "contains", "startswith", "endswith", "has", "matches",
        "regex", "cidr"};
    emit(chance(5) ? pick(keywords) : pick(idents));
  }
  void var() { emit(pick(std::vector<std::string>{"$a", "$b", "$mail", "$sign_in"})); }
  std::string string_lit() {
    return pick(std::vector<std::string>{"\"x\"", "\"\"", "\"a\\\"b\\\\c\"", "\"tab\\tnl\\n\"", "\"\\u00e9\"",
                                         "\"Zoë\"", "\"bad \\q escape\""});
  }
  std::string duration_lit() {
    return pick(std::vector<std::string>{"5m", "1h", "14d", "30s", "250ms", "1.5h", "99999999999999999d"});
  }
  void literal() {
    static const std::vector<std::string> lits = {
        "42", "0", "9223372036854775807", "9223372036854775808", "1.5", "2e-3", "1.5E3", "true", "false",
        "2023-05-15", "2023-05-15T08:30:00Z", "2023-05-15T10:30:00.1234567+02:00", "2023-02-30", "10.0.0.1",
        "999.1.1.1", "10.0.0.0/8", "10.0.0.0/33", "::1", "fe80::/10", "2001:db8::/129",
        "9188040d-6c67-4c5b-b112-36a304b66dad", "r\"raw\\d+\"", "r\"\""};
    switch (below(4)) {
      case 0: emit(string_lit()); break;
      case 1: emit(duration_lit()); break;
      default: emit(pick(lits)); break;
    }
  }
  void compare_op() { emit(pick(std::vector<std::string>{"==", "!=", "=~", "!~", "<", "<=", ">", ">="})); }

  void expr(int depth) {
    if (depth > 5) return primary(depth);
    switch (below(16)) {
      case 0: case 1: case 2: case 3: {
        expr(depth + 1);
        static const std::vector<std::string> ops = {
            "*", "/", "%", "+", "-", "==", "!=", "=~", "!~", "<", "<=", ">", ">=", "contains", "!contains",
            "startswith", "!startswith", "endswith", "!endswith", "has", "!has", "matches regex", "in cidr",
            "!in cidr", "in", "!in", "in~", "!in~", "and", "or", "and", "or"};
        emit(pick(ops));
        return expr(depth + 1);
      }
      case 4: emit(chance(2) ? "not" : "-"); return expr(depth + 1);
      case 5: expr(depth + 1); emit("."); return name();
      case 6: expr(depth + 1); emit("["); expr(depth + 1); emit("]"); return;
      case 7: emit("("); expr(depth + 1); emit(")"); return;
      default: return primary(depth);
    }
  }
  void primary(int depth) {
    switch (below(8)) {
      case 0: var(); return;
      case 1: case 2: literal(); return;
      case 3: case 4: name(); return;
      case 5: {
        name();
        emit("(");
        int n = below(3);
        for (int i = 0; i < n; ++i) {
          if (i) emit(",");
          expr(depth + 2);
        }
        emit(")");
        return;
      }
      case 6: {
        emit("[");
        int n = below(4);
        for (int i = 0; i < n; ++i) {
          if (i) emit(",");
          expr(depth + 2);
        }
        if (n && chance(3)) emit(",");
        emit("]");
        return;
      }
      default: emit("("); expr(depth + 1); emit(")"); return;
    }
  }

  void table() {
    emit("table");
    name();
    if (chance(2)) emit(string_lit());
    emit("{");
    for (int n = below(4), i = 0; i < n; ++i) {
      name();
      emit(":");
      name();
      if (chance(3)) emit(string_lit());
      if (chance(2)) emit(",");
    }
    emit("}");
  }
  void konst() {
    emit("const");
    name();
    if (chance(2)) emit(":"), name();
    emit("=");
    expr(0);
  }
  void list() {
    emit("list");
    name();
    emit(":");
    name();
    emit("=");
    if (chance(4)) {
      emit("file"), emit("("), emit(string_lit()), emit(")");
      return;
    }
    emit("[");
    for (int n = below(4), i = 0; i < n; ++i) {
      if (i) emit(",");
      expr(2);
    }
    if (chance(3)) emit(",");
    emit("]");
  }
  void meta_value(int depth) {
    switch (below(depth > 1 ? 3 : 4)) {
      case 0: literal(); return;
      case 1: name(); return;
      case 2: emit(pick(std::vector<std::string>{"T1606", "T1550.001"})); return;
      default: {
        emit("[");
        for (int n = below(4), i = 0; i < n; ++i) {
          if (i) emit(",");
          meta_value(depth + 1);
        }
        if (chance(3)) emit(",");
        emit("]");
      }
    }
  }
  void meta_entries() {
    for (int n = below(4), i = 0; i < n; ++i) {
      name();
      emit("=");
      meta_value(0);
      if (chance(2)) emit(",");
    }
  }
  void by_window() {
    if (chance(2)) {
      emit("by");
      for (int n = 1 + below(2), i = 0; i < n; ++i) {
        if (i) emit(",");
        expr(3);
        if (chance(3)) emit("="), expr(3);
      }
    }
    if (chance(2)) {
      emit("within");
      emit(duration_lit());
      if (chance(2)) {
        emit(chance(2) ? "before" : "after");
        if (chance(2)) var();
      }
    }
  }
  void condition() {
    emit("condition");
    switch (below(6)) {
      case 0:
        emit("sequence"), var();
        for (int n = 1 + below(2), i = 0; i < n; ++i) emit("then"), var();
        return by_window();
      case 1: emit("not"), var(); return by_window();
      case 2: var(), emit("and"), emit("not"), var(); return by_window();
      case 3: var(), emit("and"), var(); return by_window();
      case 4:
        name(), emit("("), expr(2), emit(")"), compare_op(), expr(3);
        return by_window();
      default: var(); return;
    }
  }
  void rule() {
    emit("rule");
    name();
    emit("{");
    for (int n = below(7), i = 0; i < n; ++i) {
      switch (below(9)) {
        case 0: emit("meta"), emit("{"), meta_entries(), emit("}"); break;
        case 1:
          emit("events"), emit("{");
          for (int k = below(3), j = 0; j < k; ++j) {
            var(), emit("="), name();
            if (chance(4) == false) emit("where"), expr(0);
          }
          emit("}");
          break;
        case 2: case 3: condition(); break;
        case 4:
          emit("outcome"), emit("{");
          for (int k = below(3), j = 0; j < k; ++j) {
            name(), emit("="), expr(1);
            if (chance(2)) emit(",");
          }
          emit("}");
          break;
        case 5:
          emit("entities"), emit("{");
          for (int k = below(3), j = 0; j < k; ++j) {
            name(), emit("{");
            for (int m = below(3), q = 0; q < m; ++q) {
              name(), emit("="), name();
              if (chance(2)) emit(",");
            }
            emit("}");
          }
          emit("}");
          break;
        case 6:
          emit("schedule");
          if (chance(3)) emit("nrt");
          else emit("every"), emit(duration_lit()), emit("over"), emit(duration_lit());
          break;
        case 7: emit("suppress"), emit("for"), emit(duration_lit()); break;
        default:
          emit("test"), emit(string_lit()), emit("{");
          for (int k = below(4), j = 0; j < k; ++j) {
            switch (below(3)) {
              case 0:
                emit("scenario"), emit(string_lit());
                if (chance(2)) emit("{"), meta_entries(), emit("}");
                break;
              case 1: emit("trace"), emit(string_lit()); break;
              default:
                emit("expect"), name();
                if (chance(2)) compare_op();
                if (chance(2)) meta_value(0);
            }
          }
          emit("}");
      }
    }
    emit("}");
  }

  std::uint64_t s_;
  std::vector<std::string> toks_;
};

}  // namespace

int main(int argc, char** argv) {
  int random = 0;
  std::uint64_t seed = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--random" && i + 1 < argc) random = std::atoi(argv[++i]);
    else if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--verbose") verbose = true;
    else files.push_back(a);
  }
  Counts tree;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      fmt::print("{}: cannot read\n", f);
      ++failures;
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    check(f, ss.str(), true, tree);
  }
  if (!files.empty())
    fmt::print("parse_check: {} files, {} of them valid; the fast path accepted {} ({} valid ones left to ANTLR)\n",
               tree.inputs, tree.valid, tree.accepted, tree.valid_rejected);
  {
    // Nesting around the limits where the ANTLR path reports E0113: the fast path must give up
    // exactly where it does, and accept everything just below.
    Counts deep;
    auto rep = [](const std::string& x, int n) {
      std::string out;
      for (int i = 0; i < n; ++i) out += x;
      return out;
    };
    auto chain = [](const std::string& x, const std::string& op, int n) {
      std::string out = x;
      for (int i = 1; i < n; ++i) out += op + x;
      return out;
    };
    for (int n = 120; n <= 260; ++n) {
      if (n > 132 && n < 250) continue;
      const std::vector<std::pair<std::string, std::string>> shapes = {
          {"parens", rep("(", n) + "x" + rep(")", n)},
          {"not", rep("not ", n) + "x"},
          {"neg", rep("-", n) + "1"},
          {"member", "x" + rep(".a", n)},
          {"index", "x" + rep("[0]", n)},
          {"compare", chain("1", " == ", n)},
          {"and", chain("x", " and ", n)},
          {"in", chain("x", " in ", n)},
          {"calls", rep("f(", n) + "x" + rep(")", n)},
          {"lists", rep("[", n) + rep("]", n)},
          {"paren-member", rep("(", n / 2) + "x" + rep(").a", n / 2)},
          {"not-compare", rep("not x == ", n / 2) + "y"},
      };
      for (const auto& [shape, e] : shapes) check(fmt::format("{} {}", shape, n), "const c = " + e + "\n", true, deep);
      check(fmt::format("meta lists {}", n), "rule r { meta { k = " + rep("[", n) + rep("]", n) + " } }\n", true, deep);
    }
    fmt::print("parse_check: {} deep shapes, {} valid; the fast path accepted {}\n", deep.inputs, deep.valid, deep.accepted);
  }
  if (random > 0) {
    Counts gen;
    Gen g(seed);
    for (int i = 0; i < random; ++i) check(fmt::format("generated #{} (seed {})", i, seed), g.program(), false, gen);
    fmt::print("parse_check: {} generated programs, {} valid; the fast path accepted {} ({} valid ones left to ANTLR)\n",
               gen.inputs, gen.valid, gen.accepted, gen.valid_rejected);
  }
  if (failures) {
    fmt::print("parse_check: {} failure(s)\n", failures);
    return 1;
  }
  return 0;
}
