#include "passes/passes.h"

namespace ward::passes {

const std::vector<PassInfo>& all() {
  static const std::vector<PassInfo> k = {
      {"fold", "evaluate arithmetic on literals (1h * 24, datetime + timespan)", fold_constants},
      {"normalise", "push `not` into comparisons (not(a == b) -> a != b) and remove double negation",
       normalise_negation},
  };
  return k;
}

void run(ir::Module& m, const std::set<std::string>& disabled) {
  for (const auto& p : all())
    if (!disabled.count(p.name)) p.run(m);
}

}  // namespace ward::passes
