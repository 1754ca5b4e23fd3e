// Deterministic randomness: one seed per trial, split into independent named
// streams (`derive_seed(seed, "sampler")`, `derive_seed(seed, "user", u)`).
// Generators and distributions are our own so results do not depend on the
// standard library's implementation-defined distributions.
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

namespace recfuse {

/// SplitMix64 finalizer: a bijective 64-bit mix (Steele et al. 2014).
inline constexpr std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// Seed of the stream `name` (and optional index) under `seed`.
inline constexpr std::uint64_t derive_seed(std::uint64_t seed, std::string_view name,
                                           std::uint64_t index = 0) {
  std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a over the name
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return mix64(mix64(seed ^ h) + index);
}

/// xoshiro256** (Blackman & Vigna 2018): fast, 256-bit state, seeded by
/// SplitMix64 as its authors recommend.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) { reseed(seed); }
  void reseed(std::uint64_t seed) {
    for (auto& s : s_) { seed += 0x9e3779b97f4a7c15ULL; s = mix64(seed - 0x9e3779b97f4a7c15ULL); }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0]; s_[3] ^= s_[1]; s_[1] ^= s_[2]; s_[0] ^= s_[3];
    s_[2] ^= t; s_[3] = rotl(s_[3], 45);
    return result;
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  /// Uniform integer in [0, n) (Lemire's multiply-shift, unbiased).
  std::uint64_t below(std::uint64_t n) {
    std::uint64_t x = next();
    __uint128_t m = static_cast<__uint128_t>(x) * n;
    auto l = static_cast<std::uint64_t>(m);
    if (l < n) {
      const std::uint64_t t = (0 - n) % n;
      while (l < t) { x = next(); m = static_cast<__uint128_t>(x) * n; l = static_cast<std::uint64_t>(m); }
    }
    return static_cast<std::uint64_t>(m >> 64);
  }
  /// Standard normal by Box-Muller (one value per call; no cached state).
  double normal() {
    double u1 = uniform();
    while (u1 <= 0.0) u1 = uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double normal(double mean, double sd) { return mean + sd * normal(); }
  /// False for xoshiro's one invalid state, all zero: next() would return 0
  /// forever and below / normal would spin (a model file can hold it).
  bool valid() const { return (s_[0] | s_[1] | s_[2] | s_[3]) != 0; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4]{};
};

}  // namespace recfuse
