// libFuzzer target: any bytes as a Sigma YAML file through `ward import-sigma`'s importer (with
// the shipped tables' catalog, so fields are typed), every diagnostic rendered, and the Ward
// source it writes parsed again. Must never crash or hang; what it writes must be Ward syntax.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "backend/sigma/import.h"
#include "driver/pipeline.h"
#include "syntax/parse.h"

namespace {
// The shipped `sentinel` and `token_validation` modules, compiled once.
struct Catalog {
  ward::driver::Compilation c;
  Catalog() {
    auto stub = std::filesystem::temp_directory_path() / ("ward_fuzz_sigma_" + std::to_string(getpid()) + ".ward");
    std::ofstream(stub) << "import sentinel\nimport token_validation\n";
    ward::driver::compile({stub.string()}, {}, c);
    std::filesystem::remove(stub);
    if (c.sink.has_errors()) std::abort();  // the fuzzer would test nothing
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Catalog catalog;
  if (size > 64 * 1024) return 0;
  ward::source::SourceManager sm;
  auto id = sm.add("fuzz.yml", std::string(reinterpret_cast<const char*>(data), size));
  ward::diag::Sink sink;
  auto rules = ward::backend::sigma::import_file(sm, id, sink, &catalog.c.module.catalog);
  for (const auto& d : sink.all()) (void)ward::diag::render_text(d, sm, false);
  if (rules.empty()) return 0;
  // the written source is Ward: it parses without a syntax error
  auto text = ward::backend::sigma::ward_source(rules, "fuzz.yml");
  auto wid = sm.add("imported.ward", text);
  ward::diag::Sink parse_sink;
  (void)ward::syntax::parse(sm.file(wid), parse_sink);
  if (parse_sink.has_errors()) std::abort();
  return 0;
}
