#include "simulator/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>

#include "simulator/output.h"

#ifndef WARD_SCENARIO_DIR
#define WARD_SCENARIO_DIR "simulator/scenarios"
#endif

namespace ward::sim {

namespace {

std::string where(const std::string& file, const YAML::Mark& m) {
  if (m.line < 0) return file + " (--set)";  // only nodes made from --set overrides have no mark
  return file + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

[[noreturn]] void fail(const std::string& file, const YAML::Node& n, const std::string& msg) {
  throw ScenarioError(where(file, n.Mark()) + ": error: " + msg);
}

using Setter = std::function<void(const std::string& file, const YAML::Node&)>;

template <typename T>
T scalar(const std::string& file, const YAML::Node& n, const char* what) {
  if (!n.IsScalar()) fail(file, n, std::string("expected ") + what);
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    fail(file, n, std::string("expected ") + what + ", got `" + n.Scalar() + "`");
  }
}

Setter num(double& v, double lo, double hi) {
  return [&v, lo, hi](const std::string& f, const YAML::Node& n) {
    double x = scalar<double>(f, n, "a number");
    if (!(x >= lo && x <= hi)) fail(f, n, "value " + n.Scalar() + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    v = x;
  };
}
Setter integer(int& v, int lo, int hi) {
  return [&v, lo, hi](const std::string& f, const YAML::Node& n) {
    long long x = scalar<long long>(f, n, "an integer");
    if (x < lo || x > hi) fail(f, n, "value " + n.Scalar() + " out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    v = static_cast<int>(x);
  };
}
Setter flag(bool& v) {
  return [&v](const std::string& f, const YAML::Node& n) { v = scalar<bool>(f, n, "true or false"); };
}
Setter text(std::string& v) {
  return [&v](const std::string& f, const YAML::Node& n) {
    v = scalar<std::string>(f, n, "a string");
    if (v.empty()) fail(f, n, "expected a non-empty string");
  };
}
// The tenant's domain: a DNS name (it is spelled into addresses, URLs and ids).
Setter dns_name(std::string& v) {
  return [&v](const std::string& f, const YAML::Node& n) {
    std::string s = scalar<std::string>(f, n, "a domain name");
    bool ok = !s.empty() && s.size() <= 253 && s.front() != '.' && s.back() != '.' && s.find("..") == std::string::npos;
    for (char ch : s) ok = ok && (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.');
    if (!ok) fail(f, n, "`" + s + "` is not a domain name (letters, digits, `-` and `.`, e.g. contoso.example)");
    v = s;
  };
}
// The organisation's name: printable, without quotes or backslashes (it is spelled into
// names, paths and JSON text as it is).
Setter org_name(std::string& v) {
  return [&v](const std::string& f, const YAML::Node& n) {
    std::string s = scalar<std::string>(f, n, "a name");
    if (s.empty()) fail(f, n, "expected a non-empty string");
    for (char ch : s)
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20)
        fail(f, n, "the organisation's name may not contain quotes, backslashes or control characters");
    v = s;
  };
}
Setter one_of(std::string& v, std::vector<std::string> allowed) {
  return [&v, allowed](const std::string& f, const YAML::Node& n) {
    std::string s = scalar<std::string>(f, n, "a string");
    if (std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
      std::string list;
      for (auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      fail(f, n, "`" + s + "` is not one of: " + list);
    }
    v = s;
  };
}
Setter date(std::string& v) {
  return [&v](const std::string& f, const YAML::Node& n) {
    std::string s = scalar<std::string>(f, n, "a date YYYY-MM-DD");
    if (!parse_date(s)) fail(f, n, "`" + s + "` is not a date YYYY-MM-DD");
    v = s;
  };
}
// A non-empty list of non-empty `what`s, each passing `check` (which returns an error, or "").
Setter strings(std::vector<std::string>& v, const std::string& what = "string",
               std::function<std::string(const std::string&)> check = {}) {
  return [&v, what, check](const std::string& f, const YAML::Node& n) {
    if (!n.IsSequence()) fail(f, n, "expected a list of " + what + "s");
    if (n.size() == 0) fail(f, n, "expected at least one " + what);
    v.clear();
    for (const auto& e : n) {
      auto s = scalar<std::string>(f, e, ("a " + what).c_str());
      if (s.empty()) fail(f, e, "expected a non-empty " + what);
      if (check)
        if (std::string error = check(s); !error.empty()) fail(f, e, error);
      v.push_back(s);
    }
  };
}

void apply(const std::string& file, const YAML::Node& map, const std::string& section,
           const std::map<std::string, Setter>& keys, const std::map<std::string, std::function<void(const YAML::Node&)>>& subs = {}) {
  if (!map.IsMap()) fail(file, map, "`" + section + "` must be a mapping");
  for (const auto& kv : map) {
    std::string k = kv.first.as<std::string>();
    if (auto it = keys.find(k); it != keys.end()) {
      it->second(file, kv.second);
    } else if (auto jt = subs.find(k); jt != subs.end()) {
      jt->second(kv.second);
    } else {
      std::string known;
      for (auto& [name, _] : keys) known += (known.empty() ? "" : ", ") + name;
      for (auto& [name, _] : subs) known += (known.empty() ? "" : ", ") + name;
      fail(file, kv.first, "unknown key `" + k + "` in `" + section + "` (known: " + known + ")");
    }
  }
}

}  // namespace

std::string scenario_dir() {
  if (const char* e = std::getenv("WARD_SCENARIOS")) return e;
  return WARD_SCENARIO_DIR;
}

std::vector<std::string> scenario_names() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator(scenario_dir(), ec))
    if (e.path().extension() == ".yaml") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

Scenario load_scenario(const std::string& name_or_file, const std::vector<std::string>& overrides) {
  std::string file = name_or_file;
  bool is_path = name_or_file.find('/') != std::string::npos || name_or_file.ends_with(".yaml") || name_or_file.ends_with(".yml");
  if (!is_path) {
    file = scenario_dir() + "/" + name_or_file + ".yaml";
    if (!std::filesystem::exists(file)) {
      std::string known;
      for (auto& n : scenario_names()) known += (known.empty() ? "" : ", ") + n;
      throw ScenarioError("error: no scenario `" + name_or_file + "` in " + scenario_dir() + " (known: " + known + ")");
    }
  }
  if (!std::filesystem::is_regular_file(file)) throw ScenarioError("error: cannot read scenario file `" + file + "`");
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    throw ScenarioError(where(file, e.mark) + ": error: " + e.msg);
  }
  if (!root || root.IsNull()) throw ScenarioError(file + ": error: empty scenario file");
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0) throw ScenarioError("error: --set `" + o + "`: expected KEY=VALUE, e.g. campaign.victims=3");
    std::string path = o.substr(0, eq), value = o.substr(eq + 1);
    if (!root.IsMap()) break;  // reported below with the file's position
    YAML::Node n = root;
    std::size_t at = 0;
    for (;;) {
      auto dot = path.find('.', at);
      std::string part = path.substr(at, dot == std::string::npos ? std::string::npos : dot - at);
      if (part.empty()) throw ScenarioError("error: --set `" + o + "`: empty key");
      if (dot == std::string::npos) {
        n[part] = YAML::Node(value);  // a scalar; checked like the file's own values
        break;
      }
      YAML::Node next = n[part];
      if (!next) n[part] = YAML::Node(YAML::NodeType::Map);
      else if (!next.IsMap()) throw ScenarioError("error: --set `" + o + "`: `" + part + "` is not a section");
      YAML::Node child = n[part];
      n.reset(child);
      at = dot + 1;
    }
  }
  Scenario sc;
  sc.file = file;
  BenignKnobs& b = sc.benign;
  CampaignKnobs& c = sc.campaign;
  c.user_agents = {
      "Client=REST;Client=RESTSystem;;",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/92.0.4515.159 Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/106.0.0.0 Safari/537.36 Edg/106.0.1370.52",
      "\"Microsoft Edge\";v=\"113\", \"Chromium\";v=\"113\", \"Not-A.Brand\";v=\"24\""};
  c.client_info = {"Client=REST;Client=RESTSystem;;"};

  std::map<std::string, Setter> benign_keys = {
      {"owa_share", num(b.owa_share, 0, 1)},         {"desktop_share", num(b.desktop_share, 0, 1)},
      {"mobile_share", num(b.mobile_share, 0, 1)},   {"teams_share", num(b.teams_share, 0, 1)},
      {"remote_share", num(b.remote_share, 0, 1)},   {"reads_per_hour", num(b.reads_per_hour, 0, 200)},
      {"interactive_share", num(b.interactive_share, 0, 1)}, {"travel_rate", num(b.travel_rate, 0, 1)},
      {"vpn_share", num(b.vpn_share, 0, 1)},         {"new_device_rate", num(b.new_device_rate, 0, 1)},
      {"weekend_activity", num(b.weekend_activity, 0, 1)},
      {"shared_mailboxes", integer(b.shared_mailboxes, 0, 50)}, {"delegates", integer(b.delegates, 0, 50)},
      {"service_accounts", integer(b.service_accounts, 0, 20)}, {"new_lob_app_day", integer(b.new_lob_app_day, -1, 10000)},
      {"throttled_mailboxes", integer(b.throttled_mailboxes, 0, 10)}, {"admins", integer(b.admins, 0, 100)},
      {"consumer_signins", num(b.consumer_signins, 0, 1000)},
  };
  std::map<std::string, Setter> mitigation_keys = {
      {"renewal_blocked", date(c.renewal_blocked)}, {"forged_blocked", date(c.forged_blocked)},
      {"key_removed", date(c.key_removed)},         {"consumer_blocked", date(c.consumer_blocked)},
      {"infra_down", date(c.infra_down)},
  };
  std::map<std::string, Setter> campaign_keys = {
      {"enabled", flag(c.enabled)},
      {"name", text(c.name)},
      {"infrastructure", one_of(c.infrastructure, {"ioc", "fresh", "mixed"})},
      {"fresh_network", one_of(c.fresh_network, {"hosting", "vpn"})},
      {"victims", integer(c.victims, 1, 10000)},
      {"start_day", integer(c.start_day, 0, 10000)},
      {"dwell_days", integer(c.dwell_days, 1, 10000)},
      {"hours_start", integer(c.hours_start, 0, 23)},
      {"hours_end", integer(c.hours_end, 1, 24)},
      {"hours_zone", one_of(c.hours_zone, {"utc", "victim"})},
      {"weekdays_only", flag(c.weekdays_only)},
      {"daily_probability", num(c.daily_probability, 0, 1)},
      {"sessions_per_day", integer(c.sessions_per_day, 1, 50)},
      {"messages_per_session", integer(c.messages_per_session, 1, 5000)},
      {"renewal_minutes", integer(c.renewal_minutes, 5, 1440)},
      {"user_agents", strings(c.user_agents)},
      {"client_info", strings(c.client_info)},
      {"app_id", one_of(c.app_id, {"unknown", "owa"})},
      {"unknown_app_id", text(c.unknown_app_id)},
      {"renewal_records", flag(c.renewal_records)},
      {"relying_party", flag(c.relying_party)},
      {"forged_tid", one_of(c.forged_tid, {"consumer", "tenant"})},
      {"tor", flag(c.tor)},
      {"after_mitigation", flag(c.after_mitigation)},
      {"phishing_days", integer(c.phishing_days, 0, 365)},
      {"phishing_success", num(c.phishing_success, 0, 1)},
  };
  std::map<std::string, Setter> top = {
      {"name", text(sc.name)}, {"description", text(sc.description)}, {"start", date(sc.start)},
  };
  std::map<std::string, Setter> tenant_keys = {
      {"domain", dns_name(sc.domain)}, {"org", org_name(sc.org)}, {"signing_kids", strings(sc.signing_kids, "key id", [](const std::string& s) {
         for (char ch : s)  // base64url text, as a JWKS spells key ids
           if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_')
             return "`" + s + "` is not a key id (base64url: letters, digits, `-` and `_`)";
         return std::string();
       })}};
  try {
    apply(file, root, "scenario", top,
          {{"tenant", [&](const YAML::Node& n) { apply(file, n, "tenant", tenant_keys); }},
           {"benign", [&](const YAML::Node& n) { apply(file, n, "benign", benign_keys); }},
           {"campaign", [&](const YAML::Node& n) {
              apply(file, n, "campaign", campaign_keys,
                    {{"mitigation", [&](const YAML::Node& m) { apply(file, m, "mitigation", mitigation_keys); }}});
              if (c.hours_end <= c.hours_start) fail(file, n, "campaign.hours_end must be after hours_start");
            }}});
  } catch (const YAML::Exception& e) {
    throw ScenarioError(where(file, e.mark) + ": error: " + e.msg);
  }
  return sc;
}

}  // namespace ward::sim
