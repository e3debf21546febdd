// The leader report codec (cluster/controller/leader_report.h): round trips, and refusals.
#include <doctest/doctest.h>

#include <string>

#include "cluster/controller/leader_report.h"

namespace tributary::cluster::controller {
namespace {

std::span<const uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST_CASE("leader reports round-trip, lag included") {
  leader_report r{node_id{3}, {}};
  r.led.push_back(
      {7, 4, {node_id{3}, node_id{1}}, {{node_id{1}, 0}, {node_id{2}, -1}}, {node_id{1}, node_id{3}}});
  r.led.push_back({9, 1, {node_id{3}}, {}, {node_id{3}}});
  auto back = decode_leader_report(encode(r));
  REQUIRE(back.has_value());
  CHECK(*back == r);
  CHECK(back->led[0].lag.size() == 2);
  CHECK(decode_leader_report(encode(leader_report{node_id{1}, {}})).has_value());
}

TEST_CASE("malformed leader reports are refused, never thrown") {
  for (const std::string bad :
       {"", "[]", "{\"v\":1}", "{\"v\":2,\"from\":1,\"led\":[]}", "{\"v\":1,\"from\":0,\"led\":[]}",
        "{\"v\":1,\"from\":1,\"led\":[[1,1,[1],[]]]}", "{\"v\":1,\"from\":1,\"led\":[[0,1,[1],[],[1]]]}",
        "{\"v\":1,\"from\":1,\"led\":[[1,-1,[1],[],[1]]]}", "{\"v\":1,\"from\":1,\"led\":[[1,1,[0],[],[1]]]}",
        "{\"v\":1,\"from\":1,\"led\":[[1,1,[1],[[2,-2]],[1]]]}",
        "{\"v\":1,\"from\":1,\"led\":[[1,1,[1],[[0,5]],[0]]]}", "{\"v\":1,\"from\":1"}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_leader_report(bytes_of(bad)).has_value());
  }
}

}  // namespace
}  // namespace tributary::cluster::controller
