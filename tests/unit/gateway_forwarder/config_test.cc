// The forwarder.* config keys: schema, checks, and the librdkafka settings they make.
#include <doctest/doctest.h>

#include <algorithm>

#include "common/config.h"
#include "gateway/forwarder/forwarder_config.h"

using namespace tributary;
using namespace tributary::gateway::forwarder;

namespace {
std::string prop(const std::vector<std::pair<std::string, std::string>>& p, const std::string& k) {
  std::string v;
  for (const auto& [key, value] : p) {
    if (key == k) v = value;  // the last one wins, as in librdkafka
  }
  return v;
}
}  // namespace

TEST_CASE("forwarder keys load from JSON, with the passthrough list") {
  forwarder_config c;
  config::schema s;
  add_forwarder_config(s, c);
  auto r = s.load_string(R"({"forwarder": {"bootstrap_servers": "127.0.0.1:9092", "compression": "zstd",
      "linger_ms": 20, "in_flight_rows_max": 500, "batch_rows_max": 100, "unknown_topic": "retry",
      "librdkafka": ["security.protocol=sasl_ssl", "sasl.mechanisms=PLAIN", "ssl.ca.location=/etc/ca.pem"]}})",
                         "test.json");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(c.active());
  CHECK(c.compression == compression_codec::zstd);
  CHECK_FALSE(c.unknown_topic_dead_letter);
  CHECK_FALSE(validate(c));
  auto p = librdkafka_properties(c);
  CHECK(prop(p, "bootstrap.servers") == "127.0.0.1:9092");
  CHECK(prop(p, "enable.idempotence") == "true");
  CHECK(prop(p, "acks") == "all");
  CHECK(prop(p, "partitioner") == "murmur2_random");
  CHECK(prop(p, "compression.type") == "zstd");
  CHECK(prop(p, "linger.ms") == "20");
  CHECK(prop(p, "max.in.flight.requests.per.connection") == "5");
  // The core enforces delivery_timeout_ms; librdkafka's own timeout would fail the head of a queue and
  // send the rest (forward_core.h).
  CHECK(prop(p, "message.timeout.ms") == "0");
  CHECK(prop(p, "security.protocol") == "sasl_ssl");
  CHECK(prop(p, "ssl.ca.location") == "/etc/ca.pem");
  // Passthrough comes last.
  CHECK(p.back().first == "ssl.ca.location");
  auto l = make_core_limits(c);
  CHECK(l.in_flight_rows_max == 500);
  CHECK(l.batch_rows_max == 100);
  CHECK_FALSE(l.unknown_topic_dead_letter);
  CHECK(l.delivery_timeout_ms == c.delivery_timeout_ms);
}

TEST_CASE("the forwarder is off without bootstrap servers or when disabled") {
  forwarder_config c;
  CHECK_FALSE(c.active());
  c.bootstrap_servers = "127.0.0.1:1";
  CHECK(c.active());
  c.enabled = false;
  CHECK_FALSE(c.active());
}

TEST_CASE("validate refuses owned keys, malformed entries and bad combinations") {
  forwarder_config c;
  c.bootstrap_servers = "127.0.0.1:9092";
  c.librdkafka = {"enable.idempotence=false"};
  auto e = validate(c);
  REQUIRE(e);
  CHECK(e->find("forwarder.librdkafka[0]") != std::string::npos);
  CHECK(e->find("enable.idempotence") != std::string::npos);
  c.librdkafka = {"acks=1"};
  CHECK(validate(c));
  c.librdkafka = {"novalue"};
  CHECK(validate(c));
  c.librdkafka = {"=x"};
  CHECK(validate(c));
  c.librdkafka = {"socket.keepalive.enable=true"};
  CHECK_FALSE(validate(c));
  c.retry_backoff_min_ms = 5000;
  c.retry_backoff_max_ms = 1000;
  CHECK(validate(c));
  c.retry_backoff_max_ms = 5000;
  c.request_timeout_ms = c.delivery_timeout_ms;
  CHECK(validate(c));
  c.request_timeout_ms = 1000;
  c.batch_rows_max = c.in_flight_rows_max + 1;
  CHECK(validate(c));
  c.batch_rows_max = 10;
  c.bootstrap_servers = "a:1, b:2";
  CHECK(validate(c));
}

TEST_CASE("every key has a description and sits under forwarder.") {
  forwarder_config c;
  config::schema s;
  add_forwarder_config(s, c);
  auto paths = s.paths();
  CHECK(paths.size() >= 20);
  for (const auto& p : paths) CHECK(p.rfind("forwarder.", 0) == 0);
  CHECK(s.describe().find("forwarder.librdkafka") != std::string::npos);
  // Out of range is refused at load.
  auto r = s.set("forwarder.in_flight_rows_max", "0");
  CHECK_FALSE(r);
  CHECK(s.set("forwarder.librdkafka", "a=1,b=2"));
  CHECK(c.librdkafka == std::vector<std::string>{"a=1", "b=2"});
}
