// sim_bench: `ward simulate`'s generator against the cost floor of its own output path.
// Nothing here asserts on timings; it prints what it measured. docs/PERFORMANCE.md explains.
//
//   sim_bench [--users 2000] [--days 3] [--seed 1] [--scenario storm0558] [--dir /tmp/sb]
//             [--rss-users 2000] [--e2e --ward build/ward --rules a.ward b.ward ...]
//
// Every measurement runs in a forked child and is timed by the child's CPU time (user +
// system, from wait4), so other work on a shared machine affects it less than wall time
// (wall time is printed too). Rows/s per core = rows / CPU seconds.
// 1. Generate only (--discard): planning, rendering, labels; nothing written.
// 2. Generate and write JSON Lines (plain, then gzip level 1), rows/s and MB/s; files are written
//    by a second thread (as `ward simulate` does), and, for plain JSON, once more on one thread.
// 3. Baseline in the same run: the same number of bytes of pre-rendered rows (a sample of the
//    rows just written, cycled) written through the same output path (OutFile: the same
//    buffering, files, and gzip level). The ratio sim / baseline is the cost above I/O.
// 4. Peak RSS at 1, 2, 7 and 30 simulated days (--discard), and the resident size after each day
//    of one 30-day run: flat means it stops growing once a day's plan overlaps the next.
// 5. With --e2e: `ward simulate --users 10000 --days 7` then `ward coverage` over the trace,
//    as a user runs them (it takes minutes).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "simulator/output.h"
#include "simulator/scenario.h"
#include "simulator/simulate.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Measured {
  double cpu = 0, wall = 0;
  long rss_kb = 0;
  int status = 0;
  std::uint64_t rows = 0, bytes = 0;
};

// Waits for a child: its wall time since t0, its CPU time (user + system) and peak RSS, its exit
// status (128 when it did not exit).
Measured reap(pid_t pid, Clock::time_point t0) {
  Measured m;
  int st = 0;
  rusage ru{};
  wait4(pid, &st, 0, &ru);
  m.wall = std::chrono::duration<double>(Clock::now() - t0).count();
  m.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  m.rss_kb = ru.ru_maxrss;
  m.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
  return m;
}

// Runs fn in a child process; fn returns {rows, bytes} which come back through a pipe.
Measured in_child(const std::function<std::pair<std::uint64_t, std::uint64_t>()>& fn) {
  int p[2];
  if (pipe(p) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    close(p[0]);
    int rc = 0;
    std::uint64_t out[2] = {0, 0};
    try {
      auto [rows, bytes] = fn();
      out[0] = rows;
      out[1] = bytes;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "sim_bench: %s\n", e.what());
      rc = 1;
    }
    if (write(p[1], out, sizeof out) != static_cast<ssize_t>(sizeof out)) rc = 1;
    close(p[1]);
    _exit(rc);
  }
  close(p[1]);
  std::uint64_t in[2] = {0, 0};
  bool got = read(p[0], in, sizeof in) == static_cast<ssize_t>(sizeof in);
  close(p[0]);
  Measured m = reap(pid, t0);
  if (!got || m.status != 0) m.status = 1;
  m.rows = in[0];
  m.bytes = in[1];
  return m;
}

// Runs a command (argv) as a child process, output to a log file.
Measured run_cmd(const std::vector<std::string>& argv, const std::string& log) {
  auto t0 = Clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    if (f) dup2(fileno(stdout), 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execv(a[0], a.data());
    _exit(127);
  }
  return reap(pid, t0);
}

std::uint64_t dir_bytes(const fs::path& d) {
  std::uint64_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(d))
    if (e.is_regular_file()) n += e.file_size();
  return n;
}

// The baseline: write `bytes` bytes of the rows found in `from` (its TABLE.jsonl files, up to
// 8 MB of each) through OutFile into `to`, one file per table, cycling through the sample.
std::pair<std::uint64_t, std::uint64_t> write_prerendered(const fs::path& from, const fs::path& to, std::uint64_t bytes, bool gzip) {
  std::vector<std::pair<std::string, std::string>> sample;  // table, line with '\n'
  for (auto& e : fs::directory_iterator(from)) {
    if (e.path().extension() != ".jsonl") continue;
    std::ifstream in(e.path());
    std::string line;
    std::uint64_t got = 0;
    while (got < (8u << 20) && std::getline(in, line)) {
      got += line.size() + 1;
      sample.emplace_back(e.path().stem().string(), line + "\n");
    }
  }
  if (sample.empty()) throw std::runtime_error("no rows to sample in " + from.string());
  // interleave tables as the generator does (it writes rows in time order across tables)
  std::vector<std::size_t> order(sample.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = (i * 7919) % order.size();
  fs::create_directories(to);
  std::map<std::string, std::unique_ptr<ward::sim::OutFile>> files;
  std::uint64_t written = 0, rows = 0;
  for (std::size_t k = 0; written < bytes; ++k) {
    auto& [table, line] = sample[order[k % order.size()]];
    auto& f = files[table];
    if (!f) f = std::make_unique<ward::sim::OutFile>((to / (table + (gzip ? ".jsonl.gz" : ".jsonl"))).string(), gzip);
    f->write(line);
    written += line.size();
    ++rows;
  }
  for (auto& [_, f] : files) f->close();
  return {rows, written};
}

void usage() {
  std::fprintf(stderr,
               "usage: sim_bench [--users N] [--days D] [--seed S] [--scenario NAME] [--dir DIR] [--rss-users N]\n"
               "                 [--e2e --ward PATH --rules FILE...]\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  int users = 2000, days = 3, rss_users = 2000;
  std::uint64_t seed = 1;
  std::string scenario = "storm0558", dir, ward;
  bool e2e = false;
  std::vector<std::string> rules;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) usage();
      return argv[++i];
    };
    if (a == "--users") users = std::atoi(next().c_str());
    else if (a == "--days") days = std::atoi(next().c_str());
    else if (a == "--seed") seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--scenario") scenario = next();
    else if (a == "--dir") dir = next();
    else if (a == "--rss-users") rss_users = std::atoi(next().c_str());
    else if (a == "--e2e") e2e = true;
    else if (a == "--ward") ward = next();
    else if (a == "--rules") {
      while (i + 1 < argc && argv[i + 1][0] != '-') rules.push_back(argv[++i]);
    } else usage();
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    char tmpl[] = "/tmp/sim_bench.XXXXXX";
    if (!mkdtemp(tmpl)) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  const fs::path root(dir);
  int failures = 0;
  ward::sim::Scenario sc;
  try {
    sc = ward::sim::load_scenario(scenario);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sim_bench: %s\n", e.what());
    return 2;
  }
  auto sim = [&](int u, int d, bool discard, bool gzip, const fs::path& out, bool writer_thread = true) {
    return in_child([=, &sc] {
      ward::sim::SimOptions o;
      o.users = u;
      o.days = d;
      o.seed = seed;
      o.discard = discard;
      o.gzip = gzip;
      o.writer_thread = writer_thread;
      if (!discard) o.out = out.string();
      auto st = ward::sim::simulate(sc, o);
      return std::pair<std::uint64_t, std::uint64_t>{st.rows, st.bytes};
    });
  };
  auto line = [](const char* what, const Measured& m) {
    double mb = static_cast<double>(m.bytes) / 1e6;
    std::printf("  %-40s %9llu rows %8.1f MB  cpu %6.2f s  wall %6.2f s  %8.0f rows/s/core  %7.1f MB/s/core  %8.0f rows/s wall"
                "  peak RSS %6.1f MiB\n",
                what, static_cast<unsigned long long>(m.rows), mb, m.cpu, m.wall, m.cpu > 0 ? static_cast<double>(m.rows) / m.cpu : 0.0,
                m.cpu > 0 ? mb / m.cpu : 0.0, m.wall > 0 ? static_cast<double>(m.rows) / m.wall : 0.0, static_cast<double>(m.rss_kb) / 1024);
  };
  std::printf("sim_bench: scenario %s, %d users x %d days, seed %llu; CPU time (user+sys) of a child process per line\n",
              scenario.c_str(), users, days, static_cast<unsigned long long>(seed));

  // 1-3: generate only; write plain and gzip, each against its baseline
  Measured gen = sim(users, days, true, false, {});
  line("generate only (--discard)", gen);
  for (bool gz : {false, true}) {
    fs::path out = root / (gz ? "sim-gz" : "sim"), base = root / (gz ? "base-gz" : "base");
    Measured w = sim(users, days, false, gz, out);
    w.bytes = dir_bytes(out);  // what reached the disk (compressed, for gzip)
    std::uint64_t logical = 0;
    {
      // the bytes the generator produced (uncompressed): rows + labels, from a plain run's files
      fs::path plain = root / "sim";
      logical = dir_bytes(plain);
    }
    line(gz ? "generate + write gzip (level 1)" : "generate + write JSON Lines", w);
    if (!gz) {  // the same on one thread: rendering and the kernel's writes take turns
      fs::path one = root / "sim-one";
      Measured w1 = sim(users, days, false, false, one, false);
      w1.bytes = dir_bytes(one);
      line("generate + write, one thread", w1);
      if (w1.status) ++failures;
      fs::remove_all(one);
    }
    Measured b = in_child([&, gz] { return write_prerendered(root / "sim", base, logical, gz); });
    b.bytes = dir_bytes(base);
    line(gz ? "baseline: pre-rendered rows, gzip" : "baseline: pre-rendered rows, plain", b);
    if (w.status || b.status) ++failures;
    else
      std::printf("  => %s: the generator costs %.2fx the cost floor of writing the same %.1f MB (%.0f%% of its time above I/O)\n",
                  gz ? "gzip" : "plain", w.cpu / b.cpu, static_cast<double>(logical) / 1e6, 100.0 * (w.cpu - b.cpu) / w.cpu);
    fs::remove_all(base);
    if (gz) fs::remove_all(out);
  }
  fs::remove_all(root / "sim");
  if (gen.status) ++failures;

  // 4: memory: peak RSS of runs of 1, 2, 7 and 30 days, and the resident size after each day of
  // one 30-day run (read from /proc/self/statm in the child as it goes)
  Measured r1 = sim(rss_users, 1, true, false, {});
  char what[64];
  std::snprintf(what, sizeof what, "memory: %d users x 1 day", rss_users);
  line(what, r1);
  Measured r30;
  for (int d : {2, 7, 30}) {
    Measured r = sim(rss_users, d, true, false, {});
    std::snprintf(what, sizeof what, "memory: %d users x %d days", rss_users, d);
    line(what, r);
    if (r.status) ++failures;
    if (d == 30) r30 = r;
  }
  std::printf("  => peak RSS 30 days / 1 day = %.2f (flat: about 1)\n", static_cast<double>(r30.rss_kb) / static_cast<double>(r1.rss_kb));
  std::printf("  resident size after each simulated day of one 30-day run (MiB):\n   ");
  std::fflush(stdout);
  Measured series = in_child([=, &sc] {
    ward::sim::SimOptions o;
    o.users = rss_users;
    o.days = 30;
    o.seed = seed;
    o.discard = true;
    long page = sysconf(_SC_PAGESIZE);
    o.progress = [page](int day, int, std::uint64_t) {
      long size = 0, resident = 0;
      if (FILE* f = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
        std::fclose(f);
      }
      static int last = 0;
      if (day == last) return;  // the last call repeats the last day (its plan reaches past it)
      last = day;
      std::printf(" %d:%.1f", day, static_cast<double>(resident * page) / (1 << 20));
      if (day % 10 == 0) std::printf("\n   ");
      std::fflush(stdout);
    };
    auto st = ward::sim::simulate(sc, o);
    return std::pair<std::uint64_t, std::uint64_t>{st.rows, st.bytes};
  });
  std::printf("\n");
  if (r1.status || series.status) ++failures;

  // 5: end to end
  if (e2e) {
    if (ward.empty() || rules.empty()) usage();
    fs::path trace = root / "e2e";
    std::printf("end to end: ward simulate --scenario %s --users 10000 --days 7, then ward coverage over the trace (%zu rule files)\n",
                scenario.c_str(), rules.size());
    Measured s = run_cmd({ward, "simulate", "-q", "--scenario", scenario, "--users", "10000", "--days", "7", "--seed", std::to_string(seed),
                          "--out", trace.string()},
                         (root / "e2e-simulate.log").string());
    std::uint64_t b = s.status == 0 ? dir_bytes(trace) : 0;
    std::printf("  ward simulate   exit %d  wall %7.1f s  cpu %7.1f s  peak RSS %6.1f MiB  %.2f GB written\n", s.status, s.wall, s.cpu,
                static_cast<double>(s.rss_kb) / 1024, static_cast<double>(b) / 1e9);
    std::vector<std::string> cov = {ward, "coverage", "--events", trace.string(), "--json", (root / "e2e-coverage.json").string(), "--rules"};
    cov.insert(cov.end(), rules.begin(), rules.end());
    Measured c = run_cmd(cov, (root / "e2e-coverage.log").string());
    std::printf("  ward coverage   exit %d  wall %7.1f s  cpu %7.1f s  peak RSS %6.1f MiB\n", c.status, c.wall, c.cpu,
                static_cast<double>(c.rss_kb) / 1024);
    std::printf("  => simulate | coverage, 10,000 users x 7 days: %.1f s wall, %.1f s CPU\n", s.wall + c.wall, s.cpu + c.cpu);
    if (s.status || c.status) {
      std::printf("  (logs in %s)\n", root.c_str());
      ++failures;
      own_dir = false;
    }
    if (own_dir) fs::remove_all(trace);
  }
  if (own_dir) fs::remove_all(root);
  return failures ? 1 : 0;
}
