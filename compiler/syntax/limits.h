// Nesting limits of the front end, shared by the ANTLR path (ast_builder.cpp), which reports
// E0113 past them, and the recursive-descent fast path (rd_parser.cpp), which gives up there.
#pragma once

namespace ward::syntax {

// Deepest expression the AST builder, sema and backends will recurse through.
inline constexpr int kMaxDepth = 256;
// Deepest bracket nesting handed to ANTLR's recursive-descent parser.
inline constexpr int kMaxBracketDepth = 128;

}  // namespace ward::syntax
