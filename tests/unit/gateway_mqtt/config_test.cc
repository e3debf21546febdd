// The gateway's config loader (gateway/gateway_config.h): schema keys plus routes.rules.
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "gateway/forwarder/forwarder_config.h"
#include "gateway/gateway_config.h"

using namespace tributary;
using namespace tributary::gateway;

namespace {

std::string error_of(std::string_view text) {
  gateway_config c;
  config::schema s;
  declare(s, c);
  auto r = load_config_text(s, c, text, "gw.json");
  REQUIRE(!r);
  return r.error().message;
}

}  // namespace

TEST_CASE("a file with comments, keys and rules") {
  gateway_config c;
  config::schema s;
  declare(s, c);
  auto r = load_config_text(s, c, R"({
    // the gateway
    "gateway": {"id": "site-7"},
    "mqtt": {"receive_maximum": 32, "max_packet_bytes": 65536},
    "buffer": {"overflow": "drop-oldest", "quota_bytes": 10485760},
    "routes": {
      "unmatched": "default", "default_topic": "unrouted",
      "rules": [
        {"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"},
        {"filter": "alarms/#", "topic": "alarms", "priority": 9, "ttl_ms": 60000}
      ]
    }
  })",
                            "gw.json");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(c.core.gateway_id == "site-7");
  CHECK(c.core.receive_maximum == 32);
  CHECK(c.store.overflow == buffer::overflow_policy::drop_oldest);
  REQUIRE(c.routes.routes.size() == 2);
  CHECK(c.routes.routes[1].priority == 9);
  CHECK(c.routes.routes[1].ttl_ms == 60000u);
  CHECK(c.routes.routes[1].key == "");
  CHECK(c.routes.unmatched == routes::unmatched_policy::default_topic);
  auto table = validate(c);
  REQUIRE(table);
  CHECK(table->match("x/y")->topic == "unrouted");
  // The effective config prints the rules and loads back to the same.
  const std::string printed = effective_json(s, c).dump();
  gateway_config c2;
  config::schema s2;
  declare(s2, c2);
  REQUIRE(load_config_text(s2, c2, printed, "printed"));
  CHECK(effective_json(s2, c2).dump() == printed);
}

TEST_CASE("rule errors name the file and the key path") {
  CHECK(error_of(R"({"routes": {"rules": {}}})") ==
        "gw.json: key \"routes.rules\": expected an array, got an object");
  CHECK(error_of(R"({"routes": {"rules": [{"filter": 3, "topic": "t"}]}})") ==
        "gw.json: key \"routes.rules[0].filter\": expected a string, got number 3");
  CHECK(error_of(R"({"routes": {"rules": [{"filter": "a", "topic": "t"}, {"topic": "t"}]}})") ==
        "gw.json: key \"routes.rules[1].filter\": missing");
  CHECK(error_of(R"({"routes": {"rules": [{"filter": "a", "topic": "t", "priority": 256}]}})") ==
        "gw.json: key \"routes.rules[0].priority\": 256 is outside [0, 255]");
  CHECK(error_of(R"({"routes": {"rules": [{"filter": "a", "topic": "t", "ttl_ms": -1}]}})") ==
        "gw.json: key \"routes.rules[0].ttl_ms\": -1 is negative");
  CHECK(error_of(R"({"routes": {"rules": [{"filter": "a", "topic": "t", "qos": 1}]}})") ==
        "gw.json: unknown key \"routes.rules[0].qos\" (a route has filter, topic, key, priority, ttl_ms)");
  CHECK(error_of(R"({"routes": {"rules": [], "rules": []}})") == "gw.json: duplicate key \"routes.rules\"");
  CHECK(error_of("{\"mqtt\": {\n \"receive_maximum\": }}").starts_with("gw.json:2:"));
  CHECK(error_of(R"({"mqtt": {"receive_maximim": 3}})") ==
        "gw.json: unknown key \"mqtt.receive_maximim\" (did you mean \"mqtt.receive_maximum\"?)");
  CHECK(error_of(R"({"mqtt": {"receive_maximum": 0}})") ==
        "gw.json: key \"mqtt.receive_maximum\": 0 is out of range [1, 65535]");
}

TEST_CASE("validate: combinations and route building") {
  gateway_config c;
  c.core.anonymous = false;
  CHECK(validate(c).error().message ==
        "auth.anonymous is false but auth.password_file is empty: no client could connect");
  c.core.anonymous = true;
  c.routes.routes.push_back({"a/+x", "t.{y}", "", 0, 0});
  CHECK(validate(c).error().message ==
        "key \"routes.rules[0].topic\": topic template \"t.{y}\" placeholder {y} names no wildcard of the "
        "filter (it "
        "has: x)");
  c.routes.routes.clear();
  c.routes.unmatched = routes::unmatched_policy::default_topic;
  CHECK(validate(c).error().message.starts_with("key \"routes.default_topic\": default topic \"\""));
  c.routes.default_topic = "unrouted";
  c.core.max_packet_bytes = 1 << 20;
  CHECK(validate(c).error().message.starts_with("mqtt.max_packet_bytes must be at most"));
  c.core.max_packet_bytes = 256 << 10;
  CHECK(validate(c));
}

TEST_CASE("the shipped packaging/config/gateway.json loads, validates, and states the defaults") {
  // The daemon's schema: the gateway's keys and the forwarder's (gateway/main.cc declares both).
  gateway_config c;
  forwarder::forwarder_config fc;
  config::schema s;
  declare(s, c);
  forwarder::add_forwarder_config(s, fc);
  const nlohmann::json defaults = s.effective_json();
  const std::string path = std::string(TRIB_SOURCE_DIR) + "/packaging/config/gateway.json";
  auto r = load_config_file(s, c, path);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(validate(c));
  CHECK(!c.routes.routes.empty());
  // Every key of the file holds its default: the file documents the defaults.
  CHECK(nlohmann::json(s.effective_json()) == defaults);

  // And the file documents every key: the same set of keys as the schema (routes.rules aside).
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto file = nlohmann::json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
  auto keys = [](const nlohmann::json& j) {
    std::set<std::string> out;
    const nlohmann::json flat = j.flatten();
    for (const auto& [k, v] : flat.items()) {
      if (k.starts_with("/routes/rules")) continue;
      // An empty list flattens to the key itself; a list's items flatten to key/0, key/1, ...
      const auto last = k.find_last_of('/');
      const bool item =
          last != std::string::npos && k.find_first_not_of("0123456789", last + 1) == std::string::npos;
      out.insert(item ? k.substr(0, last) : k);
    }
    return out;
  };
  CHECK(keys(file) == keys(defaults));
}
