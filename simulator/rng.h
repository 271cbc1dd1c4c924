// Seeded randomness for the simulator. Our own generators and our own mapping to ranges,
// never std:: distributions (their output differs between standard libraries), so the same
// seed gives the same bytes everywhere.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace ward::sim {

inline std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A stable 64-bit mix of several values: seeds for independent streams are derived from
// (seed, purpose, user, day, ...) so that output never depends on iteration order.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL);
  return splitmix64(x);
}
template <typename... T>
std::uint64_t derive(std::uint64_t seed, T... parts) {
  std::uint64_t h = seed;
  ((h = mix(h, static_cast<std::uint64_t>(parts))), ...);
  return h;
}
inline std::uint64_t tag(std::string_view s) {  // FNV-1a: names a stream
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ULL;
  return h;
}

// xoshiro256** (Blackman and Vigna), seeded through splitmix64.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) by Lemire's multiply-shift with rejection: exact, portable.
  std::uint64_t below(std::uint64_t n) {
    if (n <= 1) return 0;
    for (;;) {
      unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
      auto low = static_cast<std::uint64_t>(m);
      if (low >= n || low >= (0 - n) % n) return static_cast<std::uint64_t>(m >> 64);
    }
  }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool chance(double p) { return unit() < p; }
  template <typename C>
  const auto& pick(const C& c) {
    return c[below(c.size())];
  }
  // A random v4-shaped GUID.
  std::string guid() {
    std::uint64_t a = next(), b = next();
    char buf[37];
    static const char* hex = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) buf[k++] = '-';
      std::uint64_t w = i < 16 ? a : b;
      unsigned nib = static_cast<unsigned>((w >> ((15 - (i % 16)) * 4)) & 0xf);
      if (i == 12) nib = 4;
      if (i == 16) nib = 8 | (nib & 3);
      buf[k++] = hex[nib];
    }
    buf[36] = 0;
    return std::string(buf, 36);
  }
  std::string hexstr(int n) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    s.reserve(static_cast<std::size_t>(n));
    std::uint64_t w = 0;
    for (int i = 0; i < n; ++i) {
      if (i % 16 == 0) w = next();
      s += hex[w & 0xf];
      w >>= 4;
    }
    return s;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace ward::sim
