#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "firmware-sim/core/latency_histogram.h"
#include "firmware-sim/core/rng.h"

using namespace tributary::sim;

TEST_CASE("latency histogram: exact below a second") {
  latency_histogram h;
  CHECK(h.quantile(0.5) == 0);
  for (int v = 1; v <= 100; ++v) h.record(v);
  CHECK(h.count() == 100);
  CHECK(h.quantile(0.50) == 50);
  CHECK(h.quantile(0.95) == 95);
  CHECK(h.quantile(0.99) == 99);
  CHECK(h.quantile(1.0) == 100);
  CHECK(h.quantile(0.0) == 1);
  CHECK(h.max() == 100);
  CHECK(h.min() == 1);
}

TEST_CASE("latency histogram: large values within 1.6%, max exact") {
  rng g(5);
  std::vector<int64_t> values;
  latency_histogram h;
  for (int i = 0; i < 20000; ++i) {
    const auto v = static_cast<int64_t>(g.exponential(3000.0));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.95, 0.99}) {
    const int64_t exact = values[static_cast<size_t>(std::ceil(q * values.size())) - 1];
    const int64_t got = h.quantile(q);
    CHECK(got >= exact);
    CHECK(double(got) <= double(exact) * 1.016 + 1);
  }
  CHECK(h.max() == values.back());
  h.record(int64_t{1} << 50);  // beyond the top bucket: still counted, max exact
  CHECK(h.max() == int64_t{1} << 50);
}

TEST_CASE("latency histogram: negative values count apart as 0") {
  latency_histogram h;
  h.record(-5);
  h.record(10);
  CHECK(h.negative() == 1);
  CHECK(h.min() == 0);
  CHECK(h.quantile(0.5) == 0);
}
