#include "simulator/output.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "compiler/ast/value.h"  // the calendar

namespace ward::sim {

namespace {
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
}  // namespace

std::string iso8601(Millis t) {
  std::int64_t days = floor_div(t, kDay);
  Millis rem = t - days * kDay;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
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

void json_escape(std::string& out, std::string_view s) {
  out += '"';
  std::size_t run = 0;  // start of the pending span that needs no escaping
  constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Skip 8 clean bytes at a time: none below 0x20, none a quote or a backslash (SWAR).
    while (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      std::uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
      std::uint64_t bad = ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b);
      if (bad & highs) break;
      i += 8;
    }
    if (i >= s.size()) break;
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char b[8];
        std::snprintf(b, sizeof b, "\\u%04x", c);
        out += b;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

Row::Row(std::string_view table, Millis time) : table_(table), time_(time) {
  buf_.reserve(2048);
  buf_ += "{\"Type\":";
  json_escape(buf_, table);
  buf_ += ",\"TimeGenerated\":\"";
  buf_ += iso8601(time);
  buf_ += '"';
}
void Row::key(std::string_view k) {
  buf_ += ',';
  json_escape(buf_, k);
  buf_ += ':';
}
Row& Row::s(std::string_view k, std::string_view v) { key(k); json_escape(buf_, v); return *this; }
Row& Row::i(std::string_view k, std::int64_t v) { key(k); buf_ += std::to_string(v); return *this; }
Row& Row::r(std::string_view k, double v) {
  key(k);
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  buf_ += b;
  return *this;
}
Row& Row::b(std::string_view k, bool v) { key(k); buf_ += v ? "true" : "false"; return *this; }
Row& Row::t(std::string_view k, Millis v) { key(k); buf_ += '"'; buf_ += iso8601(v); buf_ += '"'; return *this; }
Row& Row::raw(std::string_view k, std::string_view json) { key(k); buf_ += json; return *this; }
std::string& Row::finish() {
  buf_ += "}\n";
  return buf_;
}

OutFile::OutFile(const std::string& path, bool gzip, bool discard) : path_(path), gzip_(gzip) {
  if (discard) {
    buf_.reserve(1 << 20);
    return;
  }
  if (gzip_) {
    gz_ = gzopen(path.c_str(), "wb1");  // fast: traces are large and read once
    if (!gz_) throw std::runtime_error("cannot write `" + path + "`");
  } else {
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) throw std::runtime_error("cannot write `" + path + "`: " + std::strerror(errno));
  }
  buf_.reserve(1 << 20);
}
OutFile::~OutFile() {
  try {
    close();
  } catch (...) {
  }
}
void OutFile::write(std::string_view line) {
  buf_ += line;
  ++lines_;
  bytes_ += line.size();
  if (buf_.size() >= (1 << 20)) flush();
}
void OutFile::flush() {
  if (buf_.empty()) return;
  if (!gz_ && !f_) {
    buf_.clear();
    return;
  }
  if (gz_) {
    if (gzwrite(static_cast<gzFile>(gz_), buf_.data(), static_cast<unsigned>(buf_.size())) != static_cast<int>(buf_.size()))
      throw std::runtime_error("write failed: `" + path_ + "`");
  } else if (f_) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) throw std::runtime_error("write failed: `" + path_ + "`");
  }
  buf_.clear();
}
void OutFile::close() {
  if (!f_ && !gz_) return;
  flush();
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

Output::Output(std::string dir, bool gzip, std::string labels, bool discard) : dir_(std::move(dir)), gzip_(gzip), discard_(discard) {
  std::error_code ec;
  if (discard_) {
    labels_ = std::make_unique<OutFile>("labels", false, true);
    return;
  }
  std::filesystem::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("cannot create `" + dir_ + "`: " + ec.message());
  if (labels.empty()) labels = dir_ + "/labels/labels.jsonl";
  auto parent = std::filesystem::path(labels).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) throw std::runtime_error("cannot create `" + parent.string() + "`: " + ec.message());
  labels_ = std::make_unique<OutFile>(labels, false);
  labels_path_ = labels;
}
std::uint64_t Output::emit(Row& row) {
  auto it = files_.find(row.table());
  if (it == files_.end()) {
    std::string path = dir_ + "/" + std::string(row.table()) + (gzip_ ? ".jsonl.gz" : ".jsonl");
    it = files_.emplace(std::string(row.table()), std::make_unique<OutFile>(path, gzip_, discard_)).first;
  }
  it->second->write(row.finish());
  ++rows_;
  return it->second->lines();
}
void Output::label(std::string_view line) {
  std::string l(line);
  l += '\n';
  labels_->write(l);
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
  for (auto& [_, f] : files_) f->close();
  labels_->close();
}
std::uint64_t Output::bytes() const {
  std::uint64_t n = labels_->bytes();
  for (auto& [_, f] : files_) n += f->bytes();
  return n;
}

}  // namespace ward::sim
