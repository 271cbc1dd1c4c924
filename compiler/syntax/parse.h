// Source text -> owned AST. The only interface to the ANTLR-generated parser.
#pragma once
#include "ast/ast.h"
#include "diag/diag.h"

namespace ward::syntax {

// Parses one file. Never throws on bad input: every problem becomes a diagnostic,
// and the returned AST holds whatever parsed cleanly.
ast::File parse(const source::SourceFile& file, diag::Sink& sink);

}  // namespace ward::syntax
