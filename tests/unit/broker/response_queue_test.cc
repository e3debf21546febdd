#include "cluster/kafka/response_queue.h"

#include <doctest/doctest.h>

using namespace tributary::cluster::kafka;

namespace {
std::vector<uint8_t> bytes(uint8_t v) { return {v}; }
}  // namespace

TEST_CASE("answers are released in request order, whatever order they complete in") {
  response_queue q;
  auto a = q.open();
  auto b = q.open();
  auto c = q.open();
  auto d = q.open();
  CHECK(q.in_flight() == 4);
  q.complete(c, bytes(3));
  q.complete(b, {});  // no answer (acks=0)
  CHECK(q.take_ready().empty());
  CHECK(q.completed(c));
  CHECK_FALSE(q.completed(a));
  q.complete(a, bytes(1));
  auto ready = q.take_ready();
  REQUIRE(ready.size() == 2);  // a, (b has none), c
  CHECK(ready[0] == bytes(1));
  CHECK(ready[1] == bytes(3));
  CHECK(q.in_flight() == 1);
  CHECK(q.completed(a));  // released slots count as completed
  auto e = q.open();
  q.complete(e, bytes(5));
  CHECK(q.take_ready().empty());  // d first
  q.complete(d, bytes(4));
  ready = q.take_ready();
  REQUIRE(ready.size() == 2);
  CHECK(ready[0] == bytes(4));
  CHECK(ready[1] == bytes(5));
  CHECK(q.in_flight() == 0);
}
