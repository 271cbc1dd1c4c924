// `ward coverage` on the command line (registered by compiler/driver/main.cpp).
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/eval.h"

namespace ward::sim {

struct CoverageCli;
CoverageCli* add_coverage(CLI::App& app);
bool coverage_selected(const CoverageCli* cli);
// The driver's own rule loader (rule files or a bundle); sets rc on failure.
using RuleLoader = std::function<std::unique_ptr<vm::Image>(const std::vector<std::string>& files, int& rc)>;
int run_coverage(const CoverageCli* cli, const RuleLoader& load);

}  // namespace ward::sim
