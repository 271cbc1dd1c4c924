// The simulator's row writer (simulator/output.h): rows rendered in place into fixed-size file
// buffers, nested JSON, and the two levels of quoting of JSON text in a string column. Every
// row is read back and parsed by simdjson, so escaping mistakes fail here, not in a trace.
#include <catch2/catch.hpp>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "simulator/output.h"
#include "simulator/rng.h"

using namespace ward::sim;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/ward_sim_output.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string get_string(simdjson::ondemand::document& d, std::string_view key) {
  return std::string(std::string_view(d[key].get_string().value()));
}

}  // namespace

TEST_CASE("rows larger than and crossing the file buffer are written whole and in order") {
  TempDir dir;
  {
    Output out(dir.path.string(), false);
    // 3,000 rows of 1..2,999 bytes of padding cross the 256 KiB buffer many times; one row of
    // 600 KB is larger than the buffer and makes it grow.
    for (int i = 0; i < 3000; ++i) {
      Row row(out, "T", 1686787200000 + i);
      std::string pad(static_cast<std::size_t>(i == 1500 ? 600000 : i), 'x');
      row.i("N", i).c("Pad", pad);
      CHECK(out.emit(row) == static_cast<std::uint64_t>(i + 1));
    }
    out.close();
  }
  auto lines = lines_of(dir.path / "T.jsonl");
  REQUIRE(lines.size() == 3000);
  simdjson::ondemand::parser parser;
  for (int i = 0; i < 3000; ++i) {
    simdjson::padded_string p(lines[static_cast<std::size_t>(i)]);
    auto doc = parser.iterate(p);
    CHECK(get_string(doc.value(), "Type") == "T");
    CHECK(doc["N"].get_int64().value() == i);
    CHECK(get_string(doc.value(), "Pad").size() == static_cast<std::size_t>(i == 1500 ? 600000 : i));
  }
}

TEST_CASE("a row that is never committed leaves nothing behind") {
  TempDir dir;
  {
    Output out(dir.path.string(), false);
    {
      Row row(out, "T", 0);
      row.i("N", 1);
      out.emit(row);
    }
    {
      Row dropped(out, "T", 0);  // e.g. an exception while rendering: destroyed unfinished
      dropped.i("N", 2);
    }
    Row row(out, "T", 0);
    row.i("N", 3);
    CHECK(out.emit(row) == 2);
    out.close();
  }
  auto lines = lines_of(dir.path / "T.jsonl");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"({"Type":"T","TimeGenerated":"1970-01-01T00:00:00.000Z","N":1})");
  CHECK(lines[1] == R"({"Type":"T","TimeGenerated":"1970-01-01T00:00:00.000Z","N":3})");
}

TEST_CASE("string values are escaped; JSON text in a string column is escaped twice") {
  TempDir dir;
  const std::string nasty = "quote \" backslash \\ newline \n tab \t bell \x07 end";
  {
    Output out(dir.path.string(), false);
    Row row(out, "T", 0);
    row.s("Plain", nasty).s(std::string_view("Runtime"), nasty);
    row.key("Dyn");
    {
      Json j(row);
      j.obj().kv("v", nasty).kc("id", "abc").kn("n", -5).k("b").boolean(true).k("a").arr().str("x").str(nasty).end_arr().end_obj();
    }
    row.key("Text");
    {
      Json j(row, true);
      j.obj().kv("v", nasty).kc("id", "abc").k("o").obj().end_obj().end_obj();
      j.done();
    }
    out.emit(row);
    out.close();
  }
  auto lines = lines_of(dir.path / "T.jsonl");
  REQUIRE(lines.size() == 1);
  simdjson::ondemand::parser parser;
  simdjson::padded_string p(lines[0]);
  auto doc = parser.iterate(p);
  CHECK(get_string(doc.value(), "Plain") == nasty);
  CHECK(get_string(doc.value(), "Runtime") == nasty);
  auto dyn = doc["Dyn"].get_object();
  CHECK(std::string_view(dyn["v"].get_string().value()) == nasty);
  CHECK(std::string_view(dyn["id"].get_string().value()) == "abc");
  CHECK(dyn["n"].get_int64().value() == -5);
  CHECK(dyn["b"].get_bool().value());
  std::vector<std::string> arr;
  for (auto e : dyn["a"].get_array()) arr.emplace_back(std::string_view(e.get_string().value()));
  CHECK(arr == std::vector<std::string>{"x", nasty});
  // The string column holds JSON text: parse it again.
  std::string text = get_string(doc.value(), "Text");
  simdjson::padded_string inner(text);
  simdjson::ondemand::parser parser2;
  auto doc2 = parser2.iterate(inner);
  CHECK(get_string(doc2.value(), "v") == nasty);
  CHECK(get_string(doc2.value(), "id") == "abc");
}

TEST_CASE("fragments render once and splice the same bytes") {
  Row f;
  f.c("A", "1").i("B", 2).b("C", false).r("D", 2.5).r("E", 3.0).t("F", 1686787200123);
  CHECK(f.text() == R"(,"A":"1","B":2,"C":false,"D":2.5,"E":3.0,"F":"2023-06-15T00:00:00.123Z")");
  f.clear();
  CHECK(f.view().empty());
}

TEST_CASE("discard mode counts rows and bytes and writes nothing") {
  TempDir dir;
  Output out((dir.path / "none").string(), false, "", true);
  std::uint64_t bytes = 0;
  for (int i = 0; i < 10000; ++i) {
    Row row(out, "T", i);
    row.c("K", "some value to fill the buffer with");
    bytes += row.finish().size();
    row.commit();
  }
  out.close();
  CHECK(out.files().at("T")->lines() == 10000);
  CHECK(out.files().at("T")->bytes() == bytes);
  CHECK_FALSE(fs::exists(dir.path / "none"));
}

TEST_CASE("GUIDs are v4-shaped and the same for the same seed") {
  Rng a(42), b(42);
  Guid g;
  a.guid_to(g.s);
  CHECK(std::string(g.v()) == b.guid());
  std::string s(g.v());
  REQUIRE(s.size() == 36);
  CHECK(s[8] == '-');
  CHECK(s[13] == '-');
  CHECK(s[14] == '4');
  CHECK(s[18] == '-');
  CHECK(std::string("89ab").find(s[19]) != std::string::npos);
  CHECK(s[23] == '-');
  // the reference spelling: digits of two draws, most significant first, version and variant set
  Rng c(42);
  std::uint64_t hi = c.next(), lo = c.next();
  hi = (hi & ~(0xfULL << 12)) | (0x4ULL << 12);
  lo = (lo & ~(0xcULL << 60)) | (0x8ULL << 60);
  char want[40];
  std::snprintf(want, sizeof want, "%08llx-%04llx-%04llx-%04llx-%012llx", static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xffff), static_cast<unsigned long long>(hi & 0xffff),
                static_cast<unsigned long long>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  CHECK(s == want);
}

TEST_CASE("datetimes across days, years and the memo of the last day") {
  char b[32];
  CHECK(std::string(b, iso8601_to(b, 0)) == "1970-01-01T00:00:00.000Z");
  CHECK(std::string(b, iso8601_to(b, 1686787199999)) == "2023-06-14T23:59:59.999Z");
  CHECK(std::string(b, iso8601_to(b, 1686787200000)) == "2023-06-15T00:00:00.000Z");
  CHECK(std::string(b, iso8601_to(b, 1686787199999)) == "2023-06-14T23:59:59.999Z");
  CHECK(std::string(b, iso8601_to(b, 951782400000)) == "2000-02-29T00:00:00.000Z");
  CHECK(std::string(b, iso8601_to(b, -1)) == "1969-12-31T23:59:59.999Z");
  CHECK(iso8601(1686787200000) == "2023-06-15T00:00:00.000Z");
}
