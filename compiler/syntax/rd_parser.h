// A hand-written recursive-descent parser for grammar/WardParser.g4: the fast path of
// syntax::parse(). It reads the hand-written lexer's tokens (lexer.h) and builds the owned
// AST directly, with no parse tree and no adaptive prediction.
//
// It has no diagnostics of its own. On anything it does not accept -- a syntax error, a
// lexical error token, a literal the AST builder would report (bad escape, out-of-range
// integer or duration, invalid date, address or prefix), nesting past the builder's limits,
// or a rare choice that needs more than the lookahead it uses -- it gives up, and parse()
// parses the file again with ANTLR, which reports exactly what it always has. So on any input
// it accepts, the AST must be the one the ANTLR path builds (same nodes, spans and values):
// tests/tools/parse_check.cpp (ctest parser_matches_antlr*) and tests/fuzz/fuzz_frontend.cpp
// compare the two on every file in the tree, on generated programs and on fuzzed input.
#pragma once
#include <optional>

#include "ast/ast.h"
#include "source/source.h"

namespace ward::syntax {

// The AST of `file`, or nullopt if the fast path gives up (the caller then uses ANTLR).
std::optional<ast::File> parse_fast(const source::SourceFile& file);

}  // namespace ward::syntax
