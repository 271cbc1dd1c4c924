#include "simulator/tenant.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

namespace ward::sim {

namespace {
constexpr std::uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

const char* kGiven[] = {"Alex", "Maria", "James", "Priya", "Chen", "Fatima", "Lukas", "Sofia", "Daniel", "Aiko",
                        "Omar", "Emma", "Noah", "Olivia", "Liam", "Ava", "Mateo", "Isla", "Ethan", "Mia",
                        "Hannah", "Jonas", "Leila", "Samuel", "Grace", "Ravi", "Elena", "Tomas", "Nina", "Kwame",
                        "Sara", "David", "Julia", "Yusuf", "Chloe", "Arjun", "Lena", "Marco", "Zoe", "Felix"};
const char* kSurname[] = {"Smith", "Garcia", "Chen", "Patel", "Muller", "Kim", "Nguyen", "Johnson", "Rossi", "Okafor",
                          "Schmidt", "Tanaka", "Brown", "Silva", "Khan", "Novak", "Williams", "Lopez", "Fischer", "Ali",
                          "Martin", "Cohen", "Jones", "Ivanova", "Dubois", "Larsen", "Moreau", "Hughes", "Singh", "Weber"};
const char* kDept[] = {"Policy", "Trade", "Legal", "Finance", "Engineering", "Communications", "Research", "Operations", "Sales", "HR"};
const char* kTitle[] = {"Analyst", "Senior Analyst", "Manager", "Director", "Engineer", "Counsel", "Advisor", "Specialist"};

const char* kEdgeUa = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.51";
const char* kChromeUa = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36";
const char* kSafariUa = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.5 Safari/605.1.15";
const char* kMacChromeUa = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36";
}  // namespace

const std::vector<Net>& nets() {
  // kind, isp, asn, base, size, country, state, city, lat, lon
  static const std::vector<Net> n = {
      // 0-4 corporate egress (arbitrary prefixes for a fictional company, business ISP ASNs)
      {NetKind::Corporate, "Cogent Communications", 174, ip4(38, 104, 16, 0), 256, "US", "Washington", "Seattle", 47.6062, -122.3321},
      {NetKind::Corporate, "Cogent Communications", 174, ip4(38, 122, 40, 0), 256, "US", "New York", "New York", 40.7128, -74.0060},
      {NetKind::Corporate, "British Telecommunications PLC", 2856, ip4(62, 172, 90, 0), 256, "GB", "England", "London", 51.5072, -0.1276},
      {NetKind::Corporate, "Deutsche Telekom AG", 3320, ip4(62, 153, 12, 0), 256, "DE", "Berlin", "Berlin", 52.5200, 13.4050},
      {NetKind::Corporate, "SingNet Pte Ltd", 3758, ip4(203, 116, 50, 0), 256, "SG", "Singapore", "Singapore", 1.3521, 103.8198},
      // 5-12 residential
      {NetKind::Residential, "Comcast Cable Communications", 7922, ip4(73, 0, 0, 0), 1u << 24, "US", "Washington", "Bellevue", 47.6101, -122.2015},
      {NetKind::Residential, "Verizon Business", 701, ip4(108, 0, 0, 0), 1u << 18, "US", "New York", "Brooklyn", 40.6782, -73.9442},
      {NetKind::Residential, "British Telecommunications PLC", 2856, ip4(86, 128, 0, 0), 1u << 22, "GB", "England", "Croydon", 51.3762, -0.0982},
      {NetKind::Residential, "Virgin Media Limited", 5089, ip4(82, 0, 0, 0), 1u << 19, "GB", "England", "Reading", 51.4543, -0.9781},
      {NetKind::Residential, "Deutsche Telekom AG", 3320, ip4(79, 192, 0, 0), 1u << 22, "DE", "Brandenburg", "Potsdam", 52.3906, 13.0645},
      {NetKind::Residential, "Vodafone GmbH", 3209, ip4(88, 64, 0, 0), 1u << 20, "DE", "Berlin", "Berlin", 52.5200, 13.4050},
      {NetKind::Residential, "SingNet Pte Ltd", 3758, ip4(116, 14, 0, 0), 1u << 17, "SG", "Singapore", "Singapore", 1.3521, 103.8198},
      {NetKind::Residential, "Comcast Cable Communications", 7922, ip4(98, 192, 0, 0), 1u << 18, "US", "New Jersey", "Hoboken", 40.7440, -74.0324},
      // 13-16 mobile carriers
      {NetKind::Mobile, "T-Mobile USA, Inc.", 21928, ip4(172, 56, 0, 0), 1u << 19, "US", "Washington", "Seattle", 47.6062, -122.3321},
      {NetKind::Mobile, "EE Limited", 12576, ip4(31, 94, 0, 0), 1u << 15, "GB", "England", "London", 51.5072, -0.1276},
      {NetKind::Mobile, "Telefonica Germany GmbH", 6805, ip4(176, 0, 0, 0), 1u << 19, "DE", "Berlin", "Berlin", 52.5200, 13.4050},
      {NetKind::Mobile, "Verizon Wireless", 6167, ip4(174, 192, 0, 0), 1u << 22, "US", "New York", "New York", 40.7128, -74.0060},
      // 17-19 travel (hotels and foreign ISPs)
      {NetKind::Travel, "Orange S.A.", 3215, ip4(90, 0, 0, 0), 1u << 23, "FR", "Ile-de-France", "Paris", 48.8566, 2.3522},
      {NetKind::Travel, "NTT Communications", 4713, ip4(153, 128, 0, 0), 1u << 23, "JP", "Tokyo", "Tokyo", 35.6762, 139.6503},
      {NetKind::Travel, "Telstra Corporation", 1221, ip4(101, 160, 0, 0), 1u << 20, "AU", "New South Wales", "Sydney", -33.8688, 151.2093},
      // 20 commercial VPN exit: a documentation range standing in for a hosting ASN (it is in
      // examples/iocs/hosting_ranges.txt on purpose: benign VPN users look like hosting traffic)
      {NetKind::Vpn, "M247 Europe SRL", 9009, ip4(198, 51, 100, 0), 256, "NL", "North Holland", "Amsterdam", 52.3676, 4.9041},
      // 21 Azure (service principals)
      {NetKind::Azure, "Microsoft Corporation", 8075, ip4(20, 42, 0, 0), 1u << 16, "US", "Virginia", "Boydton", 36.6676, -78.3875},
      // 22-23 fresh actor hosting (documentation ranges, see hosting_ranges.txt)
      {NetKind::Hosting, "OVH SAS", 16276, ip4(203, 0, 113, 0), 256, "US", "Virginia", "Vint Hill", 38.7465, -77.6730},
      {NetKind::Hosting, "The Constant Company, LLC", 20473, ip4(192, 0, 2, 0), 256, "GB", "England", "London", 51.5072, -0.1276},
  };
  return n;
}

const std::vector<Site>& sites() {
  static const std::vector<Site> s = {
      {"Seattle", "Washington", "US", 47.6062, -122.3321, -7 * 60, 0, {5}, 13},
      {"New York", "New York", "US", 40.7128, -74.0060, -4 * 60, 1, {6, 12}, 16},
      {"London", "England", "GB", 51.5072, -0.1276, 60, 2, {7, 8}, 14},
      {"Berlin", "Berlin", "DE", 52.5200, 13.4050, 120, 3, {9, 10}, 15},
      {"Singapore", "Singapore", "SG", 1.3521, 103.8198, 480, 4, {11}, 13},
  };
  return s;
}

char* ip_to(char* p, std::uint32_t ip) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    unsigned v = (ip >> shift) & 255;
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
    if (shift) *p++ = '.';
  }
  return p;
}
std::string ip_string(std::uint32_t ip) {
  char b[16];
  return std::string(b, static_cast<std::size_t>(ip_to(b, ip) - b));
}

namespace {
std::uint32_t host_in(Rng& r, const Net& n) {
  // avoid .0 and .255 in every /24
  for (;;) {
    std::uint32_t ip = n.base + static_cast<std::uint32_t>(r.below(n.size));
    unsigned last = ip & 255;
    if (last != 0 && last != 255) return ip;
  }
}
std::string b64url(Rng& r, int n) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string s;
  for (int i = 0; i < n; ++i) s += a[r.below(64)];
  return s;
}
Device make_laptop(Rng& r, const std::string& given, bool mac) {
  Device d;
  d.id = r.guid();
  char name[32];
  std::snprintf(name, sizeof name, "%s-%s", mac ? "MAC" : "CTS", r.hexstr(6).c_str());
  d.name = name;
  for (auto& c : d.name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  d.os = mac ? "MacOs" : (r.chance(0.6) ? "Windows 10" : "Windows 11");
  d.browser = mac ? (r.chance(0.5) ? "Safari 16.5" : "Chrome 114.0.0") : (r.chance(0.7) ? "Edge 114.0.1823" : "Chrome 114.0.0");
  d.trust = mac ? "Azure AD registered" : "Hybrid Azure AD joined";
  d.compliant = true;
  d.managed = true;
  return d;
}
}  // namespace

Tenant build_tenant(std::uint64_t seed, const Scenario& sc, int n_users) {
  Tenant t;
  Rng r(derive(seed, tag("tenant")));
  t.tenant_id = r.guid();
  t.domain = sc.domain;
  t.org = sc.org;
  // one draw per statement: the operands of `+` are unsequenced, and compilers order them differently
  std::uint64_t sid3 = r.below(1000000000), sid2 = r.below(1000000000), sid1 = r.below(1000000000);
  t.org_sid_prefix = "S-1-5-21-" + std::to_string(1000000000 + sid1) + "-" + std::to_string(1000000000 + sid2) + "-" +
                     std::to_string(1000000000 + sid3);
  t.rp_app_id = r.guid();
  t.rp_name = sc.org + " Expenses API";
  t.partner_app_id = r.guid();
  // The tenant's signing keys are the scenario's (a tenant's JWKS does not change with the seed);
  // the two draws stay, so that everything drawn after them is what it was.
  for (int i = 0; i < 2; ++i) (void)b64url(r, 27);
  t.tenant_kids = sc.signing_kids;
  const BenignKnobs& b = sc.benign;

  int admins = b.admins + n_users / 500;
  for (int i = 0; i < n_users; ++i) {
    Rng u(derive(seed, tag("user"), i));
    User x;
    x.given = kGiven[u.below(std::size(kGiven))];
    x.surname = kSurname[u.below(std::size(kSurname))];
    std::string local = x.given + "." + x.surname + (i >= 40 ? std::to_string(i) : "");
    for (auto& c : local) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    x.role = i < admins ? Role::Admin : Role::User;
    if (x.role == Role::Admin) local = "adm-" + local;
    x.upn = local + "@" + t.domain;
    x.display = x.given + " " + x.surname + (x.role == Role::Admin ? " (Admin)" : "");
    x.object_id = u.guid();
    x.mailbox_guid = u.guid();
    x.sid = t.org_sid_prefix + "-" + std::to_string(1100 + i);
    x.puid = u.hexstr(16);
    for (auto& c : x.puid) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    x.dept = x.role == Role::Admin ? "IT" : kDept[u.below(std::size(kDept))];
    x.title = x.role == Role::Admin ? "Systems Administrator" : kTitle[u.below(std::size(kTitle))];
    // site weights: more people at the two US offices
    static const int weights[] = {30, 25, 20, 15, 10};
    int w = static_cast<int>(u.below(100)), s = 0;
    while (w >= weights[s]) w -= weights[s++];
    x.site = s;
    const Site& site = sites()[static_cast<std::size_t>(s)];
    x.home_net = site.residential[u.below(site.residential.size())];
    x.home_ip = host_in(u, nets()[static_cast<std::size_t>(x.home_net)]);
    x.work_start_min = static_cast<int>(7 * 60 + u.below(150));  // 07:00-09:30 local [assumption]
    x.work_len_min = static_cast<int>(7 * 60 + 30 + u.below(120));
    x.owa = u.chance(b.owa_share);
    x.desktop = u.chance(b.desktop_share);
    if (!x.owa && !x.desktop) x.owa = true;  // everyone reads mail somehow
    x.mobile = u.chance(b.mobile_share);
    x.teams = u.chance(b.teams_share);
    x.vpn = u.chance(b.vpn_share);
    bool mac = u.chance(0.2);
    x.laptop = make_laptop(u, x.given, mac);
    x.ua_browser = mac ? (std::string(x.laptop.browser).starts_with("Safari") ? kSafariUa : kMacChromeUa)
                       : (std::string(x.laptop.browser).starts_with("Edge") ? kEdgeUa : kChromeUa);
    x.outlook_ver = u.chance(0.7) ? "16.0.16529.20154" : "16.0.16327.20248";
    bool ios = u.chance(0.55);
    x.phone.id = u.guid();
    x.phone.name = ios ? "iPhone" : "Pixel 7";
    x.phone.os = ios ? "Ios 16.5" : "Android 13";
    x.phone.browser = ios ? "Mobile Safari" : "Chrome Mobile 114.0.5735";
    x.phone.trust = "Azure AD registered";
    x.phone.compliant = u.chance(0.8);
    x.phone.managed = x.phone.compliant;
    x.mobile_ua = ios ? "Outlook-iOS/709.2226530.prod.iphone (4.2322.0)" : "Outlook-Android/2.0";
    t.users.push_back(std::move(x));
  }
  t.people = t.users.size();

  // Shared mailboxes, read by a few members each (MailboxOwnerUPN differs from UserId).
  Rng m(derive(seed, tag("shared")));
  int shared = std::max(1, n_users * b.shared_mailboxes / 100);
  if (b.shared_mailboxes == 0) shared = 0;
  static const char* kShared[] = {"info", "press", "travel", "visa", "helpdesk", "frontdesk", "grants", "events"};
  for (int i = 0; i < shared + b.throttled_mailboxes; ++i) {
    User x;
    bool heavy = i >= shared;  // the mailbox a service account drives past the throttle
    std::string local = heavy ? "journal" + std::to_string(i - shared + 1)
                              : std::string(kShared[i % std::size(kShared)]) + (i >= 8 ? std::to_string(i) : "");
    x.given = local;
    x.surname = "";
    x.upn = local + "@" + t.domain;
    x.display = heavy ? "Journal Archive " + std::to_string(i - shared + 1) : local + " (shared)";
    x.role = Role::Shared;
    x.object_id = m.guid();
    x.mailbox_guid = m.guid();
    x.sid = t.org_sid_prefix + "-" + std::to_string(900000 + i);
    x.puid = m.hexstr(16);
    for (auto& c : x.puid) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    x.dept = "Shared";
    x.title = "Shared mailbox";
    x.site = 0;
    x.laptop = make_laptop(m, "shared", false);
    x.ua_browser = kEdgeUa;
    x.outlook_ver = "16.0.16529.20154";
    x.mobile_ua = "Outlook-Android/2.0";
    t.users.push_back(std::move(x));
    int idx = static_cast<int>(t.users.size()) - 1;
    if (!heavy && t.people > 0)
      for (int k = 0; k < 3; ++k) t.users[m.below(t.people)].shared.push_back(idx);
  }
  // Delegates: an assistant reads an executive's mailbox.
  int delegates = b.delegates == 0 ? 0 : std::max(1, n_users * b.delegates / 100);
  for (int i = 0; i < delegates && t.people >= 2; ++i) {
    std::size_t a = m.below(t.people), e = m.below(t.people);
    if (a != e && t.users[a].delegate_of < 0) t.users[a].delegate_of = static_cast<int>(e);
  }

  // Service principals: the relying party itself, app-only mail readers, a journaling app
  // that trips the throttle, and the new LOB app.
  Rng sp(derive(seed, tag("sp")));
  auto add_sp = [&](std::string name) -> ServicePrincipal& {
    ServicePrincipal p;
    p.name = std::move(name);
    p.app_id = sp.guid();
    p.sp_id = sp.guid();
    p.object_id = sp.guid();
    p.key_id = sp.guid();
    std::string th = sp.hexstr(40);
    for (auto& c : th) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    p.thumbprint = th;
    p.ip = host_in(sp, nets()[21]);
    t.sps.push_back(std::move(p));
    return t.sps.back();
  };
  add_sp(t.rp_name).app_id = t.rp_app_id;
  static const char* kSvc[] = {"Contoso CRM Mail Sync", "Backup Vault for Exchange", "Travel Booking Connector", "HR Onboarding Bot"};
  for (int i = 0; i < b.service_accounts; ++i) {
    auto& p = add_sp(std::string(kSvc[i % std::size(kSvc)]) + (i >= 4 ? " " + std::to_string(i) : ""));
    p.reads_mail = true;
    for (int k = 0; k < 4 && t.people > 0; ++k) p.mailboxes.push_back(static_cast<int>(sp.below(t.people)));
  }
  for (int i = 0; i < b.throttled_mailboxes; ++i) {
    auto& p = add_sp("Journal Archiver " + std::to_string(i + 1));
    p.reads_mail = true;
    p.throttles = true;
    p.mailboxes.push_back(static_cast<int>(t.people) + shared + i);
  }
  if (b.new_lob_app_day >= 0) {
    auto& p = add_sp(sc.org + " Case Tracker (LOB)");
    p.reads_mail = true;
    p.lob_new = true;
    for (int k = 0; k < 3 && t.people > 0; ++k) p.mailboxes.push_back(static_cast<int>(sp.below(t.people)));
  }
  // Personal accounts at the partner app: their own stream, so nothing above changes. Consumer
  // v2.0 tokens name the MSA tenant (§3.2, platform fact); the kids of the consumers JWKS other
  // than the 2016 key, the account shapes and the oid form 00000000-0000-0000-XXXX-... are
  // synthetic [assumption].
  {
    Rng c(derive(seed, tag("consumers")));
    t.partner_name = sc.org + " Partner Portal";
    for (int i = 0; i < 3; ++i) t.consumer_kids.push_back(b64url(c, 27));
    static const char* kConsumerDomains[] = {"outlook.example", "hotmail.example", "live.example"};
    static const char* kConsumerUa[] = {kChromeUa, kEdgeUa, kSafariUa, kMacChromeUa};
    std::size_t n = static_cast<std::size_t>(std::max(5, n_users / 5));
    const Site& home = sites().front();
    for (std::size_t i = 0; i < n; ++i) {
      ConsumerAccount a;
      std::string given = kGiven[c.below(std::size(kGiven))], surname = kSurname[c.below(std::size(kSurname))];
      a.display = given + " " + surname;
      std::string local = given + "." + surname + std::to_string(10 + c.below(90));
      for (auto& ch : local) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      a.upn = local + "@" + kConsumerDomains[c.below(std::size(kConsumerDomains))];
      std::string h = c.hexstr(16);
      a.oid = "00000000-0000-0000-" + h.substr(0, 4) + "-" + h.substr(4, 12);
      a.ip = host_in(c, nets()[static_cast<std::size_t>(home.residential[c.below(home.residential.size())])]);
      a.ua = kConsumerUa[c.below(std::size(kConsumerUa))];
      t.consumers.push_back(std::move(a));
    }
  }
  return t;
}

}  // namespace ward::sim
