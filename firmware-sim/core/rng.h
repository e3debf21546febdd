#pragma once
// A small seeded generator (SplitMix64: 8 bytes of state, so every virtual device can own one) and the
// few distributions the models need. Deterministic: the same seed gives the same sequence everywhere.
#include <cmath>
#include <cstdint>
#include <numbers>

namespace tributary::sim {

class rng {
 public:
  constexpr explicit rng(uint64_t seed = 0) : state_(seed) {}

  constexpr uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive); lo <= hi.
  int64_t uniform_int(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    if (span == 0) return static_cast<int64_t>(next_u64());  // the whole 64-bit range
    return lo + static_cast<int64_t>(next_u64() % span);
  }
  // Standard normal (Box-Muller; one value per call keeps the state 8 bytes).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  // Exponential with the given mean.
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  bool chance(double p) { return uniform() < p; }

  constexpr uint64_t state() const { return state_; }

 private:
  uint64_t state_;
};

// Derives an independent stream for (seed, salt), e.g. one per device.
constexpr uint64_t derive_seed(uint64_t seed, uint64_t salt) {
  rng r(seed ^ (salt * 0xd1b54a32d192ed03ULL));
  r.next_u64();
  return r.next_u64();
}

}  // namespace tributary::sim
