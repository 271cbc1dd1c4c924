// Parsers for the literal shapes Ward shares with event data: ISO-8601
// datetimes, durations, IPv4/IPv6 addresses and CIDR ranges. Boost Spirit X3
// for the grammar-like ones; inet_pton for addresses (it is the reference).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ward::literals {

// `2023-05-15`, `2023-05-15T01:02:03Z`, `...T01:02:03.1234567+02:00`. Ticks since epoch.
std::optional<std::int64_t> parse_datetime(std::string_view text);
// `30s`, `5m`, `1h`, `14d`, `250ms`, `1.5h`. Ticks; nullopt on overflow or bad unit.
std::optional<std::int64_t> parse_duration(std::string_view text);
// Canonical text of an IPv4 or IPv6 address, or nullopt.
std::optional<std::string> parse_ip(std::string_view text, bool* is_v6 = nullptr);
struct Cidr {
  std::string address;  // canonical network address text as written (host bits kept)
  int prefix = 0;
  bool v6 = false;
};
enum class CidrError { None, BadAddress, BadPrefix };
std::optional<Cidr> parse_cidr(std::string_view text, CidrError* err = nullptr);
bool is_guid(std::string_view text);

// Decodes a Ward string literal body (between the quotes). On a bad escape returns
// nullopt and sets *bad_offset/*bad_len to the escape's position within `body`.
std::optional<std::string> unescape(std::string_view body, std::size_t* bad_offset, std::size_t* bad_len);
// Ward source spelling of a string: quotes and escapes (used by `ward fmt` and schema generation).
std::string quote(std::string_view s);

}  // namespace ward::literals
