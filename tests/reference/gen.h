// Seeded random cases for differential testing of the VM against the reference evaluator:
// a small .ward file declaring its own tables, 1-4 rules of every shape, and JSON Lines events
// drawn from small pools so that keys collide, times tie and window boundaries are hit exactly.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ward::ref {

struct Case {
  std::string ward_source;
  std::vector<std::string> events;  // one JSON object (or deliberate garbage) per line
};

// The same seed gives the same case on every platform (own PRNG, no std distributions).
Case generate(std::uint64_t seed);

}  // namespace ward::ref
