// Sentinel backend: a Ward rule as a Microsoft Sentinel analytics rule, printed either as
// the Azure-Sentinel repository's YAML or as a deployable ARM template. `build` is where
// every Sentinel limit is checked (each a diagnostic with the span that causes it); the
// printers only format what it built. docs/sentinel.md describes the mapping.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "diag/diag.h"
#include "ir/ir.h"

namespace ward::backend::sentinel {

struct Connector {
  std::string id;                       // e.g. AzureActiveDirectory
  std::vector<std::string> data_types;  // the tables the rule reads through it
};

struct EntityMapping {
  std::string type;
  std::vector<std::pair<std::string, std::string>> fields;  // identifier -> column
};

// One analytics rule, target-neutral: YAML and ARM print the same thing.
struct AlertRule {
  std::string rule;  // the Ward rule's name (file names)
  std::string id, name, description, severity;
  bool nrt = false;
  std::vector<Connector> connectors;
  std::int64_t frequency = 0, period = 0;  // ticks (100 ns)
  std::string trigger_operator = "gt";     // alert when the query returns more than 0 rows
  int trigger_threshold = 0;
  std::vector<std::string> tactics, techniques;  // techniques as written (T1550.001)
  std::string query;
  std::vector<EntityMapping> entities;
  std::vector<std::pair<std::string, std::string>> custom_details;  // key -> column
  std::string alert_name_format, alert_description_format;
  std::string aggregation_kind = "AlertPerResult";
  std::int64_t suppression = 0;  // 0: off
  std::string version;
  std::vector<std::string> tags;
};

// Builds the rule and reports every Sentinel limit it breaks; nullopt when one is broken.
std::optional<AlertRule> build(const ir::Module& m, const ir::Rule& r, diag::Sink& sink);

// The Azure-Sentinel repository's analytics-rule YAML for one rule (one document).
std::string yaml(const AlertRule& a);
// One ARM deployment template holding every rule given, with a `workspace` parameter.
std::string arm(const std::vector<AlertRule>& rules);

// Durations as each format writes them: YAML `5m` `1h` `2d` (or d.hh:mm:ss), ARM ISO 8601 `PT1H` `P1DT1H`.
std::string yaml_duration(std::int64_t ticks);
std::string iso_duration(std::int64_t ticks);

// The Sentinel tactics of an ATT&CK technique (T1550 or T1550.001), in Sentinel's order;
// empty when Sentinel's technique map does not know it.
std::vector<std::string> tactics_of(const std::string& technique);

}  // namespace ward::backend::sentinel
