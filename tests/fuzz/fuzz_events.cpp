// libFuzzer target: any bytes as an event file, read and run through every example rule
// (all five shapes). Bad lines are counted, never fatal; nothing may crash or hang.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "backend/bytecode/bytecode.h"
#include "driver/pipeline.h"
#include "runtime/engine.h"

namespace {
std::unique_ptr<ward::vm::Image> rules() {
  const char* root = std::getenv("WARD_FUZZ_RULES");  // a directory of .ward files
  std::vector<std::string> files;
  std::string dir = root ? root : "examples";
  for (const char* f : {"common.ward", "mail_read_without_signin.ward", "mail_bind_burst_from_hosting.ward",
                        "token_then_scripted_collection.ward", "concurrent_mail_contexts.ward", "first_seen_mail_app.ward",
                        "consumer_key_at_enterprise_app.ward", "many_mailboxes_one_app.ward", "offhours_ioc_access.ward"})
    files.push_back(dir + "/" + f);
  ward::driver::Compilation c;
  ward::driver::compile(files, {}, c);
  if (c.sink.has_errors()) std::abort();
  return std::make_unique<ward::vm::Image>(ward::backend::bytecode::compile(c.module, c.sm));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static auto image = rules();
  int fd = memfd_create("events", 0);
  if (fd < 0) return 0;
  std::size_t off = 0;
  while (off < size) {
    auto n = write(fd, data + off, size - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  ward::vm::RunOptions opt;
  opt.lateness = 600'000'000;  // 1 minute
  opt.engine.max_keys = 64;    // exercise eviction
  std::size_t alerts = 0;
  ward::vm::run(*image, {path}, opt, [&](const ward::vm::Alert&) { ++alerts; });
  close(fd);
  return 0;
}
