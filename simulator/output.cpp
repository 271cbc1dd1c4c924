#include "simulator/output.h"

#include <zlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <array>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <vector>
#include <thread>
#include <mutex>
#include <deque>
#include <condition_variable>
#include <algorithm>
#include <cstdlib>
#include <new>

#include "compiler/ast/value.h"  // the calendar

namespace ward::sim {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

namespace {
inline void two(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}
}  // namespace

char* iso8601_to(char* p, Millis t) {
  // A row spells its time several times (TimeGenerated, columns, its label, its copy in
  // CloudAppEvents): the last one spelled is kept whole.
  thread_local Millis memo_t = INT64_MIN;
  thread_local char memo_text[24];
  if (t == memo_t) {
    std::memcpy(p, memo_text, 24);
    return p + 24;
  }
  std::int64_t days = floor_div(t, kDay);
  Millis rem = t - days * kDay;
  // The date part of the last day spelled (rows come in time order: nearly always the same day).
  thread_local std::int64_t memo_day = INT64_MIN;
  thread_local char memo[11];
  if (days != memo_day) {
    std::int64_t y;
    unsigned m, d;
    civil_from_days(days, y, m, d);
    if (y < 0 || y > 9999) {  // outside the four-digit years: the general (slow) spelling
      std::string s = iso8601(t);
      std::memcpy(p, s.data(), s.size());
      return p + s.size();
    }
    auto yy = static_cast<unsigned>(y);
    two(memo, yy / 100);
    two(memo + 2, yy % 100);
    memo[4] = '-';
    two(memo + 5, m);
    memo[7] = '-';
    two(memo + 8, d);
    memo[10] = 'T';
    memo_day = days;
  }
  std::memcpy(p, memo, 11);
  auto r = static_cast<unsigned>(rem);
  two(p + 11, r / 3600000);
  p[13] = ':';
  two(p + 14, r / 60000 % 60);
  p[16] = ':';
  two(p + 17, r / 1000 % 60);
  p[19] = '.';
  unsigned ms = r % 1000;
  p[20] = static_cast<char>('0' + ms / 100);
  two(p + 21, ms % 100);
  p[23] = 'Z';
  std::memcpy(memo_text, p, 24);
  memo_t = t;
  return p + 24;
}

std::string iso8601(Millis t) {
  std::int64_t days = floor_div(t, kDay);
  Millis rem = t - days * kDay;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    char b[24];
    iso8601_to(b, t);
    return std::string(b, 24);
  }
  char buf[96];  // room for any value the format could be given, so no truncation is possible
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / kHour), static_cast<long long>(rem / kMinute % 60),
                static_cast<long long>(rem / kSecond % 60), static_cast<long long>(rem % 1000));
  return buf;
}

std::optional<Millis> parse_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, m, d;
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || d > 31) return std::nullopt;
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d));
  std::int64_t yy;
  unsigned mm, dd;
  civil_from_days(days, yy, mm, dd);
  if (yy != y || static_cast<int>(mm) != m || static_cast<int>(dd) != d) return std::nullopt;  // 2023-02-30
  return days * kDay;
}

int weekday(Millis t) {
  std::int64_t days = floor_div(t, kDay);
  return static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
}

std::size_t json_clean_prefix(std::string_view s) {
  std::size_t i = 0;
#if defined(__SSE2__)
  // 16 bytes at a time: a byte below 0x20, a quote or a backslash ends the clean prefix.
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x1f);
  while (i + 16 <= s.size()) {
    __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(w, space), space);  // w <= 0x1f, unsigned
    __m128i bad = _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad));
    if (mask) return i + static_cast<std::size_t>(__builtin_ctz(mask));
    i += 16;
  }
#else
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  // 8 clean bytes at a time: none below 0x20, none a quote or a backslash (SWAR).
  while (i + 8 <= s.size()) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
    std::uint64_t bad = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
    if (bad & highs) break;
    i += 8;
  }
  if (s.size() >= 16) {  // the tail: one more 16-byte load, overlapping what was checked
    std::size_t at = s.size() - 16;
    __m128i w = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + at));
    __m128i ctl = _mm_cmpeq_epi8(_mm_max_epu8(w, space), space);
    __m128i bad = _mm_or_si128(ctl, _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash)));
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(bad)) >> (i - at);
    return mask ? i + static_cast<std::size_t>(__builtin_ctz(mask)) : s.size();
  }
#endif
  static constexpr auto kBad = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = true;
    t['"'] = t['\\'] = true;
    return t;
  }();
  for (; i < s.size(); ++i)
    if (kBad[static_cast<unsigned char>(s[i])]) break;
  return i;
}

char* escape_to(char* p, std::string_view v) {
  *p++ = '"';
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t clean = json_clean_prefix(v.substr(i));
    std::memcpy(p, v.data() + i, clean);
    p += clean;
    i += clean;
    if (i >= v.size()) break;
    auto c = static_cast<unsigned char>(v[i++]);
    *p++ = '\\';
    switch (c) {
      case '"': *p++ = '"'; break;
      case '\\': *p++ = '\\'; break;
      case '\n': *p++ = 'n'; break;
      case '\r': *p++ = 'r'; break;
      case '\t': *p++ = 't'; break;
      default: {
        static const char* hex = "0123456789abcdef";
        p[0] = 'u';
        p[1] = '0';
        p[2] = '0';
        p[3] = hex[c >> 4];
        p[4] = hex[c & 15];
        p += 5;
      }
    }
  }
  *p++ = '"';
  return p;
}

void json_escape(std::string& out, std::string_view s) {
  std::size_t n = out.size();
  if (json_clean_prefix(s) == s.size()) {  // the common case: nothing to escape, one copy
    out.resize(n + s.size() + 2);
    char* p = out.data() + n;
    *p = '"';
    std::memcpy(p + 1, s.data(), s.size());
    p[s.size() + 1] = '"';
    return;
  }
  out.resize(n + s.size() * 6 + 2);  // the worst case: \u00XX for every byte
  char* end = escape_to(out.data() + n, s);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

namespace {
// Fragment buffers, reused: a fragment is built, kept as text and dropped, so a handful of
// buffers serve the whole run.
struct RowBuf {
  char* d;
  std::size_t cap;
};
thread_local std::vector<RowBuf> row_pool;
struct PoolFree {
  ~PoolFree() {
    for (auto& b : row_pool) std::free(b.d);
    row_pool.clear();
  }
};
thread_local PoolFree pool_free;
}  // namespace

Row::Row() {
  (void)&pool_free;
  if (!row_pool.empty()) {
    d_ = row_pool.back().d;
    cap_ = row_pool.back().cap;
    row_pool.pop_back();
  }
}
Row::Row(OutFile& f) : file_(&f) {
  assert(!f.open_row_);  // one row of a file at a time
  f.open_row_ = true;
  d_ = f.buf_;
  start_ = n_ = f.size_;
  cap_ = f.cap_;
}
Row::Row(Output& out, std::string_view table, Millis time) : Row(out.file(table)) {
  table_ = table;
  time_ = time;
  // The table name is one of ours: an identifier with nothing to escape.
  assert(json_clean(table));
  put("{\"Type\":\"");
  put(table);
  put("\",\"TimeGenerated\":\"");
  n_ = static_cast<std::size_t>(iso8601_to(room(96), time) - d_);
  put("\"");
}
Row::~Row() {
  if (file_) file_->open_row_ = false;  // never committed: its bytes are dropped
  else if (d_) row_pool.push_back({d_, cap_});
}
void Row::grow(std::size_t n) {
  if (file_) {
    file_->make_room(*this, n);
    return;
  }
  std::size_t cap = std::max<std::size_t>({cap_ * 2, n_ + n, 8192});
  auto* d = static_cast<char*>(std::realloc(d_, cap));
  if (!d) throw std::bad_alloc();
  d_ = d;
  cap_ = cap;
}
std::uint64_t Row::commit() {
  assert(file_);
  OutFile& f = *file_;
  f.size_ = n_;
  ++f.lines_;
  f.bytes_ += n_ - start_;
  f.open_row_ = false;
  file_ = nullptr;
  d_ = nullptr;  // the bytes are the file's now
  return f.lines_;
}
void Row::str(std::string_view v) {
  if (json_clean(v)) {  // the common case: nothing to escape, one copy
    char* p = room(v.size() + 2);
    p[0] = '"';
    std::memcpy(p + 1, v.data(), v.size());
    p[v.size() + 1] = '"';
    n_ += v.size() + 2;
    return;
  }
  char* start = room(v.size() * 6 + 2);
  n_ += static_cast<std::size_t>(escape_to(start, v) - start);
}
Row& Row::i(std::string_view k, std::int64_t v) {
  key_(k);
  return num(v);
}
Row& Row::num(std::int64_t v) {
  char* p = room(24);
  n_ = static_cast<std::size_t>(std::to_chars(p, p + 24, v).ptr - d_);
  return *this;
}
Row& Row::r(std::string_view k, double v) {
  key_(k);
  if (v == std::floor(v) && std::fabs(v) < 1e15 && !(v == 0 && std::signbit(v))) {
    // whole numbers (sizes): the same text as %.1f, without printf
    char* p = room(24);
    n_ = static_cast<std::size_t>(std::to_chars(p, p + 22, static_cast<std::int64_t>(v)).ptr - d_);
    put(".0");
    return *this;
  }
  char b[512];  // %.1f of any double fits
  int len = std::snprintf(b, sizeof b, "%.1f", v);
  put(std::string_view(b, static_cast<std::size_t>(len)));
  return *this;
}
Row& Row::t(std::string_view k, Millis v) {
  key_(k);
  char* p = room(128);
  *p = '"';
  char* e = iso8601_to(p + 1, v);
  *e++ = '"';
  n_ = static_cast<std::size_t>(e - d_);
  return *this;
}
std::string_view Row::finish() {
  put("}\n");
  return {d_ + start_, n_ - start_};
}

Json& Json::escaped(std::string_view v) {
  sep();
  if (!quoted_) {
    row_.value(v);
    return *this;
  }
  // Inside a quoted Json: the value's JSON spelling, itself escaped as string content.
  std::string once;
  json_escape(once, v);
  std::string_view inner(once.data() + 1, once.size() - 2);
  std::string twice;
  json_escape(twice, inner);
  row_.append("\\\"").append(std::string_view(twice.data() + 1, twice.size() - 2)).append("\\\"");
  return *this;
}

// ---------------------------------------------------------------- the writer thread
struct Writer::State {
  std::mutex m;
  std::condition_variable work, done;
  std::deque<Job> jobs;
  std::vector<Chunk> free;
  std::size_t max_queued, size;
  bool busy = false, stop = false;
  std::string error;
  std::thread thread;
};

Writer::Writer(std::size_t buffers, std::size_t size) : st_(std::make_unique<State>()) {
  st_->max_queued = std::max<std::size_t>(buffers, 1);
  st_->size = size;
  st_->thread = std::thread([this] { run(); });
}
Writer::~Writer() {
  {
    std::lock_guard<std::mutex> l(st_->m);
    st_->stop = true;
  }
  st_->work.notify_all();
  st_->thread.join();
  for (auto& j : st_->jobs) std::free(j.c.d);
  for (auto& c : st_->free) std::free(c.d);
}
void Writer::check() {
  if (!st_->error.empty()) throw std::runtime_error(st_->error);
}
Chunk Writer::take() {
  {
    std::lock_guard<std::mutex> l(st_->m);
    check();
    if (!st_->free.empty()) {
      Chunk c = st_->free.back();
      st_->free.pop_back();
      return c;
    }
  }
  Chunk c{static_cast<char*>(std::malloc(st_->size)), st_->size};
  if (!c.d) throw std::bad_alloc();
  return c;
}
void Writer::put(OutFile& f, Chunk c, std::size_t n) {
  std::unique_lock<std::mutex> l(st_->m);
  // Never more than max_queued buffers waiting: the renderer waits for the disk instead of
  // filling memory.
  st_->done.wait(l, [&] { return st_->jobs.size() < st_->max_queued; });
  st_->jobs.push_back({&f, c, n});
  l.unlock();
  st_->work.notify_one();
}
void Writer::drain() {
  std::unique_lock<std::mutex> l(st_->m);
  st_->done.wait(l, [&] { return st_->jobs.empty() && !st_->busy; });
  check();
}
void Writer::run() {
  std::unique_lock<std::mutex> l(st_->m);
  for (;;) {
    st_->work.wait(l, [&] { return st_->stop || !st_->jobs.empty(); });
    if (st_->jobs.empty()) return;  // stopping, nothing left
    Job j = st_->jobs.front();
    st_->jobs.pop_front();
    st_->busy = true;
    bool failed = !st_->error.empty();
    l.unlock();
    std::string error;
    if (!failed) {  // after an error, the rest is dropped (the caller hears of it)
      try {
        j.f->sink(j.c.d, j.n);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    l.lock();
    if (!error.empty() && st_->error.empty()) st_->error = error;
    st_->free.push_back(j.c);
    st_->busy = false;
    st_->done.notify_all();
  }
}

// ---------------------------------------------------------------- files
OutFile::OutFile(const std::string& path, bool gzip, bool discard, Writer* writer) : path_(path), gzip_(gzip) {
  if (!discard) writer_ = writer;
  if (writer_) {
    Chunk c = writer_->take();
    buf_ = c.d;
    cap_ = c.cap;
  } else {
    buf_ = static_cast<char*>(std::malloc(kBuffer));
    if (!buf_) throw std::bad_alloc();
    cap_ = kBuffer;
  }
  if (discard) return;
  if (gzip_) {
    gz_ = gzopen(path.c_str(), "wb1");  // fast: traces are large and read once
    if (!gz_) throw std::runtime_error("cannot write `" + path + "`");
  } else {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw std::runtime_error("cannot write `" + path + "`: " + std::strerror(errno));
    std::setvbuf(f_, nullptr, _IONBF, 0);  // our buffer is the only one
  }
}
OutFile::~OutFile() {
  try {
    close();
  } catch (...) {
  }
  std::free(buf_);
}
void OutFile::hand_off(std::size_t n, std::size_t keep_from, std::size_t keep_to) {
  std::size_t keep = keep_to - keep_from;
  if (writer_) {
    Chunk fresh = writer_->take();
    if (fresh.cap < keep) {
      auto* d = static_cast<char*>(std::realloc(fresh.d, keep));
      if (!d) throw std::bad_alloc();
      fresh = {d, keep};
    }
    std::memcpy(fresh.d, buf_ + keep_from, keep);
    writer_->put(*this, {buf_, cap_}, n);
    buf_ = fresh.d;
    cap_ = fresh.cap;
  } else {
    sink(buf_, n);
    std::memmove(buf_, buf_ + keep_from, keep);
  }
  size_ = keep;
}
void OutFile::write(std::string_view line) {
  assert(!open_row_);
  if (size_ + line.size() > cap_) flush();
  if (line.size() > cap_) {  // larger than the buffer: it grows (and stays grown)
    auto* d = static_cast<char*>(std::realloc(buf_, line.size()));
    if (!d) throw std::bad_alloc();
    buf_ = d;
    cap_ = line.size();
  }
  std::memcpy(buf_ + size_, line.data(), line.size());
  size_ += line.size();
  ++lines_;
  bytes_ += line.size();
}
void OutFile::flush() {
  assert(!open_row_);
  if (size_) hand_off(size_, size_, size_);
}
void OutFile::make_room(Row& row, std::size_t n) {
  assert(row.file_ == this && row.d_ == buf_ && row.start_ == size_);
  // the rows before this one go out; this one moves to the front of a buffer
  if (row.start_) hand_off(row.start_, row.start_, row.n_);
  std::size_t len = row.n_ - row.start_;
  size_ = 0;
  if (len + n > cap_) {  // one row larger than the buffer: it grows (and stays grown)
    std::size_t cap = std::max(cap_ * 2, len + n);
    auto* d = static_cast<char*>(std::realloc(buf_, cap));
    if (!d) throw std::bad_alloc();
    buf_ = d;
    cap_ = cap;
  }
  row.d_ = buf_;
  row.start_ = 0;
  row.n_ = len;
  row.cap_ = cap_;
}
void OutFile::sink(const char* p, std::size_t n) {
  if (n == 0) return;
  if (gz_) {
    if (gzwrite(static_cast<gzFile>(gz_), p, static_cast<unsigned>(n)) != static_cast<int>(n))
      throw std::runtime_error("write failed: `" + path_ + "`");
  } else if (f_) {
    if (std::fwrite(p, 1, n, f_) != n) throw std::runtime_error("write failed: `" + path_ + "`: " + std::strerror(errno));
  }
}
void OutFile::close() {
  assert(!open_row_);
  if (writer_) {
    flush();
    writer_->drain();
  } else {
    sink(buf_, size_);
    size_ = 0;
  }
  if (gz_) {
    int rc = gzclose(static_cast<gzFile>(gz_));
    gz_ = nullptr;
    if (rc != Z_OK) throw std::runtime_error("write failed: `" + path_ + "`");
  }
  if (f_) {
    int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) throw std::runtime_error("write failed: `" + path_ + "`");
  }
}

Output::Output(std::string dir, bool gzip, std::string labels, bool discard, bool threaded)
    : dir_(std::move(dir)), gzip_(gzip), discard_(discard) {
  std::error_code ec;
  if (discard_) {
    labels_ = std::make_unique<OutFile>("labels", false, true);
    return;
  }
  if (threaded) writer_ = std::make_unique<Writer>(8, OutFile::kBuffer);
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create `" + dir_ + "`: " + ec.message());
  if (labels.empty()) labels = dir_ + "/labels/labels.jsonl";
  auto parent = std::filesystem::path(labels).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw std::runtime_error("cannot create `" + parent.string() + "`: " + ec.message());
  labels_ = std::make_unique<OutFile>(labels, false, false, writer_.get());
  labels_path_ = labels;
}
Output::~Output() {
  try {
    close();
  } catch (...) {
  }
}
OutFile& Output::file(std::string_view table) {
  for (auto& [name, f] : recent_)
    if (name == table) return *f;
  auto it = files_.find(table);
  if (it == files_.end()) {
    std::string path = dir_ + "/" + std::string(table) + (gzip_ ? ".jsonl.gz" : ".jsonl");
    it = files_.emplace(std::string(table), std::make_unique<OutFile>(path, gzip_, discard_, writer_.get())).first;
  }
  recent_.emplace_back(it->first, it->second.get());
  return *it->second;
}
std::uint64_t Output::emit(Row& row) {
  row.finish();
  ++rows_;
  return row.commit();
}
void Output::meta(std::string_view json) {
  if (discard_) return;
  auto p = std::filesystem::path(labels_path_).parent_path() / "meta.json";
  OutFile f(p.string(), false);
  std::string l(json);
  l += '\n';
  f.write(l);
  f.close();
}
void Output::close() {
  // everything buffered goes to the writer, which drains once; then each file is closed
  for (auto& [_, f] : files_) f->flush();
  if (labels_) labels_->flush();
  if (writer_) writer_->drain();
  for (auto& [_, f] : files_) f->close();
  if (labels_) labels_->close();
}
std::uint64_t Output::bytes() const {
  std::uint64_t n = labels_->bytes();
  for (auto& [_, f] : files_) n += f->bytes();
  return n;
}

}  // namespace ward::sim
