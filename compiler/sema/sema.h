// Semantic analysis: name resolution, schema and type checking, AST -> IR.
#pragma once
#include <string>
#include <vector>

#include "ast/ast.h"
#include "diag/diag.h"
#include "ir/ir.h"

namespace ward::sema {

struct Input {
  const ast::File* file;
  std::string module;  // "" for a user file; the module name for `import NAME`
  bool emit = true;    // rules from this file are compiled (false for imports)
  // Byte offsets of syntax errors in this file: a rule containing one is not checked
  // further, because its AST is only what error recovery could salvage.
  std::vector<std::uint32_t> syntax_errors;
};

// Checks every file together (one namespace) and returns the IR of the rules in
// files marked `emit`. Reports every problem to `sink`; the IR is only
// meaningful when the sink has no errors. List files are loaded through `sm` so
// that diagnostics can point into them.
ir::Module analyze(const std::vector<Input>& files, source::SourceManager& sm, diag::Sink& sink);

// A stable GUID for a rule without an explicit id: an RFC 9562 version-8 UUID
// from a 128-bit hash of the rule's name.
std::string derived_rule_id(const std::string& rule_name);

}  // namespace ward::sema
