#include "gateway/forwarder/core/rate_meter.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::gateway::forwarder {

rate_meter::rate_meter(uint64_t window_ms, uint64_t bucket_ms) : bucket_ms_(bucket_ms) {
  TRIB_ASSERT(bucket_ms >= 1 && window_ms >= bucket_ms && window_ms % bucket_ms == 0, "rate_meter window");
  const uint64_t n = window_ms / bucket_ms;
  TRIB_ASSERT(n <= buckets_max, "rate_meter buckets");
  counts_.assign(static_cast<size_t>(n), 0);
}

void rate_meter::roll(uint64_t bucket_index) {
  if (!started_) {
    started_ = true;
    first_ = bucket_index;
    current_ = bucket_index;
    return;
  }
  if (bucket_index <= current_) return;
  // Clear the buckets skipped since the last write (at most the whole ring).
  const uint64_t gap = std::min<uint64_t>(bucket_index - current_, counts_.size());
  for (uint64_t i = 1; i <= gap; ++i) counts_[(current_ + i) % counts_.size()] = 0;
  current_ = bucket_index;
}

void rate_meter::add(uint64_t now_ms, uint64_t n) {
  const uint64_t b = now_ms / bucket_ms_;
  roll(b);
  if (b < current_) return;  // a time before the newest bucket: too late to count (clock is monotonic)
  counts_[b % counts_.size()] += n;
}

double rate_meter::per_second(uint64_t now_ms) const {
  if (!started_) return 0;
  const uint64_t now_b = now_ms / bucket_ms_;
  if (now_b <= first_) return 0;  // no complete bucket yet
  const uint64_t size = counts_.size();
  // Complete buckets in the window: [now_b - size, now_b - 1], not before the first add.
  const uint64_t lo = std::max(first_, now_b >= size ? now_b - size : 0);
  uint64_t sum = 0;
  for (uint64_t b = lo; b < now_b; ++b) {
    if (b > current_) break;             // nothing written since
    if (current_ - b >= size) continue;  // overwritten: older than the ring
    sum += counts_[b % size];
  }
  const double span_s = static_cast<double>((now_b - lo) * bucket_ms_) / 1000.0;
  return span_s > 0 ? static_cast<double>(sum) / span_s : 0;
}

}  // namespace tributary::gateway::forwarder
