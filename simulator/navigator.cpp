// `ward coverage --navigator FILE`: an ATT&CK Navigator layer (layer format 4.5,
// mitre-attack/attack-navigator layers/spec/v4.5/layerformat.md) scored from the replay.
// Score = recall (0-100) over the malicious rows labelled with the technique, any rule;
// the comment names the steps and the rules that caught its rows.
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <iostream>

#include "simulator/coverage_report.h"
#include "simulator/output.h"

namespace ward::sim {

namespace {
// T####, or T####.### for a sub-technique (what the layer format accepts as techniqueID).
bool is_technique_id(const std::string& s) {
  auto digits = [&](std::size_t at, std::size_t n) {
    for (std::size_t i = at; i < at + n; ++i)
      if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
    return true;
  };
  return (s.size() == 5 || s.size() == 9) && s[0] == 'T' && digits(1, 4) && (s.size() == 5 || (s[5] == '.' && digits(6, 3)));
}
}  // namespace

bool write_navigator(const CoverageReport& r, const std::string& path) {
  std::string j = "{\"name\":";
  json_escape(j, fmt::format("Ward coverage: {}", r.scenario));
  j += ",\"versions\":{\"attack\":\"14\",\"navigator\":\"4.9.1\",\"layer\":\"4.5\"},\"domain\":\"enterprise-attack\",\"description\":";
  json_escape(j, fmt::format("Recall of the shipped rules over the labelled campaign rows of a simulated trace "
                             "({} users x {} days, seed {}): score = % of the rows labelled with the technique that an alert names.",
                             r.users, r.days, r.seed));
  j += ",\"filters\":{\"platforms\":[\"Azure AD\",\"Office 365\",\"SaaS\"]},\"sorting\":3,"
       "\"layout\":{\"layout\":\"side\",\"showID\":true,\"showName\":true,\"showAggregateScores\":false,"
       "\"countUnscored\":false,\"aggregateFunction\":\"average\",\"expandedSubtechniques\":\"annotated\"},"
       "\"hideDisabled\":false,\"techniques\":[";
  bool first = true;
  for (const auto& t : r.techniques) {
    if (t.events == 0 || !is_technique_id(t.id)) continue;  // e.g. a label without a technique
    double recall = 100.0 * static_cast<double>(t.caught) / static_cast<double>(t.events);
    int score = static_cast<int>(std::lround(recall));
    std::string steps, rules;
    for (const auto& s : t.steps) steps += (steps.empty() ? "" : ", ") + s;
    for (const auto& [name, n] : t.rules) rules += fmt::format("{}{} ({} row{})", rules.empty() ? "" : ", ", name, n, n == 1 ? "" : "s");
    if (!first) j += ',';
    first = false;
    j += "{\"techniqueID\":";
    json_escape(j, t.id);
    j += fmt::format(",\"score\":{},\"enabled\":true,\"comment\":", score);
    json_escape(j, fmt::format("recall {:.1f}% ({} of {} rows) in step(s) {}; caught by: {}", recall, t.caught, t.events, steps,
                               rules.empty() ? "no rule" : rules));
    j += ",\"metadata\":[";
    json_escape(j.append("{\"name\":\"steps\",\"value\":"), steps);
    j += "},{\"name\":\"rows\",\"value\":";
    json_escape(j, fmt::format("{} caught of {}", t.caught, t.events));
    j += "}";
    for (const auto& [name, n] : t.rules) {
      j += ",{\"name\":\"rule\",\"value\":";
      json_escape(j, fmt::format("{}: {} rows", name, n));
      j += "}";
    }
    j += "]}";
  }
  j += "],\"gradient\":{\"colors\":[\"#d73027\",\"#fdae61\",\"#1a9850\"],\"minValue\":0,\"maxValue\":100},"
       "\"legendItems\":[{\"label\":\"caught (recall 90-100%)\",\"color\":\"#1a9850\"},"
       "{\"label\":\"partly caught\",\"color\":\"#fdae61\"},{\"label\":\"missed (recall 0%)\",\"color\":\"#d73027\"}],"
       "\"showTacticRowBackground\":false,\"tacticRowBackground\":\"#dddddd\",\"selectTechniquesAcrossTactics\":true,"
       "\"selectSubtechniquesWithParent\":false,\"selectVisibleTechniques\":false,\"metadata\":[";
  j += fmt::format("{{\"name\":\"users\",\"value\":\"{}\"}},{{\"name\":\"days\",\"value\":\"{}\"}},{{\"name\":\"seed\",\"value\":\"{}\"}},",
                   r.users, r.days, r.seed);
  j += fmt::format("{{\"name\":\"events\",\"value\":\"{}\"}},{{\"name\":\"malicious rows\",\"value\":\"{}\"}},{{\"divider\":true}}", r.events,
                   r.malicious);
  for (const auto& ru : r.rules) {
    j += ",{\"name\":";
    json_escape(j, ru.name);
    j += ",\"value\":";
    json_escape(j, fmt::format("{} alerts, {} true, {} false ({:.2f} FP/1k users/day)", ru.alerts, ru.tp, ru.fp, ru.fp_rate));
    j += "}";
  }
  j += "]}\n";
  std::ofstream f(path, std::ios::binary);
  f << j;
  if (!f) {
    std::cerr << fmt::format("error: cannot write `{}`\n", path);
    return false;
  }
  return true;
}

}  // namespace ward::sim
