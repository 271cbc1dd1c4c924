// `ward coverage --html FILE`: one self-contained HTML file (inline CSS, inline SVG, nothing
// fetched): the step and rule tables, the campaign graph C->D->E->F->G coloured by coverage and
// the rule-to-step matrix, both laid out and rendered to SVG by Graphviz in-process (libgvc).
#include <fmt/format.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>

#include <fstream>
#include <iostream>
#include <memory>

#include "simulator/coverage_report.h"
#include "simulator/replay.h"

namespace ward::sim {

namespace {

// Text for HTML and XML, including Graphviz HTML-like labels: every rule-supplied string goes through here.
std::string esc(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char ch : s) switch (ch) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += ch;
    }
  return o;
}

double ratio(std::uint64_t a, std::uint64_t b) { return b ? static_cast<double>(a) / static_cast<double>(b) : 0.0; }

// Green: caught (recall >= 90%); amber: partly; red: missed; grey: the step has no rows.
const char* colour(std::uint64_t caught, std::uint64_t events) {
  if (events == 0) return "#bdbdbd";
  double r = ratio(caught, events);
  return r >= 0.9 ? "#66bd63" : r > 0 ? "#fdae61" : "#f46d43";
}

// Lay out and render DOT text to an <svg> element (the XML prolog and doctype dropped).
bool render_svg(GVC_t* gvc, const std::string& dot, std::string& svg) {
  std::unique_ptr<Agraph_t, int (*)(Agraph_t*)> g(agmemread(dot.c_str()), agclose);
  if (!g) {
    std::cerr << "error: Graphviz could not read the generated graph\n";
    return false;
  }
  if (gvLayout(gvc, g.get(), "dot") != 0) {
    std::cerr << "error: Graphviz `dot` layout failed (is the graphviz plugin config installed? `dot -c`)\n";
    return false;
  }
  char* data = nullptr;
  unsigned int len = 0;  // gvRenderData takes unsigned int* in Graphviz 2.42
  int rc = gvRenderData(gvc, g.get(), "svg", &data, &len);
  gvFreeLayout(gvc, g.get());
  if (rc != 0 || !data) {
    std::cerr << "error: Graphviz could not render SVG\n";
    if (data) gvFreeRenderData(data);
    return false;
  }
  std::string s(data, len);
  gvFreeRenderData(data);
  auto at = s.find("<svg");
  svg = at == std::string::npos ? s : s.substr(at);
  return true;
}

// Escaped text broken into lines of about `width` characters for a graph node.
std::string wrap(std::string_view s, std::size_t width) {
  std::string o, line;
  std::size_t at = 0;
  while (at < s.size()) {
    auto sp = s.find(' ', at);
    std::string_view w = s.substr(at, sp == std::string_view::npos ? std::string_view::npos : sp - at);
    if (!line.empty() && line.size() + 1 + w.size() > width) {
      o += esc(line) + "<BR/>";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + std::string(w);
    at = sp == std::string_view::npos ? s.size() : sp + 1;
  }
  return o + esc(line);
}

std::string pct(std::uint64_t a, std::uint64_t b) {
  double p = 100 * ratio(a, b);
  return a > 0 && p < 0.5 ? "&lt;1%" : fmt::format("{:.0f}%", p);
}

std::string campaign_dot(const CoverageReport& r) {
  std::string d =
      "digraph campaign {\n rankdir=LR; bgcolor=\"transparent\";\n"
      " node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=12, margin=\"0.15,0.08\"];\n"
      " edge [color=\"#555555\"];\n";
  for (std::size_t i = 0; i < r.steps.size(); ++i) {
    const auto& s = r.steps[i];
    std::string stat = s.events == 0 ? "no rows"
                       : s.caught == 0 ? fmt::format("<B>missed</B>: 0 of {} rows", s.events)
                                       : fmt::format("{} of {} rows<BR/>first alert after {}", pct(s.caught, s.events), s.events, short_duration(s.ttd_s));
    d += fmt::format(" s{} [fillcolor=\"{}\", tooltip=\"{}\", label=<<B>{}</B><BR/>{}<BR/>{}>];\n", s.id, colour(s.caught, s.events),
                     esc(s.what), esc(s.id), wrap(s.what, 24), stat);
  }
  for (std::size_t i = 1; i < r.steps.size(); ++i) d += fmt::format(" s{} -> s{};\n", r.steps[i - 1].id, r.steps[i].id);
  return d + "}\n";
}

std::string matrix_dot(const CoverageReport& r) {
  std::string t =
      "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"6\"><TR><TD BGCOLOR=\"#eeeeee\"><B>rule</B></TD>";
  for (std::size_t i = 1; i < r.steps.size(); ++i) t += fmt::format("<TD BGCOLOR=\"#eeeeee\"><B>{}</B></TD>", esc(r.steps[i].id));
  t += "<TD BGCOLOR=\"#eeeeee\"><B>FP/1k users/day</B></TD></TR>";
  for (const auto& ru : r.rules) {
    t += fmt::format("<TR><TD ALIGN=\"LEFT\">{}</TD>", esc(ru.name));
    for (std::size_t i = 1; i < r.steps.size(); ++i) {
      const auto& rs = ru.steps[i];
      const auto& st = r.steps[i];
      if (st.events == 0)
        t += "<TD BGCOLOR=\"#bdbdbd\">no rows</TD>";
      else if (rs.caught == 0)
        t += "<TD BGCOLOR=\"#ffffff\"> </TD>";
      else
        t += fmt::format("<TD BGCOLOR=\"{}\">{}</TD>", colour(rs.caught, st.events), pct(rs.caught, st.events));
    }
    t += fmt::format("<TD>{:.2f}</TD></TR>", ru.fp_rate);
  }
  t += "</TABLE>";
  return "digraph matrix {\n bgcolor=\"transparent\";\n node [shape=plaintext, fontname=\"Helvetica\", fontsize=12];\n m [label=<" + t +
         ">];\n}\n";
}

const char* kCss = R"(body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
table.t{border-collapse:collapse;margin:.5em 0}table.t th,table.t td{border:1px solid #ccc;padding:4px 8px;text-align:left}
table.t th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.sw{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em;border:1px solid #999}
.yes{background:#66bd63}.part{background:#fdae61}.no{background:#f46d43}.none{background:#bdbdbd}
.graph svg{max-width:100%;height:auto}.muted{color:#666})";

}  // namespace

bool write_html(const CoverageReport& r, const std::string& path) {
  std::unique_ptr<GVC_t, int (*)(GVC_t*)> gvc(gvContext(), gvFreeContext);
  std::string campaign, matrix;
  if (!gvc || !render_svg(gvc.get(), campaign_dot(r), campaign) || !render_svg(gvc.get(), matrix_dot(r), matrix)) return false;

  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>";
  h += esc(fmt::format("Ward coverage: {}", r.scenario));
  h += "</title>\n<style>";
  h += kCss;
  h += "</style></head><body>\n<h1>";
  h += esc(fmt::format("Ward coverage: {}", r.scenario));
  h += "</h1>\n<p>";
  h += esc(fmt::format("{} users x {} days, seed {}: {} events, {} malicious, {} rule(s).", r.users, r.days, r.seed, r.events, r.malicious,
                       r.rules.size()));
  std::string src;
  for (const auto& [k, n] : r.infra) src += fmt::format("{}{} {}", src.empty() ? "" : ", ", n, k);
  h += " Malicious rows by source infrastructure: " + esc(src.empty() ? "none" : src) + ".</p>\n";
  h += "<p><span class=\"sw yes\"></span>caught (recall &ge; 90%)<span class=\"sw part\"></span>partly caught"
       "<span class=\"sw no\"></span>missed<span class=\"sw none\"></span>no rows</p>\n";
  h += "<h2>Campaign</h2>\n<div class=\"graph\" id=\"campaign\">" + campaign + "</div>\n";

  h += "<h2>Steps</h2>\n<table class=\"t\" id=\"steps\"><tr><th>step</th><th>what</th><th>techniques</th><th>events</th><th>detected</th>"
       "<th>recall</th><th>time to detect</th></tr>\n";
  for (const auto& s : r.steps) {
    std::string tech;
    for (const auto& t : s.techniques) tech += (tech.empty() ? "" : ", ") + t;
    h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
                     esc(s.id), esc(s.what), esc(tech.empty() ? "-" : tech), s.events,
                     s.events == 0 ? "-" : s.caught ? "yes" : "<b>NO</b>",
                     s.events ? fmt::format("{:.1f}%", 100 * ratio(s.caught, s.events)) : "-", short_duration(s.ttd_s));
  }
  h += "</table>\n<h2>Rules</h2>\n<table class=\"t\" id=\"rules\"><tr><th>rule</th><th>title</th><th>alerts</th><th>true</th><th>false</th>"
       "<th>FP/1k users/day</th><th>steps caught (recall, time to detect)</th></tr>\n";
  for (const auto& ru : r.rules) {
    std::string steps;
    for (std::size_t i = 1; i < r.steps.size() && i < ru.steps.size(); ++i)
      if (ru.steps[i].caught)
        steps += fmt::format("{}{} {:.0f}% {}", steps.empty() ? "" : ", ", r.steps[i].id, 100 * ratio(ru.steps[i].caught, r.steps[i].events),
                             short_duration(ru.steps[i].ttd_s));
    h += fmt::format("<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                     "<td class=\"n\">{:.2f}</td><td>{}</td></tr>\n",
                     esc(ru.name), esc(ru.title), ru.alerts, ru.tp, ru.fp, ru.fp_rate, esc(steps.empty() ? "-" : steps));
  }
  h += "</table>\n<h2>Rule-to-step matrix</h2>\n<p class=\"muted\">Each cell: the share of the step's rows that the rule's alerts name.</p>\n"
       "<div class=\"graph\" id=\"matrix\">" + matrix + "</div>\n";
  h += "<p class=\"muted\">An alert is a true positive when one of the events it names is malicious; alerts name at most 50 events.</p>\n"
       "</body></html>\n";
  std::ofstream f(path, std::ios::binary);
  f << h;
  if (!f) {
    std::cerr << fmt::format("error: cannot write `{}`\n", path);
    return false;
  }
  return true;
}

}  // namespace ward::sim
