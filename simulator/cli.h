// `ward simulate` on the command line (registered by compiler/driver/main.cpp).
#pragma once
#include <CLI/CLI.hpp>

namespace ward::sim {

struct SimulateCli;
// Adds the subcommand; returns a handle for run_simulate. The handle lives as long as `app`.
SimulateCli* add_simulate(CLI::App& app);
bool simulate_selected(const SimulateCli* cli);
int run_simulate(const SimulateCli* cli);

}  // namespace ward::sim
