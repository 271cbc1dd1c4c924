// libFuzzer target: any bytes as a bytecode bundle. The loader must refuse what it cannot
// verify with a BundleError, and whatever it accepts must be safe to prepare and print.
// The checksum is skipped so that mutations reach the structural checks behind it.
#include <cstdint>
#include <string_view>

#include "runtime/bundle.h"
#include "runtime/eval.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    auto p = ward::bc::load(bytes, /*check_sum=*/false);
    (void)ward::bc::disassemble(p);
    ward::vm::Image image(std::move(p));
  } catch (const ward::bc::BundleError&) {
  }
  return 0;
}
