#pragma once
// A small seeded pseudo-random generator (SplitMix64). The core owns one, seeded from
// config::random_seed: the same seed and the same inputs give the same elections, which is what
// lets a simulation seed replay exactly. Never seeded from the clock or the OS.
#include <cstdint>

#include "common/assert.h"

namespace tributary::cluster::raft {

class rng {
 public:
  explicit rng(uint64_t seed) : state_(seed) {}

  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (the modulo bias is irrelevant for election timeouts).
  uint64_t below(uint64_t n) {
    TRIB_ASSERT(n > 0, "rng::below needs a non-empty range");
    return next() % n;
  }

 private:
  uint64_t state_;
};

}  // namespace tributary::cluster::raft
