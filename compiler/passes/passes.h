// IR passes. Each pass is a small function registered by name in passes.cpp;
// the driver runs them in order and any can be disabled (`--disable-pass NAME`).
#pragma once
#include <set>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace ward::passes {

struct PassInfo {
  const char* name;
  const char* summary;
  void (*run)(ir::Module&);
};
const std::vector<PassInfo>& all();
void run(ir::Module& m, const std::set<std::string>& disabled);

// Individual passes (one file each).
void fold_constants(ir::Module& m);
void normalise_negation(ir::Module& m);

}  // namespace ward::passes
