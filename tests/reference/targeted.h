// Events aimed at given rules: the golden event files of tests/vm/golden are made by this.
// Random events rarely satisfy a real rule (`Operation == "MailItemsAccessed" and ClientIP in
// cidr HostingRanges`), so the generator reads the rules' IR and draws each column from the
// constants the rules compare it with (and near misses of them: other case, a prefix, one
// more, the next address outside the range), from small pools shared by the columns a
// correlation joins on (so that keys meet), and from a few values of the column's type.
// Dynamic columns get the member paths the rules read, as nested JSON or as JSON text in a
// string (both occur in real exports). Times fall on fractions of the longest window so that
// window boundaries are hit exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ir/ir.h"

namespace ward::ref {

// `count` JSON Lines rows, time-ordered, for the tables `m`'s rules read. Same seed, same rows.
std::vector<std::string> targeted_events(const ir::Module& m, std::uint64_t seed, int count);

}  // namespace ward::ref
