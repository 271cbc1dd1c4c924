// Writing simulated rows: a JSON object builder in the Log Analytics export shape, the
// per-table JSON Lines files (plain or gzip) and the labels file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace ward::sim {

// Ticks are milliseconds since the Unix epoch, UTC.
using Millis = std::int64_t;
inline constexpr Millis kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute, kDay = 24 * kHour;

std::string iso8601(Millis t);        // 2023-06-15T08:01:02.345Z
char* iso8601_to(char* out, Millis t); // the same into out (24 bytes for years 0-9999); returns the end
std::size_t json_clean_prefix(std::string_view s);  // length of the prefix that needs no JSON escaping
std::optional<Millis> parse_date(std::string_view yyyy_mm_dd);
int weekday(Millis t);                // 0 = Sunday (KQL dayofweek)
void json_escape(std::string& out, std::string_view s);
char* escape_to(char* out, std::string_view s);  // `"s"` escaped; out needs 6 * s.size() + 2 bytes

// One JSON object. Values are appended in call order; `Type` and `TimeGenerated` first.
// The text is built in a buffer reused from row to row (no allocation per row). Keys are
// column names from the code and are never escaped (asserted in debug builds).
class Row {
 public:
  Row(std::string_view table, Millis time);
  Row();  // a fragment: columns only (`,"K":V...`), for pre-rendering constant runs once
  ~Row();
  Row(const Row&) = delete;
  Row& operator=(const Row&) = delete;
  Row& s(std::string_view key, std::string_view v);  // string column
  Row& i(std::string_view key, std::int64_t v);      // int / long column
  Row& r(std::string_view key, double v);            // real column
  Row& b(std::string_view key, bool v);              // bool column
  Row& t(std::string_view key, Millis v);            // datetime column
  Row& raw(std::string_view key, std::string_view json);  // dynamic column, JSON text as is
  Row& lit(std::string_view json);                   // pre-rendered columns (a fragment's text) as is
  std::string_view finish();                         // closes the object, adds '\n'
  std::string text() const { return std::string(d_, n_); }  // a fragment's text
  std::string_view table() const { return table_; }
  Millis time() const { return time_; }
 private:
  void key(std::string_view k);
  char* room(std::size_t n) {  // n more bytes of space at the end
    if (n_ + n > cap_) grow(n);
    return d_ + n_;
  }
  void put(std::string_view v) {
    std::memcpy(room(v.size()), v.data(), v.size());
    n_ += v.size();
  }
  void str(std::string_view v);  // a JSON string, escaped
  void grow(std::size_t n);
  std::string_view table_;
  Millis time_ = 0;
  char* d_ = nullptr;
  std::size_t n_ = 0, cap_ = 0;
};

// A tiny builder for nested JSON values (dynamic columns, or JSON text inside a string column).
class Json {
 public:
  Json& obj() { sep(); buf_ += '{'; first_ = true; return *this; }
  Json& end_obj() { buf_ += '}'; first_ = false; return *this; }
  Json& arr() { sep(); buf_ += '['; first_ = true; return *this; }
  Json& end_arr() { buf_ += ']'; first_ = false; return *this; }
  Json& k(std::string_view key) { sep(); json_escape(buf_, key); buf_ += ':'; first_ = true; return *this; }
  Json& str(std::string_view v) { sep(); json_escape(buf_, v); return *this; }
  Json& num(std::int64_t v) { sep(); buf_ += std::to_string(v); return *this; }
  Json& boolean(bool v) { sep(); buf_ += v ? "true" : "false"; return *this; }
  Json& raw(std::string_view j) { sep(); buf_ += j; return *this; }
  Json& kv(std::string_view key, std::string_view v) { return k(key).str(v); }
  Json& kn(std::string_view key, std::int64_t v) { return k(key).num(v); }
  const std::string& text() const { return buf_; }
 private:
  void sep() {
    if (!first_ && !buf_.empty() && buf_.back() != '{' && buf_.back() != '[' && buf_.back() != ':') buf_ += ',';
    first_ = false;
  }
  std::string buf_;
  bool first_ = true;
};

// One output file (JSON Lines, optionally gzip), buffered.
class OutFile {
 public:
  OutFile(const std::string& path, bool gzip, bool discard = false);  // discard: count, write nothing
  ~OutFile();
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  void write(std::string_view line);
  void close();
  std::uint64_t lines() const { return lines_; }
  std::uint64_t bytes() const { return bytes_; }
  const std::string& path() const { return path_; }
 private:
  void flush();
  std::string path_;
  bool gzip_;
  std::FILE* f_ = nullptr;
  void* gz_ = nullptr;
  std::string buf_;
  std::uint64_t lines_ = 0, bytes_ = 0;
};

// The output directory: TABLE.jsonl[.gz] per table, opened on first use, and labels.jsonl.
class Output {
 public:
  // Labels go to `labels` (default DIR/labels/labels.jsonl: outside DIR/*.jsonl, which holds
  // only event files, so `ward run --events DIR/*.jsonl` never reads the ground truth).
  Output(std::string dir, bool gzip, std::string labels = "", bool discard = false);
  // Writes the row and returns its 1-based line number in the table's file.
  std::uint64_t emit(Row& row);
  void label(std::string_view json_line);  // one labels.jsonl line, '\n' added
  void meta(std::string_view json);        // meta.json beside the labels: scenario, users, days, seed
  void close();
  std::uint64_t rows() const { return rows_; }
  std::uint64_t bytes() const;
  const std::map<std::string, std::unique_ptr<OutFile>, std::less<>>& files() const { return files_; }
 private:
  std::string dir_;
  bool gzip_;
  bool discard_ = false;
  std::map<std::string, std::unique_ptr<OutFile>, std::less<>> files_;
  std::unique_ptr<OutFile> labels_;
  std::string labels_path_;
  std::uint64_t rows_ = 0;
};

}  // namespace ward::sim
