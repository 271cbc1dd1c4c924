// The case generator. Pools are small on purpose: a few users, addresses and numbers, times on
// whole minutes (sometimes half minutes) within half an hour, and windows of whole minutes, so
// that random rules meet the corner cases of docs/semantics.md far more often than real data does.
#include "gen.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <string_view>

#include "ast/value.h"
#include "reference.h"
#include "rng.h"

namespace ward::ref {
namespace {

// Ward's string literal syntax (§1.2).
std::string wq(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

const char* kTableA = "GenA_CL";
const char* kTableB = "GenB_CL";
const char* kTableUnread = "GenUnread_CL";
const std::int64_t kBase = 1704067200LL * kTicksPerSecond;  // 2024-01-01T00:00:00Z

const std::vector<std::string> kUsers = {"alice", "Alice", "ALICE", "bob", "BOB", "carol@contoso.com",
                                         "", "été", "ÉTÉ", " alice\t"};
const std::vector<std::string> kIps = {"10.1.2.3", "10.0.0.1", "11.0.0.1", "192.168.1.7", "2001:DB8::1",
                                       "2001:db8::1", "::ffff:10.1.2.3", "", "n/a", "10.1.2.3:443",
                                       "fe80::1%eth0", "2001:db8::/32", "2001:db9::5"};
const std::vector<std::string> kOps = {"Read", "Send", "Client=REST;Client=RESTSystem;;", "KustoExplorerQueryRun",
                                       "North America", "svc-backup@contoso.com", "a@contoso.com",
                                       "ad67d136-c1db-4f9f", "FabriKam", "", "tab\there", "quote\"q\\",
                                       "new\nline", "ctl\x01"};
const std::vector<std::string> kGuids = {"9188040d-6c67-4c5b-b112-36a304b66dad",
                                         "9188040D-6C67-4C5B-B112-36A304B66DAD",
                                         "00000000-0000-0000-0000-000000000001", ""};
// Literal pools for rules: near the data, so both outcomes of a test occur.
const std::vector<std::string> kUserLits = {"alice", "Alice", "bob", "BOB", "", "été", "carol@contoso.com", "x"};
const std::vector<std::string> kNeedles = {"rest", "RESTSystem", "RESTS", "client=rest", "Explorer", "c1db",
                                           "america", "", "contoso.com", "@CONTOSO.com", "SVC-", "brik", "=;",
                                           "a", "é", "al"};
const std::vector<std::string> kRegexes = {R"(^a)", R"((?i)^alice$)", R"(REST[A-Z])", R"(\d)", R"([0-9]+)",
                                           R"(@contoso\.com$)", R"(^$)", R"(é)", R"(^\s)", R"(\n)"};
const std::vector<std::string> kCidrs = {"10.0.0.0/8", "2001:db8::/32", "192.168.1.7", "10.1.2.0/24",
                                         "::ffff:0:0/96", "0.0.0.0/0"};

// ---------------------------------------------------------------- expressions

// Where an expression is written: which table's columns exist, and how they are named
// (bare inside a where or a single-event outcome, `$v.` in correlations).
struct Scope {
  bool a = true;  // GenA_CL has every column; GenB_CL a few
  std::string p;
};

class ExprGen {
 public:
  explicit ExprGen(Rng& r) : r_(r) {}

  std::string str(const Scope& s) {
    std::vector<std::function<std::string()>> c = {
        [&] { return s.p + "User"; },
        [&] { return s.p + "Ip"; },
        [&] { return fmt::format("tolower({}User)", s.p); },
        [&] { return fmt::format("toupper({}User)", s.p); },
        [&] { return fmt::format("trim({}User)", s.p); },
        [&] { return fmt::format("tostring({}N)", s.p); },
        [&] { return fmt::format("tostring({}D.k)", s.p); },
        [&] { return fmt::format("tostring({}D)", s.p); },
        [&] { return fmt::format("tostring({}TimeGenerated)", s.p); },
    };
    if (s.a) {
      c.push_back([&] { return s.p + "Op"; });
      c.push_back([&] { return s.p + "Op"; });
      c.push_back([&] { return s.p + "J"; });
      c.push_back([&] { return fmt::format("tostring({}R)", s.p); });
      c.push_back([&] { return fmt::format("tostring({}B)", s.p); });
      c.push_back([&] { return fmt::format("tostring({}Dur)", s.p); });
      c.push_back([&] { return fmt::format("tostring({}When)", s.p); });
      c.push_back([&] { return fmt::format("tostring({}G)", s.p); });
    }
    return c[static_cast<std::size_t>(r_.below(static_cast<int>(c.size())))]();
  }

  std::string num(const Scope& s) {
    std::vector<std::function<std::string()>> c = {
        [&] { return s.p + "N"; },
        [&] { return s.p + "N"; },
        [&] { return fmt::format("{}N + 1", s.p); },
        [&] { return fmt::format("{}N * 2", s.p); },
        [&] { return fmt::format("{}N / 2", s.p); },
        [&] { return fmt::format("{}N % 3", s.p); },
        [&] { return fmt::format("-{}N", s.p); },
        [&] { return fmt::format("strlen({}User)", s.p); },
        [&] { return fmt::format("tolong({}D.n)", s.p); },
        [&] { return fmt::format("toreal({}D.n)", s.p); },
        [&] { return fmt::format("array_length({}D.arr)", s.p); },
        [&] { return fmt::format("hourofday({}TimeGenerated)", s.p); },
    };
    if (s.a) {
      c.push_back([&] { return s.p + "I"; });
      c.push_back([&] { return s.p + "R"; });
      c.push_back([&] { return fmt::format("{}R / {}N", s.p, s.p); });
      c.push_back([&] { return fmt::format("{}N % ({}I - 1)", s.p, s.p); });
      c.push_back([&] { return fmt::format("{}N / ({}I - 2)", s.p, s.p); });
      c.push_back([&] { return fmt::format("{}I + {}N", s.p, s.p); });
      c.push_back([&] { return fmt::format("{}R % 2", s.p); });
      c.push_back([&] { return fmt::format("tolong({}J)", s.p); });
      c.push_back([&] { return fmt::format("toreal({}J)", s.p); });
      c.push_back([&] { return fmt::format("tolong({}R)", s.p); });
      c.push_back([&] { return fmt::format("tolong({}B)", s.p); });
      c.push_back([&] { return fmt::format("{}Dur / 1m", s.p); });
      c.push_back([&] { return fmt::format("dayofweek({}When)", s.p); });
    }
    return c[static_cast<std::size_t>(r_.below(static_cast<int>(c.size())))]();
  }

  std::string number_lit() {
    static const std::vector<std::string> v = {"0", "1", "2", "3", "4", "5", "-7", "2.5", "0.5", "-1.25", "100"};
    return r_.pick(v);
  }

  std::string datetime_lit() {
    int m = r_.range(0, 30);
    if (r_.chance(80)) return fmt::format("2024-01-01T00:{:02}:00Z", m);
    return fmt::format("2024-01-01T00:{:02}:30Z", m);
  }

  std::string cmp() {
    static const std::vector<std::string> v = {"==", "!=", "<", "<=", ">", ">="};
    return r_.pick(v);
  }

  std::string strlist() {
    int n = r_.range(0, 3);
    std::string out = "[";
    for (int k = 0; k < n; ++k) out += (k ? ", " : "") + wq(r_.pick(kUserLits));
    return out + "]";
  }

  std::string cidr_rhs() {
    switch (r_.below(4)) {
      case 0: return "Nets";
      case 1: return "Hosts";
      case 2: return r_.pick(kCidrs);
      default: return fmt::format("[{}, {}]", r_.pick(kCidrs), r_.pick(kCidrs));
    }
  }

  std::string pred(const Scope& s, int depth) {
    if (depth > 0 && r_.chance(35)) {
      switch (r_.below(3)) {
        case 0: return fmt::format("({}) and ({})", pred(s, depth - 1), pred(s, depth - 1));
        case 1: return fmt::format("({}) or ({})", pred(s, depth - 1), pred(s, depth - 1));
        default: return fmt::format("not ({})", pred(s, depth - 1));
      }
    }
    const std::string& p = s.p;
    std::vector<std::function<std::string()>> c = {
        // §4.1/§4.2 equality on strings
        [&] {
          static const std::vector<std::string> ops = {"==", "!=", "=~", "!~"};
          return fmt::format("{} {} {}", str(s), r_.pick(ops), wq(r_.pick(kUserLits)));
        },
        // §4.3
        [&] {
          static const std::vector<std::string> ops = {"contains", "!contains", "startswith", "!startswith",
                                                       "endswith", "!endswith", "has", "!has"};
          return fmt::format("{} {} {}", str(s), r_.pick(ops), wq(r_.pick(kNeedles)));
        },
        // §4.4
        [&] { return fmt::format("{} matches regex r\"{}\"", str(s), r_.pick(kRegexes)); },
        // §4.5
        [&] {
          static const std::vector<std::string> ops = {"in", "!in", "in~", "!in~"};
          return fmt::format("{} {} {}", str(s), r_.pick(ops), r_.chance(40) ? std::string("Users") : strlist());
        },
        // §4.6
        [&] { return fmt::format("{}Ip {} {}", p, r_.chance(50) ? "in cidr" : "!in cidr", cidr_rhs()); },
        // §4.1 order and §4.8 arithmetic
        [&] { return fmt::format("{} {} {}", num(s), cmp(), number_lit()); },
        [&] { return fmt::format("{} {} Codes", num(s), r_.chance(50) ? "in" : "!in"); },
        // §3.4
        [&] {
          static const std::vector<std::string> cols = {"User", "Ip", "N", "D", "D.k", "D.arr[0]", "TimeGenerated"};
          return fmt::format("{}({}{})", r_.chance(50) ? "exists" : "empty", p, r_.pick(cols));
        },
        // §6: access, comparison of dynamic values, JSON read from a string
        [&] { return fmt::format("tostring({}D.k) {} {}", p, r_.chance(50) ? "==" : "=~", wq(r_.chance(50) ? "x" : "X")); },
        [&] { return fmt::format("{}D.k == {}", p, r_.chance(70) ? wq("x") : std::string("5")); },
        [&] { return fmt::format("{}D.n {} {}", p, cmp(), number_lit()); },
        [&] { return fmt::format("{}D.arr[{}] == {}", p, r_.range(-3, 2), r_.chance(50) ? wq("a") : std::string("1")); },
        [&] {
          return r_.chance(50) ? fmt::format("{}D[\"k\"] has \"x\"", p) : fmt::format("{}D[\"k\"] !in [\"x\", \"y\"]", p);
        },
        [&] { return fmt::format("{}D.when < {}", p, datetime_lit()); },
        [&] { return fmt::format("{}D.n + 1 > 3", p); },
        [&] { return fmt::format("{}D.k in~ [\"X\", \"z\"]", p); },
        // §4.1 datetimes, §5 time functions, §8
        [&] { return fmt::format("{}TimeGenerated {} {}", p, cmp(), datetime_lit()); },
        [&] { return fmt::format("{}TimeGenerated >= Start + {}m", p, r_.range(0, 20)); },
        [&] { return fmt::format("{}TimeGenerated > ago({}m)", p, r_.range(1, 10)); },
        [&] { return fmt::format("dayofweek({}TimeGenerated) == 1", p); },
        [&] { return fmt::format("startofday({}TimeGenerated) == 2024-01-01", p); },
    };
    if (s.a) {
      c.push_back([&] {
        switch (r_.below(4)) {
          case 0: return p + "B";
          case 1: return fmt::format("{}B == true", p);
          case 2: return fmt::format("{}B != false", p);
          default: return fmt::format("not {}B", p);
        }
      });
      c.push_back([&] { return fmt::format("{}G {} 9188040d-6c67-4c5b-b112-36a304b66dad", p, r_.chance(50) ? "==" : "!="); });
      c.push_back([&] { return fmt::format("{}G == \"9188040D-6C67-4C5B-B112-36A304B66DAD\"", p); });
      c.push_back([&] { return fmt::format("{}G {} Apps", p, r_.chance(50) ? "in" : "!in"); });
      // A guid column against a list of strings: §1.4 makes only GUID lists case-insensitive.
      c.push_back([&] { return fmt::format("{}G in [\"9188040D-6C67-4C5B-B112-36A304B66DAD\", \"x\"]", p); });
      c.push_back([&] { return fmt::format("{}Dur {} {}m", p, cmp(), r_.range(0, 3)); });
      c.push_back([&] { return fmt::format("{}Dur * 2 >= 1m", p); });
      c.push_back([&] { return fmt::format("{}When - {}TimeGenerated {} {}m", p, p, cmp(), r_.range(-5, 15)); });
      c.push_back([&] { return fmt::format("hourofday({}When) == 0", p); });
      c.push_back([&] { return fmt::format("startofday({}When) == 2024-01-01", p); });
      c.push_back([&] { return fmt::format("{}When > {}TimeGenerated + 5m", p, p); });
      c.push_back([&] { return fmt::format("tostring(parse_json({}J).k) == \"x\"", p); });
      c.push_back([&] { return fmt::format("parse_json({}J).n >= 1", p); });
      c.push_back([&] { return fmt::format("todatetime({}J) > 2024-01-01", p); });
      c.push_back([&] { return fmt::format("totimespan({}J) >= 5m", p); });
      c.push_back([&] { return fmt::format("{}R {} Scores", p, r_.chance(50) ? "in" : "!in"); });
      c.push_back([&] { return fmt::format("{}R {} {}I", p, cmp(), p); });
    }
    return c[static_cast<std::size_t>(r_.below(static_cast<int>(c.size())))]();
  }

  // An outcome expression reading one event.
  std::string value(const Scope& s) {
    const std::string& p = s.p;
    std::vector<std::string> c = {
        p + "User", p + "Ip", p + "N", p + "D", p + "D.k", p + "D.arr[-1]", p + "TimeGenerated",
        fmt::format("tolower({}User)", p), fmt::format("{}N * 2", p), fmt::format("{}N / 2", p),
        fmt::format("{}TimeGenerated + 1h", p), fmt::format("strlen({}User)", p), fmt::format("exists({}N)", p),
        fmt::format("{}N > 2", p), fmt::format("tostring({}D)", p), fmt::format("{}Ip in cidr Nets", p),
        fmt::format("array_length({}D.arr)", p), fmt::format("{}D.n + 1", p), fmt::format("{}D.n * 1.5", p),
        fmt::format("toupper({}User)", p), fmt::format("startofday({}TimeGenerated)", p),
        fmt::format("{}TimeGenerated - 2024-01-01", p), fmt::format("{}D.arr", p),
    };
    if (s.a) {
      for (std::string x : {p + "Op", p + "R", p + "B", p + "G", p + "Dur", p + "When", p + "J", p + "I",
                            fmt::format("{}R + 1", p), fmt::format("{}Dur * 2", p), fmt::format("{}Dur / 3", p),
                            fmt::format("{}When - {}TimeGenerated", p, p), fmt::format("{}B == true", p),
                            fmt::format("parse_json({}J)", p), fmt::format("toreal({}J)", p),
                            fmt::format("hourofday({}When)", p), fmt::format("{}R / {}N", p, p),
                            fmt::format("{}Dur / 1m", p), fmt::format("{}N % ({}I - 1)", p, p),
                            fmt::format("totimespan({}J)", p), fmt::format("todatetime({}J)", p),
                            fmt::format("{}R * 1e300 * 1e300", p), fmt::format("-{}Dur", p)})
        c.push_back(x);
    }
    return r_.pick(c);
  }

 private:
  Rng& r_;
};

// ---------------------------------------------------------------- rules

struct Var {
  std::string name;  // without `$`
  bool a = true;
};

class RuleGen {
 public:
  RuleGen(Rng& r, ExprGen& x) : r_(r), x_(x) {}

  std::string rule(int index) {
    std::string body;
    std::string name = fmt::format("r{}", index);
    body += fmt::format("rule {} {{\n  meta {{ title = {} description = \"Generated.\" severity = low }}\n", name,
                        wq(name));
    int shape = r_.below(5);
    switch (shape) {
      case 0: single(body); break;
      case 1: threshold(body); break;
      case 2: sequence(body); break;
      case 3: join(body); break;
      default: absence(body); break;
    }
    return body + "}\n";
  }

 private:
  Rng& r_;
  ExprGen& x_;

  std::vector<Var> vars(int n) {
    static const char* names[] = {"a", "b", "c"};
    std::vector<Var> v;
    for (int k = 0; k < n; ++k) v.push_back({names[k], r_.chance(75)});
    return v;
  }

  void events(std::string& body, const std::vector<Var>& vs) {
    body += "  events {\n";
    for (const Var& v : vs) {
      body += fmt::format("    ${} = {}", v.name, v.a ? kTableA : kTableB);
      if (r_.chance(80)) body += " where " + x_.pred(Scope{v.a, ""}, 2);
      body += "\n";
    }
    body += "  }\n";
  }

  std::string window() {
    int kind = r_.below(10);
    if (kind < 7) return fmt::format("{}m", r_.range(1, 10));
    if (kind < 9) return fmt::format("{}s", 30 * r_.range(1, 5));
    return "1h";
  }

  void outcome(std::string& body, const std::vector<std::pair<bool, std::string>>& scopes) {
    int n = r_.range(0, 4);
    if (n == 0) return;
    body += "  outcome {";
    for (int k = 0; k < n; ++k) {
      const auto& [a, p] = scopes[static_cast<std::size_t>(r_.below(static_cast<int>(scopes.size())))];
      body += fmt::format(" f{} = {}", k, x_.value(Scope{a, p}));
    }
    body += " }\n";
  }

  void single(std::string& body) {
    auto vs = vars(1);
    events(body, vs);
    if (r_.chance(50)) body += "  condition $a\n";
    outcome(body, {{vs[0].a, ""}});
  }

  // A key group side: the attribute `attr` of one variable, sometimes through an expression.
  std::string key_side(const std::string& attr, const Var& v) {
    std::string p = "$" + v.name + ".";
    if (attr == "User") return r_.chance(30) ? fmt::format("tolower({}User)", p) : p + "User";
    if (attr == "N") return (v.a && r_.chance(30)) ? p + "I" : p + "N";
    return p + attr;
  }

  std::vector<std::string> key_attrs(int max) {
    std::vector<std::string> pool = {"User", "Ip", "N"};
    int n = r_.range(1, max);
    std::vector<std::string> out;
    for (int k = 0; k < n; ++k) {
      auto a = r_.pick(pool);
      if (std::find(out.begin(), out.end(), a) == out.end()) out.push_back(a);
    }
    return out;
  }

  std::string by(const std::vector<Var>& vs) {
    std::string out = " by ";
    auto attrs = key_attrs(2);
    for (std::size_t k = 0; k < attrs.size(); ++k) {
      if (k) out += ", ";
      for (std::size_t i = 0; i < vs.size(); ++i) out += (i ? " = " : "") + key_side(attrs[k], vs[i]);
    }
    return out;
  }

  void threshold(std::string& body) {
    Var v{"a", r_.chance(75)};
    events(body, {v});
    std::string p = "$a.";
    std::string agg;
    std::string n;
    switch (r_.below(3)) {
      case 0:
        agg = "count($a)";
        n = std::to_string(r_.range(0, 4));
        break;
      case 1: {
        std::vector<std::string> args = {p + "User", p + "Ip", p + "N", "tolower($a.User)"};
        if (v.a) for (std::string x : {p + "G", p + "R", p + "Op"}) args.push_back(x);
        agg = fmt::format("dcount({})", r_.pick(args));
        n = std::to_string(r_.range(0, 3));
        break;
      }
      default: {
        std::vector<std::string> args = {p + "N"};
        if (v.a) for (std::string x : {p + "R", p + "I"}) args.push_back(x);
        agg = fmt::format("sum({})", r_.pick(args));
        static const std::vector<std::string> ns = {"0", "1", "2", "3", "5", "8", "2.5", "0.5"};
        n = r_.pick(ns);
        break;
      }
    }
    std::vector<std::string> keys;
    int nkeys = r_.range(0, 2);
    std::vector<std::string> pool = {p + "User", "tolower($a.User)", p + "Ip", p + "N"};
    if (v.a) pool.push_back(p + "G");
    for (int k = 0; k < nkeys; ++k) {
      auto key = r_.pick(pool);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
    }
    body += fmt::format("  condition {} {} {}", agg, x_.cmp(), n);
    for (std::size_t k = 0; k < keys.size(); ++k) body += (k ? ", " : " by ") + keys[k];
    body += " within " + window() + "\n";
    // §7.2: keys, and aggregates over S(t).
    std::vector<std::string> fields = keys;
    fields.push_back("count($a)");
    fields.push_back("dcount($a.User)");
    fields.push_back("sum($a.N)");
    if (v.a) fields.push_back("sum($a.R)");
    fields.push_back(agg);
    int nf = r_.range(0, 4);
    if (nf) {
      body += "  outcome {";
      for (int k = 0; k < nf; ++k) body += fmt::format(" f{} = {}", k, r_.pick(fields));
      body += " }\n";
    }
  }

  void sequence(std::string& body) {
    auto vs = vars(r_.range(2, 3));
    events(body, vs);
    body += "  condition sequence";
    for (std::size_t i = 0; i < vs.size(); ++i) body += (i ? " then $" : " $") + vs[i].name;
    body += by(vs) + " within " + window() + "\n";
    std::vector<std::pair<bool, std::string>> scopes;
    for (const Var& v : vs) scopes.push_back({v.a, "$" + v.name + "."});
    outcome(body, scopes);
  }

  void join(std::string& body) {
    auto vs = vars(2);
    events(body, vs);
    // Either order (§7.4): the first one written is the side that pairs at or before.
    std::vector<Var> order = vs;
    if (r_.chance(30)) std::swap(order[0], order[1]);
    body += fmt::format("  condition ${} and ${}{} within {}\n", order[0].name, order[1].name, by(order), window());
    outcome(body, {{vs[0].a, "$a."}, {vs[1].a, "$b."}});
  }

  void absence(std::string& body) {
    auto vs = vars(2);
    events(body, vs);
    static const std::vector<std::string> dirs = {"", " before", " before $a", " after", " after $a"};
    body += fmt::format("  condition $a and not $b{} within {}{}\n", by(vs), window(), r_.pick(dirs));
    outcome(body, {{vs[0].a, "$a."}});
  }
};

// ---------------------------------------------------------------- events

std::string dyn_object(Rng& r) {
  switch (r.below(6)) {
    case 0: return R"({"k":"x","n":3,"arr":[1,"a",{"p":2}],"when":"2024-01-01T00:03:00Z"})";
    case 1: return R"({"k":"X","n":"3","arr":[],"when":"bad"})";
    case 2: return R"({"k":5,"n":2.5,"arr":["a"],"nested":{"deep":[null,true]}})";
    case 3: return R"({"k":"y","n":-1,"arr":[1,2,3],"when":"2024-01-01T00:20:00+01:00"})";
    case 4: return R"({"k":"","n":null,"arr":"not an array","esc":"tab\t\u00e9\"q\u0001"})";
    default: return R"({"k":"x y","n":1.0,"arr":[1,1.5,-0.0,12345678901234567890]})";
  }
}

std::string dyn_value(Rng& r) {
  int k = r.below(12);
  if (k < 5) return dyn_object(r);
  if (k < 8) return json_quote(dyn_object(r));  // the same value as JSON text in a string (§2.3)
  static const std::vector<std::string> v = {"[1,2,3]", "42", "true", R"("plain text")", R"("123")",
                                             R"("\"quoted\"")", R"("")", R"("[]")", "{}", "2.5", R"("null")"};
  return r.pick(v);
}

class EventGen {
 public:
  explicit EventGen(Rng& r) : r_(r) {}

  // A column value: usually from the pool, sometimes absent, null or of the wrong JSON type.
  void column(std::string& obj, const char* name, const std::function<std::string()>& good,
              const std::vector<std::string>& wrong) {
    int k = r_.below(100);
    if (k < 8) return;  // absent
    std::string v = k < 13 ? "null" : (k < 20 && !wrong.empty()) ? r_.pick(wrong) : good();
    obj += fmt::format(",{}:{}", json_quote(name), v);
  }

  std::string time(std::int64_t ticks) {
    int k = r_.below(100);
    if (k < 2) return "";  // no TimeGenerated: dropped
    if (k < 3) return ",\"TimeGenerated\":null";
    if (k < 4) return ",\"TimeGenerated\":\"yesterday\"";
    if (k < 5) return ",\"TimeGenerated\":1704067200";
    std::string iso = format_datetime(ticks);  // ...Z
    if (k < 15) {
      // The same instant written with an offset (§2.3: converted to UTC).
      std::int64_t shifted = ticks + kTicksPerHour;
      std::string s = format_datetime(shifted);
      s.pop_back();
      iso = s + "+01:00";
    } else if (k < 25 && iso.find('.') == std::string::npos) {
      iso.insert(iso.size() - 1, ".0000000");
    }
    return ",\"TimeGenerated\":" + json_quote(iso);
  }

  std::string event(std::int64_t ticks) {
    int t = r_.below(100);
    const char* table = t < 68 ? kTableA : t < 94 ? kTableB : t < 98 ? kTableUnread : nullptr;
    std::string obj = "{";
    obj += table ? fmt::format("\"Type\":{}", json_quote(table)) : std::string("\"Type\":7");
    obj += time(ticks);
    auto str_of = [this](const std::vector<std::string>& pool) {
      return [this, p = &pool] { return json_quote(r_.pick(*p)); };
    };
    column(obj, "User", str_of(kUsers), {"5", "true", R"({"x":1})", "[\"alice\"]"});
    column(obj, "Ip", str_of(kIps), {"10", R"(["10.1.2.3"])"});
    bool a = table == kTableA;
    static const std::vector<std::string> longs = {"0", "1", "2", "3", "5", "-7", "-14", R"("4")", "9223372036854775807"};
    column(obj, "N", [&] { return r_.pick(longs); }, {"2.5", R"("x")", "true", "1e2", "18446744073709551615"});
    if (a || r_.chance(5)) column(obj, "Op", str_of(kOps), {"12", "false", "[1,\"a\"]"});
    if (a) {
      static const std::vector<std::string> ints = {"1", "2", "3", "-2", R"("7")", "0"};
      column(obj, "I", [&] { return r_.pick(ints); }, {"3000000000", "1.5", R"("one")"});
      static const std::vector<std::string> reals = {"0.5", "1", "2.5", "-1.25", R"("3.5")", "0", "100", "1e1"};
      column(obj, "R", [&] { return r_.pick(reals); }, {R"("abc")", "true", R"(".5e")"});
      column(obj, "B", [&] { return std::string(r_.chance(50) ? "true" : "false"); }, {R"("true")", "1"});
      static const std::vector<std::string> js = {R"("{\"k\":\"x\",\"n\":1}")", R"("notjson")", R"("3.5")",
                                                  R"("12")", R"("00:05:00")", R"("")", R"("2024-01-01T00:05:00Z")",
                                                  R"("{\"k\":\"y\",\"n\":2}")", R"("-3")"};
      column(obj, "J", [&] { return r_.pick(js); }, {R"({"k":"x"})", "[1,2]", "7", "true", "2.50"});
      column(obj, "G", str_of(kGuids), {"5", "{}"});
      static const std::vector<std::string> durs = {R"("00:05:00")", R"("1.02:00:00")", R"("-00:00:30")",
                                                    R"("00:00:01.5")", R"("00:01:00.1234567")", R"("00:00:00")",
                                                    R"("5m")", R"("25:00:00")"};
      column(obj, "Dur", [&] { return r_.pick(durs); }, {"300", "true"});
      static const std::vector<std::string> whens = {
          R"("2024-01-01T00:10:00Z")", R"("2024-01-01T01:10:00+01:00")", R"("2024-01-01T00:10:00.1234567Z")",
          R"("2024-01-02T23:59:59Z")", R"("2023-12-31T18:05:00-06:00")", R"("2024-01-01T00:03:30Z")",
          R"("bad")", R"("2024-02-30T00:00:00Z")"};
      column(obj, "When", [&] { return r_.pick(whens); }, {"1704067200", "false"});
    }
    column(obj, "D", [&] { return dyn_value(r_); }, {});
    return obj + "}";
  }

 private:
  Rng& r_;
};

}  // namespace

Case generate(std::uint64_t seed) {
  Rng r(seed ^ 0x5741524452454631ull);  // "WARDREF1": seed 0 is a good seed too
  ExprGen x(r);
  RuleGen rg(r, x);
  EventGen eg(r);

  Case out;
  std::string& w = out.ward_source;
  w += fmt::format("// Generated by ward_ref --gen {}.\n", seed);
  w += fmt::format(
      "table {} {{\n  TimeGenerated: datetime\n  User: string\n  Ip: string\n  Op: string\n  N: long\n  I: int\n"
      "  R: real\n  B: bool\n  D: dynamic\n  J: string\n  G: guid\n  Dur: timespan\n  When: datetime\n}}\n",
      kTableA);
  w += fmt::format("table {} {{\n  TimeGenerated: datetime\n  User: string\n  Ip: string\n  N: long\n  D: dynamic\n}}\n",
                   kTableB);
  w += fmt::format("table {} {{\n  TimeGenerated: datetime\n  User: string\n}}\n", kTableUnread);
  w += "const Start = 2024-01-01T00:00:00Z\n";
  w += "list Users: string = [\"alice\", \"BOB\", \"\", \"été\"]\n";
  w += "list Nets: cidr = [10.0.0.0/8, 2001:db8::/32, 192.168.1.7, 10.1.2.3/16]\n";
  w += "list Hosts: ip = [10.1.2.3, 2001:db8::1]\n";
  w += "list Codes: long = [1, 3, 5]\n";
  w += "list Scores: real = [0.5, 2.5, 1]\n";
  w += "list Apps: guid = [9188040d-6c67-4c5b-b112-36a304b66dad]\n";
  int nrules = r.range(1, 4);
  for (int k = 0; k < nrules; ++k) w += "\n" + rg.rule(k);

  // Times: half an hour of whole minutes, a few half minutes and sub-second instants, so that
  // many events share an instant and windows of whole minutes end exactly on events.
  int nevents = r.range(20, 300);
  std::vector<std::int64_t> times;
  int span = r.range(5, 30);
  for (int k = 0; k < nevents; ++k) {
    std::int64_t t = kBase + r.range(0, span) * kTicksPerMinute;
    int f = r.below(100);
    if (f < 12) t += 30 * kTicksPerSecond;
    else if (f < 15) t += kTicksPerSecond / 2;
    else if (f < 16) t += 1234567;
    times.push_back(t);
  }
  // Mostly in time order, as exports are; sometimes with late rows, which event time must absorb.
  std::sort(times.begin(), times.end());
  if (r.chance(30)) {
    for (int k = 0; k < nevents / 5; ++k) std::swap(times[static_cast<std::size_t>(r.below(nevents))],
                                                    times[static_cast<std::size_t>(r.below(nevents))]);
  }
  static const std::vector<std::string> garbage = {"not json", "[1,2]", "{\"Type\":\"GenA_CL\",", "", "42",
                                                   "{\"TimeGenerated\":\"2024-01-01T00:00:00Z\"}"};
  for (std::int64_t t : times) {
    if (r.chance(2)) out.events.push_back(r.pick(garbage));
    out.events.push_back(eg.event(t));
  }
  return out;
}

}  // namespace ward::ref
