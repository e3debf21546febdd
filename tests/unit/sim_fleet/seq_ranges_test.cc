#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "firmware-sim/core/rng.h"
#include "firmware-sim/core/seq_ranges.h"

using namespace tributary::sim;

TEST_CASE("seq_ranges: in-order inserts stay one range") {
  seq_ranges s;
  for (uint64_t i = 1; i <= 1000; ++i) CHECK(s.insert(i));
  CHECK(s.ranges() == std::vector<seq_range>{{1, 1000}});
  CHECK(s.count() == 1000);
  CHECK_FALSE(s.insert(500));
  CHECK(s.count() == 1000);
}

TEST_CASE("seq_ranges: gaps, merging from both sides") {
  seq_ranges s;
  for (uint64_t v : {1, 2, 3, 7, 8, 5}) CHECK(s.insert(v));
  CHECK(s.ranges() == std::vector<seq_range>{{1, 3}, {5, 5}, {7, 8}});
  CHECK(s.insert(4));  // joins [1,3] and [5,5]
  CHECK(s.ranges() == std::vector<seq_range>{{1, 5}, {7, 8}});
  CHECK(s.insert(6));  // closes the last gap
  CHECK(s.ranges() == std::vector<seq_range>{{1, 8}});
  CHECK(s.insert(0));
  CHECK(s.ranges() == std::vector<seq_range>{{0, 8}});
  CHECK(s.insert(UINT64_MAX));
  CHECK(s.insert(UINT64_MAX - 1));
  CHECK(s.ranges() == std::vector<seq_range>{{0, 8}, {UINT64_MAX - 1, UINT64_MAX}});
  CHECK(s.contains(0));
  CHECK(s.contains(8));
  CHECK_FALSE(s.contains(9));
  CHECK(s.contains(UINT64_MAX));
}

TEST_CASE("seq_ranges: random order equals a sorted set") {
  rng g(7);
  std::vector<uint64_t> values(2000);
  std::iota(values.begin(), values.end(), 1);
  for (size_t i = values.size() - 1; i > 0; --i) std::swap(values[i], values[g.uniform_int(0, int64_t(i))]);
  seq_ranges s;
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] % 10 == 3) continue;  // leave holes
    CHECK(s.insert(values[i]));
  }
  CHECK(s.count() == 1800);
  CHECK(s.ranges().size() == 201);  // [1,2] [4,12] ... [1994,2000]
  for (uint64_t v = 1; v <= 2000; ++v) CHECK(s.contains(v) == (v % 10 != 3));
}

TEST_CASE("seq_ranges: from_ranges validates") {
  auto ok = seq_ranges::from_ranges({{1, 3}, {4, 6}, {9, 9}}, 10);
  REQUIRE(ok);
  CHECK(ok->ranges() == std::vector<seq_range>{{1, 6}, {9, 9}});
  CHECK(ok->count() == 7);
  CHECK(seq_ranges::from_ranges({{3, 1}}, 10).error().code == errc::bad_report);
  CHECK(seq_ranges::from_ranges({{1, 5}, {5, 6}}, 10).error().code == errc::bad_report);
  CHECK(seq_ranges::from_ranges({{5, 6}, {1, 2}}, 10).error().code == errc::bad_report);
  CHECK(seq_ranges::from_ranges({{1, 1}, {3, 3}}, 1).error().code == errc::limit_exceeded);
  CHECK(seq_ranges::from_ranges({}, 0));
}
