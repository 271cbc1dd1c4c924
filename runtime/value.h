// Run-time values of the Ward VM: a 16-byte tagged value, dynamic (JSON) trees, the
// arena they live in, and the text forms of docs/semantics.md §5 (tostring) and of
// alert outcomes.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ward::vm {

enum class Tag : std::uint8_t { Null, Bool, Long, Real, Datetime, Timespan, String, Dyn };

struct Node;

struct Val {
  Tag tag = Tag::Null;
  std::uint32_t n = 0;  // String: length
  union {
    bool b;
    std::int64_t i;  // Long, Datetime, Timespan (ticks)
    double r;
    const char* s;   // String (not NUL-terminated)
    const Node* d;   // Dyn: never null (a JSON null is Tag::Null)
  };
  Val() : i(0) {}
  static Val boolean(bool v) { Val x; x.tag = Tag::Bool; x.b = v; return x; }
  static Val integer(std::int64_t v) { Val x; x.tag = Tag::Long; x.i = v; return x; }
  static Val real(double v) { Val x; x.tag = Tag::Real; x.r = v; return x; }
  static Val datetime(std::int64_t v) { Val x; x.tag = Tag::Datetime; x.i = v; return x; }
  static Val timespan(std::int64_t v) { Val x; x.tag = Tag::Timespan; x.i = v; return x; }
  static Val string(std::string_view v) {
    Val x;
    x.tag = Tag::String;
    x.s = v.data();
    x.n = static_cast<std::uint32_t>(v.size());
    return x;
  }
  static Val dyn(const Node* d) { Val x; x.tag = Tag::Dyn; x.d = d; return x; }
  std::string_view str() const { return {s, n}; }
  bool is_null() const { return tag == Tag::Null; }
};
static_assert(sizeof(Val) == 16);

// A JSON value. Objects keep their members in input order.
struct Node {
  enum class Kind : std::uint8_t { Null, Bool, Int, Real, String, Array, Object } kind = Kind::Null;  // Null: only inside containers
  std::uint32_t n = 0;  // String: length; Array/Object: element count
  union {
    bool b;
    std::int64_t i;
    double r;
    const char* s;
    const Node* items;  // Array: n nodes
    const struct Member* members;  // Object: n members
  };
};
struct Member {
  const char* key;
  std::uint32_t key_len;
  Node value;
};

// Bump allocation for one event's values (and an evaluation's temporaries); reset, never freed
// piecemeal. Blocks are kept across resets, so steady-state evaluation allocates nothing.
class Arena {
 public:
  void* alloc(std::size_t n, std::size_t align = 8) {
    std::size_t p = (used_ + align - 1) & ~(align - 1);
    if (cur_ >= blocks_.size() || p + n > size_[cur_]) {
      next_block(n + align);
      p = (used_ + align - 1) & ~(align - 1);
    }
    used_ = p + n;
    return blocks_[cur_].get() + p;
  }
  template <typename T>
  T* make(std::size_t count) { return static_cast<T*>(alloc(sizeof(T) * count, alignof(T))); }
  std::string_view copy(std::string_view s) {
    if (s.empty()) return {};
    char* p = static_cast<char*>(alloc(s.size(), 1));
    std::memcpy(p, s.data(), s.size());
    return {p, s.size()};
  }
  void reset() { cur_ = 0, used_ = 0; }
  std::size_t capacity() const {
    std::size_t t = 0;
    for (auto s : size_) t += s;
    return t;
  }

 private:
  void next_block(std::size_t at_least) {
    ++cur_;
    if (blocks_.empty()) cur_ = 0;
    while (cur_ < blocks_.size() && size_[cur_] < at_least) ++cur_;
    if (cur_ >= blocks_.size()) {
      std::size_t sz = std::max<std::size_t>(at_least, blocks_.empty() ? 16384 : size_.back() * 2);
      blocks_.emplace_back(new char[sz]);
      size_.push_back(sz);
      cur_ = blocks_.size() - 1;
    }
    used_ = 0;
  }
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::vector<std::size_t> size_;
  std::size_t cur_ = 0, used_ = 0;
};

// JSON text to a tree in `arena`; nullopt-like `ok=false` for invalid JSON (depth limit 256).
// A top-level JSON null gives Val{} with ok=true.
Val parse_json(std::string_view text, Arena& arena, bool* ok);
// A node as a value: scalars become scalar values, containers stay dynamic.
Val node_value(const Node& n);

// tostring() of semantics §5, appended to `out`.
void append_text(std::string& out, const Val& v);
// Compact JSON of a value (the alert outcome form; docs/semantics.md §10).
void append_json(std::string& out, const Val& v);
void append_json_string(std::string& out, std::string_view s);
void append_utf8(std::string& out, std::uint32_t code_point);
std::string format_timespan(std::int64_t ticks);

// Deep copies that outlive an event: the values an alert or a correlation keeps.
struct Owned {
  std::vector<Val> vals;
  std::unique_ptr<char[]> blob;
  std::size_t bytes() const;
};
Owned own(const Val* vals, std::size_t n);

}  // namespace ward::vm
