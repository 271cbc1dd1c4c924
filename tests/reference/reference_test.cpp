// The reference evaluator against the worked examples of docs/semantics.md, computed by hand
// from the document (section numbers below), plus the canonical form and the generator.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "driver/pipeline.h"
#include "gen.h"
#include "reference.h"

namespace {

namespace fs = std::filesystem;
using Lines = std::vector<std::string>;

std::unique_ptr<ward::driver::Compilation> compile(const std::string& source) {
  static int counter = 0;
  fs::path dir = fs::temp_directory_path() / ("ward_ref_tests." + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path file = dir / ("case" + std::to_string(counter++) + ".ward");
  std::ofstream(file) << source;
  auto c = std::make_unique<ward::driver::Compilation>();
  ward::driver::compile({file.string()}, {}, *c);
  fs::remove(file);
  fs::remove(dir);  // only when empty
  return c;
}

// The alerts as ward_ref prints them: `rule \t time \t outcome`, in a set.
std::set<std::string> run(const std::string& source, const Lines& events) {
  auto c = compile(source);
  REQUIRE_FALSE(c->sink.has_errors());
  std::set<std::string> out;
  for (const auto& a : ward::ref::evaluate(c->module, events)) out.insert(ward::ref::format_alert(a));
  return out;
}

std::string meta(const std::string& name) {
  return "rule " + name + " {\n  meta { title = \"" + name + "\" description = \"t\" severity = low }\n";
}

// One event line of table `type` at `time` with extra JSON members.
std::string ev(const std::string& type, const std::string& time, const std::string& members = "") {
  return "{\"Type\":\"" + type + "\",\"TimeGenerated\":\"" + time + "\"" + (members.empty() ? "" : "," + members) + "}";
}

std::string at(const std::string& hhmm) { return "2024-01-01T" + hhmm + ":00Z"; }

}  // namespace

TEST_CASE("§7.2 threshold: the worked example alerts at 00:04 and 00:22 only", "[threshold]") {
  std::string src = "table T { TimeGenerated: datetime  Ip: string }\n" + meta("burst") +
                    "  events { $e = T }\n"
                    "  condition count($e) >= 3 by $e.Ip within 10m\n"
                    "  outcome { ip = $e.Ip  n = count($e) }\n}\n";
  Lines events;
  // One IP at 00:00 00:02 00:04 00:05 00:20 00:21 00:22, the day before at 23:5x for the window rows.
  for (const char* t : {"00:00", "00:02", "00:04", "00:05", "00:20", "00:21", "00:22"})
    events.push_back(ev("T", at(t), "\"Ip\":\"1.2.3.4\""));
  // Another key with only two events in the same windows must not join the first group.
  events.push_back(ev("T", at("00:03"), "\"Ip\":\"5.6.7.8\""));
  events.push_back(ev("T", at("00:04"), "\"Ip\":\"5.6.7.8\""));
  CHECK(run(src, events) == std::set<std::string>{
                                "burst\t2024-01-01T00:04:00Z\t{\"ip\":\"1.2.3.4\",\"n\":3}",
                                "burst\t2024-01-01T00:22:00Z\t{\"ip\":\"1.2.3.4\",\"n\":3}",
                            });
}

TEST_CASE("§7.2 threshold: one evaluation time per instant, closed window, re-arm after silence", "[threshold]") {
  std::string src = "table T { TimeGenerated: datetime  Ip: string  N: long }\n" + meta("pair") +
                    "  events { $e = T }\n"
                    "  condition count($e) >= 2 within 5m\n"
                    "  outcome { n = count($e)  s = sum($e.N) }\n}\n" +
                    meta("each") +
                    "  events { $e = T }\n"
                    "  condition count($e) >= 1 by $e.Ip within 10m\n"
                    "  outcome { ip = $e.Ip }\n}\n";
  Lines events = {
      // Two events at one instant are both in its window: `pair` alerts once at 00:01, with both.
      ev("T", at("00:01"), "\"Ip\":\"a\",\"N\":2"),
      ev("T", at("00:01"), "\"Ip\":\"a\",\"N\":3"),
      // 00:11 is exactly W after 00:01: still continuing for `each`; 00:25 is after a silence > W.
      ev("T", at("00:11"), "\"Ip\":\"a\""),
      ev("T", at("00:25"), "\"Ip\":\"a\",\"N\":null"),
      // An empty key takes no part at all.
      ev("T", at("00:30"), "\"Ip\":\"\""),
  };
  CHECK(run(src, events) == std::set<std::string>{
                                "each\t2024-01-01T00:01:00Z\t{\"ip\":\"a\"}",
                                "each\t2024-01-01T00:25:00Z\t{\"ip\":\"a\"}",
                                "pair\t2024-01-01T00:01:00Z\t{\"n\":2,\"s\":5}",
                                // 00:11 and 00:25 have one event in their windows: lapsed. With no
                                // `by` the empty Ip is no key, so 00:30 rises again; its N are null.
                                "pair\t2024-01-01T00:30:00Z\t{\"n\":2,\"s\":0}",
                            });
}

TEST_CASE("§7.2 threshold: dcount counts distinct existing values, sum skips nulls", "[threshold]") {
  std::string src = "table T { TimeGenerated: datetime  U: string  R: real }\n" + meta("many") +
                    "  events { $e = T }\n"
                    "  condition dcount($e.U) >= 2 within 10m\n"
                    "  outcome { d = dcount($e.U)  r = sum($e.R)  n = count($e) }\n}\n";
  Lines events = {
      ev("T", at("00:00"), "\"U\":\"x\",\"R\":0.5"),
      ev("T", at("00:01"), "\"U\":\"\",\"R\":null"),
      ev("T", at("00:02"), "\"R\":1.25"),
      ev("T", at("00:03"), "\"U\":\"X\",\"R\":\"2\""),
  };
  CHECK(run(src, events) == std::set<std::string>{"many\t2024-01-01T00:03:00Z\t{\"d\":2,\"r\":3.75,\"n\":4}"});
}

TEST_CASE("§7.3 sequence: the worked example, greedy latest token", "[sequence]") {
  std::string src =
      "table Tok { TimeGenerated: datetime  User: string  Id: string }\n"
      "table Rd { TimeGenerated: datetime  User: string  Id: string }\n" +
      meta("seq") +
      "  events { $token = Tok  $read = Rd }\n"
      "  condition sequence $token then $read by $token.User = $read.User within 2h\n"
      "  outcome { token = $token.Id  read = $read.Id }\n}\n";
  Lines events = {
      ev("Tok", at("09:00"), "\"User\":\"u\",\"Id\":\"A\""),
      ev("Tok", at("09:30"), "\"User\":\"u\",\"Id\":\"B\""),
      ev("Rd", at("10:00"), "\"User\":\"u\",\"Id\":\"R1\""),
      ev("Rd", at("11:20"), "\"User\":\"u\",\"Id\":\"R2\""),
      ev("Rd", at("12:00"), "\"User\":\"u\",\"Id\":\"R3\""),
      // Another user's token is no step of this user's chain.
      ev("Tok", at("11:50"), "\"User\":\"v\",\"Id\":\"V\""),
  };
  CHECK(run(src, events) == std::set<std::string>{
                                "seq\t2024-01-01T10:00:00Z\t{\"token\":\"B\",\"read\":\"R1\"}",
                                "seq\t2024-01-01T11:20:00Z\t{\"token\":\"B\",\"read\":\"R2\"}",
                            });
}

TEST_CASE("§7.3 sequence: strictly increasing times, window end included, ties last in input", "[sequence]") {
  std::string src = "table T { TimeGenerated: datetime  K: string  S: string  Id: string }\n" + meta("s3") +
                    "  events { $x = T where S == \"x\"  $y = T where S == \"y\"  $z = T where S == \"z\" }\n"
                    "  condition sequence $x then $y then $z by $x.K = $y.K = $z.K within 10m\n"
                    "  outcome { x = $x.Id  y = $y.Id }\n}\n";
  Lines events = {
      ev("T", at("00:00"), "\"K\":\"k\",\"S\":\"x\",\"Id\":\"x0\""),
      ev("T", at("00:05"), "\"K\":\"k\",\"S\":\"y\",\"Id\":\"y1\""),
      ev("T", at("00:05"), "\"K\":\"k\",\"S\":\"y\",\"Id\":\"y2\""),  // tie at 00:05: the later line wins
      ev("T", at("00:10"), "\"K\":\"k\",\"S\":\"z\",\"Id\":\"z1\""),  // 00:10 - 00:00 = W: a chain
      ev("T", at("00:11"), "\"K\":\"k\",\"S\":\"y\",\"Id\":\"y3\""),
      ev("T", at("00:11"), "\"K\":\"k\",\"S\":\"z\",\"Id\":\"z2\""),  // y3 is not strictly before
      ev("T", at("00:12"), "\"K\":\"k\",\"S\":\"z\",\"Id\":\"z3\""),  // greedy y3 then x0: 12m > W
  };
  CHECK(run(src, events) == std::set<std::string>{"s3\t2024-01-01T00:10:00Z\t{\"x\":\"x0\",\"y\":\"y2\"}"});
}

TEST_CASE("§7.4 join: the worked example gives 3 alerts", "[join]") {
  std::string src = "table M { TimeGenerated: datetime  Box: string  Kind: string  Id: string }\n" + meta("j") +
                    "  events { $a = M where Kind == \"a\"  $b = M where Kind == \"b\" }\n"
                    "  condition $a and $b by $a.Box = $b.Box within 15m\n"
                    "  outcome { a = $a.Id  b = $b.Id }\n}\n";
  Lines events = {
      ev("M", at("10:00"), "\"Box\":\"m\",\"Kind\":\"a\",\"Id\":\"a1\""),
      ev("M", at("10:05"), "\"Box\":\"m\",\"Kind\":\"b\",\"Id\":\"b1\""),
      ev("M", at("10:10"), "\"Box\":\"m\",\"Kind\":\"a\",\"Id\":\"a2\""),
      ev("M", at("10:10"), "\"Box\":\"m\",\"Kind\":\"b\",\"Id\":\"b2\""),
  };
  CHECK(run(src, events) == std::set<std::string>{
                                "j\t2024-01-01T10:05:00Z\t{\"a\":\"a1\",\"b\":\"b1\"}",
                                "j\t2024-01-01T10:10:00Z\t{\"a\":\"a2\",\"b\":\"b2\"}",
                                "j\t2024-01-01T10:10:00Z\t{\"a\":\"a1\",\"b\":\"b2\"}",
                            });
}

TEST_CASE("§7.4 join: a row never pairs with itself; window far end included", "[join]") {
  std::string src = "table M { TimeGenerated: datetime  Box: string  Id: string }\n" + meta("self") +
                    "  events { $a = M  $b = M }\n"
                    "  condition $a and $b by $a.Box = $b.Box within 15m\n"
                    "  outcome { a = $a.Id  b = $b.Id }\n}\n";
  Lines events = {
      ev("M", at("10:00"), "\"Box\":\"m\",\"Id\":\"r1\""),
      ev("M", at("10:15"), "\"Box\":\"m\",\"Id\":\"r2\""),
      ev("M", at("10:31"), "\"Box\":\"m\",\"Id\":\"r3\""),
  };
  // r2's $a pairs with r1's $b (exactly W before), r2's $b with r1's $a; r1 and r3 have no other
  // row within W, and no row pairs with itself.
  CHECK(run(src, events) == std::set<std::string>{
                                "self\t2024-01-01T10:15:00Z\t{\"a\":\"r2\",\"b\":\"r1\"}",
                                "self\t2024-01-01T10:15:00Z\t{\"a\":\"r1\",\"b\":\"r2\"}",
                            });
}

TEST_CASE("§7.5 absence: far end included, the anchor's instant excluded", "[absence]") {
  std::string src = "table Mail { TimeGenerated: datetime  User: string }\n"
                    "table Login { TimeGenerated: datetime  User: string }\n" +
                    meta("nologin") +
                    "  events { $mail = Mail  $login = Login }\n"
                    "  condition $mail and not $login by $mail.User = $login.User within 1d before $mail\n"
                    "  outcome { user = $mail.User }\n}\n" +
                    meta("nolater") +
                    "  events { $mail = Mail  $login = Login }\n"
                    "  condition $mail and not $login by $mail.User = $login.User within 1h after\n"
                    "  outcome { user = $mail.User }\n}\n";
  Lines events = {
      // u1: a witness exactly t(a) - W: no alert for `nologin`.
      ev("Login", "2024-01-01T10:00:00Z", "\"User\":\"u1\""),
      ev("Mail", "2024-01-02T10:00:00Z", "\"User\":\"u1\""),
      // u2: the only sign-in is at the read's own instant: no witness, an alert.
      ev("Mail", "2024-01-02T10:00:00Z", "\"User\":\"u2\""),
      ev("Login", "2024-01-02T10:00:00Z", "\"User\":\"u2\""),
      // u3: a sign-in one tick before the window: an alert.
      ev("Login", "2024-01-01T09:59:59.9999999Z", "\"User\":\"u3\""),
      ev("Mail", "2024-01-02T10:00:00Z", "\"User\":\"u3\""),
      // `after`: u1's next sign-in is exactly t + 1h (witness); u2 and u3 have none after.
      ev("Login", "2024-01-02T11:00:00Z", "\"User\":\"u1\""),
      // An anchor with an empty key never alerts.
      ev("Mail", "2024-01-02T12:00:00Z", "\"User\":\"\""),
  };
  CHECK(run(src, events) == std::set<std::string>{
                                "nolater\t2024-01-02T10:00:00Z\t{\"user\":\"u2\"}",
                                "nolater\t2024-01-02T10:00:00Z\t{\"user\":\"u3\"}",
                                "nologin\t2024-01-02T10:00:00Z\t{\"user\":\"u2\"}",
                                "nologin\t2024-01-02T10:00:00Z\t{\"user\":\"u3\"}",
                            });
}

TEST_CASE("§3.3 the null table", "[null]") {
  // One rule per row of the table; an event with N, B and S all missing.
  const std::vector<std::pair<std::string, bool>> rows = {
      {"N == 5", false},       {"N != 5", false},           {"not (N == 5)", true},
      {"N < 100", false},      {"N >= 100", false},         {"not (N < 100)", true},
      {"N == 5 or true", true}, {"N == 5 and false", false}, {"empty(N) or N != 5", true},
      {"B", false},            {"not B", true},             {"B != true", false},
      {"S == \"\"", true},     {"S != \"x\"", true},        {"not (S == \"x\")", true},
  };
  std::string src = "table T { TimeGenerated: datetime  N: long  B: bool  S: string }\n";
  std::set<std::string> expected;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    std::string name = "p" + std::to_string(k);
    src += meta(name) + "  events { $e = T where " + rows[k].first + " }\n}\n";
    if (rows[k].second) expected.insert(name + "\t2024-01-01T00:00:00Z\t{}");
  }
  // Explicit JSON null reads the same as a missing column (§1.5, §2.3).
  CHECK(run(src, {ev("T", at("00:00"))}) == expected);
  CHECK(run(src, {ev("T", at("00:00"), "\"N\":null,\"B\":null,\"S\":null")}) == expected);
}

TEST_CASE("§4.3 the has table", "[has]") {
  const std::vector<std::tuple<std::string, std::string, bool>> rows = {
      {"Client=REST;Client=RESTSystem;;", "RESTSystem", true},
      {"Client=REST;Client=RESTSystem;;", "REST", true},
      {"Client=REST;Client=RESTSystem;;", "RESTS", false},
      {"Client=REST;Client=RESTSystem;;", "client=rest", true},
      {"KustoExplorerQueryRun", "Explorer", false},
      {"ad67d136-c1db-4f9f", "c1db", true},
      {"North America", "america", true},
      // Not in the document's table; straight from its definition: each boundary on its own.
      {"KustoExplorer", "Explorer", false},   // ends on a boundary, starts inside a term
      {"ExplorerQuery", "explorer", false},   // starts on a boundary, ends inside a term
      {"a.b", "", true},                      // an empty needle means contains
  };
  std::string src = "table T { TimeGenerated: datetime  X: string }\n";
  std::set<std::string> expected;
  Lines events;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const auto& [x, t, want] = rows[k];
    std::string name = "h" + std::to_string(k);
    src += meta(name) + "  events { $e = T where X == \"" + x + "\" }\n  outcome { has = X has \"" + t +
           "\"  nothas = X !has \"" + t + "\" }\n}\n";
    expected.insert(name + "\t2024-01-01T00:00:00Z\t{\"has\":" + (want ? "true" : "false") + ",\"nothas\":" +
                    (want ? "false" : "true") + "}");
  }
  for (const auto& [x, t, want] : rows) events.push_back(ev("T", at("00:00"), "\"X\":\"" + x + "\""));
  CHECK(run(src, events) == expected);
}

TEST_CASE("§4.6 in cidr: family dispatch, and null for what is no address", "[cidr]") {
  std::string src = "table T { TimeGenerated: datetime  Ip: string }\n"
                    "list Ranges: cidr = [10.9.9.9/8, 192.0.2.7]\n" +
                    meta("in") + "  events { $e = T where Ip in cidr [10.0.0.0/8, 2001:db8::/32] }\n  outcome { ip = Ip }\n}\n" +
                    meta("notin") + "  events { $e = T where Ip !in cidr [10.0.0.0/8, 2001:db8::/32] }\n  outcome { ip = Ip }\n}\n" +
                    meta("named") + "  events { $e = T where Ip in cidr Ranges }\n  outcome { ip = Ip }\n}\n";
  Lines events;
  for (const char* ip : {"10.1.2.3", "11.0.0.1", "2001:DB8::1", "::ffff:10.1.2.3", "", "10.1.2.3:51233",
                         "192.0.2.7", "192.0.2.8",
                         // same leading bits as the other family's range (0x2001:0db8, 0x0a): never inside it
                         "32.1.13.184", "a01:203::"})
    events.push_back(ev("T", at("00:00"), std::string("\"Ip\":\"") + ip + "\""));
  events.push_back(ev("T", at("00:00")));  // missing: "" again
  auto line = [](const char* rule, const char* ip) {
    return std::string(rule) + "\t2024-01-01T00:00:00Z\t{\"ip\":\"" + ip + "\"}";
  };
  CHECK(run(src, events) == std::set<std::string>{
                                line("in", "10.1.2.3"), line("in", "2001:DB8::1"),
                                line("notin", "11.0.0.1"), line("notin", "::ffff:10.1.2.3"),
                                line("notin", "192.0.2.7"), line("notin", "192.0.2.8"),
                                line("notin", "32.1.13.184"), line("notin", "a01:203::"),
                                // host bits after the prefix are ignored; a bare address is a /32
                                line("named", "10.1.2.3"), line("named", "192.0.2.7"),
                            });
}

TEST_CASE("§2.3 reading exported columns, §6 dynamic access, canonical outcome", "[read]") {
  std::string src =
      "table T { TimeGenerated: datetime  S: string  N: long  I: int  R: real  B: bool  D: dynamic"
      "  W: datetime  P: timespan  G: guid }\n" +
      meta("read") +
      "  events { $e = T }\n"
      "  outcome { s = S  n = N  i = I  r = R  b = B  d = D  k = D.k  last = D.arr[-1]  w = W  p = P  g = G"
      "  q = 7 / 2  m = -14 % 12  z = N / 0 }\n}\n";
  Lines events = {
      ev("T", "2024-01-01T01:00:00+01:00",
         R"("S":{"a":[1,2.5,"x"]},"N":"42","I":3000000000,"R":"2.5","B":"true",)"
         R"("D":"{\"k\":\"v\\n\",\"arr\":[1,{\"z\":null}]}","W":"2024-01-01T00:00:00.1200000Z",)"
         R"("P":"-1.02:03:04.5","G":"ABC")"),
      ev("T", "2024-01-01T00:00:00Z", R"("S":7,"N":2.5,"R":1,"D":"not json","P":"00:00:00","W":"2024-01-01")"),
      ev("T", "2024-01-01T00:00:00Z", R"("D":[1,2],"N":-9223372036854775808,"R":"1e400","S":"\u0001\"\\\t")"),
      R"({"Type":"T","TimeGenerated":"garbage"})",                     // no valid time: dropped
      R"({"Type":"T"})",                                               // no time: dropped
      "{\"Type\":\"T\",\"TimeGenerated\":",                           // not JSON: dropped
      R"({"Type":"Other","TimeGenerated":"2024-01-01T00:00:00Z"})",   // a table no rule reads
  };
  CHECK(run(src, events) ==
        std::set<std::string>{
            "read\t2024-01-01T00:00:00Z\t{\"s\":\"{\\\"a\\\":[1,2.5,\\\"x\\\"]}\",\"n\":42,\"i\":null,\"r\":2.5,"
            "\"b\":null,\"d\":{\"k\":\"v\\n\",\"arr\":[1,{\"z\":null}]},\"k\":\"v\\n\",\"last\":{\"z\":null},"
            "\"w\":\"2024-01-01T00:00:00.1200000Z\",\"p\":\"-1.02:03:04.5\",\"g\":\"ABC\",\"q\":3,\"m\":10,\"z\":null}",
            "read\t2024-01-01T00:00:00Z\t{\"s\":\"7\",\"n\":null,\"i\":null,\"r\":1,\"b\":null,\"d\":\"not json\","
            "\"k\":null,\"last\":null,\"w\":null,\"p\":\"00:00:00\",\"g\":null,\"q\":3,\"m\":10,\"z\":null}",
            "read\t2024-01-01T00:00:00Z\t{\"s\":\"\\u0001\\\"\\\\\\t\",\"n\":-9223372036854775808,\"i\":null,"
            "\"r\":null,\"b\":null,\"d\":[1,2],\"k\":null,\"last\":null,\"w\":null,\"p\":null,\"g\":null,\"q\":3,"
            "\"m\":10,\"z\":null}",
        });
}

TEST_CASE("§5 functions and §4 operators on one event", "[functions]") {
  std::string src =
      "table T { TimeGenerated: datetime  S: string  D: dynamic  P: timespan }\n" + meta("fn") +
      "  events { $e = T }\n"
      "  outcome { lo = tolower(S)  up = toupper(S)  len = strlen(S)  tr = trim(S)  ci = trim(S) =~ \"été x\"  ci2 = trim(S) =~ \"ÉTÉ X\""
      "  pj = parse_json(\"[1,\\\"a\\\"]\")  pjs = parse_json(\"nope\")  al = array_length(D)"
      "  h = hourofday(TimeGenerated)  dow = dayofweek(TimeGenerated)  sod = startofday(TimeGenerated)"
      "  tl = tolong(\"-12\")  tlx = tolong(\"1.5\")  tr2 = toreal(\"1e1\")  dt = todatetime(\"2024-01-01T10:00:00+02:00\")"
      "  ts = totimespan(\"1.00:00:01\")  half = P / 2  ratio = P / 1m  ex = exists(D)  em = empty(\"\")"
      "  re = S matches regex r\"^\\s*é\"  st = tostring(D)  dn = D[0] + 1 }\n}\n";
  // 2024-01-07 is a Sunday.
  Lines events = {ev("T", "2024-01-07T13:45:00Z", R"("S":" été X\n","D":[41,"b"],"P":"00:03:00")")};
  CHECK(run(src, events) ==
        std::set<std::string>{
            "fn\t2024-01-07T13:45:00Z\t{\"lo\":\" été x\\n\",\"up\":\" ÉTÉ X\\n\",\"len\":7,\"tr\":\"été X\","
            "\"ci\":true,\"ci2\":false,\"pj\":[1,\"a\"],\"pjs\":\"nope\",\"al\":2,\"h\":13,\"dow\":0,"
            "\"sod\":\"2024-01-07T00:00:00Z\",\"tl\":-12,\"tlx\":null,\"tr2\":10,\"dt\":\"2024-01-01T08:00:00Z\","
            "\"ts\":\"1.00:00:01\",\"half\":\"00:01:30\",\"ratio\":3,\"ex\":true,\"em\":true,\"re\":true,"
            "\"st\":\"[41,\\\"b\\\"]\",\"dn\":42}",
        });
}

TEST_CASE("§1.4 GUIDs compare without case, keys with it", "[guid]") {
  std::string src = "table T { TimeGenerated: datetime  G: guid  S: string }\n" + meta("g") +
                    "  events { $e = T where G == 9188040d-6c67-4c5b-b112-36a304b66dad }\n  outcome { s = S }\n}\n" +
                    meta("s") +
                    "  events { $e = T where S == \"9188040d-6c67-4c5b-b112-36a304b66dad\" }\n  outcome { s = S }\n}\n" +
                    "list Apps: guid = [9188040d-6c67-4c5b-b112-36a304b66dad]\n" + meta("glist") +
                    "  events { $e = T where G in Apps }\n  outcome { s = S }\n}\n" + meta("slist") +
                    "  events { $e = T where G in [\"9188040d-6c67-4c5b-b112-36a304b66dad\"] }\n  outcome { s = S }\n}\n";
  Lines events = {ev("T", at("00:00"),
                     R"("G":"9188040D-6C67-4C5B-B112-36A304B66DAD","S":"9188040D-6C67-4C5B-B112-36A304B66DAD")")};
  // `g` and `glist` ignore case (a GUID literal, a GUID list); `s` and `slist` compare strings.
  CHECK(run(src, events) ==
        std::set<std::string>{"g\t2024-01-01T00:00:00Z\t{\"s\":\"9188040D-6C67-4C5B-B112-36A304B66DAD\"}",
                              "glist\t2024-01-01T00:00:00Z\t{\"s\":\"9188040D-6C67-4C5B-B112-36A304B66DAD\"}"});
}

TEST_CASE("canonical pieces: timespan text, JSON escaping, datetime reading", "[format]") {
  using ward::ref::format_timespan;
  CHECK(format_timespan(0) == "00:00:00");
  CHECK(format_timespan(90 * ward::kTicksPerSecond) == "00:01:30");
  CHECK(format_timespan(ward::kTicksPerDay + 5) == "1.00:00:00.0000005");
  CHECK(format_timespan(-(ward::kTicksPerSecond / 2)) == "-00:00:00.5");
  CHECK(format_timespan(14 * ward::kTicksPerDay) == "14.00:00:00");
  CHECK(ward::ref::json_quote("a\"b\\c\b\f\n\r\t\x01\x1fé") == "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001fé\"");
  CHECK(ward::ref::parse_datetime("2024-01-01T00:00:00Z") == 1704067200LL * ward::kTicksPerSecond);
  CHECK(ward::ref::parse_datetime("2024-01-01T02:00:00.5+02:00") ==
        1704067200LL * ward::kTicksPerSecond + ward::kTicksPerSecond / 2);
  CHECK(ward::ref::parse_datetime("2024-01-01T00:00") == std::nullopt);  // no zone
  CHECK(ward::ref::parse_datetime("2024-02-30T00:00:00Z") == std::nullopt);
  CHECK(ward::ref::parse_datetime("2024-01-01T00:00:00.12345678Z") == std::nullopt);
  CHECK(ward::ref::parse_timespan("-1.02:03:04.5") ==
        -(ward::kTicksPerDay + 2 * ward::kTicksPerHour + 3 * ward::kTicksPerMinute + 4 * ward::kTicksPerSecond +
          ward::kTicksPerSecond / 2));
  CHECK(ward::ref::parse_timespan("25:00:00") == std::nullopt);
  CHECK(ward::ref::parse_timespan("5m") == std::nullopt);
}

TEST_CASE("§8 now() is the latest event time read so far", "[now]") {
  std::string src = "table T { TimeGenerated: datetime  Id: string }\n" + meta("recent") +
                    "  events { $e = T where TimeGenerated > ago(5m) }\n  outcome { id = Id  now = now() }\n}\n";
  Lines events = {
      ev("T", at("00:10"), "\"Id\":\"first\""),  // now = 00:10: kept
      ev("T", at("00:04"), "\"Id\":\"late\""),   // now = 00:10 still: 00:04 is not after 00:05
      ev("T", at("00:06"), "\"Id\":\"mid\""),    // kept
  };
  CHECK(run(src, events) == std::set<std::string>{
                                "recent\t2024-01-01T00:06:00Z\t{\"id\":\"mid\",\"now\":\"2024-01-01T00:10:00Z\"}",
                                "recent\t2024-01-01T00:10:00Z\t{\"id\":\"first\",\"now\":\"2024-01-01T00:10:00Z\"}",
                            });
}

TEST_CASE("generator: deterministic, and every case compiles", "[gen]") {
  auto a = ward::ref::generate(42), b = ward::ref::generate(42), c = ward::ref::generate(43);
  CHECK(a.ward_source == b.ward_source);
  CHECK(a.events == b.events);
  CHECK((a.ward_source != c.ward_source || a.events != c.events));
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    auto k = ward::ref::generate(seed);
    INFO("seed " << seed << "\n" << k.ward_source);
    REQUIRE(k.events.size() >= 20);
    auto comp = compile(k.ward_source);
    REQUIRE_FALSE(comp->sink.has_errors());
    ward::ref::evaluate(comp->module, k.events);  // must not throw or crash on any generated input
  }
}
