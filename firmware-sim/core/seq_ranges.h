#pragma once
// A set of per-device sequence numbers kept as sorted, disjoint, non-adjacent inclusive ranges:
// acknowledged sequences of a healthy device are one range, so a report for 10,000 devices stays small.
// Insertion is O(1) for the common in-order case and O(ranges) otherwise.
#include <cstdint>
#include <vector>

#include "firmware-sim/core/errc.h"

namespace tributary::sim {

struct seq_range {
  uint64_t lo = 0;  // inclusive
  uint64_t hi = 0;  // inclusive, >= lo
  bool operator==(const seq_range&) const = default;
};

class seq_ranges {
 public:
  seq_ranges() = default;

  // Adds seq; returns false if it was already present.
  bool insert(uint64_t seq);
  bool contains(uint64_t seq) const;
  uint64_t count() const { return count_; }
  bool empty() const { return ranges_.empty(); }
  const std::vector<seq_range>& ranges() const { return ranges_; }

  // Builds a set from ranges as written in a report: each lo <= hi, sorted, disjoint (adjacent ranges
  // are merged). At most `ranges_max` ranges.
  static detailed_result<seq_ranges> from_ranges(const std::vector<seq_range>& ranges, size_t ranges_max);

 private:
  std::vector<seq_range> ranges_;
  uint64_t count_ = 0;
};

}  // namespace tributary::sim
