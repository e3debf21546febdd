#include "cluster/broker/broker_config.h"

#include <doctest/doctest.h>

#include <fstream>
#include <iterator>

using namespace tributary;
using namespace tributary::cluster::broker;

TEST_CASE("broker config: defaults, a file with comments, flags, validation, log defaults") {
  broker_config c;
  config::schema s;
  declare(s, c);
  CHECK(validate(c));
  auto json = s.effective_json();
  CHECK(json["listen"] == "0.0.0.0:9092");
  CHECK(json["flush"]["mode"] == "sync");
  CHECK(json["kafka"]["max_in_flight_requests"] == 100);

  REQUIRE(s.load_string(R"({
    // a comment
    "node_id": 3,
    "flush": {"mode": "interval", "interval_ms": 50},
    "log": {"segment_bytes": 1048576, "log_append_time": true},
    "kafka": {"max_request_bytes": 65536}
  })",
                        "test.json"));
  CHECK(c.node_id == 3);
  CHECK(c.flush.mode == flush_mode::interval);
  CHECK(c.kafka.max_request_bytes == 65536);
  auto d = to_log_defaults(c);
  CHECK(d.high_watermark_at_log_end);
  CHECK(d.log.segment_bytes == 1048576);
  CHECK(d.log_append_time);

  CHECK_FALSE(s.set("flush.mode", "sometimes", "--set"));
  CHECK_FALSE(s.set("default_partitions", "0", "--set"));
  CHECK_FALSE(s.set("kafka.max_in_flight_requests", "0", "--set"));
  REQUIRE(s.set("listen", "localhost:9092", "--listen"));  // a string: parse errors come from validate()
  auto v = validate(c);
  REQUIRE_FALSE(v);
  CHECK(v.error().message.find("listen") != std::string::npos);
  REQUIRE(s.set("listen", "127.0.0.1:0", "--listen"));
  REQUIRE(s.set("advertised_listener", "broker-1.example", "--set"));
  CHECK_FALSE(validate(c));
  REQUIRE(s.set("advertised_listener", "broker-1.example:9092", "--set"));
  CHECK(validate(c));
  REQUIRE(s.set("kafka.fetch_max_bytes", "536870912", "--set"));  // over the write buffer
  CHECK_FALSE(validate(c));
}

TEST_CASE("packaging/config/broker.json documents every key with its default") {
  broker_config defaults;
  config::schema ds;
  declare(ds, defaults);
  broker_config c;
  config::schema s;
  declare(s, c);
  auto r = s.load_file(std::string(TRIB_SOURCE_DIR) + "/packaging/config/broker.json");
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  CHECK(s.effective_json() == ds.effective_json());
  // Every declared key appears in the file (a key left out would silently take its default).
  std::ifstream in(std::string(TRIB_SOURCE_DIR) + "/packaging/config/broker.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const auto& path : s.paths()) {
    auto leaf = path.substr(path.rfind('.') == std::string::npos ? 0 : path.rfind('.') + 1);
    CHECK_MESSAGE(text.find("\"" + leaf + "\"") != std::string::npos, path);
  }
}
