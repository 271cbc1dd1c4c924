#include "runtime/ingest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include "ast/literals.h"
#include "ast/value.h"

namespace ward::vm {

namespace ond = simdjson::ondemand;

void InputStats::note(std::uint32_t file, std::uint64_t line, const std::string& kind, std::string what) {
  if (problem_kinds[kind]++ < kShownPerKind) problems.push_back({file, line, std::move(what), kind});
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) s.remove_prefix(1);
  return s;
}

// The common exported shape, `2023-07-11T10:15:30.1234567Z`, without a general parser;
// anything else goes to the literal parser (offsets, no seconds, a space for T).
std::optional<std::int64_t> fast_datetime(std::string_view s) {
  auto d = [&](std::size_t i) { return static_cast<unsigned>(s[i] - '0'); };
  auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i)
      if (s[i] < '0' || s[i] > '9') return false;
    return true;
  };
  if (s.size() >= 20 && s.back() == 'Z' && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
      digits(0, 4) && digits(5, 2) && digits(8, 2) && digits(11, 2) && digits(14, 2) && digits(17, 2)) {
    unsigned y = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3), mo = d(5) * 10 + d(6), da = d(8) * 10 + d(9);
    unsigned h = d(11) * 10 + d(12), mi = d(14) * 10 + d(15), se = d(17) * 10 + d(18);
    std::int64_t frac = 0;
    std::size_t i = 19;
    if (s[i] == '.') {
      ++i;
      std::size_t n = 0;
      while (i < s.size() - 1 && s[i] >= '0' && s[i] <= '9') {
        if (n < 7) frac = frac * 10 + (s[i] - '0');
        ++n, ++i;
      }
      if (n == 0) return literals::parse_datetime(s);
      for (; n < 7; ++n) frac *= 10;
    }
    if (i != s.size() - 1) return literals::parse_datetime(s);
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || da < 1 || da > mdays[mo - 1] + (mo == 2 && leap) || h > 23 || mi > 59 || se > 59)
      return std::nullopt;
    // days from civil (H. Hinnant)
    int yy = static_cast<int>(y) - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = static_cast<unsigned>(yy - era * 400);
    unsigned doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + da - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    std::int64_t days = static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
    return days * kTicksPerDay + h * kTicksPerHour + mi * kTicksPerMinute + se * kTicksPerSecond + frac;
  }
  return literals::parse_datetime(s);
}

// A JSON string token's content; `ok` false if it is not a valid string token.
std::string_view json_string(std::string_view raw, Arena& arena, bool& ok) {
  ok = raw.size() >= 2 && raw.front() == '"' && raw.back() == '"';
  if (!ok) return {};
  auto body = raw.substr(1, raw.size() - 2);
  if (body.find('\\') == std::string_view::npos) return body;
  Val v = parse_json(raw, arena, &ok);
  if (!ok || v.tag != Tag::Dyn || v.d->kind != Node::Kind::String) {
    ok = false;
    return {};
  }
  return {v.d->s, v.d->n};
}

enum class Decoded { Ok, Null, Bad };

// One column's raw JSON to its declared type (semantics §2.3).
Decoded decode(bc::Type type, std::string_view raw, Val& out, Arena& arena) {
  raw = trim(raw);
  out = Val{};
  if (raw == "null") {
    if (type == bc::Type::String) out = Val::string({});
    return Decoded::Null;
  }
  bool is_str = !raw.empty() && raw.front() == '"';
  bool ok = true;
  switch (type) {
    case bc::Type::String: {
      if (is_str) {
        auto s = json_string(raw, arena, ok);
        out = Val::string(ok ? s : std::string_view{});
        return ok ? Decoded::Ok : Decoded::Bad;
      }
      Val v = parse_json(raw, arena, &ok);
      if (!ok) {
        out = Val::string({});
        return Decoded::Bad;
      }
      std::string text;
      append_json(text, v.tag == Tag::Dyn ? node_value(*v.d) : v);
      out = Val::string(arena.copy(text));
      return Decoded::Ok;
    }
    case bc::Type::Int:
    case bc::Type::Long:
    case bc::Type::Real: {
      // a JSON number, or a string holding one (the parsers of tolong/toreal, §5)
      std::string_view text = is_str ? json_string(raw, arena, ok) : raw;
      if (!ok) return Decoded::Bad;
      if (type == bc::Type::Real) {
        auto v = parse_real(text);
        if (!v) return Decoded::Bad;
        out = Val::real(*v);
        return Decoded::Ok;
      }
      auto v = parse_long(text);
      if (!v || (type == bc::Type::Int && (*v < INT32_MIN || *v > INT32_MAX))) return Decoded::Bad;
      out = Val::integer(*v);
      return Decoded::Ok;
    }
    case bc::Type::Bool:
      if (raw == "true") out = Val::boolean(true);
      else if (raw == "false") out = Val::boolean(false);
      else return Decoded::Bad;
      return Decoded::Ok;
    case bc::Type::Datetime:
    case bc::Type::Timespan:
    case bc::Type::Guid: {
      if (!is_str) return Decoded::Bad;
      auto text = json_string(raw, arena, ok);
      if (!ok) return Decoded::Bad;
      if (type == bc::Type::Guid) {
        out = Val::string(text);
        return Decoded::Ok;
      }
      auto t = type == bc::Type::Datetime ? fast_datetime(text) : parse_timespan(text);
      if (!t) return Decoded::Bad;
      out = type == bc::Type::Datetime ? Val::datetime(*t) : Val::timespan(*t);
      return Decoded::Ok;
    }
    case bc::Type::Dynamic: {
      Val v = parse_json(raw, arena, &ok);
      if (!ok) return Decoded::Bad;
      if (v.tag == Tag::Dyn && v.d->kind == Node::Kind::String) {
        // JSON text inside a string is parsed once (§2.3); other text stays a string.
        std::string_view inner{v.d->s, v.d->n};
        if (inner.empty()) return Decoded::Null;  // parse_json("") is null (§5)
        bool inner_ok;
        Val w = parse_json(inner, arena, &inner_ok);
        if (inner_ok && !trim(inner).empty()) {
          out = w.tag == Tag::Dyn ? node_value(*w.d) : w;
          return out.is_null() ? Decoded::Null : Decoded::Ok;
        }
        out = Val::string(inner);
        return Decoded::Ok;
      }
      out = v.tag == Tag::Dyn ? node_value(*v.d) : v;
      return Decoded::Ok;
    }
    default: return Decoded::Bad;
  }
}

}  // namespace

struct EventReader::Impl {
  const Image& image;
  InputStats& stats;
  std::uint32_t file;
  gzFile gz = nullptr;
  std::string buf;     // decompressed bytes not yet consumed
  std::size_t pos = 0;
  bool eof = false;
  std::uint64_t line = 0;
  std::vector<char> padded;
  ond::parser parser;
  Arena arena;
  std::unordered_map<std::string_view, std::uint32_t> tables;  // name -> program table
  // column name -> (table, slot) pairs: every table that reads a column of that name
  std::unordered_map<std::string_view, std::vector<std::pair<std::uint32_t, std::uint32_t>>> columns;
  // A cheap first test before the hash lookup, since most keys of a real row are columns no
  // rule reads: the lengths and first bytes of the names that are read.
  // Per length (63: 63 or more), a 64-bit set of (first byte ^ last byte) & 63: one load and
  // one bit test reject nearly every unread name.
  std::array<std::uint64_t, 64> read_sig{};
  static std::pair<std::size_t, unsigned> signature(std::string_view key) {
    if (key.empty()) return {0, 0};
    unsigned mix = static_cast<unsigned char>(key.front()) ^ (static_cast<unsigned char>(key.back()) * 7u);
    return {std::min<std::size_t>(key.size(), 63), mix & 63};
  }
  bool maybe_read(std::string_view key) const {
    auto [len, bit] = signature(key);
    return read_sig[len] >> bit & 1;
  }
  std::vector<std::string_view> found;  // raw JSON of the columns some table reads
  std::vector<const std::vector<std::pair<std::uint32_t, std::uint32_t>>*> found_cols;
  std::vector<Val> row;
  // JSON array input
  simdjson::padded_string whole;
  ond::document doc;
  ond::array arr;
  ond::array_iterator it, end;
  bool array_started = false;

  Impl(const Image& img, InputStats& s, std::uint32_t f) : image(img), stats(s), file(f) {
    const auto& p = img.program();
    for (std::uint32_t t = 0; t < p.tables.size(); ++t) tables.emplace(p.strings[p.tables[t]], t);
    for (std::uint32_t t = 0; t < p.tables.size(); ++t) {
      const auto& fields = img.table_fields(t);
      for (std::uint32_t slot = 0; slot < fields.size(); ++slot)
        columns[p.strings[p.fields[fields[slot]].name]].emplace_back(t, slot);
    }
    for (const auto& [name, _] : columns) {
      auto [len, bit] = signature(name);
      read_sig[len] |= 1ull << bit;
    }
  }

  bool fill() {
    if (eof) return false;
    if (pos > 0) {
      buf.erase(0, pos);
      pos = 0;
    }
    std::size_t old = buf.size();
    buf.resize(old + (1 << 20));
    int n = gzread(gz, buf.data() + old, 1 << 20);
    if (n < 0) {
      int err;
      const char* msg = gzerror(gz, &err);
      buf.resize(old);
      eof = true;
      stats.note(file, line + 1, "read", fmt::format("read error: {}", msg ? msg : "unknown"));
      return false;
    }
    buf.resize(old + static_cast<std::size_t>(n));
    if (n == 0) eof = true;
    return n > 0;
  }

  // Handles one row object; true if it produced an event.
  template <typename Obj>
  bool row_from(Obj& obj, std::uint64_t where, Event& e) {
    arena.reset();
    std::string_view type;
    std::string_view time_raw;
    bool have_time = false;
    found.clear();
    found_cols.clear();
    for (auto field : obj) {
      std::string_view key;
      if (field.unescaped_key().get(key)) return malformed(where, "a key is not a valid JSON string");
      ond::value v;
      if (field.value().get(v)) return malformed(where, "invalid JSON");
      if (key == "Type") {
        std::string_view t;
        if (v.get_string().get(t)) return malformed(where, "`Type` is not a string");
        type = arena.copy(t);
        continue;
      }
      bool time = key == "TimeGenerated";
      if (!time && !maybe_read(key)) continue;  // skipped unread by simdjson
      auto c = columns.find(key);
      if (!time && c == columns.end()) continue;  // skipped unread by simdjson
      std::string_view raw;
      ond::json_type jt;
      if (v.type().get(jt)) return malformed(where, "invalid JSON");
      simdjson::error_code err;
      if (jt == ond::json_type::object) {
        ond::object o;
        err = v.get_object().get(o);
        if (!err) err = o.raw_json().get(raw);
      } else if (jt == ond::json_type::array) {
        ond::array a;
        err = v.get_array().get(a);
        if (!err) err = a.raw_json().get(raw);
      } else {
        raw = v.raw_json_token();
        err = simdjson::SUCCESS;
      }
      if (err) return malformed(where, fmt::format("invalid JSON in `{}`", std::string(key)));
      if (time) {
        time_raw = raw, have_time = true;
        if (c == columns.end()) continue;
      }
      found.push_back(raw);
      found_cols.push_back(&c->second);
    }
    if (type.empty()) return malformed(where, "no `Type` column naming the table");
    auto t = tables.find(type);
    if (t == tables.end()) {
      ++stats.unknown_tables[std::string(type)];
      return false;
    }
    const auto& p = image.program();
    const auto& fields = image.table_fields(t->second);
    row.assign(fields.size(), Val{});
    for (std::uint32_t slot = 0; slot < fields.size(); ++slot)
      if (p.fields[fields[slot]].type == bc::Type::String) row[slot] = Val::string({});
    std::int64_t ticks = 0;
    {
      Val tv;
      if (!have_time || decode(bc::Type::Datetime, time_raw, tv, arena) != Decoded::Ok) {
        ++stats.no_time;
        stats.note(file, where, "time", have_time ? fmt::format("TimeGenerated {} is not an ISO-8601 datetime", std::string(trim(time_raw)).substr(0, 60))
                                                  : std::string("no TimeGenerated"));
        return false;
      }
      ticks = tv.i;
    }
    for (std::size_t i = 0; i < found.size(); ++i) {
      for (auto [tab, slot] : *found_cols[i]) {
        if (tab != t->second) continue;
        auto fi = fields[slot];
        if (decode(p.fields[fi].type, found[i], row[slot], arena) == Decoded::Bad) {
          ++stats.bad_values;
          stats.note(file, where, "value",
                     fmt::format("`{}` is not a valid {}: {}", p.strings[p.fields[fi].name], bc::type_name(p.fields[fi].type),
                                 std::string(trim(found[i])).substr(0, 60)));
        }
      }
    }
    ++stats.rows_per_table[std::string(type)];
    e.table = t->second;
    e.time = ticks;
    e.file = file;
    e.line = where;
    e.row = own(row.data(), row.size());
    return true;
  }

  bool malformed(std::uint64_t where, std::string what) {
    ++stats.malformed;
    stats.note(file, where, "malformed", std::move(what));
    return false;
  }

  bool next_line(Event& e) {
    while (true) {
      auto nl = buf.find('\n', pos);
      while (nl == std::string::npos) {
        if (!fill()) break;
        nl = buf.find('\n', pos);
      }
      if (nl == std::string::npos && pos >= buf.size()) return false;
      std::size_t stop = nl == std::string::npos ? buf.size() : nl;
      std::string_view ln(buf.data() + pos, stop - pos);
      pos = nl == std::string::npos ? buf.size() : nl + 1;
      ++line;
      ++stats.lines;
      if (!ln.empty() && ln.back() == '\r') ln.remove_suffix(1);
      if (trim(ln).empty()) {
        ++stats.blank;
        continue;
      }
      padded.resize(ln.size() + simdjson::SIMDJSON_PADDING);
      std::memcpy(padded.data(), ln.data(), ln.size());
      std::memset(padded.data() + ln.size(), 0, simdjson::SIMDJSON_PADDING);
      ond::document d;
      if (parser.iterate(padded.data(), ln.size(), padded.size()).get(d)) {
        malformed(line, "not JSON");
        continue;
      }
      ond::object obj;
      if (d.get_object().get(obj)) {
        malformed(line, "not a JSON object");
        continue;
      }
      bool ok = false;
      try {
        ok = row_from(obj, line, e);
      } catch (const simdjson::simdjson_error& ex) {
        malformed(line, ex.what());
        continue;
      }
      if (ok) {
        return true;
      }
    }
  }

  bool next_element(Event& e) {
    if (!array_started) {
      array_started = true;
      while (fill()) {
      }
      whole = simdjson::padded_string(std::string_view(buf).substr(pos));
      buf.clear(), buf.shrink_to_fit(), pos = 0;
      if (parser.iterate(whole).get(doc) || doc.get_array().get(arr) || arr.begin().get(it) || arr.end().get(end)) {
        malformed(1, "the file starts with `[` but is not a JSON array");
        eof = true;
        it = end;
        return false;
      }
    }
    while (it != end) {
      ++line;
      ++stats.lines;
      ond::value v;
      if ((*it).get(v)) {
        malformed(line, "invalid JSON: the rest of the array cannot be read");
        it = end;
        return false;
      }
      ond::object obj;
      bool ok = false;
      if (v.get_object().get(obj)) {
        malformed(line, "an array element that is not an object");
      } else {
        try {
          ok = row_from(obj, line, e);
        } catch (const simdjson::simdjson_error& ex) {
          malformed(line, ex.what());
        }
      }
      ++it;
      if (ok) return true;
    }
    return false;
  }
};

EventReader::EventReader(const std::string& path, std::uint32_t file_index, const Image& image, InputStats& stats)
    : impl_(std::make_unique<Impl>(image, stats, file_index)), path_(path) {
  impl_->gz = path == "-" ? gzdopen(0, "rb") : gzopen(path.c_str(), "rb");  // gzread reads plain files as they are
  if (!impl_->gz) throw std::runtime_error(fmt::format("cannot open `{}`: {}", path, std::strerror(errno)));
  gzbuffer(impl_->gz, 1 << 17);
  // The first non-blank byte says which shape the file has.
  while (true) {
    auto& b = impl_->buf;
    // A JSON array of rows starts `[` then `{` (or is `[]`); a JSON Lines file may start with a
    // bad line such as `[1,2]`, which must stay one malformed line.
    auto p = b.find_first_not_of(" \t\r\n", impl_->pos);
    auto q = p == std::string::npos ? p : b.find_first_not_of(" \t\r\n", p + 1);
    if (q != std::string::npos || (p != std::string::npos && impl_->eof)) {
      array_ = b[p] == '[' && q != std::string::npos && (b[q] == '{' || b[q] == ']');
      break;
    }
    if (!impl_->fill()) break;
  }
}

EventReader::~EventReader() {
  if (impl_->gz) gzclose(impl_->gz);
}

bool EventReader::next(Event& e) {
  bool ok = array_ ? impl_->next_element(e) : impl_->next_line(e);
  bytes_ = static_cast<std::uint64_t>(gzoffset(impl_->gz));
  return ok;
}

}  // namespace ward::vm
