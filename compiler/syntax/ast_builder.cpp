// Parse tree -> AST: one function per grammar rule or labelled alternative.
#include <fmt/format.h>

#include <set>

#include "WardLexer.h"
#include "WardParser.h"
#include "antlr4-runtime.h"
#include "ast/literals.h"
#include "syntax/lexer.h"
#include "syntax/limits.h"
#include "syntax/parse.h"
#include "syntax/rd_parser.h"

namespace ward::syntax {

using G = grammar::WardParser;
using L = grammar::WardLexer;
using ast::ExprPtr;
using diag::Code;

namespace {

// ANTLR indexes code points; spans are bytes. Maps one to the other.
class OffsetMap {
 public:
  explicit OffsetMap(const std::string& text) {
    bool ascii = true;
    for (unsigned char c : text)
      if (c >= 0x80) { ascii = false; break; }
    if (ascii) return;
    for (std::uint32_t i = 0; i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) starts_.push_back(i);
    starts_.push_back(static_cast<std::uint32_t>(text.size()));
  }
  std::uint32_t byte(std::size_t cp) const {
    if (starts_.empty()) return static_cast<std::uint32_t>(cp);
    return cp < starts_.size() ? starts_[cp] : starts_.back();
  }

 private:
  std::vector<std::uint32_t> starts_;
};

bool is_error_token(std::size_t type) {
  return type == L::UNTERMINATED_STRING || type == L::UNTERMINATED_COMMENT || type == L::ERROR_CHAR;
}

std::string token_display(antlr4::Token* t) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  auto text = t->getText();
  if (text.size() > 30) text = text.substr(0, 27) + "...";
  return fmt::format("`{}`", text);
}

class ErrorListener : public antlr4::BaseErrorListener {
 public:
  ErrorListener(source::FileId file, const OffsetMap& map, diag::Sink& sink) : file_(file), map_(map), sink_(sink) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* bad, size_t, size_t, const std::string&,
                   std::exception_ptr) override {
    if (!bad) return;  // lexer errors are reported from the token stream
    if (is_error_token(bad->getType())) return;  // already reported as a lexical error
    // One syntax error per top-level item (import, table, const, list or rule): after
    // the first, error recovery's guesses make the rest of the item unreliable.
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser) {
      antlr4::ParserRuleContext* item = parser->getContext();
      while (item && item->parent && !dynamic_cast<G::ItemContext*>(item)) item = dynamic_cast<antlr4::ParserRuleContext*>(item->parent);
      auto key = item && item->getStart() ? static_cast<long>(item->getStart()->getTokenIndex()) : -1;
      if (dynamic_cast<G::ItemContext*>(item) && key == last_item_) return;
      if (dynamic_cast<G::ItemContext*>(item)) last_item_ = key;
    }
    if (bad->getLine() == last_line_) return;
    last_line_ = bad->getLine();
    std::uint32_t b = map_.byte(bad->getStartIndex());
    std::uint32_t e = bad->getType() == antlr4::Token::EOF ? b : map_.byte(bad->getStopIndex() + 1);
    source::Span span{file_, b, e};
    std::vector<std::string> expected;
    if (parser) {
      auto set = parser->getExpectedTokens();
      const auto& vocab = parser->getVocabulary();
      for (auto t : set.toList()) {
        if (t == static_cast<ssize_t>(L::WS) || is_error_token(static_cast<size_t>(t))) continue;
        expected.push_back(t == static_cast<ssize_t>(antlr4::Token::EOF) ? "end of file" : vocab.getDisplayName(t));
      }
    }
    auto builder = sink_.report(Code::SyntaxError, span, fmt::format("unexpected {}", token_display(bad)));
    if (!expected.empty() && expected.size() <= 6) {
      std::string list;
      for (std::size_t i = 0; i < expected.size(); ++i) {
        auto x = expected[i];
        if (x.size() >= 2 && x.front() == '\'' && x.back() == '\'') x = "`" + x.substr(1, x.size() - 2) + "`";
        list += (i ? (i + 1 == expected.size() ? " or " : ", ") : "") + x;
      }
      builder.label("expected " + list);
    } else if (parser) {
      builder.label(rule_word(parser));
    }
    hint(builder, bad);
  }

 private:
  // What the parser wanted, in words, when the token list is too long to print.
  static std::string rule_word(antlr4::Parser* p) {
    auto* ctx = p->getContext();
    if (!ctx) return "expected `import`, `table`, `const`, `list` or `rule`";
    static const std::map<std::string, std::string> words = {
        {"expr", "expected an expression"},
        {"metaEntry", "expected `key = value`"},
        {"metaValue", "expected a metadata value: a string, number, name, technique id or [list]"},
        {"eventDecl", "expected `$name = Table where ...`"},
        {"correlation", "expected a condition: `$e`, `count($e) >= N by ...`, `sequence $a then $b ...`, "
                        "`$a and $b ...` or `$a and not $b ...`"},
        {"ruleDecl", "expected a rule clause: meta, events, condition, outcome, entities, schedule, suppress or test"},
        {"ruleClause", "expected a rule clause: meta, events, condition, outcome, entities, schedule, suppress or test"},
        {"item", "expected `import`, `table`, `const`, `list` or `rule`"},
        {"file", "expected `import`, `table`, `const`, `list` or `rule`"},
        {"columnDecl", "expected `Column: type`"},
        {"literal", "expected a literal"},
        {"listBody", "expected `[...]` or `file(\"path\")`"},
        {"testItem", "expected `scenario`, `trace` or `expect`"}};
    auto name = p->getRuleNames()[ctx->getRuleIndex()];
    auto it = words.find(name);
    return it == words.end() ? "not valid here" : it->second;
  }
  static void hint(diag::Sink::Builder& b, antlr4::Token* bad) {
    auto t = bad->getText();
    if (t == "&&") b.help("Ward writes `and`");
    else if (t == "||") b.help("Ward writes `or`");
    else if (t == "!") b.help("Ward writes `not`, or `!=`, `!in`, `!contains`, `!has`...");
    else if (t == "=") b.help("comparison is `==` (or `=~` for case-insensitive)");
    else if (t == "'") b.help("strings use double quotes");
  }
  source::FileId file_;
  const OffsetMap& map_;
  diag::Sink& sink_;
  size_t last_line_ = 0;
  long last_item_ = -2;
};

// ANTLR 4.9's generated accessors (`ctx->expr(1)`, labelled-alternative tests) dynamic_cast
// every child they pass, which was a fifth of all parsing time. The builder instead reads the
// tree by exact type: `typeid(*node).name()` is one pointer per class in this program (the
// parser's classes are defined in one object file, the runtime's in one library), so a
// pointer comparison says what a node is. Anything unexpected falls back to dynamic_cast.
template <typename T>
T* exactly(antlr4::tree::ParseTree* t) {
  static const char* const want = typeid(T).name();
  if (!t) return nullptr;
  return typeid(*t).name() == want ? static_cast<T*>(t) : nullptr;
}

bool is_terminal(antlr4::tree::ParseTree* t) {
  static const char* const terminal = typeid(antlr4::tree::TerminalNodeImpl).name();
  static const char* const error = typeid(antlr4::tree::ErrorNodeImpl).name();
  const char* n = typeid(*t).name();
  if (n == terminal || n == error) return true;
  // ANTLR 4.9 has no other terminal classes; anything else is a rule context unless a
  // dynamic_cast says otherwise (names are unique here, so that is never reached)
  static const char* const expr_names[] = {
      typeid(G::MemberExprContext).name(), typeid(G::IndexExprContext).name(), typeid(G::NegExprContext).name(),
      typeid(G::MulExprContext).name(),    typeid(G::AddExprContext).name(),   typeid(G::CompareExprContext).name(),
      typeid(G::StringExprContext).name(), typeid(G::RegexExprContext).name(), typeid(G::CidrExprContext).name(),
      typeid(G::InExprContext).name(),     typeid(G::NotExprContext).name(),   typeid(G::AndExprContext).name(),
      typeid(G::OrExprContext).name(),     typeid(G::CallExprContext).name(),  typeid(G::ParenExprContext).name(),
      typeid(G::ListExprContext).name(),   typeid(G::VarExprContext).name(),   typeid(G::LiteralExprContext).name(),
      typeid(G::NameExprContext).name()};
  for (const char* x : expr_names)
    if (n == x) return false;
  return dynamic_cast<antlr4::ParserRuleContext*>(t) == nullptr;
}

// The i-th child that is an expression (what `ctx->expr(i)` returns).
G::ExprContext* expr_child(antlr4::ParserRuleContext* ctx, std::size_t i) {
  if (!ctx) return nullptr;
  for (auto* c : ctx->children) {
    if (is_terminal(c)) continue;
    auto* r = static_cast<antlr4::ParserRuleContext*>(c);
    if (r->getRuleIndex() == G::RuleExpr && i-- == 0) return static_cast<G::ExprContext*>(r);
  }
  return nullptr;
}

class Builder {
 public:
  Builder(const source::SourceFile& file, const OffsetMap& map, diag::Sink& sink)
      : file_(file), map_(map), sink_(sink) {}

  source::Span span(antlr4::ParserRuleContext* ctx) const {
    if (!ctx || !ctx->getStart()) return {file_.id(), 0, 0};
    auto* stop = ctx->getStop() ? ctx->getStop() : ctx->getStart();
    auto b = map_.byte(ctx->getStart()->getStartIndex());
    auto e = stop->getType() == antlr4::Token::EOF ? b : map_.byte(stop->getStopIndex() + 1);
    if (e < b) e = b;
    return {file_.id(), b, e};
  }
  source::Span span(antlr4::Token* t) const {
    if (!t) return {file_.id(), 0, 0};
    auto b = map_.byte(t->getStartIndex());
    auto e = t->getType() == antlr4::Token::EOF ? b : map_.byte(t->getStopIndex() + 1);
    return {file_.id(), b, std::max(b, e)};
  }
  source::Span span(antlr4::tree::TerminalNode* n) const { return span(n ? n->getSymbol() : nullptr); }

  ast::Name name(G::NameContext* ctx) {
    if (!ctx) return {};
    // a name is one token; RuleContext::getText() would build it through a stringstream
    auto* t = ctx->getStart();
    if (t && t == ctx->getStop()) return {t->getText(), span(ctx)};
    return {ctx->getText(), span(ctx)};
  }
  ast::Name var_name(antlr4::tree::TerminalNode* n) {
    if (!n) return {};
    auto s = span(n);
    return {n->getText().substr(1), s};
  }

  // ---- file ----
  ast::File file(G::FileContext* ctx) {
    ast::File f;
    f.file = file_.id();
    for (auto* item : ctx->item()) {
      if (auto* c = item->importDecl()) f.imports.push_back(import_decl(c));
      else if (auto* c = item->tableDecl()) f.tables.push_back(table_decl(c));
      else if (auto* c = item->constDecl()) f.consts.push_back(const_decl(c));
      else if (auto* c = item->listDecl()) f.lists.push_back(list_decl(c));
      else if (auto* c = item->ruleDecl()) f.rules.push_back(rule_decl(c));
    }
    return f;
  }

  ast::Import import_decl(G::ImportDeclContext* ctx) {
    ast::Import i;
    i.span = span(ctx);
    if (ctx->module) i.module = name(ctx->module);
    if (ctx->path) i.path = string_value(ctx->path).s;
    return i;
  }

  ast::TableDecl table_decl(G::TableDeclContext* ctx) {
    ast::TableDecl t;
    t.name = name(ctx->tableName);
    t.span = span(ctx);
    if (ctx->doc) t.doc = string_value(ctx->doc).s;
    for (auto* c : ctx->columnDecl()) {
      ast::ColumnDecl col;
      col.name = name(c->colName);
      col.type = name(c->colType);
      if (c->doc) col.doc = string_value(c->doc).s;
      t.columns.push_back(std::move(col));
    }
    return t;
  }

  ast::ConstDecl const_decl(G::ConstDeclContext* ctx) {
    ast::ConstDecl c;
    c.name = name(ctx->constName);
    if (ctx->constType) c.type = name(ctx->constType);
    c.value = expr(ctx->expr());
    c.span = span(ctx);
    return c;
  }

  ast::ListDecl list_decl(G::ListDeclContext* ctx) {
    ast::ListDecl l;
    l.name = name(ctx->listName);
    l.elem_type = name(ctx->elemType);
    l.span = span(ctx);
    if (auto* in = dynamic_cast<G::InlineListContext*>(ctx->listBody())) {
      for (auto* e : in->expr()) l.items.push_back(expr(e));
    } else if (auto* fl = dynamic_cast<G::FileListContext*>(ctx->listBody())) {
      l.from_file = true;
      l.path = string_value(fl->path).s;
      l.path_span = span(fl->path);
    }
    return l;
  }

  // ---- rules ----
  ast::Rule rule_decl(G::RuleDeclContext* ctx) {
    ast::Rule r;
    r.name = name(ctx->ruleName);
    r.span = span(ctx);
    for (auto* c : ctx->ruleClause()) {
      if (auto* m = c->metaBlock()) {
        r.meta_spans.push_back(span(m->META()));
        for (auto* e : m->metaEntry()) r.meta.push_back(meta_entry(e));
      } else if (auto* ev = c->eventsBlock()) {
        r.events_spans.push_back(span(ev->EVENTS()));
        for (auto* e : ev->eventDecl()) r.events.push_back(event_decl(e));
      } else if (auto* cc = c->conditionClause()) {
        r.conditions.push_back(correlation(cc->correlation(), span(cc)));
      } else if (auto* o = c->outcomeBlock()) {
        r.outcome_spans.push_back(span(o->OUTCOME()));
        for (auto* f : o->outcomeField()) r.outcome.push_back({name(f->fieldName), expr(f->expr())});
      } else if (auto* en = c->entitiesBlock()) {
        r.entities_spans.push_back(span(en->ENTITIES()));
        for (auto* m : en->entityMap()) {
          ast::EntityMap em;
          em.type = name(m->entityType);
          em.span = span(m);
          for (auto* i : m->entityIdent()) em.idents.push_back({name(i->identifier), name(i->field)});
          r.entities.push_back(std::move(em));
        }
      } else if (auto* s = c->scheduleClause()) {
        r.schedules.push_back(schedule(s));
      } else if (auto* sp = c->suppressClause()) {
        ast::Suppress su;
        su.span = span(sp);
        su.ticks = duration(sp->DURATION());
        r.suppressions.push_back(su);
      } else if (auto* t = c->testDecl()) {
        r.tests.push_back(test_decl(t));
      }
    }
    return r;
  }

  ast::MetaEntry meta_entry(G::MetaEntryContext* ctx) { return {name(ctx->key), meta_value(ctx->metaValue())}; }

  ast::MetaValue meta_value(G::MetaValueContext* ctx) {
    ast::MetaValue v;
    v.span = span(ctx);
    if (auto* l = dynamic_cast<G::MetaLiteralContext*>(ctx)) {
      v.kind = ast::MetaValue::Kind::Literal;
      v.value = literal(l->literal());
    } else if (auto* n = dynamic_cast<G::MetaNameContext*>(ctx)) {
      v.kind = ast::MetaValue::Kind::Name;
      v.text = n->getText();
    } else if (auto* t = dynamic_cast<G::MetaTechniqueContext*>(ctx)) {
      v.kind = ast::MetaValue::Kind::Technique;
      v.text = t->getText();
    } else if (auto* l = dynamic_cast<G::MetaListContext*>(ctx)) {
      v.kind = ast::MetaValue::Kind::List;
      for (auto* i : l->metaValue()) v.items.push_back(meta_value(i));
    }
    return v;
  }

  ast::EventDecl event_decl(G::EventDeclContext* ctx) {
    ast::EventDecl e;
    e.var = var_name(ctx->VAR());
    e.table = name(ctx->table);
    if (ctx->expr()) e.where = expr(ctx->expr());
    e.span = span(ctx);
    return e;
  }

  ast::Condition correlation(G::CorrelationContext* ctx, source::Span clause_span) {
    ast::Condition c;
    c.span = clause_span;
    G::ByKeysContext* by = nullptr;
    G::WindowContext* win = nullptr;
    auto vars = [&](std::vector<antlr4::tree::TerminalNode*> nodes) {
      for (auto* n : nodes) c.vars.push_back(var_name(n));
    };
    if (auto* s = dynamic_cast<G::SequenceCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::Sequence;
      vars(s->VAR());
      by = s->byKeys(), win = s->window();
    } else if (auto* b = dynamic_cast<G::BareAbsenceCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::BareAbsence;
      vars({b->VAR()});
      by = b->byKeys(), win = b->window();
    } else if (auto* a = dynamic_cast<G::AbsenceCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::Absence;
      vars(a->VAR());
      by = a->byKeys(), win = a->window();
    } else if (auto* j = dynamic_cast<G::JoinCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::Join;
      vars(j->VAR());
      by = j->byKeys(), win = j->window();
    } else if (auto* t = dynamic_cast<G::ThresholdCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::Threshold;
      c.agg = name(t->agg);
      c.agg_arg = expr(t->aggArg);
      c.cmp = compare_op(t->compareOp());
      c.cmp_span = span(t->compareOp());
      c.threshold = expr(t->threshold);
      by = t->byKeys(), win = t->window();
    } else if (auto* s1 = dynamic_cast<G::SingleCondContext*>(ctx)) {
      c.kind = ast::Condition::Kind::Single;
      vars({s1->VAR()});
    }
    if (by) {
      c.by_span = span(by->BY());
      for (auto* g : by->keyGroup()) {
        ast::KeyGroup kg;
        kg.span = span(g);
        for (auto* e : g->expr()) kg.exprs.push_back(expr(e));
        c.keys.push_back(std::move(kg));
      }
    }
    if (win) {
      ast::Window w;
      w.span = span(win);
      w.duration_span = span(win->DURATION());
      w.ticks = duration(win->DURATION());
      if (win->dir) w.dir = win->dir->getType() == L::BEFORE ? ast::Direction::Before : ast::Direction::After;
      if (win->anchor) {
        auto s = span(win->anchor);
        w.anchor = ast::Name{win->anchor->getText().substr(1), s};
      }
      c.window = std::move(w);
    }
    return c;
  }

  ast::Schedule schedule(G::ScheduleClauseContext* ctx) {
    ast::Schedule s;
    s.span = span(ctx);
    if (dynamic_cast<G::NrtScheduleContext*>(ctx)) {
      s.nrt = true;
    } else if (auto* sc = dynamic_cast<G::ScheduledScheduleContext*>(ctx)) {
      s.frequency = duration(sc->freq);
      s.frequency_span = span(sc->freq);
      s.period = duration(sc->period);
      s.period_span = span(sc->period);
    }
    return s;
  }

  ast::Test test_decl(G::TestDeclContext* ctx) {
    ast::Test t;
    t.name = string_value(ctx->testName).s;
    t.name_span = span(ctx->testName);
    t.span = span(ctx);
    for (auto* i : ctx->testItem()) {
      ast::TestItem item;
      item.span = span(i);
      if (auto* s = dynamic_cast<G::ScenarioItemContext*>(i)) {
        item.kind = ast::TestItem::Kind::Scenario;
        item.text = string_value(s->scenarioName).s;
        item.text_span = span(s->scenarioName);
        for (auto* e : s->metaEntry()) item.params.push_back(meta_entry(e));
      } else if (auto* tr = dynamic_cast<G::TraceItemContext*>(i)) {
        item.kind = ast::TestItem::Kind::Trace;
        item.text = string_value(tr->path).s;
        item.text_span = span(tr->path);
      } else if (auto* ex = dynamic_cast<G::ExpectItemContext*>(i)) {
        item.kind = ast::TestItem::Kind::Expect;
        item.what = name(ex->what);
        if (ex->compareOp()) item.cmp = compare_op(ex->compareOp());
        if (ex->metaValue()) item.value = meta_value(ex->metaValue());
      }
      t.items.push_back(std::move(item));
    }
    return t;
  }

  // ---- expressions ----
  ExprPtr make(ast::Expr::Kind k, antlr4::ParserRuleContext* ctx) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = k;
    e->span = span(ctx);
    return e;
  }

  ExprPtr binary(antlr4::ParserRuleContext* ctx, G::ExprContext* l, ast::Op op, source::Span op_span,
                 G::ExprContext* r) {
    auto e = make(ast::Expr::Kind::Binary, ctx);
    e->op = op;
    e->op_span = op_span;
    e->args.push_back(expr(l));
    e->args.push_back(expr(r));
    return e;
  }

  // The labelled alternative `ctx` is, exactly, or by dynamic_cast if it is something else.
  template <typename T>
  static T* as(G::ExprContext* ctx, bool exact) {
    return exact ? exactly<T>(ctx) : dynamic_cast<T*>(ctx);
  }

  ExprPtr expr(G::ExprContext* ctx) {
    // Recursion guard: a 10,000-term `and` chain is a parse tree 10,000 deep.
    struct Depth {
      int& d;
      explicit Depth(int& x) : d(++x) {}
      ~Depth() { --d; }
    } guard(depth_);
    if (depth_ > kMaxDepth) {
      if (!too_deep_reported_) {
        too_deep_reported_ = true;
        sink_.report(Code::NestingTooDeep, span(ctx), fmt::format("expression nested more than {} levels deep", kMaxDepth))
            .help("split the condition, or put the values in a `list` and test with `in`");
      }
      auto e = std::make_unique<ast::Expr>();
      e->kind = ast::Expr::Kind::Literal;
      return e;
    }
    using K = ast::Expr::Kind;
    if (!ctx || ctx->exception) {
      auto e = std::make_unique<ast::Expr>();
      e->kind = K::Literal;  // placeholder after a syntax error
      return e;
    }
    if (auto e = alternative(ctx, true)) return e;   // by exact type (fast)
    if (auto e = alternative(ctx, false)) return e;  // by dynamic_cast (never expected)
    return make(K::Literal, ctx);
  }

  // The AST of one labelled alternative of `expr`, or null if `ctx` is none of them.
  ExprPtr alternative(G::ExprContext* ctx, bool exact) {
    using K = ast::Expr::Kind;
    if (auto* c = as<G::MemberExprContext>(ctx, exact)) {
      auto e = make(K::Member, c);
      e->args.push_back(expr(expr_child(c, 0)));
      if (c->name()) {
        e->name = name(c->name()).text;
        e->name_span = span(c->name());
      }
      return e;
    }
    if (auto* c = as<G::IndexExprContext>(ctx, exact)) {
      auto e = make(K::Index, c);
      e->args.push_back(expr(expr_child(c, 0)));
      e->args.push_back(expr(expr_child(c, 1)));
      return e;
    }
    if (auto* c = as<G::NegExprContext>(ctx, exact)) {
      auto e = make(K::Unary, c);
      e->op = ast::Op::Neg;
      e->op_span = span(c->MINUS());
      e->args.push_back(expr(expr_child(c, 0)));
      return e;
    }
    if (auto* c = as<G::NotExprContext>(ctx, exact)) {
      auto e = make(K::Unary, c);
      e->op = ast::Op::Not;
      e->op_span = span(c->NOT());
      e->args.push_back(expr(expr_child(c, 0)));
      return e;
    }
    if (auto* c = as<G::MulExprContext>(ctx, exact); c && c->op) {
      auto t = c->op->getType();
      auto op = t == L::STAR ? ast::Op::Mul : t == L::SLASH ? ast::Op::Div : ast::Op::Mod;
      return binary(c, expr_child(c, 0), op, span(c->op), expr_child(c, 1));
    }
    if (auto* c = as<G::AddExprContext>(ctx, exact); c && c->op)
      return binary(c, expr_child(c, 0), c->op->getType() == L::PLUS ? ast::Op::Add : ast::Op::Sub, span(c->op),
                    expr_child(c, 1));
    if (auto* c = as<G::CompareExprContext>(ctx, exact))
      return binary(c, expr_child(c, 0), compare_op(c->compareOp()), span(c->compareOp()), expr_child(c, 1));
    if (auto* c = as<G::StringExprContext>(ctx, exact); c && c->op) {
      ast::Op op;
      switch (c->op->getType()) {
        case L::CONTAINS: op = ast::Op::Contains; break;
        case L::NOT_CONTAINS: op = ast::Op::NotContains; break;
        case L::STARTSWITH: op = ast::Op::StartsWith; break;
        case L::NOT_STARTSWITH: op = ast::Op::NotStartsWith; break;
        case L::ENDSWITH: op = ast::Op::EndsWith; break;
        case L::NOT_ENDSWITH: op = ast::Op::NotEndsWith; break;
        case L::HAS: op = ast::Op::Has; break;
        default: op = ast::Op::NotHas; break;
      }
      return binary(c, expr_child(c, 0), op, span(c->op), expr_child(c, 1));
    }
    if (auto* c = as<G::RegexExprContext>(ctx, exact))
      return binary(c, expr_child(c, 0), ast::Op::Regex, source::Span::cover(span(c->MATCHES()), span(c->REGEX())),
                    expr_child(c, 1));
    if (auto* c = as<G::CidrExprContext>(ctx, exact); c && c->op)
      return binary(c, expr_child(c, 0), c->op->getType() == L::IN ? ast::Op::InCidr : ast::Op::NotInCidr,
                    source::Span::cover(span(c->op), span(c->CIDR())), expr_child(c, 1));
    if (auto* c = as<G::InExprContext>(ctx, exact); c && c->op) {
      ast::Op op;
      switch (c->op->getType()) {
        case L::IN: op = ast::Op::In; break;
        case L::NOT_IN: op = ast::Op::NotIn; break;
        case L::IN_CI: op = ast::Op::InCi; break;
        default: op = ast::Op::NotInCi; break;
      }
      return binary(c, expr_child(c, 0), op, span(c->op), expr_child(c, 1));
    }
    if (auto* c = as<G::AndExprContext>(ctx, exact))
      return binary(c, expr_child(c, 0), ast::Op::And, span(c->AND()), expr_child(c, 1));
    if (auto* c = as<G::OrExprContext>(ctx, exact))
      return binary(c, expr_child(c, 0), ast::Op::Or, span(c->OR()), expr_child(c, 1));
    if (auto* c = as<G::CallExprContext>(ctx, exact)) {
      auto e = make(K::Call, c);
      e->name = c->callee ? c->callee->getText() : "";
      e->name_span = span(c->callee);
      for (auto* a : c->expr()) e->args.push_back(expr(a));
      return e;
    }
    if (auto* c = as<G::ParenExprContext>(ctx, exact)) {
      auto inner = expr(expr_child(c, 0));
      inner->span = span(c);
      return inner;
    }
    if (auto* c = as<G::ListExprContext>(ctx, exact)) {
      auto e = make(K::List, c);
      for (auto* a : c->expr()) e->args.push_back(expr(a));
      return e;
    }
    if (auto* c = as<G::VarExprContext>(ctx, exact)) {
      auto e = make(K::Var, c);
      e->name = c->VAR() ? c->VAR()->getText().substr(1) : "";
      e->name_span = e->span;
      return e;
    }
    if (auto* c = as<G::LiteralExprContext>(ctx, exact)) {
      auto e = make(K::Literal, c);
      e->value = literal(c->literal());
      return e;
    }
    if (auto* c = as<G::NameExprContext>(ctx, exact)) {
      auto e = make(K::Name, c);
      e->name = name(c->name()).text;
      e->name_span = e->span;
      return e;
    }
    return nullptr;
  }

  static ast::Op compare_op(G::CompareOpContext* c) {
    if (!c || !c->getStart()) return ast::Op::Eq;
    switch (c->getStart()->getType()) {
      case L::EQ: return ast::Op::Eq;
      case L::NEQ: return ast::Op::Ne;
      case L::EQ_CI: return ast::Op::EqCi;
      case L::NEQ_CI: return ast::Op::NeCi;
      case L::LT: return ast::Op::Lt;
      case L::LE: return ast::Op::Le;
      case L::GT: return ast::Op::Gt;
      default: return ast::Op::Ge;
    }
  }

  // ---- literals ----
  Value literal(G::LiteralContext* ctx) {
    if (!ctx || !ctx->getStart()) return {};
    auto* t = ctx->getStart();
    auto text = t->getText();
    auto sp = span(t);
    switch (t->getType()) {
      case L::STRING: return string_value(t);
      case L::RAW_STRING: return Value::string(text.substr(2, text.size() - 3));
      case L::TRUE: return Value::boolean(true);
      case L::FALSE: return Value::boolean(false);
      case L::INT: {
        std::int64_t v = 0;
        for (char ch : text) {
          if (v > (std::numeric_limits<std::int64_t>::max() - (ch - '0')) / 10) {
            sink_.report(Code::IntegerOutOfRange, sp, fmt::format("integer `{}` does not fit in 64 bits", text))
                .help("the largest integer is 9223372036854775807");
            return Value::integer(0);
          }
          v = v * 10 + (ch - '0');
        }
        return Value::integer(v);
      }
      case L::REAL: return Value::real(std::strtod(text.c_str(), nullptr));
      case L::DURATION: return Value::duration(duration(t));
      case L::DATETIME: {
        auto v = literals::parse_datetime(text);
        if (!v) {
          sink_.report(Code::InvalidDatetime, sp, fmt::format("`{}` is not a valid date and time", text))
              .label("no such day or time")
              .help("datetimes are ISO-8601: `2023-05-15` or `2023-05-15T00:00:00Z`");
          return Value::datetime(0);
        }
        return Value::datetime(*v);
      }
      case L::IPV4:
      case L::IPV6: {
        auto v = literals::parse_ip(text);
        if (!v) {
          sink_.report(Code::InvalidIpAddress, sp, fmt::format("`{}` is not a valid IP address", text))
              .help(t->getType() == L::IPV4 ? "each part of an IPv4 address is 0 to 255" : "");
          Value x; x.kind = LitKind::Ip; x.s = text; return x;
        }
        Value x;
        x.kind = LitKind::Ip;
        x.s = *v;
        return x;
      }
      case L::IPV4_CIDR:
      case L::IPV6_CIDR: {
        literals::CidrError err{};
        auto c = literals::parse_cidr(text, &err);
        Value x;
        x.kind = LitKind::Cidr;
        x.s = text;
        if (!c) {
          if (err == literals::CidrError::BadPrefix) {
            auto slash = static_cast<std::uint32_t>(text.find('/'));
            source::Span ps{sp.file, sp.begin + slash + 1, sp.end};
            sink_.report(Code::InvalidCidrPrefix, ps, fmt::format("prefix length in `{}` is out of range", text))
                .help(t->getType() == L::IPV4_CIDR ? "an IPv4 prefix is 0 to 32" : "an IPv6 prefix is 0 to 128");
          } else {
            sink_.report(Code::InvalidIpAddress, sp, fmt::format("`{}` has an invalid address part", text))
                .help("each part of an IPv4 address is 0 to 255");
          }
          return x;
        }
        x.s = fmt::format("{}/{}", c->address, c->prefix);
        x.prefix = c->prefix;
        return x;
      }
      case L::GUID: {
        Value x;
        x.kind = LitKind::Guid;
        x.s = text;
        return x;
      }
      default: return {};
    }
  }

  Value string_value(antlr4::Token* t) {
    if (!t) return Value::string("");
    auto text = t->getText();
    if (text.size() < 2) return Value::string("");
    std::size_t bad = 0, len = 0;
    auto v = literals::unescape(std::string_view(text).substr(1, text.size() - 2), &bad, &len);
    if (!v) {
      auto sp = span(t);
      // the escape's byte offset: quote + offset into the body (the token text is bytes)
      source::Span es{sp.file, sp.begin + 1 + static_cast<std::uint32_t>(bad),
                      sp.begin + 1 + static_cast<std::uint32_t>(bad + len)};
      sink_.report(Code::InvalidEscape, es,
                   fmt::format("unknown escape `{}` in string", text.substr(1 + bad, len)))
          .help("escapes are \\\" \\\\ \\n \\r \\t \\0 \\uXXXX \\u{X...}; for regexes use a raw string r\"...\"");
      return Value::string(text.substr(1, text.size() - 2));
    }
    return Value::string(std::move(*v));
  }

  std::int64_t duration(antlr4::tree::TerminalNode* n) { return n ? duration(n->getSymbol()) : 0; }
  std::int64_t duration(antlr4::Token* t) {
    if (!t) return 0;
    auto v = literals::parse_duration(t->getText());
    if (!v) {
      sink_.report(Code::InvalidDuration, span(t), fmt::format("duration `{}` is out of range", t->getText()));
      return 0;
    }
    return *v;
  }

 private:
  const source::SourceFile& file_;
  const OffsetMap& map_;
  diag::Sink& sink_;
  int depth_ = 0;
  bool too_deep_reported_ = false;
};

void report_lexical(antlr4::CommonTokenStream& tokens, const source::SourceFile& file, const OffsetMap& map,
                    diag::Sink& sink) {
  for (auto* t : tokens.getTokens()) {
    auto type = t->getType();
    if (!is_error_token(type)) continue;
    source::Span sp{file.id(), map.byte(t->getStartIndex()), map.byte(t->getStopIndex() + 1)};
    if (type == L::UNTERMINATED_STRING) {
      sink.report(Code::UnterminatedString, sp, "string literal is not closed on this line")
          .label("string starts here")
          .help("add a closing `\"`; write a newline inside a string as \\n");
    } else if (type == L::UNTERMINATED_COMMENT) {
      sink.report(Code::UnterminatedComment, source::Span{sp.file, sp.begin, sp.begin + 2},
                  "block comment is never closed")
          .help("close it with `*/`");
    } else {
      auto text = t->getText();
      auto b = sink.report(Code::UnexpectedCharacter, sp, fmt::format("unexpected character `{}`", text));
      if (text == "'") b.help("strings use double quotes: \"...\"");
      else if (text == "&" || text == "|") b.help("Ward writes `and` / `or`");
      else if (text == "!") b.help("negate with `not`, or use `!=`, `!in`, `!contains`, `!has`, `!startswith`");
    }
  }
}

template <typename Fn>
auto run_parser(const source::SourceFile& file, diag::Sink& sink, Fn&& entry) {
  OffsetMap map(file.text());
  FastLexer lexer(file.text());  // lexical errors come back as error tokens
  antlr4::CommonTokenStream tokens(&lexer);
  tokens.fill();
  report_lexical(tokens, file, map, sink);
  {
    // ANTLR recurses once per bracket level: refuse inputs that would exhaust the stack.
    int depth = 0;
    int operators = 0;
    for (auto* t : tokens.getTokens()) {
      auto type = t->getType();
      bool open = type == L::LPAREN || type == L::LBRACK;
      bool close = type == L::RPAREN || type == L::RBRACK;
      depth += open ? 1 : close ? -1 : 0;
      // a binary-operator chain is as deep as it is long once it is a tree
      bool binary = type == L::AND || type == L::OR || type == L::NOT || type == L::PLUS || type == L::MINUS || type == L::STAR ||
                    type == L::SLASH;
      operators = binary ? operators + 1 : (type == L::RBRACE || type == L::VAR ? 0 : operators);
      if (depth > kMaxBracketDepth || operators > kMaxDepth) {
        source::Span sp{file.id(), map.byte(t->getStartIndex()), map.byte(t->getStopIndex() + 1)};
        sink.report(Code::NestingTooDeep, sp,
                    depth > kMaxBracketDepth
                        ? fmt::format("brackets nested more than {} levels deep", kMaxBracketDepth)
                        : fmt::format("more than {} operators in one expression", kMaxDepth))
            .help("split the condition, or put the values in a `list` and test with `in`");
        using R = decltype(entry(std::declval<G&>(), std::declval<Builder&>()));
        ast::File empty;
        empty.file = file.id();
        if constexpr (std::is_same_v<R, ast::File>) return empty;
      }
    }
  }
  G parser(&tokens);
  parser.removeErrorListeners();
  // Two-stage parsing: SLL with bail-out first (fast), full LL with recovery on failure.
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::SLL);
  parser.setErrorHandler(std::make_shared<antlr4::BailErrorStrategy>());
  Builder builder(file, map, sink);
  try {
    return entry(parser, builder);
  } catch (antlr4::ParseCancellationException&) {
  }
  tokens.seek(0);
  parser.reset();
  ErrorListener listener(file.id(), map, sink);
  parser.addErrorListener(&listener);
  parser.setErrorHandler(std::make_shared<antlr4::DefaultErrorStrategy>());
  parser.getInterpreter<antlr4::atn::ParserATNSimulator>()->setPredictionMode(antlr4::atn::PredictionMode::LL);
  return entry(parser, builder);
}

}  // namespace

std::string dump_tokens(const std::string& text, bool reference) {
  std::string out;
  auto dump = [&](antlr4::TokenSource& src) {
    while (true) {
      auto t = src.nextToken();
      out += fmt::format("{} {} {} {} {} {} {}\n", t->getType(), t->getChannel(), t->getStartIndex(),
                         static_cast<long long>(t->getStopIndex()), t->getLine(), t->getCharPositionInLine(),
                         literals::quote(t->getText()));
      if (t->getType() == antlr4::Token::EOF) break;
    }
  };
  if (reference) {
    antlr4::ANTLRInputStream input(text);
    L lexer(&input);
    lexer.removeErrorListeners();
    dump(lexer);
  } else {
    FastLexer lexer(text);
    dump(lexer);
  }
  return out;
}

ast::File parse(const source::SourceFile& file, diag::Sink& sink) {
  // The recursive-descent fast path; ANTLR (and its diagnostics) for anything it gives up on.
  if (auto fast = parse_fast(file)) return std::move(*fast);
  return parse_reference(file, sink);
}

ast::File parse_reference(const source::SourceFile& file, diag::Sink& sink) {
  if (auto bad = source::first_invalid_utf8(file.text()); bad != std::string::npos) {
    sink.report(Code::InvalidUtf8, source::Span{file.id(), static_cast<std::uint32_t>(bad),
                                                static_cast<std::uint32_t>(bad + 1)},
                "the file is not valid UTF-8")
        .help("save the file as UTF-8");
    ast::File f;
    f.file = file.id();
    return f;
  }
  return run_parser(file, sink, [](G& p, Builder& b) { return b.file(p.file()); });
}

}  // namespace ward::syntax
