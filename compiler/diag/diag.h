// Diagnostics: codes from diagnostics.def, a builder, a sink, and renderers.
#pragma once
#include <string>
#include <vector>

#include "source/source.h"

namespace ward::diag {

enum class Severity { Error, Warning, Note };

enum class Code {
#define WARD_DIAG(code, name, sev, summary) name,
#include "diag/diagnostics.def"
#undef WARD_DIAG
};

const char* code_string(Code c);      // "E0204"
std::size_t code_count();
Code code_at(std::size_t i);
const char* code_name(Code c);        // "UnknownColumn"
const char* code_summary(Code c);
Severity default_severity(Code c);

struct Label {
  source::Span span;
  std::string message;
};

struct Diagnostic {
  Code code{};
  Severity severity = Severity::Error;
  std::string message;
  source::Span primary;
  std::string primary_label;     // text under the caret (optional)
  std::vector<Label> secondary;  // "previous definition here" etc.
  std::vector<std::string> help; // "did you mean `Operation`?"
  std::vector<std::string> notes;
};

// Collects diagnostics; the driver renders them at the end.
class Sink {
 public:
  // Builder returned by report(); the diagnostic is committed when it is destroyed.
  class Builder {
   public:
    Builder(Sink& sink, Diagnostic d) : sink_(&sink), d_(std::move(d)) {}
    Builder(Builder&& o) noexcept : sink_(o.sink_), d_(std::move(o.d_)) { o.sink_ = nullptr; }
    Builder(const Builder&) = delete;
    ~Builder();
    Builder& label(std::string text) { d_.primary_label = std::move(text); return *this; }
    Builder& secondary(source::Span s, std::string text) { d_.secondary.push_back({s, std::move(text)}); return *this; }
    Builder& help(std::string text) { if (!text.empty()) d_.help.push_back(std::move(text)); return *this; }
    Builder& note(std::string text) { d_.notes.push_back(std::move(text)); return *this; }

   private:
    Sink* sink_;
    Diagnostic d_;
  };

  Builder report(Code code, source::Span span, std::string message);
  const std::vector<Diagnostic>& all() const { return diags_; }
  std::size_t error_count() const { return errors_; }
  std::size_t warning_count() const { return warnings_; }
  bool has_errors() const { return errors_ > 0; }
  void sort_by_position();

 private:
  void commit(Diagnostic d);
  std::vector<Diagnostic> diags_;
  std::size_t errors_ = 0, warnings_ = 0;
};

// rustc-like text: `file:line:col: error[E0204]: message`, the source line, a caret
// under the whole span, then labels, help and notes.
std::string render_text(const Diagnostic& d, const source::SourceManager& sm, bool color);
std::string render_json(const std::vector<Diagnostic>& ds, const source::SourceManager& sm);

// "did you mean" helper: the closest candidate by edit distance, or "" if none is close.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace ward::diag
