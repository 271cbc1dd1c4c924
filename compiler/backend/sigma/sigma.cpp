// Sigma emission from the IR. Each atomic test of a `where` becomes its own selection and the
// condition mirrors the expression's and/or/not exactly, so no boolean rewriting can change
// its meaning; only the atoms' own semantics can differ from Ward's, and each such place is
// a diagnostic with its span.
#include "backend/sigma/sigma.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "ast/value.h"
#include "sema/sema.h"

namespace ward::backend::sigma {
namespace {

using diag::Code;
using ir::Expr;
using ir::Type;
using source::Span;
using K = ir::Expr::Kind;

struct Logsource {
  const char* product;
  const char* service;
};

// Sigma's taxonomy has azure/signinlogs and azure/auditlogs; the other tables get a service
// named after the table, described in `definition`.
Logsource logsource_of(const std::string& table) {
  if (table == "SigninLogs") return {"azure", "signinlogs"};
  if (table == "AuditLogs") return {"azure", "auditlogs"};
  if (table == "AADNonInteractiveUserSignInLogs") return {"azure", "noninteractiveusersigninlogs"};
  if (table == "AADServicePrincipalSignInLogs") return {"azure", "serviceprincipalsigninlogs"};
  if (table == "MicrosoftGraphActivityLogs") return {"azure", "microsoftgraphactivitylogs"};
  if (table == "OfficeActivity") return {"m365", "officeactivity"};
  if (table == "CloudAppEvents") return {"m365", "cloudappevents"};
  return {"ward", nullptr};
}

std::string kebab(const std::string& camel) {
  std::string s;
  for (char c : camel) {
    if (c >= 'A' && c <= 'Z') {
      if (!s.empty()) s += '-';
      s += static_cast<char>(c - 'A' + 'a');
    } else {
      s += c;
    }
  }
  return s;
}

std::string tag_of(const std::string& t) {
  std::string s;
  for (unsigned char c : t) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.') s += static_cast<char>(c);
    else if (c >= 'A' && c <= 'Z') s += static_cast<char>(c - 'A' + 'a');
    else s += '_';
  }
  return "ward." + (s.empty() ? std::string("_") : s);
}

// A Sigma timespan: a number and one lowercase unit.
std::optional<std::string> timespan(std::int64_t t) {
  if (t <= 0) return std::nullopt;
  if (t % kTicksPerDay == 0) return fmt::format("{}d", t / kTicksPerDay);
  if (t % kTicksPerHour == 0) return fmt::format("{}h", t / kTicksPerHour);
  if (t % kTicksPerMinute == 0) return fmt::format("{}m", t / kTicksPerMinute);
  if (t % kTicksPerSecond == 0) return fmt::format("{}s", t / kTicksPerSecond);
  return std::nullopt;
}

// Sigma values are wildcard patterns: `*` `?` and `\` are escaped to mean themselves.
std::string escape_value(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

bool plain_key(const std::string& k) {
  return !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
           c == '|' || c == '-';
  });
}

struct Selection {
  std::string name, key;  // key: field|modifiers
  std::vector<Value> values;
  bool raw = false;   // regex or cidr: no wildcard escaping
  bool null_too = false;  // empty(): '' or null
};

class Emitter {
 public:
  Emitter(const ir::Module& m, const ir::Rule& r, const Options& opt, diag::Sink& sink)
      : m_(m), r_(r), opt_(opt), sink_(sink) {}

  std::optional<std::string> run() {
    std::size_t errors = sink_.error_count();
    std::string out;
    const auto& c = r_.corr;
    if (c.kind == ir::CorrKind::Absence) {
      sink_.report(Code::SigmaAbsence, c.span, "Sigma cannot state that an event did not happen")
          .note("Sigma correlations count, and order events that did happen; none matches on a missing one")
          .help("keep this rule in KQL (Sentinel) or Ward's VM; export the positive event alone as a separate rule");
      return std::nullopt;
    }
    if (c.kind == ir::CorrKind::Single) {
      auto doc = detection(0, r_.meta.id, r_.name, true);  // `name`: the Ward rule's, for the import
      if (sink_.error_count() != errors || !lossy_ok()) return std::nullopt;
      return doc;
    }
    // one detection rule per event, then the correlation
    std::vector<std::string> names;
    for (auto ev : c.order) {
      auto name = fmt::format("{}_{}", r_.name, r_.events[ev].var);
      names.push_back(name);
      out += detection(ev, sema::derived_rule_id(r_.name + "/$" + r_.events[ev].var), name, false) + "---\n";
    }
    auto corr = correlation(names);
    if (sink_.error_count() != errors || !lossy_ok()) return std::nullopt;
    return out + corr;
  }

 private:
  Span head() const {
    Span s = r_.span;
    if (s.valid()) s.end = std::min(s.end, s.begin + 4 + static_cast<std::uint32_t>(r_.name.size()) + 1);
    return s;
  }

  void lossy(Code code, Span at, std::string message, std::string note) {
    sink_.report(code, at, message).note(note);
    losses_.push_back(message);
  }

  bool lossy_ok() {
    if (losses_.empty() || opt_.allow_lossy) return true;
    sink_.report(Code::SigmaLossy, head(),
                 fmt::format("rule `{}` would mean less in Sigma than in Ward ({} place{} above)", r_.name,
                             losses_.size(), losses_.size() == 1 ? "" : "s"))
        .help("pass --allow-lossy to write it anyway, with each loss stated in its description");
    return false;
  }

  std::string description() const {
    std::string d = r_.meta.description;
    if (!losses_.empty() && opt_.allow_lossy) {
      d += "\n\nExported from Ward with --allow-lossy; where this Sigma rule means less than the Ward rule:";
      for (const auto& l : losses_) d += "\n- " + l;
    }
    return d;
  }

  void meta(YAML::Emitter& y, const std::string& title, const std::string& id, bool with_description) {
    y << YAML::Key << "title" << YAML::Value << YAML::DoubleQuoted << title;
    y << YAML::Key << "id" << YAML::Value << id;
    y << YAML::Key << "status" << YAML::Value << r_.meta.status;
    if (with_description) y << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << description();
    if (!r_.meta.references.empty()) {
      y << YAML::Key << "references" << YAML::Value << YAML::BeginSeq;
      std::set<std::string> seen;
      for (const auto& x : r_.meta.references)
        if (seen.insert(x).second) y << YAML::DoubleQuoted << x;
      y << YAML::EndSeq;
    }
    if (!r_.meta.author.empty()) y << YAML::Key << "author" << YAML::Value << YAML::DoubleQuoted << r_.meta.author;
    auto date_ok = [](const std::string& d) {
      return d.size() == 10 && d[4] == '-' && d[7] == '-' &&
             std::all_of(d.begin(), d.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
    };
    if (date_ok(r_.meta.created)) y << YAML::Key << "date" << YAML::Value << YAML::DoubleQuoted << r_.meta.created;
    if (date_ok(r_.meta.modified)) y << YAML::Key << "modified" << YAML::Value << YAML::DoubleQuoted << r_.meta.modified;
  }

  void tags_level(YAML::Emitter& y) {
    std::vector<std::string> tags;
    auto add = [&](std::string t) {
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(std::move(t));
    };
    for (const auto& t : r_.meta.tactics) add("attack." + kebab(t));
    for (auto t : r_.meta.techniques) {
      std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
      add("attack." + t);
    }
    for (const auto& t : r_.meta.tags) add(tag_of(t));
    if (!tags.empty()) {
      y << YAML::Key << "tags" << YAML::Value << YAML::BeginSeq;
      for (const auto& t : tags) y << t;
      y << YAML::EndSeq;
    }
    std::vector<std::string> fps;
    for (const auto& f : r_.meta.falsepositives)
      if (f.size() >= 2 && std::find(fps.begin(), fps.end(), f) == fps.end()) fps.push_back(f);
    if (!fps.empty()) {
      y << YAML::Key << "falsepositives" << YAML::Value << YAML::BeginSeq;
      for (const auto& f : fps) y << YAML::DoubleQuoted << f;
      y << YAML::EndSeq;
    }
    std::string level = ir::severity_name(r_.meta.severity);
    std::transform(level.begin(), level.end(), level.begin(), [](unsigned char c) { return std::tolower(c); });
    y << YAML::Key << "level" << YAML::Value << level;
  }

  std::string detection(std::uint32_t ev, const std::string& id, const std::string& name, bool top) {
    const auto& e = r_.events[ev];
    const auto& table = m_.catalog.tables[e.table];
    sels_.clear();
    negated_ = 0;
    std::string cond = e.where ? condition(*e.where) : "";
    YAML::Emitter y;
    y.SetIndent(2);
    y << YAML::BeginMap;
    meta(y, top ? r_.meta.title : fmt::format("{}: ${}", r_.meta.title, e.var), id, top);
    if (!name.empty()) y << YAML::Key << "name" << YAML::Value << name;
    auto ls = logsource_of(table.name);
    y << YAML::Key << "logsource" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "product" << YAML::Value << ls.product;
    std::string service = ls.service ? ls.service : table.name;
    std::transform(service.begin(), service.end(), service.begin(), [](unsigned char c) { return std::tolower(c); });
    y << YAML::Key << "service" << YAML::Value << service;
    y << YAML::Key << "definition" << YAML::Value << YAML::DoubleQuoted
      << fmt::format("Log Analytics table {} (Microsoft Sentinel); field names are its column names", table.name);
    y << YAML::EndMap;
    y << YAML::Key << "detection" << YAML::Value << YAML::BeginMap;
    if (sels_.empty()) {  // every row: any TimeGenerated
      y << YAML::Key << "selection" << YAML::Value << YAML::BeginMap << YAML::Key << "TimeGenerated|exists"
        << YAML::Value << true << YAML::EndMap;
      cond = "selection";
    }
    for (const auto& s : sels_) {
      y << YAML::Key << s.name << YAML::Value << YAML::BeginMap;
      y << YAML::Key;
      if (plain_key(s.key)) y << s.key;
      else y << YAML::DoubleQuoted << s.key;
      y << YAML::Value;
      auto value = [&](const Value& v) {
        switch (v.kind) {
          case LitKind::Bool: y << v.b; break;
          case LitKind::Int: y << v.i; break;
          case LitKind::Real: y << v.r; break;
          case LitKind::Cidr:
            y << YAML::DoubleQuoted << (v.s.find('/') == std::string::npos ? fmt::format("{}/{}", v.s, v.prefix) : v.s);
            break;
          case LitKind::None: y << YAML::Null; break;
          default: y << YAML::DoubleQuoted << (s.raw ? v.s : escape_value(v.s));
        }
      };
      if (s.values.size() == 1 && !s.null_too) value(s.values[0]);
      else {
        y << YAML::BeginSeq;
        for (const auto& v : s.values) value(v);
        if (s.null_too) y << YAML::Null;
        y << YAML::EndSeq;
      }
      y << YAML::EndMap;
    }
    y << YAML::Key << "condition" << YAML::Value << cond;
    y << YAML::EndMap;
    tags_level(y);
    y << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
  }

  // ---- the where clause ----
  std::optional<std::string> field(const Expr& e) const {
    switch (e.kind) {
      case K::Column: {
        const auto& ev = r_.events[e.var];
        return m_.catalog.tables[ev.table].columns[e.column].name;
      }
      case K::Member: {
        auto base = field(*e.args[0]);
        if (!base) return std::nullopt;
        return *base + "." + e.member;
      }
      case K::Index: {
        auto base = field(*e.args[0]);
        if (!base || e.args[1]->kind != K::Literal) return std::nullopt;
        const auto& v = e.args[1]->value;
        if (v.kind == LitKind::Int) return fmt::format("{}[{}]", *base, v.i);
        if (v.kind == LitKind::String) return *base + "." + v.s;
        return std::nullopt;
      }
      case K::Call:
        if (e.fn == ir::Fn::ToString && e.args.size() == 1) return field(*e.args[0]);  // the value's text
        return std::nullopt;
      default: return std::nullopt;
    }
  }

  Type field_type(const Expr& e) const { return e.type; }  // tostring(x): a string, empty when x is missing

  bool literal(const Expr& e, std::vector<Value>& out) const {
    if (e.kind == K::Literal) {
      if (e.value.kind == LitKind::Datetime || e.value.kind == LitKind::Duration) return false;
      out.push_back(e.value);
      return true;
    }
    if (e.kind == K::ListRef) {
      for (const auto& v : m_.lists[e.list].values) out.push_back(v);
      return true;
    }
    if (e.kind == K::ListLit) {
      for (const auto& a : e.args)
        if (!literal(*a, out)) return false;
      return true;
    }
    return false;
  }

  std::string unsupported(const Expr& e, const std::string& why) {
    sink_.report(Code::SigmaUnsupported, e.span, fmt::format("Sigma cannot state {}", why))
        .note("Sigma detections compare fields with values (and fields with fields for equality)")
        .help("keep this rule in KQL (Sentinel) or Ward's VM, or rewrite the test on plain fields");
    return "selection_unsupported";
  }

  std::string add(const Expr& at, std::string key, std::vector<Value> values, bool raw = false, bool null_too = false) {
    // the tested field: the left operand, or the bool column itself (`not IsRisky`)
    const Expr* tested = at.args.size() ? &*at.args[0]
                         : (at.kind == K::Column || at.kind == K::Member) ? &at
                                                                          : nullptr;
    if (negated_ % 2 == 1 && tested && field_type(*tested) != Type::String && field_type(*tested) != Type::Unknown)
      lossy(Code::SigmaNullNegation, at.span,
            fmt::format("`{}` is negated on a {} field", std::string(key.substr(0, key.find('|'))),
                        ir::type_name(field_type(*tested))),
            "Ward's test is false when the field is missing; Sigma's `not` is then true");
    Selection s;
    s.name = fmt::format("selection{}", sels_.size() + 1);
    s.key = std::move(key);
    s.values = std::move(values);
    s.raw = raw;
    s.null_too = null_too;
    sels_.push_back(std::move(s));
    return sels_.back().name;
  }

  std::string negate(const std::string& c) { return "not " + c; }

  std::string condition(const Expr& e) {
    using ast::Op;
    if (e.kind == K::Binary && (e.op == Op::And || e.op == Op::Or)) {
      auto a = condition(*e.args[0]);
      auto b = condition(*e.args[1]);
      return fmt::format("({} {} {})", a, e.op == Op::And ? "and" : "or", b);
    }
    if (e.kind == K::Unary && e.op == Op::Not) {
      ++negated_;
      auto c = condition(*e.args[0]);
      --negated_;
      return negate(c);
    }
    if (e.kind == K::Literal && e.value.kind == LitKind::Bool)
      return e.value.b ? add(e, "TimeGenerated|exists", {Value::boolean(true)})
                       : negate(add(e, "TimeGenerated|exists", {Value::boolean(true)}));
    if (e.kind == K::Call && (e.fn == ir::Fn::Exists || e.fn == ir::Fn::Empty)) {
      auto f = field(*e.args[0]);
      if (!f) return unsupported(e, "a test of a computed value");
      if (e.fn == ir::Fn::Exists) {
        // Ward's exists: present and not empty
        auto present = add(e, *f + "|exists", {Value::boolean(true)});  // named in order: argument order is unspecified
        auto blank = add(e, *f, {Value::string("")});
        return fmt::format("({} and {})", present, negate(blank));
      }
      return add(e, *f, {Value::string("")}, false, true);
    }
    if (e.kind == K::Column || e.kind == K::Member)  // a bool column used as a predicate
      if (auto f = field(e)) return add(e, *f, {Value::boolean(true)});
    if (e.kind != K::Binary) return unsupported(e, fmt::format("this {} expression", ir::type_name(e.type)));
    const Expr& lhs = *e.args[0];
    const Expr& rhs = *e.args[1];
    auto f = field(lhs);
    if (!f) return unsupported(lhs, "a test of a computed value");
    // field == field
    if (auto g = field(rhs); g && (e.op == Op::Eq || e.op == Op::Ne || e.op == Op::EqCi || e.op == Op::NeCi)) {
      auto c = add(e, *f + "|fieldref", {Value::string(*g)}, true);
      return e.op == Op::Ne || e.op == Op::NeCi ? negate(c) : c;
    }
    std::vector<Value> vals;
    if (!literal(rhs, vals)) return unsupported(rhs, "a comparison with a computed value or a datetime");
    const bool text = lhs.type == Type::String || lhs.type == Type::Dynamic;
    const char* cased = text ? "|cased" : "";
    auto with = [&](const char* mod, bool neg, bool raw = false) {
      auto c = add(e, *f + mod, vals, raw);
      return neg ? negate(c) : c;
    };
    switch (e.op) {
      case Op::Eq: case Op::In: return with(cased, false);
      case Op::Ne: case Op::NotIn: {
        ++negated_;
        auto c = with(cased, true);
        --negated_;
        return c;
      }
      case Op::EqCi: case Op::InCi: return with("", false);
      case Op::NeCi: case Op::NotInCi: return with("", true);
      case Op::Lt: return with("|lt", false);
      case Op::Le: return with("|lte", false);
      case Op::Gt: return with("|gt", false);
      case Op::Ge: return with("|gte", false);
      case Op::Contains: return with("|contains", false);
      case Op::NotContains: return with("|contains", true);
      case Op::StartsWith: return with("|startswith", false);
      case Op::NotStartsWith: return with("|startswith", true);
      case Op::EndsWith: return with("|endswith", false);
      case Op::NotEndsWith: return with("|endswith", true);
      case Op::Has: case Op::NotHas:
        lossy(Code::SigmaTermMatch, e.span, fmt::format("`{}` written as Sigma `contains`", ast::op_spelling(e.op)),
              "Kusto's `has` matches whole terms; `contains` also matches inside a term, so the Sigma rule matches more");
        return with("|contains", e.op == Op::NotHas);
      case Op::Regex: return with("|re", false, true);
      case Op::InCidr: return with("|cidr", false, true);
      case Op::NotInCidr:
        lossy(Code::SigmaCidrNegation, e.span, "`!in cidr` written as Sigma `not ...|cidr`",
              "Ward's `!in cidr` is false for an empty or malformed address (docs/semantics.md §4.6); Sigma's `not` "
              "is then true, so the Sigma rule also matches those events; `not (x in cidr R)` means what Sigma does");
        return with("|cidr", true, true);
      default: return unsupported(e, fmt::format("`{}`", ast::op_spelling(e.op)));
    }
  }

  // ---- correlations ----
  std::string correlation(const std::vector<std::string>& names) {
    const auto& c = r_.corr;
    auto ts = timespan(c.window);
    lossy(Code::SigmaWindowSemantics, c.window_span.valid() ? c.window_span : c.span,
          fmt::format("the {} window is exact and sliding in Ward; a Sigma timespan may be applied as a fixed "
                      "(tumbling) window",
                      ts ? *ts : std::string("correlation")),
          c.kind == ir::CorrKind::Threshold
              ? "a backend with fixed windows misses bursts across a window boundary; Ward also alerts once per "
                "rising edge, not once per window"
              : "a backend with fixed windows misses pairs across a window boundary");
    YAML::Emitter y;
    y.SetIndent(2);
    y << YAML::BeginMap;
    meta(y, r_.meta.title, r_.meta.id, true);
    y << YAML::Key << "correlation" << YAML::Value << YAML::BeginMap;
    const char* type = c.kind == ir::CorrKind::Sequence ? "temporal_ordered"
                       : c.kind == ir::CorrKind::Join   ? "temporal"
                       : c.agg == ir::Agg::Count        ? "event_count"
                       : c.agg == ir::Agg::DCount       ? "value_count"
                                                        : "value_sum";
    y << YAML::Key << "type" << YAML::Value << type;
    y << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (const auto& n : names) y << n;
    y << YAML::EndSeq;
    // group-by: one field per key; an alias where the events name it differently
    std::vector<std::string> group;
    std::vector<std::pair<std::string, std::vector<std::string>>> aliases;
    for (std::size_t k = 0; k < c.keys.size(); ++k) {
      std::vector<std::string> fields;
      for (const auto& ke : c.keys[k]) {
        auto f = field(*ke);
        if (!f) {
          sink_.report(Code::SigmaKeyNotField, ke->span, "Sigma groups correlations by fields; this key is computed")
              .help("key the correlation on a column");
          f = "?";
        }
        fields.push_back(*f);
      }
      bool same = std::all_of(fields.begin(), fields.end(), [&](const std::string& x) { return x == fields[0]; });
      std::string g = same ? fields[0] : fields[0];
      if (!same) {
        // an alias name no event uses as a field
        g = fmt::format("key{}_{}", k + 1, fields[0]);
        aliases.emplace_back(g, fields);
      }
      group.push_back(g);
    }
    if (!aliases.empty()) {
      y << YAML::Key << "aliases" << YAML::Value << YAML::BeginMap;
      for (const auto& [g, fields] : aliases) {
        y << YAML::Key << g << YAML::Value << YAML::BeginMap;
        for (std::size_t i = 0; i < names.size() && i < fields.size(); ++i)
          y << YAML::Key << names[i] << YAML::Value << fields[i];
        y << YAML::EndMap;
      }
      y << YAML::EndMap;
    }
    y << YAML::Key << "group-by" << YAML::Value << YAML::BeginSeq;
    for (const auto& g : group) y << g;
    y << YAML::EndSeq;
    if (!ts)
      sink_.report(Code::SigmaUnsupported, c.window_span, "a window that is not a whole number of seconds")
          .help("Sigma timespans are a number and one unit: 30s, 10m, 1h, 2d");
    y << YAML::Key << "timespan" << YAML::Value << (ts ? *ts : std::string("0s"));
    if (c.kind == ir::CorrKind::Threshold) {
      const char* cmp = c.cmp == ast::Op::Gt ? "gt" : c.cmp == ast::Op::Ge ? "gte" : c.cmp == ast::Op::Lt ? "lt"
                        : c.cmp == ast::Op::Le ? "lte" : c.cmp == ast::Op::Eq ? "eq" : "neq";
      if (c.threshold != std::floor(c.threshold) || std::fabs(c.threshold) > 9e15)
        sink_.report(Code::SigmaUnsupported, c.span, "a threshold that is not an integer")
            .help("Sigma correlation conditions compare with integers");
      y << YAML::Key << "condition" << YAML::Value << YAML::BeginMap;
      y << YAML::Key << cmp << YAML::Value << static_cast<long long>(c.threshold);
      if (c.agg != ir::Agg::Count) {
        auto f = c.agg_arg ? field(*c.agg_arg) : std::nullopt;
        if (!f) {
          sink_.report(Code::SigmaKeyNotField, c.agg_arg ? c.agg_arg->span : c.span,
                       "Sigma counts or sums the values of a field; this is computed");
          f = "?";
        }
        y << YAML::Key << "field" << YAML::Value << *f;
      }
      y << YAML::EndMap;
    }
    y << YAML::EndMap;
    tags_level(y);
    y << YAML::EndMap;
    return std::string(y.c_str()) + "\n";
  }

  const ir::Module& m_;
  const ir::Rule& r_;
  const Options& opt_;
  diag::Sink& sink_;
  std::vector<Selection> sels_;
  std::vector<std::string> losses_;
  int negated_ = 0;
};

}  // namespace

std::optional<std::string> emit(const ir::Module& m, const ir::Rule& r, const Options& opt, diag::Sink& sink) {
  return Emitter(m, r, opt, sink).run();
}

}  // namespace ward::backend::sigma
