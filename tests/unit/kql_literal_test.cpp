#include <catch2/catch.hpp>

#include "backend/kql/kql.h"

using namespace ward::backend;

TEST_CASE("KQL string literals escape everything that could end them") {
  CHECK(kql::string_literal("a\"b") == "\"a\\\"b\"");
  CHECK(kql::string_literal("c:\\x") == "\"c:\\\\x\"");
  CHECK(kql::string_literal("a\nb") == "\"a\\nb\"");
  CHECK(kql::string_literal("'") == "\"'\"");
}

TEST_CASE("KQL names are bracket-quoted when needed") {
  CHECK(kql::name("UserId") == "UserId");
  CHECK(kql::name("where") == "['where']");
  CHECK(kql::name("a b") == "['a b']");
}
