// Sigma import: Sigma rules (detection rules and correlation rules, multi-document YAML) read
// into Ward source text, the inverse of the Sigma backend (sigma.h). Whatever Ward cannot state
// exactly is a diagnostic at the YAML node's line and column: an error when the rule cannot be
// written, a named warning when the Ward rule is written with a stated difference.
// docs/sigma.md ("Importing Sigma") has the mapping.
#pragma once
#include <string>
#include <vector>

#include "diag/diag.h"
#include "ir/ir.h"
#include "source/source.h"

namespace ward::backend::sigma {

struct ImportedRule {
  std::string name;  // the Ward rule's name
  std::string text;  // its `rule NAME { ... }` block
  bool custom_table = false;  // reads a Ward-defined table (needs `import token_validation`)
};

// Every rule in one Sigma YAML file (already in the source manager). A rule with an error is
// left out; the sink says why. With a catalog (the `sentinel` schema module), fields are checked
// against the table's columns and values typed by them (ResultType: 53003 is the text "53003").
std::vector<ImportedRule> import_file(const source::SourceManager& sm, source::FileId file, diag::Sink& sink,
                                      const ir::Catalog* catalog = nullptr);

// A whole Ward source file for the rules (`import sentinel`, `import token_validation` when a rule
// reads a Ward-defined table, and the rule blocks).
std::string ward_source(const std::vector<ImportedRule>& rules, const std::string& from);

// `ward import-sigma FILES... [-o DIR]`: one `<stem>.ward` per input in DIR, or all on stdout.
// Exit code 0, 1 when a rule had an error, 2 when a file cannot be read or written.
int import_command(const std::vector<std::string>& files, const std::string& out_dir, const std::string& diag_format);

}  // namespace ward::backend::sigma
