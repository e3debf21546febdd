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

  // And the file documents every key: the same set of keys as the schema (routes.rules and
  // bridge.subscriptions aside: arrays of objects the loader parses itself).
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto file = nlohmann::json::parse(text.str(), nullptr, true, /*ignore_comments=*/true);
  auto keys = [](const nlohmann::json& j) {
    std::set<std::string> out;
    const nlohmann::json flat = j.flatten();
    for (const auto& [k, v] : flat.items()) {
      if (k.starts_with("/routes/rules") || k.starts_with("/bridge/subscriptions")) continue;
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

TEST_CASE("bridge keys: subscriptions parse, print and load back") {
  gateway_config c;
  config::schema s;
  declare(s, c);
  auto r = load_config_text(s, c, R"({
    "bridge": {"enabled": true, "mode": "instead", "broker": "127.0.0.1:1884", "protocol": "5.0",
               "subscriptions": [{"filter": "sensors/#"}, {"filter": "alarms/+/x", "qos": 2}]}
  })",
                            "gw.json");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(c.bridge.enabled);
  CHECK(c.bridge.mode == bridge::bridge_mode::instead);
  CHECK(c.bridge.version == tributary::mqtt::protocol_version::v5);
  REQUIRE(c.bridge.subscriptions.size() == 2);
  CHECK(c.bridge.subscriptions[0] == bridge::subscription_spec{"sensors/#", 1});
  CHECK(c.bridge.subscriptions[1] == bridge::subscription_spec{"alarms/+/x", 2});
  CHECK(validate(c));
  const std::string printed = effective_json(s, c).dump();
  gateway_config c2;
  config::schema s2;
  declare(s2, c2);
  REQUIRE(load_config_text(s2, c2, printed, "printed"));
  CHECK(c2.bridge.subscriptions == c.bridge.subscriptions);
  CHECK(effective_json(s2, c2).dump() == printed);
}

TEST_CASE("bridge config errors name the key") {
  CHECK(error_of(R"({"bridge": {"subscriptions": {"filter": "a"}}})") ==
        "gw.json: key \"bridge.subscriptions\": expected an array, got an object");
  CHECK(error_of(R"({"bridge": {"subscriptions": [{"filter": "a/#/b"}]}})") ==
        "gw.json: key \"bridge.subscriptions[0].filter\": \"a/#/b\" is not a topic filter: invalid topic "
        "filter");
  CHECK(error_of(R"({"bridge": {"subscriptions": [{"filter": "a", "qos": 3}]}})") ==
        "gw.json: key \"bridge.subscriptions[0].qos\": 3 is outside [0, 2]");
  CHECK(error_of(R"({"bridge": {"subscriptions": [{"filter": "a"}, {"qos": 1}]}})") ==
        "gw.json: key \"bridge.subscriptions[1].filter\": missing");
  CHECK(error_of(R"({"bridge": {"subscriptions": [{"filter": "a", "topic": "t"}]}})") ==
        "gw.json: unknown key \"bridge.subscriptions[0].topic\" (a subscription has filter, qos)");
  CHECK(error_of(R"({"bridge": {"mode": "sometimes"}})").starts_with("gw.json: key \"bridge.mode\":"));
  CHECK(error_of(R"({"bridge": {"protocol": "3.1"}})").starts_with("gw.json: key \"bridge.protocol\":"));
  CHECK(error_of(R"({"bridge": {"inflight_max": 0}})").starts_with("gw.json: key \"bridge.inflight_max\":"));

  gateway_config c;
  c.bridge.mode = bridge::bridge_mode::instead;
  CHECK(validate(c).error().message.starts_with(
      "key \"bridge.mode\": \"instead\" turns the MQTT listener off"));
  c.bridge.enabled = true;
  CHECK(validate(c).error().message.starts_with("key \"bridge.subscriptions\": empty"));
  c.bridge.subscriptions.push_back({"sensors/#", 1});
  CHECK(validate(c));
  c.bridge.broker = "localhost:1883";
  CHECK(validate(c).error().message.starts_with(
      "key \"bridge.broker\": \"localhost:1883\" is not a numeric host:port"));
  c.bridge.broker = "127.0.0.1:1883";
  c.bridge.client_id = "";
  CHECK(validate(c).error().message ==
        "key \"bridge.client_id\": empty, but a persistent session (clean_session false) needs a client id");
  c.bridge.clean_session = true;
  CHECK(validate(c));
  c.bridge.password = "secret";
  CHECK(validate(c).error().message.starts_with("key \"bridge.password\": set without bridge.username"));
  c.bridge.username = "gw";
  CHECK(validate(c));
  c.bridge.reconnect_min_ms = 5000;
  c.bridge.reconnect_max_ms = 1000;
  CHECK(validate(c).error().message ==
        "key \"bridge.reconnect_min_ms\": 5000 is more than bridge.reconnect_max_ms (1000)");
  c.bridge.reconnect_max_ms = 5000;
  c.bridge.max_packet_bytes = 16u << 20;
  CHECK(validate(c).error().message.starts_with("key \"bridge.max_packet_bytes\": must be at most"));
}
