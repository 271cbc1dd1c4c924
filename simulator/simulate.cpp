// Generation in two phases per simulated day, so memory does not grow with --days:
//  1. plan: every user's sessions for the day (compact Session records) and the events each
//     session makes (24-byte Stubs: time, kind, session, a message range);
//  2. render: stubs sorted by time whose time can no longer be preceded by a later plan are
//     rendered to full rows, written, labelled, and dropped.
// A plan for local day d reaches from UTC d-14h to d+36h, so stubs are held for about two
// days; sessions live in a ring of four day slots. Every random choice is drawn from a
// stream derived from (seed, purpose, user, day, ...), never from iteration order.
#include "simulator/simulate.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "simulator/output.h"
#include "simulator/rng.h"
#include "simulator/tenant.h"

namespace ward::sim {

namespace {

enum class Client : std::uint8_t { Owa, Desktop, Mobile, Teams, Files, Admin, Service, Actor, Partner };

enum Flag : std::uint16_t {
  kInteractive = 1, kNewDevice = 2, kTravel = 4, kVpn = 8, kRemote = 16, kDelegate = 32, kShared = 64,
  kServiceApp = 128, kNewLob = 256, kThrottler = 512, kMobileChurn = 1024, kConsumer = 2048,
};

enum class K : std::uint8_t {
  SignIn, SignInFail, Refresh, Bind, Sync, Send, File, TeamsStart, Graph, SpSignIn, Audit, RpToken, RpPartner, SpBind,
  // campaign
  ActorRp, ActorToken, ActorRenewal, ActorBind, ActorRpRejected, ActorRenewalFailed, ActorPhish, ActorPhishOk,
  ActorPhishBind,
  ActorRpConsumer,  // a forged token naming a personal account, at the partner app (step G)
};

struct Session {
  std::uint64_t seed;
  Millis start;
  std::uint32_t ip;
  std::int32_t user;     // who acts (a person), or -1 for a service principal
  std::int32_t mailbox;  // whose mailbox
  std::int16_t sp;       // service principal, or -1
  std::uint16_t flags;
  Client client;
  std::uint8_t net;
  std::uint8_t infra;    // campaign: 1 IOC SoftEther, 2 IOC token panel, 3 fresh hosting, 4 fresh VPN exit
  std::uint8_t variant;  // campaign: which user agent / client string
  std::int32_t consumer = -1;  // the personal account (Tenant::consumers) of a partner-app session
};

struct Stub {
  Millis t;
  std::uint32_t session;
  std::uint32_t msg;    // first message number, or an index
  std::uint16_t count;  // messages in a bind record, folders in a sync, ...
  K kind;
  std::uint8_t slot;
  std::uint32_t seq;    // order of planning: equal times render in the order they were planned
};
static_assert(sizeof(Stub) == 24);

// Published infrastructure (storm0558.md §3.6, MSTI-0714), first/last seen in 2023.
struct IocIp {
  const char* ip;
  int first_m, first_d, last_m, last_d;
  bool panel;
};
const IocIp kIoc[] = {
    {"51.89.156.153", 3, 9, 7, 10, false},   {"176.31.90.129", 3, 28, 6, 29, false}, {"137.74.181.100", 3, 31, 7, 11, false},
    {"193.36.119.45", 4, 19, 7, 7, false},   {"185.158.248.159", 4, 24, 7, 6, false}, {"131.153.78.188", 5, 6, 6, 29, false},
    {"37.143.130.146", 5, 12, 5, 19, false}, {"146.70.157.45", 5, 12, 6, 8, false},  {"185.195.200.39", 5, 15, 6, 29, false},
    {"185.38.142.229", 5, 15, 7, 12, false}, {"146.70.121.44", 5, 17, 6, 29, false}, {"31.42.177.181", 5, 22, 5, 23, false},
    {"185.51.134.52", 6, 7, 7, 11, false},   {"173.44.226.70", 6, 9, 7, 11, false},  {"45.14.227.233", 6, 12, 6, 26, false},
    {"185.236.231.109", 6, 12, 7, 3, false}, {"178.73.220.149", 6, 16, 7, 12, false}, {"45.14.227.212", 6, 19, 6, 29, false},
    {"91.222.173.225", 6, 20, 7, 1, false},  {"146.70.35.168", 6, 22, 6, 29, false}, {"146.70.157.213", 6, 26, 6, 30, false},
    {"31.42.177.201", 6, 27, 6, 29, false},  {"5.252.176.8", 7, 1, 7, 1, false},     {"80.85.158.215", 7, 1, 7, 9, false},
    {"193.149.129.88", 7, 2, 7, 12, false},  {"5.252.178.68", 7, 3, 7, 11, false},   {"116.202.251.8", 7, 4, 7, 7, false},
    {"185.158.248.93", 6, 25, 6, 26, false}, {"20.108.240.252", 6, 25, 7, 5, false}, {"146.70.135.182", 5, 18, 6, 22, false},
    {"195.26.87.219", 5, 15, 6, 25, true},   {"185.236.228.183", 5, 24, 6, 11, true}, {"85.239.63.160", 6, 7, 6, 11, true},
    {"193.105.134.58", 6, 24, 6, 25, true},  {"146.0.74.16", 6, 28, 7, 4, true},     {"91.231.186.226", 6, 29, 7, 4, true},
    {"91.222.174.41", 6, 29, 7, 3, true},    {"185.38.142.249", 6, 29, 7, 2, true},
};
std::uint32_t parse_ip(const char* s) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  std::sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d);
  return (a << 24) | (b << 16) | (c << 8) | d;
}
Millis date2023(int m, int d) {
  char b[16];
  std::snprintf(b, sizeof b, "2023-%02d-%02d", m, d);
  return *parse_date(b);
}

void b64url_to(Rng& r, char* out, std::size_t n) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (std::size_t i = 0; i < n; ++i) out[i] = a[r.below(64)];
}
std::string b64url(Rng& r, int n) {
  std::string s(static_cast<std::size_t>(n), '\0');
  b64url_to(r, s.data(), s.size());
  return s;
}
std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
const char* kSenderDomains[] = {"gov.example", "partner.example", "news.example", "mail.example", "vendor.example", "university.example"};
const char* kFolders[] = {"\\Inbox", "\\Inbox", "\\Inbox", "\\Sent Items", "\\Archive", "\\Inbox\\Projects"};
const char* kSyncFolders[] = {"\\Inbox", "\\Sent Items", "\\Calendar", "\\Drafts"};
const char* kFiles[] = {"Q2 budget.xlsx", "Briefing notes.docx", "Trip agenda.docx", "Draft statement.docx", "Roadmap.pptx", "Minutes.docx", "Contacts.xlsx"};
const char* kRestCi = "Client=REST;Client=RESTSystem;;";  // Graph app-only mail access [assumption]

struct Throttle {
  Millis window = 0;
  int count = 0;
  Millis until = 0;
};

class Generator {
 public:
  Generator(const Scenario& sc, const SimOptions& opt) : sc_(sc), opt_(opt), out_(opt.out, opt.gzip, opt.labels, opt.discard, opt.writer_thread) {
    std::string start = opt.start.empty() ? sc.start : opt.start;
    auto t0 = parse_date(start);
    if (!t0) throw std::runtime_error("--start `" + start + "` is not a date YYYY-MM-DD");
    t0_ = *t0;
    tend_ = t0_ + opt.days * kDay;
    t_ = build_tenant(opt.seed, sc, opt.users);
    Rng r(derive(opt.seed, tag("workspace")));
    workspace_ = r.guid();
    subscription_ = r.guid();
    onms_ = upper(sc.org.substr(0, 1)) + sc.org.substr(1);
    for (auto& c : onms_) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    onms_ += ".onmicrosoft.com";
    resource_id_ = "/subscriptions/" + subscription_ + "/resourcegroups/sentinel-rg/providers/microsoft.operationalinsights/workspaces/sentinel-ws";
    pick_victims();
    key_removed_ = *parse_date(sc.campaign.key_removed);
    // The scenario's own strings for the actor's rows: written without the escaping scan when
    // none of them needs escaping (the default user agents do: they quote brand names).
    actor_clean_ = json_clean(sc.campaign.unknown_app_id);
    for (const auto& v : {sc.campaign.user_agents, sc.campaign.client_info})
      for (const auto& x : v) actor_clean_ = actor_clean_ && json_clean(x);
    // Room for the plan held at once (about a day and a half of events: ~85 a user at the peak,
    // and the service principals' ~1,500), reserved up front: growing by doubling would copy the
    // plan and hold both copies at its peak. Reserved pages that are never written take no
    // memory, so a tenant that plans less never pays for the rest.
    auto people = static_cast<std::size_t>(opt.users);
    pending_.reserve(people * 128 + 8192);
    for (auto& r : ring_) r.reserve(people * 16 + 256);
  }

  SimStats run() {
    for (int d = 0; d < opt_.days + 1; ++d) {  // one day past the end: plans that reach back
      int slot = d % 4;
      ring_[static_cast<std::size_t>(slot)].clear();
      plan_day(d, slot);
      flush(t0_ + (d + 1) * kDay - 14 * kHour);
      if (opt_.progress) opt_.progress(std::min(d + 1, opt_.days), opt_.days, out_.rows());
    }
    flush(INT64_MAX);
    {
      std::string m = "{\"scenario\":";
      json_escape(m, sc_.name);
      m += ",\"users\":" + std::to_string(opt_.users) + ",\"days\":" + std::to_string(opt_.days) +
           ",\"seed\":" + std::to_string(opt_.seed) + ",\"start\":\"" + iso8601(t0_).substr(0, 10) + "\"}";
      out_.meta(m);
    }
    out_.close();
    stats_.rows = out_.rows();
    stats_.bytes = out_.bytes();
    for (auto& [name, f] : out_.files()) stats_.per_table[name] = f->lines();
    return stats_;
  }

 private:
  // ---------------------------------------------------------------- planning
  std::uint32_t add_session(int slot, Session s) {
    auto& v = ring_[static_cast<std::size_t>(slot)];
    v.push_back(s);
    return static_cast<std::uint32_t>(v.size() - 1);
  }
  void stub(int slot, std::uint32_t sess, Millis t, K k, std::uint32_t msg = 0, std::uint16_t count = 0) {
    if (t < t0_ || t >= tend_) return;  // outside the simulated window
    // A session that began before the window is left out whole, so that no event in the
    // output lacks the sign-in that started its session.
    if (ring_[static_cast<std::size_t>(slot)][sess].start < t0_) return;
    pending_.push_back(Stub{t, sess, msg, count, k, static_cast<std::uint8_t>(slot), seq_++});
  }
  const Session& session(const Stub& s) const { return ring_[s.slot][s.session]; }

  bool trip(int u, int d, int& net) const {
    for (int k = 0; k < 6; ++k) {
      Rng r(derive(opt_.seed, tag("trip"), u, d - k));
      if (r.chance(sc_.benign.travel_rate)) {
        int len = static_cast<int>(3 + r.below(4));
        if (k < len) {
          net = static_cast<int>(17 + r.below(3));
          return true;
        }
      }
    }
    return false;
  }
  std::uint32_t host(Rng& r, int net) const {
    const Net& n = nets()[static_cast<std::size_t>(net)];
    for (;;) {
      std::uint32_t ip = n.base + static_cast<std::uint32_t>(r.below(n.size));
      if ((ip & 255) != 0 && (ip & 255) != 255) return ip;
    }
  }

  void plan_day(int d, int slot) {
    for (std::size_t u = 0; u < t_.people; ++u) plan_user(d, static_cast<int>(u), slot);
    plan_services(d, slot);
    if (sc_.campaign.enabled) plan_campaign(d, slot);
    plan_partner(d, slot);
  }

  // Personal accounts signing in to the partner app (a multi-tenant app that admits personal
  // accounts): benign consumer-issuer tokens at the relying party, so that "consumer key at an
  // enterprise-only resource" has to be told apart from ordinary consumer sign-ins.
  void plan_partner(int d, int slot) {
    if (t_.consumers.empty() || sc_.benign.consumer_signins <= 0) return;
    Rng r(derive(opt_.seed, tag("partner-day"), d));
    double mean = sc_.benign.consumer_signins * opt_.users / 100.0;
    auto n = static_cast<int>(std::lround(mean * (0.75 + 0.5 * r.unit())));
    Millis day0 = t0_ + d * kDay;
    for (int i = 0; i < n; ++i) {
      auto who = static_cast<std::int32_t>(r.below(t_.consumers.size()));
      Millis st = day0 + static_cast<Millis>(r.below(static_cast<std::uint64_t>(kDay)));
      Session s{};
      s.seed = derive(opt_.seed, tag("partner-session"), d, i);
      s.start = st;
      s.ip = t_.consumers[static_cast<std::size_t>(who)].ip;
      s.user = -1;
      s.mailbox = -1;
      s.sp = -1;
      s.flags = kConsumer;
      s.client = Client::Partner;
      s.consumer = who;
      std::uint32_t id = add_session(slot, s);
      int calls = static_cast<int>(1 + r.below(3));
      Millis t = st;
      for (int k = 0; k < calls; ++k, t += static_cast<Millis>(60 + r.below(600)) * kSecond) stub(slot, id, t, K::RpPartner, static_cast<std::uint32_t>(k));
    }
  }

  // Reads in a session, aggregated into 2-minute bind records with hourly de-duplication of
  // repeated reads in the same context (storm0558.md §6.2).
  void plan_reads(int slot, std::uint32_t sess, Rng& r, Millis from, Millis to, int reads, std::uint32_t& msgno) {
    if (reads <= 0 || to <= from) return;
    std::vector<Millis> times;
    for (int i = 0; i < reads; ++i) times.push_back(from + static_cast<Millis>(r.below(static_cast<std::uint64_t>(to - from))));
    std::sort(times.begin(), times.end());
    std::vector<std::pair<std::uint32_t, Millis>> seen;  // message, last logged
    Millis group = -1;
    std::uint32_t first = 0;
    std::uint16_t n = 0;
    auto close = [&] {
      if (n) stub(slot, sess, group, K::Bind, first, n);
      n = 0;
    };
    for (Millis tm : times) {
      if (!seen.empty() && r.chance(0.15)) {  // a re-read of an earlier message
        auto& [m, last] = seen[r.below(seen.size())];
        if (tm - last < kHour) continue;  // same context within the hour: not logged again
        close();
        last = tm;
        stub(slot, sess, tm, K::Bind, m, 1);
        continue;
      }
      if (n && (tm - group >= 2 * kMinute || first + n != msgno)) close();
      if (!n) {
        group = tm;
        first = msgno;
      }
      seen.push_back({msgno, tm});
      ++msgno;
      ++n;
    }
    close();
  }

  void plan_user(int d, int u, int slot) {
    const User& x = t_.users[static_cast<std::size_t>(u)];
    const Site& site = sites()[static_cast<std::size_t>(x.site)];
    const BenignKnobs& b = sc_.benign;
    Rng r(derive(opt_.seed, tag("day"), u, d));
    Millis day0 = t0_ + d * kDay;
    Millis midnight = day0 - site.utc_offset_min * kMinute;
    int wd = weekday(day0);
    bool workday = wd >= 1 && wd <= 5;
    if (!workday && !r.chance(b.weekend_activity)) return;
    std::uint16_t flags = 0;
    int net;
    std::uint32_t ip;
    int tnet = 0;
    if (trip(u, d, tnet)) {
      net = tnet;
      ip = host(r, net);
      flags |= kTravel;
    } else if (!workday || r.chance(b.remote_share)) {
      flags |= kRemote;
      if (x.vpn) {
        net = 20;
        ip = host(r, net);
        flags |= kVpn;
      } else {
        net = x.home_net;
        ip = x.home_ip;
      }
    } else {
      net = site.corp_net;
      ip = nets()[static_cast<std::size_t>(net)].base + 10 + static_cast<std::uint32_t>(r.below(6));  // a small NAT pool
    }
    if (r.chance(b.new_device_rate)) flags |= kNewDevice;
    Millis ws = midnight + (x.work_start_min + static_cast<int>(r.range(-20, 20))) * kMinute;
    Millis we = ws + (workday ? x.work_len_min : static_cast<int>(60 + r.below(90))) * kMinute;
    std::uint32_t msgno = static_cast<std::uint32_t>(d) * 4000;

    auto sess = [&](Client c, Millis start, std::uint16_t f, int mailbox = -1, std::uint32_t sip = 0, int snet = -1) {
      Session s{};
      s.seed = derive(opt_.seed, tag("session"), u, d, r.next());
      s.start = start;
      s.ip = sip ? sip : ip;
      s.net = static_cast<std::uint8_t>(snet >= 0 ? snet : net);
      s.user = u;
      s.mailbox = mailbox >= 0 ? mailbox : u;
      s.sp = -1;
      s.flags = f;
      s.client = c;
      return add_session(slot, s);
    };
    auto begin = [&](std::uint32_t s, Millis t, bool interactive) {
      if (interactive) {
        ring_[static_cast<std::size_t>(slot)][s].flags |= kInteractive;
        if (r.chance(0.03)) stub(slot, s, t - 40 * kSecond, K::SignInFail);  // a mistyped password [assumption]
        stub(slot, s, t, K::SignIn);
      } else {
        stub(slot, s, t, K::Refresh, 0);
      }
    };
    auto refreshes = [&](std::uint32_t s, Millis from, Millis to) {
      std::uint32_t k = 1;
      for (Millis t = from + (55 + static_cast<int>(r.below(20))) * kMinute; t < to; t += (55 + static_cast<int>(r.below(20))) * kMinute)
        stub(slot, s, t, K::Refresh, k++);
    };

    // Desktop Outlook: one long session, hourly Sync per folder, a few binds and sends.
    if (x.desktop) {
      Millis st = ws + static_cast<Millis>(r.below(15)) * kMinute;
      std::uint32_t s = sess(Client::Desktop, st, flags);
      begin(s, st, r.chance(b.interactive_share));
      refreshes(s, st, we);
      for (Millis t = st + kMinute; t < we; t += kHour) {
        // one draw per statement (function arguments are unsequenced; this is gcc's order)
        auto items = static_cast<std::uint16_t>(1 + r.below(3));
        stub(slot, s, t + static_cast<Millis>(r.below(5)) * kMinute, K::Sync, 0, items);
        if (r.chance(0.3)) stub(slot, s, t + static_cast<Millis>(10 + r.below(40)) * kMinute, K::Bind, msgno++, 1);
      }
      int sends = static_cast<int>(r.below(5));
      for (int i = 0; i < sends; ++i) stub(slot, s, st + static_cast<Millis>(r.below(static_cast<std::uint64_t>(we - st))), K::Send, static_cast<std::uint32_t>(i));
      int files = static_cast<int>(r.below(4));
      for (int i = 0; i < files; ++i) stub(slot, s, st + static_cast<Millis>(r.below(static_cast<std::uint64_t>(we - st))), K::File, static_cast<std::uint32_t>(i));
    }
    // OWA sessions.
    if (x.owa) {
      int n = workday ? static_cast<int>(1 + r.below(3)) : static_cast<int>(r.below(2));
      for (int i = 0; i < n; ++i) {
        Millis st = ws + static_cast<Millis>(r.below(static_cast<std::uint64_t>(std::max<Millis>(we - ws - 30 * kMinute, kMinute))));
        Millis dur = (20 + static_cast<int>(r.below(70))) * kMinute;
        std::uint32_t s = sess(Client::Owa, st, flags);
        begin(s, st, r.chance(b.interactive_share));
        refreshes(s, st, st + dur);
        int reads = static_cast<int>(std::lround(b.reads_per_hour * static_cast<double>(dur) / kHour * (0.5 + r.unit())));
        plan_reads(slot, s, r, st + kMinute, st + dur, reads, msgno);
        if (r.chance(0.3)) stub(slot, s, st + dur / 2, K::Send, 9);
      }
    }
    // A delegate reads an executive's mailbox; members read shared mailboxes (OWA).
    auto other_mailbox = [&](int mailbox, std::uint16_t f) {
      Millis st = ws + static_cast<Millis>(r.below(static_cast<std::uint64_t>(std::max<Millis>(we - ws - 30 * kMinute, kMinute))));
      Millis dur = (15 + static_cast<int>(r.below(30))) * kMinute;
      std::uint32_t s = sess(Client::Owa, st, static_cast<std::uint16_t>(flags | f), mailbox);
      begin(s, st, true);
      std::uint32_t m = static_cast<std::uint32_t>(d) * 4000 + 2000 + static_cast<std::uint32_t>(r.below(1000));
      plan_reads(slot, s, r, st + kMinute, st + dur, static_cast<int>(2 + r.below(8)), m);
    };
    if (workday && x.delegate_of >= 0 && r.chance(0.6)) other_mailbox(x.delegate_of, kDelegate);
    for (int sh : x.shared)
      if (workday && r.chance(0.5)) other_mailbox(sh, kShared);
    // Outlook Mobile: check-ins through the day from a carrier network whose address churns.
    if (x.mobile) {
      int n = workday ? static_cast<int>(4 + r.below(7)) : static_cast<int>(1 + r.below(4));
      int mnet = (flags & kTravel) ? net : site.mobile;
      std::uint32_t mip = host(r, mnet);
      for (int i = 0; i < n; ++i) {
        Millis st = midnight + (7 * 60 + static_cast<int>(r.below(15 * 60))) * kMinute;
        std::uint16_t f = static_cast<std::uint16_t>(flags & (kTravel | kNewDevice));
        if (r.chance(0.6)) {
          mip = host(r, mnet);
          if (i) f |= kMobileChurn;
        }
        std::uint32_t s = sess(Client::Mobile, st, f, -1, mip, mnet);
        begin(s, st, r.chance(0.05));
        plan_reads(slot, s, r, st + 20 * kSecond, st + 3 * kMinute, static_cast<int>(1 + r.below(4)), msgno);
      }
    }
    // Teams: sign-in, a session-started record, Graph calls tied to the sign-in.
    if (x.teams && workday) {
      Millis st = ws + static_cast<Millis>(r.below(10)) * kMinute;
      std::uint32_t s = sess(Client::Teams, st, flags);
      begin(s, st, r.chance(0.2));
      refreshes(s, st, we);
      stub(slot, s, st + 30 * kSecond, K::TeamsStart);
      int calls = static_cast<int>(3 + r.below(8));
      for (int i = 0; i < calls; ++i) stub(slot, s, st + static_cast<Millis>(r.below(static_cast<std::uint64_t>(we - st))), K::Graph, static_cast<std::uint32_t>(i));
    }
    // The relying party (an enterprise web API) with browser SSO.
    if (workday && r.chance(0.3)) {
      Millis st = ws + static_cast<Millis>(r.below(static_cast<std::uint64_t>(std::max<Millis>(we - ws, kMinute))));
      std::uint32_t s = sess(Client::Files, st, flags);
      begin(s, st, true);
      int n = static_cast<int>(1 + r.below(3));
      for (int i = 0; i < n; ++i) stub(slot, s, st + (1 + i * 7) * kMinute, K::RpToken, static_cast<std::uint32_t>(i));
    }
    // Admins: Exchange Online PowerShell and directory changes.
    if (x.role == Role::Admin && workday) {
      Millis st = ws + static_cast<Millis>(r.below(4 * 60)) * kMinute;
      std::uint32_t s = sess(Client::Admin, st, flags);
      begin(s, st, true);
      int n = static_cast<int>(1 + r.below(4));
      for (int i = 0; i < n; ++i) stub(slot, s, st + (2 + i * 9) * kMinute, K::Audit, static_cast<std::uint32_t>(r.below(4)));
    }
  }

  void plan_services(int d, int slot) {
    Millis day0 = t0_ + d * kDay;
    for (std::size_t i = 0; i < t_.sps.size(); ++i) {
      const ServicePrincipal& p = t_.sps[i];
      if (p.lob_new && d < sc_.benign.new_lob_app_day) continue;
      Rng r(derive(opt_.seed, tag("sp-day"), i, d));
      Session s{};
      s.seed = derive(opt_.seed, tag("sp-session"), i, d);
      s.start = day0;
      s.ip = p.ip;
      s.net = 21;
      s.user = -1;
      s.mailbox = -1;
      s.sp = static_cast<std::int16_t>(i);
      s.client = Client::Service;
      s.flags = static_cast<std::uint16_t>(kServiceApp | (p.lob_new ? kNewLob : 0) | (p.throttles ? kThrottler : 0));
      std::uint32_t base = add_session(slot, s);
      for (int h = 0; h < 24; ++h) stub(slot, base, day0 + h * kHour + static_cast<Millis>(r.below(120)) * kSecond, K::SpSignIn, static_cast<std::uint32_t>(h));
      if (p.lob_new && d == sc_.benign.new_lob_app_day && !t_.users.empty()) {
        // An admin registers and consents to the new app an hour before it starts reading.
        for (std::uint32_t k = 0; k < 3; ++k) stub(slot, base, day0 + 13 * kHour + k * 2 * kMinute, K::Audit, 100 + k);
      }
      if (!p.reads_mail) continue;
      for (int mb : p.mailboxes) {
        Session m = s;
        m.mailbox = mb;
        m.seed = derive(opt_.seed, tag("sp-mailbox"), i, d, mb);
        std::uint32_t ms = add_session(slot, m);
        std::uint32_t msgno = static_cast<std::uint32_t>(d) * 4000 + 3000;
        int per_hour = p.throttles ? 45 : static_cast<int>(r.below(3));
        int hour_from = p.lob_new && d == sc_.benign.new_lob_app_day ? 14 : 0;
        for (int h = hour_from; h < 24; ++h)
          for (int k = 0; k < per_hour; ++k) {
            auto n = static_cast<std::uint16_t>(1 + r.below(p.throttles ? 3 : 8));
            stub(slot, ms, day0 + h * kHour + static_cast<Millis>(r.below(3600)) * kSecond + 150 * kSecond, K::SpBind, msgno, n);
            msgno += n;
            if (msgno >= static_cast<std::uint32_t>(d) * 4000 + 3990) msgno = static_cast<std::uint32_t>(d) * 4000 + 3000;
          }
      }
    }
  }

  // ---------------------------------------------------------------- the campaign
  void pick_victims() {
    const CampaignKnobs& c = sc_.campaign;
    if (!c.enabled || t_.people == 0) return;
    std::vector<std::pair<std::uint64_t, int>> order;
    for (std::size_t u = 0; u < t_.people; ++u)
      if (t_.users[u].role == Role::User) order.push_back({derive(opt_.seed, tag("victim"), u), static_cast<int>(u)});
    std::sort(order.begin(), order.end());
    for (int i = 0; i < c.victims && i < static_cast<int>(order.size()); ++i) victims_.push_back(order[static_cast<std::size_t>(i)].second);
  }
  // An actor address for a date: a published IP active that day, or a fresh one: in a hosting
  // provider's range, or (fresh_network: vpn) in the commercial VPN exit range the tenant's own
  // VPN users share — the published SoftEther nodes were M247 addresses too (§3.6).
  std::uint32_t actor_ip(Rng& r, Millis day, bool panel, std::uint8_t& infra, std::uint8_t& net) const {
    const std::string& mode = sc_.campaign.infrastructure;
    bool ioc = mode == "ioc" || (mode == "mixed" && r.chance(0.5));
    if (ioc) {
      std::vector<const IocIp*> live;
      for (const auto& e : kIoc)
        if (e.panel == panel && day >= date2023(e.first_m, e.first_d) && day <= date2023(e.last_m, e.last_d)) live.push_back(&e);
      if (!live.empty()) {
        infra = panel ? 2 : 1;
        net = 255;
        return parse_ip(live[r.below(live.size())]->ip);
      }
    }
    infra = 3;
    net = static_cast<std::uint8_t>(22 + r.below(2));
    if (sc_.campaign.fresh_network == "vpn") {  // the same draws: only the network differs
      infra = 4;
      net = 20;
    }
    return host(r, net);
  }

  void plan_campaign(int d, int slot) {
    const CampaignKnobs& c = sc_.campaign;
    Millis day0 = t0_ + d * kDay;
    int wd = weekday(day0);
    if (c.weekdays_only && (wd == 0 || wd == 6)) return;
    Millis forged_blocked = *parse_date(c.forged_blocked), key_removed = *parse_date(c.key_removed);
    Millis infra_down = *parse_date(c.infra_down), consumer_blocked = *parse_date(c.consumer_blocked);
    for (std::size_t vi = 0; vi < victims_.size(); ++vi) {
      int v = victims_[vi];
      int first = c.start_day;
      if (d < first) continue;
      Rng r(derive(opt_.seed, tag("campaign"), v, d));
      const User& x = t_.users[static_cast<std::size_t>(v)];
      Millis w0 = day0 + c.hours_start * kHour, w1 = day0 + c.hours_end * kHour;
      if (c.hours_zone == "victim") {
        int off = sites()[static_cast<std::size_t>(x.site)].utc_offset_min;
        w0 = day0 - off * kMinute + x.work_start_min * kMinute;
        w1 = w0 + x.work_len_min * kMinute;
      }
      // The actor's session on victim v's mailbox: its address drawn from rr, then its variant.
      auto actor_session = [&](Rng& rr, std::uint64_t seed, Millis st, bool panel) {
        Session s{};
        s.seed = seed;
        s.start = st;
        s.ip = actor_ip(rr, day0, panel, s.infra, s.net);
        s.user = v;
        s.mailbox = v;
        s.sp = -1;
        s.client = Client::Actor;
        s.variant = static_cast<std::uint8_t>(rr.below(256));
        return s;
      };
      auto new_session = [&](Millis st, bool panel) {
        std::uint64_t seed = derive(opt_.seed, tag("actor-session"), v, d, r.next());
        return add_session(slot, actor_session(r, seed, st, panel));
      };
      if (day0 < forged_blocked) {
        if (d >= first + c.dwell_days || !r.chance(c.daily_probability)) continue;
        Millis renewal_blocked = *parse_date(c.renewal_blocked);
        for (int k = 0; k < c.sessions_per_day; ++k) {
          Millis st = w0 + static_cast<Millis>(r.below(static_cast<std::uint64_t>(std::max<Millis>(w1 - w0 - 30 * kMinute, kMinute))));
          // Step D/E: the forged token (relying party sees it), then an OWA token from it.
          std::uint32_t tok = new_session(st, true);
          if (c.relying_party) stub(slot, tok, st, K::ActorRp, 0);
          if (c.renewal_records) stub(slot, tok, st + 20 * kSecond, K::ActorToken, 0);
          // Step F: scripted collection through a proxy, 2-minute bind records.
          std::uint32_t col = new_session(st + kMinute, false);
          int left = c.messages_per_session;
          std::uint32_t msgno = 1000000 + static_cast<std::uint32_t>(d) * 20000 + static_cast<std::uint32_t>(k) * 5000;
          Millis t = st + kMinute + static_cast<Millis>(r.below(60)) * kSecond;
          Millis last_renewal = st;
          std::uint32_t renewals = 0;
          while (left > 0) {
            auto n = static_cast<std::uint16_t>(std::min<int>(left, static_cast<int>(5 + r.below(16))));
            stub(slot, col, t, K::ActorBind, msgno, n);
            msgno += n;
            left -= n;
            t += 2 * kMinute + static_cast<Millis>(r.below(90)) * kSecond;
            if (c.renewal_records && t - last_renewal >= c.renewal_minutes * kMinute) {
              last_renewal = t;
              stub(slot, tok, t - 10 * kSecond, t >= renewal_blocked ? K::ActorRenewalFailed : K::ActorRenewal, ++renewals);
              if (t >= renewal_blocked && c.relying_party) stub(slot, tok, t - 5 * kSecond, K::ActorRp, renewals);  // re-forged
            }
          }
        }
      } else if (c.after_mitigation) {
        // Step G, personal accounts: until `consumer_blocked` the 2016 key still worked for
        // consumer (MSA) accounts (MSTI-0714: "use of the key blocked for impacted consumer
        // customers" on 07-03, after the enterprise block of 06-27), so the actor presents
        // forged tokens naming a personal account at the partner app, which admits personal
        // accounts: accepted while the key is in the consumers JWKS, rejected after
        // `key_removed`, and none from `consumer_blocked` [assumption: the sources give the
        // dates, not what a tenant's relying party saw]. Its own stream: nothing else changes.
        if (c.relying_party && day0 < consumer_blocked && !t_.consumers.empty()) {
          Rng rc(derive(opt_.seed, tag("campaign-consumer"), v, d));
          if (rc.chance(0.5)) {
            Millis st = w0 + static_cast<Millis>(rc.below(static_cast<std::uint64_t>(w1 - w0)));
            Session s = actor_session(rc, derive(opt_.seed, tag("actor-consumer-session"), v, d), st, true);
            s.consumer = static_cast<std::int32_t>(derive(opt_.seed, tag("victim-consumer"), v) % t_.consumers.size());
            std::uint32_t id = add_session(slot, s);
            int n = static_cast<int>(1 + rc.below(2));
            for (int k = 0; k < n; ++k) stub(slot, id, st + k * 7 * kMinute, K::ActorRpConsumer, static_cast<std::uint32_t>(k));
          }
        }
        // Step G: failed token attempts until the infrastructure goes quiet, then phishing.
        if (day0 < infra_down) {
          int n = static_cast<int>(1 + r.below(3));
          for (int k = 0; k < n; ++k) {
            Millis st = w0 + static_cast<Millis>(r.below(static_cast<std::uint64_t>(w1 - w0)));
            std::uint32_t s = new_session(st, true);
            if (c.renewal_records) stub(slot, s, st, K::ActorRenewalFailed, 0);
            if (c.relying_party) stub(slot, s, st + 15 * kSecond, day0 >= key_removed ? K::ActorRpRejected : K::ActorRp, 0);
          }
        } else if (day0 < infra_down + c.phishing_days * kDay) {
          if (!r.chance(0.5)) continue;
          Millis st = w0 + static_cast<Millis>(r.below(static_cast<std::uint64_t>(w1 - w0)));
          std::uint32_t s = new_session(st, false);
          stub(slot, s, st, K::ActorPhish, 0);
          if (r.chance(c.phishing_success)) {
            stub(slot, s, st + 3 * kMinute, K::ActorPhishOk, 0);
            stub(slot, s, st + 6 * kMinute, K::ActorPhishBind, 5000, static_cast<std::uint16_t>(5 + r.below(20)));
          }
        }
      }
    }
  }

  // ---------------------------------------------------------------- rendering
  void flush(Millis threshold) {
    // In time order, ties in planning order. The sort is in place (a stable sort would take a
    // second buffer as large as the plan). Sequence numbers wrap; the stubs held at once span
    // far fewer than 2^31 of them, so their difference orders them.
    std::sort(pending_.begin(), pending_.end(), [](const Stub& a, const Stub& b) {
      return a.t != b.t ? a.t < b.t : static_cast<std::int32_t>(a.seq - b.seq) < 0;
    });
    stats_.peak_pending = std::max(stats_.peak_pending, pending_.size());
    std::size_t n = 0;
    while (n < pending_.size() && pending_[n].t < threshold) ++n;
    for (std::size_t i = 0; i < n; ++i) render(pending_[i]);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(n));
  }

#include "simulator/render.inc"

  const Scenario& sc_;
  SimOptions opt_;
  Output out_;
  Tenant t_;
  Millis t0_ = 0, tend_ = 0;
  std::string workspace_, subscription_, onms_, resource_id_;
  std::array<std::vector<Session>, 4> ring_;
  std::vector<Stub> pending_;
  std::uint32_t seq_ = 0;
  std::vector<int> victims_;
  std::vector<Throttle> throttle_;             // per mailbox
  Millis key_removed_ = 0;
  bool actor_clean_ = false;                   // the campaign's app id, client strings and agents need no escaping
  // Caches that hand out references: deques, whose elements stay put as they grow.
  std::deque<std::pair<std::string, std::string>> spelled_;  // folder paths as JSON strings
  std::array<std::string, 64> frags_;          // pre-rendered constant column runs (render.inc)
  std::deque<std::string> location_runs_;      // LocationDetails per network and sign-in table
  std::vector<OwnerCache> owner_cache_;        // per mailbox owner
  std::deque<TeamIds> teams_;                  // per department
  std::deque<std::pair<std::string, Guid>> sp_ids_;  // per app
  std::deque<std::tuple<const char*, const char*, std::string>> client_infos_;
  std::unordered_map<std::uint16_t, std::string> notes_;  // label notes per combination of flags
  std::unordered_map<std::uint64_t, std::string> folder_ids_;
  Row folders_, folders_q_;                    // the Folders JSON of the row being rendered, and as text
  std::vector<std::uint8_t> folder_of_;        // its messages' folders
  std::vector<MessageId> message_ids_;         // and ids
  SimStats stats_;
};

}  // namespace

SimStats simulate(const Scenario& sc, const SimOptions& opt) {
  if (opt.users < 10 || opt.users > 100000) throw std::runtime_error("--users must be in [10, 100000]");
  if (opt.days < 1 || opt.days > 3660) throw std::runtime_error("--days must be in [1, 3660]");
  if (opt.out.empty() && !opt.discard) throw std::runtime_error("--out DIR is required");
  Generator g(sc, opt);
  return g.run();
}

}  // namespace ward::sim
