// Writing simulated rows: a JSON object builder in the Log Analytics export shape, the
// per-table JSON Lines files (plain or gzip) and the labels file.
//
// A row is rendered in place, straight into its table's output buffer: no per-row buffer,
// no copy, no allocation. Buffers have a fixed size; when a row does not fit, the rows
// before it are written out and it moves to the front, so memory never depends on how
// many rows a run writes.
#pragma once
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ward::sim {

// Ticks are milliseconds since the Unix epoch, UTC.
using Millis = std::int64_t;
inline constexpr Millis kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;

std::string iso8601(Millis t);        // 2023-06-15T08:01:02.345Z
char* iso8601_to(char* out, Millis t); // the same into out (24 bytes for years 0-9999); returns the end
std::size_t json_clean_prefix(std::string_view s);  // length of the prefix that needs no JSON escaping
inline bool json_clean(std::string_view s) { return json_clean_prefix(s) == s.size(); }
std::optional<Millis> parse_date(std::string_view yyyy_mm_dd);
int weekday(Millis t);                // 0 = Sunday (KQL dayofweek)
void json_escape(std::string& out, std::string_view s);
char* escape_to(char* out, std::string_view s);  // `"s"` escaped; out needs 6 * s.size() + 2 bytes

class Output;
class OutFile;

// One JSON object. Values are appended in call order; `Type` and `TimeGenerated` first.
// Keys are column names from the code and are never escaped (asserted in debug builds).
// Values: `s` escapes; `c` is for values that by construction never need escaping (ids,
// addresses, numbers as text, names built from the tenant's own word lists), and skips the
// scan; debug builds assert that they are clean.
class Row {
 public:
  Row(Output& out, std::string_view table, Millis time);  // a row of `table`, in place in its file
  explicit Row(OutFile& f);  // a bare line of f (labels), written from its first byte
  Row();                     // a fragment: columns only (`,"K":V...`), for pre-rendering runs once
  ~Row();
  Row(const Row&) = delete;
  Row& operator=(const Row&) = delete;
  Row& s(std::string_view key, std::string_view v) {  // string column
    key_(key);
    str(v);
    return *this;
  }
  Row& c(std::string_view key, std::string_view v) {  // string column, value known to be clean
    key_(key);
    return clean_value(v);
  }
  // The same with the key a literal: `,"key":"value"` in one write, the key's copy of a size
  // known at compile time.
  template <std::size_t N>
  Row& c(const char (&key)[N], std::string_view v) {
    assert(json_clean(v) && json_clean(std::string_view(key, N - 1)));
    constexpr std::size_t k = N - 1;
    char* p = room(k + v.size() + 6);
    p[0] = ',';
    p[1] = '"';
    std::memcpy(p + 2, key, k);
    p[k + 2] = '"';
    p[k + 3] = ':';
    p[k + 4] = '"';
    copy(p + k + 5, v.data(), v.size());
    p[k + 5 + v.size()] = '"';
    n_ += k + v.size() + 6;
    return *this;
  }
  template <std::size_t N>
  Row& s(const char (&key)[N], std::string_view v) {
    if (!json_clean(v)) return s(std::string_view(key, N - 1), v);
    return c(key, v);
  }
  Row& i(std::string_view key, std::int64_t v);      // int / long column
  Row& r(std::string_view key, double v);            // real column
  Row& b(std::string_view key, bool v) {             // bool column
    key_(key);
    put(v ? std::string_view("true") : std::string_view("false"));
    return *this;
  }
  Row& t(std::string_view key, Millis v);            // datetime column
  Row& raw(std::string_view key, std::string_view json) {  // dynamic column, JSON text as is
    key_(key);
    put(json);
    return *this;
  }
  Row& lit(std::string_view json) {                  // pre-rendered columns (a fragment's text) as is
    put(json);
    return *this;
  }
  Row& key(std::string_view k) {                     // a column's key alone; its value follows (Json)
    key_(k);
    return *this;
  }
  Row& value(std::string_view v) {                   // a JSON string value without a key, escaped
    str(v);
    return *this;
  }
  Row& clean_value(std::string_view v) {             // the same, known to need no escaping
    assert(json_clean(v));
    char* p = room(v.size() + 2);
    p[0] = '"';
    copy(p + 1, v.data(), v.size());
    p[v.size() + 1] = '"';
    n_ += v.size() + 2;
    return *this;
  }
  Row& append(std::string_view v) {                  // bytes as they are (a value's inside)
    put(v);
    return *this;
  }
  Row& ch(char c) {
    *room(1) = c;
    ++n_;
    return *this;
  }
  Row& num(std::int64_t v);                          // an integer value without a key
  std::string_view finish();                         // closes the object, adds '\n'
  std::string text() const { return std::string(d_ + start_, n_ - start_); }  // a fragment's text
  std::string_view view() const { return {d_ + start_, n_ - start_}; }
  void clear() { n_ = start_; }                      // a fragment used again
  std::string_view table() const { return table_; }
  Millis time() const { return time_; }
  std::size_t size() const { return n_ - start_; }
  std::uint64_t commit();  // the finished row becomes its file's next line; returns its number

 private:
  friend class OutFile;
  friend class Json;
  void key_(std::string_view k) {
    // Keys are column names from the code: identifiers that never need escaping.
    assert(json_clean(k));
    char* p = room(k.size() + 4);
    p[0] = ',';
    p[1] = '"';
    copy(p + 2, k.data(), k.size());
    p[k.size() + 2] = '"';
    p[k.size() + 3] = ':';
    n_ += k.size() + 4;
  }
  char* room(std::size_t n) {  // n more bytes of space at the end
    if (n_ + n > cap_) grow(n);
    return d_ + n_;
  }
  void put(std::string_view v) {
    copy(room(v.size()), v.data(), v.size());
    n_ += v.size();
  }
  // memcpy for the short copies a row is made of (ids, names), without a call for them
  [[gnu::always_inline]] static void copy(char* d, const char* s, std::size_t n) {
    if (n <= 16) {
      if (n >= 8) {
        std::uint64_t a, b;
        std::memcpy(&a, s, 8);
        std::memcpy(&b, s + n - 8, 8);
        std::memcpy(d, &a, 8);
        std::memcpy(d + n - 8, &b, 8);
      } else if (n >= 4) {
        std::uint32_t a, b;
        std::memcpy(&a, s, 4);
        std::memcpy(&b, s + n - 4, 4);
        std::memcpy(d, &a, 4);
        std::memcpy(d + n - 4, &b, 4);
      } else {
        for (std::size_t i = 0; i < n; ++i) d[i] = s[i];
      }
    } else if (n <= 32) {
      char a[16], b[16];
      std::memcpy(a, s, 16);
      std::memcpy(b, s + n - 16, 16);
      std::memcpy(d, a, 16);
      std::memcpy(d + n - 16, b, 16);
    } else {
      std::memcpy(d, s, n);
    }
  }
  void str(std::string_view v);  // a JSON string, escaped
  void grow(std::size_t n);
  std::string_view table_;
  Millis time_ = 0;
  OutFile* file_ = nullptr;  // in place in this file's buffer, or a pool buffer of its own
  char* d_ = nullptr;
  std::size_t start_ = 0, n_ = 0, cap_ = 0;  // the row is d_[start_, n_)
};

// Nested JSON written straight into a row: a dynamic column's value, or JSON text inside a
// string column (`quoted`: the text is one JSON string, so its quotes are written \" and its
// strings escaped twice). Compact, as the Log Analytics export writes it.
class Json {
 public:
  explicit Json(Row& row, bool quoted = false) : row_(row), quoted_(quoted) {
    if (quoted) row_.ch('"');
  }
  Json(const Json&) = delete;
  Json& operator=(const Json&) = delete;
  Json& obj() { sep(); row_.ch('{'); first_ = true; return *this; }
  Json& end_obj() { row_.ch('}'); first_ = false; return *this; }
  Json& arr() { sep(); row_.ch('['); first_ = true; return *this; }
  Json& end_arr() { row_.ch(']'); first_ = false; return *this; }
  // Keys are the code's own: never escaped. Inlined, so that a literal key's copy has a size
  // known at compile time.
  [[gnu::always_inline]] Json& k(std::string_view key) {
    assert(json_clean(key));
    char* p = row_.room(key.size() + 6);
    if (!first_) *p++ = ',';
    p = quote(p);
    Row::copy(p, key.data(), key.size());
    p = quote(p + key.size());
    *p++ = ':';
    row_.n_ = static_cast<std::size_t>(p - row_.d_);
    first_ = true;
    return *this;
  }
  Json& str(std::string_view v) {
    if (!json_clean(v)) return escaped(v);
    return clean(v);
  }
  Json& str(std::string_view v, bool known_clean) { return known_clean ? clean(v) : str(v); }
  Json& clean(std::string_view v) {  // a string value known to need no escaping (debug builds check)
    assert(json_clean(v));
    char* p = row_.room(v.size() + 5);
    if (!first_) *p++ = ',';
    first_ = false;
    p = quote(p);
    Row::copy(p, v.data(), v.size());
    p = quote(p + v.size());
    row_.n_ = static_cast<std::size_t>(p - row_.d_);
    return *this;
  }
  Json& num(std::int64_t v) { sep(); row_.num(v); return *this; }
  Json& boolean(bool v) { sep(); row_.append(v ? "true" : "false"); return *this; }
  Json& raw(std::string_view j) {  // JSON text as is (not in a quoted Json)
    sep();
    row_.append(j);
    return *this;
  }
  Json& kv(std::string_view key, std::string_view v) { return k(key).str(v); }
  Json& kc(std::string_view key, std::string_view v) { return k(key).clean(v); }
  Json& kn(std::string_view key, std::int64_t v) { return k(key).num(v); }
  void done() {  // closes the string column of a quoted Json
    if (quoted_) row_.ch('"');
  }

 private:
  void sep() {
    if (!first_) row_.ch(',');
    first_ = false;
  }
  char* quote(char* p) const {
    if (quoted_) *p++ = '\\';
    *p++ = '"';
    return p;
  }
  Json& escaped(std::string_view v);
  Row& row_;
  bool quoted_;
  bool first_ = true;
};

// A buffer of output bytes (malloc'd; a buffer grown for one large row stays grown).
struct Chunk {
  char* d = nullptr;
  std::size_t cap = 0;
};

// The thread that writes full buffers to their files, so that rendering rows (the caller's
// thread) and the kernel's write or zlib's deflate (this one) run on two cores. At most
// `buffers` full buffers wait to be written: a file that hands over one more waits for the
// writer, so memory stays bounded however far the renderer runs ahead; written buffers are
// reused. Writes reach each file in the order they were queued. The first write error is kept
// and thrown to the caller at its next take() or drain().
class Writer {
 public:
  Writer(std::size_t buffers, std::size_t size);
  ~Writer();  // stops after the queued writes
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Chunk take();                                    // a free buffer
  void put(OutFile& f, Chunk c, std::size_t n);    // writes c.d[0, n) to f, then frees c
  void drain();                                    // waits for every queued write

 private:
  struct Job {
    OutFile* f;
    Chunk c;
    std::size_t n;
  };
  void run();
  void check();  // throws the kept error
  struct State;
  std::unique_ptr<State> st_;
};

// One output file (JSON Lines, optionally gzip), buffered in a fixed-size buffer; written by
// the Writer's thread when there is one, or in the caller's.
class OutFile {
 public:
  static constexpr std::size_t kBuffer = 256 << 10;
  OutFile(const std::string& path, bool gzip, bool discard = false, Writer* writer = nullptr);  // discard: count, write nothing
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  void write(std::string_view line);  // a whole line, '\n' included
  void flush();                       // hands what is buffered to the writer (or writes it)
  void close();                       // after the writer has drained
  std::uint64_t lines() const { return lines_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }

 private:
  friend class Row;
  friend class Writer;
  void make_room(Row& row, std::size_t n);  // room for n more bytes of the row being written
  void hand_off(std::size_t n, std::size_t keep_from, std::size_t keep_to);  // buf_[0, n) out; [keep_from, keep_to) moves to the front
  void sink(const char* p, std::size_t n);  // to the file (or nowhere, discarding)
  std::string path_;
  bool gzip_;
  std::FILE* f_ = nullptr;
  void* gz_ = nullptr;
  Writer* writer_ = nullptr;
  char* buf_ = nullptr;
  std::size_t size_ = 0, cap_ = 0;
  bool open_row_ = false;  // a row is being rendered in place (one at a time)
  std::uint64_t lines_ = 0, bytes_ = 0;
};

// The output directory: TABLE.jsonl[.gz] per table, opened on first use, and labels.jsonl.
class Output {
 public:
  // Labels go to `labels` (default DIR/labels/labels.jsonl: outside DIR/*.jsonl, which holds
  // only event files, so `ward run --events DIR/*.jsonl` never reads the ground truth).
  // `threaded`: files are written by a Writer thread (not when discarding).
  Output(std::string dir, bool gzip, std::string labels = "", bool discard = false, bool threaded = true);
  ~Output();
  OutFile& file(std::string_view table);  // TABLE's file, opened on first use
  // Writes the row and returns its 1-based line number in the table's file.
  std::uint64_t emit(Row& row);
  OutFile& labels() { return *labels_; }
  void meta(std::string_view json);        // meta.json beside the labels: scenario, users, days, seed
  void close();
  std::uint64_t rows() const { return rows_; }
  std::uint64_t bytes() const;
  const std::map<std::string, std::unique_ptr<OutFile>, std::less<>>& files() const { return files_; }

 private:
  std::string dir_;
  bool gzip_;
  bool discard_ = false;
  std::unique_ptr<Writer> writer_;  // before the files: it outlives them
  std::map<std::string, std::unique_ptr<OutFile>, std::less<>> files_;
  std::vector<std::pair<std::string_view, OutFile*>> recent_;  // the same files, by name, scanned first
  std::unique_ptr<OutFile> labels_;
  std::string labels_path_;
  std::uint64_t rows_ = 0;
};

}  // namespace ward::sim
