#pragma once
// ListGroups (key 16). Flexible from v3.
// v1: throttle_time_ms; v4: states_filter in, group_state out.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info list_groups_api{api_key::list_groups, "ListGroups", 0, 4, 3};

struct list_groups_request {
  static constexpr const api_info& api = list_groups_api;
  std::vector<std::string> states_filter;

  static void fields(auto& s, auto& v) { v(s.states_filter, "states_filter", {.min = 4}); }
  bool operator==(const list_groups_request&) const = default;
};

struct list_groups_response {
  static constexpr const api_info& api = list_groups_api;
  struct listed_group {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;
    static void fields(auto& s, auto& v) {
      v(s.group_id, "group_id");
      v(s.protocol_type, "protocol_type");
      v(s.group_state, "group_state", {.min = 4});
    }
    bool operator==(const listed_group&) const = default;
  };

  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  std::vector<listed_group> groups;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code");
    v(s.groups, "groups");
  }
  bool operator==(const list_groups_response&) const = default;
};

}  // namespace tributary::kafka::protocol
