// Printing an AlertRule: the Azure-Sentinel repository's YAML (with yaml-cpp, which
// quotes whatever needs quoting) and an ARM template (JSON written here, with ARM's own
// escape for strings that would read as template expressions).
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "backend/kql/kql.h"
#include "backend/sentinel/sentinel.h"

namespace ward::backend::sentinel {
namespace {

// A literal block (`|`) keeps a query readable; it only holds text that reads back
// exactly: one final newline, printable characters, no leading blank on the first line.
bool literal_safe(const std::string& s) {
  if (s.empty() || s.back() != '\n' || (s.size() > 1 && s[s.size() - 2] == '\n')) return false;
  if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 && c != '\n') return false;
    if (c == 0x7F) return false;
    // U+0085, U+2028, U+2029 are line breaks to a YAML reader; U+FEFF is a BOM
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x85) return false;
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xA8 || static_cast<unsigned char>(s[i + 2]) == 0xA9))
      return false;
    if (c == 0xEF && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0xBB &&
        static_cast<unsigned char>(s[i + 2]) == 0xBF)
      return false;
    // a line with trailing blanks reads back the same in a literal block; `\n ` lines are fine too
  }
  return true;
}

// Text that is not a plain identifier-like word is always double-quoted: yaml-cpp's own
// choice of plain scalars accepts some texts that other readers take as numbers or dates.
void text(YAML::Emitter& y, const std::string& s, bool block = false) {
  if (block && literal_safe(s)) {
    // `|` keeps exactly one final line break: the reader gets it back
    y << YAML::Literal << s.substr(0, s.size() - 1);
    return;
  }
  // NEL, LS, PS and BOM are line breaks or noise to YAML 1.1 readers (YamlDotNet): escape them.
  bool odd = s.find("\xC2\x85") != std::string::npos || s.find("\xE2\x80\xA8") != std::string::npos ||
             s.find("\xE2\x80\xA9") != std::string::npos || s.find("\xEF\xBB\xBF") != std::string::npos;
  if (odd) y.SetOutputCharset(YAML::EscapeNonAscii);
  y << YAML::DoubleQuoted << s;
  if (odd) y.SetOutputCharset(YAML::EmitNonAscii);
}

void text_list(YAML::Emitter& y, const std::vector<std::string>& v) {
  y << YAML::BeginSeq;
  for (const auto& s : v) text(y, s);
  y << YAML::EndSeq;
}

// A JSON string. KQL's double-quoted literal escapes exactly what JSON needs (quote, backslash,
// control characters as \uXXXX) and keeps other UTF-8, so the KQL backend's quoting is reused.
std::string json(const std::string& s, bool arm_expression_escape = true) {
  std::string out = kql::string_literal(s);
  // ARM evaluates a string that starts with `[` and ends with `]` as an expression; `[[` escapes it.
  if (arm_expression_escape && s.size() >= 2 && s.front() == '[' && s.back() == ']') out.insert(1, "[");
  return out;
}

std::string json_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + json(v[i]);
  return s + "]";
}

std::string arm_operator(const std::string& op) {
  if (op == "gt") return "GreaterThan";
  if (op == "lt") return "LessThan";
  if (op == "eq") return "Equal";
  return "NotEqual";
}

}  // namespace

std::string yaml(const AlertRule& a) {
  YAML::Emitter y;
  y.SetIndent(2);
  y << YAML::BeginMap;
  y << YAML::Key << "id" << YAML::Value << a.id;
  y << YAML::Key << "name" << YAML::Value;
  text(y, a.name);
  y << YAML::Key << "description" << YAML::Value;
  text(y, a.description);
  y << YAML::Key << "severity" << YAML::Value << a.severity;
  y << YAML::Key << "requiredDataConnectors" << YAML::Value;
  if (a.connectors.empty()) {
    y << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
    y << YAML::Comment("the rule reads only custom tables, which no data connector provides");
  } else {
    y << YAML::BeginSeq;
    for (const auto& c : a.connectors) {
      y << YAML::BeginMap << YAML::Key << "connectorId" << YAML::Value << c.id;
      y << YAML::Key << "dataTypes" << YAML::Value;
      text_list(y, c.data_types);
      y << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  if (!a.nrt) {
    y << YAML::Key << "queryFrequency" << YAML::Value << yaml_duration(a.frequency);
    y << YAML::Key << "queryPeriod" << YAML::Value << yaml_duration(a.period);
    y << YAML::Key << "triggerOperator" << YAML::Value << a.trigger_operator;
    y << YAML::Key << "triggerThreshold" << YAML::Value << a.trigger_threshold;
  }
  y << YAML::Key << "tactics" << YAML::Value;
  text_list(y, a.tactics);
  y << YAML::Key << "relevantTechniques" << YAML::Value;
  text_list(y, a.techniques);
  if (!a.tags.empty()) {
    y << YAML::Key << "tags" << YAML::Value;
    text_list(y, a.tags);
  }
  y << YAML::Key << "query" << YAML::Value;
  text(y, a.query, true);
  if (!a.entities.empty()) {
    y << YAML::Key << "entityMappings" << YAML::Value << YAML::BeginSeq;
    for (const auto& e : a.entities) {
      y << YAML::BeginMap << YAML::Key << "entityType" << YAML::Value << e.type;
      y << YAML::Key << "fieldMappings" << YAML::Value << YAML::BeginSeq;
      for (const auto& [ident, col] : e.fields)
        y << YAML::BeginMap << YAML::Key << "identifier" << YAML::Value << ident << YAML::Key << "columnName"
          << YAML::Value << col << YAML::EndMap;
      y << YAML::EndSeq << YAML::EndMap;
    }
    y << YAML::EndSeq;
  }
  if (!a.custom_details.empty()) {
    y << YAML::Key << "customDetails" << YAML::Value << YAML::BeginMap;
    for (const auto& [k, col] : a.custom_details) y << YAML::Key << k << YAML::Value << col;
    y << YAML::EndMap;
  }
  if (!a.alert_name_format.empty() || !a.alert_description_format.empty()) {
    y << YAML::Key << "alertDetailsOverride" << YAML::Value << YAML::BeginMap;
    if (!a.alert_name_format.empty()) {
      y << YAML::Key << "alertDisplayNameFormat" << YAML::Value;
      text(y, a.alert_name_format);
    }
    if (!a.alert_description_format.empty()) {
      y << YAML::Key << "alertDescriptionFormat" << YAML::Value;
      text(y, a.alert_description_format);
    }
    y << YAML::EndMap;
  }
  y << YAML::Key << "eventGroupingSettings" << YAML::Value << YAML::BeginMap << YAML::Key << "aggregationKind"
    << YAML::Value << a.aggregation_kind << YAML::EndMap;
  y << YAML::Key << "incidentConfiguration" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "createIncident" << YAML::Value << true;
  y << YAML::Key << "groupingConfiguration" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "enabled" << YAML::Value << false;
  y << YAML::Key << "reopenClosedIncident" << YAML::Value << false;
  y << YAML::Key << "lookbackDuration" << YAML::Value << "5h";
  y << YAML::Key << "matchingMethod" << YAML::Value << "AllEntities";
  y << YAML::EndMap << YAML::EndMap;
  y << YAML::Key << "suppressionEnabled" << YAML::Value << (a.suppression > 0);
  y << YAML::Key << "suppressionDuration" << YAML::Value << yaml_duration(a.suppression > 0 ? a.suppression : 5 * kTicksPerHour);
  y << YAML::Key << "version" << YAML::Value << YAML::DoubleQuoted << a.version;
  y << YAML::Key << "kind" << YAML::Value << (a.nrt ? "NRT" : "Scheduled");
  y << YAML::EndMap;
  std::string out = y.c_str();
  return out + "\n";
}

std::string arm(const std::vector<AlertRule>& rules) {
  std::string s =
      "{\n"
      "  \"$schema\": \"https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#\",\n"
      "  \"contentVersion\": \"1.0.0.0\",\n"
      "  \"parameters\": {\n"
      "    \"workspace\": {\n"
      "      \"type\": \"string\",\n"
      "      \"metadata\": {\"description\": \"The Log Analytics workspace that Microsoft Sentinel is enabled on\"}\n"
      "    }\n"
      "  },\n"
      "  \"resources\": [";
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto& a = rules[i];
    std::vector<std::string> techniques, sub;
    std::set<std::string> seen;
    for (const auto& t : a.techniques) {
      auto base = t.substr(0, t.find('.'));
      if (seen.insert(base).second) techniques.push_back(base);
      if (base != t && std::find(sub.begin(), sub.end(), t) == sub.end()) sub.push_back(t);
    }
    s += i ? ",\n" : "\n";
    s += "    {\n";
    s += "      \"type\": \"Microsoft.SecurityInsights/alertRules\",\n";
    s += "      \"apiVersion\": \"2024-03-01\",\n";
    s += fmt::format("      \"name\": {},\n", json(a.id));
    s += "      \"scope\": \"[format('Microsoft.OperationalInsights/workspaces/{0}', parameters('workspace'))]\",\n";
    s += fmt::format("      \"kind\": \"{}\",\n", a.nrt ? "NRT" : "Scheduled");
    s += "      \"properties\": {\n";
    std::vector<std::string> p;
    p.push_back(fmt::format("\"displayName\": {}", json(a.name)));
    p.push_back(fmt::format("\"description\": {}", json(a.description)));
    p.push_back(fmt::format("\"severity\": \"{}\"", a.severity));
    p.push_back("\"enabled\": true");
    p.push_back(fmt::format("\"query\": {}", json(a.query)));
    if (!a.nrt) {
      p.push_back(fmt::format("\"queryFrequency\": \"{}\"", iso_duration(a.frequency)));
      p.push_back(fmt::format("\"queryPeriod\": \"{}\"", iso_duration(a.period)));
      p.push_back(fmt::format("\"triggerOperator\": \"{}\"", arm_operator(a.trigger_operator)));
      p.push_back(fmt::format("\"triggerThreshold\": {}", a.trigger_threshold));
    }
    p.push_back(fmt::format("\"suppressionEnabled\": {}", a.suppression > 0 ? "true" : "false"));
    p.push_back(fmt::format("\"suppressionDuration\": \"{}\"",
                            iso_duration(a.suppression > 0 ? a.suppression : 5 * kTicksPerHour)));
    p.push_back(fmt::format("\"tactics\": {}", json_list(a.tactics)));
    p.push_back(fmt::format("\"techniques\": {}", json_list(techniques)));
    p.push_back(fmt::format("\"subTechniques\": {}", json_list(sub)));
    if (!a.entities.empty()) {
      std::string e = "\"entityMappings\": [";
      for (std::size_t k = 0; k < a.entities.size(); ++k) {
        e += fmt::format("{}\n          {{\"entityType\": {}, \"fieldMappings\": [", k ? "," : "", json(a.entities[k].type));
        for (std::size_t f = 0; f < a.entities[k].fields.size(); ++f)
          e += fmt::format("{}{{\"identifier\": {}, \"columnName\": {}}}", f ? ", " : "",
                           json(a.entities[k].fields[f].first), json(a.entities[k].fields[f].second));
        e += "]}";
      }
      p.push_back(e + "\n        ]");
    }
    if (!a.custom_details.empty()) {
      std::string c = "\"customDetails\": {";
      for (std::size_t k = 0; k < a.custom_details.size(); ++k)
        c += fmt::format("{}{}: {}", k ? ", " : "", json(a.custom_details[k].first, false), json(a.custom_details[k].second));
      p.push_back(c + "}");
    }
    if (!a.alert_name_format.empty() || !a.alert_description_format.empty()) {
      std::string o = "\"alertDetailsOverride\": {";
      if (!a.alert_name_format.empty()) o += fmt::format("\"alertDisplayNameFormat\": {}", json(a.alert_name_format));
      if (!a.alert_description_format.empty())
        o += fmt::format("{}\"alertDescriptionFormat\": {}", a.alert_name_format.empty() ? "" : ", ",
                         json(a.alert_description_format));
      p.push_back(o + "}");
    }
    p.push_back(fmt::format("\"eventGroupingSettings\": {{\"aggregationKind\": \"{}\"}}", a.aggregation_kind));
    p.push_back(
        "\"incidentConfiguration\": {\n"
        "          \"createIncident\": true,\n"
        "          \"groupingConfiguration\": {\"enabled\": false, \"reopenClosedIncident\": false, "
        "\"lookbackDuration\": \"PT5H\", \"matchingMethod\": \"AllEntities\", \"groupByEntities\": [], "
        "\"groupByAlertDetails\": [], \"groupByCustomDetails\": []}\n"
        "        }");
    for (std::size_t k = 0; k < p.size(); ++k) s += "        " + p[k] + (k + 1 < p.size() ? ",\n" : "\n");
    s += "      }\n    }";
  }
  s += rules.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return s;
}

}  // namespace ward::backend::sentinel
