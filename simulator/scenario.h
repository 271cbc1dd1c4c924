// A scenario: the tenant's benign behaviour and the campaign injected into it, read from a
// declarative YAML file (simulator/scenarios/*.yaml, documented in simulator/README.md).
// Every default here is either a sourced fact (storm0558.md section cited) or an assumption;
// README.md says which.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

namespace ward::sim {

struct BenignKnobs {
  double owa_share = 0.45;          // users who read mail in OWA on a workday [assumption]
  double desktop_share = 0.70;      // users with desktop Outlook [assumption]
  double mobile_share = 0.60;       // users with Outlook Mobile [assumption]
  double teams_share = 0.85;        // users with Teams [assumption]
  double remote_share = 0.35;       // chance a workday is worked from home [assumption]
  double reads_per_hour = 6.0;      // messages opened per active OWA hour [assumption; §6.3 NOT FOUND]
  double interactive_share = 0.7;   // sessions that start with an interactive sign-in [assumption]
  double travel_rate = 0.004;       // per user per day: a trip abroad starts [assumption]
  double vpn_share = 0.04;          // users on a commercial VPN (hosting ASN) [assumption]
  double new_device_rate = 0.003;   // per user per day: a new device appears [assumption]
  double weekend_activity = 0.15;   // chance of some activity on a weekend day [assumption]
  int shared_mailboxes = 2;         // per 100 users, at least 1 [assumption]
  int delegates = 1;                // per 100 users, at least 1 [assumption]
  int service_accounts = 2;         // LOB / backup apps with app-only mail access [assumption]
  int new_lob_app_day = 2;          // day index on which a new LOB app starts reading mail; -1 none
  int throttled_mailboxes = 1;      // mailboxes driven past 1,000 records / 24 h (MIA §6.2)
  int admins = 3;                   // admin accounts, plus 1 per 500 users [assumption]
  double consumer_signins = 5.0;    // personal-account sign-ins to the partner app per 100 users per day [assumption]
};

struct CampaignKnobs {
  bool enabled = false;
  std::string name = "storm0558";
  std::string infrastructure = "ioc";     // ioc | fresh | mixed
  std::string fresh_network = "hosting";  // hosting | vpn: where fresh addresses come from [assumption]
  int victims = 6;                        // CSRB p.3: State confirmed 6 accounts
  int start_day = 1;                      // first campaign day, as an offset from --start
  int dwell_days = 60;                    // days of access per victim (CSRB: at least six weeks)
  int hours_start = 0, hours_end = 9;     // MSTI-0714: weekdays 00:00-09:00 UTC
  std::string hours_zone = "utc";         // utc | victim (blend into the victim's local work hours)
  bool weekdays_only = true;              // MSTI-0714
  double daily_probability = 0.8;         // chance a victim is visited on a working day [assumption]
  int sessions_per_day = 2;               // actor sessions per visited victim per day [assumption]
  int messages_per_session = 60;          // messages read per session [assumption]
  int renewal_minutes = 55;               // GetAccessTokenForResource renewal period [assumption]
  std::vector<std::string> user_agents;   // MSTI-0714 §3.3 by default
  std::vector<std::string> client_info;   // ClientInfoString values [assumption: REST form from §3.3]
  std::string app_id = "unknown";         // unknown | owa  (§3.5: the real value is NOT FOUND)
  std::string unknown_app_id = "7b2e6a51-0c3d-4f8e-9a41-5d0e8c1f2a93";  // synthetic, labelled as such
  bool renewal_records = true;            // emit OWA token renewals as audit rows [assumption: §2 E NOT FOUND]
  bool relying_party = true;              // forged tokens also presented to an enterprise app [assumption]
  std::string forged_tid = "consumer";    // consumer | tenant: tid claim of forged tokens (§9 NOT FOUND)
  bool tor = false;                       // requests via Tor (IsAnonymousProxy) rather than SoftEther VPS
  // Mitigations (MSTI-0714; CSRB gives 06-24 for the key invalidation).
  std::string renewal_blocked = "2023-06-26";
  std::string forged_blocked = "2023-06-27";
  std::string key_removed = "2023-06-29";
  std::string consumer_blocked = "2023-07-03";
  std::string infra_down = "2023-07-04";
  bool after_mitigation = true;           // failed token attempts, then phishing (CSRB pp.2-3, 10)
  int phishing_days = 5;                  // days of phishing after the block [assumption]
  double phishing_success = 0.0;          // chance a phished victim's password works [assumption]
};

struct Scenario {
  std::string name = "benign";
  std::string description;
  std::string file;                        // where it was read from
  std::string start = "2023-06-12";        // default --start
  std::string domain = "contoso.example";  // synthetic tenant domain
  std::string org = "Contoso";
  // The key ids of the tenant's own signing keys (its JWKS), as relying parties see them in
  // tokens' `kid`: the tenant's, not the seed's, so that a rule's list of expected keys holds
  // for every seed. Synthetic values (rules/storm0558/common.ward, ExpectedKeyIds).
  std::vector<std::string> signing_kids = {"OnL78xcJ8bPCjkW60e8Ec0elf20", "PlDErPiFuSd7LnAHap8eMItjNDg"};
  BenignKnobs benign;
  CampaignKnobs campaign;
};

// NAME (looked up in the scenario directory) or a path to a .yaml file. Throws
// ScenarioError with `file:line:col: message` on anything malformed.
struct ScenarioError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// `overrides` are `path.to.key=value` (e.g. `campaign.infrastructure=fresh`), applied on top of
// the file with the same checks (`--set` on the command line, `--sweep` in coverage).
Scenario load_scenario(const std::string& name_or_file, const std::vector<std::string>& overrides = {});
std::string scenario_dir();
std::vector<std::string> scenario_names();

}  // namespace ward::sim
