#pragma once
// Heartbeat (key 12). Flexible from v4.
// v1: throttle_time_ms; v3: group_instance_id.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info heartbeat_api{api_key::heartbeat, "Heartbeat", 0, 4, 4};

struct heartbeat_request {
  static constexpr const api_info& api = heartbeat_api;
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.generation_id, "generation_id");
    v(s.member_id, "member_id");
    v(s.group_instance_id, "group_instance_id", {.min = 3});
  }
  bool operator==(const heartbeat_request&) const = default;
};

struct heartbeat_response {
  static constexpr const api_info& api = heartbeat_api;
  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code");
  }
  bool operator==(const heartbeat_response&) const = default;
};

}  // namespace tributary::kafka::protocol
