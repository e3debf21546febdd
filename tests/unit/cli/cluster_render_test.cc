#include <doctest/doctest.h>

#include "cluster/cli/cluster.h"

using namespace tributary::cluster::cli;

TEST_CASE("cluster status renders the controller and every node") {
  auto s = nlohmann::json::parse(R"({
    "node_id": 2, "registered": true, "topics": 3,
    "controller": {"leader": 1, "term": 4, "role": "follower", "commit_index": 17, "last_index": 17,
                   "voters": [1, 2, 3], "learners": [4]},
    "nodes": [
      {"node_id": 1, "kafka": "a:9092", "rpc": "a:9093", "removed": false, "connected": true},
      {"node_id": 4, "kafka": "d:9092", "rpc": "d:9093", "removed": false, "connected": false}]})");
  auto text = render_cluster_status(s, false);
  REQUIRE(text.has_value());
  CHECK(text->find("controller: leader 1 term 4 (asked node 2: follower, commit 17)") != std::string::npos);
  CHECK(text->find("voters: 1,2,3  learners: 4") != std::string::npos);
  CHECK(text->find("up (controller)") != std::string::npos);
  CHECK(text->find("unreachable") != std::string::npos);
  CHECK(text->find("topics: 3") != std::string::npos);
  auto json = render_cluster_status(s, true);
  REQUIRE(json.has_value());
  CHECK(nlohmann::json::parse(*json) == s);
}

TEST_CASE("an unexpected answer is an error, not a crash") {
  auto text = render_cluster_status(nlohmann::json::parse(R"({"controller": 3})"), false);
  REQUIRE_FALSE(text.has_value());
  CHECK(text.error().message.find("/v1/cluster") != std::string::npos);
}
