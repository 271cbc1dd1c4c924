// Sigma backend: a Ward rule as Sigma (multi-document YAML). Single-event logic becomes a
// Sigma detection rule; thresholds, sequences and joins become a Sigma correlation rule
// (event_count / value_count / value_sum, temporal_ordered, temporal) over one detection
// rule per event. What Sigma cannot say is an error (absence, functions, arithmetic); what
// it says more weakly is a named warning, and such a rule is only written with
// `allow_lossy`, the losses then stated in its description. docs/sigma.md has the mapping.
#pragma once
#include <optional>
#include <string>

#include "diag/diag.h"
#include "ir/ir.h"

namespace ward::backend::sigma {

struct Options {
  bool allow_lossy = false;
};

// The rule's Sigma documents (detection rules first, then the correlation), or nullopt
// when it cannot be exported (the sink says why).
std::optional<std::string> emit(const ir::Module& m, const ir::Rule& r, const Options& opt, diag::Sink& sink);

}  // namespace ward::backend::sigma
