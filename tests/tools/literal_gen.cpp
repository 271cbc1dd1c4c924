// Property-test generator: random strings (quotes, backslashes, control characters,
// multi-byte UTF-8, newlines) go through the whole front end as Ward string literals
// (quote -> lex -> unescape) and out of the KQL emitter. Each line of output is
// {"value": original, "literal": emitted KQL literal}; tests/tools/kql-literal.js
// checks with Microsoft's Kusto parser that the literal's value is the original.
// Exits 1 if the Ward front end itself does not give back the original string.
#include <fmt/format.h>

#include <iostream>
#include <random>

#include "ast/literals.h"
#include "backend/kql/kql.h"
#include "diag/diag.h"
#include "syntax/parse.h"

namespace {
std::string json(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20) out += fmt::format("\\u{:04x}", c);
    else out += static_cast<char>(c);
  }
  return out + "\"";
}

void utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) out += static_cast<char>(cp);
  else if (cp < 0x800) { out += static_cast<char>(0xC0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3F)); }
  else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F)); out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = argc > 1 ? std::stoull(argv[1]) : 1;
  int n = argc > 2 ? std::stoi(argv[2]) : 2000;
  std::mt19937_64 rng(seed);
  const std::string nasty[] = {"\"", "\\", "'", "\n", "\r", "\t", "\\\"", "\"\"", "''", "@\"", "//", "/*", "*/",
                               "|", ";", "let ", "$left", "\\u0041", "\\n", "{", "}", "\x01", "\x7f", "%", "é",
                               "\xF0\x9F\x98\x80", "\xE2\x80\xAE", "`", "\\\\\"", "\" or 1==1 or \""};
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    std::string s;
    int len = static_cast<int>(rng() % 12);
    for (int k = 0; k < len; ++k) {
      switch (rng() % 4) {
        case 0: s += nasty[rng() % std::size(nasty)]; break;
        case 1: s += static_cast<char>(0x20 + rng() % 95); break;
        case 2: s += static_cast<char>(rng() % 0x20); break;
        default: {
          std::uint32_t cp = 0x80 + static_cast<std::uint32_t>(rng() % 0x10FF80);
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
          utf8(s, cp);
        }
      }
    }
    // Through the Ward front end: a constant declaration, lexed and unescaped.
    ward::source::SourceManager sm;
    auto id = sm.add("gen.ward", "const X = " + ward::literals::quote(s) + "\n");
    ward::diag::Sink sink;
    auto file = ward::syntax::parse(sm.file(id), sink);
    if (sink.has_errors() || file.consts.size() != 1 || file.consts[0].value->value.s != s) {
      std::cerr << "front end changed " << json(s) << "\n";
      ++bad;
      continue;
    }
    const auto& v = file.consts[0].value->value.s;
    std::cout << "{\"value\": " << json(s) << ", \"literal\": " << json(ward::backend::kql::string_literal(v)) << "}\n";
  }
  return bad ? 1 : 0;
}
