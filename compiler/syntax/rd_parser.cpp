// Recursive descent over grammar/WardParser.g4, building what ast_builder.cpp builds.
//
// How ANTLR's choices are reproduced:
// - `expr` is left-recursive; ANTLR turns it into precedence climbing. Its alternatives get
//   precedence 19 (memberExpr, listed first) down to 7 (orExpr). A binary operator of
//   precedence p continues an `expr[q]` when p >= q and parses its right operand as
//   `expr[p + 1]` (left associative); the prefix operators parse their operand as `expr[p]`
//   with their own p (`-` 17, `not` 9), whatever the caller's q. Pratt parsing with those
//   numbers is the same function.
// - Every other decision is LL(1) or LL(2) here, except where a keyword is also a `name`
//   (`in cidr`, `expect x expect ...`, an outcome field named `has`). ANTLR resolves an
//   ambiguity to the lowest-numbered alternative, and the first alternative of `?`, `*` and
//   of the operator loop is "take it", so this parser is greedy and lists alternatives in
//   the grammar's order; where greedy is wrong the parse fails, and a failure here only
//   means that ANTLR parses the file instead.
// - Spans are those of the parse-tree contexts: from a node's first token to the last token
//   consumed for it (off-channel tokens never count).
#include "syntax/rd_parser.h"

#include <fmt/format.h>

#include <array>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "WardLexer.h"
#include "ast/literals.h"
#include "syntax/lexer.h"
#include "syntax/limits.h"

namespace ward::syntax {

namespace {

using L = grammar::WardLexer;
using ast::ExprPtr;
using K = ast::Expr::Kind;

constexpr std::uint16_t kEof = 0;  // ANTLR's types start at 1

struct Tok {
  std::uint16_t type;
  std::uint32_t begin, end;  // bytes
};

// Token classes, indexed by type.
struct Classes {
  std::array<bool, 256> name{}, literal{}, expr_start{};
  Classes() {
    static_assert(L::ERROR_CHAR < 256);
    for (std::size_t t : {L::IDENT, L::TECHNIQUE, L::IMPORT, L::TABLE, L::CONST, L::LIST, L::FILE, L::RULE, L::META,
                          L::EVENTS, L::CONDITION, L::OUTCOME, L::ENTITIES, L::SCHEDULE, L::EVERY, L::OVER, L::NRT,
                          L::SUPPRESS, L::FOR, L::TEST, L::SCENARIO, L::TRACE, L::EXPECT, L::WHERE, L::BY, L::WITHIN,
                          L::BEFORE, L::AFTER, L::SEQUENCE, L::THEN, L::IN, L::CONTAINS, L::STARTSWITH, L::ENDSWITH,
                          L::HAS, L::MATCHES, L::REGEX, L::CIDR})
      name[t] = expr_start[t] = true;
    for (std::size_t t : {L::STRING, L::RAW_STRING, L::INT, L::REAL, L::DURATION, L::DATETIME, L::IPV4, L::IPV4_CIDR,
                          L::IPV6, L::IPV6_CIDR, L::GUID, L::TRUE, L::FALSE})
      literal[t] = expr_start[t] = true;
    for (std::size_t t : {L::MINUS, L::NOT, L::LPAREN, L::LBRACK, L::VAR}) expr_start[t] = true;
  }
};
const Classes kClasses;

// An expression and the depth of its parse tree (parentheses included), which is how deep
// the AST builder recurses for it.
struct Sub {
  ExprPtr e;
  int height = 0;
};

class Parser {
 public:
  explicit Parser(const source::SourceFile& file) : file_(file), text_(file.text()) {}

  std::optional<ast::File> run() {
    if (!lex()) return std::nullopt;
    ast::File f;
    f.file = file_.id();
    while (!failed_ && !at(kEof)) {
      switch (type()) {
        case L::IMPORT: f.imports.push_back(import_decl()); break;
        case L::TABLE: f.tables.push_back(table_decl()); break;
        case L::CONST: f.consts.push_back(const_decl()); break;
        case L::LIST: f.lists.push_back(list_decl()); break;
        case L::RULE: f.rules.push_back(rule_decl()); break;
        default: fail(); break;
      }
    }
    if (failed_) return std::nullopt;
    return f;
  }

 private:
  // ---- tokens ----

  // All default-channel tokens, then EOF. False where the ANTLR path would report something
  // before parsing: an error token, or nesting past its pre-check (ast_builder.cpp's run_parser).
  bool lex() {
    if (text_.size() >= std::numeric_limits<std::uint32_t>::max()) return false;
    toks_.reserve(text_.size() / 4 + 1);
    int depth = 0, operators = 0;
    for (std::size_t pos = 0; pos < text_.size();) {
      auto [n, type] = lex_at(text_, pos);
      auto begin = static_cast<std::uint32_t>(pos);
      pos += n;
      if (type == L::WS || type == L::LINE_COMMENT || type == L::BLOCK_COMMENT) continue;
      if (type == L::UNTERMINATED_STRING || type == L::UNTERMINATED_COMMENT || type == L::ERROR_CHAR) return false;
      depth += type == L::LPAREN || type == L::LBRACK ? 1 : type == L::RPAREN || type == L::RBRACK ? -1 : 0;
      bool binary = type == L::AND || type == L::OR || type == L::NOT || type == L::PLUS || type == L::MINUS ||
                    type == L::STAR || type == L::SLASH;
      operators = binary ? operators + 1 : (type == L::RBRACE || type == L::VAR ? 0 : operators);
      if (depth > kMaxBracketDepth || operators > kMaxDepth) return false;
      toks_.push_back({static_cast<std::uint16_t>(type), begin, static_cast<std::uint32_t>(pos)});
    }
    auto end = static_cast<std::uint32_t>(text_.size());
    toks_.push_back({kEof, end, end});
    eof_ = toks_.size() - 1;
    return true;
  }

  std::size_t type(std::size_t ahead = 0) const { return toks_[std::min(pos_ + ahead, eof_)].type; }
  bool at(std::size_t t) const { return type() == t; }
  bool is_name(std::size_t ahead = 0) const { return kClasses.name[type(ahead)]; }
  // Once failed, the parser sits on EOF: every loop ends and nothing more is consumed.
  void fail() {
    failed_ = true;
    pos_ = eof_;
  }
  const Tok& take() {
    const Tok& t = toks_[pos_];
    if (pos_ < eof_) ++pos_;
    last_end_ = t.end;
    return t;
  }
  const Tok& expect(std::size_t t) {
    if (!at(t)) fail();
    return take();
  }
  bool accept(std::size_t t) {
    if (!at(t)) return false;
    take();
    return true;
  }
  std::string_view text(const Tok& t) const { return std::string_view(text_).substr(t.begin, t.end - t.begin); }
  source::Span span(const Tok& t) const { return {file_.id(), t.begin, t.end}; }
  // From byte `begin` to the end of the last token consumed.
  source::Span since(std::uint32_t begin) const { return {file_.id(), begin, std::max(begin, last_end_)}; }
  std::uint32_t here() const { return toks_[pos_].begin; }

  ast::Name name() {
    if (!is_name()) {
      fail();
      return {};
    }
    const Tok& t = take();
    return {std::string(text(t)), span(t)};
  }
  ast::Name var_name() {
    const Tok& t = expect(L::VAR);
    if (failed_) return {};
    return {std::string(text(t).substr(1)), span(t)};
  }

  // ---- items ----

  ast::Import import_decl() {
    ast::Import i;
    auto b = take().begin;
    if (at(L::STRING)) i.path = string_value(take());
    else i.module = name();
    i.span = since(b);
    return i;
  }

  ast::TableDecl table_decl() {
    ast::TableDecl t;
    auto b = take().begin;
    t.name = name();
    if (at(L::STRING)) t.doc = string_value(take());
    expect(L::LBRACE);
    while (is_name()) {
      ast::ColumnDecl col;
      col.name = name();
      expect(L::COLON);
      col.type = name();
      if (at(L::STRING)) col.doc = string_value(take());
      accept(L::COMMA);
      t.columns.push_back(std::move(col));
    }
    expect(L::RBRACE);
    t.span = since(b);
    return t;
  }

  ast::ConstDecl const_decl() {
    ast::ConstDecl c;
    auto b = take().begin;
    c.name = name();
    if (accept(L::COLON)) c.type = name();
    expect(L::ASSIGN);
    c.value = top_expr();
    c.span = since(b);
    return c;
  }

  ast::ListDecl list_decl() {
    ast::ListDecl l;
    auto b = take().begin;
    l.name = name();
    expect(L::COLON);
    l.elem_type = name();
    expect(L::ASSIGN);
    if (at(L::LBRACK)) {
      l.items = bracket_list();
    } else if (accept(L::FILE)) {
      expect(L::LPAREN);
      const Tok& path = expect(L::STRING);
      if (!failed_) {
        l.from_file = true;
        l.path = string_value(path);
        l.path_span = span(path);
      }
      expect(L::RPAREN);
    } else {
      fail();
    }
    l.span = since(b);
    return l;
  }

  // `[` (expr (`,` expr)* `,`?)? `]`, each a whole expression.
  std::vector<ExprPtr> bracket_list() {
    std::vector<ExprPtr> items;
    expect(L::LBRACK);
    while (!failed_ && !at(L::RBRACK)) {
      items.push_back(top_expr());
      if (!accept(L::COMMA)) break;
    }
    expect(L::RBRACK);
    return items;
  }

  // ---- rules ----

  ast::Rule rule_decl() {
    ast::Rule r;
    auto b = take().begin;
    r.name = name();
    expect(L::LBRACE);
    while (!failed_) {
      switch (type()) {
        case L::META:
          r.meta_spans.push_back(span(take()));
          expect(L::LBRACE);
          while (is_name()) r.meta.push_back(meta_entry());
          expect(L::RBRACE);
          continue;
        case L::EVENTS:
          r.events_spans.push_back(span(take()));
          expect(L::LBRACE);
          while (at(L::VAR)) r.events.push_back(event_decl());
          expect(L::RBRACE);
          continue;
        case L::CONDITION: r.conditions.push_back(correlation()); continue;
        case L::OUTCOME:
          r.outcome_spans.push_back(span(take()));
          expect(L::LBRACE);
          while (is_name()) {
            ast::OutcomeField f;
            f.name = name();
            expect(L::ASSIGN);
            f.value = top_expr();
            accept(L::COMMA);
            r.outcome.push_back(std::move(f));
          }
          expect(L::RBRACE);
          continue;
        case L::ENTITIES:
          r.entities_spans.push_back(span(take()));
          expect(L::LBRACE);
          while (is_name()) {
            ast::EntityMap m;
            auto mb = here();
            m.type = name();
            expect(L::LBRACE);
            while (is_name()) {
              ast::EntityIdent i;
              i.identifier = name();
              expect(L::ASSIGN);
              i.field = name();
              accept(L::COMMA);
              m.idents.push_back(std::move(i));
            }
            expect(L::RBRACE);
            m.span = since(mb);
            r.entities.push_back(std::move(m));
          }
          expect(L::RBRACE);
          continue;
        case L::SCHEDULE: r.schedules.push_back(schedule()); continue;
        case L::SUPPRESS: {
          ast::Suppress s;
          auto sb = take().begin;
          expect(L::FOR);
          s.ticks = duration(expect(L::DURATION));
          s.span = since(sb);
          r.suppressions.push_back(s);
          continue;
        }
        case L::TEST: r.tests.push_back(test_decl()); continue;
        default: break;
      }
      break;
    }
    expect(L::RBRACE);
    r.span = since(b);
    return r;
  }

  ast::MetaEntry meta_entry() {
    ast::MetaEntry m;
    m.key = name();
    expect(L::ASSIGN);
    m.value = meta_value();
    accept(L::COMMA);
    return m;
  }

  ast::MetaValue meta_value() {
    ast::MetaValue v;
    auto b = here();
    if (kClasses.literal[type()]) {
      v.kind = ast::MetaValue::Kind::Literal;
      v.value = literal(take());
    } else if (is_name()) {
      // metaName before metaTechnique: a TECHNIQUE token is also a `name`, and ANTLR
      // resolves the ambiguity to the first alternative
      v.kind = ast::MetaValue::Kind::Name;
      v.text = std::string(text(take()));
    } else if (accept(L::LBRACK)) {
      v.kind = ast::MetaValue::Kind::List;
      while (!failed_ && !at(L::RBRACK)) {
        v.items.push_back(meta_value());
        if (!accept(L::COMMA)) break;
      }
      expect(L::RBRACK);
    } else {
      fail();
    }
    v.span = since(b);
    return v;
  }

  ast::EventDecl event_decl() {
    ast::EventDecl e;
    auto b = here();
    e.var = var_name();
    expect(L::ASSIGN);
    e.table = name();
    if (accept(L::WHERE)) e.where = top_expr();
    e.span = since(b);
    return e;
  }

  ast::Condition correlation() {
    using CK = ast::Condition::Kind;
    ast::Condition c;
    auto b = take().begin;  // `condition`
    bool tail = true;       // byKeys? window? follow
    if (at(L::SEQUENCE) && type(1) == L::VAR) {
      c.kind = CK::Sequence;
      take();
      c.vars.push_back(var_name());
      if (!at(L::THEN)) fail();
      while (accept(L::THEN)) c.vars.push_back(var_name());
    } else if (accept(L::NOT)) {
      c.kind = CK::BareAbsence;
      c.vars.push_back(var_name());
    } else if (at(L::VAR) && type(1) == L::AND) {
      c.kind = type(2) == L::NOT ? CK::Absence : CK::Join;
      c.vars.push_back(var_name());
      take();  // and
      if (c.kind == CK::Absence) take();
      c.vars.push_back(var_name());
    } else if (at(L::VAR)) {
      c.kind = CK::Single;
      c.vars.push_back(var_name());
      tail = false;
    } else if (is_name() && type(1) == L::LPAREN) {
      c.kind = CK::Threshold;
      c.agg = name();
      take();  // (
      c.agg_arg = top_expr();
      expect(L::RPAREN);
      auto op = compare_op(type());
      if (!op) fail();
      c.cmp = op.value_or(ast::Op::Ge);
      c.cmp_span = span(take());
      c.threshold = top_expr();
    } else {
      fail();
    }
    if (tail && at(L::BY)) {
      c.by_span = span(take());
      do {
        ast::KeyGroup g;
        auto gb = here();
        g.exprs.push_back(top_expr());
        while (accept(L::ASSIGN)) g.exprs.push_back(top_expr());
        g.span = since(gb);
        c.keys.push_back(std::move(g));
      } while (accept(L::COMMA));
    }
    if (tail && at(L::WITHIN)) {
      ast::Window w;
      auto wb = take().begin;
      const Tok& d = expect(L::DURATION);
      w.duration_span = span(d);
      w.ticks = duration(d);
      if (at(L::BEFORE) || at(L::AFTER)) {
        w.dir = take().type == L::BEFORE ? ast::Direction::Before : ast::Direction::After;
        if (at(L::VAR)) w.anchor = var_name();
      }
      w.span = since(wb);
      c.window = std::move(w);
    }
    c.span = since(b);
    return c;
  }

  ast::Schedule schedule() {
    ast::Schedule s;
    auto b = take().begin;
    if (accept(L::NRT)) {
      s.nrt = true;
    } else {
      expect(L::EVERY);
      const Tok& f = expect(L::DURATION);
      s.frequency = duration(f);
      s.frequency_span = span(f);
      expect(L::OVER);
      const Tok& p = expect(L::DURATION);
      s.period = duration(p);
      s.period_span = span(p);
    }
    s.span = since(b);
    return s;
  }

  ast::Test test_decl() {
    ast::Test t;
    auto b = take().begin;
    const Tok& n = expect(L::STRING);
    if (!failed_) {
      t.name = string_value(n);
      t.name_span = span(n);
    }
    expect(L::LBRACE);
    while (at(L::SCENARIO) || at(L::TRACE) || at(L::EXPECT)) {
      ast::TestItem item;
      auto ib = here();
      auto kind = take().type;
      if (kind == L::SCENARIO || kind == L::TRACE) {
        item.kind = kind == L::SCENARIO ? ast::TestItem::Kind::Scenario : ast::TestItem::Kind::Trace;
        const Tok& s = expect(L::STRING);
        if (!failed_) {
          item.text = string_value(s);
          item.text_span = span(s);
        }
        if (kind == L::SCENARIO && accept(L::LBRACE)) {
          while (is_name()) item.params.push_back(meta_entry());
          expect(L::RBRACE);
        }
      } else {
        item.kind = ast::TestItem::Kind::Expect;
        item.what = name();
        if (auto op = compare_op(type())) {
          take();
          item.cmp = op;
        }
        if (kClasses.literal[type()] || is_name() || at(L::LBRACK)) {
          // A value that is also the keyword of the next item: two tokens decide, except for
          // `expect` followed by an item keyword, where greedy is ANTLR's choice when both parse.
          bool item_keyword = at(L::SCENARIO) || at(L::TRACE) || at(L::EXPECT);
          auto t1 = type(1);
          bool follows_item = t1 == L::SCENARIO || t1 == L::TRACE || t1 == L::EXPECT || t1 == L::RBRACE;
          bool take_value = !item_keyword || (at(L::EXPECT) ? follows_item || !kClasses.name[t1] : follows_item);
          if (take_value) item.value = meta_value();
        }
      }
      item.span = since(ib);
      t.items.push_back(std::move(item));
    }
    expect(L::RBRACE);
    t.span = since(b);
    return t;
  }

  // ---- expressions ----

  static std::optional<ast::Op> compare_op(std::size_t t) {
    switch (t) {
      case L::EQ: return ast::Op::Eq;
      case L::NEQ: return ast::Op::Ne;
      case L::EQ_CI: return ast::Op::EqCi;
      case L::NEQ_CI: return ast::Op::NeCi;
      case L::LT: return ast::Op::Lt;
      case L::LE: return ast::Op::Le;
      case L::GT: return ast::Op::Gt;
      case L::GE: return ast::Op::Ge;
      default: return std::nullopt;
    }
  }

  ExprPtr top_expr() { return expr(0).e; }

  ExprPtr node(K kind, std::uint32_t begin) {
    auto e = std::make_unique<ast::Expr>();
    e->kind = kind;
    e->span = since(begin);
    return e;
  }

  // Gives up where the AST builder reports E0113 (a parse tree deeper than kMaxDepth).
  Sub checked(Sub s) {
    if (s.height > kMaxDepth) fail();
    return s;
  }

  // `expr[min_prec]` of the left-recursion-free form ANTLR generates.
  Sub expr(int min_prec) {
    struct Guard {
      int& d;
      explicit Guard(int& x) : d(++x) {}
      ~Guard() { --d; }
    } guard(nesting_);
    // every level of this recursion is a level of the final tree
    if (nesting_ > kMaxDepth || failed_) {
      fail();
      return {};
    }
    auto begin = here();
    Sub left = primary();
    while (!failed_) {
      auto t = type();
      // precedence of the operator at the cursor (ANTLR's numbering), 0 if none
      int prec = 0;
      ast::Op op = ast::Op::Eq;
      switch (t) {
        case L::DOT: prec = 19; break;
        case L::LBRACK: prec = 18; break;
        case L::STAR: prec = 16, op = ast::Op::Mul; break;
        case L::SLASH: prec = 16, op = ast::Op::Div; break;
        case L::PERCENT: prec = 16, op = ast::Op::Mod; break;
        case L::PLUS: prec = 15, op = ast::Op::Add; break;
        case L::MINUS: prec = 15, op = ast::Op::Sub; break;
        case L::CONTAINS: prec = 13, op = ast::Op::Contains; break;
        case L::NOT_CONTAINS: prec = 13, op = ast::Op::NotContains; break;
        case L::STARTSWITH: prec = 13, op = ast::Op::StartsWith; break;
        case L::NOT_STARTSWITH: prec = 13, op = ast::Op::NotStartsWith; break;
        case L::ENDSWITH: prec = 13, op = ast::Op::EndsWith; break;
        case L::NOT_ENDSWITH: prec = 13, op = ast::Op::NotEndsWith; break;
        case L::HAS: prec = 13, op = ast::Op::Has; break;
        case L::NOT_HAS: prec = 13, op = ast::Op::NotHas; break;
        case L::MATCHES: prec = 12, op = ast::Op::Regex; break;
        case L::IN:
        case L::NOT_IN:
          // cidrExpr comes before inExpr: `x in cidr [...]` is also `x in (cidr[...])`
          if (type(1) == L::CIDR && kClasses.expr_start[type(2)]) prec = 11, op = t == L::IN ? ast::Op::InCidr : ast::Op::NotInCidr;
          else prec = 10, op = t == L::IN ? ast::Op::In : ast::Op::NotIn;
          break;
        case L::IN_CI: prec = 10, op = ast::Op::InCi; break;
        case L::NOT_IN_CI: prec = 10, op = ast::Op::NotInCi; break;
        case L::AND: prec = 8, op = ast::Op::And; break;
        case L::OR: prec = 7, op = ast::Op::Or; break;
        default:
          if (auto c = compare_op(t)) prec = 14, op = *c;
          break;
      }
      if (prec == 0 || prec < min_prec) break;
      // An operator that is also a `name` continues the expression only if what follows can be
      // its right side (ANTLR's loop exits otherwise): an outcome field may be named `has`.
      if (kClasses.name[t] && !(t == L::MATCHES ? type(1) == L::REGEX : kClasses.expr_start[type(1)])) break;
      if (prec == 19) {  // member
        take();
        auto e = node(K::Member, begin);
        const Tok& n = toks_[pos_];
        auto member = name();
        e->name = std::move(member.text);
        e->name_span = span(n);
        e->span = since(begin);
        e->args.push_back(std::move(left.e));
        left = checked({std::move(e), left.height + 1});
        continue;
      }
      if (prec == 18) {  // index
        take();
        Sub index = expr(0);
        expect(L::RBRACK);
        auto e = node(K::Index, begin);
        int h = 1 + std::max(left.height, index.height);
        e->args.push_back(std::move(left.e));
        e->args.push_back(std::move(index.e));
        left = checked({std::move(e), h});
        continue;
      }
      auto op_begin = take().begin;
      if (prec == 12) expect(L::REGEX);
      if (prec == 11) take();  // cidr
      auto op_span = since(op_begin);
      Sub right = expr(prec + 1);
      auto e = node(K::Binary, begin);
      e->op = op;
      e->op_span = op_span;
      int h = 1 + std::max(left.height, right.height);
      e->args.push_back(std::move(left.e));
      e->args.push_back(std::move(right.e));
      left = checked({std::move(e), h});
    }
    return left;
  }

  Sub primary() {
    auto begin = here();
    auto t = type();
    if (t == L::MINUS || t == L::NOT) {
      auto op_span = span(take());
      Sub operand = expr(t == L::MINUS ? 17 : 9);
      auto e = node(K::Unary, begin);
      e->op = t == L::MINUS ? ast::Op::Neg : ast::Op::Not;
      e->op_span = op_span;
      e->args.push_back(std::move(operand.e));
      return checked({std::move(e), operand.height + 1});
    }
    if (kClasses.name[t] && type(1) == L::LPAREN) {
      const Tok& callee = take();
      take();
      int h = 0;
      std::vector<ExprPtr> args;
      if (!at(L::RPAREN)) {
        do {
          Sub a = expr(0);
          h = std::max(h, a.height);
          args.push_back(std::move(a.e));
        } while (accept(L::COMMA));
      }
      expect(L::RPAREN);
      auto e = node(K::Call, begin);
      e->name = std::string(text(callee));
      e->name_span = span(callee);
      e->args = std::move(args);
      return checked({std::move(e), h + 1});
    }
    if (t == L::LPAREN) {
      take();
      Sub inner = expr(0);
      expect(L::RPAREN);
      if (inner.e) inner.e->span = since(begin);
      inner.height += 1;
      return checked(std::move(inner));
    }
    if (t == L::LBRACK) {
      take();
      int h = 0;
      std::vector<ExprPtr> items;
      while (!failed_ && !at(L::RBRACK)) {
        Sub a = expr(0);
        h = std::max(h, a.height);
        items.push_back(std::move(a.e));
        if (!accept(L::COMMA)) break;
      }
      expect(L::RBRACK);
      auto e = node(K::List, begin);
      e->args = std::move(items);
      return checked({std::move(e), h + 1});
    }
    if (t == L::VAR) {
      const Tok& v = take();
      auto e = node(K::Var, begin);
      e->name = std::string(text(v).substr(1));
      e->name_span = e->span;
      return {std::move(e), 1};
    }
    if (kClasses.literal[t]) {
      auto value = literal(take());
      auto e = node(K::Literal, begin);
      e->value = std::move(value);
      return {std::move(e), 1};
    }
    if (kClasses.name[t]) {
      const Tok& n = take();
      auto e = node(K::Name, begin);
      e->name = std::string(text(n));
      e->name_span = e->span;
      return {std::move(e), 1};
    }
    fail();
    return {};
  }

  // ---- literals: ast_builder.cpp's values, giving up wherever it reports an error ----

  Value literal(const Tok& t) {
    auto s = text(t);
    switch (t.type) {
      case L::STRING: return Value::string(string_value(t));
      case L::RAW_STRING: return Value::string(std::string(s.substr(2, s.size() - 3)));
      case L::TRUE: return Value::boolean(true);
      case L::FALSE: return Value::boolean(false);
      case L::INT: {
        std::int64_t v = 0;
        for (char ch : s) {
          if (v > (std::numeric_limits<std::int64_t>::max() - (ch - '0')) / 10) {
            fail();
            return {};
          }
          v = v * 10 + (ch - '0');
        }
        return Value::integer(v);
      }
      case L::REAL: return Value::real(std::strtod(std::string(s).c_str(), nullptr));
      case L::DURATION: return Value::duration(duration(t));
      case L::DATETIME: {
        auto v = literals::parse_datetime(s);
        if (!v) fail();
        return Value::datetime(v.value_or(0));
      }
      case L::IPV4:
      case L::IPV6: {
        auto v = literals::parse_ip(s);
        if (!v) fail();
        Value x;
        x.kind = LitKind::Ip;
        x.s = v.value_or("");
        return x;
      }
      case L::IPV4_CIDR:
      case L::IPV6_CIDR: {
        auto c = literals::parse_cidr(s);
        Value x;
        x.kind = LitKind::Cidr;
        if (!c) {
          fail();
          return x;
        }
        x.s = fmt::format("{}/{}", c->address, c->prefix);
        x.prefix = c->prefix;
        return x;
      }
      case L::GUID: {
        Value x;
        x.kind = LitKind::Guid;
        x.s = std::string(s);
        return x;
      }
      default: fail(); return {};
    }
  }

  std::string string_value(const Tok& t) {
    auto s = text(t);
    if (s.size() < 2) return "";
    std::size_t bad = 0, len = 0;
    auto v = literals::unescape(s.substr(1, s.size() - 2), &bad, &len);
    if (!v) {
      fail();
      return "";
    }
    return std::move(*v);
  }

  std::int64_t duration(const Tok& t) {
    if (t.type != L::DURATION) return 0;  // after a failed expect()
    auto v = literals::parse_duration(text(t));
    if (!v) fail();
    return v.value_or(0);
  }

  const source::SourceFile& file_;
  const std::string& text_;
  std::vector<Tok> toks_;
  std::size_t pos_ = 0, eof_ = 0;
  std::uint32_t last_end_ = 0;
  int nesting_ = 0;
  bool failed_ = false;
};

}  // namespace

std::optional<ast::File> parse_fast(const source::SourceFile& file) {
  if (source::first_invalid_utf8(file.text()) != std::string::npos) return std::nullopt;
  return Parser(file).run();
}

}  // namespace ward::syntax
