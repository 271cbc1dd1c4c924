// Source text -> owned AST. The only interface to the ANTLR-generated parser.
#pragma once
#include "ast/ast.h"
#include "diag/diag.h"

namespace ward::syntax {

// Parses one file. Never throws on bad input: every problem becomes a diagnostic,
// and the returned AST holds whatever parsed cleanly.
ast::File parse(const source::SourceFile& file, diag::Sink& sink);
// The same by the ANTLR-generated parser alone. parse() tries the recursive-descent parser
// (rd_parser.h) first and falls back to this; tests compare the two.
ast::File parse_reference(const source::SourceFile& file, diag::Sink& sink);

// The tokens of `text` as "type channel start stop line column text" lines, from the
// hand-written lexer the parser uses (`reference = false`) or from the ANTLR-generated
// lexer of grammar/WardLexer.g4 (`reference = true`). Tests require the two to be equal.
std::string dump_tokens(const std::string& text, bool reference);

}  // namespace ward::syntax
