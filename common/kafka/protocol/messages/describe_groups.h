#pragma once
// DescribeGroups (key 15). Flexible from v5.
// v1: throttle_time_ms; v3: authorized operations; v4: members' group_instance_id.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info describe_groups_api{api_key::describe_groups, "DescribeGroups", 0, 5, 5};

struct describe_groups_request {
  static constexpr const api_info& api = describe_groups_api;
  std::vector<std::string> groups;
  bool include_authorized_operations = false;

  static void fields(auto& s, auto& v) {
    v(s.groups, "groups");
    v(s.include_authorized_operations, "include_authorized_operations", {.min = 3});
  }
  bool operator==(const describe_groups_request&) const = default;
};

struct describe_groups_response {
  static constexpr const api_info& api = describe_groups_api;
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id;
    std::string client_host;
    bytes member_metadata;
    bytes member_assignment;
    static void fields(auto& s, auto& v) {
      v(s.member_id, "member_id");
      v(s.group_instance_id, "group_instance_id", {.min = 4});
      v(s.client_id, "client_id");
      v(s.client_host, "client_host");
      v(s.member_metadata, "member_metadata");
      v(s.member_assignment, "member_assignment");
    }
    bool operator==(const member&) const = default;
  };
  struct described_group {
    protocol::error_code error_code = protocol::error_code::none;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<member> members;
    int32_t authorized_operations = std::numeric_limits<int32_t>::min();
    static void fields(auto& s, auto& v) {
      v(s.error_code, "error_code");
      v(s.group_id, "group_id");
      v(s.group_state, "group_state");
      v(s.protocol_type, "protocol_type");
      v(s.protocol_data, "protocol_data");
      v(s.members, "members");
      v(s.authorized_operations, "authorized_operations", {.min = 3});
    }
    bool operator==(const described_group&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<described_group> groups;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.groups, "groups");
  }
  bool operator==(const describe_groups_response&) const = default;
};

}  // namespace tributary::kafka::protocol
