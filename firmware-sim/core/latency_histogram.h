#pragma once
// Latency percentiles in bounded memory: exact for 0..1023 ms, then 64 sub-buckets per power of two
// (relative error under 1.6%), up to 2^40 ms. Deterministic; the maximum is exact.
#include <array>
#include <cstddef>
#include <cstdint>

namespace tributary::sim {

class latency_histogram {
 public:
  void record(int64_t ms);  // negative values are counted apart and recorded as 0
  uint64_t count() const { return count_; }
  uint64_t negative() const { return negative_; }
  int64_t max() const { return max_; }
  int64_t min() const { return count_ ? min_ : 0; }
  // The smallest recorded value v such that at least q of all values are <= v (bucket upper bound;
  // exact below 1024 ms and never above max()). 0 when empty. q in [0, 1].
  int64_t quantile(double q) const;

 private:
  static constexpr int exact_bits = 10;  // 0..1023 exact
  static constexpr int sub_bits = 6;     // 64 sub-buckets per power of two
  static constexpr int top_bits = 40;
  static constexpr size_t bucket_count =
      (size_t{1} << exact_bits) + (top_bits - exact_bits) * (size_t{1} << sub_bits);
  static size_t bucket_of(uint64_t v);
  static uint64_t upper_of(size_t b);

  std::array<uint64_t, bucket_count> buckets_{};
  uint64_t count_ = 0;
  uint64_t negative_ = 0;
  int64_t max_ = 0;
  int64_t min_ = INT64_MAX;
};

}  // namespace tributary::sim
