#pragma once
// Exponential backoff with jitter, from a seeded generator (pure: same seed, same delays).
//
// Attempt n (0-based) waits a delay drawn uniformly from [d/2, d], d = min(min_ms * 2^n, max_ms):
// "equal jitter", so a fleet of gateways that lost the same cluster at the same moment does not
// come back in lockstep, while every wait stays at least half the nominal one. reset() after a
// success starts again from min_ms.
#include <cstdint>

namespace tributary::gateway::forwarder {

class backoff {
 public:
  // 1 <= min_ms <= max_ms (TRIB_ASSERT).
  backoff(uint64_t min_ms, uint64_t max_ms, uint64_t seed);

  uint64_t next_delay_ms();  // the delay of the next attempt; counts the attempt
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }
  uint64_t nominal_ms(uint32_t attempt) const;  // d for an attempt, without jitter

 private:
  uint64_t random();  // splitmix64: tiny, seedable, identical on every platform

  uint64_t min_ms_;
  uint64_t max_ms_;
  uint64_t state_;
  uint32_t attempts_ = 0;
};

}  // namespace tributary::gateway::forwarder
