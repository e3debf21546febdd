#pragma once
// SyncGroup (key 14). Flexible from v4.
// v1: throttle_time_ms; v3: group_instance_id.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info sync_group_api{api_key::sync_group, "SyncGroup", 0, 4, 4};

struct sync_group_request {
  static constexpr const api_info& api = sync_group_api;
  struct assignment_entry {
    std::string member_id;
    bytes assignment;
    static void fields(auto& s, auto& v) {
      v(s.member_id, "member_id");
      v(s.assignment, "assignment");
    }
    bool operator==(const assignment_entry&) const = default;
  };

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<assignment_entry> assignments;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.generation_id, "generation_id");
    v(s.member_id, "member_id");
    v(s.group_instance_id, "group_instance_id", {.min = 3});
    v(s.assignments, "assignments");
  }
  bool operator==(const sync_group_request&) const = default;
};

struct sync_group_response {
  static constexpr const api_info& api = sync_group_api;
  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  bytes assignment;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code");
    v(s.assignment, "assignment");
  }
  bool operator==(const sync_group_response&) const = default;
};

}  // namespace tributary::kafka::protocol
