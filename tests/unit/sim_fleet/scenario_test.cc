#include <doctest/doctest.h>

#include <string>

#include "firmware-sim/core/scenario.h"

using namespace tributary::sim;

namespace {

std::string parse_error(const std::string& text) {
  auto r = parse_scenario(text, "s.json");
  REQUIRE_FALSE(r);
  return r.error().message;
}

}  // namespace

TEST_CASE("scenario: a mixed fleet") {
  const std::string text = R"({
    // comments are allowed
    "broker": "tcp://127.0.0.1:1999", "duration_s": 30, "connect_rate": 100, "seed": 7, "drain_s": 2,
    "defaults": {"qos": 0, "queue_max": 50},
    "groups": [
      {"name": "thermo", "devices": 8, "rate_hz": 2, "models": {"temperature": {"noise_c": 0.3}, "counter": {}}},
      {"name": "trucks", "devices": 2, "rate_hz": 0.2, "payload": "binary", "size": 128, "qos": 1,
       "name_template": "truck-{n}", "models": ["gps", "vibration"], "overflow": "drop_newest",
       "backoff": {"initial_ms": 1000, "max_ms": 60000, "multiplier": 3, "jitter": 0.25},
       "churn": {"leave_per_hour": 2, "absent_min_s": 10, "absent_max_s": 120},
       "clock_skew_ms": [-3000, 3000], "username_template": "{device}", "password_template": "pw"}
    ]})";
  auto r = parse_scenario(text, "s.json");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(r->broker == "tcp://127.0.0.1:1999");
  CHECK(r->duration_s == 30);
  CHECK(r->connect_rate == 100);
  CHECK(r->seed == 7);
  CHECK(r->drain_ms == 2000);
  REQUIRE(r->groups.size() == 2);
  const group_spec& a = r->groups[0];
  CHECK(a.name == "thermo");
  CHECK(a.qos == 0);  // from defaults
  CHECK(a.queue_max == 50);
  CHECK(a.models.mask == (model_temperature | model_counter));
  CHECK(a.models.temp_noise_c == 0.3);
  const group_spec& b = r->groups[1];
  CHECK(b.qos == 1);
  CHECK(b.payload == payload_format::binary);
  CHECK(b.size_bytes == 128);
  CHECK(b.models.mask == (model_gps | model_vibration));
  CHECK(b.overflow == overflow_policy::drop_newest);
  CHECK(b.backoff.multiplier == 3);
  CHECK(b.churn.absent_max_ms == 120'000);
  CHECK(b.skew_min_ms == -3000);
  CHECK(b.username_template == "{device}");
  CHECK(fleet_size(*r) == 10);
}

TEST_CASE("scenario: errors name the key") {
  CHECK(parse_error("[]") == "s.json: expected a JSON object");
  CHECK(parse_error("{") == "s.json: not valid JSON");
  CHECK(parse_error(R"({"groups": []})") == "s.json: \"groups\": expected a non-empty array");
  CHECK(parse_error(R"({"groups": [{}], "brokr": "x"})") == "s.json: unknown key \"brokr\"");
  CHECK(parse_error(R"({"groups": [{"devise": 3}]})") == "s.json: unknown key \"groups[0].devise\"");
  CHECK(parse_error(R"({"groups": [{"devices": "3"}]})") ==
        "s.json: \"groups[0].devices\": expected a number, got \"3\"");
  CHECK(parse_error(R"({"groups": [{"devices": 1.5}]})") ==
        "s.json: \"groups[0].devices\": expected an integer, got 1.5");
  CHECK(parse_error(R"({"groups": [{"qos": 3}]})") == "s.json: \"groups[0].qos\": 3 is outside [0, 2]");
  CHECK(parse_error(R"({"groups": [{"payload": "xml"}]})").find("\"json\" or \"binary\"") !=
        std::string::npos);
  CHECK(parse_error(R"({"groups": [{"models": ["smell"]}]})").find("unknown model \"smell\"") !=
        std::string::npos);
  CHECK(parse_error(R"({"groups": [{"models": {"gps": {"speed": 1}}}]})") ==
        "s.json: unknown key \"groups[0].models.gps.speed\"");
  CHECK(parse_error(R"({"groups": [{"backoff": {"initial_ms": 0}}]})").find("outside") != std::string::npos);
  CHECK(parse_error(R"({"groups": [{"clock_skew_ms": [5, 1]}]})").find("min <= max") != std::string::npos);
  CHECK(parse_error(R"({"groups": [{"name_template": "d-{nope}"}]})").find("unknown placeholder") !=
        std::string::npos);
  CHECK(parse_error(R"({"groups": [{"devices": 0}]})") == "s.json: the fleet has no devices");
  CHECK(parse_error(R"({"groups": [{"devices": 1000001}]})").find("outside") != std::string::npos);
}

TEST_CASE("scenario: names and client ids are unique across groups") {
  CHECK(parse_error(R"({"groups": [{"name": "a", "devices": 2, "name_template": "same"}]})")
            .find("used twice") != std::string::npos);
  CHECK(parse_error(R"({"groups": [{"name": "a", "devices": 1, "client_id_template": "c"},
                                    {"name": "b", "devices": 1, "client_id_template": "c"}]})")
            .find("client id used twice") != std::string::npos);
  CHECK(parse_error(R"({"groups": [{"name": "a"}, {"name": "a"}]})").find("defined twice") !=
        std::string::npos);
  CHECK(parse_error(R"({"groups": [{"name_template": "bad name {n}"}]})").find("a device name is") !=
        std::string::npos);
  CHECK(parse_error(R"({"groups": [{"topic_template": "sensors/+/x"}]})").find("wildcard") !=
        std::string::npos);
}

TEST_CASE("scenario: limits") {
  scenario s;
  group_spec g;
  g.devices = fleet_devices_max;
  s.groups.push_back(g);
  s.groups.push_back(g);
  CHECK(validate_scenario(s).error().code == errc::limit_exceeded);
  s.groups.assign(groups_max + 1, group_spec{});
  CHECK(validate_scenario(s).error().code == errc::limit_exceeded);
  s.groups.assign(1, group_spec{});
  s.groups[0].inflight_max = 0;
  CHECK(validate_scenario(s).error().code == errc::bad_scenario);
  s.groups[0].inflight_max = inflight_max_limit;
  CHECK(validate_scenario(s));
  s.duration_s = 0;
  CHECK(validate_scenario(s).error().code == errc::bad_scenario);
  CHECK(parse_error(std::string(scenario_bytes_max + 1, ' ')).find("larger than") != std::string::npos);
}

TEST_CASE("scenario: the key list for --help mentions every group key") {
  const std::string keys = describe_scenario_keys();
  for (const char* k :
       {"rate_hz", "qos", "payload", "size", "models", "queue_max", "overflow", "inflight_max", "backoff",
        "churn", "clock_skew_ms", "topic_template", "connect_rate"}) {
    CHECK_MESSAGE(keys.find(k) != std::string::npos, k);
  }
}
