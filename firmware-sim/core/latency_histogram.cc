#include "firmware-sim/core/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "common/assert.h"

namespace tributary::sim {

size_t latency_histogram::bucket_of(uint64_t v) {
  constexpr uint64_t exact = uint64_t{1} << exact_bits;
  if (v < exact) return static_cast<size_t>(v);
  v = std::min<uint64_t>(v, (uint64_t{1} << top_bits) - 1);
  const int power = std::bit_width(v) - 1;  // >= exact_bits
  const uint64_t sub = (v >> (power - sub_bits)) & ((uint64_t{1} << sub_bits) - 1);
  return exact + static_cast<size_t>(power - exact_bits) * (size_t{1} << sub_bits) + static_cast<size_t>(sub);
}

uint64_t latency_histogram::upper_of(size_t b) {
  constexpr uint64_t exact = uint64_t{1} << exact_bits;
  if (b < exact) return b;
  const size_t k = b - exact;
  const int power = exact_bits + static_cast<int>(k >> sub_bits);
  const uint64_t sub = k & ((size_t{1} << sub_bits) - 1);
  const uint64_t lo = (uint64_t{1} << power) + (sub << (power - sub_bits));
  return lo + (uint64_t{1} << (power - sub_bits)) - 1;
}

void latency_histogram::record(int64_t ms) {
  if (ms < 0) {
    ++negative_;
    ms = 0;
  }
  ++buckets_[bucket_of(static_cast<uint64_t>(ms))];
  ++count_;
  max_ = std::max(max_, ms);
  min_ = std::min(min_, ms);
}

int64_t latency_histogram::quantile(double q) const {
  TRIB_ASSERT(q >= 0 && q <= 1);
  if (count_ == 0) return 0;
  const auto rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t b = 0; b < bucket_count; ++b) {
    seen += buckets_[b];
    if (seen >= rank) return std::min<int64_t>(static_cast<int64_t>(upper_of(b)), max_);
  }
  return max_;
}

}  // namespace tributary::sim
