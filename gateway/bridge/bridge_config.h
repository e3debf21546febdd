#pragma once
// The settings of bridge mode: the gateway as an MQTT client of a broker already running on the
// device (mosquitto), its readings going through the same routes and buffer as the listener's. Every
// value is a documented config key (gateway/gateway_config.cc binds them under "bridge.", and
// packaging/config/gateway.json documents them).
#include <cstdint>
#include <string>
#include <vector>

#include "common/mqtt/types.h"

namespace tributary::gateway::bridge {

// bridge.mode: `also` keeps the gateway's own MQTT listener; `instead` opens none (only the bridge
// brings readings in).
enum class bridge_mode : uint8_t { also, instead };

// One entry of bridge.subscriptions: a topic filter and the QoS asked for it.
struct subscription_spec {
  std::string filter;
  uint8_t qos = 1;
  bool operator==(const subscription_spec&) const = default;
};

inline constexpr size_t subscriptions_max = 64;  // entries of bridge.subscriptions

struct bridge_config {
  bool enabled = false;                        // bridge.enabled
  bridge_mode mode = bridge_mode::also;        // bridge.mode
  std::string broker = "127.0.0.1:1883";       // bridge.broker: numeric host:port
  std::string client_id = "tributary-bridge";  // bridge.client_id: the broker keeps the session by it
  bool clean_session = false;                  // bridge.clean_session: false = persistent session
  std::string username;                        // bridge.username: "" = none
  std::string password;                        // bridge.password: sent only with a user name
  ::tributary::mqtt::protocol_version version = ::tributary::mqtt::protocol_version::v311;  // bridge.protocol
  uint32_t session_expiry_s = 86400;             // bridge.session_expiry_s: 5.0 persistent session lifetime
  std::vector<subscription_spec> subscriptions;  // bridge.subscriptions
  uint16_t keep_alive_s = 30;                    // bridge.keep_alive_s (0 = none)
  uint64_t connect_timeout_ms = 10000;           // bridge.connect_timeout_ms: TCP + CONNACK
  uint64_t reconnect_min_ms = 200;               // bridge.reconnect_min_ms: first retry delay
  uint64_t reconnect_max_ms = 30000;             // bridge.reconnect_max_ms: doubling stops here
  uint16_t inflight_max = 256;                   // bridge.inflight_max: QoS 1/2 awaiting commit
  uint32_t max_packet_bytes = 256 << 10;         // bridge.max_packet_bytes: larger closes
  uint64_t tick_ms = 100;                        // bridge.tick_ms: keep alive and retry checks
};

}  // namespace tributary::gateway::bridge
