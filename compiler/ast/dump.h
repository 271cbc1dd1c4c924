// A canonical text form of the AST: every field of every node, spans included, one node
// per line, indented by depth. Two ASTs are equal exactly when their dumps are; the
// parser differential test (tests/tools/parse_check.cpp) and the front-end fuzzer compare
// the recursive-descent parser's AST with the ANTLR path's through it.
#pragma once
#include <string>

#include "ast/ast.h"

namespace ward::ast {

std::string dump(const File& file);

}  // namespace ward::ast
