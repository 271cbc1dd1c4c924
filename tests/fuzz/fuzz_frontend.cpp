// libFuzzer target: any bytes as a Ward file through the lexer, parser, AST builder,
// sema and the KQL backend (when it checks clean). Must never crash or hang.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ast/dump.h"
#include "backend/kql/kql.h"
#include "driver/pipeline.h"
#include "passes/passes.h"
#include "sema/sema.h"
#include "syntax/parse.h"
#include "syntax/rd_parser.h"

namespace {
// The shipped Sentinel schema, parsed once, so fuzz inputs can name real tables.
struct Schema {
  ward::source::SourceManager sm;
  ward::diag::Sink sink;
  ward::ast::File file;
  Schema() {
    std::string err;
    for (const auto& dir : ward::driver::search_path()) {
      auto id = sm.load(dir + "/sentinel.ward", &err);
      if (id != ward::source::kNoFile) {
        file = ward::syntax::parse(sm.file(id), sink);
        return;
      }
    }
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Schema schema;
  if (size > 64 * 1024) return 0;
  ward::source::SourceManager sm;
  // Keep the schema's file ids valid: re-add its text first.
  sm.add("sentinel.ward", schema.sm.size() ? schema.sm.file(0).text() : "");
  auto id = sm.add("fuzz.ward", std::string(reinterpret_cast<const char*>(data), size));
  ward::diag::Sink sink;
  // the hand-written lexer must agree with the ANTLR one on every input
  if (ward::source::first_invalid_utf8(sm.file(id).text()) == std::string::npos &&
      ward::syntax::dump_tokens(sm.file(id).text(), false) != ward::syntax::dump_tokens(sm.file(id).text(), true))
    std::abort();
  // the recursive-descent parser must build the ANTLR path's AST wherever it accepts
  if (auto fast = ward::syntax::parse_fast(sm.file(id))) {
    ward::diag::Sink reference_sink;
    auto reference = ward::syntax::parse_reference(sm.file(id), reference_sink);
    if (!reference_sink.all().empty() || ward::ast::dump(*fast) != ward::ast::dump(reference)) std::abort();
  }
  auto file = ward::syntax::parse(sm.file(id), sink);
  std::vector<std::uint32_t> syntax_errors;
  for (const auto& d : sink.all()) syntax_errors.push_back(d.primary.begin);
  std::vector<ward::sema::Input> inputs = {{&schema.file, "sentinel", false, {}}, {&file, "", true, syntax_errors}};
  auto module = ward::sema::analyze(inputs, sm, sink);
  for (const auto& d : sink.all()) (void)ward::diag::render_text(d, sm, false);
  if (!sink.has_errors()) {
    ward::passes::run(module, {});
    for (const auto& r : module.rules) (void)ward::backend::kql::emit(module, r);
  }
  return 0;
}
