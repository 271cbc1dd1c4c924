// Seeded randomness for the simulator. Our own generators and our own mapping to ranges,
// never std:: distributions (their output differs between standard libraries), so the same
// seed gives the same bytes everywhere.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// A GUID's text, held without an allocation.
struct Guid {
  char s[36];
  std::string_view v() const { return {s, sizeof s}; }
};

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
  // A random v4-shaped GUID, into out (36 bytes, no terminator).
  // The digits are a's 16 nibbles then b's, most significant first; the version nibble (the
  // 13th digit) is 4 and the variant nibble (the 17th) is 8-b.
  void guid_to(char* out) {
    std::uint64_t a = next(), b = next();
    a = (a & ~(0xfULL << 12)) | (0x4ULL << 12);
    b = (b & ~(0xcULL << 60)) | (0x8ULL << 60);
    char h[32];
    hex16(h, a);
    hex16(h + 16, b);
    std::memcpy(out, h, 8);
    out[8] = '-';
    std::memcpy(out + 9, h + 8, 4);
    out[13] = '-';
    std::memcpy(out + 14, h + 12, 4);
    out[18] = '-';
    std::memcpy(out + 19, h + 16, 4);
    out[23] = '-';
    std::memcpy(out + 24, h + 20, 12);
  }
  std::string guid() {
    char buf[36];
    guid_to(buf);
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
  static void hex16(char* out, std::uint64_t w) {  // 16 lower-case hex digits, most significant first
#if defined(__SSE2__)
    // Nibbles spread to bytes, most significant first: the bytes of w in big-endian order,
    // high nibbles interleaved with low ones; then '0' + n, or 'a' + n - 10 where n > 9.
    std::uint64_t be = __builtin_bswap64(w);
    __m128i bytes = _mm_cvtsi64_si128(static_cast<long long>(be));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(bytes, 4), _mm_set1_epi8(0x0f));
    __m128i lo = _mm_and_si128(bytes, _mm_set1_epi8(0x0f));
    __m128i nib = _mm_unpacklo_epi8(hi, lo);
    __m128i letters = _mm_and_si128(_mm_cmpgt_epi8(nib, _mm_set1_epi8(9)), _mm_set1_epi8('a' - '0' - 10));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out), _mm_add_epi8(nib, _mm_add_epi8(letters, _mm_set1_epi8('0'))));
#else
    for (int i = 0; i < 16; ++i) out[i] = "0123456789abcdef"[(w >> (60 - 4 * i)) & 15];
#endif
  }
  std::uint64_t s_[4];
};

}  // namespace ward::sim
