// The hand-written lexer (compiler/syntax/lexer.cpp) must give exactly the tokens of the
// ANTLR-generated one (grammar/WardLexer.g4). Lexes each file with both, and also every
// line and every prefix of tricky literal shapes, and reports the first difference.
//   lex_check FILE...   exit 1 on any difference
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "source/source.h"
#include "syntax/parse.h"

namespace {
int failures = 0;

void check(const std::string& name, const std::string& text) {
  if (ward::source::first_invalid_utf8(text) != std::string::npos) return;  // parse() rejects those first
  auto fast = ward::syntax::dump_tokens(text, false);
  auto ref = ward::syntax::dump_tokens(text, true);
  if (fast == ref) return;
  ++failures;
  std::istringstream a(fast), b(ref);
  std::string la, lb;
  int n = 0;
  while (true) {
    bool ga = static_cast<bool>(std::getline(a, la)), gb = static_cast<bool>(std::getline(b, lb));
    ++n;
    if (!ga && !gb) break;
    if (la != lb || ga != gb) {
      fmt::print("{}: token {} differs\n  fast:  {}\n  antlr: {}\n", name, n, ga ? la : "(none)", gb ? lb : "(none)");
      break;
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  // Shapes where longest match and rule order decide, each also cut at every length.
  const std::vector<std::string> shapes = {
      "2023-05-15", "2023-05-15T08:30", "2023-05-15T08:30:00.1234567Z", "2023-05-15T10:30:00+02:00",
      "2023-05-15T1", "9188040d-6c67-4c5b-b112-36a304b66dad", "10.0.0.0/8", "51.89.156.153", "1.2.3",
      "2001:db8::/32", "::ffff:10.1.2.3", "fe80::1", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::", ":::", "::1.2",
      "T1606.002", "T1606", "T160", "1.5h", "250ms", "5msx", "1.5e3", "2e-3", "1e", "42", "r\"raw\\d\"", "r\"open",
      "\"a\\\"b\"", "\"open\\", "\"open", "$var", "$", "!in~", "!in", "!inside", "!has", "!=", "!~", "!", "in~", "=~",
      "==", "<=", ">=", "/* c */", "/* open", "/*/", "/**/", "// line", "add::1", "deadbeef", "Zoë", "é", "\t\f\r\n",
      "a.b[0]", "x:y", "#", "@", "'"};
  for (const auto& s : shapes)
    for (std::size_t n = 1; n <= s.size(); ++n) {
      auto cut = s.substr(0, n);
      check(fmt::format("shape {:?}", cut), cut);
      check(fmt::format("shape {:?} in context", cut), "x = " + cut + " y\n");
    }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    auto text = ss.str();
    check(argv[i], text);
    std::istringstream lines(text);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) check(fmt::format("{}:{}", argv[i], ++n), line);
  }
  if (failures) {
    fmt::print("lex_check: {} difference(s) between the hand-written and the ANTLR lexer\n", failures);
    return 1;
  }
  fmt::print("lex_check: {} files and {} shapes lex identically\n", argc - 1, shapes.size());
  return 0;
}
