// The verifier refuses each kind of hostile program with a message naming the problem,
// and a bundle round-trips through serialize/load unchanged.
#include <catch2/catch.hpp>

#include "backend/bytecode/bytecode.h"
#include "driver/pipeline.h"
#include "runtime/bundle.h"

using namespace ward;

namespace {
bc::Program examples() {
  driver::Compilation c;
  std::vector<std::string> files;
  for (const char* f : {"common.ward", "mail_read_without_signin.ward", "mail_bind_burst_from_hosting.ward",
                        "token_then_scripted_collection.ward", "first_seen_mail_app.ward"})
    files.push_back(std::string(WARD_SOURCE_DIR) + "/examples/" + f);
  driver::compile(files, {}, c);
  REQUIRE_FALSE(c.sink.has_errors());
  return backend::bytecode::compile(c.module, c.sm);
}
std::string refusal(bc::Program p) {
  try {
    bc::verify(p);
  } catch (const bc::BundleError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("bundles round-trip and disassemble the same") {
  auto p = examples();
  auto bytes = bc::serialize(p);
  auto q = bc::load(bytes);
  CHECK(bc::serialize(q) == bytes);
  CHECK(bc::disassemble(q) == bc::disassemble(p));
}

TEST_CASE("the loader names what is wrong with a bundle") {
  auto bytes = bc::serialize(examples());
  CHECK_THROWS_WITH(bc::load(bytes.substr(0, 10)), Catch::Contains("truncated"));
  CHECK_THROWS_WITH(bc::load("XARDBC\r\n" + bytes.substr(8)), Catch::Contains("bad magic"));
  auto v2 = bytes;
  v2[8] = 2;
  CHECK_THROWS_WITH(bc::load(v2), Catch::Contains("version 2 is not supported"));
  auto flipped = bytes;
  flipped[bytes.size() - 3] ^= 0x40;
  CHECK_THROWS_WITH(bc::load(flipped), Catch::Contains("checksum"));
  CHECK_THROWS_WITH(bc::load(bytes + "x"), Catch::Contains("checksum"));
}

TEST_CASE("the verifier refuses hostile code") {
  auto base = examples();
  REQUIRE(refusal(base).empty());
  auto first_where = [](bc::Program& p) -> bc::Chunk& {
    for (auto& c : p.chunks)
      if (c.role == bc::ChunkRole::Where && c.len >= 4) return c;
    FAIL("no filter chunk");
    return p.chunks[0];
  };
  {
    auto p = base;
    auto& c = first_where(p);
    for (std::uint32_t i = 0; i < c.len; ++i)
      if (p.code[c.start + i].op == bc::Opcode::AndJmp || p.code[c.start + i].op == bc::Opcode::OrJmp) {
        p.code[c.start + i].c = 0;  // backwards
        break;
      }
    CHECK_THAT(refusal(p), Catch::Contains("is not forward"));
  }
  {
    auto p = base;
    auto& c = first_where(p);
    p.code[c.start] = {bc::Opcode::Cmp, 0, 0, 0};  // pops two from an empty stack
    CHECK_THAT(refusal(p), Catch::Contains("needs 2 value(s) on the stack"));
  }
  {
    auto p = base;
    auto& c = first_where(p);
    p.code[c.start] = {bc::Opcode::Const, 0, 0, 1u << 30};
    CHECK_THAT(refusal(p), Catch::Contains("out of range"));
  }
  {
    auto p = base;
    auto& c = first_where(p);
    p.code[c.start + c.len - 1] = {bc::Opcode::Not, 0, 0, 0};  // no ret
    CHECK_THAT(refusal(p), Catch::Contains("falls off the end"));
  }
  {
    auto p = base;
    for (auto& c : p.chunks)
      if (c.role == bc::ChunkRole::Where) {
        c.vars = 0;  // may read nothing, but reads its event
        break;
      }
    CHECK_THAT(refusal(p), Catch::Contains("another context"));
  }
  {
    auto p = base;
    p.rules[0].window = 0;
    p.rules[0].shape = bc::Shape::Threshold;
    CHECK_FALSE(refusal(p).empty());
  }
  {
    auto p = base;
    p.code[p.chunks[0].start] = {bc::Opcode::Call, static_cast<std::uint8_t>(bc::Fn::ToLower), 3, 0};
    CHECK_THAT(refusal(p), Catch::Contains("takes 1 argument(s), not 3"));
  }
}
