// The compilation pipeline, assembled in one place: load files and their imports,
// parse, analyse, run IR passes. Backends are called by the commands.
#pragma once
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "ast/ast.h"
#include "diag/diag.h"
#include "ir/ir.h"
#include "source/source.h"

namespace ward::driver {

struct Options {
  std::vector<std::string> schema_dirs;  // where `import NAME` looks; default: search_path()
  std::set<std::string> disabled_passes;
};

struct Compilation {
  source::SourceManager sm;
  diag::Sink sink;
  std::vector<std::unique_ptr<ast::File>> files;
  ir::Module module;
  bool input_error = false;  // a file named on the command line could not be read
};

// The default schema search path: $WARD_SCHEMA_PATH (colon-separated), then the
// source tree's rules/schemas, then <exe>/../share/ward/schemas.
std::vector<std::string> search_path();

void compile(const std::vector<std::string>& paths, const Options& opt, Compilation& c);

}  // namespace ward::driver
