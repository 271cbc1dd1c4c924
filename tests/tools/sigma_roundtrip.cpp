// The Sigma round trip: every rule of the given Ward files that the Sigma export writes
// losslessly (no error, no warning, without --allow-lossy; or, for a correlation, lossy only by the
// window kind W0801) is exported, imported back with
// `ward import-sigma`'s importer, compiled again, and its IR compared with the original's.
// Compared are the IR dump's lines for what Sigma carries: the rule (name, id, severity), title,
// tactics, techniques, events with their `where`, the correlation and its keys. Left out are what
// Sigma has no field for (outcome, entities, schedule, list declarations); a named list is
// compared by its values (Sigma has no list names), and event variables by their position
// (a single-event Sigma rule does not name its event).
// Rules over a table declared in their own file are counted and left out: an imported rule
// reads Ward's shipped tables (sentinel, token_validation).
// Usage: ward_sigma_roundtrip [--min N] FILES...   (fails when fewer than N rules round-trip)
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>

#include "backend/sigma/import.h"
#include "backend/sigma/sigma.h"
#include "driver/pipeline.h"

using namespace ward;

namespace {

void inline_lists(const ir::Module& m, ir::Expr& e) {
  if (e.kind == ir::Expr::Kind::ListRef) {
    const auto& l = m.lists[e.list];
    e.kind = ir::Expr::Kind::ListLit;
    e.args.clear();
    for (const auto& v : l.values) {
      auto x = std::make_unique<ir::Expr>();
      x->kind = ir::Expr::Kind::Literal;
      x->value = v;
      e.args.push_back(std::move(x));
    }
    return;
  }
  for (auto& a : e.args)
    if (a) inline_lists(m, *a);
}

// What Sigma's plain values cannot tell apart but Ward's meaning does not depend on either:
// address literals are strings at run time (docs/semantics.md §1.1), and `==`/`in` with GUID
// literals are `=~`/`in~` (§1.4). Both sides are brought to that spelling before they are compared.
bool is_guid(const ir::Expr& e) {
  if (e.kind == ir::Expr::Kind::Literal) return e.value.kind == LitKind::Guid;
  if (e.kind != ir::Expr::Kind::ListLit || e.args.empty()) return false;
  return std::all_of(e.args.begin(), e.args.end(), [](const ir::ExprPtr& a) { return a && is_guid(*a); });
}

void canonical(ir::Expr& e) {
  using ast::Op;
  if (e.kind == ir::Expr::Kind::Binary && e.args.size() == 2 && e.args[1] && is_guid(*e.args[1])) {
    if (e.op == Op::Eq) e.op = Op::EqCi;
    else if (e.op == Op::Ne) e.op = Op::NeCi;
    else if (e.op == Op::In) e.op = Op::InCi;
    else if (e.op == Op::NotIn) e.op = Op::NotInCi;
  }
  if (e.kind == ir::Expr::Kind::Literal && (e.value.kind == LitKind::Ip || e.value.kind == LitKind::Guid))
    e.value.kind = LitKind::String;
  for (auto& a : e.args)
    if (a) canonical(*a);
}

std::string carried(const ir::Module& m, ir::Rule& r) {
  for (auto& e : r.events)
    if (e.where) {
      inline_lists(m, *e.where);
      canonical(*e.where);
    }
  std::map<std::string, std::string> vars;
  for (std::size_t i = 0; i < r.events.size(); ++i) vars["$" + r.events[i].var] = fmt::format("$E{}", i + 1);
  std::istringstream in(ir::print(m, r));
  std::string line, out;
  static const std::regex keep("^(rule |  title |  tactics|  techniques|  event |  condition |    key )");
  static const std::regex var(R"(\$[A-Za-z_][A-Za-z0-9_]*)");
  while (std::getline(in, line)) {
    if (!std::regex_search(line, keep)) continue;
    std::string s;
    auto b = std::sregex_iterator(line.begin(), line.end(), var);
    std::size_t last = 0;
    for (auto it = b; it != std::sregex_iterator(); ++it) {
      s += line.substr(last, static_cast<std::size_t>(it->position()) - last);
      auto f = vars.find(it->str());
      s += f == vars.end() ? it->str() : f->second;
      last = static_cast<std::size_t>(it->position() + it->length());
    }
    s += line.substr(last);
    // `d["name"]` and `d.name` are one member access (the IR prints the spelling it was given)
    static const std::regex bracket(R"re(\["([A-Za-z_][A-Za-z0-9_]*)"\])re");
    out += std::regex_replace(s, bracket, ".$1") + "\n";
  }
  return out;
}

std::string render(const diag::Sink& s, const source::SourceManager& sm) {
  std::string out;
  for (const auto& d : s.all()) out += diag::render_text(d, sm, false) + "\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t min = 1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--min" && i + 1 < argc) min = std::stoul(argv[++i]);
    else files.push_back(a);
  }
  auto tmp = std::filesystem::temp_directory_path() / fmt::format("ward_sigma_roundtrip_{}", getpid());
  std::filesystem::create_directories(tmp);
  // the shipped tables: a rule over a table its own file declares cannot be imported on its own
  driver::Compilation shipped;
  {
    auto stub = tmp / "shipped.ward";
    std::ofstream(stub) << "import sentinel\nimport token_validation\n";
    driver::compile({stub.string()}, {}, shipped);
  }
  std::size_t ok = 0, windows = 0, lossy = 0, failed = 0, skipped_files = 0, local = 0, n = 0;
  for (const auto& f : files) {
    driver::Compilation c;
    driver::compile({f}, {}, c);
    if (c.input_error || c.sink.has_errors()) {
      ++skipped_files;  // fail_ goldens and libraries
      continue;
    }
    for (auto& r : c.module.rules) {
      if (std::any_of(r.events.begin(), r.events.end(), [&](const ir::Event& e) {
            return !shipped.module.catalog.find(c.module.catalog.tables[e.table].name);
          })) {
        ++local;
        continue;
      }
      diag::Sink es;
      auto yml = backend::sigma::emit(c.module, r, {false}, es);
      if (!yml || es.warning_count() || es.error_count()) {
        // a correlation's only loss is its window's kind (W0801): its Sigma still carries the
        // whole rule, so it must read back the same
        bool window_only = std::all_of(es.all().begin(), es.all().end(), [](const diag::Diagnostic& d) {
          return d.code == diag::Code::SigmaWindowSemantics || d.code == diag::Code::SigmaLossy;
        });
        diag::Sink ls;
        if (window_only) yml = backend::sigma::emit(c.module, r, {true}, ls);
        if (!window_only || !yml || ls.error_count()) {
          ++lossy;
          continue;
        }
        ++windows;
      }
      auto name = fmt::format("{}:{}", f, r.name);
      source::SourceManager sm;
      auto id = sm.add(r.name + ".yml", *yml);
      diag::Sink is;
      auto rules = backend::sigma::import_file(sm, id, is, &c.module.catalog);
      if (is.error_count() || is.warning_count() || rules.size() != 1) {
        std::cout << fmt::format("FAIL {}: import gave {} rules\n{}\n{}", name, rules.size(), render(is, sm), *yml);
        ++failed;
        continue;
      }
      auto path = tmp / fmt::format("r{}.ward", n++);
      std::ofstream(path) << backend::sigma::ward_source(rules, r.name + ".yml");
      driver::Compilation back;
      driver::compile({path.string()}, {}, back);
      if (back.sink.has_errors() || back.module.rules.size() != 1) {
        std::cout << fmt::format("FAIL {}: the imported rule does not compile\n{}\n{}", name, render(back.sink, back.sm),
                                 rules[0].text);
        ++failed;
        continue;
      }
      auto a = carried(c.module, r), b = carried(back.module, back.module.rules[0]);
      if (a != b) {
        std::cout << fmt::format("FAIL {}: the IR differs after export and import\n--- original\n{}--- imported\n{}", name,
                                 a, b);
        ++failed;
        continue;
      }
      ++ok;
    }
  }
  std::filesystem::remove_all(tmp);
  std::cout << fmt::format("sigma round trip: {} rules equal after export and import ({} correlations lossy only by W0801), "
                           "{} failed; {} not lossless in Sigma; {} over a table their file declares; {} files with errors "
                           "skipped\n",
                           ok, windows, failed, lossy, local, skipped_files);
  if (ok < min) {
    std::cout << fmt::format("FAIL: fewer than {} rules round-tripped\n", min);
    return 1;
  }
  return failed ? 1 : 0;
}
