// The bytecode backend: the typed IR to a Ward bytecode program (runtime/bundle.h).
#pragma once
#include "ir/ir.h"
#include "runtime/bundle.h"
#include "source/source.h"

namespace ward::backend::bytecode {

// Every rule of the module, in order. The program is verified before it is returned
// (a failure is a compiler bug, thrown as bc::BundleError).
bc::Program compile(const ir::Module& m, const source::SourceManager& sm);

}  // namespace ward::backend::bytecode
