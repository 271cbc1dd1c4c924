// `ward test [PATHS]`: runs the `test` blocks of rule files — replays the scenario or trace each
// names, checks its expectations and the rule's expected alerts — and prints a coverage summary.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "runtime/eval.h"

namespace ward::sim {

struct CompiledRules {
  std::unique_ptr<driver::Compilation> compilation;  // the module (its rules and tests) and sources
  std::unique_ptr<vm::Image> image;                  // the same rules as bytecode, verified
};
// The driver's compiler: prints diagnostics, sets rc (1 rule errors, 2 input errors) on failure.
using TestLoader = std::function<CompiledRules(const std::vector<std::string>& files, int& rc)>;

struct TestCli;
TestCli* add_test_command(CLI::App& app);
bool test_selected(const TestCli* cli);
int run_tests(const TestCli* cli, const TestLoader& load);

// The expected-alerts file of a test: RULEDIR/tests/RULE/SLUG.alerts.jsonl, SLUG being the
// test's name in lower case with every run of other characters than [a-z0-9] made one '-'.
std::string expected_alerts_path(const std::string& rule_file, const std::string& rule, const std::string& test);

}  // namespace ward::sim
