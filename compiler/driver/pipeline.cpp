#include "driver/pipeline.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "passes/passes.h"
#include "sema/sema.h"
#include "syntax/parse.h"

namespace ward::driver {

namespace fs = std::filesystem;

std::vector<std::string> search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("WARD_SCHEMA_PATH")) {
    std::string s = env;
    std::size_t b = 0;
    while (b <= s.size()) {
      auto e = s.find(':', b);
      if (e == std::string::npos) e = s.size();
      if (e > b) dirs.push_back(s.substr(b, e - b));
      b = e + 1;
    }
  }
#ifdef WARD_SOURCE_SCHEMA_DIR
  dirs.push_back(WARD_SOURCE_SCHEMA_DIR);
#endif
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "ward" / "schemas").string());
  return dirs;
}

namespace {

struct Loader {
  const Options& opt;
  Compilation& c;
  std::vector<sema::Input> inputs;
  std::map<std::string, source::FileId> loaded;  // canonical path -> file

  std::string canonical(const std::string& p) {
    std::error_code ec;
    auto cp = fs::weakly_canonical(p, ec);
    return ec ? p : cp.string();
  }

  // Returns false when the file cannot be read.
  bool load(const std::string& path, const std::string& module, bool emit, source::Span from) {
    auto key = canonical(path);
    if (auto it = loaded.find(key); it != loaded.end()) {
      // a file named on the command line that another one also imports is still compiled
      if (emit)
        for (auto& in : inputs)
          if (in.file->file == it->second) in.emit = true;
      return true;
    }
    std::string err;
    auto id = c.sm.load(path, &err);
    if (id == source::kNoFile) {
      if (from.valid())
        c.sink.report(diag::Code::ImportNotFound, from, fmt::format("cannot read imported file `{}`: {}", path, err));
      else
        c.sink.report(diag::Code::FileUnreadable, {}, fmt::format("cannot read `{}`: {}", path, err));
      return false;
    }
    loaded[key] = id;
    auto before = c.sink.all().size();
    auto file = std::make_unique<ast::File>(syntax::parse(c.sm.file(id), c.sink));
    std::vector<std::uint32_t> syntax_errors;
    for (std::size_t i = before; i < c.sink.all().size(); ++i)
      if (c.sink.all()[i].primary.file == id) syntax_errors.push_back(c.sink.all()[i].primary.begin);
    auto* f = file.get();
    c.files.push_back(std::move(file));
    for (const auto& imp : f->imports) {
      if (imp.module) {
        std::string found;
        std::vector<std::string> known;
        for (const auto& d : opt.schema_dirs) {
          auto p = fs::path(d) / (imp.module->text + ".ward");
          if (found.empty() && fs::exists(p)) found = p.string();
          std::error_code ec;
          for (const auto& ent : fs::directory_iterator(d, ec))
            if (ent.path().extension() == ".ward") known.push_back(ent.path().stem().string());
        }
        if (found.empty()) {
          auto b = c.sink.report(diag::Code::UnknownModule, imp.module->span,
                                 fmt::format("no schema module `{}`", imp.module->text));
          b.help(diag::did_you_mean(imp.module->text, known));
          if (!known.empty()) {
            std::sort(known.begin(), known.end());
            known.erase(std::unique(known.begin(), known.end()), known.end());
            std::string list;
            for (std::size_t i = 0; i < known.size(); ++i) list += (i ? ", " : "") + known[i];
            b.note("shipped modules: " + list);
          }
          continue;
        }
        load(found, imp.module->text, false, imp.span);
      } else {
        auto p = fs::path(imp.path);
        if (p.is_relative()) p = fs::path(c.sm.file(id).path()).parent_path() / p;
        if (!fs::exists(p)) {
          c.sink.report(diag::Code::ImportNotFound, imp.span, fmt::format("imported file `{}` does not exist", p.string()))
              .note("an import path is relative to the importing file");
          continue;
        }
        load(p.string(), "", false, imp.span);
      }
    }
    inputs.push_back({f, module, emit, std::move(syntax_errors)});
    return true;
  }
};

}  // namespace

void compile(const std::vector<std::string>& paths, const Options& opt_in, Compilation& c) {
  Options opt = opt_in;
  if (opt.schema_dirs.empty()) opt.schema_dirs = search_path();
  Loader loader{opt, c, {}, {}};
  for (const auto& p : paths)
    if (!loader.load(p, "", true, {})) c.input_error = true;
  c.module = sema::analyze(loader.inputs, c.sm, c.sink);
  if (!c.sink.has_errors()) passes::run(c.module, opt.disabled_passes);
}

}  // namespace ward::driver
