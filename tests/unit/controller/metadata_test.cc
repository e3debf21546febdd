#include "cluster/controller/metadata.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <string>

using namespace tributary;
using namespace tributary::cluster;
using namespace tributary::cluster::controller;

namespace {

node_id n(uint64_t v) { return node_id{v}; }

metadata with_nodes(uint64_t count) {
  metadata m;
  for (uint64_t i = 1; i <= count; ++i) {
    auto r = m.apply(
        register_node{n(i), "127.0.0.1:" + std::to_string(9000 + i), "127.0.0.1:1" + std::to_string(i)});
    REQUIRE(r.has_value());
  }
  return m;
}

void create(metadata& m, const std::string& name, int32_t partitions, int32_t rf) {
  auto replicas = place(m, partitions, rf);
  REQUIRE(replicas.has_value());
  REQUIRE(m.apply(create_topic{name, std::string(32, 'a'), 1, {}, *replicas}).has_value());
}

command round_trip(const command& c) {
  auto d = decode(encode(c));
  REQUIRE(d.has_value());
  return *d;
}

}  // namespace

TEST_CASE("commands encode and decode") {
  auto r = std::get<register_node>(round_trip(register_node{n(3), "h:9092", "h:9093"}));
  CHECK(r.node == n(3));
  CHECK(r.kafka_address == "h:9092");
  CHECK(r.rpc_address == "h:9093");
  create_topic c{"t", "0123", 42, {{"retention.ms", "1000"}}, {{n(1), n(2)}, {n(2), n(1)}}};
  auto c2 = std::get<create_topic>(round_trip(c));
  CHECK(c2.name == "t");
  CHECK(c2.created_ms == 42);
  CHECK(c2.configs == c.configs);
  CHECK(c2.replicas == c.replicas);
  CHECK(std::get<delete_topic>(round_trip(delete_topic{"t"})).name == "t");
  auto s = std::get<set_replicas>(round_trip(set_replicas{"t", 1, {n(3), n(1)}}));
  CHECK(s.partition == 1);
  CHECK(s.replicas == std::vector<node_id>{n(3), n(1)});
  CHECK(std::get<remove_node>(round_trip(remove_node{n(2)})).node == n(2));
}

TEST_CASE("malformed commands are refused, never thrown") {
  for (std::string bad :
       {"", "{", "[]", R"({"v":2,"op":"delete_topic","name":"t"})", R"({"v":1,"op":"nope"})",
        R"({"v":1,"op":"delete_topic","name":3})",
        R"({"v":1,"op":"register_node","node":0,"kafka":"a","rpc":"b"})",
        R"({"v":1,"op":"register_node","node":-1,"kafka":"a","rpc":"b"})",
        R"({"v":1,"op":"set_replicas","topic":"t","partition":99999999999,"replicas":[1]})",
        R"({"v":1,"op":"create_topic","name":"t","id":"x","created_ms":1,"replicas":[[1,"2"]]})"}) {
    CAPTURE(bad);
    auto d = decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()));
    REQUIRE_FALSE(d.has_value());
    CHECK(d.error() == errc::malformed_command);
  }
}

TEST_CASE("apply: topics get group ids once, errors leave the state unchanged") {
  auto m = with_nodes(3);
  create(m, "a", 2, 3);
  const auto* a = m.find_topic("a");
  REQUIRE(a != nullptr);
  CHECK(a->partitions[0].group == 1);
  CHECK(a->partitions[1].group == 2);
  const auto before = m;
  CHECK(m.apply(create_topic{"a", "x", 1, {}, {{n(1)}}}).error() == errc::topic_exists);
  CHECK(m.apply(create_topic{"b", "x", 1, {}, {{n(1), n(1)}}}).error() == errc::invalid_assignment);
  CHECK(m.apply(create_topic{"b", "x", 1, {}, {{n(7)}}}).error() == errc::unknown_node);
  CHECK(m.apply(create_topic{"b", "x", 1, {}, {}}).error() == errc::invalid_partitions);
  CHECK(m.apply(set_replicas{"a", 2, {n(1)}}).error() == errc::unknown_topic);
  CHECK(m.apply(delete_topic{"zz"}).error() == errc::unknown_topic);
  CHECK(m.apply(remove_node{n(1)}).error() == errc::node_has_replicas);
  CHECK(m == before);
  // Group ids are never reused, even after a delete.
  REQUIRE(m.apply(delete_topic{"a"}).has_value());
  create(m, "c", 1, 1);
  CHECK(m.find_topic("c")->partitions[0].group == 3);
}

TEST_CASE("a snapshot restores the same state") {
  auto m = with_nodes(5);
  create(m, "a", 7, 3);
  create(m, "b", 3, 2);
  REQUIRE(m.apply(set_replicas{"b", 0, {n(5), n(4)}}).has_value());
  auto j = m.to_json();
  auto back = metadata::from_json(nlohmann::json::parse(j.dump()));
  REQUIRE(back.has_value());
  CHECK(*back == m);
  j["topics"][0]["partitions"][0]["group"] = 999;
  CHECK(metadata::from_json(j).error() == errc::malformed_snapshot);
}

TEST_CASE("placement spreads replicas and preferred leaders evenly, across topics") {
  SUBCASE("3 nodes, 6 partitions, rf 3") {
    auto m = with_nodes(3);
    create(m, "t", 6, 3);
    for (const auto& [id, l] : m.loads()) {
      CHECK(l.replicas == 6);
      CHECK(l.leaders == 2);
    }
  }
  SUBCASE("5 nodes, topics of 1 partition each still spread") {
    auto m = with_nodes(5);
    for (int i = 0; i < 10; ++i) create(m, "t" + std::to_string(i), 1, 3);
    for (const auto& [id, l] : m.loads()) {
      CHECK(l.replicas == 6);
      CHECK(l.leaders == 2);
    }
  }
  SUBCASE("partitions of one leader do not all share the same followers") {
    auto m = with_nodes(4);
    create(m, "t", 8, 2);
    std::map<node_id, std::set<node_id>> followers;
    for (const auto& p : m.find_topic("t")->partitions) followers[p.replicas[0]].insert(p.replicas[1]);
    REQUIRE(followers.size() == 4);
    for (const auto& [leader, f] : followers) CHECK(f.size() == 2);  // each leads 2, with 2 followers
  }
  SUBCASE("limits") {
    auto m = with_nodes(3);
    CHECK(place(m, 1, 4).error() == errc::invalid_replication);
    CHECK(place(m, 1, 0).error() == errc::invalid_replication);
    CHECK(place(m, 0, 1).error() == errc::invalid_partitions);
  }
}

TEST_CASE("adding a node moves its share of replicas and leaderships to it") {
  auto m = with_nodes(3);
  create(m, "t", 12, 3);
  REQUIRE(m.apply(register_node{n(4), "h:4", "h:14"}).has_value());
  auto moves = plan_add_node(m, n(4));
  REQUIRE_FALSE(moves.empty());
  for (const auto& mv : moves) REQUIRE(m.apply(mv).has_value());
  auto loads = m.loads();
  CHECK(loads[n(4)].replicas == 9);  // 36 replicas over 4 nodes
  for (const auto& [id, l] : loads) {
    CHECK(l.replicas == 9);
    CHECK(l.leaders == 3);
  }
  CHECK(plan_add_node(m, n(4)).empty());
}

TEST_CASE("removing a node moves every replica off it, then it can leave") {
  auto m = with_nodes(4);
  create(m, "t", 8, 3);
  auto moves = plan_remove_node(m, n(2));
  REQUIRE(moves.has_value());
  for (const auto& mv : *moves) REQUIRE(m.apply(mv).has_value());
  CHECK(m.loads()[n(2)].replicas == 0);
  for (const auto& p : m.find_topic("t")->partitions) CHECK(p.replicas.size() == 3);
  REQUIRE(m.apply(remove_node{n(2)}).has_value());
  CHECK(m.live_nodes() == std::vector<node_id>{n(1), n(3), n(4)});
  // Three replicas cannot live on two nodes.
  REQUIRE(plan_remove_node(m, n(3)).error() == errc::invalid_replication);
}
