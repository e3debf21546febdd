#include "firmware-sim/core/seq_ranges.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/assert.h"

namespace tributary::sim {

bool seq_ranges::insert(uint64_t seq) {
  // Fast path: at or after the end (written without hi + 1, which could overflow).
  if (ranges_.empty() || (seq > ranges_.back().hi && seq - ranges_.back().hi > 1)) {
    ranges_.push_back({seq, seq});
    ++count_;
    return true;
  }
  if (seq > ranges_.back().hi) {  // exactly hi + 1
    ranges_.back().hi = seq;
    ++count_;
    return true;
  }
  // First range whose lo is greater than seq; the candidate holding seq is the one before it.
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), seq,
                             [](uint64_t s, const seq_range& r) { return s < r.lo; });
  if (it != ranges_.begin()) {
    auto prev = std::prev(it);
    if (seq <= prev->hi) return false;  // already present
    if (seq == prev->hi + 1) {
      prev->hi = seq;
      if (it != ranges_.end() && it->lo - 1 == seq) {  // closes the gap to the next range
        prev->hi = it->hi;
        ranges_.erase(it);
      }
      ++count_;
      return true;
    }
  }
  if (it != ranges_.end() && it->lo - 1 == seq) {
    it->lo = seq;
  } else {
    ranges_.insert(it, {seq, seq});
  }
  ++count_;
  return true;
}

bool seq_ranges::contains(uint64_t seq) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), seq,
                             [](uint64_t s, const seq_range& r) { return s < r.lo; });
  if (it == ranges_.begin()) return false;
  return seq <= std::prev(it)->hi;
}

detailed_result<seq_ranges> seq_ranges::from_ranges(const std::vector<seq_range>& ranges, size_t ranges_max) {
  if (ranges.size() > ranges_max) {
    return fail_with(errc::limit_exceeded, fmt::format("{} ranges, more than {}", ranges.size(), ranges_max));
  }
  seq_ranges s;
  s.ranges_.reserve(ranges.size());
  for (const seq_range& r : ranges) {
    if (r.lo > r.hi)
      return fail_with(errc::bad_report, fmt::format("range [{}, {}] is reversed", r.lo, r.hi));
    if (!s.ranges_.empty()) {
      seq_range& last = s.ranges_.back();
      if (r.lo <= last.hi) {
        return fail_with(errc::bad_report, fmt::format("range [{}, {}] overlaps or precedes [{}, {}]", r.lo,
                                                       r.hi, last.lo, last.hi));
      }
      if (r.lo - 1 == last.hi) {
        last.hi = r.hi;
        s.count_ += r.hi - r.lo + 1;
        continue;
      }
    }
    s.ranges_.push_back(r);
    s.count_ += r.hi - r.lo + 1;
  }
  return s;
}

}  // namespace tributary::sim
