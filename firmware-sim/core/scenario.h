#pragma once
// A fleet scenario: groups of devices that share a behaviour. Built from the command-line flags for
// the common case (one group), or from a JSON scenario file for mixed fleets:
//
//   {
//     "broker": "tcp://127.0.0.1:1883", "duration_s": 60, "connect_rate": 500, "seed": 7,
//     "groups": [
//       {"name": "thermo", "devices": 800, "rate_hz": 1, "qos": 1, "payload": "json",
//        "models": {"temperature": {"noise_c": 0.2}, "counter": {}}},
//       {"name": "trucks", "devices": 200, "rate_hz": 0.2, "payload": "binary", "size": 256,
//        "models": ["gps", "vibration"], "queue_max": 500,
//        "backoff": {"initial_ms": 1000, "max_ms": 60000, "multiplier": 2, "jitter": 0.5},
//        "churn": {"leave_per_hour": 2, "absent_min_s": 10, "absent_max_s": 120},
//        "clock_skew_ms": [-3000, 3000]}
//     ]
//   }
//
// Every key is optional except "groups"; unknown keys are errors. describe_scenario_keys() lists them.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "firmware-sim/core/errc.h"
#include "firmware-sim/core/models.h"
#include "firmware-sim/core/reading.h"
#include "firmware-sim/core/rng.h"

namespace tributary::sim {

// Limits (each checked by validate_scenario).
inline constexpr uint32_t fleet_devices_max = 1'000'000;
inline constexpr size_t groups_max = 1'000;
inline constexpr double rate_hz_max = 1'000.0;          // readings per second per device
inline constexpr uint32_t queue_max_limit = 1'000'000;  // offline queue depth per device
inline constexpr uint32_t inflight_max_limit = 65'535;  // MQTT packet ids per session
inline constexpr uint32_t duration_s_max = 30 * 24 * 3600;
inline constexpr size_t scenario_bytes_max = size_t{16} << 20;
inline constexpr size_t template_bytes_max = 256;

enum class overflow_policy : uint8_t { drop_oldest, drop_newest };

// Reconnect delay after the n-th consecutive failure (n >= 1):
//   base = min(max_ms, initial_ms * multiplier^(n-1));  delay = base * (1 - jitter * U[0,1)).
struct backoff_policy {
  uint32_t initial_ms = 500;
  uint32_t max_ms = 30'000;
  double multiplier = 2.0;
  double jitter = 0.5;  // 0: no jitter; 1: "full jitter" (delay uniform in (0, base])
};
uint32_t backoff_delay_ms(const backoff_policy& p, uint32_t attempt, rng& g);

// Churn: an online device leaves (powers off: clean disconnect, stops measuring) after an exponential
// time with mean 3600 / leave_per_hour seconds, and rejoins after a uniform absence.
struct churn_policy {
  double leave_per_hour = 0;  // 0: no churn
  uint32_t absent_min_ms = 5'000;
  uint32_t absent_max_ms = 30'000;
};

struct group_spec {
  std::string name = "default";
  uint32_t devices = 1;
  double rate_hz = 1.0;
  uint8_t qos = 1;
  payload_format payload = payload_format::json;
  uint32_t size_bytes = 0;  // minimum payload size (padding); 0 = natural size
  std::string name_template = "dev-{index}";
  std::string client_id_template = "{device}";
  std::string username_template;  // empty: connect without a user name
  std::string password_template;  // empty: no password
  std::string topic_template = "sensors/{device}/telemetry";
  model_params models;
  uint32_t queue_max = 1'000;  // readings kept while offline (0: none)
  overflow_policy overflow = overflow_policy::drop_oldest;
  uint32_t inflight_max = 10;  // publishes awaiting acknowledgement
  backoff_policy backoff;
  churn_policy churn;
  int32_t skew_min_ms = 0;  // each device's clock is off by a uniform amount in [min, max]
  int32_t skew_max_ms = 0;
  uint32_t keepalive_s = 30;
  uint32_t connect_timeout_s = 10;
  bool clean_session = true;
};

struct scenario {
  std::string broker = "tcp://127.0.0.1:1883";
  double duration_s = 60;
  double connect_rate = 500;  // devices powered on per second during ramp-up; 0 = all at once
  uint64_t seed = 1;
  uint32_t drain_ms = 5'000;  // after the run, time to deliver what is queued
  uint32_t close_ms = 5'000;  // then time for clean disconnects
  std::vector<group_spec> groups;
};

// Parses a scenario file (JSON text; `origin` names it in messages). Validates it too.
detailed_result<scenario> parse_scenario(std::string_view text, std::string_view origin);
// Checks limits, ranges, templates and that device names and client ids are unique.
detailed_result<void> validate_scenario(const scenario& s);
uint64_t fleet_size(const scenario& s);
// A markdown-ish list of every scenario key with its default, for --help.
std::string describe_scenario_keys();

std::string_view payload_name(payload_format f);

}  // namespace tributary::sim
