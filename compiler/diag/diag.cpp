#include "diag/diag.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace ward::diag {

namespace {
struct Info {
  const char* code;
  const char* name;
  Severity severity;
  const char* summary;
};
constexpr Info kInfo[] = {
#define WARD_DIAG(code, name, sev, summary) {#code, #name, Severity::sev, summary},
#include "diag/diagnostics.def"
#undef WARD_DIAG
};

const char* severity_word(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out;
}

// Column counting for the caret: tabs are kept as tabs so the caret lines up.
std::string caret_line(std::string_view line, std::uint32_t col_begin, std::uint32_t col_end) {
  std::string out;
  for (std::uint32_t i = 1; i < col_begin && i - 1 < line.size(); ++i)
    out += line[i - 1] == '\t' ? '\t' : ' ';
  std::uint32_t width = col_end > col_begin ? col_end - col_begin : 1;
  out.append(width, '^');
  return out;
}
// A source line too long to show whole is cut to a window around the span, with "..."
// marking what is left out; columns are shifted to match.
struct Clipped {
  std::string text;
  long shift = 0;  // subtract from 1-based columns
};
Clipped clip(std::string_view line, std::uint32_t col) {
  constexpr std::size_t kMax = 140, kBefore = 40, kWidth = 110;
  if (line.size() <= kMax) return {std::string(line), 0};
  std::size_t start = col > kBefore ? col - 1 - kBefore : 0;
  while (start > 0 && (static_cast<unsigned char>(line[start]) & 0xC0) == 0x80) --start;
  std::size_t end = std::min(line.size(), start + kWidth);
  while (end < line.size() && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) ++end;
  Clipped c;
  if (start > 0) c.text = "...";
  c.text += std::string(line.substr(start, end - start));
  if (end < line.size()) c.text += "...";
  c.shift = static_cast<long>(start) - (start > 0 ? 3 : 0);
  return c;
}

}  // namespace

const char* code_string(Code c) { return kInfo[static_cast<int>(c)].code; }
std::size_t code_count() { return std::size(kInfo); }
Code code_at(std::size_t i) { return static_cast<Code>(i); }
const char* code_name(Code c) { return kInfo[static_cast<int>(c)].name; }
const char* code_summary(Code c) { return kInfo[static_cast<int>(c)].summary; }
Severity default_severity(Code c) { return kInfo[static_cast<int>(c)].severity; }

Sink::Builder::~Builder() {
  if (sink_) sink_->commit(std::move(d_));
}

Sink::Builder Sink::report(Code code, source::Span span, std::string message) {
  Diagnostic d;
  d.code = code;
  d.severity = default_severity(code);
  d.primary = span;
  d.message = std::move(message);
  return Builder(*this, std::move(d));
}

void Sink::commit(Diagnostic d) {
  // Cascade suppression: one diagnostic per code and primary span.
  for (const auto& e : diags_)
    if (e.code == d.code && e.primary.file == d.primary.file && e.primary.begin == d.primary.begin &&
        e.primary.end == d.primary.end)
      return;
  if (d.severity == Severity::Error) ++errors_;
  if (d.severity == Severity::Warning) ++warnings_;
  diags_.push_back(std::move(d));
}

void Sink::sort_by_position() {
  std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.primary.file != b.primary.file) return a.primary.file < b.primary.file;
    return a.primary.begin < b.primary.begin;
  });
}

std::string render_text(const Diagnostic& d, const source::SourceManager& sm, bool color) {
  const char* bold = color ? "\x1b[1m" : "";
  const char* red = color ? (d.severity == Severity::Error ? "\x1b[1;31m" : "\x1b[1;33m") : "";
  const char* blue = color ? "\x1b[1;34m" : "";
  const char* reset = color ? "\x1b[0m" : "";
  std::string out;
  if (!d.primary.valid()) {
    out += fmt::format("{}{}[{}]{}: {}{}{}\n", red, severity_word(d.severity), code_string(d.code), reset, bold,
                       d.message, reset);
  } else {
    const auto& f = sm.file(d.primary.file);
    auto b = f.line_col(d.primary.begin);
    auto e = f.line_col(d.primary.end);
    out += fmt::format("{}{}:{}:{}:{} {}{}[{}]{}: {}{}{}\n", bold, f.path(), b.line, b.column, reset, red,
                       severity_word(d.severity), code_string(d.code), reset, bold, d.message, reset);
    auto full = f.line_text(b.line);
    auto clipped = clip(full, b.column);
    std::string_view line = clipped.text;
    auto at = [&](std::uint32_t col) {
      long c = static_cast<long>(col) - clipped.shift;
      return static_cast<std::uint32_t>(std::clamp<long>(c, 1, static_cast<long>(line.size()) + 1));
    };
    std::string gutter = std::to_string(b.line);
    std::string pad(gutter.size(), ' ');
    std::uint32_t end_col = at(e.line == b.line ? e.column : static_cast<std::uint32_t>(full.size()) + 1);
    b.column = at(b.column);
    out += fmt::format("{}{} |{}\n", blue, pad, reset);
    out += fmt::format("{}{} |{} {}\n", blue, gutter, reset, line);
    out += fmt::format("{}{} |{} {}{}{}", blue, pad, reset, red, caret_line(line, b.column, end_col), reset);
    if (!d.primary_label.empty()) out += " " + d.primary_label;
    out += "\n";
    for (const auto& l : d.secondary) {
      if (!l.span.valid()) continue;
      if (l.span.file == d.primary.file) {
        auto lb = f.line_col(l.span.begin);
        auto le = f.line_col(l.span.end);
        if (lb.line == b.line) {  // on the primary's line: underline it there
          std::uint32_t lend = at(le.line == lb.line ? le.column : static_cast<std::uint32_t>(full.size()) + 1);
          std::string dashes = caret_line(line, at(lb.column), lend);
          std::replace(dashes.begin(), dashes.end(), '^', '-');
          out += fmt::format("{}{} |{} {}{}{} {}\n", blue, pad, reset, blue, dashes, reset, l.message);
          continue;
        }
      }
      const auto& lf = sm.file(l.span.file);
      auto lb = lf.line_col(l.span.begin);
      auto le = lf.line_col(l.span.end);
      auto ltext = lf.line_text(lb.line);
      std::uint32_t lend = le.line == lb.line ? le.column : static_cast<std::uint32_t>(ltext.size()) + 1;
      std::string lg = std::to_string(lb.line);
      std::string lp(lg.size(), ' ');
      out += fmt::format("{}{}-->{} {}:{}:{}\n", blue, lp, reset, lf.path(), lb.line, lb.column);
      out += fmt::format("{}{} |{} {}\n", blue, lg, reset, ltext);
      std::string dashes = caret_line(ltext, lb.column, lend);
      std::replace(dashes.begin(), dashes.end(), '^', '-');
      out += fmt::format("{}{} |{} {}{}{} {}\n", blue, lp, reset, blue, dashes, reset, l.message);
    }
    for (const auto& h : d.help) out += fmt::format("{}{} ={} help: {}\n", blue, pad, reset, h);
    for (const auto& n : d.notes) out += fmt::format("{}{} ={} note: {}\n", blue, pad, reset, n);
    return out;
  }
  for (const auto& h : d.help) out += fmt::format("  = help: {}\n", h);
  for (const auto& n : d.notes) out += fmt::format("  = note: {}\n", n);
  return out;
}

std::string render_json(const std::vector<Diagnostic>& ds, const source::SourceManager& sm) {
  auto span_json = [&](const source::Span& s) {
    if (!s.valid()) return std::string("null");
    const auto& f = sm.file(s.file);
    auto b = f.line_col(s.begin);
    auto e = f.line_col(s.end);
    return fmt::format(
        "{{\"file\":\"{}\",\"begin\":{},\"end\":{},\"line\":{},\"column\":{},\"end_line\":{},\"end_column\":{}}}",
        json_escape(f.path()), s.begin, s.end, b.line, b.column, e.line, e.column);
  };
  std::string out = "[";
  for (std::size_t i = 0; i < ds.size(); ++i) {
    const auto& d = ds[i];
    if (i) out += ",";
    out += fmt::format("\n  {{\"severity\":\"{}\",\"code\":\"{}\",\"name\":\"{}\",\"message\":\"{}\",\"span\":{}",
                       severity_word(d.severity), code_string(d.code), code_name(d.code), json_escape(d.message),
                       span_json(d.primary));
    if (!d.primary_label.empty()) out += fmt::format(",\"label\":\"{}\"", json_escape(d.primary_label));
    out += ",\"secondary\":[";
    for (std::size_t j = 0; j < d.secondary.size(); ++j)
      out += fmt::format("{}{{\"span\":{},\"message\":\"{}\"}}", j ? "," : "", span_json(d.secondary[j].span),
                         json_escape(d.secondary[j].message));
    out += "],\"help\":[";
    for (std::size_t j = 0; j < d.help.size(); ++j) out += fmt::format("{}\"{}\"", j ? "," : "", json_escape(d.help[j]));
    out += "],\"notes\":[";
    for (std::size_t j = 0; j < d.notes.size(); ++j)
      out += fmt::format("{}\"{}\"", j ? "," : "", json_escape(d.notes[j]));
    out += "]}";
  }
  out += ds.empty() ? "]\n" : "\n]\n";
  return out;
}

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment distance, case-insensitive: "Operatoin" is one edit from "Operation".
  auto low = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  std::vector<std::size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      char x = low(a[i - 1]), y = low(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x == y ? 0 : 1)});
      if (i > 1 && j > 1 && x == low(b[j - 2]) && low(a[i - 2]) == y) cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(1, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto c = closest(word, candidates);
  return c.empty() ? std::string() : fmt::format("did you mean `{}`?", c);
}

}  // namespace ward::diag
