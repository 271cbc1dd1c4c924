#include "ast/dump.h"

#include <fmt/format.h>

#include "ast/literals.h"

namespace ward::ast {

namespace {

class Dumper {
 public:
  std::string out;

  void file(const File& f) {
    line(0, fmt::format("file {}", f.file));
    for (const auto& i : f.imports) {
      line(1, fmt::format("import {} path={}", span(i.span), literals::quote(i.path)));
      if (i.module) name(2, "module", *i.module);
    }
    for (const auto& t : f.tables) {
      line(1, fmt::format("table {} doc={}", span(t.span), literals::quote(t.doc)));
      name(2, "name", t.name);
      for (const auto& c : t.columns) {
        line(2, fmt::format("column doc={}", literals::quote(c.doc)));
        name(3, "name", c.name);
        name(3, "type", c.type);
      }
    }
    for (const auto& c : f.consts) {
      line(1, fmt::format("const {}", span(c.span)));
      name(2, "name", c.name);
      if (c.type) name(2, "type", *c.type);
      expr(2, c.value.get());
    }
    for (const auto& l : f.lists) {
      line(1, fmt::format("list {} from_file={} path={} path_span={}", span(l.span), l.from_file,
                          literals::quote(l.path), span(l.path_span)));
      name(2, "name", l.name);
      name(2, "elem_type", l.elem_type);
      for (const auto& e : l.items) expr(2, e.get());
    }
    for (const auto& r : f.rules) rule(1, r);
  }

 private:
  static std::string span(const Span& s) { return fmt::format("{}:{}-{}", s.file, s.begin, s.end); }

  void line(int depth, const std::string& text) {
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
    out += text;
    out += '\n';
  }

  void name(int d, const char* what, const Name& n) {
    line(d, fmt::format("{} {} {}", what, literals::quote(n.text), span(n.span)));
  }

  static std::string value(const Value& v) {
    return fmt::format("value kind={} b={} i={} r={:a} s={} prefix={}", static_cast<int>(v.kind), v.b, v.i, v.r,
                       literals::quote(v.s), v.prefix);
  }

  void spans(int d, const char* what, const std::vector<Span>& v) {
    std::string s = what;
    for (const auto& x : v) s += " " + span(x);
    line(d, s);
  }

  void expr(int d, const Expr* e) {
    if (!e) {
      line(d, "expr null");
      return;
    }
    line(d, fmt::format("expr kind={} {} name={} name_span={} op={} op_span={}", static_cast<int>(e->kind),
                        span(e->span), literals::quote(e->name), span(e->name_span), static_cast<int>(e->op),
                        span(e->op_span)));
    line(d + 1, value(e->value));
    for (const auto& a : e->args) expr(d + 1, a.get());
  }

  void meta_value(int d, const MetaValue& v) {
    line(d, fmt::format("meta_value kind={} {} text={}", static_cast<int>(v.kind), span(v.span), literals::quote(v.text)));
    line(d + 1, value(v.value));
    for (const auto& i : v.items) meta_value(d + 1, i);
  }

  void meta_entry(int d, const MetaEntry& m) {
    line(d, "meta_entry");
    name(d + 1, "key", m.key);
    meta_value(d + 1, m.value);
  }

  void rule(int d, const Rule& r) {
    line(d, fmt::format("rule {}", span(r.span)));
    name(d + 1, "name", r.name);
    spans(d + 1, "meta_spans", r.meta_spans);
    for (const auto& m : r.meta) meta_entry(d + 1, m);
    spans(d + 1, "events_spans", r.events_spans);
    for (const auto& e : r.events) {
      line(d + 1, fmt::format("event {}", span(e.span)));
      name(d + 2, "var", e.var);
      name(d + 2, "table", e.table);
      expr(d + 2, e.where.get());
    }
    for (const auto& c : r.conditions) condition(d + 1, c);
    spans(d + 1, "outcome_spans", r.outcome_spans);
    for (const auto& o : r.outcome) {
      line(d + 1, "outcome");
      name(d + 2, "name", o.name);
      expr(d + 2, o.value.get());
    }
    spans(d + 1, "entities_spans", r.entities_spans);
    for (const auto& m : r.entities) {
      line(d + 1, fmt::format("entity_map {}", span(m.span)));
      name(d + 2, "type", m.type);
      for (const auto& i : m.idents) {
        name(d + 2, "identifier", i.identifier);
        name(d + 2, "field", i.field);
      }
    }
    for (const auto& s : r.schedules)
      line(d + 1, fmt::format("schedule {} nrt={} frequency={} {} period={} {}", span(s.span), s.nrt, s.frequency,
                              span(s.frequency_span), s.period, span(s.period_span)));
    for (const auto& s : r.suppressions) line(d + 1, fmt::format("suppress {} ticks={}", span(s.span), s.ticks));
    for (const auto& t : r.tests) {
      line(d + 1, fmt::format("test {} name={} {}", span(t.span), literals::quote(t.name), span(t.name_span)));
      for (const auto& i : t.items) {
        line(d + 2, fmt::format("item kind={} {} text={} {} cmp={}", static_cast<int>(i.kind), span(i.span),
                                literals::quote(i.text), span(i.text_span),
                                i.cmp ? static_cast<int>(*i.cmp) : -1));
        for (const auto& p : i.params) meta_entry(d + 3, p);
        name(d + 3, "what", i.what);
        if (i.value) meta_value(d + 3, *i.value);
      }
    }
  }

  void condition(int d, const Condition& c) {
    line(d, fmt::format("condition kind={} {} cmp={} cmp_span={} by_span={}", static_cast<int>(c.kind), span(c.span),
                        static_cast<int>(c.cmp), span(c.cmp_span), span(c.by_span)));
    for (const auto& v : c.vars) name(d + 1, "var", v);
    name(d + 1, "agg", c.agg);
    expr(d + 1, c.agg_arg.get());
    expr(d + 1, c.threshold.get());
    for (const auto& k : c.keys) {
      line(d + 1, fmt::format("key_group {}", span(k.span)));
      for (const auto& e : k.exprs) expr(d + 2, e.get());
    }
    if (c.window) {
      const auto& w = *c.window;
      line(d + 1, fmt::format("window {} ticks={} duration_span={} dir={}", span(w.span), w.ticks,
                              span(w.duration_span), static_cast<int>(w.dir)));
      if (w.anchor) name(d + 2, "anchor", *w.anchor);
    }
  }
};

}  // namespace

std::string dump(const File& file) {
  Dumper d;
  d.file(file);
  return std::move(d.out);
}

}  // namespace ward::ast
