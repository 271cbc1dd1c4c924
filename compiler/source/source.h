// Source files and byte spans. Nodes keep byte offsets; line and column are
// computed only when a diagnostic is rendered.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ward::source {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = ~FileId{0};

struct Span {
  FileId file = kNoFile;
  std::uint32_t begin = 0;  // byte offset, inclusive
  std::uint32_t end = 0;    // byte offset, exclusive
  bool valid() const { return file != kNoFile; }
  static Span cover(const Span& a, const Span& b);
};

struct LineCol {
  std::uint32_t line = 1;    // 1-based
  std::uint32_t column = 1;  // 1-based, in bytes
};

class SourceFile {
 public:
  SourceFile(FileId id, std::string path, std::string text);
  FileId id() const { return id_; }
  const std::string& path() const { return path_; }
  const std::string& text() const { return text_; }
  LineCol line_col(std::uint32_t offset) const;
  std::string_view line_text(std::uint32_t line) const;  // without the newline
  std::uint32_t line_count() const { return static_cast<std::uint32_t>(line_starts_.size()); }

 private:
  FileId id_;
  std::string path_;
  std::string text_;
  std::vector<std::uint32_t> line_starts_;
};

// Index of the first byte that is not valid UTF-8, or npos.
std::size_t first_invalid_utf8(std::string_view s);

// Owns every file of one compilation; ids are indices.
class SourceManager {
 public:
  FileId add(std::string path, std::string text);
  // Reads a file from disk; returns kNoFile (and sets *error) when it cannot.
  FileId load(const std::string& path, std::string* error);
  const SourceFile& file(FileId id) const { return *files_.at(id); }
  std::size_t size() const { return files_.size(); }
  std::string_view text(const Span& s) const;

 private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

}  // namespace ward::source
