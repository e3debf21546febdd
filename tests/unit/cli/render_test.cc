// Output of topic, produce: tables, text and JSON; the pure helpers of produce.
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cluster/cli/produce.h"
#include "cluster/cli/topic.h"

using namespace tributary::cluster::cli;

TEST_CASE("render_table: aligned columns, no trailing spaces") {
  CHECK(render_table({}) == "");
  CHECK(render_table({{"A", "BB", "C"}, {"xxx", "y", ""}, {"1"}}) == "A    BB  C\nxxx  y\n1\n");
}

TEST_CASE("render_topic_list") {
  const std::vector<topic_summary> topics = {{"a", 3, 1, ""}, {"b", 1, 3, "LEADER_NOT_AVAILABLE"}};
  CHECK(render_topic_list(topics, false) == "a\nb  (error: LEADER_NOT_AVAILABLE)\n");
  CHECK(render_topic_list({}, false) == "");
  const std::string json = render_topic_list(topics, true);
  CHECK(json.back() == '\n');
  const auto j = nlohmann::json::parse(json);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["topic"] == "a");
  CHECK(j[0]["partitions"] == 3);
  CHECK(j[0]["replication_factor"] == 1);
  CHECK(j[0]["error"].is_null());
  CHECK(j[1]["error"] == "LEADER_NOT_AVAILABLE");
  CHECK(nlohmann::json::parse(render_topic_list({}, true)) == nlohmann::json::array());
}

namespace {
topic_description sample_description() {
  topic_description d;
  d.name = "orders";
  d.partitions = {{0, 1, {1, 2}, {1, 2}, "", 0, 42, ""}, {1, 2, {2, 1}, {2}, "", 5, 9, ""}};
  d.configs = {{"cleanup.policy", "delete", "DEFAULT_CONFIG", true, false, false},
               {"retention.ms", "1000", "DYNAMIC_TOPIC_CONFIG", false, false, false},
               {"sasl.secret", std::nullopt, "DYNAMIC_TOPIC_CONFIG", false, false, true}};
  return d;
}
}  // namespace

TEST_CASE("render_topic_description: text") {
  const std::string text = render_topic_description(sample_description(), false);
  CHECK(text ==
        "topic: orders  partitions: 2  replication factor: 2\n"
        "\n"
        "PARTITION  LEADER  REPLICAS  ISR  LOG-START  HIGH-WATERMARK  ERROR\n"
        "0          1       1,2       1,2  0          42\n"
        "1          2       2,1       2    5          9\n"
        "\n"
        "CONFIG          VALUE        SOURCE\n"
        "cleanup.policy  delete       DEFAULT_CONFIG\n"
        "retention.ms    1000         DYNAMIC_TOPIC_CONFIG\n"
        "sasl.secret     (sensitive)  DYNAMIC_TOPIC_CONFIG\n");
  CHECK(first_problem(sample_description()).empty());
}

TEST_CASE("render_topic_description: missing offsets and configs") {
  topic_description d = sample_description();
  d.partitions[1].log_start_offset.reset();
  d.partitions[1].high_watermark.reset();
  d.partitions[1].offsets_error = "Broker: Not leader for partition (NOT_LEADER_OR_FOLLOWER)";
  d.configs.clear();
  d.configs_error = "Broker: Unsupported version (UNSUPPORTED_VERSION)";
  const std::string text = render_topic_description(d, false);
  CHECK(
      text.find("1          2       2,1       2    -          -               offsets: Broker: Not leader") !=
      std::string::npos);
  CHECK(text.find("configs unavailable: Broker: Unsupported version (UNSUPPORTED_VERSION)\n") !=
        std::string::npos);
  CHECK(first_problem(d) ==
        "partition 1: offsets: Broker: Not leader for partition (NOT_LEADER_OR_FOLLOWER)");
  d.partitions[1].offsets_error.clear();
  CHECK(first_problem(d) == "configs: Broker: Unsupported version (UNSUPPORTED_VERSION)");
  d.partitions[0].error = "LEADER_NOT_AVAILABLE";
  CHECK(first_problem(d) == "partition 0: LEADER_NOT_AVAILABLE");

  const auto j = nlohmann::json::parse(render_topic_description(d, true));
  CHECK(j["partitions"][1]["log_start_offset"].is_null());
  CHECK(j["partitions"][1]["high_watermark"].is_null());
  CHECK(j["partitions"][0]["error"] == "LEADER_NOT_AVAILABLE");
  CHECK(j["configs"].empty());
  CHECK(j["configs_error"] == "Broker: Unsupported version (UNSUPPORTED_VERSION)");
}

TEST_CASE("render_topic_description: json") {
  const std::string line = render_topic_description(sample_description(), true);
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["topic"] == "orders");
  CHECK(j["partition_count"] == 2);
  CHECK(j["replication_factor"] == 2);
  REQUIRE(j["partitions"].size() == 2);
  CHECK(j["partitions"][0]["partition"] == 0);
  CHECK(j["partitions"][0]["leader"] == 1);
  CHECK(j["partitions"][0]["replicas"] == nlohmann::json::array({1, 2}));
  CHECK(j["partitions"][0]["isr"] == nlohmann::json::array({1, 2}));
  CHECK(j["partitions"][0]["log_start_offset"] == 0);
  CHECK(j["partitions"][0]["high_watermark"] == 42);
  CHECK(j["partitions"][0]["error"].is_null());
  CHECK(j["partitions"][0]["offsets_error"].is_null());
  REQUIRE(j["configs"].size() == 3);
  CHECK(j["configs"][1]["name"] == "retention.ms");
  CHECK(j["configs"][1]["value"] == "1000");
  CHECK(j["configs"][1]["source"] == "DYNAMIC_TOPIC_CONFIG");
  CHECK(j["configs"][1]["is_default"] == false);
  CHECK(j["configs"][2]["value"].is_null());
  CHECK(j["configs"][2]["sensitive"] == true);
  CHECK(j["configs_error"].is_null());
}

TEST_CASE("render_topic_created and render_topics_deleted") {
  topic_create_request r;
  r.name = "orders";
  CHECK(render_topic_created(r, false) ==
        "created topic orders (partitions: broker default, replication factor: broker default)\n");
  r.partitions = 3;
  r.replication_factor = 1;
  r.configs = {{"retention.ms", "5"}};
  CHECK(render_topic_created(r, false) == "created topic orders (partitions: 3, replication factor: 1)\n");
  const auto j = nlohmann::json::parse(render_topic_created(r, true));
  CHECK(j["topic"] == "orders");
  CHECK(j["created"] == true);
  CHECK(j["partitions"] == 3);
  CHECK(j["configs"]["retention.ms"] == "5");
  r.partitions = -1;
  CHECK(nlohmann::json::parse(render_topic_created(r, true))["partitions"].is_null());

  CHECK(render_topics_deleted({"a", "b"}, false) == "deleted topic a\ndeleted topic b\n");
  CHECK(render_topics_deleted({}, false) == "");
  CHECK(render_topics_deleted({"a", "b"}, true) ==
        "{\"deleted\":true,\"topic\":\"a\"}\n{\"deleted\":true,\"topic\":\"b\"}\n");
}

TEST_CASE("split_line") {
  // The result views into the line and the options: they outlive it here, as the request does.
  const std::optional<std::string> none;
  const std::optional<std::string> colon = ":";
  const std::optional<std::string> k = "k";
  const std::optional<std::string> fallback = "fallback";
  const std::optional<std::string> two = "<>";
  auto r = split_line("v", none, none);
  CHECK_FALSE(r.key);
  CHECK(r.value == "v");
  r = split_line("v", none, k);
  CHECK(r.key == "k");
  r = split_line("k1:v:1", colon, none);
  CHECK(r.key == "k1");
  CHECK(r.value == "v:1");
  r = split_line("no separator", colon, fallback);
  CHECK(r.key == "fallback");
  CHECK(r.value == "no separator");
  r = split_line("no separator", colon, none);
  CHECK_FALSE(r.key);
  r = split_line(":v", colon, none);  // an empty key, not a null one
  REQUIRE(r.key);
  CHECK(r.key->empty());
  CHECK(r.value == "v");
  r = split_line("a<>b", two, none);  // a separator of several bytes
  CHECK(r.key == "a");
  CHECK(r.value == "b");
  r = split_line("", colon, none);  // an empty line is an empty record
  CHECK(r.value.empty());
}

TEST_CASE("generated_payload") {
  CHECK(generated_payload(0, 0) == "");
  CHECK(generated_payload(12345, 3) == "123");
  CHECK(generated_payload(7, 2) == "7 ");
  CHECK(generated_payload(7, 5) == "7 abc");
  const std::string big = generated_payload(3, 60);
  CHECK(big.size() == 60);
  CHECK(big.substr(0, 30) == "3 abcdefghijklmnopqrstuvwxyzab");
  CHECK(generated_payload(1, 100) != generated_payload(2, 100));
}

TEST_CASE("render_produce_summary") {
  produce_summary s;
  s.topic = "orders";
  s.records = 10;
  s.bytes = 120;
  s.delivered = 8;
  s.failed = 2;
  s.partitions = {{0, 5, 0, 4}, {2, 3, 10, 12}};
  s.errors = {{"MSG_TIMED_OUT", "Local: Message timed out", 2}};
  CHECK(render_produce_summary(s, false) ==
        "produced 10 records (120 bytes) to orders: 8 delivered, 2 failed\n"
        "  partition 0: 5 records, offsets 0..4\n"
        "  partition 2: 3 records, offsets 10..12\n"
        "  error MSG_TIMED_OUT: 2 records: Local: Message timed out\n");
  const auto j = nlohmann::json::parse(render_produce_summary(s, true));
  CHECK(j["topic"] == "orders");
  CHECK(j["records"] == 10);
  CHECK(j["bytes"] == 120);
  CHECK(j["delivered"] == 8);
  CHECK(j["failed"] == 2);
  CHECK(j["interrupted"] == false);
  CHECK(j["errors"][0]["error"] == "MSG_TIMED_OUT");
  CHECK(j["errors"][0]["count"] == 2);
  CHECK(j["partitions"][1]["partition"] == 2);
  CHECK(j["partitions"][1]["first_offset"] == 10);
  CHECK(j["partitions"][1]["last_offset"] == 12);
  s.interrupted = true;
  CHECK(render_produce_summary(s, false).find("2 failed (interrupted)\n") != std::string::npos);
}
