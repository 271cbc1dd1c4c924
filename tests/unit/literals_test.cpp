#include <catch2/catch.hpp>

#include "ast/literals.h"
#include "ast/value.h"

using namespace ward;

TEST_CASE("datetimes parse to ticks since the epoch") {
  CHECK(literals::parse_datetime("1970-01-01") == 0);
  CHECK(literals::parse_datetime("2023-05-15T00:00:00Z") == 16841088000000000LL);
  CHECK(literals::parse_datetime("2023-05-15T02:00:00+02:00") == 16841088000000000LL);
  CHECK(literals::parse_datetime("2023-05-15T00:00:00.5Z") == 16841088005000000LL);
  CHECK_FALSE(literals::parse_datetime("2023-02-29"));
  CHECK(literals::parse_datetime("2024-02-29"));
  CHECK_FALSE(literals::parse_datetime("2023-13-01"));
  CHECK_FALSE(literals::parse_datetime("2023-01-01T24:00"));
  CHECK(format_datetime(*literals::parse_datetime("2023-07-04T12:34:56Z")) == "2023-07-04T12:34:56Z");
}

TEST_CASE("durations") {
  CHECK(literals::parse_duration("30s") == 30 * kTicksPerSecond);
  CHECK(literals::parse_duration("5m") == 5 * kTicksPerMinute);
  CHECK(literals::parse_duration("14d") == 14 * kTicksPerDay);
  CHECK(literals::parse_duration("250ms") == 2'500'000);
  CHECK(literals::parse_duration("1.5h") == 90 * kTicksPerMinute);
  CHECK_FALSE(literals::parse_duration("5y"));
  CHECK(format_duration(90 * kTicksPerMinute) == "90m");
  CHECK(format_duration(kTicksPerDay) == "1d");
}

TEST_CASE("IP addresses and CIDR ranges") {
  CHECK(literals::parse_ip("51.89.156.153") == std::string("51.89.156.153"));
  CHECK_FALSE(literals::parse_ip("300.1.1.1"));
  CHECK(literals::parse_ip("2001:DB8::1") == std::string("2001:db8::1"));
  literals::CidrError err{};
  CHECK(literals::parse_cidr("10.0.0.0/8")->prefix == 8);
  CHECK_FALSE(literals::parse_cidr("10.0.0.0/33", &err));
  CHECK(err == literals::CidrError::BadPrefix);
  CHECK(literals::parse_cidr("2001:db8::/32")->v6);
  CHECK_FALSE(literals::parse_cidr("2001:db8::/129"));
}

TEST_CASE("string escapes") {
  std::size_t off = 0, len = 0;
  CHECK(literals::unescape(R"(a\"b\\c\n)", &off, &len) == std::string("a\"b\\c\n"));
  CHECK(literals::unescape(R"(\u00e9\u{1F600})", &off, &len) == std::string("\xC3\xA9\xF0\x9F\x98\x80"));
  CHECK_FALSE(literals::unescape(R"(ab\qc)", &off, &len));
  CHECK(off == 2);
  CHECK(len == 2);
  CHECK_FALSE(literals::unescape(R"(\u{D800})", &off, &len));
  for (std::string s : {"plain", "quote\"", "back\\slash", "new\nline", "tab\t", "\x01"}) {
    auto q = literals::quote(s);
    CHECK(literals::unescape(std::string_view(q).substr(1, q.size() - 2), &off, &len) == s);
  }
}

TEST_CASE("GUIDs") {
  CHECK(literals::is_guid("9188040d-6c67-4c5b-b112-36a304b66dad"));
  CHECK_FALSE(literals::is_guid("9188040d-6c67-4c5b-b112-36a304b66da"));
  CHECK_FALSE(literals::is_guid("9188040d-6c67-4c5b-b112_36a304b66dad"));
}
