// The synthetic tenant: offices, networks, users and their devices and clients, shared
// mailboxes, delegates, admins and service principals. Built once from (seed, scenario,
// users); everything else is derived from it by hashing, so a day can be generated without
// looking at any other day.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "simulator/rng.h"
#include "simulator/scenario.h"

namespace ward::sim {

// A network a client can be on. Prefixes and ASNs of public ISPs are illustrative pairings;
// corporate prefixes are arbitrary choices for a fictional company (README.md, "Networks").
enum class NetKind : std::uint8_t { Corporate, Residential, Mobile, Travel, Vpn, Azure, Hosting, Ioc };
struct Net {
  NetKind kind;
  const char* isp;
  int asn;
  std::uint32_t base;  // first address
  std::uint32_t size;  // addresses
  const char* country;
  const char* state;
  const char* city;
  double lat, lon;
};

struct Site {
  const char* city;
  const char* state;
  const char* country;
  double lat, lon;
  int utc_offset_min;  // in June (summer time), a simplification: no DST changes in a run
  int corp_net;        // index into nets()
  std::vector<int> residential;  // indices into nets()
  int mobile;
};

const std::vector<Net>& nets();
const std::vector<Site>& sites();
std::string ip_string(std::uint32_t ip);
char* ip_to(char* out, std::uint32_t ip);  // dotted quad into out (15 bytes at most); returns the end

enum class Role : std::uint8_t { User, Admin, Shared };

struct Device {
  std::string id;          // Entra device id
  std::string name;        // display name
  const char* os;          // DeviceDetail.operatingSystem
  const char* browser;     // DeviceDetail.browser
  const char* trust;       // DeviceDetail.trustType
  bool compliant, managed;
};

struct User {
  std::string upn, display, given, surname, object_id, mailbox_guid, sid, puid, dept, title;
  Role role = Role::User;
  int site = 0;
  int home_net = 0;       // residential ISP
  std::uint32_t home_ip = 0;
  int work_start_min = 540;  // local minutes after midnight
  int work_len_min = 510;
  bool owa = false, desktop = false, mobile = false, teams = false, vpn = false;
  int delegate_of = -1;      // reads this user's mailbox as a delegate
  std::vector<int> shared;   // shared mailboxes this user reads
  Device laptop, phone;
  const char* ua_browser;    // the laptop browser's User-Agent
  const char* outlook_ver;   // desktop Outlook build
  const char* mobile_ua;
};

struct ServicePrincipal {
  std::string name, app_id, sp_id, object_id, key_id, thumbprint;
  std::uint32_t ip;         // Azure egress
  bool reads_mail = false;  // app-only mail access through Graph
  bool throttles = false;   // drives one mailbox past the MailItemsAccessed throttle
  bool lob_new = false;     // the line-of-business app that appears mid-run
  std::vector<int> mailboxes;
};

// A personal Microsoft account (MSA) outside the tenant that signs in to the tenant's
// multi-tenant app which admits personal accounts (the partner portal).
struct ConsumerAccount {
  std::string display, upn, oid;
  std::uint32_t ip = 0;     // residential
  const char* ua = nullptr;
};

struct Tenant {
  std::string tenant_id, domain, org, org_sid_prefix;
  std::string rp_app_id, rp_name;  // the relying party that logs token validation
  std::string partner_app_id;      // a multi-tenant app that also accepts personal accounts
  std::string partner_name;
  std::vector<ConsumerAccount> consumers;  // personal accounts that use the partner app
  std::vector<std::string> consumer_kids;  // synthetic kids of the consumers JWKS (not the 2016 key)
  std::vector<User> users;         // people first, then shared mailboxes
  std::vector<ServicePrincipal> sps;
  std::vector<std::string> tenant_kids;  // synthetic key ids of the tenant's signing keys
  std::size_t people = 0;          // users[0, people) are people
};

Tenant build_tenant(std::uint64_t seed, const Scenario& sc, int users);

// First-party apps (storm0558.md §6.1, from merill/microsoft-info).
namespace app {
inline constexpr const char* Exchange = "00000002-0000-0ff1-ce00-000000000000";
inline constexpr const char* Owa = "9199bf20-a13f-4107-85dc-02114787ef48";
inline constexpr const char* Office = "d3590ed6-52b3-4102-aeff-aad2292ab01c";
inline constexpr const char* Outlook = "5d661950-3475-41cd-a2c3-d671a3162bc1";
inline constexpr const char* OutlookMobile = "27922004-5251-4030-b22d-91ecd9a37ea4";
inline constexpr const char* Teams = "1fec8e78-bce4-4aaf-ab1b-5451cc387264";
inline constexpr const char* TeamsWeb = "5e3ce6c0-2b1f-4285-8d4b-75ee78787346";
inline constexpr const char* OfficeHome = "4765445b-32c6-49b0-83e6-1d93765276ca";
inline constexpr const char* Graph = "00000003-0000-0000-c000-000000000000";
inline constexpr const char* SharePoint = "00000003-0000-0ff1-ce00-000000000000";
inline constexpr const char* OneDriveSync = "ab9b8c07-8f02-4f72-87fa-80105867a763";
inline constexpr const char* AuthBroker = "29d9ed98-a469-4536-ade2-f981bc1d605e";
inline constexpr const char* ExoPowerShell = "fb78d390-0c51-40cd-8e17-fdbfab77341b";
inline constexpr const char* AzurePortal = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c";
}  // namespace app

inline constexpr const char* kConsumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad";  // §3.2 platform fact
inline constexpr const char* kForgedKid = "1LTMzakihiRla_8z2BEJVXeWMqo";                 // §3.1 [derived]

}  // namespace ward::sim
