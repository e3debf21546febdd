#pragma once
// FindCoordinator (key 10). Flexible from v3.
// v1: key_type, throttle_time_ms, error_message; v4 batches: coordinator_keys in, coordinators out.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info find_coordinator_api{api_key::find_coordinator, "FindCoordinator", 0, 4, 3};

struct find_coordinator_request {
  static constexpr const api_info& api = find_coordinator_api;
  std::string key;
  int8_t key_type = 0;  // 0 group, 1 transaction
  std::vector<std::string> coordinator_keys;

  static void fields(auto& s, auto& v) {
    v(s.key, "key", {.max = 3});
    v(s.key_type, "key_type", {.min = 1});
    v(s.coordinator_keys, "coordinator_keys", {.min = 4});
  }
  bool operator==(const find_coordinator_request&) const = default;
};

struct find_coordinator_response {
  static constexpr const api_info& api = find_coordinator_api;
  struct coordinator {
    std::string key;
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    protocol::error_code error_code = protocol::error_code::none;
    std::optional<std::string> error_message;
    static void fields(auto& s, auto& v) {
      v(s.key, "key");
      v(s.node_id, "node_id");
      v(s.host, "host");
      v(s.port, "port");
      v(s.error_code, "error_code");
      v(s.error_message, "error_message");
    }
    bool operator==(const coordinator&) const = default;
  };

  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  std::optional<std::string> error_message;
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::vector<coordinator> coordinators;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code", {.max = 3});
    v(s.error_message, "error_message", {.min = 1, .max = 3});
    v(s.node_id, "node_id", {.max = 3});
    v(s.host, "host", {.max = 3});
    v(s.port, "port", {.max = 3});
    v(s.coordinators, "coordinators", {.min = 4});
  }
  bool operator==(const find_coordinator_response&) const = default;
};

}  // namespace tributary::kafka::protocol
