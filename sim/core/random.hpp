#pragma once
// Random streams. Every stream derives from the scenario seed and a stream name (seed ⊕ hash(name)), so
// adding a stream or changing the controller leaves every other stream's numbers unchanged (common random
// numbers). The generator and the variate transforms are our own, so results do not depend on the standard
// library.
#include <cmath>
#include <cstdint>
#include <string_view>

namespace autoscale {

inline uint64_t fnv1a64(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A key derived from a key and a label, for streams addressed by position (the i-th request's draws) rather
// than consumed in order.
inline uint64_t derive_key(uint64_t key, uint64_t label) {
  uint64_t x = key ^ (label * 0xD1B54A32D192ED03ULL);
  return splitmix64(x);
}

// xoshiro256** (Blackman & Vigna).
class Rng {
 public:
  Rng(uint64_t seed, std::string_view stream) : Rng(seed ^ fnv1a64(stream)) {}
  explicit Rng(uint64_t key) {
    uint64_t x = key;
    for (auto& w : s_) w = splitmix64(x);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform on [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log1p(-uniform()); }
  // Standard normal (Box–Muller; the second variate is discarded so a draw costs a fixed two uniforms).
  double normal() {
    double u1 = uniform();
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log1p(-u1)) * std::cos(2.0 * M_PI * u2);
  }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace autoscale
