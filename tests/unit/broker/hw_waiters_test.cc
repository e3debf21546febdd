#include "cluster/broker/hw_waiters.h"

#include <doctest/doctest.h>

#include <vector>

using namespace tributary::cluster::broker;

namespace {
// Waiters only compare partition addresses; these are never dereferenced.
const partition* part(uintptr_t n) { return reinterpret_cast<const partition*>(n * 64); }
}  // namespace

TEST_CASE("a waiter wakes once, when one of its partitions reaches its target") {
  hw_waiters w;
  std::vector<std::pair<int, wake_reason>> woke;
  auto a = w.add({{part(1), 10}, {part(2), 5}}, -1, [&](wake_reason r) { woke.push_back({1, r}); });
  w.add({{part(1), 20}}, -1, [&](wake_reason r) { woke.push_back({2, r}); });
  CHECK(a > 0);
  CHECK(w.size() == 2);
  CHECK(w.watching(part(1)) == 2);

  w.advanced(part(1), 9);
  CHECK(woke.empty());
  w.advanced(part(2), 5);  // the first waiter's second condition
  REQUIRE(woke.size() == 1);
  CHECK(woke[0] == std::pair{1, wake_reason::reached});
  CHECK(w.size() == 1);
  CHECK(w.watching(part(1)) == 1);  // the woken waiter left every index
  CHECK(w.watching(part(2)) == 0);
  w.advanced(part(2), 100);
  CHECK(woke.size() == 1);
  w.advanced(part(1), 25);
  REQUIRE(woke.size() == 2);
  CHECK(woke[1] == std::pair{2, wake_reason::reached});
  CHECK(w.size() == 0);
}

TEST_CASE("deadlines, cancel, gone and wake_all") {
  hw_waiters w;
  std::vector<std::pair<int, wake_reason>> woke;
  auto cb = [&](int n) { return [&woke, n](wake_reason r) { woke.push_back({n, r}); }; };
  w.add({{part(1), 5}}, 100, cb(1));
  auto second = w.add({}, 50, cb(2));
  w.add({{part(2), 5}}, 200, cb(3));
  w.add({{part(3), 1}}, -1, cb(4));
  CHECK(w.next_deadline() == 50);
  CHECK(w.cancel(second));
  CHECK_FALSE(w.cancel(second));
  CHECK(w.next_deadline() == 100);
  w.expire(99);
  CHECK(woke.empty());
  w.expire(100);
  REQUIRE(woke.size() == 1);
  CHECK(woke[0] == std::pair{1, wake_reason::deadline});
  w.gone(part(2));
  REQUIRE(woke.size() == 2);
  CHECK(woke[1] == std::pair{3, wake_reason::gone});
  CHECK_FALSE(w.next_deadline().has_value());
  w.wake_all();
  REQUIRE(woke.size() == 3);
  CHECK(woke[2] == std::pair{4, wake_reason::shutdown});
  CHECK(w.size() == 0);
}

TEST_CASE("callbacks may add and cancel waiters while waking") {
  hw_waiters w;
  int rearmed = 0;
  hw_waiters::id other = 0;
  int other_woke = 0;
  std::function<void(wake_reason)> again = [&](wake_reason) {
    if (++rearmed < 3) w.add({{part(1), 10 + rearmed}}, -1, again);
    w.cancel(other);
  };
  w.add({{part(1), 10}}, -1, again);
  other = w.add({{part(1), 1000}}, -1, [&](wake_reason) { ++other_woke; });
  w.advanced(part(1), 10);
  CHECK(rearmed == 1);
  CHECK(w.size() == 1);      // re-added; `other` cancelled from inside the callback
  w.advanced(part(1), 100);  // wakes the re-added waiter once; it re-adds again
  CHECK(rearmed == 2);
  w.advanced(part(1), 100);
  CHECK(rearmed == 3);
  CHECK(w.size() == 0);
  CHECK(other_woke == 0);
}
