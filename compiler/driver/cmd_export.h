// `ward compile --target sentinel-yaml|sentinel-arm|sigma`: the export half of the compile
// command, kept out of main.cpp. Diagnostics go to the compilation's sink.
#pragma once
#include <string>
#include <vector>

#include "driver/pipeline.h"

namespace ward::driver {

struct OutputFile {
  std::string name;  // file name inside the output directory; "" for the single output
  std::string text;
};

bool is_export_target(const std::string& target);

// One file per rule when `per_rule` (named <rule>.yaml / .json / .yml), else one output:
// multi-document YAML, or one ARM template holding every rule. Sigma: `allow_lossy` writes
// rules whose Sigma meaning is weaker (stated in their description). Empty when a rule breaks
// a Sentinel limit (the sink says which).
std::vector<OutputFile> export_rules(Compilation& c, const std::string& target, bool per_rule,
                                     bool allow_lossy = false);

// Writes them: `out` a directory (created if missing) when per_rule, else a file or "-".
// Returns 0, or 2 when a file cannot be written.
int write_exports(const std::vector<OutputFile>& files, const std::string& out, bool per_rule);

// -o names a directory: it exists as one, or ends with `/`.
bool output_is_directory(const std::string& out);

}  // namespace ward::driver
