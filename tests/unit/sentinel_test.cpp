#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <random>

#include "ast/value.h"
#include "backend/sentinel/sentinel.h"

using namespace ward;
using namespace ward::backend;

TEST_CASE("Sentinel YAML durations use the template reader's units, falling back to TimeSpan text") {
  CHECK(sentinel::yaml_duration(5 * kTicksPerMinute) == "5m");
  CHECK(sentinel::yaml_duration(25 * kTicksPerHour) == "25h");
  CHECK(sentinel::yaml_duration(14 * kTicksPerDay) == "14d");
  CHECK(sentinel::yaml_duration(5 * kTicksPerMinute + 30 * kTicksPerSecond) == "0.00:05:30");
  CHECK(sentinel::yaml_duration(kTicksPerDay + kTicksPerMinute + kTicksPerSecond) == "1.00:01:01");
}

TEST_CASE("ARM durations are ISO 8601") {
  CHECK(sentinel::iso_duration(kTicksPerHour) == "PT1H");
  CHECK(sentinel::iso_duration(25 * kTicksPerHour) == "P1DT1H");
  CHECK(sentinel::iso_duration(14 * kTicksPerDay) == "P14D");
  CHECK(sentinel::iso_duration(90 * kTicksPerMinute) == "PT1H30M");
  CHECK(sentinel::iso_duration(5 * kTicksPerMinute + 30 * kTicksPerSecond) == "PT5M30S");
  CHECK(sentinel::iso_duration(0) == "PT0S");
}

TEST_CASE("Sentinel's technique map: sub-techniques take their technique's tactics") {
  CHECK(sentinel::tactics_of("T1550.001") == std::vector<std::string>{"DefenseEvasion", "LateralMovement"});
  CHECK(sentinel::tactics_of("T1606") == std::vector<std::string>{"CredentialAccess"});
  CHECK(sentinel::tactics_of("T1999").empty());
}

// Any text in a name, description, tag or query reads back from the YAML exactly.
TEST_CASE("Sentinel YAML round-trips hostile text") {
  std::mt19937 rng(20261204);
  const std::vector<std::string> pieces = {"\"", "\\", "'", "\n", "\r", "\t", ": ", " #", "- ", "[", "]", "{{", "}}",
                                           "---", "...", "|", ">", "&a", "*a", "!t", "%", "@", "`", "yes", "null",
                                           "1.0", "0x1F", "~", " ", "ü", "✓", "\xF0\x9F\x94\x91", "\x01", "\x7F",
                                           "\xC2\x85", "\xE2\x80\xA8", "\xEF\xBB\xBF", "a", "let x = 1;\n"};
  for (int i = 0; i < 2000; ++i) {
    auto text = [&] {
      std::string s;
      int n = static_cast<int>(rng() % 12);
      for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
      return s;
    };
    sentinel::AlertRule a;
    a.id = "2d3b2c4e-1f0a-4b6c-9d8e-7a6b5c4d3e2f";
    a.name = text();
    a.description = text();
    a.query = text() + (i % 2 ? "\n" : "");
    a.tags = {text(), text()};
    a.alert_name_format = text();
    a.version = "1.0.0";
    a.frequency = a.period = kTicksPerHour;
    auto y = sentinel::yaml(a);
    YAML::Node n;
    REQUIRE_NOTHROW(n = YAML::Load(y));
    INFO(y);
    CHECK(n["name"].as<std::string>() == a.name);
    CHECK(n["description"].as<std::string>() == a.description);
    CHECK(n["query"].as<std::string>() == a.query);
    CHECK(n["tags"][0].as<std::string>() == a.tags[0]);
    CHECK(n["tags"][1].as<std::string>() == a.tags[1]);
    if (!a.alert_name_format.empty())
      CHECK(n["alertDetailsOverride"]["alertDisplayNameFormat"].as<std::string>() == a.alert_name_format);
    CHECK(n["version"].as<std::string>() == "1.0.0");
  }
}

TEST_CASE("Sentinel YAML escapes the characters YAML 1.1 readers take as line breaks") {
  sentinel::AlertRule a;
  a.id = "2d3b2c4e-1f0a-4b6c-9d8e-7a6b5c4d3e2f";
  a.name = "a\xE2\x80\xA8" "b\xC2\x85" "c";
  a.description = "plain ü";
  a.query = "T\n";
  a.version = "1.0.0";
  a.frequency = a.period = kTicksPerHour;
  auto y = sentinel::yaml(a);
  CHECK(y.find("\xE2\x80\xA8") == std::string::npos);
  CHECK(y.find("\xC2\x85") == std::string::npos);
  CHECK(y.find("plain ü") != std::string::npos);  // other text stays readable
  CHECK(YAML::Load(y)["name"].as<std::string>() == a.name);
}
