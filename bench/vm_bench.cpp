// vm_bench: the Ward VM against a parse-only baseline, on generated Sentinel-shaped exports.
// Nothing here asserts on timings; it prints what it measured. docs/PERFORMANCE.md explains.
//
//   vm_bench --ward build/ward --dir /tmp/wb [--gb 1] [--state-events 2000000] [--flat-events 1000000] [--keep]
//
// 1. Throughput: 50 generated rules (30 single-event, 8 thresholds, 4 sequences, 4 joins,
//    4 absences) over a JSON Lines export of SigninLogs and OfficeActivity rows with the
//    columns of their schemas (about half of the unread ones present, ~2 KB a row), through
//    `ward run` as a user runs it, against the baseline: simdjson On-Demand reading the same
//    columns of every line (the keys, `Type`, and the decoded value of `TimeGenerated` and of
//    every column a rule reads: strings unescaped, numbers parsed, objects as JSON text).
//    `ward run` decodes each file on a reader thread while the engine runs the rules, so
//    its throughput (wall time) is the target's measure and CPU time is its cost per core;
//    both are printed. On a machine shared with other work, wall times are noisy.
// 2. Correlation state: one rule per shape (count and dcount thresholds, a sequence, an
//    absence) at 1k, 100k and 1M distinct keys, every key live for the whole trace.
// 3. Memory with trace length: a threshold over 100k keys, the trace 10x longer at the same rate.
// 4. Bundle load: 1,000 rules, read + checksum + verify + image (regexes, sets) in-process.
#include <fcntl.h>
#include <fmt/format.h>
#include <simdjson.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "runtime/bundle.h"
#include "runtime/eval.h"
#include "simulator/rng.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

using ward::sim::Rng;  // the simulator's seeded generator (simulator/rng.h)

// ---- rules ----

const char* kPrelude = R"(import sentinel
list Hosting: cidr = [203.0.113.0/24, 198.51.100.0/24, 2001:db8:10::/48]
list Iocs: ip = [203.0.113.7, 203.0.113.9, 198.51.100.23]
list FirstParty: string = ["00000002-0000-0ff1-ce00-000000000000", "d3590ed6-52b3-4102-aeff-aad2292ab01c", "27922004-5251-4030-b22d-91ecd9a37ea4"]
)";

std::string meta(const std::string& what) {
  return fmt::format("  meta {{ title = \"{}\" description = \"Benchmark rule: {}.\" severity = medium }}\n", what, what);
}

// Rule `i` of a library: the 50-rule mix repeated with other constants. Like a real library,
// each rule matches a small share of the rows and alerts on fewer (the run prints how many).
std::string rule(int i) {
  int k = i % 50, v = i / 50;
  std::string name = fmt::format("r{:04}", i), out = "rule " + name + " {\n";
  static const char* codes[] = {"50126", "50053", "50074", "53003", "0"};
  static const char* apps[] = {"Office 365 Exchange Online", "Microsoft Teams", "Azure Portal", "OneDrive"};
  static const char* uas[] = {"python-requests", "curl", "Go-http-client", "okhttp", "PowerShell"};
  std::string code = codes[(k + v) % 5], app = apps[(k + v) % 4], ua = uas[(k + v) % 5];
  std::string failure = codes[(k + v) % 4];  // never "0": correlations start from failed sign-ins
  if (k < 30) {  // single-event
    out += meta("single " + std::to_string(k));
    switch (k % 6) {
      case 0: out += fmt::format("  events {{ $s = SigninLogs where ResultType == \"{}\" and AppDisplayName =~ \"{}\" and UserAgent has \"python-requests\" }}\n", code, app); break;
      case 1: out += fmt::format("  events {{ $s = SigninLogs where UserAgent has \"{}\" and tostring(LocationDetails.countryOrRegion) != \"US\" }}\n", ua); break;
      case 2: out += "  events { $m = OfficeActivity where Operation == \"MailItemsAccessed\" and ClientIP in cidr Hosting }\n"; break;
      case 3: out += fmt::format("  events {{ $m = OfficeActivity where ClientInfoString startswith \"Client=REST\" and UserId endswith \"@fabrikam{}.com\" }}\n", v); break;
      case 4: out += "  events { $s = SigninLogs where IPAddress in Iocs or (RiskLevelDuringSignIn == \"high\" and ResultType != \"0\") }\n"; break;
      default: out += fmt::format("  events {{ $m = OfficeActivity where Operation == \"MailItemsAccessed\" and AppId !in~ FirstParty and ExternalAccess == \"{}\" }}\n", v % 2 ? "True" : "False"); break;
    }
  } else if (k < 38) {  // thresholds
    out += meta("threshold " + std::to_string(k));
    if (k % 2) {
      out += "  events { $m = OfficeActivity where Operation == \"MailItemsAccessed\" }\n";
      out += fmt::format("  condition count($m) >= {} by $m.ClientIP within 10m\n  outcome {{ ip = $m.ClientIP  n = count($m) }}\n", 40 + k + v);
    } else {
      out += fmt::format("  events {{ $s = SigninLogs where ResultType == \"{}\" }}\n", failure);
      out += fmt::format("  condition dcount($s.IPAddress) >= {} by $s.UserPrincipalName within 1h\n  outcome {{ user = $s.UserPrincipalName  ips = dcount($s.IPAddress) }}\n", 4 + k % 3);
    }
  } else if (k < 42) {  // sequences
    out += meta("sequence " + std::to_string(k));
    out += fmt::format("  events {{\n    $a = SigninLogs where ResultType == \"{}\"\n    $b = OfficeActivity where Operation == \"MailItemsAccessed\"\n  }}\n", failure);
    out += "  condition sequence $a then $b by $a.UserPrincipalName = $b.UserId within 30m\n  outcome { user = $b.UserId  ip = $b.ClientIP }\n";
  } else if (k < 46) {  // joins
    out += meta("join " + std::to_string(k));
    out += "  events {\n    $a = OfficeActivity where Operation == \"MailItemsAccessed\" and ClientIP in cidr Hosting\n"
           "    $b = OfficeActivity where Operation == \"MailItemsAccessed\" and ClientIP !in cidr Hosting\n  }\n";
    out += "  condition $a and $b by $a.MailboxOwnerUPN = $b.MailboxOwnerUPN within 15m\n  outcome { mailbox = $a.MailboxOwnerUPN }\n";
  } else {  // absences
    out += meta("absence " + std::to_string(k));
    out += fmt::format("  events {{\n    $m = OfficeActivity where Operation == \"MailItemsAccessed\" and ClientInfoString has \"{}\" and AppId !in~ FirstParty\n"
                       "    $s = SigninLogs where ResultType == \"0\"\n  }}\n", k % 2 ? "OWA" : "REST");
    out += "  condition $m and not $s by $m.UserId = $s.UserPrincipalName within 1d before $m\n"
           "  outcome { user = $m.UserId  ip = $m.ClientIP }\n";
  }
  return out + "}\n\n";
}

void write_file(const fs::path& p, const std::string& s) {
  std::ofstream o(p, std::ios::binary);
  o << s;
}

// ---- rows ----

// Realistic values for the columns rules read and the columns every export has; short
// plausible text elsewhere, so that a row is the size of a real one (~2 KB).
struct RowGen {
  const ward::ir::Table& signin;
  const ward::ir::Table& office;
  Rng rng{42};
  std::uint64_t users = 2'000, ips = 5'000;  // each user signs in about hourly

  std::string user(std::uint64_t u) { return fmt::format("user{}@contoso.com", u); }
  std::string ip(std::uint64_t k) {
    if (k % 997 == 0) return fmt::format("203.0.113.{}", k % 256);  // a handful of hosting addresses
    return fmt::format("10.{}.{}.{}", (k >> 16) & 255, (k >> 8) & 255, k & 255);
  }
  static std::string q(std::string_view s) { return fmt::format("\"{}\"", s); }

  std::string value(const ward::ir::Column& c, std::uint64_t u, const std::string& time) {
    using T = ward::ir::Type;
    const std::string& n = c.name;
    if (n == "UserPrincipalName" || n == "UserId" || n == "MailboxOwnerUPN" || n == "AlternateSignInName") return q(user(u));
    if (n == "IPAddress" || n == "ClientIP" || n == "ClientIPAddress") return q(ip(rng.below(ips)));
    if (n == "ResultType") return q(rng.chance(0.9) ? "0" : "50126");
    if (n == "Operation") return q(rng.chance(0.7) ? "MailItemsAccessed" : rng.chance(0.5) ? "Send" : "FileAccessed");
    if (n == "AppDisplayName") return q(rng.chance(0.6) ? "Office 365 Exchange Online" : "Microsoft Teams");
    if (n == "UserAgent") return q(rng.chance(0.97) ? "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43" : "python-requests/2.31.0");
    if (n == "ClientInfoString") return q(rng.chance(0.8) ? "Client=OWA;Action=ViaProxy" : "Client=REST;Client=RESTSystem;;");
    if (n == "AppId") return q(rng.chance(0.9) ? "00000002-0000-0ff1-ce00-000000000000" : "a9b49b8e-5c5b-4a43-a1cf-8f8b3e7f4a11");
    if (n == "RiskLevelDuringSignIn") return q(rng.chance(0.98) ? "none" : "high");
    if (n == "LocationDetails") return R"({"city":"Redmond","state":"Washington","countryOrRegion":"US","geoCoordinates":{"latitude":47.68,"longitude":-122.12}})";
    if (n == "DeviceDetail") return R"({"deviceId":"","displayName":"","operatingSystem":"Windows 10","browser":"Edge 114.0.1823","isCompliant":false,"isManaged":false,"trustType":""})";
    switch (c.type) {
      case T::Bool: return rng.chance(0.5) ? "true" : "false";
      case T::Int: case T::Long: return std::to_string(rng.below(1000));
      case T::Real: return fmt::format("{}.{}", rng.below(100), rng.below(10));
      case T::Datetime: return q(time);
      case T::Timespan: return q("00:00:01");
      case T::Guid: return q(fmt::format("{:08x}-6c67-4c5b-b112-36a304b66dad", rng.below(1u << 30)));
      case T::Dynamic: return rng.chance(0.5) ? R"({"k":"v","n":1})" : "[]";
      default: return q(fmt::format("{}-{}", n.substr(0, 6), rng.below(100)));
    }
  }

  void row(std::string& out, bool sign_in, std::int64_t ticks) {
    std::uint64_t u = rng.below(users);
    std::string time = ward::format_datetime(ticks);
    const auto& t = sign_in ? signin : office;
    out += fmt::format("{{\"Type\":\"{}\",\"TimeGenerated\":\"{}\"", t.name, time);
    // Exports leave out empty columns: about half of the others are absent from a row, which
    // brings a row to the ~2 KB of a real one.
    static const std::set<std::string> always = {"UserPrincipalName", "UserId", "MailboxOwnerUPN", "IPAddress", "ClientIP",
                                                  "ResultType", "Operation", "AppDisplayName", "UserAgent", "ClientInfoString",
                                                  "AppId", "RiskLevelDuringSignIn", "LocationDetails", "DeviceDetail"};
    for (const auto& c : t.columns) {
      if (c.name == "TimeGenerated" || c.name == "Type") continue;
      if (!always.count(c.name) && rng.chance(0.55)) continue;
      out += fmt::format(",\"{}\":{}", c.name, value(c, u, time));
    }
    out += "}\n";
  }
};

// ---- the baseline ----

namespace ond = simdjson::ondemand;

// What ward run's reader does for each line minus running rules: iterate the keys, take
// `Type`, and decode `TimeGenerated`'s string and the value of each read column.
struct Baseline {
  std::uint64_t lines = 0, bytes_seen = 0;
  double seconds = 0, cpu = 0;
};

double cpu_self() {
  struct rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

Baseline parse_only(const fs::path& file, const std::set<std::string, std::less<>>& columns) {
  Baseline b;
  auto t0 = Clock::now();
  double c0 = cpu_self();
  int fd = ::open(file.c_str(), O_RDONLY);
  std::string buf, padded;
  std::vector<char> chunk(1 << 20);
  ond::parser parser;
  std::size_t pos = 0;
  auto handle = [&](std::string_view ln) {
    ++b.lines;
    padded.resize(ln.size() + simdjson::SIMDJSON_PADDING);
    std::memcpy(padded.data(), ln.data(), ln.size());
    std::memset(padded.data() + ln.size(), 0, simdjson::SIMDJSON_PADDING);
    ond::document d;
    ond::object obj;
    if (parser.iterate(padded.data(), ln.size(), padded.size()).get(d) || d.get_object().get(obj)) return;
    for (auto field : obj) {
      std::string_view key;
      ond::value v;
      if (field.unescaped_key().get(key) || field.value().get(v)) return;
      if (key == "Type") {
        std::string_view t;
        if (!v.get_string().get(t)) b.bytes_seen += t.size();
        continue;
      }
      if (key != "TimeGenerated" && !columns.count(key)) continue;
      ond::json_type jt;
      if (v.type().get(jt)) return;
      // The value, decoded as a reader must: strings unescaped, numbers parsed, objects and
      // arrays as their JSON text (what ward keeps of them until a rule reads inside).
      std::string_view raw;
      switch (jt) {
        case ond::json_type::object: {
          ond::object o;
          if (v.get_object().get(o) || o.raw_json().get(raw)) return;
          b.bytes_seen += raw.size();
          break;
        }
        case ond::json_type::array: {
          ond::array a;
          if (v.get_array().get(a) || a.raw_json().get(raw)) return;
          b.bytes_seen += raw.size();
          break;
        }
        case ond::json_type::string:
          if (v.get_string().get(raw)) return;
          b.bytes_seen += raw.size();
          break;
        case ond::json_type::number: {
          double x = 0;
          if (v.get_double().get(x)) return;
          b.bytes_seen += static_cast<std::uint64_t>(x != 0);
          break;
        }
        case ond::json_type::boolean: {
          bool x = false;
          if (v.get_bool().get(x)) return;
          b.bytes_seen += x;
          break;
        }
        default: break;  // null
      }
    }
  };
  for (;;) {
    ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n <= 0) break;
    buf.erase(0, pos);
    pos = 0;
    buf.append(chunk.data(), static_cast<std::size_t>(n));
    for (std::size_t nl; (nl = buf.find('\n', pos)) != std::string::npos; pos = nl + 1)
      handle(std::string_view(buf.data() + pos, nl - pos));
  }
  if (pos < buf.size()) handle(std::string_view(buf.data() + pos, buf.size() - pos));
  ::close(fd);
  b.seconds = seconds_since(t0);
  b.cpu = cpu_self() - c0;
  return b;
}

// ---- ward run as a child process ----

struct Child {
  double wall = 0, cpu = 0;
  long max_rss_kb = 0;
  int status = 0;
  std::string summary;  // --summary-json
  // CPU time (user + system) of the child's main thread (the engine) and of its busiest other
  // thread (the reader), sampled from /proc/PID/task/*/stat while it runs: a thread's last
  // sample is at most one poll before it ends. Zero where /proc is not readable.
  double main_cpu = 0, other_cpu = 0;
};

// utime + stime of every thread of `pid`, in clock ticks, into `ticks` (by thread id; a
// thread keeps its largest reading, so one that has ended keeps its last).
void sample_threads(pid_t pid, std::map<long, long>& ticks) {
  std::error_code ec;
  for (const auto& t : fs::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
    std::ifstream in(t.path() / "stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    auto close = line.rfind(')');  // the name may hold spaces; the fields after it do not
    if (close == std::string::npos) continue;
    std::istringstream f(line.substr(close + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; f >> field; ++i) {  // field 3 is the state; 14 and 15 are utime, stime
      if (i == 14) utime = std::atol(field.c_str());
      if (i == 15) {
        stime = std::atol(field.c_str());
        break;
      }
    }
    long tid = std::atol(t.path().filename().c_str());
    auto& v = ticks[tid];
    v = std::max(v, utime + stime);
  }
}

// `feed`, if given, fills a chunk of standard input for the child and returns false at the end.
Child run_ward(const std::vector<std::string>& args, const fs::path& summary,
               const std::function<bool(std::string&)>* feed = nullptr) {
  Child r;
  int pipefd[2] = {-1, -1};
  if (feed && ::pipe(pipefd) != 0) return r;
  auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (feed) {
      ::dup2(pipefd[0], 0);
      ::close(pipefd[0]);
      ::close(pipefd[1]);
    }
    int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (feed) {
    ::close(pipefd[0]);
    std::string chunk;
    while ((*feed)(chunk)) {
      const char* p = chunk.data();
      std::size_t left = chunk.size();
      while (left) {
        ssize_t w = ::write(pipefd[1], p, left);
        if (w <= 0) break;
        p += w, left -= static_cast<std::size_t>(w);
      }
      chunk.clear();
    }
    ::close(pipefd[1]);
  }
  struct rusage ru{};
  std::map<long, long> ticks;
  while (::wait4(pid, &r.status, WNOHANG, &ru) == 0) {
    sample_threads(pid, ticks);
    ::usleep(2000);
  }
  r.wall = seconds_since(t0);
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  for (auto [tid, n] : ticks) {
    if (tid == pid) r.main_cpu = static_cast<double>(n) / hz;
    else r.other_cpu = std::max(r.other_cpu, static_cast<double>(n) / hz);
  }
  r.cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  r.max_rss_kb = ru.ru_maxrss;
  std::ifstream in(summary);
  std::stringstream ss;
  ss << in.rdbuf();
  r.summary = ss.str();
  return r;
}

long json_number(const std::string& j, const std::string& key) {
  auto p = j.find("\"" + key + "\":");
  return p == std::string::npos ? -1 : std::atol(j.c_str() + p + key.size() + 3);
}
// The sum of every `"key":N` in the summary (per-rule figures).
long json_sum(const std::string& j, const std::string& key) {
  long sum = 0;
  std::string pat = "\"" + key + "\":";
  for (auto p = j.find(pat); p != std::string::npos; p = j.find(pat, p + 1)) sum += std::atol(j.c_str() + p + pat.size());
  return sum;
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "vm_bench: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string ward, dir = "/tmp/ward-vm-bench";
  double gb = 1.0;
  long state_events = 2'000'000, flat_events = 1'000'000;
  bool keep = false;  // --keep: leave DIR/export.jsonl for profiling
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--keep") { keep = true; --i; continue; }
    if (i + 1 >= argc) return fail("option " + a + " needs a value");
    std::string v = argv[i + 1];
    if (a == "--ward") ward = fs::absolute(v).string();
    else if (a == "--dir") dir = v;
    else if (a == "--gb") gb = std::atof(v.c_str());
    else if (a == "--state-events") state_events = std::atol(v.c_str());
    else if (a == "--flat-events") flat_events = std::atol(v.c_str());
    else return fail("unknown option " + a);
  }
  if (ward.empty()) return fail("usage: vm_bench --ward PATH [--dir DIR] [--gb N] [--state-events N] [--flat-events N]");
  fs::create_directories(dir);
  const fs::path d(dir);

  // The tables' real columns, from the shipped schemas.
  write_file(d / "schema.ward", "import sentinel\n");
  ward::driver::Compilation cat;
  ward::driver::compile({(d / "schema.ward").string()}, {}, cat);
  const auto* signin = cat.module.catalog.find("SigninLogs");
  const auto* office = cat.module.catalog.find("OfficeActivity");
  if (!signin || !office) return fail("the sentinel schema module has no SigninLogs/OfficeActivity");

  std::printf("# Ward VM benchmark\n\n");

  // ---- 1. throughput ----
  std::string lib = kPrelude;
  for (int i = 0; i < 50; ++i) lib += rule(i);
  write_file(d / "rules50.ward", lib);
  fs::path bundle = d / "rules50.wardc";
  {
    Child c = run_ward({ward, "compile", "--target", "bytecode", (d / "rules50.ward").string(), "-o", bundle.string()}, d / "none");
    if (c.status != 0) return fail("the 50 benchmark rules do not compile (ward check " + (d / "rules50.ward").string() + ")");
  }
  // Columns the rules read (from the IR), for the baseline.
  std::set<std::string, std::less<>> read_columns;
  {
    ward::driver::Compilation c;
    ward::driver::compile({(d / "rules50.ward").string()}, {}, c);
    std::function<void(const ward::ir::Rule&, const ward::ir::Expr&)> walk = [&](const ward::ir::Rule& r, const ward::ir::Expr& e) {
      if (e.kind == ward::ir::Expr::Kind::Column)
        read_columns.insert(c.module.catalog.tables[r.events[e.var].table].columns[e.column].name);
      for (const auto& a : e.args)
        if (a) walk(r, *a);
    };
    for (const auto& r : c.module.rules) {
      for (const auto& e : r.events)
        if (e.where) walk(r, *e.where);
      for (const auto& ks : r.corr.keys)
        for (const auto& k : ks)
          if (k) walk(r, *k);
      if (r.corr.agg_arg) walk(r, *r.corr.agg_arg);
      for (const auto& o : r.outcome)
        if (o.value) walk(r, *o.value);
    }
  }
  fs::path big = d / "export.jsonl";
  std::uint64_t rows = 0, bytes = 0;
  {
    auto t0 = Clock::now();
    RowGen g{*signin, *office};
    std::FILE* f = std::fopen(big.c_str(), "wb");
    std::string buf;
    std::int64_t ticks = ward::kTicksPerDay * 19524;  // 2023-06-16
    const std::uint64_t want = static_cast<std::uint64_t>(gb * 1e9);
    while (bytes < want) {
      g.row(buf, g.rng.chance(0.4), ticks);
      ticks += static_cast<std::int64_t>(g.rng.below(2 * ward::kTicksPerSecond));  // ~1 row a second
      ++rows;
      if (buf.size() > (1 << 20)) {
        std::fwrite(buf.data(), 1, buf.size(), f);
        bytes += buf.size();
        buf.clear();
      }
    }
    std::fwrite(buf.data(), 1, buf.size(), f);
    bytes += buf.size();
    std::fclose(f);
    std::printf("## Throughput: 50 rules over %.2f GB of SigninLogs + OfficeActivity rows\n\n", static_cast<double>(bytes) / 1e9);
    std::printf("generated %llu rows, %.0f bytes a row, in %.1f s; the rules read %zu distinct columns\n\n",
                static_cast<unsigned long long>(rows), static_cast<double>(bytes) / static_cast<double>(rows), seconds_since(t0),
                read_columns.size());
  }
  // Alternating, three of each; the best wall time and the best CPU time of each are kept.
  Baseline best_b;
  Child best_w;
  best_b.seconds = best_b.cpu = best_w.wall = best_w.cpu = best_w.main_cpu = best_w.other_cpu = 1e300;
  for (int rep = 0; rep < 3; ++rep) {
    Baseline b = parse_only(big, read_columns);
    best_b.lines = b.lines;
    best_b.seconds = std::min(best_b.seconds, b.seconds);
    best_b.cpu = std::min(best_b.cpu, b.cpu);
    Child w = run_ward({ward, "run", "-q", "--rules", bundle.string(), "--events", big.string(), "-o", "/dev/null",
                        "--summary-json", (d / "s.json").string()}, d / "s.json");
    if (w.status != 0) return fail("ward run failed on the export");
    double cpu = std::min(best_w.cpu, w.cpu), wall = std::min(best_w.wall, w.wall);
    double main_cpu = std::min(best_w.main_cpu, w.main_cpu), other_cpu = std::min(best_w.other_cpu, w.other_cpu);
    long rss = std::max(best_w.max_rss_kb, w.max_rss_kb);
    best_w = w;
    best_w.cpu = cpu, best_w.wall = wall, best_w.max_rss_kb = rss;
    best_w.main_cpu = main_cpu, best_w.other_cpu = other_cpu;
  }
  long events = json_number(best_w.summary, "events");
  double base_rate = static_cast<double>(best_b.lines) / best_b.seconds;
  double ward_rate = static_cast<double>(events) / best_w.wall;
  std::printf("| run | events/s | MB/s | peak RSS |\n|---|---:|---:|---:|\n");
  std::printf("| parse-only baseline (simdjson On-Demand, same columns) | %.0f | %.0f | — |\n", base_rate,
              static_cast<double>(bytes) / 1e6 / best_b.seconds);
  std::printf("| `ward run` 50 rules (wall) | %.0f | %.0f | %.1f MiB |\n", ward_rate, static_cast<double>(bytes) / 1e6 / best_w.wall,
              static_cast<double>(best_w.max_rss_kb) / 1024);
  std::printf("| parse-only baseline per core (CPU time) | %.0f | | |\n", static_cast<double>(best_b.lines) / best_b.cpu);
  std::printf("| `ward run` per core (CPU time) | %.0f | | |\n\n", static_cast<double>(events) / best_w.cpu);
  // ward run decodes on a reader thread while the engine evaluates: its throughput is wall
  // time over the cores it has; CPU time per event is its cost on one core.
  std::printf("**throughput ratio ward/baseline (wall time): %.2f** (target >= 0.5); cost ratio per core (CPU time): %.2f\n\n",
              ward_rate / base_rate, best_b.cpu / best_w.cpu * static_cast<double>(events) / static_cast<double>(best_b.lines));
  // On a loaded machine wall time measures the load; each thread's CPU time does not. With a
  // core for each, ward's wall time would be its busier thread's CPU time (the engine or the
  // reader), so that over the baseline's CPU time estimates the wall ratio of a quiet machine.
  if (best_w.main_cpu > 0 && best_w.main_cpu < 1e300) {
    double busiest = std::max(best_w.main_cpu, best_w.other_cpu < 1e300 ? best_w.other_cpu : 0.0);
    std::printf("| thread (CPU time, best of 3) | s | events/s |\n|---|---:|---:|\n");
    std::printf("| parse-only baseline (one thread) | %.2f | %.0f |\n", best_b.cpu, static_cast<double>(best_b.lines) / best_b.cpu);
    std::printf("| `ward run` engine (main thread) | %.2f | %.0f |\n", best_w.main_cpu, static_cast<double>(events) / best_w.main_cpu);
    if (best_w.other_cpu < 1e300)
      std::printf("| `ward run` reader thread | %.2f | %.0f |\n", best_w.other_cpu, static_cast<double>(events) / best_w.other_cpu);
    std::printf("\n**estimated throughput ratio with a core per thread (baseline CPU rate / busier thread's rate): %.2f**\n\n",
                static_cast<double>(events) / busiest / (static_cast<double>(best_b.lines) / best_b.cpu));
  }
  std::printf("alerts: %ld; events %ld of %llu rows\n\n",
              json_sum(best_w.summary, "alerts"), events, static_cast<unsigned long long>(rows));
  if (!keep) fs::remove(big);

  // ---- 2. correlation state ----
  std::printf("## Correlation state: %ld events, every key live for the whole trace (window 1h, trace 1h)\n\n", state_events);
  std::printf("| shape | keys | events/s | peak keys | peak RSS |\n|---|---:|---:|---:|---:|\n");
  struct Shape { const char* name; const char* body; bool mixed; };
  const Shape shapes[] = {
      {"threshold count", "  events { $s = SigninLogs where ResultType == \"50126\" }\n  condition count($s) >= 1000000 by $s.UserPrincipalName within 1h\n", false},
      {"threshold dcount", "  events { $s = SigninLogs where ResultType == \"50126\" }\n  condition dcount($s.IPAddress) >= 1000000 by $s.UserPrincipalName within 1h\n", false},
      {"sequence", "  events {\n    $s = SigninLogs where ResultType == \"50126\"\n    $m = OfficeActivity where Operation == \"MailItemsAccessed\"\n  }\n"
                   "  condition sequence $s then $m by $s.UserPrincipalName = $m.UserId within 1h\n", true},
      {"absence", "  events {\n    $m = OfficeActivity where Operation == \"MailItemsAccessed\"\n    $s = SigninLogs where ResultType == \"50126\"\n  }\n"
                  "  condition $m and not $s by $m.UserId = $s.UserPrincipalName within 1h before $m\n", true},
  };
  for (long keys : {1'000L, 100'000L, 1'000'000L}) {
    for (bool mixed : {false, true}) {
      fs::path f = d / "state.jsonl";
      {
        Rng r(static_cast<std::uint64_t>(keys) * 2 + mixed);
        std::FILE* out = std::fopen(f.c_str(), "wb");
        std::string buf;
        std::int64_t t0 = ward::kTicksPerDay * 19524, span = ward::kTicksPerHour - ward::kTicksPerSecond;
        for (long i = 0; i < state_events; ++i) {
          std::int64_t ticks = t0 + span * i / state_events;
          std::uint64_t k = r.below(static_cast<std::uint64_t>(keys));
          if (mixed && r.chance(0.5))
            buf += fmt::format("{{\"Type\":\"OfficeActivity\",\"TimeGenerated\":\"{}\",\"UserId\":\"u{}@contoso.com\",\"Operation\":\"MailItemsAccessed\",\"ClientIP\":\"10.0.{}.{}\"}}\n",
                               ward::format_datetime(ticks), k, r.below(256), r.below(256));
          else
            buf += fmt::format("{{\"Type\":\"SigninLogs\",\"TimeGenerated\":\"{}\",\"UserPrincipalName\":\"u{}@contoso.com\",\"IPAddress\":\"10.1.{}.{}\",\"ResultType\":\"50126\"}}\n",
                               ward::format_datetime(ticks), k, r.below(256), r.below(256));
          if (buf.size() > (1 << 20)) { std::fwrite(buf.data(), 1, buf.size(), out); buf.clear(); }
        }
        std::fwrite(buf.data(), 1, buf.size(), out);
        std::fclose(out);
      }
      for (const auto& s : shapes) {
        if (s.mixed != mixed) continue;
        write_file(d / "state.ward", std::string("import sentinel\nrule state {\n") + meta(s.name) + s.body + "}\n");
        Child w = run_ward({ward, "run", "-q", "--max-keys", "2000000", "--rules", (d / "state.ward").string(), "--events", f.string(),
                            "-o", "/dev/null", "--summary-json", (d / "s.json").string()}, d / "s.json");
        if (w.status != 0) return fail(std::string("ward run failed: ") + s.name);
        std::printf("| %s | %ld | %.0f | %ld | %.1f MiB |\n", s.name, keys, static_cast<double>(json_number(w.summary, "events")) / w.wall,
                    json_number(w.summary, "peak_keys"), static_cast<double>(w.max_rss_kb) / 1024);
        std::fflush(stdout);
      }
      fs::remove(f);
    }
  }

  // ---- 3. memory flat as the trace grows ----
  std::printf("\n## Memory as the trace grows: count threshold, 100k keys, window 10m, 50 events a second, through a pipe\n\n");
  std::printf("| events | trace | peak RSS | events/s |\n|---|---:|---:|---:|\n");
  write_file(d / "flat.ward", std::string("import sentinel\nrule flat {\n") + meta("flat") +
                                  "  events { $s = SigninLogs where ResultType == \"50126\" }\n"
                                  "  condition count($s) >= 1000000 by $s.UserPrincipalName within 10m\n}\n");
  for (long n : {flat_events, flat_events * 10}) {
    Rng r(7);
    long i = 0;
    std::int64_t t0 = ward::kTicksPerDay * 19524, step = ward::kTicksPerSecond / 50;
    std::function<bool(std::string&)> feed = [&](std::string& chunk) {
      if (i >= n) return false;
      for (int k = 0; k < 20000 && i < n; ++k, ++i)
        chunk += fmt::format("{{\"Type\":\"SigninLogs\",\"TimeGenerated\":\"{}\",\"UserPrincipalName\":\"u{}@contoso.com\",\"ResultType\":\"50126\"}}\n",
                             ward::format_datetime(t0 + step * i), r.below(100'000));
      return true;
    };
    Child w = run_ward({ward, "run", "-q", "--rules", (d / "flat.ward").string(), "--events", "-", "-o", "/dev/null", "--summary-json",
                        (d / "s.json").string()}, d / "s.json", &feed);
    if (w.status != 0) return fail("ward run failed on the pipe");
    std::printf("| %ld | %.1f h | %.1f MiB | %.0f |\n", n, static_cast<double>(step * n) / ward::kTicksPerHour,
                static_cast<double>(w.max_rss_kb) / 1024, static_cast<double>(n) / w.wall);
    std::fflush(stdout);
  }

  // ---- 4. bundle load ----
  std::string lib1k = kPrelude;
  for (int i = 0; i < 1000; ++i) lib1k += rule(i);
  write_file(d / "rules1000.ward", lib1k);
  fs::path b1k = d / "rules1000.wardc";
  if (run_ward({ward, "compile", "--target", "bytecode", (d / "rules1000.ward").string(), "-o", b1k.string()}, d / "none").status != 0)
    return fail("the 1,000 rules do not compile");
  std::ifstream in(b1k, std::ios::binary);
  std::string bytes1k((std::istreambuf_iterator<char>(in)), {});
  std::vector<double> times;
  for (int rep = 0; rep < 15; ++rep) {
    auto t0 = Clock::now();
    auto p = ward::bc::load(bytes1k);
    ward::bc::verify(p);
    ward::vm::Image image(std::move(p));
    times.push_back(seconds_since(t0));
  }
  std::sort(times.begin(), times.end());
  std::printf("\n## Bundle load: 1,000 rules, %zu bytes: read + checksum + verify + image, median of 15: %.2f ms (%.1f us a rule)\n",
              bytes1k.size(), times[7] * 1e3, times[7] * 1e6 / 1000);
  return 0;
}
