#include "gateway/forwarder/core/backoff.h"

#include "common/assert.h"

namespace tributary::gateway::forwarder {

backoff::backoff(uint64_t min_ms, uint64_t max_ms, uint64_t seed)
    : min_ms_(min_ms), max_ms_(max_ms), state_(seed) {
  TRIB_ASSERT(min_ms >= 1 && min_ms <= max_ms, "backoff bounds");
}

uint64_t backoff::random() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t backoff::nominal_ms(uint32_t attempt) const {
  uint64_t d = min_ms_;
  // At most 64 doublings before d reaches max_ms_ (a uint64_t).
  for (uint32_t i = 0; i < attempt && d < max_ms_; ++i) d = d > max_ms_ / 2 ? max_ms_ : d * 2;
  return d < max_ms_ ? d : max_ms_;
}

uint64_t backoff::next_delay_ms() {
  const uint64_t d = nominal_ms(attempts_);
  if (attempts_ < 64) attempts_++;
  const uint64_t low = d - d / 2;  // ceil(d/2): at least 1
  const uint64_t span = d - low + 1;
  const uint64_t delay = low + random() % span;
  TRIB_ASSERT(delay >= low && delay <= d);
  return delay;
}

}  // namespace tributary::gateway::forwarder
