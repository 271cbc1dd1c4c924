// A hand-written lexer for grammar/WardLexer.g4, token for token the same as the
// ANTLR-generated one (same types, channels, code-point indices, lines and columns).
//
// Why it exists: ANTLR 4.9's C++ lexer simulates its ATN per character and was 40% of
// `ward compile`'s time. The generated lexer stays the specification: tests and the
// front-end fuzzer lex every input with both and fail on any difference
// (tests/tools/lex_check.cpp, tests/fuzz/fuzz_frontend.cpp). Only compiler/syntax uses it.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "antlr4-runtime.h"

namespace ward::syntax {

// The token at byte `pos` of `text` (pos < text.size()): its length in bytes and its
// grammar::WardLexer type. FastLexer wraps it in ANTLR tokens; the recursive-descent parser
// (rd_parser.h) calls it directly, so that the fast path allocates no token objects.
std::pair<std::size_t, std::size_t> lex_at(std::string_view text, std::size_t pos);

class FastLexer : public antlr4::TokenSource {
 public:
  explicit FastLexer(std::string_view text) : text_(text) {}

  std::unique_ptr<antlr4::Token> nextToken() override;
  size_t getLine() const override { return line_; }
  size_t getCharPositionInLine() override { return column_; }
  antlr4::CharStream* getInputStream() override { return nullptr; }
  std::string getSourceName() override { return "ward"; }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return antlr4::CommonTokenFactory::DEFAULT.get();
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;     // byte offset
  std::size_t index_ = 0;   // code-point offset (ANTLR's token indices)
  std::size_t line_ = 1;
  std::size_t column_ = 0;  // code points since the line's start
  bool eof_ = false;
};

}  // namespace ward::syntax
