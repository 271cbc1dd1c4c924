#include "simulator/cli.h"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>

#include "simulator/scenario.h"
#include "simulator/simulate.h"

namespace ward::sim {

struct SimulateCli {
  CLI::App* cmd = nullptr;
  std::string scenario;
  std::vector<std::string> set;
  SimOptions opt;
  long long seed = 1;
  bool stats = false;
  bool quiet = false;
};

SimulateCli* add_simulate(CLI::App& app) {
  static std::vector<std::unique_ptr<SimulateCli>> keep;  // one per App, lives to exit
  keep.push_back(std::make_unique<SimulateCli>());
  SimulateCli* c = keep.back().get();
  c->cmd = app.add_subcommand("simulate", "generate a labelled synthetic tenant with benign traffic and a campaign, as JSON Lines per table");
  c->cmd->add_option("--scenario,-s", c->scenario, "a scenario name (simulator/scenarios/NAME.yaml) or a YAML file")->required();
  c->cmd->add_option("--set", c->set, "override a scenario knob, e.g. --set campaign.infrastructure=fresh (repeatable)");
  c->cmd->add_option("--users,-u", c->opt.users, "users in the tenant, 10..100000 (default 200)");
  c->cmd->add_option("--days,-d", c->opt.days, "days to simulate (default 7)");
  c->cmd->add_option("--seed", c->seed, "seed (default 1): same seed and scenario, same bytes");
  c->cmd->add_option("--out,-o", c->opt.out, "output directory: TABLE.jsonl per table, labels/labels.jsonl");
  c->cmd->add_option("--labels", c->opt.labels, "labels file (default OUT/labels/labels.jsonl)");
  c->cmd->add_flag("--gzip", c->opt.gzip, "write TABLE.jsonl.gz");
  c->cmd->add_option("--start", c->opt.start, "first day YYYY-MM-DD (default: the scenario's start)");
  c->cmd->add_flag("--discard", c->opt.discard, "generate and count but write nothing (benchmarks)");
  c->cmd->add_flag("--stats", c->stats, "print rows, bytes, rows/s and peak RSS as JSON on stdout");
  c->cmd->add_flag("--quiet,-q", c->quiet, "no summary on stderr");
  return c;
}

bool simulate_selected(const SimulateCli* c) { return c && c->cmd && c->cmd->parsed(); }

int run_simulate(const SimulateCli* c) {
  Scenario sc;
  try {
    sc = load_scenario(c->scenario, c->set);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  SimOptions opt = c->opt;
  opt.seed = static_cast<std::uint64_t>(c->seed);
  bool tty = isatty(STDERR_FILENO) && !c->quiet;
  if (tty)
    opt.progress = [](int day, int days, std::uint64_t rows) {
      std::fprintf(stderr, "\r  day %d/%d, %llu rows", day, days, static_cast<unsigned long long>(rows));
      std::fflush(stderr);
    };
  auto t0 = std::chrono::steady_clock::now();
  SimStats st;
  try {
    st = simulate(sc, opt);
  } catch (const std::exception& e) {
    if (tty) std::fprintf(stderr, "\n");
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (tty) std::fprintf(stderr, "\n");
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  if (!c->quiet) {
    std::fprintf(stderr, "simulated %s: %d users x %d days, seed %lld: %llu rows (%llu malicious), %.1f MB in %.2f s (%.0f rows/s)\n",
                 sc.name.c_str(), opt.users, opt.days, c->seed, static_cast<unsigned long long>(st.rows),
                 static_cast<unsigned long long>(st.malicious), static_cast<double>(st.bytes) / 1e6, secs,
                 secs > 0 ? static_cast<double>(st.rows) / secs : 0.0);
    for (auto& [t, n] : st.per_table) std::fprintf(stderr, "  %-34s %llu\n", t.c_str(), static_cast<unsigned long long>(n));
    for (auto& [s, n] : st.per_step) std::fprintf(stderr, "  campaign step %-20s %llu\n", s.c_str(), static_cast<unsigned long long>(n));
  }
  if (c->stats) {
    std::printf("{\"rows\":%llu,\"malicious\":%llu,\"bytes\":%llu,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"peak_rss_kb\":%ld,\"peak_pending\":%zu}\n",
                static_cast<unsigned long long>(st.rows), static_cast<unsigned long long>(st.malicious),
                static_cast<unsigned long long>(st.bytes), secs, secs > 0 ? static_cast<double>(st.rows) / secs : 0.0,
                ru.ru_maxrss, st.peak_pending);
  }
  return 0;
}

}  // namespace ward::sim
