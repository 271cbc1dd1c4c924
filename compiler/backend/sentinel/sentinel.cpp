// Building a Sentinel analytics rule from the IR, with every limit Sentinel (and the
// Azure-Sentinel repository's template checks) would reject found here, before deployment.
#include "backend/sentinel/sentinel.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "ast/value.h"
#include "backend/kql/kql.h"

namespace ward::backend::sentinel {
namespace {

using diag::Code;
using source::Span;

// The data connector that brings each shipped Sentinel table into a workspace
// (ids from the Azure-Sentinel repository's ValidConnectorIds.json).
const std::map<std::string, std::string>& connector_of_table() {
  static const std::map<std::string, std::string> k = {
      {"SigninLogs", "AzureActiveDirectory"},
      {"AADNonInteractiveUserSignInLogs", "AzureActiveDirectory"},
      {"AADServicePrincipalSignInLogs", "AzureActiveDirectory"},
      {"AuditLogs", "AzureActiveDirectory"},
      {"MicrosoftGraphActivityLogs", "AzureActiveDirectory"},
      {"OfficeActivity", "Office365"},
      {"CloudAppEvents", "MicrosoftThreatProtection"},
  };
  return k;
}

// Per entity type, the identifier sets of which one must be mapped in full
// (Azure-Sentinel's EntityMappingIdentifiers.cs, RequiredIdentifiers).
const std::map<std::string, std::vector<std::vector<std::string>>>& required_identifiers() {
  static const std::map<std::string, std::vector<std::vector<std::string>>> k = {
      {"Account", {{"FullName"}, {"Sid"}, {"Name"}, {"AadUserId"}, {"PUID"}, {"ObjectGuid"}}},
      {"AzureResource", {{"ResourceId"}}},
      {"CloudApplication", {{"AppId"}, {"Name"}}},
      {"DNS", {{"DomainName"}}},
      {"File", {{"Name"}}},
      {"FileHash", {{"Algorithm", "Value"}}},
      {"Host", {{"FullName"}, {"HostName"}, {"NetBiosName"}, {"AzureID"}, {"OMSAgentID"}}},
      {"IP", {{"Address"}}},
      {"Mailbox", {{"MailboxPrimaryAddress"}}},
      {"MailMessage", {{"NetworkMessageId"}, {"Recipient"}}},
      {"Malware", {{"Name"}}},
      {"Process", {{"CommandLine"}, {"ProcessId"}}},
      {"RegistryKey", {{"Key"}, {"Hive"}}},
      {"RegistryValue", {{"Name"}}},
      {"SecurityGroup", {{"DistinguishedName"}, {"SID"}, {"ObjectGuid"}}},
      {"URL", {{"Url"}}},
  };
  return k;
}

// .NET's StringLength counts UTF-16 code units; the IR holds UTF-8.
std::size_t utf16_length(const std::string& s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += c >= 0xF0 ? 2 : 1;            // 4-byte sequences are surrogate pairs
  }
  return n;
}

bool ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool word_char(char c) { return ascii_letter(c) || (c >= '0' && c <= '9') || c == '_'; }

// ^[a-zA-Z]+\w*$ (custom-detail keys) or ^[a-zA-Z_]+\w*$ (column names), ASCII only as in .NET's \w here.
bool plain_name(const std::string& s, bool underscore_first) {
  if (s.empty() || !(ascii_letter(s[0]) || (underscore_first && s[0] == '_'))) return false;
  return std::all_of(s.begin(), s.end(), word_char);
}

// {{name}} placeholders as Sentinel finds them: `{{([^{}]*)}}`.
std::vector<std::string> placeholders(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while ((i = s.find("{{", i)) != std::string::npos) {
    std::size_t j = i + 2;
    while (j < s.size() && s[j] != '{' && s[j] != '}') ++j;
    if (j + 1 < s.size() && s[j] == '}' && s[j + 1] == '}') {
      out.push_back(s.substr(i + 2, j - i - 2));
      i = j + 2;
    } else {
      i += 1;  // `{{{x}}` matches at the second brace, as the regex does
    }
  }
  return out;
}

class Builder {
 public:
  Builder(const ir::Module& m, const ir::Rule& r, diag::Sink& sink) : m_(m), r_(r), sink_(sink) {}

  std::optional<AlertRule> run() {
    std::size_t errors_before = sink_.error_count();
    AlertRule a;
    a.rule = r_.name;
    a.id = r_.meta.id;
    a.name = r_.meta.title;
    a.description = r_.meta.description;
    a.severity = ir::severity_name(r_.meta.severity);
    a.nrt = r_.schedule.nrt;
    a.frequency = r_.schedule.frequency;
    a.period = r_.schedule.period;
    a.suppression = r_.suppress;
    a.version = r_.meta.version;
    a.tags = r_.meta.tags;
    // a technique or tactic given twice is listed once (the ARM form could not say it twice anyway)
    for (const auto& t : r_.meta.tactics)
      if (std::find(a.tactics.begin(), a.tactics.end(), t) == a.tactics.end()) a.tactics.push_back(t);
    for (const auto& t : r_.meta.techniques)
      if (std::find(a.techniques.begin(), a.techniques.end(), t) == a.techniques.end()) a.techniques.push_back(t);
    a.query = kql::emit(m_, r_);
    a.alert_name_format = r_.meta.alert_title;
    a.alert_description_format = r_.meta.alert_description;
    connectors(a);
    texts(a);
    techniques(a);
    output_columns();
    entities(a);
    custom_details(a);
    overrides(a);
    query_length(a);
    nrt();
    if (sink_.error_count() != errors_before) return std::nullopt;
    return a;
  }

 private:
  Span meta_span(const char* key) const {
    auto it = r_.meta.spans.find(key);
    return it != r_.meta.spans.end() ? it->second : head();
  }
  // The rule's first line (`rule name {`): where a rule-wide limit is reported.
  Span head() const {
    Span s = r_.span;
    if (s.valid()) s.end = std::min(s.end, s.begin + 4 + static_cast<std::uint32_t>(r_.name.size()) + 1);
    return s;
  }

  void connectors(AlertRule& a) {
    std::map<std::string, std::set<std::string>> by_id;
    std::vector<std::string> order;
    for (const auto& e : r_.events) {
      if (e.table >= m_.catalog.tables.size()) continue;
      const auto& t = m_.catalog.tables[e.table].name;
      auto it = connector_of_table().find(t);
      if (it == connector_of_table().end()) continue;  // a custom table: no connector provides it
      if (!by_id.count(it->second)) order.push_back(it->second);
      by_id[it->second].insert(t);
    }
    for (const auto& id : order) a.connectors.push_back({id, {by_id[id].begin(), by_id[id].end()}});
  }

  void text_limit(const std::string& text, std::size_t max, const char* key, const char* what, bool required) {
    auto n = utf16_length(text);
    if (n > max)
      sink_.report(Code::SentinelTextTooLong, meta_span(key),
                   fmt::format("the {} is {} characters long; Sentinel allows {}", what, n, max));
    else if (required && text.find_first_not_of(" \t\r\n") == std::string::npos && r_.meta.spans.count(key))
      sink_.report(Code::SentinelTextTooLong, meta_span(key), fmt::format("the {} is empty", what))
          .help("Sentinel needs a non-empty text here");
  }

  void texts(const AlertRule& a) {
    text_limit(a.name, 256, "title", "title (the analytics rule's name)", true);
    text_limit(a.description, 5000, "description", "description", true);
    text_limit(a.alert_name_format, 256, "alert_title", "alert title override", true);
    text_limit(a.alert_description_format, 5000, "alert_description", "alert description override", true);
    const auto& v = a.version;
    bool ok = v.size() <= 20;
    int parts = 0;
    std::size_t i = 0;
    while (ok && i <= v.size()) {
      std::size_t j = v.find('.', i);
      if (j == std::string::npos) j = v.size();
      ok = j > i && std::all_of(v.begin() + i, v.begin() + j, [](char c) { return c >= '0' && c <= '9'; });
      ++parts;
      i = j + 1;
    }
    if (!ok || parts != 3)
      sink_.report(Code::InvalidSentinelVersion, meta_span("version"),
                   fmt::format("version `{}` is not of the form X.Y.Z", v))
          .help("write version = \"1.0.0\" (three numbers, at most 20 characters)");
  }

  // One diagnostic per kind of problem: they share the `techniques` span, and the sink keeps
  // one diagnostic per code and span.
  void techniques(const AlertRule& a) {
    const char* key = r_.meta.spans.count("techniques") ? "techniques" : "attack";
    std::vector<std::string> unknown, lone, need;
    for (const auto& t : a.techniques) {
      auto tactics = tactics_of(t);
      if (tactics.empty()) {
        unknown.push_back(t);
        continue;
      }
      bool shared = std::any_of(tactics.begin(), tactics.end(), [&](const std::string& x) {
        return std::find(a.tactics.begin(), a.tactics.end(), x) != a.tactics.end();
      });
      if (!shared) {
        std::string names;
        for (std::size_t i = 0; i < tactics.size(); ++i)
          names += fmt::format("{}{}", i ? (i + 1 == tactics.size() ? " or " : ", ") : "", tactics[i]);
        lone.push_back(fmt::format("`{}` belongs to {}", t, names));
        if (std::find(need.begin(), need.end(), tactics[0]) == need.end()) need.push_back(tactics[0]);
      }
    }
    if (!unknown.empty())
      sink_.report(Code::UnknownSentinelTechnique, meta_span(key),
                   fmt::format("Sentinel's technique map does not know {}", join(unknown, "`")))
          .help("check the id, or leave it out of `techniques`")
          .note("the Azure-Sentinel repository's checks reject a technique with no tactic in its map (a snapshot "
                "of ATT&CK in compiler/backend/sentinel/attack.cpp); Sentinel itself stores it");
    if (!lone.empty()) {
      auto b = sink_.report(Code::TechniqueWithoutTactic, meta_span(key),
                            fmt::format("technique {}, which the rule's tactics do not name", join(lone, "")));
      if (r_.meta.spans.count("tactics")) b.secondary(meta_span("tactics"), "the rule's tactics");
      b.help(fmt::format("add {} to `tactics`, or drop the technique", join(need, "")));
    }
  }

  static std::string join(const std::vector<std::string>& v, const char* quote) {
    std::string s;
    for (std::size_t i = 0; i < v.size(); ++i)
      s += fmt::format("{}{}{}{}", i ? (i + 1 == v.size() ? " and " : ", ") : "", quote, v[i], quote);
    return s;
  }

  // The columns every row of the query's output has: TimeGenerated and the outcome fields,
  // or the whole row of a single-event rule without an outcome.
  void output_columns() {
    columns_ = {"TimeGenerated"};
    for (const auto& o : r_.outcome) columns_.push_back(o.name);
    if (r_.outcome.empty() && r_.corr.kind == ir::CorrKind::Single && !r_.events.empty() &&
        r_.events[0].table < m_.catalog.tables.size())
      for (const auto& c : m_.catalog.tables[r_.events[0].table].columns)
        if (c.name != "TimeGenerated") columns_.push_back(c.name);
  }
  bool in_output(const std::string& c) const { return std::find(columns_.begin(), columns_.end(), c) != columns_.end(); }

  void entities(AlertRule& a) {
    if (r_.entities.size() > 10)
      sink_.report(Code::TooManyEntityMappings, r_.entities[10].span,
                   fmt::format("{} entity mappings; Sentinel allows 10", r_.entities.size()))
          .help("keep the 10 an analyst needs most");
    for (const auto& e : r_.entities) {
      EntityMapping em{e.type, {}};
      if (e.identifiers.size() > 3)
        sink_.report(Code::TooManyEntityIdentifiers, e.span,
                     fmt::format("entity `{}` maps {} identifiers; Sentinel allows 3", e.type, e.identifiers.size()))
            .help("map the entity twice, or drop the identifiers Sentinel can derive (e.g. UPNSuffix from FullName)");
      std::set<std::string> used;
      for (const auto& [ident, field] : e.identifiers) {
        if (!used.insert(ident).second)
          sink_.report(Code::DuplicateEntityIdentifier, e.span,
                       fmt::format("entity `{}` maps identifier `{}` twice", e.type, ident));
        if (!in_output(field) || !plain_name(field, true) || field.size() > 500)
          sink_.report(Code::InvalidEntityColumn, e.span,
                       fmt::format("`{}` is not a plain column of the query's output", field))
              .note("Sentinel maps entities from columns named like [a-zA-Z_][a-zA-Z0-9_]*");
        em.fields.emplace_back(ident, field);
      }
      auto req = required_identifiers().find(e.type);
      if (req != required_identifiers().end() && !e.identifiers.empty()) {
        bool ok = std::any_of(req->second.begin(), req->second.end(), [&](const std::vector<std::string>& set) {
          return std::all_of(set.begin(), set.end(), [&](const std::string& i) { return used.count(i) > 0; });
        });
        if (!ok) {
          std::string alts;
          for (std::size_t i = 0; i < req->second.size(); ++i) {
            std::string set;
            for (std::size_t j = 0; j < req->second[i].size(); ++j) set += (j ? " and " : "") + req->second[i][j];
            alts += fmt::format("{}{}", i ? ", " : "", set);
          }
          sink_.report(Code::MissingRequiredIdentifier, e.span,
                       fmt::format("entity `{}` needs one of these identifiers to be identified: {}", e.type, alts))
              .help(fmt::format("add e.g. `{} = <outcome field>`", req->second[0][0]));
        }
      }
      a.entities.push_back(std::move(em));
    }
  }

  void custom_details(AlertRule& a) {
    for (std::size_t i = 0; i < r_.outcome.size(); ++i) {
      const auto& o = r_.outcome[i];
      if (i == 20)
        sink_.report(Code::TooManyCustomDetails, o.span,
                     fmt::format("{} outcome fields; Sentinel shows at most 20 as custom details", r_.outcome.size()))
            .note("every outcome field becomes a custom detail of the alert (docs/sentinel.md)")
            .help("keep the 20 an analyst needs most");
      if (!plain_name(o.name, false) || o.name.size() > 20)
        sink_.report(Code::InvalidCustomDetailKey, o.span,
                     fmt::format("outcome field `{}` cannot be a Sentinel custom-detail key", o.name))
            .note("keys start with an ASCII letter, hold only letters, digits and `_`, and are at most 20 long")
            .help("rename the field");
      a.custom_details.emplace_back(o.name, o.name);
    }
  }

  void overrides(const AlertRule& a) {
    for (auto [text, key] : {std::pair{&a.alert_name_format, "alert_title"},
                             std::pair{&a.alert_description_format, "alert_description"}}) {
      auto ps = placeholders(*text);
      if (ps.size() > 3)
        sink_.report(Code::TooManyPlaceholders, meta_span(key),
                     fmt::format("{} has {} {{{{column}}}} placeholders; Sentinel allows 3", key, ps.size()));
      std::vector<std::string> missing;
      for (const auto& p : ps)
        if (!in_output(p) && std::find(missing.begin(), missing.end(), "{{" + p + "}}") == missing.end())
          missing.push_back("{{" + p + "}}");
      if (missing.empty()) continue;
      auto b = sink_.report(Code::PlaceholderNotInOutput, meta_span(key),
                            fmt::format("{} {} no column of the query's output", missing.size() == 1 ? "placeholder" : "placeholders",
                                        join(missing, "") + (missing.size() == 1 ? " names" : " name")));
      for (const auto& p : ps)
        if (!in_output(p)) b.help(diag::did_you_mean(p, columns_));
      b.note(r_.outcome.empty() ? "the query's output is the table's row"
                                : "the query's output is TimeGenerated and the outcome fields");
    }
  }

  void query_length(const AlertRule& a) {
    auto n = utf16_length(a.query);
    if (n <= 10000) return;
    auto b = sink_.report(Code::SentinelQueryTooLong, head(),
                          fmt::format("rule `{}` compiles to a query of {} characters; Sentinel allows 10,000", r_.name, n));
    // the usual cause: a long inline or file list
    std::size_t best = 0, best_len = 0;
    bool any = false;
    for (auto li : ir::lists_used(r_)) {
      std::size_t len = 0;
      for (const auto& v : m_.lists[li].values) len += (v.s.empty() ? 20 : v.s.size()) + 4;
      if (len > best_len) best = li, best_len = len, any = true;
    }
    if (any && best_len > 1000)
      b.secondary(m_.lists[best].span, fmt::format("list `{}` alone is about {} characters", m_.lists[best].name, best_len))
          .help("keep long IOC lists in a Sentinel watchlist, or split the rule");
    else
      b.help("simplify the rule or split it in two");
  }

  void nrt() {
    if (!r_.schedule.nrt) return;
    sink_.report(Code::NrtAlertCap, r_.schedule.span,
                 "an NRT run raises one alert per event for up to 29 events; the rest become one summary alert")
        .note("Ward's VM alerts on every matching event; Sentinel's NRT rules cap single-event alerts at 30 a minute");
  }

  const ir::Module& m_;
  const ir::Rule& r_;
  diag::Sink& sink_;
  std::vector<std::string> columns_;
};

}  // namespace

std::optional<AlertRule> build(const ir::Module& m, const ir::Rule& r, diag::Sink& sink) {
  return Builder(m, r, sink).run();
}

std::string yaml_duration(std::int64_t t) {
  if (t > 0 && t % kTicksPerDay == 0) return fmt::format("{}d", t / kTicksPerDay);
  if (t > 0 && t % kTicksPerHour == 0) return fmt::format("{}h", t / kTicksPerHour);
  if (t > 0 && t % kTicksPerMinute == 0) return fmt::format("{}m", t / kTicksPerMinute);
  // .NET TimeSpan text, which the template reader tries first: d.hh:mm:ss[.fffffff]
  std::int64_t d = t / kTicksPerDay, rest = t % kTicksPerDay;
  std::string s = fmt::format("{}.{:02}:{:02}:{:02}", d, rest / kTicksPerHour, rest % kTicksPerHour / kTicksPerMinute,
                              rest % kTicksPerMinute / kTicksPerSecond);
  if (auto f = rest % kTicksPerSecond) s += fmt::format(".{:07}", f);
  return s;
}

std::string iso_duration(std::int64_t t) {
  std::int64_t d = t / kTicksPerDay, h = t % kTicksPerDay / kTicksPerHour, m = t % kTicksPerHour / kTicksPerMinute,
               s = t % kTicksPerMinute / kTicksPerSecond, f = t % kTicksPerSecond;
  std::string out = "P";
  if (d) out += fmt::format("{}D", d);
  if (h || m || s || f || !d) {
    out += "T";
    if (h) out += fmt::format("{}H", h);
    if (m) out += fmt::format("{}M", m);
    if (f) out += fmt::format("{}.{:07}S", s, f);
    else if (s || (!h && !m)) out += fmt::format("{}S", s);
  }
  return out;
}

}  // namespace ward::backend::sentinel
