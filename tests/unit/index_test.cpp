// Image::required_equality, which the engine indexes rules by: it must find the equality only
// where a false comparison is the predicate's value, and say where the rest starts.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "backend/bytecode/bytecode.h"
#include "driver/pipeline.h"
#include "runtime/eval.h"

using namespace ward;

namespace {
// Each filter becomes one rule over SigninLogs; returns the image.
std::unique_ptr<vm::Image> image_of(const std::vector<std::string>& filters) {
  std::string src = "import sentinel\n";
  for (std::size_t i = 0; i < filters.size(); ++i)
    src += "rule r" + std::to_string(i) + " {\n  meta { title = \"t\" description = \"d\" severity = low }\n"
           "  events { $s = SigninLogs where " + filters[i] + " }\n}\n";
  auto path = std::filesystem::temp_directory_path() / ("ward_index_test_" + std::to_string(::getpid()) + ".ward");
  std::ofstream(path) << src;
  driver::Compilation c;
  driver::compile({path.string()}, {}, c);
  std::filesystem::remove(path);
  REQUIRE_FALSE(c.sink.has_errors());
  auto p = backend::bytecode::compile(c.module, c.sm);
  bc::verify(p);
  return std::make_unique<vm::Image>(std::move(p));
}
std::optional<vm::Image::Equality> eq_of(const vm::Image& im, std::size_t rule) {
  return im.required_equality(im.program().rules[rule].events[0].where);
}
}  // namespace

TEST_CASE("a required string equality is found where it decides the predicate") {
  auto im = image_of({
      R"(ResultType == "50126")",                                       // 0: the whole predicate
      R"(ResultType == "0" and AppDisplayName =~ "Teams")",             // 1: first of a conjunction
      R"(ResultType == "0" and IsRisky == true and UserAgent has "x")", // 2: first of a chain
      R"((ResultType == "0" and IsRisky == true) or UserAgent has "x")",// 3: inside an `or`: no
      R"(ResultType != "0")",                                           // 4: not an equality
      R"(ResultType =~ "0")",                                           // 5: case-insensitive: no
      R"(UserAgent has "x" and ResultType == "0")",                     // 6: not first
      R"(DurationMs == 5)",                                             // 7: not a string
  });
  auto e0 = eq_of(*im, 0);
  REQUIRE(e0);
  CHECK(e0->text == "50126");
  CHECK(e0->rest == vm::Image::Equality::kTrue);
  for (std::size_t r : {1u, 2u}) {
    auto e = eq_of(*im, r);
    REQUIRE(e);
    CHECK(e->text == "0");
    CHECK(e->rest == 4);
    CHECK(e->slot == e0->slot);  // the same column, ResultType
  }
  for (std::size_t r : {3u, 4u, 5u, 6u, 7u}) {
    INFO("rule " << r);
    CHECK_FALSE(eq_of(*im, r));
  }
}
