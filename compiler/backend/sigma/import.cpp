// Sigma import. A detection rule's selections become Ward tests joined exactly as the condition
// joins them; a correlation rule becomes one Ward rule whose events are the detection rules it
// names. Every Sigma construct is either written with its exact Ward meaning or reported at its
// YAML node (an error: the rule is left out; a warning: the difference is stated).
#include "backend/sigma/import.h"

#include "ast/literals.h"
#include "driver/pipeline.h"

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace ward::backend::sigma {
namespace {

using diag::Code;
using source::Span;

// ---- the Ward text of values ----
std::string quote(const std::string& s) { return literals::quote(s); }

std::string regex_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(".^$|?*+()[]{}\\/").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || (c >= '0' && c <= '9'); }
bool is_ident(const std::string& s) {
  return !s.empty() && ident_start(s[0]) && std::all_of(s.begin(), s.end(), ident_char);
}

// A Ward name from free text: lower snake case.
std::string slug(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (ident_char(static_cast<char>(c))) out += static_cast<char>(std::tolower(c));
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  if (out.empty() || !ident_start(out[0])) out = "r_" + out;
  return out;
}

bool is_guid(const std::string& s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (s[i] == '-')) return false;
    if (!dash && !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

const std::vector<std::string> kTactics = {
    "Reconnaissance",   "ResourceDevelopment", "InitialAccess",  "Execution",       "Persistence",
    "PrivilegeEscalation", "DefenseEvasion",   "CredentialAccess", "Discovery",     "LateralMovement",
    "Collection",       "Exfiltration",        "CommandAndControl", "Impact"};

std::string camel(const std::string& kebab) {
  std::string out;
  bool up = true;
  for (char c : kebab) {
    if (c == '-' || c == '_') { up = true; continue; }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

// The inverse of the export's logsource mapping (sigma.cpp logsource_of).
struct TableOf {
  const char* product;
  const char* service;
  const char* table;
};
constexpr TableOf kTables[] = {
    {"azure", "signinlogs", "SigninLogs"},
    {"azure", "auditlogs", "AuditLogs"},
    {"azure", "noninteractiveusersigninlogs", "AADNonInteractiveUserSignInLogs"},
    {"azure", "serviceprincipalsigninlogs", "AADServicePrincipalSignInLogs"},
    {"azure", "microsoftgraphactivitylogs", "MicrosoftGraphActivityLogs"},
    {"m365", "officeactivity", "OfficeActivity"},
    {"m365", "cloudappevents", "CloudAppEvents"},
};

// yaml-cpp 0.7's LoadAll never returns on some malformed inputs (found by fuzz_sigma_import):
// its parser keeps yielding empty documents. A file has at most one document more than it has
// `---` (or `...`) lines, so the documents are counted first with an event handler that builds nothing, and
// the mark of the first one beyond that bound is returned.
class CountDocuments : public YAML::EventHandler {
 public:
  std::size_t docs = 0;
  YAML::Mark last;
  void OnDocumentStart(const YAML::Mark& m) override {
    ++docs;
    last = m;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

std::optional<YAML::Mark> runaway_document(const std::string& text) {
  std::size_t markers = 0;
  for (std::size_t at = 0; at < text.size(); at = text.find('\n', at) + 1) {
    if (text.compare(at, 3, "---") == 0 || text.compare(at, 3, "...") == 0) ++markers;  // a start, or an end
    if (text.find('\n', at) == std::string::npos) break;
  }
  std::istringstream in(text);
  YAML::Parser parser(in);
  CountDocuments count;
  while (parser.HandleNextDocument(count))
    if (count.docs > markers + 1) return count.last;
  return std::nullopt;
}

// Whether an event line `$v = Table where ...` reads a table outside the `sentinel` module.
bool reads_custom_table(const std::string& ev) {
  auto at = ev.find(" = ");
  if (at == std::string::npos) return false;
  auto name = ev.substr(at + 3, ev.find(' ', at + 3) - (at + 3));
  for (const auto& t : kTables)
    if (name == t.table) return false;
  return true;
}

// ---- detection expressions ----
struct X {
  enum Kind { Atom, And, Or, Not, True } kind = Atom;
  std::string field, op, rhs;  // Atom: `field op rhs`, or op "exists"/"empty"/"sigma-exists"
  bool text = false;           // rhs is text: `not` folds into the operator exactly
  Span span;
  std::vector<X> kids;
};

X node(X::Kind k, X a, X b) {
  X x;
  x.kind = k;
  x.span = a.span;
  x.kids.push_back(std::move(a));
  x.kids.push_back(std::move(b));
  return x;
}

X negation(X a) {
  X x;
  x.kind = X::Not;
  x.span = a.span;
  x.kids.push_back(std::move(a));
  return x;
}

const std::map<std::string, std::string>& negated_ops() {
  static const std::map<std::string, std::string> k = {
      {"==", "!="}, {"=~", "!~"}, {"in", "!in"}, {"in~", "!in~"}, {"contains", "!contains"},
      {"startswith", "!startswith"}, {"endswith", "!endswith"}};
  return k;
}

class Importer {
 public:
  Importer(const source::SourceManager& sm, source::FileId file, diag::Sink& sink, const ir::Catalog* catalog)
      : file_(file), sink_(sink), text_(sm.file(file).text()), catalog_(catalog) {}

  std::vector<ImportedRule> run() {
    std::vector<YAML::Node> docs;
    try {
      if (auto runaway = runaway_document(text_)) {
        sink_.report(Code::SigmaImportYaml, at(*runaway), "not YAML that can be read: the parser finds no end of its documents")
            .note("yaml-cpp returns empty documents here without end; the text near this place is malformed")
            .help("a Sigma file is YAML: one rule per document, documents separated by `---`");
        return {};
      }
      docs = YAML::LoadAll(text_);
    } catch (const YAML::Exception& e) {
      sink_.report(Code::SigmaImportYaml, at(e.mark), fmt::format("not YAML: {}", e.msg))
          .help("a Sigma file is YAML: one rule per document, documents separated by `---`");
      return {};
    }
    struct Doc {
      YAML::Node n;
      bool corr = false, used = false;
      std::string name, id;
    };
    std::vector<Doc> ds;
    for (auto& d : docs) {
      if (!d.IsDefined() || d.IsNull()) continue;
      if (!d.IsMap()) {
        sink_.report(Code::SigmaImportYaml, span(d), "a Sigma document is a map of fields")
            .help("start the document with `title:`");
        continue;
      }
      Doc x;
      x.n = d;
      x.corr = bool(d["correlation"]);
      if (!x.corr && !d["detection"]) {
        if (d["filter"])
          sink_.report(Code::SigmaImportUnsupported, span(d["filter"]), "Sigma filter rules have no Ward meaning")
              .note("a filter amends other rules at conversion time; Ward rules are complete in themselves")
              .help("write the exclusion into the Ward rule's `where` as `and not (...)`");
        else
          sink_.report(Code::SigmaImportYaml, span(d), "neither a detection rule nor a correlation rule")
              .help("a Sigma rule has `detection:` (and `logsource:`), or `correlation:`");
        continue;
      }
      x.name = scalar(d["name"]);
      x.id = scalar(d["id"]);
      ds.push_back(std::move(x));
    }
    // correlations take the detection rules they name as their events
    std::vector<ImportedRule> out;
    std::vector<std::pair<std::size_t, std::vector<std::size_t>>> corrs;
    for (std::size_t i = 0; i < ds.size(); ++i) {
      if (!ds[i].corr) continue;
      std::vector<std::size_t> refs;
      bool ok = true;
      auto rules = ds[i].n["correlation"]["rules"];
      if (rules && rules.IsSequence()) {
        for (const auto& r : rules) {
          auto ref = scalar(r);
          auto it = std::find_if(ds.begin(), ds.end(), [&](const Doc& d) {
            return !d.corr && !ref.empty() && (d.name == ref || d.id == ref);
          });
          if (it == ds.end()) {
            sink_.report(Code::SigmaImportCorrelation, span(r),
                         fmt::format("the correlation names `{}`, which is no detection rule in this file", ref))
                .help("import the correlation together with the rules it names (by `name` or `id`), in one file");
            ok = false;
            continue;
          }
          refs.push_back(static_cast<std::size_t>(it - ds.begin()));
        }
      }
      bool generate = ds[i].n["correlation"]["generate"] && scalar(ds[i].n["correlation"]["generate"]) == "true";
      if (!generate)
        for (auto r : refs) ds[r].used = true;
      if (ok) corrs.emplace_back(i, refs);
      else for (auto r : refs) ds[r].used = true;
    }
    // in document order: single rules, and each correlation where it stands
    for (std::size_t i = 0; i < ds.size(); ++i) {
      if (ds[i].corr) {
        auto it = std::find_if(corrs.begin(), corrs.end(), [&](const auto& c) { return c.first == i; });
        if (it == corrs.end()) continue;
        std::vector<YAML::Node> events;
        for (auto r : it->second) events.push_back(ds[r].n);
        guarded([&] {
          if (auto r = correlation(ds[i].n, events)) keep(ds[i].n, std::move(*r), out);
        });
      } else if (!ds[i].used) {
        guarded([&] {
          if (auto r = single(ds[i].n)) keep(ds[i].n, std::move(*r), out);
        });
      }
    }
    return out;
  }

  // yaml-cpp decodes the escapes `\N` and `\_` of double-quoted scalars to single raw bytes,
  // not UTF-8 (found by fuzz_sigma_import), so a rule whose text is not UTF-8 is refused here:
  // Ward source is UTF-8 (E0112).
  void keep(const YAML::Node& doc, ImportedRule r, std::vector<ImportedRule>& out) {
    if (source::first_invalid_utf8(r.text) != std::string::npos) {
      sink_.report(Code::SigmaImportYaml, span(doc), "a value of this rule is not UTF-8 once its YAML escapes are decoded")
          .note("yaml-cpp decodes `\\N` and `\\_` to single bytes")
          .help("write the character itself, or `\\uNNNN`");
      return;
    }
    out.push_back(std::move(r));
  }

  // yaml-cpp throws where a node has another shape than the one asked for (`x[key]` on a
  // scalar, a conversion): that is a malformed document, reported as one, and the others go on.
  template <typename F>
  void guarded(F&& f) {
    try {
      f();
    } catch (const YAML::Exception& e) {
      shape_error(e);
    }
  }
  void shape_error(const YAML::Exception& e) {
    sink_.report(Code::SigmaImportYaml, at(e.mark), fmt::format("a Sigma document of an unexpected shape: {}", e.msg))
        .help("compare it with the Sigma specification's rule or correlation layout");
  }

 public:
  // run() for a caller: whatever yaml-cpp throws becomes a diagnostic, never an escape
  std::vector<ImportedRule> run_guarded() {
    // the Ward source written from it must be UTF-8 (E0112), so the YAML must be
    if (auto bad = source::first_invalid_utf8(text_); bad != std::string::npos) {
      Span s;
      s.file = file_;
      s.begin = static_cast<std::uint32_t>(bad);
      s.end = static_cast<std::uint32_t>(bad + 1);
      sink_.report(Code::SigmaImportYaml, s, "the file is not valid UTF-8").help("save it as UTF-8 (YAML files are)");
      return {};
    }
    try {
      return run();
    } catch (const YAML::Exception& e) {
      shape_error(e);
      return {};
    } catch (const std::exception& e) {  // a defect of the importer: still a diagnostic, not a crash
      sink_.report(Code::SigmaImportYaml, at(YAML::Mark::null_mark()), fmt::format("this file could not be imported: {}", e.what()))
          .help("please report it with the file");
      return {};
    }
  }

 private:
  // ---- positions ----
  Span at(const YAML::Mark& m) const {
    Span s;
    s.file = file_;
    if (m.is_null() || m.pos < 0) return s;
    auto b = std::min<std::size_t>(static_cast<std::size_t>(m.pos), text_.size());
    s.begin = static_cast<std::uint32_t>(b);
    s.end = static_cast<std::uint32_t>(std::min(text_.size(), b + 1));
    return s;
  }

  // The node's first line, from its mark to the end of the scalar (or line).
  Span span(const YAML::Node& n) const {
    if (!n.IsDefined()) return at(YAML::Mark::null_mark());
    Span s = at(n.Mark());
    if (n.Mark().is_null()) return s;
    std::size_t b = s.begin;
    std::size_t eol = text_.find('\n', b);
    if (eol == std::string::npos) eol = text_.size();
    std::size_t len = n.IsScalar() ? std::max<std::size_t>(1, n.Scalar().size()) : 1;
    if (n.IsScalar() && b < text_.size() && (text_[b] == '"' || text_[b] == '\'')) len += 2;
    s.end = static_cast<std::uint32_t>(std::max(b + 1, std::min(eol, b + len)));
    if (s.end > text_.size()) s.end = static_cast<std::uint32_t>(text_.size());
    return s;
  }

  static std::string scalar(const YAML::Node& n) {
    if (!n || !n.IsScalar()) return "";
    return n.Scalar();
  }

  void ignored(const YAML::Node& key, const std::string& what, const std::string& why) {
    sink_.report(Code::SigmaImportIgnored, span(key), fmt::format("{} is not imported", what)).note(why);
  }

  // ---- metadata ----
  struct Meta {
    std::vector<std::string> lines;
  };

  std::vector<std::string> strings(const YAML::Node& n, const std::string& key) {
    std::vector<std::string> out;
    if (!n) return out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) {
      sink_.report(Code::SigmaImportYaml, span(n), fmt::format("`{}` must be a list of strings", key));
      return out;
    }
    for (const auto& x : n) {
      if (x.IsScalar()) out.push_back(x.Scalar());
      else sink_.report(Code::SigmaImportYaml, span(x), fmt::format("an item of `{}` that is not a string", key));
    }
    return out;
  }

  static std::string list_of(const std::vector<std::string>& xs, bool quoted) {
    std::string s = "[";
    for (std::size_t i = 0; i < xs.size(); ++i) s += (i ? ", " : "") + (quoted ? quote(xs[i]) : xs[i]);
    return s + "]";
  }

  // The meta block of the Ward rule from a Sigma rule's fields; `detection` and the like are
  // the caller's.
  std::string meta(const YAML::Node& d, bool correlation) {
    static const std::set<std::string> handled = {"title", "id", "name", "status", "description", "references",
                                                   "author", "date", "modified", "tags", "level",
                                                   "falsepositives", "logsource", "detection", "correlation"};
    for (const auto& kv : d) {
      auto k = scalar(kv.first);
      if (handled.count(k)) continue;
      if (k == "taxonomy" && scalar(kv.second) == "sigma") continue;
      if (k == "fields") ignored(kv.first, "`fields`", "Ward alerts carry the rule's outcome block, not a list of fields to show");
      else if (k == "related") ignored(kv.first, "`related`", "Ward rules do not link to other rules' ids");
      else if (k == "license") ignored(kv.first, "`license`", "Ward rules carry no licence field; keep it in a comment");
      else if (k == "scope") ignored(kv.first, "`scope`", "Ward has no rule scope field");
      else ignored(kv.first, fmt::format("`{}`", k), "Ward has no such rule field");
    }
    std::vector<std::string> m;
    auto id = scalar(d["id"]);
    if (!id.empty()) {
      if (is_guid(id)) m.push_back("id = " + quote(id));
      else ignored(d["id"], "an id that is not a GUID", "Ward rule ids are GUIDs; Ward derives one from the rule's name");
    }
    auto title = scalar(d["title"]);
    if (!title.empty()) m.push_back("title = " + quote(title));
    auto desc = scalar(d["description"]);
    if (!desc.empty()) m.push_back("description = " + quote(desc));
    if (auto lv = d["level"]) {
      auto l = scalar(lv);
      if (l == "critical") {
        sink_.report(Code::SigmaImportApproximate, span(lv), "level `critical` imported as severity high")
            .note("Ward's severities are Sentinel's four: informational, low, medium, high");
        l = "high";
      }
      if (l == "informational" || l == "low" || l == "medium" || l == "high") m.push_back("severity = " + l);
      else if (!l.empty())
        sink_.report(Code::SigmaImportYaml, span(lv), fmt::format("`{}` is not a Sigma level", l))
            .help("levels are informational, low, medium, high and critical");
    }
    if (auto st = d["status"]) {
      auto s = scalar(st);
      if (s == "stable" || s == "test" || s == "experimental" || s == "deprecated") m.push_back("status = " + s);
      else ignored(st, fmt::format("status `{}`", s), "Ward's statuses are experimental, test, stable and deprecated");
    }
    auto author = scalar(d["author"]);
    if (!author.empty()) m.push_back("author = " + quote(author));
    auto date = [&](const char* key, const char* ward_key) {
      auto v = scalar(d[key]);
      if (v.empty()) return;
      std::replace(v.begin(), v.end(), '/', '-');  // Sigma's older YYYY/MM/DD
      m.push_back(fmt::format("{} = {}", ward_key, quote(v)));
    };
    date("date", "created");
    date("modified", "modified");
    std::vector<std::string> tactics, techniques, tags;
    for (const auto& t : strings(d["tags"], "tags")) {
      if (t.rfind("attack.", 0) == 0) {
        auto rest = t.substr(7);
        auto digits = [&](std::size_t from, std::size_t n) {
          return std::all_of(rest.begin() + static_cast<std::ptrdiff_t>(from), rest.begin() + static_cast<std::ptrdiff_t>(from + n),
                             [](char c) { return c >= '0' && c <= '9'; });
        };
        // a technique is tNNNN or tNNNN.NNN exactly; anything else stays a plain tag
        if ((rest.size() == 5 || (rest.size() == 9 && rest[5] == '.' && digits(6, 3))) && (rest[0] == 't' || rest[0] == 'T') &&
            digits(1, 4)) {
          std::string tech = rest;
          std::transform(tech.begin(), tech.end(), tech.begin(), [](unsigned char c) { return std::toupper(c); });
          if (std::find(techniques.begin(), techniques.end(), tech) == techniques.end()) techniques.push_back(tech);
          continue;
        }
        auto tac = camel(rest);
        if (std::find(kTactics.begin(), kTactics.end(), tac) != kTactics.end()) {
          if (std::find(tactics.begin(), tactics.end(), tac) == tactics.end()) tactics.push_back(tac);
          continue;
        }
      }
      tags.push_back(t.rfind("ward.", 0) == 0 ? t.substr(5) : t);
    }
    if (!tactics.empty()) m.push_back("tactics = " + list_of(tactics, false));
    if (!techniques.empty()) m.push_back("techniques = " + list_of(techniques, false));
    if (!tags.empty()) m.push_back("tags = " + list_of(tags, true));
    auto refs = strings(d["references"], "references");
    if (!refs.empty()) m.push_back("references = " + list_of(refs, true));
    auto fps = strings(d["falsepositives"], "falsepositives");
    if (!fps.empty()) m.push_back("falsepositives = " + list_of(fps, true));
    (void)correlation;
    std::string s = "  meta {\n";
    for (const auto& l : m) s += "    " + l + "\n";
    return s + "  }\n";
  }

  std::string rule_name(const YAML::Node& d, const std::string& fallback) {
    auto n = scalar(d["name"]);
    std::string base = is_ident(n) ? n : !n.empty() ? slug(n) : !scalar(d["title"]).empty() ? slug(scalar(d["title"])) : fallback;
    std::string name = base;
    for (int i = 2; names_.count(name); ++i) name = fmt::format("{}_{}", base, i);
    names_.insert(name);
    return name;
  }

  // ---- logsource ----
  std::optional<std::string> table(const YAML::Node& d) {
    auto ls = d["logsource"];
    if (!ls || !ls.IsMap()) {
      sink_.report(Code::SigmaImportYaml, span(d["detection"]), "a detection rule without `logsource`")
          .help("name the log: `logsource: {product: azure, service: signinlogs}`");
      return std::nullopt;
    }
    auto product = scalar(ls["product"]), service = scalar(ls["service"]), category = scalar(ls["category"]);
    std::string def = scalar(ls["definition"]);
    const std::string prefix = "Log Analytics table ";
    for (const auto& t : kTables)
      if (product == t.product && service == t.service) {
        if (!category.empty())
          ignored(ls["category"], "`logsource.category` beside a product and service", "the service names the table");
        return std::string(t.table);
      }
    if (def.rfind(prefix, 0) == 0) {  // the export's own definition names the table
      auto name = def.substr(prefix.size());
      name = name.substr(0, name.find(' '));
      for (const auto& t : kTables)
        if (name == t.table) return name;
      if (catalog_ && catalog_->find(name)) return name;
    }
    if (product == "ward" && catalog_) {  // the export's logsource for Ward's own tables: service = lower(name)
      for (const auto& t : catalog_->tables) {
        std::string lower = t.name;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower == service) return t.name;
      }
    }
    std::string names;
    for (const auto& t : kTables) names += fmt::format("{}{}/{}", names.empty() ? "" : ", ", t.product, t.service);
    sink_.report(Code::SigmaImportLogsource, span(ls),
                 fmt::format("logsource {} names no table Ward has", product.empty() && service.empty()
                                                                         ? fmt::format("category `{}`", category)
                                                                         : fmt::format("`{}/{}`", product, service)))
        .note(fmt::format("Ward's tables are Microsoft Sentinel's; the logsources it maps are {}", names))
        .help("write the rule for one of those tables, or set `definition: \"Log Analytics table NAME\"`");
    return std::nullopt;
  }

  // ---- detection ----
  struct Value {
    enum Kind { Text, Int, Real, Bool, Null } kind = Text;
    std::string s;
    YAML::Node n;
  };

  Value value_of(const YAML::Node& n) {
    Value v;
    v.n = n;
    if (n.IsNull()) { v.kind = Value::Null; return v; }
    v.s = n.Scalar();
    if (n.Tag() == "!") return v;  // quoted: text
    if (v.s == "true" || v.s == "false") { v.kind = Value::Bool; return v; }
    if (v.s == "null" || v.s == "~") { v.kind = Value::Null; return v; }
    char* end = nullptr;
    errno = 0;
    (void)std::strtoll(v.s.c_str(), &end, 10);
    if (!v.s.empty() && *end == '\0' && errno == 0) { v.kind = Value::Int; return v; }
    (void)std::strtod(v.s.c_str(), &end);
    if (!v.s.empty() && *end == '\0' && v.s.find_first_of("0123456789") != std::string::npos &&
        v.s.find_first_not_of("0123456789.eE+-") == std::string::npos) {
      v.kind = Value::Real;
      return v;
    }
    return v;
  }

  // A Ward field expression from a Sigma field name: `A.b.c`, `A[0].b`.
  std::optional<std::string> ward_field(const std::string& f, const YAML::Node& key) {
    std::size_t i = 0;
    std::string out;
    auto fail = [&]() -> std::optional<std::string> {
      sink_.report(Code::SigmaImportField, span(key), fmt::format("field `{}` is no Ward field path", f))
          .note("Ward reads columns and their members: Column, Column.member, Column[0].member")
          .help("rename the field to the Sentinel column it means");
      return std::nullopt;
    };
    bool first = true;
    while (i < f.size()) {
      if (!first) {
        if (f[i] == '.') ++i;
        else if (f[i] == '[') {
          auto j = f.find(']', i);
          if (j == std::string::npos || j == i + 1) return fail();
          auto idx = f.substr(i + 1, j - i - 1);
          if (!std::all_of(idx.begin(), idx.end(), [](char c) { return c >= '0' && c <= '9'; })) return fail();
          out += "[" + idx + "]";
          i = j + 1;
          continue;
        } else return fail();
      }
      std::size_t j = i;
      while (j < f.size() && ident_char(f[j])) ++j;
      if (j == i || !ident_start(f[i])) return fail();
      auto seg = f.substr(i, j - i);
      if (first && table_ && !table_->find(seg)) {
        std::string hit;
        int hits = 0;
        for (const auto& c : table_->columns) {
          if (c.name.size() == seg.size() &&
              std::equal(c.name.begin(), c.name.end(), seg.begin(), [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b)); })) {
            hit = c.name;
            ++hits;
          }
        }
        if (hits == 1) {
          sink_.report(Code::SigmaImportApproximate, span(key), fmt::format("field `{}` read as column `{}`", seg, hit))
              .note(fmt::format("{}'s column names are case-sensitive in Kusto; Sigma's field names are matched as written", table_->name));
          seg = hit;
        } else {
          std::vector<std::string> names;
          for (const auto& c : table_->columns) names.push_back(c.name);
          sink_.report(Code::SigmaImportField, span(key), fmt::format("`{}` is not a column of {}", seg, table_->name))
              .help(diag::did_you_mean(seg, names))
              .note(fmt::format("`ward tables {}` lists its columns", table_->name));
          return std::nullopt;
        }
      }
      out += (first ? "" : ".") + seg;
      i = j;
      first = false;
    }
    if (out.empty()) return fail();
    return out;
  }

  // One Sigma wildcard value as pieces: literal text and `*`/`?`.
  struct Pattern {
    std::vector<std::pair<char, std::string>> parts;  // ('l', text) or ('*', "") or ('?', "")
  };
  static Pattern pattern(const std::string& s) {
    Pattern p;
    auto lit = [&](char c) {
      if (p.parts.empty() || p.parts.back().first != 'l') p.parts.push_back({'l', ""});
      p.parts.back().second += c;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\')) {
        lit(s[++i]);
      } else if (c == '*' || c == '?') {
        p.parts.push_back({c, ""});
      } else {
        lit(c);
      }
    }
    return p;
  }

  X atom(const std::string& field, const std::string& op, const std::string& rhs, bool text, Span s) {
    X x;
    x.field = field;
    x.op = op;
    x.rhs = rhs;
    x.text = text;
    x.span = s;
    return x;
  }

  // The test of one string value; `mode` contains/startswith/endswith/"" adds its wildcards.
  X text_test(const std::string& f, const Value& v, const std::string& mode, bool cased, Span s) {
    auto p = pattern(v.s);
    if (mode == "contains" || mode == "endswith") p.parts.insert(p.parts.begin(), {'*', ""});
    if (mode == "contains" || mode == "startswith") p.parts.push_back({'*', ""});
    // collapse runs of `*`
    Pattern q;
    for (auto& x : p.parts)
      if (!(x.first == '*' && !q.parts.empty() && q.parts.back().first == '*')) q.parts.push_back(x);
    auto& ps = q.parts;
    auto is = [&](std::size_t i, char c) { return i < ps.size() && ps[i].first == c; };
    if (ps.empty()) return atom(f, cased ? "==" : "=~", quote(""), true, s);
    auto caseless = [](const std::string& t) {
      return std::none_of(t.begin(), t.end(), [](unsigned char c) { return std::isalpha(c) || c >= 0x80; });
    };
    if (ps.size() == 1 && is(0, 'l'))
      return atom(f, cased || caseless(ps[0].second) ? "==" : "=~", quote(ps[0].second), true, s);
    if (!cased) {
      if (ps.size() == 3 && is(0, '*') && is(1, 'l') && is(2, '*')) return atom(f, "contains", quote(ps[1].second), true, s);
      if (ps.size() == 2 && is(0, 'l') && is(1, '*')) return atom(f, "startswith", quote(ps[0].second), true, s);
      if (ps.size() == 2 && is(0, '*') && is(1, 'l')) return atom(f, "endswith", quote(ps[1].second), true, s);
    }
    if (ps.size() == 1 && is(0, '*'))
      sink_.report(Code::SigmaImportApproximate, span(v.n), "`*` alone imported as a match of any text")
          .note("Sigma's `*` does not match a missing field; Ward reads a missing text field as \"\", which it matches");
    std::string re = cased ? "^" : "(?i)^";
    for (const auto& [k, t] : ps) re += k == '*' ? "(?s:.*)" : k == '?' ? "(?s:.)" : regex_escape(t);
    return atom(f, "matches regex", quote(re + "$"), true, s);
  }

  std::optional<X> item(const YAML::Node& key, const YAML::Node& val) {
    auto k = scalar(key);
    std::vector<std::string> parts;
    for (std::size_t b = 0;;) {
      auto e = k.find('|', b);
      parts.push_back(k.substr(b, e == std::string::npos ? std::string::npos : e - b));
      if (e == std::string::npos) break;
      b = e + 1;
    }
    Span s = span(key);
    if (parts[0].empty()) {
      sink_.report(Code::SigmaImportKeywords, s, "a keyword match (a value with no field) has no Ward meaning")
          .note("Ward tests fields; Sigma keywords search the whole event text")
          .help("name the field the keyword is expected in");
      return std::nullopt;
    }
    auto f = ward_field(parts[0], key);
    if (!f) return std::nullopt;
    std::string mode, cmp;
    bool cased = false, all = false, re = false, cidr = false, exists = false, fieldref = false;
    std::string flags;
    for (std::size_t i = 1; i < parts.size(); ++i) {
      const auto& m = parts[i];
      if (m == "contains" || m == "startswith" || m == "endswith") mode = m;
      else if (m == "cased") cased = true;
      else if (m == "all") all = true;
      else if (m == "re") re = true;
      else if (re && (m == "i" || m == "m" || m == "s" || m == "ignorecase" || m == "multiline" || m == "dotall"))
        flags += m.substr(0, 1) == "d" ? 's' : m[0];
      else if (m == "cidr") cidr = true;
      else if (m == "exists") exists = true;
      else if (m == "fieldref") fieldref = true;
      else if (m == "gt" || m == "gte" || m == "lt" || m == "lte") cmp = m;
      else {
        std::string why = m == "windash" ? "it matches `-` and `/` (and dash variants) as one character"
                          : m.rfind("base64", 0) == 0 ? "it matches the base64 encoding of the value"
                          : m == "utf16le" || m == "utf16be" || m == "utf16" || m == "wide" ? "it re-encodes the value"
                          : m == "expand" ? "it refers to a placeholder filled in at conversion time"
                                         : "it is not a Sigma modifier Ward knows";
        sink_.report(Code::SigmaImportModifier, s, fmt::format("the `{}` modifier has no Ward meaning", m))
            .note(fmt::format("`{}`: {}", m, why))
            .help("write the values it stands for explicitly, or a `|re` regex");
        return std::nullopt;
      }
    }
    std::vector<Value> vals;
    if (val.IsSequence()) {
      for (const auto& v : val) {
        if (!v.IsScalar() && !v.IsNull()) {
          sink_.report(Code::SigmaImportField, span(v), "a value that is a list or a map").help("values are scalars");
          return std::nullopt;
        }
        vals.push_back(value_of(v));
      }
    } else if (val.IsScalar() || val.IsNull()) {
      vals.push_back(value_of(val));
    } else {
      sink_.report(Code::SigmaImportField, span(val), fmt::format("the value of `{}` is a map", k))
          .help("a field's value is a scalar or a list of scalars");
      return std::nullopt;
    }
    if (vals.empty() && mode.empty() && cmp.empty() && !re && !cidr && !exists && !fieldref) {
      // an empty list matches nothing, as Ward's `in []` does (the export of an empty list)
      const bool dyn = f->find_first_of(".[") != std::string::npos;
      return atom(dyn ? "tostring(" + *f + ")" : *f, "in", "[]", true, s);
    }
    if (vals.empty()) {
      sink_.report(Code::SigmaImportField, s, fmt::format("`{}` has an empty list of values, which matches nothing", k))
          .help("give at least one value");
      return std::nullopt;
    }
    const bool dyn = f->find_first_of(".[") != std::string::npos;
    if (table_ && !dyn && cmp.empty() && !exists) {  // a number or boolean written for a text column is its text
      auto col = table_->find(*f);
      if (col && col->type == ir::Type::String)
        for (auto& v : vals)
          if (v.kind == Value::Int || v.kind == Value::Real || v.kind == Value::Bool) v.kind = Value::Text;
    }
    // what stays a number is written as a Ward literal (YAML's `6000.`, `+5`, `.5` are not)
    for (auto& v : vals) {
      if (v.kind == Value::Int) {
        v.s = std::to_string(std::strtoll(v.s.c_str(), nullptr, 10));
      } else if (v.kind == Value::Real) {
        double d = std::strtod(v.s.c_str(), nullptr);
        if (!std::isfinite(d)) {
          v.kind = Value::Text;
          continue;
        }
        v.s = fmt::format("{}", d);
        if (v.s.find_first_of(".e") == std::string::npos) v.s += ".0";
      }
    }
    auto text_field = dyn ? "tostring(" + *f + ")" : *f;
    auto join = [&](std::vector<X> xs) {
      X r = std::move(xs[0]);
      for (std::size_t i = 1; i < xs.size(); ++i) r = node(all ? X::And : X::Or, std::move(r), std::move(xs[i]));
      return r;
    };
    if (exists) {
      if (vals.size() != 1 || vals[0].kind != Value::Bool) {
        sink_.report(Code::SigmaImportField, s, "`|exists` takes true or false").help("`Field|exists: true`");
        return std::nullopt;
      }
      if (*f == "TimeGenerated" && vals[0].s == "true") {  // every row has one: the export's "any event"
        X x;
        x.kind = X::True;
        x.span = s;
        return x;
      }
      X x = atom(*f, "sigma-exists", "", false, s);
      if (vals[0].s == "false") {
        sink_.report(Code::SigmaImportApproximate, s, fmt::format("`{}|exists: false` imported as `not exists({})`", parts[0], *f))
            .note("Ward's exists() is also false for an empty value, so the Ward test also matches an empty field");
        x.op = "exists";
        return negation(std::move(x));
      }
      return x;
    }
    if (fieldref) {
      std::vector<X> xs;
      for (const auto& v : vals) {
        auto g = ward_field(v.s, v.n);
        if (!g) return std::nullopt;
        xs.push_back(atom(*f, "==", *g, false, s));
      }
      return join(std::move(xs));
    }
    if (cidr) {
      for (const auto& v : vals)
        if (v.kind != Value::Text || v.s.find('/') == std::string::npos || !literals::parse_cidr(v.s)) {
          sink_.report(Code::SigmaImportField, span(v.n), "`|cidr` takes network ranges such as 10.0.0.0/8");
          return std::nullopt;
        }
      if (all && vals.size() > 1) {
        std::vector<X> xs;
        for (const auto& v : vals) xs.push_back(atom(*f, "in cidr", "[" + v.s + "]", false, s));
        return join(std::move(xs));
      }
      std::string l = "[";
      for (std::size_t i = 0; i < vals.size(); ++i) l += (i ? ", " : "") + vals[i].s;
      // not folded into `!in cidr` by a `not`: docs/semantics.md §2 keeps the two apart
      return atom(*f, "in cidr", l + "]", false, s);
    }
    if (!cmp.empty()) {
      std::vector<X> xs;
      for (const auto& v : vals) {
        if (v.kind != Value::Int && v.kind != Value::Real) {
          sink_.report(Code::SigmaImportField, span(v.n), fmt::format("`|{}` compares with a number", cmp));
          return std::nullopt;
        }
        xs.push_back(atom(*f, cmp == "gt" ? ">" : cmp == "gte" ? ">=" : cmp == "lt" ? "<" : "<=", v.s, false, s));
      }
      return join(std::move(xs));
    }
    if (re) {
      std::vector<X> xs;
      std::string pre = flags.empty() ? "" : "(?" + flags + ")";
      for (const auto& v : vals) xs.push_back(atom(text_field, "matches regex", quote(pre + v.s), true, s));
      return join(std::move(xs));
    }
    // Ward's empty(): '' or null
    if (mode.empty() && vals.size() == 2 && !all &&
        ((vals[0].kind == Value::Text && vals[0].s.empty() && vals[1].kind == Value::Null) ||
         (vals[1].kind == Value::Text && vals[1].s.empty() && vals[0].kind == Value::Null)))
      return atom(*f, "empty", "", false, s);
    // plain values: one `in` where that is exact
    bool plain = mode.empty() && !all && vals.size() > 1;
    for (const auto& v : vals) {
      if (v.kind == Value::Null || v.kind == Value::Bool) plain = false;
      if (v.kind == Value::Text) {
        auto p = pattern(v.s);
        if (p.parts.size() > 1 || (p.parts.size() == 1 && p.parts[0].first != 'l')) plain = false;
      }
    }
    bool numeric = std::all_of(vals.begin(), vals.end(), [](const Value& v) { return v.kind == Value::Int || v.kind == Value::Real; });
    bool textual = std::all_of(vals.begin(), vals.end(), [](const Value& v) { return v.kind == Value::Text; });
    if (plain && (numeric || textual)) {
      std::string l = "[";
      for (std::size_t i = 0; i < vals.size(); ++i) l += (i ? ", " : "") + (numeric ? vals[i].s : quote(pattern(vals[i].s).parts.empty() ? "" : pattern(vals[i].s).parts[0].second));
      bool no_case = std::all_of(vals.begin(), vals.end(), [](const Value& v) {
        return std::none_of(v.s.begin(), v.s.end(), [](unsigned char c) { return std::isalpha(c) || c >= 0x80; });
      });
      return atom(numeric ? *f : text_field, numeric || cased || no_case ? "in" : "in~", l + "]", textual, s);
    }
    std::vector<X> xs;
    for (const auto& v : vals) {
      switch (v.kind) {
        case Value::Null:
          sink_.report(Code::SigmaImportApproximate, span(v.n), fmt::format("`{}: null` imported as `empty({})`", parts[0], *f))
              .note("Sigma's null is a missing field; Ward's empty() is also true for an empty text");
          xs.push_back(atom(*f, "empty", "", false, s));
          break;
        case Value::Bool: xs.push_back(atom(*f, "==", v.s, false, s)); break;
        case Value::Int:
        case Value::Real:
          if (mode.empty()) { xs.push_back(atom(*f, "==", v.s, false, s)); break; }
          [[fallthrough]];
        default: xs.push_back(text_test(text_field, v, mode, cased, s));
      }
    }
    return join(std::move(xs));
  }

  std::optional<X> selection(const YAML::Node& n) {
    if (n.IsMap()) {
      std::optional<X> r;
      for (const auto& kv : n) {
        auto x = item(kv.first, kv.second);
        if (!x) return std::nullopt;
        r = r ? node(X::And, std::move(*r), std::move(*x)) : std::move(*x);
      }
      if (!r) sink_.report(Code::SigmaImportYaml, span(n), "an empty selection");
      return r;
    }
    if (n.IsSequence() && n.size() > 0 && n[0].IsMap()) {
      std::optional<X> r;
      for (const auto& m : n) {
        if (!m.IsMap()) {
          sink_.report(Code::SigmaImportKeywords, span(m), "a list mixing maps and keywords").help("use maps only");
          return std::nullopt;
        }
        auto x = selection(m);
        if (!x) return std::nullopt;
        r = r ? node(X::Or, std::move(*r), std::move(*x)) : std::move(*x);
      }
      return r;
    }
    sink_.report(Code::SigmaImportKeywords, span(n), "a keyword selection (values with no field) has no Ward meaning")
        .note("Ward tests fields; Sigma keywords search the whole event text")
        .help("name the field each keyword is expected in");
    return std::nullopt;
  }

  // ---- condition ----
  struct Tok {
    std::string t;
    std::size_t off;
  };

  class Cond {
   public:
    Cond(Importer& im, const YAML::Node& n, const std::vector<std::string>& order, std::map<std::string, X>& sels)
        : im_(im), n_(n), order_(order), sels_(sels) {
      const auto& s = n.Scalar();
      for (std::size_t i = 0; i < s.size();) {
        char c = s[i];
        if (c == ' ' || c == '\t' || c == '\n') { ++i; continue; }
        if (c == '(' || c == ')' || c == '|') { toks_.push_back({std::string(1, c), i}); ++i; continue; }
        std::size_t j = i;
        while (j < s.size() && std::string_view(" \t\n()|").find(s[j]) == std::string_view::npos) ++j;
        toks_.push_back({s.substr(i, j - i), i});
        i = j;
      }
    }

    std::optional<X> parse() {
      auto x = disj();
      if (x && p_ < toks_.size()) return error(toks_[p_], toks_[p_].t == "|"
                                                            ? "a `|` aggregation (Sigma v1 `count()` etc.) is not imported"
                                                            : fmt::format("unexpected `{}`", toks_[p_].t),
                                           toks_[p_].t == "|" ? "write it as a Sigma correlation rule (event_count, value_count)" : "");
      return x;
    }

   private:
    Span at(const Tok& t) {
      Span s = im_.span(n_);
      std::size_t b = s.begin;
      if (b < im_.text_.size() && (im_.text_[b] == '"' || im_.text_[b] == '\'')) ++b;
      // a plain or quoted single-line scalar: the token's own column
      if (im_.text_.compare(b, n_.Scalar().size(), n_.Scalar()) == 0) {
        s.begin = static_cast<std::uint32_t>(b + t.off);
        s.end = static_cast<std::uint32_t>(b + t.off + std::max<std::size_t>(1, t.t.size()));
      }
      return s;
    }
    std::optional<X> error(const Tok& t, const std::string& msg, const std::string& help) {
      if (!failed_)
        im_.sink_.report(Code::SigmaImportCondition, at(t), msg)
            .help(help.empty() ? "conditions are selection names, `1 of x*`, `all of x*`, `them`, and/or/not and parentheses" : help);
      failed_ = true;
      return std::nullopt;
    }
    bool is(const char* w) { return p_ < toks_.size() && toks_[p_].t == w; }
    Tok end_tok() { return {"", n_.Scalar().size()}; }

    std::optional<X> disj() {
      auto a = conj();
      while (a && is("or")) {
        ++p_;
        auto b = conj();
        if (!b) return std::nullopt;
        a = node(X::Or, std::move(*a), std::move(*b));
      }
      return a;
    }
    std::optional<X> conj() {
      auto a = neg();
      while (a && is("and")) {
        ++p_;
        auto b = neg();
        if (!b) return std::nullopt;
        a = node(X::And, std::move(*a), std::move(*b));
      }
      return a;
    }
    std::optional<X> neg() {
      if (is("not")) {
        ++p_;
        auto a = neg();
        if (!a) return std::nullopt;
        return negation(std::move(*a));
      }
      return primary();
    }
    std::optional<X> primary() {
      if (p_ >= toks_.size()) return error(end_tok(), "the condition ends too early", "");
      auto t = toks_[p_];
      if (t.t == "(") {
        ++p_;
        auto a = disj();
        if (!a) return std::nullopt;
        if (!is(")")) return error(p_ < toks_.size() ? toks_[p_] : end_tok(), "a `(` without its `)`", "");
        ++p_;
        return a;
      }
      if ((t.t == "1" || t.t == "all" || t.t == "any") && p_ + 1 < toks_.size() && toks_[p_ + 1].t == "of") {
        p_ += 2;
        if (p_ >= toks_.size()) return error(end_tok(), "`of` needs a selection pattern or `them`", "");
        auto pat = toks_[p_++];
        std::vector<std::string> hit;
        for (const auto& s : order_) {
          if (pat.t == "them" ? s[0] != '_' : glob(pat.t, s)) hit.push_back(s);
        }
        if (hit.empty()) return error(pat, fmt::format("`{}` matches no selection", pat.t), "");
        std::optional<X> r;
        for (const auto& h : hit) {
          X x = sels_.at(h);
          r = r ? node(t.t == "all" ? X::And : X::Or, std::move(*r), std::move(x)) : std::move(x);
        }
        return r;
      }
      if (std::isdigit(static_cast<unsigned char>(t.t[0])) && p_ + 1 < toks_.size() && toks_[p_ + 1].t == "of")
        return error(t, fmt::format("`{} of` has no Ward meaning", t.t), "Sigma v2 conditions take `1 of` and `all of`");
      if (t.t == "and" || t.t == "or" || t.t == ")" || t.t == "|" || t.t == "of")
        return error(t, fmt::format("unexpected `{}`", t.t), "");
      auto it = sels_.find(t.t);
      if (it == sels_.end()) return error(t, fmt::format("`{}` is no selection of this rule", t.t), "");
      ++p_;
      return it->second;
    }
    static bool glob(const std::string& p, const std::string& s) {
      std::size_t i = 0, j = 0, star = std::string::npos, mark = 0;
      while (j < s.size()) {
        if (i < p.size() && p[i] == '*') { star = i++; mark = j; }
        else if (i < p.size() && p[i] == s[j]) { ++i; ++j; }
        else if (star != std::string::npos) { i = star + 1; j = ++mark; }
        else return false;
      }
      while (i < p.size() && p[i] == '*') ++i;
      return i == p.size();
    }

    Importer& im_;
    const YAML::Node& n_;
    const std::vector<std::string>& order_;
    std::map<std::string, X>& sels_;
    std::vector<Tok> toks_;
    std::size_t p_ = 0;
    bool failed_ = false;
  };

  // Exact rewrites: the export's `F|exists: true and not F: ''` is Ward's exists(F); `not` of
  // a text test is its negated operator.
  X simplify(X x) {
    for (auto& k : x.kids) k = simplify(std::move(k));
    if (x.kind == X::And && x.kids[0].kind == X::Atom && x.kids[0].op == "sigma-exists" && x.kids[1].kind == X::Atom &&
        x.kids[1].op == "!~" && x.kids[1].rhs == "\"\"") {  // `not F: ''`, its `not` already folded
      auto f = x.kids[0].field;
      auto g = x.kids[1].field;
      if (g == f || g == "tostring(" + f + ")") return atom(f, "exists", "", false, x.kids[0].span);
    }
    if (x.kind == X::Not && x.kids[0].kind == X::Atom && x.kids[0].text) {
      auto it = negated_ops().find(x.kids[0].op);
      if (it != negated_ops().end()) {
        X a = x.kids[0];
        a.op = it->second;
        a.text = false;
        return a;
      }
    }
    if (x.kind == X::Not && x.kids[0].kind == X::True) {
      x.kids[0].op = "false";
    }
    return x;
  }

  std::string render(const X& x) {
    switch (x.kind) {
      case X::True: return x.op == "false" ? "false" : "true";
      case X::And: return "(" + render(x.kids[0]) + " and " + render(x.kids[1]) + ")";
      case X::Or: return "(" + render(x.kids[0]) + " or " + render(x.kids[1]) + ")";
      case X::Not:
        if (x.kids[0].kind == X::True) return x.kids[0].op == "false" ? "true" : "false";
        return "not (" + render(x.kids[0]) + ")";
      case X::Atom:
        if (x.op == "exists" || x.op == "empty") return fmt::format("{}({})", x.op, x.field);
        if (x.op == "sigma-exists") {
          sink_.report(Code::SigmaImportApproximate, x.span, fmt::format("`|exists: true` imported as `exists({})`", x.field))
              .note("Ward's exists() is also false for an empty value; Sigma's only for a missing field")
              .help(fmt::format("add `{}: ''` under `not` (as Ward's export writes it) to state Ward's meaning exactly", x.field));
          return fmt::format("exists({})", x.field);
        }
        return fmt::format("{} {} {}", x.field, x.op, x.rhs);
    }
    return "";
  }

  // The `$var = Table where ...` of one detection rule, or nullopt after a diagnostic.
  std::optional<std::string> event(const YAML::Node& d, const std::string& var) {
    auto t = table(d);
    table_ = t && catalog_ ? catalog_->find(*t) : nullptr;
    auto det = d["detection"];
    if (!det.IsMap()) {
      sink_.report(Code::SigmaImportYaml, span(det), "`detection` must be a map of selections and a condition");
      return std::nullopt;
    }
    std::map<std::string, X> sels;
    std::vector<std::string> order;
    bool ok = bool(t);
    YAML::Node cond;
    for (const auto& kv : det) {
      auto k = scalar(kv.first);
      if (k == "condition") { cond = kv.second; continue; }
      if (k == "timeframe") {
        sink_.report(Code::SigmaImportCondition, span(kv.first), "`timeframe` (Sigma v1 aggregations) is not imported")
            .help("write the aggregation as a Sigma correlation rule with a `timespan`");
        ok = false;
        continue;
      }
      auto x = selection(kv.second);
      if (!x) { ok = false; continue; }
      sels.emplace(k, std::move(*x));
      order.push_back(k);
    }
    if (!cond) {
      sink_.report(Code::SigmaImportCondition, span(det), "a detection without `condition`")
          .help("add `condition: selection` naming the selections that must match");
      return std::nullopt;
    }
    if (!ok) return std::nullopt;
    std::vector<YAML::Node> conds;
    if (cond.IsSequence()) for (const auto& c : cond) conds.push_back(c);
    else conds.push_back(cond);
    std::optional<X> where;
    for (const auto& c : conds) {
      if (!c.IsScalar()) {
        sink_.report(Code::SigmaImportCondition, span(c), "a condition is a string").help("condition: selection");
        return std::nullopt;
      }
      auto x = Cond(*this, c, order, sels).parse();
      if (!x) return std::nullopt;
      where = where ? node(X::Or, std::move(*where), std::move(*x)) : std::move(*x);
    }
    X w = simplify(std::move(*where));
    auto errors = sink_.error_count();
    auto text = render(w);
    if (sink_.error_count() != errors) return std::nullopt;
    if (w.kind == X::True && w.op != "false") return fmt::format("${} = {}", var, *t);
    if (text.size() > 2 && text.front() == '(' && text.back() == ')') {
      // drop the outermost parentheses when they enclose the whole text
      int depth = 0;
      bool whole = true;
      for (std::size_t i = 0; i + 1 < text.size(); ++i) {
        if (text[i] == '(') ++depth;
        else if (text[i] == ')' && --depth == 0) { whole = false; break; }
      }
      if (whole) text = text.substr(1, text.size() - 2);
    }
    return fmt::format("${} = {} where {}", var, *t, text);
  }

  std::optional<ImportedRule> single(const YAML::Node& d) {
    auto errors = sink_.error_count();
    auto m = meta(d, false);
    auto ev = event(d, "e");
    if (!ev || sink_.error_count() != errors) return std::nullopt;
    ImportedRule r;
    r.name = rule_name(d, "sigma_rule");
    r.text = fmt::format("rule {} {{\n{}  events {{\n    {}\n  }}\n}}\n", r.name, m, *ev);
    r.custom_table = reads_custom_table(*ev);
    return r;
  }

  // ---- correlations ----
  static std::optional<std::string> duration(const std::string& t) {
    if (t.size() < 2) return std::nullopt;
    auto num = t.substr(0, t.size() - 1);
    // at most 9 digits: far beyond any window Ward accepts (sema says so), and no overflow here
    if (num.size() > 9 || !std::all_of(num.begin(), num.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    char u = t.back();
    std::string w;
    if (u == 's' || u == 'm' || u == 'h' || u == 'd') w = t;
    else if (u == 'w') w = fmt::format("{}d", std::stoll(num) * 7);
    else return std::nullopt;
    if (!literals::parse_duration(w)) return std::nullopt;  // a duration literal Ward can read
    return w;
  }

  std::optional<ImportedRule> correlation(const YAML::Node& d, const std::vector<YAML::Node>& rules) {
    auto errors = sink_.error_count();
    auto c = d["correlation"];
    auto m = meta(d, true);
    auto type = scalar(c["type"]);
    auto fail = [&](const YAML::Node& at, const std::string& msg, const std::string& help) -> std::optional<ImportedRule> {
      sink_.report(Code::SigmaImportCorrelation, span(at), msg).help(help);
      return std::nullopt;
    };
    const bool threshold = type == "event_count" || type == "value_count" || type == "value_sum";
    if (!threshold && type != "temporal" && type != "temporal_ordered")
      return fail(c["type"] ? c["type"] : c, fmt::format("correlation type `{}` has no Ward meaning", type),
                  "Ward states event_count, value_count, value_sum, temporal and temporal_ordered");
    if (rules.empty()) return fail(c, "a correlation without `rules`", "name the detection rules it correlates");
    if (threshold && rules.size() != 1)
      return fail(c["rules"], fmt::format("`{}` over {} rules: a Ward threshold counts one event", type, rules.size()),
                  "correlate one detection rule whose selection matches each of the events");
    if (type == "temporal_ordered" && rules.size() < 2)
      return fail(c["rules"], fmt::format("`temporal_ordered` over {} rule: a Ward sequence has two or more events", rules.size()),
                  "name the rules in the order their events happen");
    if (type == "temporal" && rules.size() != 2)
      return fail(c["rules"], fmt::format("`temporal` over {} rules: a Ward join has two events", rules.size()),
                  "use `temporal_ordered` when the order is known, or two correlations");
    // the event variables: the export's "<title>: $var", else the rule's name
    auto title = scalar(d["title"]);
    std::vector<std::string> vars, refs;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      auto t = scalar(rules[i]["title"]);
      std::string v;
      if (!title.empty() && t.rfind(title + ": $", 0) == 0 && is_ident(t.substr(title.size() + 3))) v = t.substr(title.size() + 3);
      else if (!scalar(rules[i]["name"]).empty()) v = slug(scalar(rules[i]["name"]));
      else v = fmt::format("e{}", i + 1);
      while (seen.count(v)) v += "_";
      seen.insert(v);
      vars.push_back(v);
      refs.push_back(scalar(c["rules"][i]));
    }
    // the rule's name: the export's "<rule>_<var>" detection names, else the correlation's own
    std::string common;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      auto n = scalar(rules[i]["name"]);
      auto suffix = "_" + vars[i];
      std::string p = n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0
                          ? n.substr(0, n.size() - suffix.size())
                          : "";
      if (i == 0) common = p;
      else if (p != common) common.clear();
    }
    std::string name;
    if (!common.empty() && is_ident(common) && !scalar(d["name"]).size()) {
      name = common;
      for (int i = 2; names_.count(name); ++i) name = fmt::format("{}_{}", common, i);
      names_.insert(name);
    } else {
      name = rule_name(d, "sigma_correlation");
    }
    std::vector<std::string> events;
    std::vector<const ir::Table*> tables;  // each rule's table: its group-by field is checked there
    for (std::size_t i = 0; i < rules.size(); ++i) {
      auto ev = event(rules[i], vars[i]);
      if (!ev) return std::nullopt;
      events.push_back(*ev);
      tables.push_back(table_);
    }
    // group-by, with aliases
    auto aliases = c["aliases"];
    std::vector<std::string> keys;
    if (auto g = c["group-by"]) {
      if (!g.IsSequence()) return fail(g, "`group-by` must be a list of fields", "group-by: [UserPrincipalName]");
      for (const auto& k : g) {
        auto key = scalar(k);
        std::vector<std::string> parts;
        for (std::size_t i = 0; i < rules.size(); ++i) {
          std::string field = key;
          if (aliases && aliases[key]) {
            auto a = aliases[key];
            std::string hit;
            for (const auto& kv : a) {
              auto rn = scalar(kv.first);
              if (rn == refs[i] || rn == scalar(rules[i]["name"]) || rn == scalar(rules[i]["id"])) hit = scalar(kv.second);
            }
            if (hit.empty())
              return fail(a, fmt::format("alias `{}` does not say which field rule `{}` groups by", key, refs[i]),
                          "map every correlated rule to its field");
            field = hit;
          }
          table_ = tables[i];
          auto f = ward_field(field, k);
          if (!f) return std::nullopt;
          // a dynamic path is keyed by its text, as a Ward key must be (E0405)
          const bool dyn = f->find_first_of(".[") != std::string::npos;
          parts.push_back(dyn ? fmt::format("tostring(${}.{})", vars[i], *f) : fmt::format("${}.{}", vars[i], *f));
        }
        std::string sep = threshold ? ", " : " = ";
        std::string joined;
        for (std::size_t i = 0; i < parts.size(); ++i) joined += (i ? " = " : "") + parts[i];
        keys.push_back(joined);
        (void)sep;
      }
    }
    table_ = tables.empty() ? nullptr : tables.back();
    if (aliases && aliases.IsMap())
      for (const auto& kv : aliases) {
        bool used = false;
        for (const auto& k : c["group-by"]) used = used || scalar(k) == scalar(kv.first);
        if (!used) ignored(kv.first, fmt::format("alias `{}`", scalar(kv.first)), "no group-by field uses it");
      }
    auto ts = c["timespan"];
    auto window = duration(scalar(ts));
    if (!window)
      return fail(ts ? ts : c, ts ? fmt::format("timespan `{}` is not a Ward window", scalar(ts)) : "a correlation without `timespan`",
                  "a timespan is a number and one unit s, m, h, d (or w); months and years have no fixed length");
    std::string by;
    for (std::size_t i = 0; i < keys.size(); ++i) by += (i ? ", " : " by ") + keys[i];
    std::string cond;
    auto cn = c["condition"];
    if (threshold) {
      if (!cn || !cn.IsMap()) return fail(cn ? cn : c, "a threshold correlation without a `condition` map", "condition: {gte: 10}");
      std::string op, n, field;
      int ops = 0;
      for (const auto& kv : cn) {
        auto k = scalar(kv.first);
        if (k == "field") { field = scalar(kv.second); continue; }
        static const std::map<std::string, std::string> cmp = {{"gt", ">"}, {"gte", ">="}, {"lt", "<"},
                                                                {"lte", "<="}, {"eq", "=="}, {"neq", "!="}};
        auto it = cmp.find(k);
        if (it == cmp.end()) return fail(kv.first, fmt::format("`{}` is not a correlation comparison", k), "gt, gte, lt, lte, eq, neq");
        if (++ops > 1)
          return fail(kv.first, "a range condition (two comparisons) has no Ward meaning",
                      "a Ward threshold compares once: keep one bound, or write two rules");
        op = it->second;
        n = scalar(kv.second);
        if (n.empty() || !std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
          return fail(kv.second, "a correlation threshold is a whole number", "condition: {gte: 10}");
      }
      if (ops == 0) return fail(cn, "the condition compares with nothing", "condition: {gte: 10}");
      std::string agg;
      if (type == "event_count") {
        if (!field.empty()) ignored(cn["field"], "`field` of an event_count", "event_count counts events, not values");
        agg = fmt::format("count(${})", vars[0]);
      } else {
        if (field.empty()) return fail(cn, fmt::format("`{}` needs `condition.field`", type), "condition: {gte: 10, field: UserPrincipalName}");
        auto f = ward_field(field, cn["field"]);
        if (!f) return std::nullopt;
        const bool dyn = f->find_first_of(".[") != std::string::npos;  // dcount of a dynamic: of its text
        agg = type == "value_count" && dyn ? fmt::format("dcount(tostring(${}.{}))", vars[0], *f)
                                           : fmt::format("{}(${}.{})", type == "value_count" ? "dcount" : "sum", vars[0], *f);
      }
      cond = fmt::format("{} {} {}{} within {}", agg, op, n, by, *window);
    } else {
      if (cn) {
        // Ward's join and sequence need every event: `gte: <number of rules>` is the only exact condition
        bool all = cn.IsMap() && cn.size() == 1 && cn["gte"] && scalar(cn["gte"]) == std::to_string(rules.size());
        if (!all)
          return fail(cn, fmt::format("a {} condition other than all {} rules", type, rules.size()),
                      fmt::format("Ward's join and sequence need every event: condition: {{gte: {}}}", rules.size()));
      }
      std::string evs;
      for (std::size_t i = 0; i < vars.size(); ++i)
        evs += (i ? (type == "temporal" ? " and $" : " then $") : "$") + vars[i];
      cond = fmt::format("{}{}{} within {}", type == "temporal" ? "" : "sequence ", evs, by, *window);
    }
    if (sink_.error_count() != errors) return std::nullopt;
    ImportedRule r;
    r.name = name;
    std::string evtext;
    for (const auto& e : events) {
      evtext += "    " + e + "\n";
      r.custom_table = r.custom_table || reads_custom_table(e);
    }
    r.text = fmt::format("rule {} {{\n{}  events {{\n{}  }}\n  condition {}\n}}\n", name, m, evtext, cond);
    return r;
  }

  source::FileId file_;
  diag::Sink& sink_;
  const std::string& text_;
  const ir::Catalog* catalog_;
  const ir::Table* table_ = nullptr;  // the event's table, while its detection is read
  std::set<std::string> names_;
};

}  // namespace

std::vector<ImportedRule> import_file(const source::SourceManager& sm, source::FileId file, diag::Sink& sink,
                                      const ir::Catalog* catalog) {
  return Importer(sm, file, sink, catalog).run_guarded();
}

std::string ward_source(const std::vector<ImportedRule>& rules, const std::string& from) {
  std::string s = fmt::format("// Imported from {} by `ward import-sigma`.\nimport sentinel\n", from);
  for (const auto& r : rules)
    if (r.custom_table) {  // a table of Ward's own module (rules/schemas/token_validation.ward)
      s += "import token_validation\n";
      break;
    }
  for (const auto& r : rules) s += "\n" + r.text;
  return s;
}

int import_command(const std::vector<std::string>& files, const std::string& out_dir, const std::string& diag_format) {
  // the shipped `sentinel` module: its tables' columns and types
  driver::Compilation schemas;
  {
    auto stub = std::filesystem::temp_directory_path() / fmt::format("ward_import_sigma_{}.ward", getpid());
    std::ofstream(stub) << "import sentinel\nimport token_validation\n";
    driver::compile({stub.string()}, {}, schemas);
    std::filesystem::remove(stub);
  }
  const ir::Catalog* catalog = schemas.sink.has_errors() ? nullptr : &schemas.module.catalog;
  source::SourceManager sm;
  diag::Sink sink;
  int rc = 0;
  std::vector<std::pair<std::string, std::string>> outputs;  // path (or "" for stdout), text
  for (const auto& f : files) {
    std::string err;
    auto id = sm.load(f, &err);
    if (id == source::kNoFile) {
      std::cerr << fmt::format("error: {}: {}\n", f, err);
      rc = 2;
      continue;
    }
    auto rules = import_file(sm, id, sink, catalog);
    if (rules.empty()) continue;
    auto stem = std::filesystem::path(f).stem().string();
    outputs.emplace_back(out_dir.empty() ? "" : (std::filesystem::path(out_dir) / (stem + ".ward")).string(),
                         ward_source(rules, std::filesystem::path(f).filename().string()));
  }
  sink.sort_by_position();
  if (diag_format == "json") {
    std::cerr << diag::render_json(sink.all(), sm);
  } else {
    bool color = isatty(STDERR_FILENO) && !std::getenv("NO_COLOR");
    for (const auto& d : sink.all()) std::cerr << diag::render_text(d, sm, color) << "\n";
    if (sink.error_count() || sink.warning_count())
      std::cerr << fmt::format("{} error{}, {} warning{}\n", sink.error_count(), sink.error_count() == 1 ? "" : "s",
                               sink.warning_count(), sink.warning_count() == 1 ? "" : "s");
  }
  if (!out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec) {
      std::cerr << fmt::format("error: cannot create {}: {}\n", out_dir, ec.message());
      return 2;
    }
  }
  for (const auto& [path, text] : outputs) {
    if (path.empty()) {
      std::cout << text;
      continue;
    }
    std::ofstream o(path, std::ios::binary);
    o << text;
    if (!o) {
      std::cerr << fmt::format("error: cannot write {}\n", path);
      rc = 2;
    }
  }
  if (rc) return rc;
  return sink.has_errors() ? 1 : 0;
}

}  // namespace ward::backend::sigma
