#include "sema/sema.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_map>

#include <re2/re2.h>

#include "ast/literals.h"

namespace ward::sema {

using diag::Code;
using ir::Type;
using source::Span;
namespace fs = std::filesystem;

namespace {

// ---- built-in functions ----
enum class Param { Any, Str, Num, Time, Span, Dyn };
struct FnInfo {
  ir::Fn fn;
  const char* name;
  Type ret;
  std::vector<Param> params;
};
const std::vector<FnInfo>& functions() {
  static const std::vector<FnInfo> k = {
#define WARD_FN(name, kql, ret, ...) {ir::Fn::name, kql, Type::ret, {__VA_ARGS__}},
#define Any Param::Any
#define Str Param::Str
#define Num Param::Num
#define Time Param::Time
#define Span Param::Span
#define Dyn Param::Dyn
#include "sema/functions.def"
#undef Any
#undef Str
#undef Num
#undef Time
#undef Span
#undef Dyn
#undef WARD_FN
  };
  return k;
}
// Ward spelling of each function (the KQL spelling, except where Ward is plainer).
const char* ward_fn_name(const FnInfo& f) {
  if (f.fn == ir::Fn::Exists) return "exists";
  if (f.fn == ir::Fn::Empty) return "empty";
  if (f.fn == ir::Fn::Trim) return "trim";
  return f.name;
}
const char* param_word(Param p) {
  switch (p) {
    case Param::Any: return "any value";
    case Param::Str: return "a string";
    case Param::Num: return "a number";
    case Param::Time: return "a datetime";
    case Param::Span: return "a timespan";
    case Param::Dyn: return "a dynamic value";
  }
  return "";
}
bool param_accepts(Param p, Type t) {
  if (t == Type::Unknown) return true;
  switch (p) {
    case Param::Any: return true;
    case Param::Str: return t == Type::String || t == Type::Guid;
    case Param::Num: return ir::is_numeric(t) || t == Type::Dynamic;
    case Param::Time: return t == Type::Datetime || t == Type::Dynamic;
    case Param::Span: return t == Type::Timespan;
    case Param::Dyn: return t == Type::Dynamic;
  }
  return false;
}

// ---- Sentinel vocabularies ----
const std::vector<std::string> kTactics = {
    "Reconnaissance", "ResourceDevelopment", "InitialAccess", "Execution", "Persistence",
    "PrivilegeEscalation", "DefenseEvasion", "CredentialAccess", "Discovery", "LateralMovement",
    "Collection", "Exfiltration", "CommandAndControl", "Impact", "PreAttack",
    "ImpairProcessControl", "InhibitResponseFunction"};
// Sentinel entity types and their identifiers (Azure-Sentinel entity mapping reference).
const std::map<std::string, std::vector<std::string>>& entity_types() {
  static const std::map<std::string, std::vector<std::string>> k = {
      {"Account", {"Name", "FullName", "NTDomain", "DnsDomain", "UPNSuffix", "Sid", "AadTenantId", "AadUserId",
                   "PUID", "IsDomainJoined", "DisplayName", "ObjectGuid", "CloudAppAccountId"}},
      {"Host", {"DnsDomain", "NTDomain", "HostName", "FullName", "NetBiosName", "AzureID", "OMSAgentID", "OSFamily",
                "OSVersion", "IsDomainJoined"}},
      {"IP", {"Address", "AddressScope"}},
      {"URL", {"Url"}},
      {"CloudApplication", {"AppId", "Name", "InstanceName"}},
      {"Mailbox", {"MailboxPrimaryAddress", "DisplayName", "Upn", "ExternalDirectoryObjectId", "RiskLevel"}},
      {"MailMessage", {"Recipient", "Sender", "InternetMessageId", "NetworkMessageId", "Subject"}},
      {"AzureResource", {"ResourceId"}},
      {"File", {"Directory", "Name"}},
      {"Process", {"ProcessId", "CommandLine", "ElevationToken", "CreationTimeUtc"}},
      {"DNS", {"DomainName"}},
      {"SecurityGroup", {"DistinguishedName", "SID", "ObjectGuid"}},
  };
  return k;
}
const std::vector<std::string> kMetaKeys = {"id",   "title",     "description",    "severity", "status",
                                            "version", "author", "tactics",        "techniques", "attack",
                                            "tags", "references", "falsepositives", "created",  "modified",
                                            "alert_title", "alert_description"};

// T1234 or T1234.567
bool is_technique(const std::string& s) {
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return true;
  };
  if (s.size() != 5 && s.size() != 9) return false;
  if (s[0] != 'T' || !digits(1, 4)) return false;
  return s.size() == 5 || (s[5] == '.' && digits(6, 3));
}

// ---- the checker ----
class Checker {
 public:
  Checker(source::SourceManager& sm, diag::Sink& sink) : sm_(sm), sink_(sink) {}

  ir::Module run(const std::vector<Input>& files) {
    for (const auto& in : files) declare_tables(*in.file, in.module);
    for (const auto& in : files) declare_consts_and_lists(*in.file);
    for (const auto& in : files)
      for (const auto& r : in.file->rules) declare_rule_name(r);
    duplicate_rule_spans_ = duplicate_rules_;
    for (const auto& in : files) {
      if (!in.emit) continue;
      for (const auto& r : in.file->rules) {
        bool broken = std::any_of(in.syntax_errors.begin(), in.syntax_errors.end(),
                                  [&](std::uint32_t off) { return off >= r.span.begin && off <= r.span.end; });
        if (broken) continue;
        auto rule = check_rule(r);
        rule.file = sm_.file(in.file->file).path();
        module_.rules.push_back(std::move(rule));
      }
    }
    check_rule_ids();
    return std::move(module_);
  }

 private:
  // ---------- tables ----------
  void declare_tables(const ast::File& f, const std::string& module) {
    for (const auto& t : f.tables) {
      if (auto* prev = module_.catalog.find(t.name.text)) {
        sink_.report(Code::DuplicateDefinition, t.name.span, fmt::format("table `{}` is declared twice", t.name.text))
            .secondary(prev->span, "first declared here");
        continue;
      }
      if (!t.name.text.empty() && t.name.text[0] == '_')
        sink_.report(Code::ReservedName, t.name.span, "table names may not start with `_`")
            .note("names starting with `_` are used by the queries Ward generates");
      ir::Table table;
      table.name = t.name.text;
      table.doc = t.doc;
      table.span = t.name.span;
      table.module = module;
      for (const auto& c : t.columns) {
        auto type = ir::type_from_name(c.type.text);
        if (!type) {
          std::vector<std::string> names = {"string", "int", "long", "real", "bool", "datetime", "timespan", "guid",
                                            "dynamic"};
          sink_.report(Code::UnknownType, c.type.span, fmt::format("unknown column type `{}`", c.type.text))
              .help(diag::did_you_mean(c.type.text, names))
              .note("column types are string, int, long, real, bool, datetime, timespan, guid and dynamic");
          type = Type::Unknown;
        }
        if (auto it = table.index.find(c.name.text); it != table.index.end()) {
          sink_.report(Code::DuplicateColumn, c.name.span,
                       fmt::format("column `{}` is declared twice in table `{}`", c.name.text, t.name.text))
              .secondary(table.columns[it->second].span, "first declared here");
          continue;
        }
        table.index[c.name.text] = static_cast<std::uint32_t>(table.columns.size());
        table.columns.push_back({c.name.text, *type, c.doc, c.name.span});
      }
      module_.catalog.index[table.name] = static_cast<std::uint32_t>(module_.catalog.tables.size());
      module_.catalog.tables.push_back(std::move(table));
    }
  }

  // ---------- constants and lists ----------
  struct ConstSym {
    Value value;
    Type type;
    Span span;
  };
  std::map<std::string, ConstSym> consts_;
  std::map<std::string, std::uint32_t> lists_;
  std::map<std::string, Span> global_names_;  // consts, lists: for duplicate detection

  bool declare_global(const ast::Name& n, const char* what) {
    if (!n.text.empty() && n.text[0] == '_') {
      sink_.report(Code::ReservedName, n.span, fmt::format("{} names may not start with `_`", what))
          .note("names starting with `_` are used by the queries Ward generates");
      return false;
    }
    if (auto* t = module_.catalog.find(n.text)) {
      sink_.report(Code::DuplicateDefinition, n.span, fmt::format("`{}` is already a table", n.text))
          .secondary(t->span, "the table")
          .note("tables, constants and lists share one namespace (a KQL `let` would hide the table)");
      return false;
    }
    if (auto it = global_names_.find(n.text); it != global_names_.end()) {
      sink_.report(Code::DuplicateDefinition, n.span, fmt::format("{} `{}` is defined twice", what, n.text))
          .secondary(it->second, "first defined here");
      return false;
    }
    global_names_[n.text] = n.span;
    return true;
  }

  static Type literal_type(const Value& v) {
    switch (v.kind) {
      case LitKind::Bool: return Type::Bool;
      case LitKind::Int: return Type::Long;
      case LitKind::Real: return Type::Real;
      case LitKind::String: return Type::String;
      case LitKind::Duration: return Type::Timespan;
      case LitKind::Datetime: return Type::Datetime;
      case LitKind::Ip: return Type::String;
      case LitKind::Cidr: return Type::String;
      case LitKind::Guid: return Type::Guid;
      case LitKind::None: return Type::Unknown;
    }
    return Type::Unknown;
  }

  // A constant expression: literals, constants, unary minus and + - * on numbers,
  // durations and datetimes (`1h * 24`, `2023-05-15 + 14d`).
  std::optional<Value> const_value(const ast::Expr& e) {
    if (e.kind == ast::Expr::Kind::Literal) return e.value;
    if (e.kind == ast::Expr::Kind::Unary && e.op == ast::Op::Neg) {
      auto v = const_value(*e.args[0]);
      if (!v) return std::nullopt;
      if (v->kind == LitKind::Int || v->kind == LitKind::Duration) { v->i = -v->i; return v; }
      if (v->kind == LitKind::Real) { v->r = -v->r; return v; }
      return std::nullopt;
    }
    if (e.kind == ast::Expr::Kind::Binary && e.args.size() == 2) {
      auto a = const_value(*e.args[0]), b = const_value(*e.args[1]);
      if (!a || !b) return std::nullopt;
      using K = LitKind;
      auto k = [&](K x, K y) { return a->kind == x && b->kind == y; };
      switch (e.op) {
        case ast::Op::Add:
          if (k(K::Int, K::Int)) return Value::integer(a->i + b->i);
          if (k(K::Duration, K::Duration)) return Value::duration(a->i + b->i);
          if (k(K::Datetime, K::Duration)) return Value::datetime(a->i + b->i);
          break;
        case ast::Op::Sub:
          if (k(K::Int, K::Int)) return Value::integer(a->i - b->i);
          if (k(K::Duration, K::Duration)) return Value::duration(a->i - b->i);
          if (k(K::Datetime, K::Duration)) return Value::datetime(a->i - b->i);
          if (k(K::Datetime, K::Datetime)) return Value::duration(a->i - b->i);
          break;
        case ast::Op::Mul:
          if (k(K::Int, K::Int)) return Value::integer(a->i * b->i);
          if (k(K::Duration, K::Int)) return Value::duration(a->i * b->i);
          if (k(K::Int, K::Duration)) return Value::duration(a->i * b->i);
          break;
        default: break;
      }
      return std::nullopt;
    }
    if (e.kind == ast::Expr::Kind::Name) {
      if (auto it = consts_.find(e.name); it != consts_.end()) return it->second.value;
    }
    return std::nullopt;
  }

  void declare_consts_and_lists(const ast::File& f) {
    for (const auto& c : f.consts) {
      if (!declare_global(c.name, "constant")) continue;
      if (!c.value) continue;
      auto v = const_value(*c.value);
      if (!v) {
        sink_.report(Code::NotConstant, c.value->span, fmt::format("the value of constant `{}` is not a literal", c.name.text))
            .help("a constant is a literal: a string, number, duration, datetime, IP, CIDR, GUID or bool");
        consts_[c.name.text] = {Value{}, Type::Unknown, c.name.span};
        continue;
      }
      Type t = literal_type(*v);
      if (c.type) {
        auto declared = ir::type_from_name(c.type->text);
        if (!declared) {
          sink_.report(Code::UnknownType, c.type->span, fmt::format("unknown type `{}`", c.type->text));
        } else if (*declared != t && !(ir::is_numeric(*declared) && ir::is_numeric(t)) &&
                   !(*declared == Type::String && t == Type::Guid) && t != Type::Unknown) {
          sink_.report(Code::ConstTypeMismatch, c.value->span,
                       fmt::format("constant `{}` is declared `{}` but its value is a {}", c.name.text, c.type->text,
                                   ir::type_name(t)))
              .secondary(c.type->span, "declared type");
        } else {
          t = *declared;
        }
      }
      consts_[c.name.text] = {*v, t, c.name.span};
    }
    for (const auto& l : f.lists) {
      if (!declare_global(l.name, "list")) continue;
      ir::List list;
      list.name = l.name.text;
      list.span = l.name.span;
      static const std::map<std::string, ir::ListElem> elems = {
          {"string", ir::ListElem::String}, {"guid", ir::ListElem::Guid}, {"ip", ir::ListElem::Ip},
          {"cidr", ir::ListElem::Cidr},     {"long", ir::ListElem::Long}, {"int", ir::ListElem::Long},
          {"real", ir::ListElem::Real}};
      auto it = elems.find(l.elem_type.text);
      bool ok = it != elems.end();
      if (!ok) {
        sink_.report(Code::UnknownType, l.elem_type.span, fmt::format("unknown list element type `{}`", l.elem_type.text))
            .help(diag::did_you_mean(l.elem_type.text, {"string", "guid", "ip", "cidr", "long", "real"}))
            .note("list elements are string, guid, ip, cidr, long or real");
      } else {
        list.elem = it->second;
      }
      list_file_failed_ = false;
      if (l.from_file) {
        load_list_file(l, list, ok);
      } else {
        for (const auto& item : l.items) {
          auto v = const_value(*item);
          if (!v) {
            sink_.report(Code::NotConstant, item->span, "list elements must be literals");
            continue;
          }
          if (!ok) continue;
          if (auto nv = coerce_element(*v, list.elem)) list.values.push_back(*nv);
          else
            sink_.report(Code::InvalidListElement, item->span,
                         fmt::format("this is not a valid `{}` element of list `{}`", l.elem_type.text, l.name.text))
                .help(element_help(list.elem));
        }
      }
      if (list.values.empty() && ok && !list_file_failed_)
        sink_.report(Code::EmptyList, l.name.span, fmt::format("list `{}` is empty and matches nothing", l.name.text));
      lists_[list.name] = static_cast<std::uint32_t>(module_.lists.size());
      module_.lists.push_back(std::move(list));
    }
  }

  static std::string element_help(ir::ListElem e) {
    switch (e) {
      case ir::ListElem::Ip: return "an IP element is an IPv4 or IPv6 address, e.g. 51.89.156.153";
      case ir::ListElem::Cidr: return "a CIDR element is an address and a prefix, e.g. 10.0.0.0/8 or 2001:db8::/32";
      case ir::ListElem::Guid: return "a GUID element looks like 9188040d-6c67-4c5b-b112-36a304b66dad";
      case ir::ListElem::Long: return "a long element is an integer";
      case ir::ListElem::Real: return "a real element is a number";
      case ir::ListElem::String: return "a string element is a quoted string";
    }
    return "";
  }

  // Converts a literal to the list's element type, validating it.
  static std::optional<Value> coerce_element(const Value& v, ir::ListElem e) {
    switch (e) {
      case ir::ListElem::String:
        if (v.kind == LitKind::String || v.kind == LitKind::Guid || v.kind == LitKind::Ip) return Value::string(v.s);
        return std::nullopt;
      case ir::ListElem::Guid:
        if ((v.kind == LitKind::Guid || v.kind == LitKind::String) && literals::is_guid(v.s)) {
          Value x; x.kind = LitKind::Guid; x.s = v.s; return x;
        }
        return std::nullopt;
      case ir::ListElem::Ip: {
        if (v.kind != LitKind::Ip && v.kind != LitKind::String) return std::nullopt;
        auto ip = literals::parse_ip(v.s);
        if (!ip) return std::nullopt;
        Value x; x.kind = LitKind::Ip; x.s = *ip; return x;
      }
      case ir::ListElem::Cidr: {
        if (v.kind != LitKind::Cidr && v.kind != LitKind::String && v.kind != LitKind::Ip) return std::nullopt;
        std::string text = v.s;
        if (v.kind == LitKind::Ip || text.find('/') == std::string::npos) {
          // a plain address is its own /32 or /128
          bool v6 = false;
          auto ip = literals::parse_ip(text, &v6);
          if (!ip) return std::nullopt;
          text = *ip + (v6 ? "/128" : "/32");
        }
        auto c = literals::parse_cidr(text);
        if (!c) return std::nullopt;
        Value x; x.kind = LitKind::Cidr; x.s = fmt::format("{}/{}", c->address, c->prefix); x.prefix = c->prefix;
        return x;
      }
      case ir::ListElem::Long:
        if (v.kind == LitKind::Int) return v;
        if (v.kind == LitKind::String) {  // a line of a list file
          char* end = nullptr;
          errno = 0;
          long long x = std::strtoll(v.s.c_str(), &end, 10);
          if (!v.s.empty() && end && *end == '\0' && errno == 0) return Value::integer(x);
        }
        return std::nullopt;
      case ir::ListElem::Real:
        if (v.kind == LitKind::Real) return v;
        if (v.kind == LitKind::Int) return Value::real(static_cast<double>(v.i));
        if (v.kind == LitKind::String) {
          char* end = nullptr;
          double x = std::strtod(v.s.c_str(), &end);
          if (!v.s.empty() && end && *end == '\0' && std::isfinite(x)) return Value::real(x);
        }
        return std::nullopt;
    }
    return std::nullopt;
  }

  void load_list_file(const ast::ListDecl& l, ir::List& list, bool elem_ok) {
    const auto& decl_file = sm_.file(l.span.file);
    fs::path p = l.path;
    if (p.is_relative()) p = fs::path(decl_file.path()).parent_path() / p;
    std::string err;
    auto id = sm_.load(p.string(), &err);
    if (id == source::kNoFile) {
      sink_.report(Code::ListFileNotFound, l.path_span, fmt::format("cannot read list file `{}`: {}", p.string(), err))
          .note("a list file's path is relative to the file that declares the list");
      list_file_failed_ = true;
      return;
    }
    list.source_file = p.string();
    const auto& f = sm_.file(id);
    if (auto bad = source::first_invalid_utf8(f.text()); bad != std::string::npos) {
      sink_.report(Code::InvalidUtf8, Span{id, static_cast<std::uint32_t>(bad), static_cast<std::uint32_t>(bad + 1)},
                   "the list file is not valid UTF-8")
          .secondary(l.path_span, "list loaded here");
      list_file_failed_ = true;
      return;
    }
    for (std::uint32_t line = 1; line <= f.line_count(); ++line) {
      auto text = f.line_text(line);
      auto begin = text.find_first_not_of(" \t");
      if (begin == std::string_view::npos) continue;
      auto end = text.find_last_not_of(" \t");
      auto item = text.substr(begin, end - begin + 1);
      if (item.empty() || item[0] == '#') continue;
      // strip a trailing comment
      if (auto hash = item.find(" #"); hash != std::string_view::npos) {
        item = item.substr(0, hash);
        item = item.substr(0, item.find_last_not_of(" \t") + 1);
      }
      if (!elem_ok) continue;
      // IOC feeds often defang addresses: 51.89.156[.]153
      std::string value(item);
      for (auto pos = value.find("[.]"); pos != std::string::npos; pos = value.find("[.]")) value.replace(pos, 3, ".");
      if (auto nv = coerce_element(Value::string(value), list.elem)) {
        list.values.push_back(*nv);
      } else {
        auto line_start = static_cast<std::uint32_t>(f.line_text(line).data() - f.text().data());
        Span s{id, line_start + static_cast<std::uint32_t>(begin),
               line_start + static_cast<std::uint32_t>(begin + item.size())};
        sink_.report(Code::InvalidListElement, s,
                     fmt::format("line {} is not a valid `{}` element of list `{}`", line, list_elem_name(list.elem),
                                 list.name))
            .secondary(l.path_span, "list loaded here")
            .help(element_help(list.elem));
      }
    }
  }

  static const char* list_elem_name(ir::ListElem e) { return ir::list_elem_name(e); }
  bool list_file_failed_ = false;

  // ---------- rules ----------
  std::map<std::string, Span> rule_names_;
  std::set<std::uint32_t> duplicate_rules_, duplicate_rule_spans_;  // name offsets of second definitions
  void declare_rule_name(const ast::Rule& r) {
    if (auto it = rule_names_.find(r.name.text); it != rule_names_.end()) {
      duplicate_rules_.insert(r.name.span.begin);
      sink_.report(Code::DuplicateDefinition, r.name.span, fmt::format("rule `{}` is defined twice", r.name.text))
          .secondary(it->second, "first defined here");
      return;
    }
    rule_names_[r.name.text] = r.name.span;
  }

  std::map<std::string, Span> id_spans_;
  std::vector<std::tuple<std::string, Span, std::string>> ids_;  // id, span, rule
  void check_rule_ids() {
    std::unordered_map<std::string, std::pair<Span, std::string>> seen;  // lookups only: order is ids_'s
    seen.reserve(ids_.size());
    for (auto& [id, span, rule] : ids_) {
      auto lower = id;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      if (auto it = seen.find(lower); it != seen.end()) {
        sink_.report(Code::DuplicateRuleId, span,
                     fmt::format("rule `{}` has the same id as rule `{}`", rule, it->second.second))
            .secondary(it->second.first, "that id is first used here")
            .help("every rule needs its own id; delete the `id` line to get one derived from the rule's name");
      } else {
        seen[lower] = {span, rule};
      }
    }
  }

  // Expression context: which event a bare column name refers to, and what is allowed.
  struct Ctx {
    ir::Rule* rule = nullptr;
    std::optional<std::uint32_t> event;  // in a `where`: bare names are this event's columns
    bool allow_aggregates = false;       // threshold outcome
    const char* where_word = "here";
  };

  ir::Rule check_rule(const ast::Rule& r) {
    ir::Rule rule;
    rule.name = r.name.text;
    rule.span = r.name.span;
    check_meta(r, rule);
    check_events(r, rule);
    check_condition(r, rule);
    check_outcome(r, rule);
    check_entities(r, rule);
    check_schedule(r, rule);
    check_tests(r, rule);
    return rule;
  }

  void duplicate_clauses(const std::vector<Span>& spans, const char* what) {
    for (std::size_t i = 1; i < spans.size(); ++i)
      sink_.report(Code::DuplicateClause, spans[i], fmt::format("a rule has one `{}` block", what))
          .secondary(spans[0], "first one here")
          .help(fmt::format("merge the two `{}` blocks", what));
  }

  // ---------- meta ----------
  void check_meta(const ast::Rule& r, ir::Rule& rule) {
    duplicate_clauses(r.meta_spans, "meta");
    if (r.meta_spans.empty()) {
      sink_.report(Code::MissingMetaBlock, r.name.span, fmt::format("rule `{}` has no `meta` block", r.name.text))
          .help("add `meta { title = \"...\" description = \"...\" severity = medium }`");
    }
    // the keys given so far (a rule has a dozen: a vector beats a map)
    std::vector<std::pair<std::string_view, Span>> seen;
    seen.reserve(r.meta.size());
    auto find_seen = [&](std::string_view k) {
      return std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == k; });
    };
    auto& m = rule.meta;
    auto want_string = [&](const ast::MetaEntry& e, std::string& out) {
      if (e.value.kind == ast::MetaValue::Kind::Literal && e.value.value.kind == LitKind::String) {
        out = e.value.value.s;
        return true;
      }
      sink_.report(Code::MetadataKind, e.value.span, fmt::format("`{}` must be a string", e.key.text))
          .help(fmt::format("write {} = \"...\"", e.key.text));
      return false;
    };
    auto want_list = [&](const ast::MetaEntry& e, auto&& each) {
      if (e.value.kind == ast::MetaValue::Kind::List) {
        for (const auto& item : e.value.items) each(item);
      } else {
        each(e.value);
      }
    };
    auto item_text = [](const ast::MetaValue& v) {
      return v.kind == ast::MetaValue::Kind::Literal ? v.value.s : v.text;
    };
    for (const auto& e : r.meta) {
      const auto& ks = e.key.text;
      const std::string_view k = ks;  // compared with literals: by length first
      if (auto it = find_seen(k); it != seen.end()) {
        sink_.report(Code::DuplicateMetadata, e.key.span, fmt::format("metadata `{}` is given twice", k))
            .secondary(it->second, "first given here");
        continue;
      }
      seen.emplace_back(k, e.key.span);
      m.spans.emplace(ks, e.value.span);
      if (k == "title") want_string(e, m.title);
      else if (k == "alert_title") want_string(e, m.alert_title);
      else if (k == "alert_description") want_string(e, m.alert_description);
      else if (k == "description") want_string(e, m.description);
      else if (k == "author") want_string(e, m.author);
      else if (k == "version") want_string(e, m.version);
      else if (k == "created") want_string(e, m.created);
      else if (k == "modified") want_string(e, m.modified);
      else if (k == "id") {
        std::string id = e.value.kind == ast::MetaValue::Kind::Literal ? e.value.value.s : e.value.text;
        if (!literals::is_guid(id)) {
          sink_.report(Code::InvalidRuleId, e.value.span, "a rule id must be a GUID")
              .help(fmt::format("for example id = {} (derived from the rule's name); or omit `id` to use that",
                                derived_rule_id(r.name.text)));
        } else {
          std::transform(id.begin(), id.end(), id.begin(), [](unsigned char c) { return std::tolower(c); });
          m.id = id;
          m.id_explicit = true;
          ids_.emplace_back(id, e.value.span, r.name.text);
        }
      } else if (k == "severity") {
        static const std::map<std::string, ir::Severity> sev = {{"informational", ir::Severity::Informational},
                                                                 {"low", ir::Severity::Low},
                                                                 {"medium", ir::Severity::Medium},
                                                                 {"high", ir::Severity::High}};
        auto text = item_text(e.value);
        auto it = sev.find(text);
        if (it == sev.end()) {
          sink_.report(Code::InvalidSeverity, e.value.span, fmt::format("`{}` is not a severity", text))
              .help(diag::did_you_mean(text, {"informational", "low", "medium", "high"}))
              .note("severities are informational, low, medium and high (Sentinel's four)");
        } else {
          m.severity = it->second;
        }
      } else if (k == "status") {
        auto text = item_text(e.value);
        static const std::vector<std::string> ok = {"experimental", "test", "stable", "deprecated"};
        if (std::find(ok.begin(), ok.end(), text) == ok.end())
          sink_.report(Code::InvalidStatus, e.value.span, fmt::format("`{}` is not a rule status", text))
              .help(diag::did_you_mean(text, ok))
              .note("statuses are experimental, test, stable and deprecated");
        else
          m.status = text;
      } else if (k == "tactics") {
        want_list(e, [&](const ast::MetaValue& v) {
          auto t = item_text(v);
          if (std::find(kTactics.begin(), kTactics.end(), t) == kTactics.end())
            sink_.report(Code::InvalidTactic, v.span, fmt::format("`{}` is not an ATT&CK tactic Sentinel accepts", t))
                .help(diag::did_you_mean(t, kTactics))
                .note("tactics are written as Sentinel does: InitialAccess, CredentialAccess, Collection, ...");
          else
            m.tactics.push_back(t);
        });
      } else if (k == "techniques" || k == "attack") {
        want_list(e, [&](const ast::MetaValue& v) {
          auto t = item_text(v);
          if (!is_technique(t))
            sink_.report(Code::InvalidTechnique, v.span, fmt::format("`{}` is not an ATT&CK technique id", t))
                .help("technique ids look like T1550 or T1550.001");
          else
            m.techniques.push_back(t);
        });
      } else if (k == "tags" || k == "references" || k == "falsepositives") {
        auto& out = k == "tags" ? m.tags : k == "references" ? m.references : m.falsepositives;
        want_list(e, [&](const ast::MetaValue& v) {
          if (v.kind == ast::MetaValue::Kind::Literal && v.value.kind == LitKind::String) out.push_back(v.value.s);
          else
            sink_.report(Code::MetadataKind, v.span, fmt::format("`{}` holds strings", k))
                .help(fmt::format("write {} = [\"...\", \"...\"]", k));
        });
      } else {
        sink_.report(Code::UnknownMetadata, e.key.span, fmt::format("unknown metadata key `{}`", k))
            .help(diag::did_you_mean(ks, kMetaKeys));
      }
    }
    if (!r.meta_spans.empty()) {
      std::vector<std::string> missing;
      for (const char* req : {"title", "description", "severity"})
        if (find_seen(req) == seen.end()) missing.push_back(req);
      if (!missing.empty()) {
        std::string list;
        for (std::size_t i = 0; i < missing.size(); ++i) list += (i ? ", " : "") + fmt::format("`{}`", missing[i]);
        sink_.report(Code::MissingMetadata, r.meta_spans[0],
                     fmt::format("rule `{}` is missing required metadata: {}", r.name.text, list))
            .help("every rule needs a title, a description and a severity: Sentinel and Sigma both require them");
      }
    }
    if (m.id.empty()) m.id = derived_rule_id(r.name.text);
    // a second rule of the same name already has E0208; its derived id is no news
    if (!m.id_explicit && !duplicate_rule_spans_.count(r.name.span.begin)) ids_.emplace_back(m.id, r.name.span, r.name.text);
  }

  // ---------- events ----------
  void check_events(const ast::Rule& r, ir::Rule& rule) {
    duplicate_clauses(r.events_spans, "events");
    if (r.events.empty()) {
      sink_.report(Code::NoEvents, r.name.span, fmt::format("rule `{}` declares no events", r.name.text))
          .help("add `events { $e = TableName where ... }`");
    }
    std::map<std::string, Span> seen;
    rule.events.reserve(r.events.size());
    // Declare every variable first so that errors in one `where` don't hide another's.
    for (const auto& e : r.events) {
      ir::Event ev;
      ev.var = e.var.text;
      ev.span = e.span;
      if (auto it = seen.find(e.var.text); it != seen.end()) {
        sink_.report(Code::DuplicateEventVariable, e.var.span, fmt::format("event `${}` is declared twice", e.var.text))
            .secondary(it->second, "first declared here")
            .help("give each event its own name");
      }
      seen[e.var.text] = e.var.span;
      auto* t = module_.catalog.find(e.table.text);
      if (!t) {
        std::vector<std::string> names;
        for (const auto& tt : module_.catalog.tables) names.push_back(tt.name);
        auto b = sink_.report(Code::UnknownTable, e.table.span, fmt::format("unknown table `{}`", e.table.text));
        auto best = diag::closest(e.table.text, names);
        if (!best.empty()) b.help(fmt::format("did you mean `{}`?", best));
        static const std::set<std::string> sentinel = {"SigninLogs", "AADNonInteractiveUserSignInLogs",
                                                       "AADServicePrincipalSignInLogs", "OfficeActivity",
                                                       "CloudAppEvents", "MicrosoftGraphActivityLogs", "AuditLogs"};
        if (sentinel.count(e.table.text)) b.help("this Sentinel table is declared by `import sentinel`");
        else if (e.table.text == "AppTokenValidation_CL") b.help("this table is declared by `import token_validation`");
        ev.table = kNoTable;
      } else {
        ev.table = static_cast<std::uint32_t>(t - module_.catalog.tables.data());
      }
      rule.events.push_back(std::move(ev));
    }
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      if (!r.events[i].where || rule.events[i].table == kNoTable) continue;
      Ctx ctx{&rule, static_cast<std::uint32_t>(i), false, "in a `where`"};
      auto w = expr(*r.events[i].where, ctx);
      require_bool(*w, "the `where` of an event");
      rule.events[i].where = std::move(w);
    }
  }

  static constexpr std::uint32_t kNoTable = ~0u;

  void require_bool(const ir::Expr& e, const char* what) {
    if (e.type == Type::Bool || e.type == Type::Unknown) return;
    auto b = sink_.report(Code::NotBoolean, e.span, fmt::format("{} must be true or false, not a {}", what,
                                                                ir::type_name(e.type)));
    if (e.kind == ir::Expr::Kind::Column && e.type == Type::String) b.help("compare it: `... == \"value\"`, or test `exists(...)`");
    else if (e.type == Type::Dynamic) b.help("compare the dynamic value, e.g. `tostring(...) == \"value\"`");
  }

  // ---------- expressions ----------
  ir::ExprPtr make(ir::Expr::Kind k, Type t, Span s) {
    auto e = std::make_unique<ir::Expr>();
    e->kind = k;
    e->type = t;
    e->span = s;
    return e;
  }

  const ir::Table* table_of(const ir::Rule& rule, std::uint32_t ev) const {
    if (ev >= rule.events.size() || rule.events[ev].table == kNoTable) return nullptr;
    return &module_.catalog.tables[rule.events[ev].table];
  }

  std::optional<std::uint32_t> find_var(const ir::Rule& rule, const std::string& name) const {
    for (std::uint32_t i = 0; i < rule.events.size(); ++i)
      if (rule.events[i].var == name) return i;
    return std::nullopt;
  }

  void unknown_var(const ir::Rule& rule, const std::string& name, Span span) {
    std::vector<std::string> vars;
    for (const auto& e : rule.events) vars.push_back("$" + e.var);
    auto b = sink_.report(Code::UnknownEventVariable, span, fmt::format("unknown event `${}`", name));
    auto best = diag::closest("$" + name, vars);
    if (!best.empty()) b.help(fmt::format("did you mean `{}`?", best));
    else b.help("event variables are declared in the rule's `events` block");
  }

  ir::ExprPtr column_ref(ir::Rule& rule, std::uint32_t ev, const std::string& col, Span span, Span whole) {
    const auto* t = table_of(rule, ev);
    if (!t) return make(ir::Expr::Kind::Literal, Type::Unknown, whole);
    const auto* c = t->find(col);
    if (!c) {
      std::vector<std::string> names;
      for (const auto& cc : t->columns) names.push_back(cc.name);
      sink_.report(Code::UnknownColumn, span, fmt::format("unknown column '{}' in table '{}'", col, t->name))
          .help(diag::did_you_mean(col, names));
      return make(ir::Expr::Kind::Literal, Type::Unknown, whole);
    }
    return column_expr(ev, *t, *c, whole);
  }
  ir::ExprPtr column_expr(std::uint32_t ev, const ir::Table& t, const ir::Column& c, Span whole) {
    auto e = make(ir::Expr::Kind::Column, c.type, whole);
    e->var = ev;
    e->column = static_cast<std::uint32_t>(&c - t.columns.data());
    return e;
  }

  // Whether a column's name is also a constant's or a list's (NameShadowsColumn):
  // one flag per column, computed per table when first asked (every constant and list
  // is declared before any rule is checked).
  std::vector<std::vector<bool>> shadowed_;  // [table][column]
  bool shadowed(const ir::Table& t, const ir::Column& c) {
    if (consts_.empty() && lists_.empty()) return false;
    auto ti = static_cast<std::size_t>(&t - module_.catalog.tables.data());
    if (shadowed_.size() <= ti) shadowed_.resize(module_.catalog.tables.size());
    auto& flags = shadowed_[ti];
    if (flags.empty()) {
      flags.assign(t.columns.size() + 1, false);  // the extra flag marks the table as done
      for (const auto& [n, _] : consts_)
        if (const auto* cc = t.find(n)) flags[static_cast<std::size_t>(cc - t.columns.data())] = true;
      for (const auto& [n, _] : lists_)
        if (const auto* cc = t.find(n)) flags[static_cast<std::size_t>(cc - t.columns.data())] = true;
    }
    return flags[static_cast<std::size_t>(&c - t.columns.data())];
  }

  ir::ExprPtr expr(const ast::Expr& a, Ctx& ctx) {
    using K = ast::Expr::Kind;
    switch (a.kind) {
      case K::Literal: {
        auto e = make(ir::Expr::Kind::Literal, literal_type(a.value), a.span);
        e->value = a.value;
        if (a.value.kind == LitKind::Cidr) e->type = Type::String;
        return e;
      }
      case K::Name: return name_expr(a, ctx);
      case K::Var: {
        if (!find_var(*ctx.rule, a.name)) unknown_var(*ctx.rule, a.name, a.span);
        else
          sink_.report(Code::NotAValue, a.span, fmt::format("`${}` is a whole event, not a value", a.name))
              .help(fmt::format("read one of its columns: `${}.ColumnName`", a.name));
        return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      }
      case K::Member: return member_expr(a, ctx);
      case K::Index: {
        auto base = expr(*a.args[0], ctx);
        auto idx = expr(*a.args[1], ctx);
        if (base->type != Type::Dynamic && base->type != Type::Unknown) {
          member_of_non_dynamic(*base, a.span, "[...]");
          return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
        }
        if (idx->type != Type::Long && idx->type != Type::String && idx->type != Type::Unknown)
          sink_.report(Code::WrongArgumentType, idx->span, "an index is an integer or a string key");
        auto e = make(ir::Expr::Kind::Index, Type::Dynamic, a.span);
        e->args.reserve(2);
        e->args.push_back(std::move(base));
        e->args.push_back(std::move(idx));
        return e;
      }
      case K::Call: return call_expr(a, ctx);
      case K::Unary: {
        auto x = expr(*a.args[0], ctx);
        auto e = make(ir::Expr::Kind::Unary, Type::Unknown, a.span);
        e->op = a.op;
        if (a.op == ast::Op::Not) {
          require_bool(*x, "the operand of `not`");
          e->type = Type::Bool;
        } else {
          if (x->type != Type::Unknown && !ir::is_numeric(x->type) && x->type != Type::Timespan)
            sink_.report(Code::OperatorNotApplicable, a.op_span,
                         fmt::format("`-` does not apply to a {}", ir::type_name(x->type)));
          else
            e->type = x->type;
        }
        e->args.push_back(std::move(x));
        return e;
      }
      case K::Binary: return binary_expr(a, ctx);
      case K::List: {
        auto e = make(ir::Expr::Kind::ListLit, Type::Dynamic, a.span);
        e->args.reserve(a.args.size());
        for (const auto& item : a.args) {
          auto x = expr(*item, ctx);
          if (x->kind != ir::Expr::Kind::Literal)
            sink_.report(Code::NotConstant, x->span, "elements of an inline list must be literals or constants");
          e->args.push_back(std::move(x));
        }
        return e;
      }
    }
    return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
  }

  ir::ExprPtr name_expr(const ast::Expr& a, Ctx& ctx) {
    if (ctx.event) {
      const auto* t = table_of(*ctx.rule, *ctx.event);
      if (const auto* c = t ? t->find(a.name) : nullptr) {
        if (shadowed(*t, *c))
          sink_.report(Code::NameShadowsColumn, a.span,
                       fmt::format("`{}` is both a column of `{}` and a constant or list; the column is used", a.name,
                                   t->name));
        return column_expr(*ctx.event, *t, *c, a.span);
      }
    }
    if (auto it = consts_.find(a.name); it != consts_.end()) {
      auto e = make(ir::Expr::Kind::Literal, it->second.type, a.span);
      e->value = it->second.value;
      return e;
    }
    if (auto it = lists_.find(a.name); it != lists_.end()) {
      auto e = make(ir::Expr::Kind::ListRef, Type::Dynamic, a.span);
      e->list = it->second;
      return e;
    }
    if (module_.catalog.find(a.name)) {
      sink_.report(Code::NotAValue, a.span, fmt::format("`{}` is a table, not a value", a.name))
          .help("events of a table are declared in `events { $e = Table where ... }`");
      return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
    }
    std::vector<std::string> names;
    if (ctx.event)
      if (const auto* t = table_of(*ctx.rule, *ctx.event))
        for (const auto& c : t->columns) names.push_back(c.name);
    for (const auto& [n, _] : consts_) names.push_back(n);
    for (const auto& [n, _] : lists_) names.push_back(n);
    if (ctx.event) {
      const auto* t = table_of(*ctx.rule, *ctx.event);
      if (!t) return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      sink_.report(Code::UnknownColumn, a.span, fmt::format("unknown column '{}' in table '{}'", a.name, t->name))
          .help(diag::did_you_mean(a.name, names));
    } else {
      auto b = sink_.report(Code::UnknownName, a.span, fmt::format("`{}` is not a constant or a list", a.name));
      auto best = diag::closest(a.name, names);
      if (!best.empty()) b.help(fmt::format("did you mean `{}`?", best));
      else if (!ctx.rule->events.empty())
        b.help(fmt::format("outside `where`, name a column with its event: `${}.{}`", ctx.rule->events[0].var, a.name));
    }
    return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
  }

  void member_of_non_dynamic(const ir::Expr& base, Span span, const std::string& what) {
    auto b = sink_.report(Code::MemberOfNonDynamic, span,
                          fmt::format("`{}` needs a dynamic value, but this is a {}", what, ir::type_name(base.type)));
    if (base.type == Type::String)
      b.help("if the column holds JSON text, parse it first: `parse_json(Column).field`")
          .note("several sign-in tables store JSON in string columns (e.g. AADNonInteractiveUserSignInLogs.LocationDetails)");
  }

  ir::ExprPtr member_expr(const ast::Expr& a, Ctx& ctx) {
    const auto& base = *a.args[0];
    if (base.kind == ast::Expr::Kind::Var) {
      auto v = find_var(*ctx.rule, base.name);
      if (!v) {
        unknown_var(*ctx.rule, base.name, base.span);
        return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      }
      if (ctx.event && *v != *ctx.event) {
        // `$other.Col` inside another event's `where`: correlation belongs in the condition
        sink_.report(Code::UnknownEventVariable, base.span,
                     fmt::format("`${}` cannot be read in the `where` of `${}`", base.name,
                                 ctx.rule->events[*ctx.event].var))
            .help("relate two events with `by` keys in the condition");
        return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      }
      return column_ref(*ctx.rule, *v, a.name, a.name_span, a.span);
    }
    auto b = expr(base, ctx);
    if (b->type != Type::Dynamic && b->type != Type::Unknown) {
      member_of_non_dynamic(*b, a.span, "." + a.name);
      return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
    }
    auto e = make(ir::Expr::Kind::Member, b->type == Type::Unknown ? Type::Unknown : Type::Dynamic, a.span);
    e->member = a.name;
    e->args.push_back(std::move(b));
    return e;
  }

  ir::ExprPtr call_expr(const ast::Expr& a, Ctx& ctx) {
    if (a.name == "count" || a.name == "dcount" || a.name == "sum") {
      if (!ctx.allow_aggregates) {
        sink_.report(Code::AggregateOutsideThreshold, a.span, fmt::format("`{}` is an aggregate", a.name))
            .help("aggregates belong in a threshold condition or in a threshold rule's outcome");
        return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      }
      return aggregate_expr(a, ctx);
    }
    const FnInfo* f = nullptr;
    for (const auto& fi : functions())
      if (a.name == ward_fn_name(fi)) f = &fi;  // the last of equal names, as before
    if (!f) {
      std::vector<std::string> names;
      for (const auto& fi : functions()) names.emplace_back(ward_fn_name(fi));
      sink_.report(Code::UnknownFunction, a.name_span, fmt::format("unknown function `{}`", a.name))
          .help(diag::did_you_mean(a.name, names));
      for (const auto& arg : a.args) expr(*arg, ctx);  // still check the arguments
      return make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
    }
    auto e = make(ir::Expr::Kind::Call, f->ret, a.span);
    e->fn = f->fn;
    e->args.reserve(a.args.size());
    for (const auto& arg : a.args) e->args.push_back(expr(*arg, ctx));
    if (e->args.size() != f->params.size()) {
      sink_.report(Code::WrongArgumentCount, a.span,
                   fmt::format("`{}` takes {} argument{}, not {}", a.name, f->params.size(),
                               f->params.size() == 1 ? "" : "s", e->args.size()));
      return e;
    }
    for (std::size_t i = 0; i < f->params.size(); ++i)
      if (!param_accepts(f->params[i], e->args[i]->type))
        sink_.report(Code::WrongArgumentType, e->args[i]->span,
                     fmt::format("`{}` expects {} here, not a {}", a.name, param_word(f->params[i]),
                                 ir::type_name(e->args[i]->type)))
            .help(e->args[i]->type == Type::Dynamic && f->params[i] == Param::Str ? "convert it first: `tostring(...)`"
                                                                                 : "");
    return e;
  }

  ir::ExprPtr aggregate_expr(const ast::Expr& a, Ctx& ctx) {
    auto e = make(ir::Expr::Kind::Aggregate, Type::Long, a.span);
    if (a.name == "count") {
      e->value = Value::integer(static_cast<int>(ir::Agg::Count));
      if (a.args.size() != 1 || a.args[0]->kind != ast::Expr::Kind::Var) {
        sink_.report(Code::WrongArgumentCount, a.span, "`count` takes one event: `count($e)`");
        return e;
      }
      auto v = find_var(*ctx.rule, a.args[0]->name);
      if (!v) unknown_var(*ctx.rule, a.args[0]->name, a.args[0]->span);
      else e->var = *v;
      return e;
    }
    e->value = Value::integer(static_cast<int>(a.name == "dcount" ? ir::Agg::DCount : ir::Agg::Sum));
    if (a.args.size() != 1) {
      sink_.report(Code::WrongArgumentCount, a.span, fmt::format("`{}` takes one value", a.name));
      return e;
    }
    Ctx inner = ctx;
    inner.allow_aggregates = false;
    auto x = expr(*a.args[0], inner);
    if (a.name == "dcount" && x->type == Type::Dynamic)
      sink_.report(Code::AggregateOfDynamic, x->span, "`dcount` of a dynamic value is not defined")
          .help("convert it first: `dcount(tostring(...))`");
    if (a.name == "sum") {
      if (x->type == Type::Dynamic)
        sink_.report(Code::AggregateOfDynamic, x->span, "`sum` of a dynamic value is not defined")
            .help("convert it first: `sum(tolong(...))`");
      else if (x->type != Type::Unknown && !ir::is_numeric(x->type))
        sink_.report(Code::SumOfNonNumeric, x->span, fmt::format("`sum` of a {} is not defined", ir::type_name(x->type)));
      else if (x->type == Type::Real) e->type = Type::Real;
    }
    e->args.push_back(std::move(x));
    return e;
  }

  static bool comparable(Type a, Type b) {
    if (a == Type::Unknown || b == Type::Unknown) return true;
    if (a == Type::Dynamic || b == Type::Dynamic) return true;
    if (ir::is_numeric(a) && ir::is_numeric(b)) return true;
    auto stringish = [](Type t) { return t == Type::String || t == Type::Guid; };
    if (stringish(a) && stringish(b)) return true;
    return a == b;
  }

  // A list is only a value on the right of `in`/`in cidr`; anywhere else it is an error
  // (KQL would compare a string with an array and silently never match).
  bool list_as_value(const ir::Expr& x, ast::Op op) {
    if (x.kind != ir::Expr::Kind::ListRef && x.kind != ir::Expr::Kind::ListLit) return false;
    auto b = sink_.report(Code::NotAValue, x.span,
                          x.kind == ir::Expr::Kind::ListRef
                              ? fmt::format("list `{}` is not a single value", module_.lists[x.list].name)
                              : std::string("an inline list is not a single value"));
    if (op == ast::Op::Eq || op == ast::Op::EqCi) b.help(fmt::format("test membership with `{} ...`", op == ast::Op::Eq ? "in" : "in~"));
    else if (op == ast::Op::Ne || op == ast::Op::NeCi) b.help(fmt::format("test membership with `{} ...`", op == ast::Op::Ne ? "!in" : "!in~"));
    return true;
  }

  ir::ExprPtr binary_expr(const ast::Expr& a, Ctx& ctx) {
    using ast::Op;
    auto l = expr(*a.args[0], ctx);
    auto r = expr(*a.args[1], ctx);
    bool membership = a.op == Op::In || a.op == Op::NotIn || a.op == Op::InCi || a.op == Op::NotInCi ||
                      a.op == Op::InCidr || a.op == Op::NotInCidr;
    // Both sides are checked (and reported) before deciding.
    bool left_list = list_as_value(*l, a.op);
    bool right_list = !membership && list_as_value(*r, a.op);
    if (left_list || right_list) {
      auto e = make(ir::Expr::Kind::Literal, Type::Unknown, a.span);
      return e;
    }
    auto e = make(ir::Expr::Kind::Binary, Type::Bool, a.span);
    e->op = a.op;
    auto lt = l->type, rt = r->type;
    auto unknown = lt == Type::Unknown || rt == Type::Unknown;
    auto stringish = [](Type t) { return t == Type::String || t == Type::Guid || t == Type::Dynamic || t == Type::Unknown; };
    switch (a.op) {
      case Op::And:
      case Op::Or:
        // (the context is formatted only for a side that require_bool will report)
        if (l->type != Type::Bool && l->type != Type::Unknown)
          require_bool(*l, fmt::format("the left side of `{}`", ast::op_spelling(a.op)).c_str());
        if (r->type != Type::Bool && r->type != Type::Unknown)
          require_bool(*r, fmt::format("the right side of `{}`", ast::op_spelling(a.op)).c_str());
        break;
      case Op::Eq:
      case Op::Ne:
      case Op::Lt:
      case Op::Le:
      case Op::Gt:
      case Op::Ge: {
        if (!comparable(lt, rt)) {
          auto b = sink_.report(Code::TypeMismatch, a.span,
                                fmt::format("cannot compare a {} with a {}", ir::type_name(lt), ir::type_name(rt)));
          b.secondary(l->span, fmt::format("this is a {}", ir::type_name(lt)));
          b.secondary(r->span, fmt::format("this is a {}", ir::type_name(rt)));
          if ((lt == Type::Datetime && rt == Type::String) || (rt == Type::Datetime && lt == Type::String))
            b.help("write a datetime literal without quotes, e.g. 2023-05-15 or 2023-05-15T00:00:00Z");
          else if ((lt == Type::Timespan && rt == Type::String) || (rt == Type::Timespan && lt == Type::String))
            b.help("write a duration literal without quotes, e.g. 30m or 1h");
          else if (ir::is_numeric(lt) && rt == Type::String)
            b.help("remove the quotes to compare numbers");
          else if (lt == Type::String && ir::is_numeric(rt))
            b.help("this column is a string: quote the value, e.g. \"0\"");
        } else if ((a.op == Op::Eq || a.op == Op::Ne) && (lt == Type::Guid || rt == Type::Guid)) {
          // GUIDs are case-insensitive by definition (logs write them either way)
          e->op = a.op == Op::Eq ? Op::EqCi : Op::NeCi;
        } else if (a.op != Op::Eq && a.op != Op::Ne && !unknown) {
          bool ordered = (ir::is_numeric(lt) || lt == Type::Dynamic) && (ir::is_numeric(rt) || rt == Type::Dynamic);
          ordered = ordered || ((lt == Type::Datetime || lt == Type::Timespan) && lt == rt);
          ordered = ordered || (lt == Type::Dynamic && (rt == Type::Datetime || rt == Type::Timespan));
          ordered = ordered || (rt == Type::Dynamic && (lt == Type::Datetime || lt == Type::Timespan));
          if (!ordered)
            sink_.report(Code::OperatorNotApplicable, a.op_span,
                         fmt::format("`{}` does not order {} values", ast::op_spelling(a.op), ir::type_name(lt)))
                .help("`<`, `<=`, `>`, `>=` compare numbers, datetimes and timespans");
        }
        // A dynamic value meets a datetime or timespan as that type (semantics §6.3): the
        // conversion is made explicit here, so every backend compares converted values.
        if (lt == Type::Dynamic && (rt == Type::Datetime || rt == Type::Timespan)) l = convert(std::move(l), rt);
        else if (rt == Type::Dynamic && (lt == Type::Datetime || lt == Type::Timespan)) r = convert(std::move(r), lt);
        if (e->op == Op::Eq || e->op == Op::Ne) warn_typed_dynamic_text(*l, *r);
        break;
      }
      case Op::EqCi:
      case Op::NeCi:
      case Op::Contains:
      case Op::NotContains:
      case Op::StartsWith:
      case Op::NotStartsWith:
      case Op::EndsWith:
      case Op::NotEndsWith:
      case Op::Has:
      case Op::NotHas:
      case Op::Regex: {
        if (!stringish(lt))
          sink_.report(Code::OperatorNotApplicable, a.op_span,
                       fmt::format("`{}` applies to strings, not to a {}", ast::op_spelling(a.op), ir::type_name(lt)))
              .secondary(l->span, fmt::format("this is a {}", ir::type_name(lt)))
              .help(ir::is_numeric(lt) || lt == Type::Datetime ? "compare with `==`, or convert with `tostring(...)`"
                                                               : "");
        else if (!stringish(rt))
          sink_.report(Code::TypeMismatch, r->span,
                       fmt::format("`{}` needs a string on its right, not a {}", ast::op_spelling(a.op),
                                   ir::type_name(rt)));
        if (a.op == Op::Regex) check_regex(*r);
        else warn_non_ascii_fold(*r, a);
        if (a.op == Op::EqCi || a.op == Op::NeCi) warn_typed_dynamic_text(*l, *r);
        if (a.op == Op::Contains || a.op == Op::NotContains)
          sink_.report(Code::ContainsScans, a.op_span,
                       fmt::format("`{}` reads every row's whole value; Sentinel flags it as slow (KS500)",
                                   ast::op_spelling(a.op)))
              .help("if you mean a whole word or term, `has` uses the term index and is much faster");
        break;
      }
      case Op::In:
      case Op::NotIn:
      case Op::InCi:
      case Op::NotInCi:
        check_in(*l, *r, a);
        if (guid_list(*r)) e->op = a.op == Op::In ? Op::InCi : a.op == Op::NotIn ? Op::NotInCi : a.op;
        if (a.op == Op::InCi || a.op == Op::NotInCi) warn_non_ascii_fold(*r, a);
        break;
      case Op::InCidr:
      case Op::NotInCidr: check_cidr(*l, r, a); break;
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
      case Op::Div:
      case Op::Mod: e->type = arithmetic(a, lt, rt); break;
      case Op::Not:
      case Op::Neg: break;
    }
    e->args.reserve(2);  // one allocation, not two
    e->args.push_back(std::move(l));
    e->args.push_back(std::move(r));
    return e;
  }

  // `tostring(d) OP "..."` or `convert`: a dynamic operand made a `datetime` or `timespan`.
  ir::ExprPtr convert(ir::ExprPtr x, Type to) {
    auto c = make(ir::Expr::Kind::Call, to, x->span);
    c->fn = to == Type::Datetime ? ir::Fn::ToDatetime : ir::Fn::ToTimespan;
    c->args.push_back(std::move(x));
    return c;
  }

  // Case-insensitive operators fold ASCII letters only (semantics §4.2): a literal with
  // other characters matches only their exact case, which is rarely what was meant.
  void warn_non_ascii_fold(const ir::Expr& r, const ast::Expr& a) {
    auto non_ascii = [](const ir::Expr& x) {
      if (x.kind != ir::Expr::Kind::Literal || x.value.kind != LitKind::String) return false;
      return std::any_of(x.value.s.begin(), x.value.s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    };
    const ir::Expr* hit = nullptr;
    if (non_ascii(r)) hit = &r;
    for (const auto& x : r.args)
      if (!hit && r.kind == ir::Expr::Kind::ListLit && non_ascii(*x)) hit = x.get();
    if (r.kind == ir::Expr::Kind::ListRef)
      for (const auto& v : module_.lists[r.list].values)
        if (!hit && v.kind == LitKind::String &&
            std::any_of(v.s.begin(), v.s.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
          hit = &r;
    if (!hit) return;
    sink_.report(Code::NonAsciiCaseFold, hit->span,
                 fmt::format("`{}` ignores the case of ASCII letters only; the non-ASCII letters here must match "
                             "exactly",
                             ast::op_spelling(a.op)))
        .note("Kusto documents its case-insensitive operators as folding ASCII only, and Ward's VM does the same")
        .help("to ignore case beyond ASCII, compare `tolower(...)` of both sides with `==`");
  }

  // `tostring(d.x) == "2023-05-15T08:30:00Z"`: Kusto may hold such a string inside a
  // dynamic value as a typed datetime or GUID, and tostring() then gives its own text.
  void warn_typed_dynamic_text(const ir::Expr& l, const ir::Expr& r) {
    auto text_of_dynamic = [](const ir::Expr& x) {
      return x.kind == ir::Expr::Kind::Call && x.fn == ir::Fn::ToString && !x.args.empty() &&
             x.args[0]->type == Type::Dynamic;
    };
    const ir::Expr* lit = text_of_dynamic(l) ? &r : text_of_dynamic(r) ? &l : nullptr;
    if (!lit || lit->kind != ir::Expr::Kind::Literal || lit->value.kind != LitKind::String) return;
    const auto& s = lit->value.s;
    bool datetime_like = s.size() >= 10 && std::isdigit(static_cast<unsigned char>(s[0])) && s[4] == '-' && s[7] == '-';
    if (!datetime_like && !literals::is_guid(s)) return;
    sink_.report(Code::TypedDynamicText, lit->span,
                 fmt::format("comparing the text of a dynamic value with what looks like a {}",
                             datetime_like ? "datetime" : "GUID"))
        .note("Kusto may store such a value inside a dynamic column as a typed datetime or guid, and tostring() "
              "then writes Kusto's own text for it, not the text that was ingested")
        .help(datetime_like ? "compare datetimes: `todatetime(...) == 2023-05-15T08:30:00Z`"
                            : "compare GUIDs: `tostring(...) == 9188040d-6c67-4c5b-b112-36a304b66dad` (unquoted)");
  }

  // A list of GUIDs: membership is case-insensitive, like GUID equality.
  bool guid_list(const ir::Expr& r) const {
    if (r.kind == ir::Expr::Kind::ListRef) return module_.lists[r.list].elem == ir::ListElem::Guid;
    if (r.kind != ir::Expr::Kind::ListLit || r.args.empty()) return false;
    for (const auto& x : r.args)
      if (x->type != Type::Guid) return false;
    return true;
  }

  Type arithmetic(const ast::Expr& a, Type l, Type r) {
    using ast::Op;
    if (l == Type::Unknown || r == Type::Unknown) return Type::Unknown;
    if (l == Type::Dynamic || r == Type::Dynamic) return Type::Dynamic;
    auto widest = [](Type x, Type y) {
      if (x == Type::Real || y == Type::Real) return Type::Real;
      if (x == Type::Long || y == Type::Long) return Type::Long;
      return Type::Int;
    };
    bool nl = ir::is_numeric(l), nr = ir::is_numeric(r);
    switch (a.op) {
      case Op::Add:
        if (nl && nr) return widest(l, r);
        if (l == Type::Datetime && r == Type::Timespan) return Type::Datetime;
        if (l == Type::Timespan && r == Type::Datetime) return Type::Datetime;
        if (l == Type::Timespan && r == Type::Timespan) return Type::Timespan;
        break;
      case Op::Sub:
        if (nl && nr) return widest(l, r);
        if (l == Type::Datetime && r == Type::Timespan) return Type::Datetime;
        if (l == Type::Datetime && r == Type::Datetime) return Type::Timespan;
        if (l == Type::Timespan && r == Type::Timespan) return Type::Timespan;
        break;
      case Op::Mul:
        if (nl && nr) return widest(l, r);
        if ((l == Type::Timespan && nr) || (nl && r == Type::Timespan)) return Type::Timespan;
        break;
      case Op::Div:
        if (nl && nr) return widest(l, r);
        if (l == Type::Timespan && nr) return Type::Timespan;
        if (l == Type::Timespan && r == Type::Timespan) return Type::Real;
        break;
      case Op::Mod:
        if (nl && nr) return widest(l, r);
        break;
      default: break;
    }
    auto b = sink_.report(Code::ArithmeticTypeError, a.op_span,
                          fmt::format("`{}` does not combine a {} and a {}", ast::op_spelling(a.op), ir::type_name(l),
                                      ir::type_name(r)));
    if (l == Type::Datetime && r == Type::Long) b.help("add a duration, e.g. `TimeGenerated + 1h`");
    return Type::Unknown;
  }

  struct RegexVerdict {
    bool ok = true;
    std::string error;
    RE2::ErrorCode code = RE2::NoError;
  };
  std::unordered_map<std::string, RegexVerdict> regex_verdicts_;  // pattern -> does RE2 compile it

  void check_regex(const ir::Expr& r) {
    if (r.kind != ir::Expr::Kind::Literal || r.value.kind != LitKind::String) {
      if (r.type != Type::Unknown)
        sink_.report(Code::InvalidRegex, r.span, "a regular expression must be a string literal or constant");
      return;
    }
    // KQL's engine is RE2, and so is the VM's: a pattern is valid iff RE2 compiles it.
    // Each distinct pattern is compiled once per compilation (libraries repeat patterns).
    auto [it, fresh] = regex_verdicts_.try_emplace(r.value.s);
    auto& verdict = it->second;
    if (fresh) {
      RE2::Options opts;
      opts.set_log_errors(false);
      RE2 re(r.value.s, opts);
      verdict.ok = re.ok();
      if (!verdict.ok) {
        verdict.error = re.error();
        verdict.code = re.error_code();
      }
    }
    if (!verdict.ok) {
      auto b = sink_.report(Code::InvalidRegex, r.span,
                            fmt::format("this regular expression does not compile in RE2, the regex engine of KQL: {}",
                                        verdict.error));
      if (verdict.code == RE2::ErrorBadPerlOp || verdict.code == RE2::ErrorBadEscape)
        b.note("RE2 has no lookahead, lookbehind or backreferences");
      b.help("write regexes as raw strings r\"...\" so backslashes stay as written");
    }
  }

  void check_in(const ir::Expr& l, const ir::Expr& r, const ast::Expr& a) {
    using ast::Op;
    bool ci = a.op == Op::InCi || a.op == Op::NotInCi;
    if (r.kind != ir::Expr::Kind::ListRef && r.kind != ir::Expr::Kind::ListLit) {
      if (r.type != Type::Unknown)
        sink_.report(Code::InOperandNotList, r.span,
                     fmt::format("the right side of `{}` must be a list", ast::op_spelling(a.op)))
            .help("write an inline list [\"a\", \"b\"] or the name of a `list`");
      return;
    }
    if (l.type == Type::Unknown) return;
    if (ci && !(l.type == Type::String || l.type == Type::Guid || l.type == Type::Dynamic)) {
      sink_.report(Code::OperatorNotApplicable, a.op_span,
                   fmt::format("`{}` compares strings, not a {}", ast::op_spelling(a.op), ir::type_name(l.type)));
      return;
    }
    auto elem_ok = [&](Type elem) { return comparable(l.type, elem); };
    if (r.kind == ir::Expr::Kind::ListRef) {
      const auto& list = module_.lists[r.list];
      Type elem = list.elem == ir::ListElem::Long   ? Type::Long
                  : list.elem == ir::ListElem::Real ? Type::Real
                                                    : Type::String;
      if (list.elem == ir::ListElem::Cidr) {
        sink_.report(Code::ListElementMismatch, r.span,
                     fmt::format("`{}` is a list of CIDR ranges; `in` would compare addresses with ranges", list.name))
            .help(fmt::format("test membership in the ranges with `in cidr {}`", list.name));
        return;
      }
      if (!elem_ok(elem))
        sink_.report(Code::ListElementMismatch, r.span,
                     fmt::format("list `{}` holds {} elements, but the value tested is a {}", list.name,
                                 ir::list_elem_name(list.elem), ir::type_name(l.type)))
            .secondary(list.span, "list declared here");
      return;
    }
    for (const auto& item : r.args)
      if (!elem_ok(item->type))
        sink_.report(Code::ListElementMismatch, item->span,
                     fmt::format("this element is a {}, but the value tested is a {}", ir::type_name(item->type),
                                 ir::type_name(l.type)));
  }

  void check_cidr(const ir::Expr& l, ir::ExprPtr& r, const ast::Expr& a) {
    if (l.type != Type::Unknown && l.type != Type::String && l.type != Type::Dynamic) {
      sink_.report(Code::CidrOfNonString, l.span,
                   fmt::format("`in cidr` tests an IP address string, not a {}", ir::type_name(l.type)));
    }
    if (r->kind == ir::Expr::Kind::ListRef) {
      const auto& list = module_.lists[r->list];
      if (list.elem != ir::ListElem::Cidr && list.elem != ir::ListElem::Ip)
        sink_.report(Code::ListElementMismatch, r->span,
                     fmt::format("`in cidr` needs a list of cidr ranges, but `{}` holds {} elements", list.name,
                                 ir::list_elem_name(list.elem)))
            .secondary(list.span, "list declared here");
      return;
    }
    auto check_one = [&](ir::Expr& x) {
      if (x.kind == ir::Expr::Kind::Literal && (x.value.kind == LitKind::Cidr || x.value.kind == LitKind::String ||
                                               x.value.kind == LitKind::Ip)) {
        if (auto v = coerce_element(x.value, ir::ListElem::Cidr)) {
          x.value = *v;
          return;
        }
      }
      if (x.type != Type::Unknown)
        sink_.report(Code::InvalidListElement, x.span, "this is not a CIDR range")
            .help(element_help(ir::ListElem::Cidr));
    };
    if (r->kind == ir::Expr::Kind::ListLit) {
      for (auto& item : r->args) check_one(*item);
      return;
    }
    // a single range: wrap it in an inline list
    check_one(*r);
    auto list = make(ir::Expr::Kind::ListLit, Type::Dynamic, r->span);
    list->args.push_back(std::move(r));
    r = std::move(list);
    (void)a;
  }

  // ---------- condition ----------
  void check_condition(const ast::Rule& r, ir::Rule& rule) {
    auto& c = rule.corr;
    for (std::size_t i = 1; i < r.conditions.size(); ++i)
      sink_.report(Code::DuplicateClause, r.conditions[i].span, "a rule has one `condition`")
          .secondary(r.conditions[0].span, "first one here");
    if (r.conditions.empty()) {
      if (rule.events.size() > 1) {
        sink_.report(Code::MissingCondition, r.name.span,
                     fmt::format("rule `{}` has {} events but no condition relating them", r.name.text,
                                 rule.events.size()))
            .help("add e.g. `condition $a and not $b by $a.UserId = $b.UserPrincipalName within 1d`");
      }
      c.kind = ir::CorrKind::Single;
      c.order = {0};
      c.span = r.name.span;
      return;
    }
    const auto& a = r.conditions[0];
    c.span = a.span;
    std::set<std::string> seen_vars;
    for (const auto& v : a.vars) {
      auto idx = find_var(rule, v.text);
      if (!idx) {
        unknown_var(rule, v.text, v.span);
        continue;
      }
      if (!seen_vars.insert(v.text).second)
        sink_.report(Code::VariableRepeated, v.span, fmt::format("`${}` appears twice in the condition", v.text))
            .help("declare a second event for the second occurrence");
      c.order.push_back(*idx);
    }
    using CK = ast::Condition::Kind;
    switch (a.kind) {
      case CK::Single: c.kind = ir::CorrKind::Single; break;
      case CK::Threshold: c.kind = ir::CorrKind::Threshold; break;
      case CK::Sequence: c.kind = ir::CorrKind::Sequence; break;
      case CK::Join: c.kind = ir::CorrKind::Join; break;
      case CK::Absence: c.kind = ir::CorrKind::Absence; break;
      case CK::BareAbsence:
        sink_.report(Code::UnboundedAbsence, a.span,
                     fmt::format("absence of `${}` with no event to anchor it", a.vars.empty() ? "" : a.vars[0].text))
            .label("nothing says when or for whom the event should have happened")
            .help("anchor the absence on an event that did happen: `condition $seen and not $missing by ... within ...`");
        return;
    }
    if (a.kind == CK::Threshold) threshold(a, rule);
    if (a.kind == CK::Sequence && a.vars.size() > 5)
      sink_.report(Code::TooManySteps, a.span, fmt::format("a sequence has at most 5 steps, not {}", a.vars.size()));
    // unused events (not when the condition names a variable that does not exist:
    // that error already says what is wrong)
    bool names_ok = true;
    for (const auto& v : a.vars)
      if (!find_var(rule, v.text)) names_ok = false;
    std::set<std::string> declared;
    for (const auto& ev : r.events)
      if (!declared.insert(ev.var.text).second) names_ok = false;
    for (std::uint32_t i = 0; i < rule.events.size() && names_ok; ++i) {
      bool used = std::find(c.order.begin(), c.order.end(), i) != c.order.end();
      if (!used && !(a.kind == CK::Threshold && c.order.empty()))
        sink_.report(Code::UnusedEventVariable, r.events[i].var.span,
                     fmt::format("event `${}` is declared but the condition does not use it", rule.events[i].var))
            .help("use it in the condition or delete it");
    }
    // windows and keys
    bool multi = a.kind == CK::Sequence || a.kind == CK::Join || a.kind == CK::Absence;
    if (a.kind == CK::Single) {
      if (!a.keys.empty() || a.window)
        sink_.report(Code::WindowOnSingleEvent, a.window ? a.window->span : a.by_span,
                     "a single-event condition has no `by` or `within`")
            .help("use a threshold (`count($e) >= N by ... within ...`) to count events per key");
      return;
    }
    if (!a.window) {
      sink_.report(Code::MissingWindow, a.span, "a correlation needs a `within` window")
          .help("add e.g. `within 1h` at the end of the condition");
    } else {
      check_window(*a.window, c);
      if (a.window->dir != ast::Direction::None && a.kind != CK::Absence)
        sink_.report(Code::DirectionNotAbsence, a.window->span, "`before`/`after` only applies to absence")
            .help(a.kind == CK::Sequence ? "a sequence is already ordered by `then`" : "");
      if (a.kind == CK::Absence) {
        c.direction = a.window->dir == ast::Direction::After ? ir::Direction::After : ir::Direction::Before;
        if (a.window->anchor && !a.vars.empty() && a.window->anchor->text != a.vars[0].text &&
            find_var(rule, a.vars[0].text))
          sink_.report(Code::BadAnchor, a.window->anchor->span,
                       fmt::format("the window is measured from `${}`, the event that happened", a.vars[0].text))
              .help(fmt::format("write `before ${}` or `after ${}`", a.vars[0].text, a.vars[0].text));
      }
    }
    if (a.kind == CK::Threshold) {
      for (const auto& g : a.keys) key_group(g, rule);
    } else if (multi) {
      if (a.keys.empty()) {
        sink_.report(Code::MissingKeys, a.span, "a correlation of several events needs `by` keys")
            .help(c.order.size() >= 2
                      ? fmt::format("relate them, e.g. `by ${}.UserId = ${}.UserPrincipalName`",
                                    rule.events[c.order[0]].var, rule.events[c.order[1]].var)
                      : "");
      }
      for (const auto& g : a.keys) key_group(g, rule);
    }
  }

  void check_window(const ast::Window& w, ir::Correlation& c) {
    c.window = w.ticks;
    c.window_span = w.duration_span;
    if (w.ticks <= 0)
      sink_.report(Code::ZeroWindow, w.duration_span, "a correlation window must be longer than zero")
          .help("events of one correlation must fall within a window of positive length, e.g. `within 5m`");
    else if (w.ticks > 14 * kTicksPerDay)
      sink_.report(Code::WindowTooLong, w.duration_span,
                   fmt::format("a window of {} is longer than 14 days", format_duration(w.ticks)))
          .note("Sentinel queries look back at most 14 days, so a longer window can never be honoured");
  }

  // Which event variables an expression reads.
  static void vars_of(const ir::Expr& e, std::set<std::uint32_t>& out) {
    if (e.kind == ir::Expr::Kind::Column) out.insert(e.var);
    for (const auto& a : e.args) vars_of(*a, out);
  }

  void key_group(const ast::KeyGroup& g, ir::Rule& rule) {
    auto& c = rule.corr;
    std::vector<ir::ExprPtr> per(c.order.size());
    Ctx ctx{&rule, std::nullopt, false, "in a key"};
    bool rejected_side = false;
    for (const auto& ae : g.exprs) {
      auto e = expr(*ae, ctx);
      std::set<std::uint32_t> vs;
      vars_of(*e, vs);
      if (vs.size() > 1) {
        auto b = sink_.report(Code::KeyVariableMixed, e->span, "each side of a key reads one event");
        if (ae->kind == ast::Expr::Kind::Binary && ae->op == ast::Op::Eq)
          b.help("keys are written with a single `=`: `by $a.X = $b.Y`");
        else
          b.help("write `$a.X = $b.Y`, one event per side");
        rejected_side = true;
        continue;
      }
      if (vs.empty()) {
        if (e->type != Type::Unknown)
          sink_.report(Code::KeyMissingVariable, e->span, "a key side must read an event's column")
              .help("for example `$mail.UserId`");
        rejected_side = true;
        continue;
      }
      auto v = *vs.begin();
      auto pos = std::find(c.order.begin(), c.order.end(), v) - c.order.begin();
      if (static_cast<std::size_t>(pos) >= c.order.size()) continue;
      if (per[pos]) {
        sink_.report(Code::VariableRepeated, e->span,
                     fmt::format("`${}` appears twice in one key", rule.events[v].var))
            .secondary(per[pos]->span, "first here");
        rejected_side = true;
        continue;
      }
      if (e->type == Type::Dynamic) {
        sink_.report(Code::KeyTypeMismatch, e->span, "a key cannot be a dynamic value")
            .help("convert it: `tostring(...)`");
        e->type = Type::Unknown;  // reported once
      }
      per[pos] = std::move(e);
    }
    if (c.kind == ir::CorrKind::Threshold) {
      if (g.exprs.size() != 1)
        sink_.report(Code::KeyMissingVariable, g.span, "a threshold key names one column of its event")
            .help("separate several keys with commas: `by $e.UserId, $e.ClientIP`");
    } else {
      std::vector<std::string> missing;
      for (std::size_t i = 0; i < per.size(); ++i)
        if (!per[i]) missing.push_back("$" + rule.events[c.order[i]].var);
      bool any_unknown = rejected_side;
      for (const auto& p : per)
        if (p && p->type == Type::Unknown) any_unknown = true;
      for (auto v : c.order)
        if (rule.events[v].table == kNoTable) any_unknown = true;
      if (!missing.empty() && !any_unknown && g.exprs.size() >= 1) {
        std::string m;
        for (std::size_t i = 0; i < missing.size(); ++i) m += (i ? ", " : "") + fmt::format("`{}`", missing[i]);
        sink_.report(Code::KeyMissingVariable, g.span, fmt::format("this key does not say which value of {} must match", m))
            .help(fmt::format("write the key for every event, e.g. `{} = {}.Column`",
                              ast_text(g), missing[0]));
      }
      // types agree
      const ir::Expr* first = nullptr;
      for (const auto& p : per) {
        if (!p || p->type == Type::Unknown) continue;
        if (!first) { first = p.get(); continue; }
        bool ok = p->type == first->type ||
                  ((p->type == Type::String || p->type == Type::Guid) &&
                   (first->type == Type::String || first->type == Type::Guid)) ||
                  (ir::is_numeric(p->type) && ir::is_numeric(first->type));
        if (!ok)
          sink_.report(Code::KeyTypeMismatch, p->span,
                       fmt::format("this key side is a {}, but the first is a {}", ir::type_name(p->type),
                                   ir::type_name(first->type)))
              .secondary(first->span, fmt::format("this is a {}", ir::type_name(first->type)));
      }
    }
    c.keys.push_back(std::move(per));
  }

  std::string ast_text(const ast::KeyGroup& g) const { return std::string(sm_.text(g.span)); }

  void threshold(const ast::Condition& a, ir::Rule& rule) {
    auto& c = rule.corr;
    if (a.agg.text != "count" && a.agg.text != "dcount" && a.agg.text != "sum") {
      sink_.report(Code::UnknownAggregate, a.agg.span, fmt::format("`{}` is not a threshold aggregate", a.agg.text))
          .help(diag::did_you_mean(a.agg.text, {"count", "dcount", "sum"}))
          .note("thresholds use count($e), dcount($e.Column) or sum($e.Column)");
      // still find the event, so that keys and the outcome are checked against it
      if (a.agg_arg) {
        Ctx ctx{&rule, std::nullopt, false, "in a threshold"};
        auto x = a.agg_arg->kind == ast::Expr::Kind::Var ? nullptr : expr(*a.agg_arg, ctx);
        std::set<std::uint32_t> vs;
        if (x) vars_of(*x, vs);
        else if (auto v = find_var(rule, a.agg_arg->name)) vs.insert(*v);
        if (vs.size() == 1) c.order = {*vs.begin()};
      }
      return;
    }
    Ctx ctx{&rule, std::nullopt, false, "in a threshold"};
    if (a.agg.text == "count") {
      c.agg = ir::Agg::Count;
      if (!a.agg_arg || a.agg_arg->kind != ast::Expr::Kind::Var) {
        if (a.agg_arg)
          sink_.report(Code::WrongArgumentType, a.agg_arg->span, "`count` counts events: `count($e)`")
              .help("to count distinct values use `dcount($e.Column)`");
      } else if (auto v = find_var(rule, a.agg_arg->name)) {
        c.order = {*v};
      } else {
        unknown_var(rule, a.agg_arg->name, a.agg_arg->span);
      }
    } else {
      c.agg = a.agg.text == "dcount" ? ir::Agg::DCount : ir::Agg::Sum;
      if (a.agg_arg) {
        auto x = expr(*a.agg_arg, ctx);
        std::set<std::uint32_t> vs;
        vars_of(*x, vs);
        if (vs.size() == 1) c.order = {*vs.begin()};
        else if (x->type != Type::Unknown)
          sink_.report(Code::KeyVariableMixed, x->span,
                       fmt::format("`{}` aggregates a column of one event", a.agg.text));
        if (x->type == Type::Dynamic)
          sink_.report(Code::AggregateOfDynamic, x->span, fmt::format("`{}` of a dynamic value is not defined", a.agg.text))
              .help(a.agg.text == "dcount" ? "convert it first: `dcount(tostring(...))`"
                                           : "convert it first: `sum(tolong(...))`");
        else if (c.agg == ir::Agg::Sum && x->type != Type::Unknown && !ir::is_numeric(x->type))
          sink_.report(Code::SumOfNonNumeric, x->span, fmt::format("`sum` of a {} is not defined", ir::type_name(x->type)));
        c.agg_arg = std::move(x);
      }
    }
    c.cmp = a.cmp;
    if (a.threshold) {
      auto t = const_value(*a.threshold);
      if (!t || (t->kind != LitKind::Int && t->kind != LitKind::Real) ||
          (t->kind == LitKind::Int ? t->i < 0 : t->r < 0)) {
        sink_.report(Code::BadThreshold, a.threshold->span, "a threshold is a non-negative number")
            .help("for example `count($e) >= 20`");
      } else {
        c.threshold = t->kind == LitKind::Int ? static_cast<double>(t->i) : t->r;
      }
    }
    if (a.cmp == ast::Op::EqCi || a.cmp == ast::Op::NeCi)
      sink_.report(Code::OperatorNotApplicable, a.cmp_span, "a threshold compares numbers");
  }

  // ---------- outcome and entities ----------
  static bool same_expr(const ir::Expr& a, const ir::Expr& b) {
    if (a.kind != b.kind || a.var != b.var || a.column != b.column || a.member != b.member || a.fn != b.fn ||
        a.op != b.op || a.list != b.list || !(a.value == b.value) || a.args.size() != b.args.size())
      return false;
    for (std::size_t i = 0; i < a.args.size(); ++i)
      if (!same_expr(*a.args[i], *b.args[i])) return false;
    return true;
  }

  bool grouped(const ir::Expr& e, const ir::Rule& rule) {
    if (e.kind == ir::Expr::Kind::Aggregate || e.kind == ir::Expr::Kind::Literal) return true;
    for (const auto& k : rule.corr.keys)
      if (!k.empty() && k[0] && same_expr(*k[0], e)) return true;
    if (e.kind == ir::Expr::Kind::Column) return false;
    if (e.args.empty()) return true;
    for (const auto& a : e.args)
      if (!grouped(*a, rule)) return false;
    return true;
  }

  void check_outcome(const ast::Rule& r, ir::Rule& rule) {
    duplicate_clauses(r.outcome_spans, "outcome");
    std::vector<std::pair<std::string_view, Span>> seen;  // a handful of fields: no map
    seen.reserve(r.outcome.size());
    rule.outcome.reserve(r.outcome.size());
    bool threshold = rule.corr.kind == ir::CorrKind::Threshold;
    for (const auto& f : r.outcome) {
      const std::string_view fname = f.name.text;
      if (auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& p) { return p.first == fname; });
          it != seen.end()) {
        sink_.report(Code::DuplicateOutcomeField, f.name.span, fmt::format("outcome field `{}` is defined twice", f.name.text))
            .secondary(it->second, "first defined here");
        continue;
      }
      seen.emplace_back(fname, f.name.span);
      if (f.name.text == "TimeGenerated" || (!f.name.text.empty() && f.name.text[0] == '_'))
        sink_.report(Code::ReservedOutcomeName, f.name.span, fmt::format("`{}` is a reserved outcome name", f.name.text))
            .note("every alert carries TimeGenerated (the completing event's time); names starting with `_` are "
                  "used by the generated queries")
            .help(fmt::format("rename the field, e.g. `{}`", f.name.text == "TimeGenerated" ? "event_time" : f.name.text.substr(1)));
      Ctx ctx{&rule, std::nullopt, threshold, "in the outcome"};
      if (rule.events.size() == 1 && rule.corr.kind == ir::CorrKind::Single) ctx.event = 0;  // bare columns allowed
      if (!f.value) continue;
      auto e = expr(*f.value, ctx);
      if (rule.corr.kind == ir::CorrKind::Absence && rule.corr.order.size() == 2) {
        std::set<std::uint32_t> vs;
        vars_of(*e, vs);
        if (vs.count(rule.corr.order[1]))
          sink_.report(Code::OutcomeOfAbsentEvent, e->span,
                       fmt::format("`${}` is the event that must be absent; an alert has none to read",
                                   rule.events[rule.corr.order[1]].var))
              .help(fmt::format("read the fields of `${}` instead", rule.events[rule.corr.order[0]].var));
      }
      if (threshold && e->type != Type::Unknown && !grouped(*e, rule))
        sink_.report(Code::OutcomeNotGrouped, e->span,
                     "a threshold alert stands for many events: this field is neither a `by` key nor an aggregate")
            .help("add it to the `by` keys, or aggregate it, e.g. `dcount($e.Column)`");
      if (e->type == Type::Dynamic && e->kind != ir::Expr::Kind::Column) {
        // fine: projected as dynamic
      }
      rule.outcome.push_back({f.name.text, std::move(e), f.name.span});
    }
  }

  void warn_no_outcome(const ast::Rule& r, const ir::Rule& rule) {
    if (rule.outcome.empty() && rule.corr.kind != ir::CorrKind::Single && !r.conditions.empty())
      sink_.report(Code::NoOutcome, r.conditions[0].span, "this correlation's alerts will carry only a time")
          .help("add `outcome { ... }` with the fields an analyst needs, e.g. the keys");
  }

  void check_entities(const ast::Rule& r, ir::Rule& rule) {
    warn_no_outcome(r, rule);
    duplicate_clauses(r.entities_spans, "entities");
    auto has_field = [&](const std::string& n) {
      return std::any_of(rule.outcome.begin(), rule.outcome.end(), [&](const ir::OutcomeField& f) { return f.name == n; });
    };
    for (const auto& m : r.entities) {
      auto it = entity_types().find(m.type.text);
      if (it == entity_types().end()) {
        std::vector<std::string> types;
        for (const auto& [t, _] : entity_types()) types.push_back(t);
        sink_.report(Code::UnknownEntityType, m.type.span, fmt::format("`{}` is not a Sentinel entity type", m.type.text))
            .help(diag::did_you_mean(m.type.text, types));
        continue;
      }
      ir::EntityMapping em;
      em.type = m.type.text;
      em.span = m.span;
      for (const auto& i : m.idents) {
        if (std::find(it->second.begin(), it->second.end(), i.identifier.text) == it->second.end()) {
          sink_.report(Code::UnknownEntityIdentifier, i.identifier.span,
                       fmt::format("entity `{}` has no identifier `{}`", m.type.text, i.identifier.text))
              .help(diag::did_you_mean(i.identifier.text, it->second));
          continue;
        }
        if (!has_field(i.field.text)) {
          std::vector<std::string> fields;
          for (const auto& f : rule.outcome) fields.push_back(f.name);
          sink_.report(Code::UnknownOutcomeField, i.field.span,
                       fmt::format("`{}` is not an outcome field of this rule", i.field.text))
              .help(fields.empty() ? "entities map outcome fields: add an `outcome { ... }` block"
                                   : diag::did_you_mean(i.field.text, fields));
          continue;
        }
        em.identifiers.emplace_back(i.identifier.text, i.field.text);
      }
      rule.entities.push_back(std::move(em));
    }
  }

  // ---------- schedule ----------
  void check_schedule(const ast::Rule& r, ir::Rule& rule) {
    auto& s = rule.schedule;
    for (std::size_t i = 1; i < r.schedules.size(); ++i)
      sink_.report(Code::DuplicateClause, r.schedules[i].span, "a rule has one `schedule`")
          .secondary(r.schedules[0].span, "first one here");
    for (std::size_t i = 1; i < r.suppressions.size(); ++i)
      sink_.report(Code::DuplicateClause, r.suppressions[i].span, "a rule has one `suppress`")
          .secondary(r.suppressions[0].span, "first one here");
    const std::int64_t W = rule.corr.kind == ir::CorrKind::Single ? 0 : rule.corr.window;
    // A threshold's rising edge at t reads the previous evaluation too, whose window starts
    // up to 2W before t: a run decides it exactly only for window ends 2W inside its period.
    const bool threshold = rule.corr.kind == ir::CorrKind::Threshold;
    const std::int64_t exact_reach = threshold ? 2 * W : W;
    const std::int64_t max_period = 14 * kTicksPerDay;
    s.reach = exact_reach;
    auto edge_warning = [&](Span at, std::int64_t period, std::int64_t frequency) {
      s.reach = W;
      sink_.report(Code::ThresholdEdgeAcrossRuns, at,
                   fmt::format("with a query period of {} a run cannot see the {} before each window end that the "
                               "threshold's rising edge depends on",
                               format_duration(period), format_duration(2 * W)))
          .note("a burst that lasts across a run boundary can then alert in both runs; the VM alerts once")
          .help(2 * W + frequency <= max_period
                    ? fmt::format("use a period of at least {} (twice the window plus the frequency)",
                                  format_duration(2 * W + frequency))
                    : std::string("a window of at most half of 14d minus the frequency makes the edge exact"));
    };
    if (r.schedules.empty()) {
      s.frequency = kTicksPerHour;
      s.period = std::min<std::int64_t>(max_period, std::max(s.frequency, exact_reach + s.frequency));
      if (W > 0 && W <= max_period && s.period - W < s.frequency)
        s.reach = W, sink_.report(Code::LookbackGap, rule.corr.window_span,
                     fmt::format("with the default schedule (every 1h, at most 14d back) a {} window leaves events "
                                 "that are never examined", format_duration(W)))
            .help("shorten the window to 13d23h or less, or give a schedule explicitly");
      else if (threshold && W > 0 && s.period - exact_reach < s.frequency)
        edge_warning(rule.corr.window_span, s.period, s.frequency);
    } else {
      const auto& a = r.schedules[0];
      s.explicit_ = true;
      s.span = a.span;
      s.nrt = a.nrt;
      if (a.nrt) {
        s.frequency = s.period = 0;
        if (rule.corr.kind != ir::CorrKind::Single)
          sink_.report(Code::NrtCorrelation, a.span, "a near-real-time rule cannot correlate events")
              .note("Sentinel runs NRT rules every minute over newly ingested rows only, so a window cannot be honoured")
              .help("use `schedule every 5m over ...` with a period of at least the window plus the frequency");
      } else {
        s.frequency = a.frequency;
        s.period = a.period;
        const std::int64_t lo = 5 * kTicksPerMinute, hi = 14 * kTicksPerDay;
        bool range_ok = true;
        for (auto [v, sp, what] : {std::tuple{a.frequency, a.frequency_span, "frequency"},
                                   std::tuple{a.period, a.period_span, "period"}}) {
          if (v < lo || v > hi) {
            range_ok = false;
            sink_.report(Code::ScheduleOutOfRange, sp,
                         fmt::format("a query {} of {} is outside Sentinel's 5m to 14d", what, format_duration(v)));
          }
        }
        if (range_ok && a.frequency > a.period)
          sink_.report(Code::FrequencyAbovePeriod, a.frequency_span,
                       fmt::format("the rule runs every {} but looks back only {}", format_duration(a.frequency),
                                   format_duration(a.period)))
              .secondary(a.period_span, "query period")
              .help("the query period must be at least the frequency, or events between runs are never seen");
        else if (range_ok && a.period >= 2 * kTicksPerDay && a.frequency < kTicksPerHour)
          sink_.report(Code::LongPeriodShortFrequency, a.frequency_span,
                       fmt::format("with a query period of {} Sentinel requires a frequency of at least 1h",
                                   format_duration(a.period)))
              .secondary(a.period_span, "query period");
        if (range_ok && W > 0 && W >= a.period)
          sink_.report(Code::WindowBeyondPeriod, rule.corr.window_span,
                       fmt::format("the correlation window {} is not shorter than the query period {}: no event "
                                   "would ever have its whole window inside a run", format_duration(W),
                                   format_duration(a.period)))
              .secondary(a.period_span, "query period")
              .help("each run sees only its query period; make the period at least the window plus the frequency");
        else if (range_ok && W > 0 && a.frequency <= a.period && a.period - W < a.frequency)
          s.reach = W, sink_.report(Code::LookbackGap, a.period_span,
                       fmt::format("period {} minus window {} is shorter than the frequency {}", format_duration(a.period),
                                   format_duration(W), format_duration(a.frequency)))
              .note("Ward's KQL only alerts on events at least one window inside the period (so the whole window is "
                    "visible); events in the gap are never alerted on")
              .help(fmt::format("use a period of at least {}", format_duration(W + a.frequency)));
        else if (range_ok && threshold && W > 0 && a.frequency <= a.period && a.period - exact_reach < a.frequency)
          edge_warning(a.period_span, a.period, a.frequency);
      }
    }
    if (!r.suppressions.empty()) {
      const auto& sp = r.suppressions[0];
      rule.suppress = sp.ticks;
      if (sp.ticks < 5 * kTicksPerMinute || sp.ticks > kTicksPerDay)
        sink_.report(Code::SuppressionOutOfRange, sp.span,
                     fmt::format("a suppression of {} is outside Sentinel's 5m to 24h", format_duration(sp.ticks)));
    }
  }

  // ---------- tests ----------
  void check_tests(const ast::Rule& r, ir::Rule& rule) {
    std::map<std::string, Span> names;
    for (const auto& t : r.tests) {
      if (auto it = names.find(t.name); it != names.end()) {
        sink_.report(Code::DuplicateTestName, t.name_span, fmt::format("test \"{}\" is defined twice", t.name))
            .secondary(it->second, "first defined here");
        continue;
      }
      names[t.name] = t.name_span;
      ir::TestCase tc;
      tc.name = t.name;
      tc.span = t.span;
      for (const auto& i : t.items) {
        if (i.kind == ast::TestItem::Kind::Scenario) {
          tc.scenario = i.text;
          for (const auto& p : i.params) {
            const auto& v = p.value;
            std::string text = v.kind == ast::MetaValue::Kind::Literal
                                   ? (v.value.kind == LitKind::String ? v.value.s
                                      : v.value.kind == LitKind::Int  ? std::to_string(v.value.i)
                                      : v.value.kind == LitKind::Duration ? format_duration(v.value.i)
                                                                          : std::string(sm_.text(v.span)))
                                   : v.text;
            tc.params[p.key.text] = text;
          }
        } else if (i.kind == ast::TestItem::Kind::Trace) {
          tc.trace = i.text;
        } else {
          static const std::vector<std::string> known = {"alerts", "none", "steps", "entities", "false_positives"};
          ir::TestCase::Expectation ex;
          ex.what = i.what.text;
          ex.cmp = i.cmp;
          if (std::find(known.begin(), known.end(), ex.what) == known.end()) {
            sink_.report(Code::UnknownExpectation, i.what.span, fmt::format("unknown expectation `{}`", ex.what))
                .help(diag::did_you_mean(ex.what, known))
                .note("tests expect `alerts >= N`, `none`, `steps [...]`, `entities [...]` or `false_positives <= N`");
            continue;
          }
          if (i.value) {
            if (i.value->kind == ast::MetaValue::Kind::Literal && i.value->value.kind == LitKind::Int) {
              ex.number = static_cast<double>(i.value->value.i);
              tc.expect.push_back(std::move(ex));
              continue;
            }
            auto add = [&](const ast::MetaValue& v) {
              ex.values.push_back(v.kind == ast::MetaValue::Kind::Literal ? v.value.s : v.text);
            };
            if (i.value->kind == ast::MetaValue::Kind::List)
              for (const auto& x : i.value->items) add(x);
            else
              add(*i.value);
          }
          tc.expect.push_back(std::move(ex));
        }
      }
      if (!tc.scenario.empty() && !tc.trace.empty())
        sink_.report(Code::TestTwoSources, t.name_span, fmt::format("test \"{}\" names both a scenario and a trace", t.name))
            .help("write two tests, one per source");
      if (tc.scenario.empty() && tc.trace.empty())
        sink_.report(Code::TestWithoutSource, t.name_span, fmt::format("test \"{}\" replays nothing", t.name))
            .help("add `scenario \"storm0558\"` or `trace \"path/to/events.jsonl\"`");
      bool any_expect = std::any_of(t.items.begin(), t.items.end(),
                                    [](const ast::TestItem& i) { return i.kind == ast::TestItem::Kind::Expect; });
      if (tc.expect.empty() && !any_expect)
        sink_.report(Code::TestWithoutExpectation, t.name_span, fmt::format("test \"{}\" expects nothing", t.name))
            .help("add e.g. `expect alerts >= 1` or `expect none`");
      rule.tests.push_back(std::move(tc));
    }
  }

  source::SourceManager& sm_;
  diag::Sink& sink_;
  ir::Module module_;
};

}  // namespace

ir::Module analyze(const std::vector<Input>& files, source::SourceManager& sm, diag::Sink& sink) {
  return Checker(sm, sink).run(files);
}

std::string derived_rule_id(const std::string& rule_name) {
  // Two 64-bit FNV-1a hashes with different offsets make a 128-bit name hash.
  // (hashed as "ward-rule:" + rule_name, without building that string)
  auto fnv = [&](std::uint64_t h) {
    for (unsigned char c : std::string_view("ward-rule:")) h = (h ^ c) * 0x100000001b3ULL;
    for (unsigned char c : rule_name) h = (h ^ c) * 0x100000001b3ULL;
    return h;
  };
  std::uint64_t hi = fnv(0xcbf29ce484222325ULL);
  std::uint64_t lo = fnv(0x84222325cbf29ce4ULL ^ hi);
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000008000ULL;  // version 8
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;  // RFC 9562 variant
  // 8-4-4-4-12 lower-case hex digits: hi's 64 bits, then lo's
  std::string out(36, '-');
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t pos = 0;
  auto put = [&](std::uint64_t v, int bits) {
    for (int b = bits - 4; b >= 0; b -= 4) out[pos++] = kHex[(v >> b) & 0xF];
  };
  put(hi >> 32, 32);
  ++pos;
  put((hi >> 16) & 0xFFFF, 16);
  ++pos;
  put(hi & 0xFFFF, 16);
  ++pos;
  put(lo >> 48, 16);
  ++pos;
  put(lo & 0xFFFFFFFFFFFFULL, 48);
  return out;
}

}  // namespace ward::sema
