// `ward`: one binary, one subcommand per job. Exit codes: 0 ok, 1 rule errors
// or failed tests, 2 usage or input errors.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "backend/bytecode/bytecode.h"
#include "backend/kql/kql.h"
#include "backend/sigma/import.h"
#include "driver/cmd_export.h"
#include "runtime/engine.h"
#include "ast/literals.h"
#include "ast/value.h"
#include "driver/pipeline.h"
#include "passes/passes.h"
#include "simulator/cli.h"
#include "simulator/coverage.h"
#include "simulator/test_runner.h"

namespace {

using namespace ward;

struct Common {
  std::vector<std::string> files;
  std::vector<std::string> schema_dirs;
  std::string diag_format = "text";
  std::vector<std::string> disabled_passes;
};

void add_common(CLI::App* cmd, Common& c) {
  cmd->add_option("files", c.files, "Ward rule files")->required()->check(CLI::ExistingFile);
  cmd->add_option("--schemas", c.schema_dirs, "directory searched by `import NAME` (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--diagnostics-format", c.diag_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--disable-pass", c.disabled_passes, "skip an IR pass by name (see `ward passes`)")
      ->allow_extra_args(false);
}

// Renders diagnostics to stderr; returns the exit code they imply.
int report(const driver::Compilation& c, const Common& opt) {
  auto& sink = const_cast<diag::Sink&>(c.sink);
  sink.sort_by_position();
  if (opt.diag_format == "json") {
    std::cerr << diag::render_json(sink.all(), c.sm);
  } else {
    bool color = isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
    for (const auto& d : sink.all()) std::cerr << diag::render_text(d, c.sm, color) << "\n";
    if (sink.error_count() || sink.warning_count())
      std::cerr << fmt::format("{} error{}, {} warning{}\n", sink.error_count(), sink.error_count() == 1 ? "" : "s",
                               sink.warning_count(), sink.warning_count() == 1 ? "" : "s");
  }
  if (c.input_error) return 2;
  return sink.has_errors() ? 1 : 0;
}

driver::Options pipeline_options(const Common& c) {
  driver::Options o;
  o.schema_dirs = c.schema_dirs;
  o.disabled_passes.insert(c.disabled_passes.begin(), c.disabled_passes.end());
  return o;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (ch < 0x20) out += fmt::format("\\u{:04x}", ch);
        else out += static_cast<char>(ch);
    }
  }
  return out + "\"";
}

int write_output(const std::string& path, const std::string& text) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out || !(out << text)) {
    std::cerr << fmt::format("error: cannot write `{}`\n", path);
    return 2;
  }
  return 0;
}

int cmd_check(const Common& opt) {
  driver::Compilation c;
  driver::compile(opt.files, pipeline_options(opt), c);
  return report(c, opt);
}

bool allow_lossy = false;  // compile --allow-lossy (Sigma)

int cmd_compile(const Common& opt, const std::string& target, const std::string& format, const std::string& out) {
  driver::Compilation c;
  driver::compile(opt.files, pipeline_options(opt), c);
  if (driver::is_export_target(target)) {  // Sentinel: its limits are diagnostics too (cmd_export.cpp)
    bool per_rule = driver::output_is_directory(out);
    std::vector<driver::OutputFile> files;
    if (!c.sink.has_errors() && !c.input_error) files = driver::export_rules(c, target, per_rule, allow_lossy);
    if (int rc = report(c, opt)) return rc;
    return driver::write_exports(files, out, per_rule);
  }
  int rc = report(c, opt);
  if (rc != 0) return rc;
  std::string text;
  const auto& m = c.module;
  if (target == "ir") {
    for (const auto& r : m.rules) text += ir::print(m, r);
  } else if (target == "bytecode") {
    if (out.empty() && isatty(STDOUT_FILENO)) {
      std::cerr << "error: a bundle is binary: write it with -o FILE (e.g. -o rules.wardc)\n";
      return 2;
    }
    text = bc::serialize(backend::bytecode::compile(m, c.sm));
  } else if (target == "kql") {
    if (format == "json") {
      text = "{\"queries\": [";
      for (std::size_t i = 0; i < m.rules.size(); ++i) {
        const auto& r = m.rules[i];
        text += fmt::format("{}\n  {{\"rule\": {}, \"id\": {}, \"file\": {}, \"query\": {}, \"tables\": {{", i ? "," : "",
                            json_string(r.name), json_string(r.meta.id), json_string(r.file),
                            json_string(backend::kql::emit(m, r)));
        auto tables = backend::kql::tables_used(m, r);
        std::size_t ti = 0;
        for (const auto& [t, cols] : tables) {
          text += fmt::format("{}{}: {{", ti++ ? ", " : "", json_string(t));
          std::size_t ci = 0;
          for (const auto& [col, type] : cols) text += fmt::format("{}{}: {}", ci++ ? ", " : "", json_string(col), json_string(type));
          text += "}";
        }
        text += "}}";
      }
      text += "\n]}\n";
    } else {
      for (std::size_t i = 0; i < m.rules.size(); ++i) {
        const auto& r = m.rules[i];
        if (m.rules.size() > 1) {
          std::string title = r.meta.title;  // a comment ends at a newline: keep it on one line
          for (auto& ch : title)
            if (ch == '\n' || ch == '\r') ch = ' ';
          text += fmt::format("{}// rule {}: {}\n", i ? "\n" : "", r.name, title);
        }
        text += backend::kql::emit(m, r);
      }
    }
  }
  return write_output(out, text);
}


std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Rules for `ward run`: one bundle, or rule files compiled here.
std::unique_ptr<vm::Image> load_rules(const std::vector<std::string>& files, const Common& opt, int& rc) {
  rc = 0;
  if (files.size() == 1) {
    auto bytes = read_file(files[0]);
    if (!bytes) {
      std::cerr << fmt::format("error: cannot read `{}`\n", files[0]);
      rc = 2;
      return nullptr;
    }
    if (bytes->compare(0, 6, "WARDBC") == 0) {
      try {
        return std::make_unique<vm::Image>(bc::load(*bytes));
      } catch (const bc::BundleError& e) {
        std::cerr << fmt::format("error: {}: invalid bundle: {}\n", files[0], e.what());
        rc = 2;
        return nullptr;
      }
    }
  }
  driver::Compilation c;
  Common o = opt;
  o.files = files;
  driver::compile(files, pipeline_options(o), c);
  rc = report(c, o);
  if (rc != 0) return nullptr;
  return std::make_unique<vm::Image>(backend::bytecode::compile(c.module, c.sm));
}

// Rules for `ward test`: rule files, compiled here, with their module (the tests live there).
ward::sim::CompiledRules compile_for_tests(const std::vector<std::string>& files, int& rc) {
  ward::sim::CompiledRules out;
  out.compilation = std::make_unique<driver::Compilation>();
  Common o;
  o.files = files;
  driver::compile(files, pipeline_options(o), *out.compilation);
  rc = report(*out.compilation, o);
  if (rc == 0) out.image = std::make_unique<vm::Image>(backend::bytecode::compile(out.compilation->module, out.compilation->sm));
  return out;
}

int cmd_disasm(const std::string& path, bool markdown) {
  if (markdown) {
    std::cout << bc::opcodes_markdown();
    return 0;
  }
  auto bytes = read_file(path);
  if (!bytes) {
    std::cerr << fmt::format("error: cannot read `{}`\n", path);
    return 2;
  }
  try {
    std::cout << bc::disassemble(bc::load(*bytes));
  } catch (const bc::BundleError& e) {
    std::cerr << fmt::format("error: {}: invalid bundle: {}\n", path, e.what());
    return 2;
  }
  return 0;
}

struct RunArgs {
  std::vector<std::string> rules, events;
  std::string out, lateness = "0s", summary_json;
  std::size_t max_keys = 1'000'000;
  bool canonical = false, quiet = false;
};

int cmd_run(const RunArgs& a, const Common& common) {
  int rc;
  auto image = load_rules(a.rules, common, rc);
  if (!image) return rc;
  auto late = literals::parse_duration(a.lateness);
  if (a.lateness == "0" || a.lateness == "0s") late = 0;
  if (!late || *late < 0) {
    std::cerr << fmt::format("error: --lateness `{}` is not a duration such as 5m or 1h\n", a.lateness);
    return 2;
  }
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!a.out.empty() && a.out != "-") {
    file.open(a.out, std::ios::binary);
    if (!file) {
      std::cerr << fmt::format("error: cannot write `{}`\n", a.out);
      return 2;
    }
    out = &file;
  }
  const auto& p = image->program();
  std::vector<std::string> canon;
  std::string line;
  auto sink = [&](const vm::Alert& al) {
    const auto& r = p.rules[al.rule];
    if (a.canonical) {
      canon.push_back(fmt::format("{}\t{}\t{}", p.strings[r.name], format_datetime(al.time), al.outcome));
      return;
    }
    line.clear();
    line += "{\"rule\":";
    vm::append_json_string(line, p.strings[r.name]);
    line += ",\"id\":";
    vm::append_json_string(line, p.strings[r.id]);
    line += ",\"title\":";
    vm::append_json_string(line, p.strings[r.title]);
    static const char* sev[] = {"Informational", "Low", "Medium", "High"};
    line += fmt::format(",\"severity\":\"{}\",\"time\":\"{}\",\"outcome\":", sev[static_cast<int>(r.severity)], format_datetime(al.time));
    line += al.outcome;
    line += ",\"entities\":" + al.entities + ",\"events\":[";
    for (std::size_t i = 0; i < al.events.size(); ++i) {
      if (i) line += ',';
      vm::append_json_string(line, fmt::format("{}:{}", a.events[al.events[i].file], al.events[i].line));
    }
    line += fmt::format("],\"events_total\":{}}}\n", al.events_total);
    *out << line;
  };
  vm::RunOptions ro;
  ro.lateness = *late;
  ro.engine.max_keys = a.max_keys;
  bool tty = isatty(STDERR_FILENO) && !a.quiet;
  if (tty)
    ro.progress = [](std::uint64_t events, std::uint64_t bytes) {
      std::cerr << fmt::format("\r  {} events, {:.1f} MB read", events, bytes / 1e6) << std::flush;
    };
  vm::RunResult res;
  try {
    res = vm::run(*image, a.events, ro, sink);
  } catch (const std::exception& e) {
    std::cerr << fmt::format("error: {}\n", e.what());
    return 2;
  }
  if (tty) std::cerr << "\r\033[K";
  if (a.canonical) {
    std::sort(canon.begin(), canon.end());
    canon.erase(std::unique(canon.begin(), canon.end()), canon.end());
    for (const auto& c : canon) *out << c << "\n";
  }
  out->flush();
  // the summary
  const auto& in = res.input;
  if (!a.quiet) {
    std::cerr << fmt::format("ward run: {} line(s) read, {} event(s) evaluated", in.lines, res.events);
    for (const auto& [t, n] : in.rows_per_table) std::cerr << fmt::format("; {} {}", t, n);
    std::cerr << "\n";
    if (!in.unknown_tables.empty()) {
      std::cerr << "  rows of tables no rule reads (skipped):";
      for (const auto& [t, n] : in.unknown_tables) std::cerr << fmt::format(" {} {}", t, n);
      std::cerr << "\n";
    }
    if (in.malformed || in.no_time || in.bad_values || in.late)
      std::cerr << fmt::format("  {} malformed line(s), {} without a valid TimeGenerated (dropped), {} bad value(s) (read as null), {} late event(s) (dropped)\n",
                               in.malformed, in.no_time, in.bad_values, in.late);
    for (const auto& pr : in.problems)
      std::cerr << fmt::format("  {}:{}: {}\n", a.events[pr.file], pr.line, pr.what);
    for (std::size_t i = 0; i < res.rules.size(); ++i) {
      const auto& st = res.rules[i];
      std::cerr << fmt::format("  rule {}: {} alert(s), {} matching event(s)", p.strings[p.rules[i].name], st.alerts, st.matches);
      if (st.peak_keys) std::cerr << fmt::format(", peak {} key(s)", st.peak_keys);
      if (st.evictions) std::cerr << fmt::format(", {} key(s) EVICTED at the --max-keys cap (alerts may be lost)", st.evictions);
      if (st.decided_at_end) std::cerr << fmt::format(", {} absence(s) decided at the end of the input", st.decided_at_end);
      std::cerr << "\n";
    }
  }
  if (!a.summary_json.empty()) {
    std::string j = fmt::format("{{\"lines\":{},\"events\":{},\"malformed\":{},\"no_time\":{},\"bad_values\":{},\"late\":{},\"tables\":{{",
                                in.lines, res.events, in.malformed, in.no_time, in.bad_values, in.late);
    std::size_t k = 0;
    for (const auto& [t, n] : in.rows_per_table) j += fmt::format("{}{}:{}", k++ ? "," : "", json_string(t), n);
    j += "},\"rules\":{";
    for (std::size_t i = 0; i < res.rules.size(); ++i) {
      const auto& st = res.rules[i];
      j += fmt::format("{}{}:{{\"alerts\":{},\"matches\":{},\"evictions\":{},\"peak_keys\":{}}}", i ? "," : "",
                       json_string(p.strings[p.rules[i].name]), st.alerts, st.matches, st.evictions, st.peak_keys);
    }
    j += "}}\n";
    if (int w = write_output(a.summary_json, j)) return w;
  }
  return 0;
}

// The shipped schema modules, loaded as a compilation of their own.
int cmd_tables(const std::string& table, bool markdown, const std::vector<std::string>& dirs_in) {
  auto dirs = dirs_in.empty() ? driver::search_path() : dirs_in;
  std::vector<std::string> files;
  for (const auto& d : dirs) {
    std::error_code ec;
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(d, ec))
      if (e.path().extension() == ".ward") found.push_back(e.path().string());
    if (!found.empty()) {
      std::sort(found.begin(), found.end());
      files = found;
      break;
    }
  }
  if (files.empty()) {
    std::cerr << "error: no schema modules found\n";
    return 2;
  }
  driver::Compilation c;
  driver::compile(files, {dirs, {}}, c);
  if (c.sink.has_errors()) return report(c, Common{});
  const auto& cat = c.module.catalog;
  auto one_line = [](std::string d) {
    for (auto& ch : d)
      if (ch == '|') ch = '/';
    return d;
  };
  if (markdown) {
    std::cout << "# Tables\n\nGenerated by `ward tables --markdown` from `rules/schemas/` (the Sentinel tables come from the\n"
                 "Azure Monitor table reference via `scripts/gen-schemas.js`). A test keeps this file in step.\n";
    for (const auto& t : cat.tables) {
      std::cout << fmt::format("\n## {}\n\n`import {}`{}\n\n| column | type | description |\n|---|---|---|\n", t.name,
                               std::filesystem::path(c.sm.file(t.span.file).path()).stem().string(),
                               t.doc.empty() ? "" : " — " + t.doc);
      for (const auto& col : t.columns)
        std::cout << fmt::format("| {} | {} | {} |\n", col.name, ir::type_name(col.type), one_line(col.doc));
    }
    return 0;
  }
  if (table.empty()) {
    for (const auto& t : cat.tables)
      std::cout << fmt::format("{:<34} {:>4} columns  (import {})\n", t.name, t.columns.size(),
                               std::filesystem::path(c.sm.file(t.span.file).path()).stem().string());
    return 0;
  }
  const auto* t = cat.find(table);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& x : cat.tables) names.push_back(x.name);
    std::cerr << fmt::format("error: no table `{}`", table);
    auto best = diag::closest(table, names);
    std::cerr << (best.empty() ? "\n" : fmt::format("; did you mean `{}`?\n", best));
    return 2;
  }
  std::cout << t->name << (t->doc.empty() ? "" : ": " + t->doc) << "\n";
  for (const auto& col : t->columns)
    std::cout << fmt::format("  {:<36} {:<9} {}\n", col.name, ir::type_name(col.type), col.doc);
  return 0;
}

int cmd_explain(const std::string& code, bool markdown) {
  using namespace ward::diag;
  if (markdown) {
    std::cout << "# Ward diagnostics\n\n"
                 "Generated by `ward explain --markdown` from `compiler/diag/diagnostics.def`; a test keeps this file in\n"
                 "step with it. Codes are never reused. `ward explain CODE` prints one entry.\n\n"
                 "| code | name | severity | meaning |\n|---|---|---|---|\n";
    for (std::size_t i = 0; i < code_count(); ++i) {
      auto c = code_at(i);
      std::cout << fmt::format("| {} | {} | {} | {} |\n", code_string(c), code_name(c),
                               default_severity(c) == Severity::Error ? "error" : "warning", code_summary(c));
    }
    return 0;
  }
  for (std::size_t i = 0; i < code_count(); ++i) {
    auto c = code_at(i);
    if (code.empty() || code == code_string(c) || code == code_name(c))
      std::cout << fmt::format("{} {:<24} {:<7} {}\n", code_string(c), code_name(c),
                               default_severity(c) == Severity::Error ? "error" : "warning", code_summary(c));
  }
  if (!code.empty()) {
    bool found = false;
    for (std::size_t i = 0; i < code_count(); ++i)
      if (code == code_string(code_at(i)) || code == code_name(code_at(i))) found = true;
    if (!found) {
      std::cerr << fmt::format("error: no diagnostic `{}`\n", code);
      return 2;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ward: token-forgery detections compiled to KQL, Sentinel, Sigma and Ward bytecode"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ward 0.1.0"));

  Common check_opt;
  auto* check = app.add_subcommand("check", "check rule files and report every error");
  add_common(check, check_opt);

  Common compile_opt;
  std::string target = "kql", format = "text", out;
  auto* compile = app.add_subcommand("compile", "compile rule files to a target");
  add_common(compile, compile_opt);
  compile->add_option("--target,-t", target,
                      "kql, sentinel-yaml, sentinel-arm, sigma (one file per rule when -o is a directory), "
                      "bytecode (a bundle for `ward run`; needs -o) or ir")
      ->check(CLI::IsMember({"kql", "sentinel-yaml", "sentinel-arm", "sigma", "bytecode", "ir"}));
  compile->add_flag("--allow-lossy", allow_lossy, "sigma: write rules Sigma states more weakly, the losses in their description");
  compile->add_option("--format", format, "text, or json (queries with the table schemas they read)")
      ->check(CLI::IsMember({"text", "json"}));
  compile->add_option("-o,--output", out, "output file (default: stdout)");

  auto* passes_cmd = app.add_subcommand("passes", "list the IR passes (for --disable-pass)");

  std::string tables_name;
  bool tables_markdown = false;
  std::vector<std::string> tables_schemas;
  auto* tables = app.add_subcommand("tables", "list the shipped tables, or one table's columns with types and descriptions");
  tables->add_option("table", tables_name, "a table name");
  tables->add_flag("--markdown", tables_markdown, "print docs/tables.md");
  tables->add_option("--schemas", tables_schemas, "schema directory")->allow_extra_args(false);

  std::string explain_code;
  bool explain_markdown = false;
  auto* explain = app.add_subcommand("explain", "describe a diagnostic code (or list them all)");
  explain->add_option("code", explain_code, "a code such as E0204");
  explain->add_flag("--markdown", explain_markdown, "print docs/diagnostics.md");

  std::string disasm_file;
  bool disasm_md = false;
  auto* disasm = app.add_subcommand("disasm", "print a bytecode bundle (verified first)");
  disasm->add_option("bundle", disasm_file, "a .wardc bundle");
  disasm->add_flag("--opcodes-markdown", disasm_md, "print docs/bytecode.md");

  RunArgs run_args;
  Common run_common;
  auto* simulate_cli = ward::sim::add_simulate(app);
  auto* coverage_cli = ward::sim::add_coverage(app);
  auto* test_cli = ward::sim::add_test_command(app);
  auto* run = app.add_subcommand("run", "run rules over exported Sentinel events and write alerts as JSON Lines");
  run->add_option("--rules,-r", run_args.rules, "a bundle, or rule files")->required()->check(CLI::ExistingFile);
  run->add_option("--events,-e", run_args.events, "JSON Lines or JSON array files, plain or .gz (- for stdin)")->required();
  run->add_option("-o,--output", run_args.out, "alerts file (default: stdout)");
  run->add_option("--lateness", run_args.lateness, "how far out of time order an event may arrive within a file (default 0s)");
  run->add_option("--max-keys", run_args.max_keys, "correlation keys kept per rule before the oldest is evicted (default 1000000)");
  run->add_option("--summary-json", run_args.summary_json, "write the run summary as JSON to this file");
  run->add_flag("--canonical", run_args.canonical, "print alerts as sorted `rule<TAB>time<TAB>outcome` lines (for tests)");
  run->add_flag("--quiet,-q", run_args.quiet, "no summary on stderr");
  run->add_option("--schemas", run_common.schema_dirs, "directory searched by `import NAME`")->allow_extra_args(false);

  std::vector<std::string> import_files;
  std::string import_out, import_diag = "text";
  auto* import_sigma = app.add_subcommand("import-sigma", "read Sigma rules (and correlations) into Ward source");
  import_sigma->add_option("files", import_files, "Sigma YAML files")->required()->check(CLI::ExistingFile);
  import_sigma->add_option("-o,--output", import_out, "directory for one <file>.ward per input (default: stdout)");
  import_sigma->add_option("--diagnostics-format", import_diag, "text or json")->check(CLI::IsMember({"text", "json"}));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (*check) return cmd_check(check_opt);
  if (*compile) return cmd_compile(compile_opt, target, format, out);
  if (*disasm) {
    if (disasm_file.empty() && !disasm_md) {
      std::cerr << "error: ward disasm BUNDLE\n";
      return 2;
    }
    return cmd_disasm(disasm_file, disasm_md);
  }
  if (*run) return cmd_run(run_args, run_common);
  if (ward::sim::simulate_selected(simulate_cli)) return ward::sim::run_simulate(simulate_cli);
  if (ward::sim::coverage_selected(coverage_cli))
    return ward::sim::run_coverage(coverage_cli, [](const std::vector<std::string>& files, int& rc) { return load_rules(files, Common{}, rc); });
  if (ward::sim::test_selected(test_cli)) return ward::sim::run_tests(test_cli, compile_for_tests);
  if (*explain) return cmd_explain(explain_code, explain_markdown);
  if (*tables) return cmd_tables(tables_name, tables_markdown, tables_schemas);
  if (*import_sigma) return ward::backend::sigma::import_command(import_files, import_out, import_diag);
  if (*passes_cmd) {
    for (const auto& p : ward::passes::all()) std::cout << fmt::format("{:<10} {}\n", p.name, p.summary);
    return 0;
  }
  return 2;
}
