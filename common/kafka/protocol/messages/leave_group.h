#pragma once
// LeaveGroup (key 13). Flexible from v4.
// v1: throttle_time_ms; v3 leaves in batches: a members list replaces member_id, and the response
// answers each member.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info leave_group_api{api_key::leave_group, "LeaveGroup", 0, 4, 4};

struct leave_group_request {
  static constexpr const api_info& api = leave_group_api;
  struct member_identity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    static void fields(auto& s, auto& v) {
      v(s.member_id, "member_id");
      v(s.group_instance_id, "group_instance_id");
    }
    bool operator==(const member_identity&) const = default;
  };

  std::string group_id;
  std::string member_id;
  std::vector<member_identity> members;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.member_id, "member_id", {.max = 2});
    v(s.members, "members", {.min = 3});
  }
  bool operator==(const leave_group_request&) const = default;
};

struct leave_group_response {
  static constexpr const api_info& api = leave_group_api;
  struct member_response {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    protocol::error_code error_code = protocol::error_code::none;
    static void fields(auto& s, auto& v) {
      v(s.member_id, "member_id");
      v(s.group_instance_id, "group_instance_id");
      v(s.error_code, "error_code");
    }
    bool operator==(const member_response&) const = default;
  };

  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  std::vector<member_response> members;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code");
    v(s.members, "members", {.min = 3});
  }
  bool operator==(const leave_group_response&) const = default;
};

}  // namespace tributary::kafka::protocol
