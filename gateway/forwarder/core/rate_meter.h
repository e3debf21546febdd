#pragma once
// A rate over a sliding window of whole buckets (pure: the caller gives the time).
//
//   rate_meter m(10'000, 1'000);        // 10 s window of 1 s buckets
//   m.add(now_ms, rows);
//   double rows_per_s = m.per_second(now_ms);
//
// per_second counts the buckets that are complete (the current one is still filling) inside the
// window, divided by their span; before a whole window has passed since the first add, by the span
// actually covered, so a drain that just started is not averaged with seconds that never happened.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tributary::gateway::forwarder {

class rate_meter {
 public:
  // window_ms a multiple of bucket_ms, both >= 1, at most buckets_max buckets (TRIB_ASSERT).
  static constexpr size_t buckets_max = 3600;
  rate_meter(uint64_t window_ms, uint64_t bucket_ms);

  void add(uint64_t now_ms, uint64_t n);
  double per_second(uint64_t now_ms) const;

 private:
  void roll(uint64_t bucket_index);

  uint64_t bucket_ms_;
  std::vector<uint64_t> counts_;  // ring, indexed by bucket_index % size
  uint64_t current_ = 0;          // index of the newest bucket written
  bool started_ = false;
  uint64_t first_ = 0;  // bucket index of the first add
};

}  // namespace tributary::gateway::forwarder
