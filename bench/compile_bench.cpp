// compile_bench: compile N generated Ward rules to KQL in memory and report the cost
// per rule, against a baseline (lexing + parsing only) measured in the same run.
//
//   compile_bench [--rules N] [--seed S] [--per-file K] [--reps R]
//                 [--layouts library,single,per-file] [--no-children] [--write DIR]
//
// The rules are generated as Ward source text (see `Generator`), varied like a real
// detection library: single-event filters with 3-10 predicates over real Sentinel
// columns, thresholds, sequences, joins and absences, inline lists and constants,
// outcomes, entities, metadata, schedules and tests. Every generated rule must check
// with zero errors, or the program stops and prints the first diagnostics.
//
// Three stages are timed on the calling thread with std::chrono::steady_clock:
//   (a) baseline: load the text into a SourceManager + syntax::parse (lex, parse, AST)
//   (b) (a) + sema::analyze + passes::run
//   (c) (b) + backend::kql::emit for every rule (the whole compilation)
// The Sentinel schema (rules/schemas/sentinel.ward) is parsed once, outside the timed
// region, and handed to sema like `import sentinel` would be (as tests/fuzz does);
// sema's checking of it is inside the timed region. Outputs are kept until the clock
// stops and then hashed and printed, so nothing can be optimised away.
//
// Peak memory is measured in separate, fresh child processes (this binary re-executed
// with --child): ru_maxrss of a child that only generates the text, of one that also
// parses it, and of one that runs the whole compilation once. The child's whole
// compilation is also the "cold" timing: the first compilation in a process, before
// ANTLR's shared DFA cache is warm (what one `ward compile` invocation sees).
// No timing is ever asserted: the exit status is 0 unless a rule fails to compile.
#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "backend/kql/kql.h"
#include "driver/pipeline.h"
#include "passes/passes.h"
#include "sema/sema.h"
#include "syntax/parse.h"

#ifndef WARD_BENCH_BUILD_TYPE
#define WARD_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef WARD_BENCH_CXX_FLAGS
#define WARD_BENCH_CXX_FLAGS "unknown"
#endif

namespace {

using Clock = std::chrono::steady_clock;
double us_since(Clock::time_point t0, Clock::time_point t1) {
  return std::chrono::duration<double, std::micro>(t1 - t0).count();
}
// CPU time of the calling thread, microseconds: a check on the wall-clock figures
// (wall much above CPU means the thread was waiting for a core, i.e. a busy machine).
double thread_cpu_us() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}
std::string loadavg() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "compile_bench: %s\n", msg.c_str());
  std::exit(2);
}

// ============================================================================
// Deterministic generator (splitmix64: the same text for the same seed on any
// platform and standard library).
// ============================================================================
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  int range(int lo, int hi) { return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1)); }
  bool chance(int percent) { return static_cast<int>(next() % 100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[next() % v.size()]; }
  // Index drawn with the given weights.
  std::size_t weighted(const std::vector<int>& w) {
    int total = 0;
    for (int x : w) total += x;
    int r = static_cast<int>(next() % static_cast<std::uint64_t>(total));
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (r < w[i]) return i;
      r -= w[i];
    }
    return w.size() - 1;
  }
  std::string guid() {
    static const char* hex = "0123456789abcdef";
    std::string g;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) g += '-';
      g += hex[next() % 16];
    }
    return g;
  }
};

using Strs = std::vector<std::string>;

struct StrCol {
  std::string name;
  Strs values;
};
struct DynPath {
  std::string expr;  // e.g. LocationDetails.countryOrRegion, parse_json(DeviceDetail).operatingSystem
  Strs values;
};
// Real Sentinel columns (rules/schemas/sentinel.ward) used by the generator.
struct TableSpec {
  std::string name, tag;
  Strs vars;                     // event variable names real rules use for this table
  std::string user, ip, app, ua; // correlation keys and common outcome columns (all strings)
  std::string mailbox, tenant;   // optional ("" if none)
  bool app_is_guid = true;
  std::vector<StrCol> strs;      // strs[0] is the table's "what happened" column
  Strs nums, bools, times;
  std::vector<DynPath> dyn;
};

const std::vector<TableSpec>& tables() {
  static const Strs sign_result = {"0", "50126", "50074", "50140", "53003", "500121", "50053", "50158", "70044"};
  static const Strs sign_apps = {"Office 365 Exchange Online", "Microsoft Teams", "Azure Portal", "Microsoft Office",
                                 "Azure Active Directory PowerShell", "Microsoft Authentication Broker",
                                 "Outlook Mobile", "Microsoft Graph Command Line Tools", "Office365 Shell WCSS-Client"};
  static const Strs client_app = {"Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync", "IMAP4",
                                  "POP3", "Authenticated SMTP", "Other clients", "Exchange Web Services"};
  static const Strs ca_status = {"success", "failure", "notApplied"};
  static const Strs auth_req = {"singleFactorAuthentication", "multiFactorAuthentication"};
  static const Strs risk = {"none", "low", "medium", "high", "hidden"};
  static const Strs country = {"US", "GB", "DE", "FR", "NL", "CN", "RU", "KP", "IR", "BR", "IN", "SG"};
  static const Strs resources = {"Office 365 Exchange Online", "Microsoft Graph", "Windows Azure Service Management API",
                                 "Office 365 SharePoint Online", "Azure Key Vault"};
  static const Strs protocols = {"none", "oAuth2", "ropc", "deviceCode", "saml20", "wsFederation"};
  static const Strs issuer_type = {"AzureAD", "ADFederationServices"};
  static const Strs xtenant = {"none", "b2bCollaboration", "b2bDirectConnect", "microsoftSupport", "serviceProvider"};
  static const Strs os = {"Windows 10", "Windows", "MacOs", "Ios", "Android", "Linux"};
  static const Strs browser = {"Chrome 119.0.0", "Edge 119.0.0", "Firefox 120.0", "Safari 17.1", "Python Requests 2.31"};
  static const Strs cities = {"Amsterdam", "Frankfurt am Main", "Singapore", "Ashburn", "Dublin", "Hong Kong"};
  static const Strs user_type = {"Member", "Guest"};
  static const std::vector<TableSpec> k = {
      {"OfficeActivity", "oa", {"mail", "op", "read", "rule_change", "share"},
       "UserId", "ClientIP", "AppId", "UserAgent", "MailboxOwnerUPN", "OrganizationId", true,
       {{"Operation", {"MailItemsAccessed", "Send", "New-InboxRule", "Set-InboxRule", "UpdateInboxRules",
                       "FileDownloaded", "FileAccessed", "Add-MailboxPermission", "SoftDelete", "HardDelete",
                       "Set-Mailbox", "New-TransportRule", "AnonymousLinkCreated", "SearchQueryInitiatedExchange"}},
        {"ResultStatus", {"Succeeded", "Failed", "PartiallySucceeded", "True", "False"}},
        {"RecordType", {"ExchangeItem", "ExchangeAdmin", "ExchangeItemAggregated", "SharePointFileOperation",
                        "SharePointSharingOperation", "MicrosoftTeams"}},
        {"OfficeWorkload", {"Exchange", "SharePoint", "OneDrive", "AzureActiveDirectory", "MicrosoftTeams"}},
        {"UserType", {"Regular", "Admin", "DcAdmin", "Application", "System"}},
        {"Logon_Type", {"Owner", "Delegate", "Admin"}},
        {"ClientInfoString", {"Client=REST;Client=RESTSystem;;", "Client=OWA;Action=ViaProxy",
                              "Client=Microsoft.Exchange.Mapi", "Client=ActiveSync"}},
        {"ExternalAccess", {"true", "false"}},
        {"ClientProcessName", {"outlook.exe", "powershell.exe", "python.exe"}},
        {"SourceFileExtension", {"pst", "docx", "xlsx", "zip", "7z", "kdbx"}}},
       {"InternalLogonType", "LoginStatus", "DataCenterSecurityEventType"},
       {"CrossMailboxOperations", "IsManagedDevice"},
       {"TimeGenerated", "Start_Time"},
       {{"OperationProperties.MailAccessType", {"Bind", "Sync"}},
        {"OperationProperties[\"IsThrottled\"]", {"True", "False"}},
        {"ExtraProperties.Key", {"UserAgent", "ClientIP"}}}},
      {"SigninLogs", "si", {"signin", "login", "auth", "logon"},
       "UserPrincipalName", "IPAddress", "AppId", "UserAgent", "", "HomeTenantId", true,
       {{"ResultType", sign_result}, {"AppDisplayName", sign_apps}, {"ClientAppUsed", client_app},
        {"ConditionalAccessStatus", ca_status}, {"AuthenticationRequirement", auth_req},
        {"RiskLevelDuringSignIn", risk}, {"RiskLevelAggregated", risk}, {"UserType", user_type},
        {"Location", country}, {"ResourceDisplayName", resources}, {"AuthenticationProtocol", protocols},
        {"TokenIssuerType", issuer_type}, {"CrossTenantAccessType", xtenant}, {"ResultDescription",
        {"Invalid username or password or Invalid on-premise username or password.",
         "Strong Authentication is required.", "Access has been blocked by Conditional Access policies."}}},
       {"DurationMs"},
       {"IsInteractive", "IsRisky", "FlaggedForReview"},
       {"TimeGenerated", "CreatedDateTime"},
       {{"LocationDetails.countryOrRegion", country}, {"LocationDetails.city", cities},
        {"DeviceDetail.operatingSystem", os}, {"DeviceDetail[\"browser\"]", browser},
        {"DeviceDetail.isCompliant", {"true", "false"}}, {"Status.errorCode", sign_result},
        {"MfaDetail.authMethod", {"PhoneAppNotification", "OneWaySMS", "PhoneAppOTP"}}}},
      {"AADNonInteractiveUserSignInLogs", "ni", {"refresh", "token", "noninteractive", "ni"},
       "UserPrincipalName", "IPAddress", "AppId", "UserAgent", "", "HomeTenantId", true,
       {{"ResultType", sign_result}, {"AppDisplayName", sign_apps}, {"ClientAppUsed", client_app},
        {"ConditionalAccessStatus", ca_status}, {"AuthenticationRequirement", auth_req},
        {"RiskLevelDuringSignIn", risk}, {"UserType", user_type}, {"Location", country},
        {"ResourceDisplayName", resources}, {"AuthenticationProtocol", protocols},
        {"TokenIssuerType", issuer_type}, {"CrossTenantAccessType", xtenant}},
       {"DurationMs"},
       {"IsInteractive", "IsRisky"},
       {"TimeGenerated", "CreatedDateTime"},
       // string columns holding JSON in this table: read through parse_json
       {{"parse_json(LocationDetails).countryOrRegion", country}, {"parse_json(DeviceDetail).operatingSystem", os},
        {"parse_json(DeviceDetail)[\"browser\"]", browser}}},
      {"CloudAppEvents", "ca", {"cloud", "action", "app_event", "activity"},
       "AccountId", "IPAddress", "Application", "UserAgent", "", "", false,
       {{"ActionType", {"MailItemsAccessed", "FileDownloaded", "New-InboxRule", "Add member to role.",
                        "Consent to application.", "Update application.", "Add service principal credentials.",
                        "Set-Mailbox", "Add-MailboxPermission", "FileSyncDownloadedFull"}},
        {"ActivityType", {"Run", "Download", "Create", "Edit", "Delete", "Share"}},
        {"AccountType", {"Regular", "Admin", "Application", "System"}},
        {"CountryCode", country},
        {"ISP", {"Amazon", "DigitalOcean", "OVH SAS", "Microsoft Corporation", "M247 Ltd", "Hetzner Online GmbH"}},
        {"IPCategory", {"Hosting", "Corporate", "Anonymous proxy", "Residential"}},
        {"OSPlatform", {"Windows 10", "macOS", "iOS", "Android", "Linux"}},
        {"DeviceType", {"Desktop", "Mobile", "Tablet", "Other"}},
        {"ObjectType", {"File", "Folder", "Mailbox", "Application", "User"}},
        {"Application", {"Microsoft Exchange Online", "Microsoft SharePoint Online", "Microsoft Azure",
                         "Microsoft 365", "Microsoft Teams", "Microsoft OneDrive for Business"}}},
       {"ApplicationId", "AppInstanceId"},
       {"IsAdminOperation", "IsAnonymousProxy", "IsExternalUser", "IsImpersonated"},
       {"TimeGenerated"},
       {{"RawEventData.ClientAppId", {"9199bf20-a13f-4107-85dc-02114787ef48", "d3590ed6-52b3-4102-aeff-aad2292ab01c"}},
        {"RawEventData.Operation", {"MailItemsAccessed", "Send", "FileDownloaded"}},
        {"RawEventData[\"ResultStatus\"]", {"Succeeded", "Failed"}},
        {"RawEventData.MailboxOwnerUPN", {"ceo@contoso.com", "cfo@contoso.com"}},
        {"AdditionalFields.IsSatisfied", {"true", "false"}}}},
  };
  return k;
}

const Strs kTactics = {"Collection", "DefenseEvasion", "CredentialAccess", "InitialAccess", "Persistence",
                       "PrivilegeEscalation", "Exfiltration", "Discovery", "LateralMovement", "Impact"};
const Strs kTechniques = {"T1114.002", "T1550.001", "T1606.002", "T1078.004", "T1098.002", "T1528", "T1110.003",
                          "T1621", "T1564.008", "T1136.003", "T1530", "T1098.001", "T1556.007", "T1114.003"};
const Strs kAgents = {"python-requests", "curl", "PowerShell", "okhttp", "Go-http-client", "axios", "BAV2ROPC",
                      "Mozilla/5.0", "Microsoft Office", "MSAL.Python", "AADInternals", "node-fetch"};
const Strs kRegexes = {R"(python-requests/[0-9]+\.[0-9]+)", R"(^Mozilla/5\.0 \(Windows NT 10\.0)",
                       R"([A-Za-z]+/[0-9.]+ \(compatible;)", R"(^(curl|wget)/[0-9.]+$)",
                       R"(Chrome/9[0-9]\.)", R"(^[a-z0-9._-]+@contoso\.com$)"};
const Strs kDomains = {"@contoso.com", "@fabrikam.com", ".onmicrosoft.com", "@outlook.com", "@hotmail.com"};
const Strs kUserPrefixes = {"svc-", "admin", "break-glass", "sync_", "adm-", "test"};
const Strs kWords = {"mailbox", "token", "sign-in", "consent", "inbox rule", "application", "credential",
                     "tenant", "session", "download", "forwarding", "role assignment", "service principal",
                     "refresh token", "legacy protocol", "hosting provider", "anonymous proxy", "guest user"};
const Strs kVerbs = {"Suspicious", "Unusual", "Rare", "First-seen", "Anomalous", "Risky", "Unexpected", "Repeated"};

std::string dur(int minutes) {
  if (minutes % 1440 == 0) return std::to_string(minutes / 1440) + "d";
  if (minutes % 60 == 0) return std::to_string(minutes / 60) + "h";
  return std::to_string(minutes) + "m";
}

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Mix {
  std::size_t single = 0, threshold = 0, sequence = 0, join = 0, absence = 0;
  std::size_t events = 0, predicates = 0, regexes = 0, contains = 0, tests = 0;
};

struct Corpus {
  // One chunk per library file: a header (import, constants, inline lists) and its rules.
  std::vector<std::string> chunk_names;
  std::vector<std::string> chunks;
  std::size_t rules = 0;
  Mix mix;
};

class Generator {
 public:
  Generator(std::uint64_t seed) : rng_{seed} {}

  Corpus generate(std::size_t n_rules, std::size_t per_file) {
    Corpus c;
    std::size_t files = (n_rules + per_file - 1) / per_file;
    for (std::size_t f = 0; f < files; ++f) {
      std::size_t lo = f * per_file, hi = std::min(n_rules, lo + per_file);
      char name[64];
      std::snprintf(name, sizeof name, "rules_%03zu.ward", f);
      c.chunk_names.push_back(name);
      c.chunks.push_back(file(f, lo, hi));
    }
    c.rules = n_rules;
    c.mix = mix_;
    return c;
  }

 private:
  Rng rng_;
  Mix mix_;
  std::string prefix_;  // per-file prefix of constant and list names (one namespace per compilation)

  std::string file(std::size_t f, std::size_t lo, std::size_t hi) {
    char p[16];
    std::snprintf(p, sizeof p, "f%03zu_", f);
    prefix_ = p;
    std::string s;
    s += "// Generated by bench/compile_bench: detection library file " + std::to_string(f) + " (rules " +
         std::to_string(lo) + ".." + std::to_string(hi - 1) + ")\n";
    s += "import sentinel\n\n";
    s += "const " + prefix_ + "Tenant = " + quote(rng_.guid()) + "   // the production tenant\n";
    s += "const " + prefix_ + "ConsumerTenant = \"9188040d-6c67-4c5b-b112-36a304b66dad\"\n\n";
    s += "// First-party and sanctioned applications.\n";
    s += "list " + prefix_ + "Apps: guid = [\n";
    for (int i = 0, n = rng_.range(3, 8); i < n; ++i) s += "  " + quote(rng_.guid()) + ",\n";
    s += "]\n";
    s += "list " + prefix_ + "Agents: string = [";
    for (int i = 0, n = rng_.range(2, 5); i < n; ++i) s += (i ? ", " : "") + quote(agent_string());
    s += "]\n";
    s += "list " + prefix_ + "ActorIps: ip = [\n";
    for (int i = 0, n = rng_.range(5, 30); i < n; ++i) s += (i % 4 == 0 ? "\n  " : " ") + ipv4() + ",";
    s += "\n]\n";
    s += "list " + prefix_ + "Hosting: cidr = [";
    for (int i = 0, n = rng_.range(2, 6); i < n; ++i) s += (i ? ", " : "") + cidr();
    s += ", 2001:db8::/32]\n";
    s += "list " + prefix_ + "Errors: string = [\"50126\", \"50053\", \"50074\", \"500121\"]\n\n";
    for (std::size_t i = lo; i < hi; ++i) s += rule(i);
    return s;
  }

  std::string ipv4() {
    return std::to_string(rng_.range(1, 223)) + "." + std::to_string(rng_.range(0, 255)) + "." +
           std::to_string(rng_.range(0, 255)) + "." + std::to_string(rng_.range(1, 254));
  }
  std::string cidr() {
    return std::to_string(rng_.range(1, 223)) + "." + std::to_string(rng_.range(0, 255)) + ".0.0/16";
  }
  std::string agent_string() {
    return rng_.pick(kAgents) + "/" + std::to_string(rng_.range(1, 120)) + "." + std::to_string(rng_.range(0, 9));
  }

  // ---- predicates ----
  std::string str_value(const StrCol& c) { return quote(rng_.pick(c.values)); }
  std::string in_list(const Strs& values, int max_n) {
    std::string s = "[";
    int n = std::min<int>(rng_.range(2, max_n), static_cast<int>(values.size()));
    std::size_t start = rng_.next() % values.size();
    for (int i = 0; i < n; ++i) s += (i ? ", " : "") + quote(values[(start + i) % values.size()]);
    return s + "]";
  }

  std::string predicate(const TableSpec& t, int depth = 0) {
    ++mix_.predicates;
    // weights:      eq  in  ua usr lst cidr rgx num bool time dyn ex fn const or notor contains
    static const std::vector<int> w = {26, 12, 7, 5, 8, 5, 2, 5, 5, 6, 6, 4, 4, 2, 6, 2, 1};
    std::size_t k = rng_.weighted(w);
    if (depth > 0 && (k == 14 || k == 15)) k = 0;
    const auto& c = rng_.pick(t.strs);
    switch (k) {
      case 0: {
        static const Strs ops = {"==", "==", "==", "!=", "=~", "!~"};
        return c.name + " " + rng_.pick(ops) + " " + str_value(c);
      }
      case 1: {
        static const Strs ops = {"in", "in", "!in", "in~", "!in~"};
        return c.name + " " + rng_.pick(ops) + " " + in_list(c.values, 5);
      }
      case 2: {
        static const Strs ops = {"has", "has", "!has", "startswith", "!startswith", "endswith"};
        return t.ua + " " + rng_.pick(ops) + " " + quote(rng_.pick(kAgents));
      }
      case 3: {
        if (rng_.chance(60)) {
          static const Strs ops = {"endswith", "!endswith"};
          return t.user + " " + rng_.pick(ops) + " " + quote(rng_.pick(kDomains));
        }
        static const Strs ops = {"startswith", "!startswith"};
        return t.user + " " + rng_.pick(ops) + " " + quote(rng_.pick(kUserPrefixes));
      }
      case 4:
        switch (rng_.range(0, 3)) {
          case 0: return t.ua + (rng_.chance(70) ? " in " : " !in ") + prefix_ + "Agents";
          case 1: return t.ip + " in " + prefix_ + "ActorIps";
          case 2:
            if (t.app_is_guid) return t.app + (rng_.chance(50) ? " in " : " !in ") + prefix_ + "Apps";
            return "tostring(RawEventData.ClientAppId) !in~ " + prefix_ + "Apps";
          default:
            if (t.name == "OfficeActivity") return "Operation in [\"MailItemsAccessed\", \"Send\", \"SendAs\"]";
            return t.strs[0].name + " in " + prefix_ + "Errors";
        }
      case 5:
        switch (rng_.range(0, 2)) {
          case 0: return t.ip + (rng_.chance(70) ? " in cidr " : " !in cidr ") + prefix_ + "Hosting";
          case 1: return t.ip + " !in cidr " + std::string(rng_.chance(50) ? "10.0.0.0/8" : "192.168.0.0/16");
          default: return t.ip + " in cidr [" + cidr() + ", 2001:db8::/32]";
        }
      case 6:
        ++mix_.regexes;
        return (rng_.chance(70) ? t.ua : t.user) + " matches regex r\"" + rng_.pick(kRegexes) + "\"";
      case 7: {
        static const Strs ops = {">", ">=", "<", "<="};
        return rng_.pick(t.nums) + " " + rng_.pick(ops) + " " + std::to_string(rng_.range(0, 60000));
      }
      case 8:
        switch (rng_.range(0, 2)) {
          case 0: return rng_.pick(t.bools) + " == true";
          case 1: return rng_.pick(t.bools) + " == false";
          default: return "not (" + rng_.pick(t.bools) + " == true)";
        }
      case 9: {
        const auto& tc = rng_.pick(t.times);
        switch (rng_.range(0, 4)) {
          case 0: return "hourofday(" + tc + ") " + (rng_.chance(50) ? "< " : ">= ") + std::to_string(rng_.range(5, 20));
          case 1: return "dayofweek(" + tc + ") " + (rng_.chance(50) ? "<= 5" : ">= 1");
          case 2: return tc + " >= 2023-05-" + std::to_string(rng_.range(10, 28));
          case 3: return tc + " < 2023-07-13T00:00:00Z";
          default: return tc + " > ago(" + std::to_string(rng_.range(1, 14)) + "d)";
        }
      }
      case 10: {
        const auto& d = rng_.pick(t.dyn);
        switch (rng_.range(0, 2)) {
          case 0: return "tostring(" + d.expr + ") == " + quote(rng_.pick(d.values));
          case 1: return "tostring(" + d.expr + ") != \"\"";
          default: return "tostring(" + d.expr + ") in~ " + in_list(d.values, 3);
        }
      }
      case 11: return rng_.chance(60) ? "exists(" + c.name + ")" : "not empty(" + c.name + ")";
      case 12:
        switch (rng_.range(0, 2)) {
          case 0: return "strlen(" + t.user + ") > " + std::to_string(rng_.range(0, 8));
          case 1: return "tolower(" + c.name + ") == " + quote(lower(rng_.pick(c.values)));
          default: return "trim(" + t.ua + ") != \"\"";
        }
      case 13:
        if (!t.tenant.empty())
          return t.tenant + (rng_.chance(50) ? " == " : " != ") + prefix_ + (rng_.chance(50) ? "Tenant" : "ConsumerTenant");
        return c.name + " != " + str_value(c);
      case 14: return "(" + predicate(t, depth + 1) + " or " + predicate(t, depth + 1) + ")";
      case 15: return "not (" + predicate(t, depth + 1) + " or " + predicate(t, depth + 1) + ")";
      default:
        ++mix_.contains;  // deliberate: W0301 warns about `contains`, as real rules get
        return t.ua + " contains " + quote(rng_.pick(kAgents));
    }
  }

  // `Table where p1 and p2 ...`, the first predicate on the table's main column.
  std::string where(const TableSpec& t, int n, int indent) {
    ++mix_.predicates;
    const auto& main = t.strs[0];
    std::string s = t.name + " where " + main.name + " == " + str_value(main);
    std::string pad = "\n" + std::string(static_cast<std::size_t>(indent), ' ') + "and ";
    for (int i = 1; i < n; ++i) s += (i % 2 == 1 ? pad : " and ") + predicate(t);
    return s;
  }

  // ---- rules ----
  std::string meta(const std::string& title, const std::string& what, int severity_hint) {
    static const Strs sev = {"informational", "low", "medium", "high"};
    static const Strs status = {"experimental", "test", "stable"};
    std::string s = "  meta {\n";
    s += "    title       = " + quote(title) + "\n";
    s += "    description = " + quote(what + " Raised when " + rng_.pick(kWords) + " activity matches the " +
                                      rng_.pick(kWords) + " pattern described in the hunting notes; review the " +
                                      rng_.pick(kWords) + " before closing.") + "\n";
    s += "    severity    = " + sev[static_cast<std::size_t>(std::clamp(severity_hint, 0, 3))] + "\n";
    if (rng_.chance(40)) s += "    status      = " + rng_.pick(status) + "\n";
    if (rng_.chance(20)) s += "    id          = " + rng_.guid() + "\n";
    if (rng_.chance(30)) s += "    author      = \"Detection Engineering\"\n";
    if (rng_.chance(20)) s += "    version     = \"1." + std::to_string(rng_.range(0, 9)) + "\"\n";
    s += "    tactics     = [";
    for (int i = 0, n = rng_.range(1, 3); i < n; ++i) s += (i ? ", " : "") + rng_.pick(kTactics);
    s += "]\n    techniques  = [";
    for (int i = 0, n = rng_.range(1, 3); i < n; ++i) s += (i ? ", " : "") + rng_.pick(kTechniques);
    s += "]\n";
    if (rng_.chance(60)) s += "    tags        = [\"storm-0558\", " + quote(lower(rng_.pick(kWords))) + "]\n";
    if (rng_.chance(35))
      s += "    references  = [\"https://www.microsoft.com/en-us/security/blog/2023/07/14/analysis-of-storm-0558-techniques-for-unauthorized-email-access/\"]\n";
    if (rng_.chance(40)) s += "    falsepositives = [\"Administrators using " + rng_.pick(kAgents) + "\", \"Known " +
                              rng_.pick(kWords) + " automation\"]\n";
    if (rng_.chance(30)) s += "    created     = \"2024-0" + std::to_string(rng_.range(1, 9)) + "-1" +
                              std::to_string(rng_.range(0, 9)) + "\"\n";
    s += "  }\n";
    return s;
  }

  std::string entities(bool account, bool ip, bool app, const TableSpec& t, bool mailbox) {
    std::string s = "  entities {";
    if (account) s += " Account { FullName = account }";
    if (ip) s += "  IP { Address = ip }";
    if (app) s += t.app_is_guid ? "  CloudApplication { AppId = app }" : "  CloudApplication { Name = app }";
    if (mailbox) s += "  Mailbox { MailboxPrimaryAddress = mailbox }";
    return s + " }\n";
  }

  std::string tests() {
    if (!rng_.chance(10)) return "";
    ++mix_.tests;
    if (rng_.chance(50))
      return "  test \"fires on the storm-0558 scenario\" {\n    scenario \"storm0558\" { users = 200  days = 14  seed = " +
             std::to_string(rng_.range(1, 99)) + " }\n    expect alerts >= 1\n  }\n";
    return "  test \"quiet on benign traffic\" {\n    scenario \"benign\" { users = 100  days = 7 }\n    expect none\n  }\n";
  }

  // schedule for a correlation window of w minutes: period >= w + frequency (no lookback gap)
  std::string schedule_for_window(int w) {
    if (rng_.chance(25)) return "";  // the default schedule
    int f = w >= 360 ? rng_.pick(std::vector<int>{60, 120, 1440}) : rng_.pick(std::vector<int>{5, 10, 30, 60});
    int p = w + f;
    if (p >= 2880 && f < 60) f = 60, p = w + f;
    if (p > 14 * 1440) p = 14 * 1440;
    return "  schedule every " + dur(f) + " over " + dur(p) + "\n";
  }

  std::string suppress() { return rng_.chance(15) ? "  suppress for " + rng_.pick(Strs{"1h", "6h", "30m", "1d"}) + "\n" : ""; }

  std::string var_for(const TableSpec& t, const std::string& avoid = "") {
    std::string v = rng_.pick(t.vars);
    if (v == avoid) v += "2";
    return v;
  }

  std::string rule(std::size_t i) {
    static const std::vector<int> kind_w = {50, 18, 10, 10, 12};  // single threshold sequence join absence
    std::size_t kind = rng_.weighted(kind_w);
    char idx[16];
    std::snprintf(idx, sizeof idx, "%05zu", i);
    std::string s = "// " + rng_.pick(kVerbs) + " " + rng_.pick(kWords) + " (generated rule " + idx + ").\n";
    switch (kind) {
      case 0: s += single(idx); break;
      case 1: s += threshold(idx); break;
      case 2: s += sequence(idx); break;
      case 3: s += join(idx); break;
      default: s += absence(idx); break;
    }
    return s + "\n";
  }

  std::string title(const TableSpec& t, const std::string& what) {
    return rng_.pick(kVerbs) + " " + rng_.pick(kWords) + " " + what + " in " + t.name;
  }

  std::string single(const char* idx) {
    ++mix_.single;
    ++mix_.events;
    const auto& t = rng_.pick(tables());
    std::string v = var_for(t);
    std::string s = "rule " + t.tag + "_single_" + idx + " {\n";
    s += meta(title(t, "activity"), "A single " + t.name + " record matching several filters.", rng_.range(0, 3));
    s += "  events {\n    $" + v + " = " + where(t, rng_.range(3, 10), 8) + "\n  }\n";
    if (rng_.chance(30)) s += "  condition $" + v + "\n";
    bool mb = !t.mailbox.empty() && rng_.chance(40);
    s += "  outcome { account = " + t.user + "  ip = " + t.ip + "  app = " + t.app;
    if (rng_.chance(50)) s += "  agent = " + t.ua;
    if (rng_.chance(30)) s += "  hour = hourofday(TimeGenerated)";
    if (rng_.chance(30)) s += "  detail = tostring(" + rng_.pick(t.dyn).expr + ")";
    if (mb) s += "  mailbox = " + t.mailbox;
    s += " }\n";
    s += entities(true, rng_.chance(80), rng_.chance(40), t, mb);
    switch (rng_.range(0, 4)) {
      case 0: s += "  schedule nrt\n"; break;
      case 1: s += "  schedule every 1h over 1h\n"; break;
      case 2: s += "  schedule every 5m over 10m\n"; break;
      case 3: s += "  schedule every 1d over 14d\n"; break;
      default: break;
    }
    s += suppress() + tests() + "}\n";
    return s;
  }

  std::string threshold(const char* idx) {
    ++mix_.threshold;
    ++mix_.events;
    const auto& t = rng_.pick(tables());
    std::string v = var_for(t);
    int w = rng_.pick(std::vector<int>{5, 10, 15, 30, 60, 360, 1440});
    std::string s = "rule " + t.tag + "_threshold_" + idx + " {\n";
    s += meta(title(t, "burst"), "Many " + t.name + " records for one key within " + dur(w) + ".", rng_.range(1, 3));
    s += "  events {\n    $" + v + " = " + where(t, rng_.range(2, 6), 8) + "\n  }\n";
    bool by_user = rng_.chance(50);
    const std::string& key = by_user ? t.user : t.ip;
    const std::string& other = by_user ? t.ip : t.user;
    std::string agg, agg_field;
    switch (rng_.range(0, 3)) {
      case 0:
      case 1:
        agg = "count($" + v + ") >= " + std::to_string(rng_.range(5, 200));
        agg_field = "events = count($" + v + ")";
        break;
      case 2:
        agg = "dcount($" + v + "." + other + ") > " + std::to_string(rng_.range(2, 20));
        agg_field = "distinct = dcount($" + v + "." + other + ")";
        break;
      default:
        agg = "sum($" + v + "." + rng_.pick(t.nums) + ") > " + std::to_string(rng_.range(1000, 1000000));
        agg_field = "events = count($" + v + ")";
        break;
    }
    bool two_keys = rng_.chance(25);
    s += "  condition " + agg + " by $" + v + "." + key + (two_keys ? ", $" + v + "." + t.app : "") + " within " + dur(w) + "\n";
    s += "  outcome { " + std::string(by_user ? "account" : "ip") + " = $" + v + "." + key + "  " + agg_field;
    if (two_keys) s += "  app = $" + v + "." + t.app;
    if (rng_.chance(50)) s += "  ips = dcount($" + v + "." + t.ip + ")";
    s += " }\n";
    s += entities(by_user, !by_user, two_keys, t, false);
    s += schedule_for_window(w) + suppress() + tests() + "}\n";
    return s;
  }

  // `by $a.user = $b.user [= $c.user] [, $a.ip = $b.ip]` over the given events
  std::string keys(const std::vector<std::pair<std::string, const TableSpec*>>& ev) {
    bool ci = rng_.chance(15);
    int which = static_cast<int>(rng_.weighted({70, 20, 10}));  // user, ip, both
    auto group = [&](bool user) {
      std::string g;
      for (std::size_t i = 0; i < ev.size(); ++i) {
        std::string col = "$" + ev[i].first + "." + (user ? ev[i].second->user : ev[i].second->ip);
        g += (i ? " = " : "") + (ci && user ? "tolower(" + col + ")" : col);
      }
      return g;
    };
    if (which == 0) return group(true);
    if (which == 1) return group(false);
    return group(true) + ", " + group(false);
  }

  std::string sequence(const char* idx) {
    ++mix_.sequence;
    int steps = rng_.chance(75) ? 2 : 3;
    std::vector<std::pair<std::string, const TableSpec*>> ev;
    std::string s;
    for (int i = 0; i < steps; ++i) {
      const auto& t = rng_.pick(tables());
      std::string v = var_for(t);
      for (const auto& e : ev)
        if (e.first == v) v += std::to_string(i + 1);
      ev.push_back({v, &t});
    }
    mix_.events += ev.size();
    int w = rng_.pick(std::vector<int>{10, 30, 60, 120, 360, 1440});
    const auto& t0 = *ev[0].second;
    s += "rule " + t0.tag + "_sequence_" + idx + " {\n";
    s += meta(title(t0, "followed by follow-up activity"),
              "An ordered chain of " + std::to_string(steps) + " events for one user within " + dur(w) + ".",
              rng_.range(2, 3));
    s += "  events {\n";
    for (const auto& [v, t] : ev) s += "    $" + v + " = " + where(*t, rng_.range(1, 5), 10) + "\n";
    s += "  }\n  condition sequence";
    for (std::size_t i = 0; i < ev.size(); ++i) s += (i ? " then $" : " $") + ev[i].first;
    s += "\n    by " + keys(ev) + "\n    within " + dur(w) + "\n";
    const auto& last = ev.back();
    s += "  outcome { account = $" + ev[0].first + "." + t0.user + "  ip = $" + last.first + "." + last.second->ip +
         "  first_ip = $" + ev[0].first + "." + t0.ip + "  app = $" + last.first + "." + last.second->app + " }\n";
    s += entities(true, true, rng_.chance(50), *last.second, false);
    s += schedule_for_window(w) + suppress() + tests() + "}\n";
    return s;
  }

  std::string join(const char* idx) {
    ++mix_.join;
    mix_.events += 2;
    const auto& ta = rng_.pick(tables());
    const auto& tb = rng_.pick(tables());
    std::string a = var_for(ta), b = var_for(tb, a);
    int w = rng_.pick(std::vector<int>{5, 15, 30, 60, 240});
    std::string s = "rule " + ta.tag + "_join_" + idx + " {\n";
    s += meta(title(ta, "seen together with " + tb.name + " activity"),
              "Two related events for one key within " + dur(w) + " of each other, in either order.", rng_.range(1, 3));
    s += "  events {\n    $" + a + " = " + where(ta, rng_.range(1, 5), 8) + "\n    $" + b + " = " +
         where(tb, rng_.range(1, 5), 8) + "\n  }\n";
    s += "  condition $" + a + " and $" + b + " by " + keys({{a, &ta}, {b, &tb}}) + " within " + dur(w) + "\n";
    s += "  outcome { account = $" + a + "." + ta.user + "  ip = $" + a + "." + ta.ip + "  other_ip = $" + b + "." +
         tb.ip + "  agent = $" + b + "." + tb.ua + " }\n";
    s += entities(true, true, false, ta, false);
    s += schedule_for_window(w) + suppress() + tests() + "}\n";
    return s;
  }

  std::string absence(const char* idx) {
    ++mix_.absence;
    mix_.events += 2;
    const auto& ta = rng_.pick(tables());
    const auto& tb = rng_.pick(tables());
    std::string a = var_for(ta), b = var_for(tb, a);
    int w = rng_.pick(std::vector<int>{30, 60, 360, 1440, 1440, 10080, 18720});
    std::string s = "rule " + ta.tag + "_absence_" + idx + " {\n";
    s += meta(title(ta, "without a matching " + tb.name + " record"),
              "An event with no related " + tb.name + " record in the " + dur(w) + " around it.", rng_.range(1, 3));
    s += "  events {\n    $" + a + " = " + where(ta, rng_.range(1, 6), 8) + "\n    $" + b + " = " +
         where(tb, rng_.range(1, 3), 8) + "\n  }\n";
    std::string dir = rng_.chance(60) ? " before $" + a : rng_.chance(50) ? " after $" + a : "";
    s += "  condition $" + a + " and not $" + b + "\n    by " + keys({{a, &ta}, {b, &tb}}) + "\n    within " + dur(w) +
         dir + "\n";
    bool mb = !ta.mailbox.empty() && rng_.chance(50);
    s += "  outcome { account = $" + a + "." + ta.user + "  ip = $" + a + "." + ta.ip + "  app = $" + a + "." + ta.app;
    if (mb) s += "  mailbox = $" + a + "." + ta.mailbox;
    s += " }\n";
    s += entities(true, true, rng_.chance(50), ta, mb);
    s += schedule_for_window(w) + suppress() + tests() + "}\n";
    return s;
  }
};

// ============================================================================
// The compiler, in memory
// ============================================================================
struct Schema {
  std::string path, text;
  ward::source::SourceManager sm;
  ward::diag::Sink sink;
  ward::ast::File file;
  double parse_us = 0;
};

void load_schema(Schema& s) {
  for (const auto& dir : ward::driver::search_path()) {
    std::ifstream in(dir + "/sentinel.ward", std::ios::binary);
    if (!in) continue;
    std::ostringstream ss;
    ss << in.rdbuf();
    s.path = dir + "/sentinel.ward";
    s.text = ss.str();
    auto id = s.sm.add("sentinel.ward", s.text);
    auto t0 = Clock::now();
    s.file = ward::syntax::parse(s.sm.file(id), s.sink);
    s.parse_us = us_since(t0, Clock::now());
    if (s.sink.has_errors()) die("the shipped schema " + s.path + " does not parse");
    return;
  }
  die("cannot find sentinel.ward on the schema search path (set WARD_SCHEMA_PATH)");
}

enum class Stage { Parse = 0, Sema = 1, Full = 2 };
const char* stage_name(Stage s) {
  return s == Stage::Parse ? "(a) parse" : s == Stage::Sema ? "(b) parse+sema+passes" : "(c) full, to KQL";
}

// One unit of compilation: the schema plus some files, analysed together.
struct Unit {
  std::vector<const std::string*> names, texts;
};

struct Result {
  // phase times, microseconds, summed over the units
  double load = 0, parse = 0, sema = 0, passes = 0, emit = 0, teardown = 0;
  double cpu = 0;  // thread CPU time of the same span as total()
  double total_us = 0;  // profiled_run only
  double total() const { return load + parse + sema + passes + emit; }  // teardown reported apart
  std::size_t rules_parsed = 0, rules_compiled = 0, warnings = 0, kql_bytes = 0;
  std::uint64_t checksum = 0;      // of everything the stage produced (names, ids, queries)
  std::uint64_t kql_checksum = 0;  // of the queries alone, in rule order: equal across layouts
  std::map<std::string, std::size_t> warning_codes;
};

std::uint64_t fnv1a(std::uint64_t h, const std::string& s) {
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

[[noreturn]] void fail_with_diagnostics(const ward::diag::Sink& sink, const ward::source::SourceManager& sm,
                                        const Unit& u) {
  std::fprintf(stderr, "compile_bench: a generated rule does not compile (%zu errors); the first diagnostics:\n",
               sink.error_count());
  int shown = 0;
  for (const auto& d : sink.all()) {
    if (d.severity != ward::diag::Severity::Error) continue;
    std::fprintf(stderr, "%s\n", ward::diag::render_text(d, sm, false).c_str());
    if (++shown == 5) break;
  }
  std::fprintf(stderr, "(run with --write DIR to get the generated files; this unit had %zu files)\n", u.names.size());
  std::exit(1);
}

// --antlr: parse with the ANTLR path alone (syntax::parse_reference), the figures before the
// recursive-descent fast path, measured in the same build.
bool g_antlr_only = false;

// Compiles one unit to the given stage, adding its phase times to `res`. Every output
// is kept until the clock has stopped, then folded into res.checksum.
void compile_unit(const Schema& schema, const Unit& u, Stage stage, Result& res) {
  namespace W = ward;
  double cpu0 = thread_cpu_us();
  auto t0 = Clock::now();
  auto sm = std::make_unique<W::source::SourceManager>();
  auto sink = std::make_unique<W::diag::Sink>();
  sm->add("sentinel.ward", schema.text);  // file id 0, as in the pre-parsed schema AST's spans
  std::vector<W::source::FileId> ids;
  ids.reserve(u.texts.size());
  for (std::size_t i = 0; i < u.texts.size(); ++i) ids.push_back(sm->add(*u.names[i], *u.texts[i]));
  auto t1 = Clock::now();
  std::vector<W::ast::File> asts;
  asts.reserve(ids.size());
  for (auto id : ids)
    asts.push_back(g_antlr_only ? W::syntax::parse_reference(sm->file(id), *sink) : W::syntax::parse(sm->file(id), *sink));
  auto t2 = Clock::now();
  W::ir::Module module;
  std::vector<std::string> kql;
  auto t3 = t2, t4 = t2, t5 = t2;
  if (stage >= Stage::Sema) {
    std::vector<W::sema::Input> inputs;
    inputs.reserve(asts.size() + 1);
    // (field by field: sema::Input may grow fields, e.g. syntax error offsets)
    W::sema::Input sin;
    sin.file = &schema.file;
    sin.module = "sentinel";
    sin.emit = false;
    inputs.push_back(sin);
    for (const auto& a : asts) {
      W::sema::Input fin;
      fin.file = &a;
      inputs.push_back(fin);
    }
    module = W::sema::analyze(inputs, *sm, *sink);
    t3 = Clock::now();
    if (sink->has_errors()) fail_with_diagnostics(*sink, *sm, u);
    W::passes::run(module, {});
    t4 = Clock::now();
    if (stage == Stage::Full) {
      kql.reserve(module.rules.size());
      for (const auto& r : module.rules) kql.push_back(W::backend::kql::emit(module, r));
    }
    t5 = Clock::now();
  }
  // ---- clock stopped: consume every output ----
  res.cpu += thread_cpu_us() - cpu0;
  if (sink->has_errors()) fail_with_diagnostics(*sink, *sm, u);
  res.load += us_since(t0, t1);
  res.parse += us_since(t1, t2);
  if (stage >= Stage::Sema) {
    res.sema += us_since(t2, t3);
    res.passes += us_since(t3, t4);
    res.emit += us_since(t4, t5);
  }
  for (const auto& a : asts) {
    res.rules_parsed += a.rules.size();
    for (const auto& r : a.rules) res.checksum = fnv1a(res.checksum, r.name.text);
  }
  res.rules_compiled += module.rules.size();
  for (const auto& r : module.rules) res.checksum = fnv1a(res.checksum, r.meta.id);
  for (const auto& q : kql) {
    res.kql_bytes += q.size();
    res.checksum = fnv1a(res.checksum, q);
    res.kql_checksum = fnv1a(res.kql_checksum ? res.kql_checksum : 0xcbf29ce484222325ULL, q);
  }
  res.warnings += sink->warning_count();
  for (const auto& d : sink->all())
    if (d.severity == W::diag::Severity::Warning) ++res.warning_codes[W::diag::code_string(d.code)];
  // teardown of everything the compilation built, timed apart
  auto t6 = Clock::now();
  kql.clear();
  kql.shrink_to_fit();
  module = {};
  asts.clear();
  asts.shrink_to_fit();
  sink.reset();
  sm.reset();
  res.teardown += us_since(t6, Clock::now());
}

// How the generated library is presented to the compiler.
enum class Layout { Library, Single, PerFile };
const char* layout_name(Layout l) {
  return l == Layout::Library ? "library" : l == Layout::Single ? "single" : "per-file";
}

struct Inputs {
  std::vector<std::string> single_name{"rules_all.ward"}, single_text;  // the single-file layout
  std::vector<Unit> library, single, per_file;
  const std::vector<Unit>& units(Layout l) const {
    return l == Layout::Library ? library : l == Layout::Single ? single : per_file;
  }
};

void build_inputs(const Corpus& c, Inputs& in, bool single = true) {
  Unit lib;
  for (std::size_t i = 0; i < c.chunks.size(); ++i) {
    lib.names.push_back(&c.chunk_names[i]);
    lib.texts.push_back(&c.chunks[i]);
    in.per_file.push_back(Unit{{&c.chunk_names[i]}, {&c.chunks[i]}});
  }
  in.library.push_back(lib);
  if (!single) return;
  std::string all;
  for (const auto& ch : c.chunks) all += ch;
  in.single_text = {all};
  in.single.push_back(Unit{{&in.single_name[0]}, {&in.single_text[0]}});
}

Result run_layout(const Schema& schema, const Inputs& in, Layout l, Stage s) {
  Result r;
  for (const auto& u : in.units(l)) compile_unit(schema, u, s, r);
  return r;
}

// ============================================================================
// Reporting helpers
// ============================================================================
long peak_rss_kb() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;  // kilobytes on Linux
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown", mhz, cache;
  while (std::getline(in, line)) {
    auto val = [&] { auto p = line.find(':'); return p == std::string::npos ? std::string() : line.substr(p + 2); };
    if (model == "unknown" && line.rfind("model name", 0) == 0) model = val();
    else if (mhz.empty() && line.rfind("cpu MHz", 0) == 0) mhz = val();
    else if (cache.empty() && line.rfind("cache size", 0) == 0) cache = val();
  }
  if (!mhz.empty()) model += ", " + mhz + " MHz";
  if (!cache.empty()) model += ", cache " + cache;
  return model;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Stats {
  double med = 0, min = 0, max = 0;
};
Stats stats(const std::vector<double>& v) {
  return {median(v), *std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end())};
}

std::string human_kb(long kb) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f MiB", kb / 1024.0);
  return b;
}

struct Options {
  std::size_t rules = 10000, per_file = 100;
  std::uint64_t seed = 1;
  int reps = 5;
  std::vector<Layout> layouts = {Layout::Library, Layout::Single, Layout::PerFile};
  bool children = true;
  std::string write_dir;
  std::string child;  // "", "gen", "parse", "full"
  int profile = 0;             // --profile N: only N warm full compilations, for callgrind/perf
  bool generate_only = false;  // with --write: write the files and stop
  Layout child_layout = Layout::Library;
};

Layout parse_layout(const std::string& s) {
  if (s == "library") return Layout::Library;
  if (s == "single") return Layout::Single;
  if (s == "per-file") return Layout::PerFile;
  die("unknown layout `" + s + "` (library, single, per-file)");
}

Options parse_args(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::string {
    if (i + 1 >= argc) die(std::string("missing value after ") + argv[i]);
    return argv[++i];
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rules") o.rules = std::stoul(need(i));
    else if (a == "--seed") o.seed = std::stoull(need(i));
    else if (a == "--per-file") o.per_file = std::stoul(need(i));
    else if (a == "--reps") o.reps = std::stoi(need(i));
    else if (a == "--no-children") o.children = false;
    else if (a == "--profile") o.profile = std::stoi(need(i));
    else if (a == "--generate-only") o.generate_only = true;
    else if (a == "--antlr") g_antlr_only = true;
    else if (a == "--write") o.write_dir = need(i);
    else if (a == "--child") o.child = need(i);
    else if (a == "--child-layout") o.child_layout = parse_layout(need(i));
    else if (a == "--layouts") {
      o.layouts.clear();
      std::string s = need(i);
      std::size_t b = 0;
      while (b <= s.size()) {
        auto e = s.find(',', b);
        if (e == std::string::npos) e = s.size();
        if (e > b) o.layouts.push_back(parse_layout(s.substr(b, e - b)));
        b = e + 1;
      }
    } else if (a == "-h" || a == "--help") {
      std::printf(
          "usage: compile_bench [--rules N] [--seed S] [--per-file K] [--reps R]\n"
          "                     [--layouts library,single,per-file] [--no-children] [--write DIR]\n"
          "  --rules N      rules to generate (default 10000)\n"
          "  --seed S       generator seed (default 1)\n"
          "  --per-file K   rules per library file (default 100)\n"
          "  --reps R       timed repetitions per stage, after one warm-up (default 5)\n"
          "  --layouts L    library: all files in one compilation; single: one file;\n"
          "                 per-file: one compilation per file (default: all three)\n"
          "  --no-children  skip the cold-start and peak-memory child processes\n"
          "  --write DIR    also write the generated files to DIR (DIR/library/*.ward, DIR/single.ward)\n"
          "  --generate-only  with --write: write the files and stop (bench/run.sh's `ward` CLI check)\n"
          "  --antlr        parse with the ANTLR path only (syntax::parse_reference): the figures\n"
          "                 without the recursive-descent fast path\n"
          "  --profile N    only: one warm-up, then N full compilations of the first layout inside\n"
          "                 profiled_run(), e.g. valgrind --tool=callgrind --toggle-collect='*profiled_run*'\n");
      std::exit(0);
    } else {
      die("unknown argument `" + a + "` (see --help)");
    }
  }
  if (o.generate_only && o.write_dir.empty()) die("--generate-only needs --write DIR");
  if (o.rules == 0 || o.per_file == 0 || o.reps < 1) die("--rules, --per-file and --reps must be positive");
  return o;
}

long status_kb(const char* key) {  // a field of /proc/self/status, in kB
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + std::strlen(key));
  return -1;
}

// Returns the memory to the OS that generation freed and resets the kernel's RSS
// high-water mark (what ru_maxrss reports) to the current RSS, so that the peak
// measured afterwards is the compilation's. False if the kernel does not allow it.
bool reset_peak_rss() {
  malloc_trim(0);
  std::ofstream out("/proc/self/clear_refs");
  if (!out) return false;
  out << "5";
  out.close();
  return static_cast<bool>(out);
}

// Child process: generate, then one cold compilation of one stage and layout. Prints
// `wall_us cpu_us rss_before_kb peak_kb peak_reset rules checksum`.
int child_main(const Options& o) {
  Generator g(o.seed);
  Corpus c = g.generate(o.rules, o.per_file);
  Schema schema;
  load_schema(schema);
  Inputs in;
  build_inputs(c, in, o.child_layout == Layout::Single);
  Stage stage = o.child == "parse" ? Stage::Parse : Stage::Full;
  if (o.child != "parse" && o.child != "full") die("unknown child mode " + o.child);
  bool reset = reset_peak_rss();
  long before = status_kb("VmRSS:");
  Result r = run_layout(schema, in, o.child_layout, stage);
  std::printf("%.1f %.1f %ld %ld %d %zu %" PRIu64 "\n", r.total(), r.cpu, before, peak_rss_kb(), reset ? 1 : 0,
              stage == Stage::Parse ? r.rules_parsed : r.rules_compiled,
              stage == Stage::Parse ? r.checksum : r.kql_checksum);
  return 0;
}

// The region to profile: N warm full compilations (callgrind --toggle-collect='*profiled_run*').
__attribute__((noinline)) Result profiled_run(const Schema& schema, const Inputs& in, Layout l, int n) {
  Result r;
  for (int i = 0; i < n; ++i) {
    Result x = run_layout(schema, in, l, Stage::Full);
    r.total_us += x.total();
    r.checksum ^= x.kql_checksum;
  }
  return r;
}

struct ChildResult {
  double us = 0, cpu_us = 0;
  long before_kb = 0, maxrss_kb = 0;
  int reset = 0;
  std::size_t rules = 0;
  std::uint64_t checksum = 0;
};

ChildResult run_child(const Options& o, const std::string& mode, Layout l) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) die("cannot find my own executable");
  exe[n] = 0;
  std::string cmd = std::string("'") + exe + "' --child " + mode + " --child-layout " + layout_name(l) + " --rules " +
                    std::to_string(o.rules) + " --seed " + std::to_string(o.seed) + " --per-file " +
                    std::to_string(o.per_file) + (g_antlr_only ? " --antlr" : "");
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) die("cannot run " + cmd);
  ChildResult r;
  int got = std::fscanf(p, "%lf %lf %ld %ld %d %zu %" SCNu64, &r.us, &r.cpu_us, &r.before_kb, &r.maxrss_kb, &r.reset,
                        &r.rules, &r.checksum);
  int rc = pclose(p);
  if (got != 7 || rc != 0) die("child process failed: " + cmd);
  return r;
}

void write_files(const Corpus& c, const Inputs& in, const std::string& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(fs::path(dir) / "library");
  for (std::size_t i = 0; i < c.chunks.size(); ++i) {
    std::ofstream out(fs::path(dir) / "library" / c.chunk_names[i], std::ios::binary);
    out << c.chunks[i];
  }
  std::ofstream out(fs::path(dir) / "single.ward", std::ios::binary);
  out << in.single_text[0];
}

}  // namespace

int main(int argc, char** argv) {
  Options o = parse_args(argc, argv);
  if (!o.child.empty()) return child_main(o);

  // ---- machine and build ----
  struct utsname un {};
  uname(&un);
  cpu_set_t set;
  CPU_ZERO(&set);
  int usable = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : -1;
  std::printf("Ward compile benchmark (bench/compile_bench.cpp)\n");
  std::printf("machine    : %s\n", cpu_model().c_str());
  std::printf("cores      : nproc %ld online, %d usable by this process; the benchmark runs on one thread\n",
              sysconf(_SC_NPROCESSORS_ONLN), usable);
  std::printf("system     : %s %s %s; load average at start %s\n", un.sysname, un.release, un.machine,
              loadavg().c_str());
  std::printf("build      : %s (%s), compiler %s%s\n", WARD_BENCH_BUILD_TYPE, WARD_BENCH_CXX_FLAGS, __VERSION__,
#if defined(__SANITIZE_ADDRESS__)
              ", ASan (timings are NOT representative)"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
              ", ASan (timings are NOT representative)"
#else
              ""
#endif
#else
              ""
#endif
  );

  // ---- generate ----
  auto tg = Clock::now();
  Generator g(o.seed);
  Corpus corpus = g.generate(o.rules, o.per_file);
  double gen_ms = us_since(tg, Clock::now()) / 1000;
  Inputs in;
  build_inputs(corpus, in);
  std::size_t bytes = in.single_text[0].size();
  std::size_t lines = static_cast<std::size_t>(std::count(in.single_text[0].begin(), in.single_text[0].end(), '\n'));
  const auto& m = corpus.mix;
  std::printf("\ncorpus     : %zu rules (seed %" PRIu64 "), %zu files of up to %zu rules; %.1f MB, %zu lines, "
              "%.0f bytes and %.1f lines per rule (generated in %.0f ms)\n",
              corpus.rules, o.seed, corpus.chunks.size(), o.per_file, bytes / 1e6, lines,
              double(bytes) / corpus.rules, double(lines) / corpus.rules, gen_ms);
  std::printf("mix        : %zu single-event, %zu threshold, %zu sequence, %zu join, %zu absence; "
              "%zu events, %zu predicates (%.1f per rule), %zu regexes, %zu tests\n",
              m.single, m.threshold, m.sequence, m.join, m.absence, m.events, m.predicates,
              double(m.predicates) / corpus.rules, m.regexes, m.tests);
  if (!o.write_dir.empty()) {
    write_files(corpus, in, o.write_dir);
    std::printf("written    : %s/library/*.ward (%zu files), %s/single.ward\n", o.write_dir.c_str(),
                corpus.chunks.size(), o.write_dir.c_str());
    if (o.generate_only) return 0;
  }

  Schema schema;
  load_schema(schema);
  if (o.profile > 0) {
    Layout l = o.layouts.front();
    (void)run_layout(schema, in, l, Stage::Full);  // warm-up, also the zero-error check
    Result r = profiled_run(schema, in, l, o.profile);
    std::printf("profile    : %d warm full compilations, layout %s: %.2f us per rule (checksum %016" PRIx64 ")\n",
                o.profile, layout_name(l), r.total_us / o.profile / corpus.rules, r.checksum);
    return 0;
  }
  std::printf("schema     : %s (%zu bytes) parsed once before timing, in %.0f us; sema checks it in every "
              "compilation\n",
              schema.path.c_str(), schema.text.size(), schema.parse_us);

  // ---- correctness first: every rule compiles, zero errors (aborts otherwise) ----
  Result check = run_layout(schema, in, Layout::Library, Stage::Full);
  if (check.rules_compiled != corpus.rules) die("compiled " + std::to_string(check.rules_compiled) + " rules, not " +
                                                std::to_string(corpus.rules));
  std::string wcodes;
  for (const auto& [code, n] : check.warning_codes) wcodes += " " + code + " x" + std::to_string(n);
  std::printf("check      : %zu rules compile with 0 errors, %zu warnings (%s; the `contains` ones are "
              "deliberate);\n             %zu bytes of KQL (%.0f per rule), KQL checksum %016" PRIx64
              " (every run and layout below must reproduce it)\n",
              check.rules_compiled, check.warnings, wcodes.empty() ? " none" : wcodes.c_str() + 1, check.kql_bytes,
              double(check.kql_bytes) / corpus.rules, check.kql_checksum);

  // ---- cold run and peak memory, in fresh processes ----
  if (o.children) {
    std::printf("\nFresh processes, one cold compilation each (the first in its process, as for one `ward compile`).\n"
                "Peak RSS = getrusage ru_maxrss of that child; \"compiler\" = that peak minus the child's RSS just\n"
                "before compiling (generated text and schema AST loaded; high-water mark reset via /proc/self/clear_refs):\n");
    auto show = [&](const char* what, Layout l) {
      ChildResult x = run_child(o, what, l);
      bool full = std::strcmp(what, "full") == 0;
      if (x.rules != corpus.rules || (full && x.checksum != check.kql_checksum)) die("the child's output differs from mine");
      char label[64];
      std::snprintf(label, sizeof label, "%s, %s", full ? "full compile" : "parse only", layout_name(l));
      std::printf("  %-24s %7.1f us/rule (CPU %6.1f)   peak RSS %10s   compiler %10s = %5.1f KiB per rule%s\n", label,
                  x.us / corpus.rules, x.cpu_us / corpus.rules, human_kb(x.maxrss_kb).c_str(),
                  human_kb(x.maxrss_kb - x.before_kb).c_str(), double(x.maxrss_kb - x.before_kb) / corpus.rules,
                  x.reset ? "" : "  (peak not reset: includes generation)");
    };
    show("parse", Layout::Library);
    for (Layout l : o.layouts) show("full", l);
    std::printf("  (a full compilation keeps every AST of its unit, the IR and all the queries until it ends, as\n"
                "  `ward compile` does; per-file frees each file's before the next)\n");
  }

  // ---- warm, in-process timings ----
  std::printf("\nWarm timings (one warm-up, then %d repetitions of a, b, c interleaved; wall-clock median [min..max] "
              "us per rule, and the median thread CPU time):\n",
              o.reps);
  const Stage stages[] = {Stage::Parse, Stage::Sema, Stage::Full};
  for (Layout l : o.layouts) {
    (void)run_layout(schema, in, l, Stage::Full);  // warm-up
    std::vector<double> t[3], cpu[3], ph_load, ph_parse, ph_sema, ph_passes, ph_emit, ph_free;
    for (int rep = 0; rep < o.reps; ++rep) {
      for (Stage s : stages) {
        Result r = run_layout(schema, in, l, s);
        if (r.checksum == 0) die("empty result");  // consumes the result
        if (s != Stage::Parse && r.rules_compiled != corpus.rules) die("rule count changed");
        // every layout must produce exactly the queries the check produced
        if (s == Stage::Full && r.kql_checksum != check.kql_checksum) die("the KQL differs between runs or layouts");
        t[static_cast<int>(s)].push_back(r.total() / corpus.rules);
        cpu[static_cast<int>(s)].push_back(r.cpu / corpus.rules);
        if (s == Stage::Full) {
          ph_load.push_back(r.load / corpus.rules);
          ph_parse.push_back(r.parse / corpus.rules);
          ph_sema.push_back(r.sema / corpus.rules);
          ph_passes.push_back(r.passes / corpus.rules);
          ph_emit.push_back(r.emit / corpus.rules);
          ph_free.push_back(r.teardown / corpus.rules);
        }
      }
    }
    const char* what = l == Layout::Library  ? "all files in one compilation (like `ward compile lib/*.ward`)"
                       : l == Layout::Single ? "one file holding every rule, one compilation"
                                             : "one compilation per file (like running `ward compile` per file)";
    std::printf("\n  layout %-8s: %zu unit(s), %s\n", layout_name(l), in.units(l).size(), what);
    Stats a = stats(t[0]), b = stats(t[1]), c = stats(t[2]);
    for (Stage s : stages) {
      Stats x = stats(t[static_cast<int>(s)]);
      std::printf("    %-24s %8.2f us/rule  [%.2f..%.2f]  %8.0f rules/s  %5.2fx baseline   (CPU %.2f)\n",
                  stage_name(s), x.med, x.min, x.max, 1e6 / x.med, x.med / a.med, median(cpu[static_cast<int>(s)]));
    }
    std::printf("    ratio (c)/(a) = %.2f   (b)-(a) = %.2f us/rule   (c)-(b) = %.2f us/rule\n", c.med / a.med,
                b.med - a.med, c.med - b.med);
    std::printf("    phases of (c): load %.2f, parse %.2f, sema %.2f, passes %.2f, KQL emit %.2f us/rule; "
                "teardown (not in the totals) %.2f\n",
                median(ph_load), median(ph_parse), median(ph_sema), median(ph_passes), median(ph_emit),
                median(ph_free));
    std::printf("    target 50 us/rule for (c): %s (%.2f us); reference: ~2000 us/rule quoted for a Python Sigma "
                "converter (not measured here)\n",
                c.med < 50 ? "met" : "MISSED", c.med);
  }
  std::printf("\nload average at the end: %s\n", loadavg().c_str());
  std::printf("this process's peak RSS at the end (generation + %zu layouts x %d reps, ASTs freed between runs): %s\n",
              o.layouts.size(), o.reps, human_kb(peak_rss_kb()).c_str());
  return 0;
}
