// The rules of grammar/WardLexer.g4, by hand. ANTLR's lexer takes the longest match over
// all rules and, between matches of equal length, the rule listed first; match() computes
// each candidate rule's longest match at the current position and applies the same choice.
// Every literal shape is ASCII, so lengths are in bytes except inside strings and comments.
#include "syntax/lexer.h"

#include <array>
#include <stdexcept>

#include "WardLexer.h"

namespace ward::syntax {

namespace {

using L = grammar::WardLexer;
using Sv = std::string_view;

bool digit(char c) { return c >= '0' && c <= '9'; }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool ident_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool ident_char(char c) { return ident_start(c) || digit(c); }

// Each matcher returns the length of its rule's longest match at s[i], or 0.
struct Text {
  Sv s;
  char at(std::size_t i) const { return i < s.size() ? s[i] : '\0'; }
  std::size_t digits(std::size_t i) const {  // DIGIT+ from i: how many
    std::size_t n = 0;
    while (digit(at(i + n))) ++n;
    return n;
  }
  bool exactly(std::size_t i, std::size_t n, bool (*pred)(char)) const {
    for (std::size_t k = 0; k < n; ++k)
      if (!pred(at(i + k))) return false;
    return true;
  }
  bool lit(std::size_t i, Sv w) const { return s.substr(i, w.size()) == w; }

  // DIGIT4 '-' DIGIT2 '-' DIGIT2 ('T' DIGIT2 ':' DIGIT2 (':' DIGIT2 ('.' DIGIT+)?)? ('Z' | [+-] DIGIT2 ':' DIGIT2)?)?
  std::size_t datetime(std::size_t i) const {
    if (!(exactly(i, 4, digit) && at(i + 4) == '-' && exactly(i + 5, 2, digit) && at(i + 7) == '-' &&
          exactly(i + 8, 2, digit)))
      return 0;
    std::size_t n = 10;
    if (at(i + n) == 'T' && exactly(i + n + 1, 2, digit) && at(i + n + 3) == ':' && exactly(i + n + 4, 2, digit)) {
      std::size_t m = n + 6;
      if (at(i + m) == ':' && exactly(i + m + 1, 2, digit)) {
        m += 3;
        if (at(i + m) == '.' && digit(at(i + m + 1))) m += 1 + digits(i + m + 1);
      }
      if (at(i + m) == 'Z') m += 1;
      else if ((at(i + m) == '+' || at(i + m) == '-') && exactly(i + m + 1, 2, digit) && at(i + m + 3) == ':' &&
               exactly(i + m + 4, 2, digit))
        m += 6;
      n = m;
    }
    return n;
  }
  // HEX8 '-' HEX4 '-' HEX4 '-' HEX4 '-' HEX4 HEX8
  std::size_t guid(std::size_t i) const {
    static constexpr std::array<std::size_t, 5> groups = {8, 4, 4, 4, 12};
    std::size_t n = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      if (g && at(i + n++) != '-') return 0;
      if (!exactly(i + n, groups[g], hex)) return 0;
      n += groups[g];
    }
    return n;
  }
  // DIGIT+ '.' DIGIT+ '.' DIGIT+ '.' DIGIT+
  std::size_t ipv4(std::size_t i) const {
    std::size_t n = 0;
    for (int part = 0; part < 4; ++part) {
      if (part && at(i + n++) != '.') return 0;
      auto d = digits(i + n);
      if (!d) return 0;
      n += d;
    }
    return n;
  }
  std::size_t h16(std::size_t i) const {
    std::size_t n = 0;
    while (n < 4 && hex(at(i + n))) ++n;
    return n;
  }
  // (H16 ':'){7} H16  |  (H16 (':' H16)*)? '::' (H16 (':' H16)*)? ('.' DIGIT+ '.' DIGIT+ '.' DIGIT+)?
  std::size_t ipv6(std::size_t i) const {
    // every alternative has a ':' right after the (greedy, at most 4 digit) first H16
    if (at(i + h16(i)) != ':') return 0;
    std::size_t best = 0;
    {  // eight groups
      std::size_t n = 0;
      bool ok = true;
      for (int g = 0; g < 8 && ok; ++g) {
        auto h = h16(i + n);
        if (!h) ok = false;
        n += h;
        if (g < 7) {
          if (at(i + n) != ':') ok = false;
          ++n;
        }
      }
      if (ok) best = n;
    }
    auto groups = [&](std::size_t j) {  // H16 (':' H16)*, greedy; 0 if no H16 at j
      auto h = h16(j);
      if (!h) return std::size_t{0};
      std::size_t n = h;
      while (at(j + n) == ':' && h16(j + n + 1)) n += 1 + h16(j + n + 1);
      return n;
    };
    auto compressed = [&](std::size_t head) -> std::size_t {
      if (!lit(i + head, "::")) return 0;
      std::size_t n = head + 2;
      n += groups(i + n);
      // the dotted IPv4 tail, all or nothing
      std::size_t t = n;
      bool ok = true;
      for (int part = 0; part < 3 && ok; ++part) {
        if (at(i + t) != '.' || !digit(at(i + t + 1))) ok = false;
        else t += 1 + digits(i + t + 1);
      }
      return ok ? t : n;
    };
    auto head = groups(i);
    std::size_t c = head ? compressed(head) : 0;
    if (!c) c = compressed(0);
    return std::max(best, c);
  }
  std::size_t slash_digits(std::size_t i, std::size_t addr) const {
    if (!addr || at(i + addr) != '/') return 0;
    auto d = digits(i + addr + 1);
    return d ? addr + 1 + d : 0;
  }
  // 'T' DIGIT DIGIT DIGIT DIGIT ('.' DIGIT DIGIT DIGIT)?
  std::size_t technique(std::size_t i) const {
    if (at(i) != 'T' || !exactly(i + 1, 4, digit)) return 0;
    return at(i + 5) == '.' && exactly(i + 6, 3, digit) ? 9 : 5;
  }
  std::size_t unit(std::size_t i) const {
    if (lit(i, "ms")) return 2;
    char c = at(i);
    return c == 's' || c == 'm' || c == 'h' || c == 'd' ? 1 : 0;
  }
  // DIGIT+ ('.' DIGIT+)? ('ms' | 's' | 'm' | 'h' | 'd')
  std::size_t duration(std::size_t i) const {
    auto d = digits(i);
    if (!d) return 0;
    if (at(i + d) == '.' && digit(at(i + d + 1))) {
      auto f = d + 1 + digits(i + d + 1);
      if (auto u = unit(i + f)) return f + u;
    }
    auto u = unit(i + d);
    return u ? d + u : 0;
  }
  std::size_t exponent(std::size_t i) const {  // [eE] [+-]? DIGIT+
    if (at(i) != 'e' && at(i) != 'E') return 0;
    std::size_t n = 1;
    if (at(i + n) == '+' || at(i + n) == '-') ++n;
    auto d = digits(i + n);
    return d ? n + d : 0;
  }
  // DIGIT+ '.' DIGIT+ ([eE] [+-]? DIGIT+)? | DIGIT+ [eE] [+-]? DIGIT+
  std::size_t real(std::size_t i) const {
    auto d = digits(i);
    if (!d) return 0;
    std::size_t best = 0;
    if (at(i + d) == '.' && digit(at(i + d + 1))) {
      auto f = d + 1 + digits(i + d + 1);
      best = f + exponent(i + f);
    }
    if (auto e = exponent(i + d)) best = std::max(best, d + e);
    return best;
  }
  std::size_t ident(std::size_t i) const {
    if (!ident_start(at(i))) return 0;
    std::size_t n = 1;
    while (ident_char(at(i + n))) ++n;
    return n;
  }
  std::size_t utf8_length(std::size_t i) const {
    auto c = static_cast<unsigned char>(at(i));
    std::size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return std::min(n, s.size() - i);
  }
};

struct Keyword {
  Sv text;
  std::size_t type;
};

// The keyword rules, in WardLexer.g4's order.
constexpr Keyword kKeywords[] = {
    {"import", L::IMPORT},       {"table", L::TABLE},         {"const", L::CONST},     {"list", L::LIST},
    {"file", L::FILE},           {"rule", L::RULE},           {"meta", L::META},       {"events", L::EVENTS},
    {"condition", L::CONDITION}, {"outcome", L::OUTCOME},     {"entities", L::ENTITIES}, {"schedule", L::SCHEDULE},
    {"every", L::EVERY},         {"over", L::OVER},           {"nrt", L::NRT},         {"suppress", L::SUPPRESS},
    {"for", L::FOR},             {"test", L::TEST},           {"scenario", L::SCENARIO}, {"trace", L::TRACE},
    {"expect", L::EXPECT},       {"where", L::WHERE},         {"by", L::BY},           {"within", L::WITHIN},
    {"before", L::BEFORE},       {"after", L::AFTER},         {"sequence", L::SEQUENCE}, {"then", L::THEN},
    {"and", L::AND},             {"or", L::OR},               {"not", L::NOT},         {"true", L::TRUE},
    {"false", L::FALSE},         {"in", L::IN},               {"contains", L::CONTAINS}, {"startswith", L::STARTSWITH},
    {"endswith", L::ENDSWITH},   {"has", L::HAS},             {"matches", L::MATCHES}, {"regex", L::REGEX},
    {"cidr", L::CIDR}};

// kKeywords by first letter, for the lookup of a word (only one keyword can equal it,
// so the order within a bucket does not matter).
struct KeywordIndex {
  std::array<std::array<const Keyword*, 8>, 26> by_first{};
  KeywordIndex() {
    std::array<std::size_t, 26> n{};
    for (const auto& k : kKeywords) {
      auto f = static_cast<std::size_t>(k.text[0] - 'a');
      // five at most share a first letter today; more is a bug in this table, not in any input
      if (n[f] == by_first[f].size()) throw std::logic_error("lexer: enlarge KeywordIndex");
      by_first[f][n[f]++] = &k;
    }
  }
  std::size_t find(Sv word) const {
    if (word[0] < 'a' || word[0] > 'z') return 0;
    for (const Keyword* k : by_first[static_cast<std::size_t>(word[0] - 'a')]) {
      if (!k) break;
      if (k->text == word) return k->type;
    }
    return 0;
  }
};
const KeywordIndex kKeywordIndex;

// Operators after `!`, longest first.
constexpr Keyword kBang[] = {{"!startswith", L::NOT_STARTSWITH}, {"!contains", L::NOT_CONTAINS},
                             {"!endswith", L::NOT_ENDSWITH},     {"!in~", L::NOT_IN_CI},
                             {"!has", L::NOT_HAS},               {"!in", L::NOT_IN},
                             {"!=", L::NEQ},                     {"!~", L::NEQ_CI}};

}  // namespace

std::pair<std::size_t, std::size_t> lex_at(std::string_view text, std::size_t pos) {
  Text t{text};
  const std::size_t i = pos;
  const char c = text[i];
  // Candidates as (length, type), considered in the grammar's rule order; a later rule
  // wins only with a strictly longer match.
  std::size_t len = 0, type = L::ERROR_CHAR;
  auto offer = [&](std::size_t n, std::size_t ty) {
    if (n > len) len = n, type = ty;
  };

  switch (c) {
    case ' ': case '\t': case '\r': case '\n': case '\f': {
      std::size_t n = 0;
      while (i + n < text.size() && (text[i + n] == ' ' || text[i + n] == '\t' || text[i + n] == '\r' ||
                                       text[i + n] == '\n' || text[i + n] == '\f'))
        ++n;
      return {n, L::WS};
    }
    case '{': return {1, L::LBRACE};
    case '}': return {1, L::RBRACE};
    case '(': return {1, L::LPAREN};
    case ')': return {1, L::RPAREN};
    case '[': return {1, L::LBRACK};
    case ']': return {1, L::RBRACK};
    case ',': return {1, L::COMMA};
    case '.': return {1, L::DOT};
    case '+': return {1, L::PLUS};
    case '-': return {1, L::MINUS};
    case '*': return {1, L::STAR};
    case '%': return {1, L::PERCENT};
    case '=': return t.at(i + 1) == '=' ? std::pair{std::size_t{2}, std::size_t{L::EQ}}
                     : t.at(i + 1) == '~' ? std::pair{std::size_t{2}, std::size_t{L::EQ_CI}}
                                          : std::pair{std::size_t{1}, std::size_t{L::ASSIGN}};
    case '<': return t.at(i + 1) == '=' ? std::pair{std::size_t{2}, std::size_t{L::LE}} : std::pair{std::size_t{1}, std::size_t{L::LT}};
    case '>': return t.at(i + 1) == '=' ? std::pair{std::size_t{2}, std::size_t{L::GE}} : std::pair{std::size_t{1}, std::size_t{L::GT}};
    case '!':
      for (const auto& k : kBang)
        if (t.lit(i, k.text)) return {k.text.size(), k.type};
      return {1, L::ERROR_CHAR};
    case ':': {
      offer(1, L::COLON);
      auto v6 = t.ipv6(i);
      offer(t.slash_digits(i, v6), L::IPV6_CIDR);
      offer(v6, L::IPV6);
      return {len, type};
    }
    case '/':
      if (t.at(i + 1) == '/') {
        std::size_t n = 2;
        while (i + n < text.size() && text[i + n] != '\r' && text[i + n] != '\n') ++n;
        return {n, L::LINE_COMMENT};
      }
      if (t.at(i + 1) == '*') {
        auto end = text.find("*/", i + 2);
        if (end == Sv::npos) return {text.size() - i, L::UNTERMINATED_COMMENT};
        return {end + 2 - i, L::BLOCK_COMMENT};
      }
      return {1, L::SLASH};
    case '"': {
      std::size_t n = 1;
      while (true) {
        char x = t.at(i + n);
        if (i + n >= text.size() || x == '\r' || x == '\n') return {n, L::UNTERMINATED_STRING};
        if (x == '"') return {n + 1, L::STRING};
        if (x == '\\') {
          char y = t.at(i + n + 1);
          if (i + n + 1 >= text.size() || y == '\r' || y == '\n') return {n + 1, L::UNTERMINATED_STRING};
          n += 2;
        } else {
          ++n;
        }
      }
    }
    case '$': {
      if (!ident_start(t.at(i + 1))) return {1, L::ERROR_CHAR};
      return {1 + t.ident(i + 1), L::VAR};
    }
    default: break;
  }

  if (digit(c) || hex(c) || ident_start(c)) {
    // literal shapes, in rule order: DATETIME GUID IPV4_CIDR IPV4 IPV6_CIDR IPV6 TECHNIQUE
    // DURATION REAL INT ... RAW_STRING VAR IDENT; keywords come before all of them
    auto word = t.ident(i);
    if (word)
      if (auto k = kKeywordIndex.find(text.substr(i, word))) offer(word, k);
    if (t.lit(i, "in~")) offer(3, L::IN_CI);
    if (digit(c)) offer(t.datetime(i), L::DATETIME);
    if (hex(c)) offer(t.guid(i), L::GUID);
    if (digit(c)) {
      auto v4 = t.ipv4(i);
      offer(t.slash_digits(i, v4), L::IPV4_CIDR);
      offer(v4, L::IPV4);
    }
    if (hex(c)) {
      auto v6 = t.ipv6(i);
      offer(t.slash_digits(i, v6), L::IPV6_CIDR);
      offer(v6, L::IPV6);
    }
    if (c == 'T') offer(t.technique(i), L::TECHNIQUE);
    if (digit(c)) {
      offer(t.duration(i), L::DURATION);
      offer(t.real(i), L::REAL);
      offer(t.digits(i), L::INT);
    }
    if (c == 'r' && t.at(i + 1) == '"') {
      std::size_t n = 2;
      while (i + n < text.size() && text[i + n] != '"' && text[i + n] != '\r' && text[i + n] != '\n') ++n;
      if (t.at(i + n) == '"' && i + n < text.size()) offer(n + 1, L::RAW_STRING);
    }
    offer(word, L::IDENT);
    if (len) return {len, type};
  }
  return {t.utf8_length(i), L::ERROR_CHAR};
}

std::unique_ptr<antlr4::Token> FastLexer::nextToken() {
  if (pos_ >= text_.size()) {
    auto tok = std::make_unique<antlr4::CommonToken>(
        std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, nullptr}, antlr4::Token::EOF,
        antlr4::Token::DEFAULT_CHANNEL, index_, index_ - 1);
    tok->setLine(line_);
    tok->setCharPositionInLine(column_);
    tok->setText("<EOF>");
    eof_ = true;
    return tok;
  }
  auto [n, type] = lex_at(text_, pos_);
  Sv lexeme = text_.substr(pos_, n);
  std::size_t points = 0;
  for (unsigned char ch : lexeme) points += (ch & 0xC0) != 0x80;
  bool hidden = type == L::WS || type == L::LINE_COMMENT || type == L::BLOCK_COMMENT;
  auto tok = std::make_unique<antlr4::CommonToken>(
      std::pair<antlr4::TokenSource*, antlr4::CharStream*>{this, nullptr}, type,
      hidden ? antlr4::Token::HIDDEN_CHANNEL : antlr4::Token::DEFAULT_CHANNEL, index_, index_ + points - 1);
  tok->setLine(line_);
  tok->setCharPositionInLine(column_);
  tok->setText(std::string(lexeme));
  // advance the position, as ANTLR counts lines (at '\n') and columns (code points)
  for (unsigned char ch : lexeme) {
    if (ch == '\n') {
      ++line_;
      column_ = 0;
    } else if ((ch & 0xC0) != 0x80) {
      ++column_;
    }
  }
  pos_ += n;
  index_ += points;
  return tok;
}

}  // namespace ward::syntax
