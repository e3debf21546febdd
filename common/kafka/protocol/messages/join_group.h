#pragma once
// JoinGroup (key 11). Flexible from v6.
// v1: rebalance_timeout_ms; v2: throttle_time_ms; v4: an empty member_id gets MEMBER_ID_REQUIRED;
// v5: group_instance_id (static membership); v7: protocol_type in the response, nullable
// protocol_name.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info join_group_api{api_key::join_group, "JoinGroup", 0, 7, 6};

struct join_group_request {
  static constexpr const api_info& api = join_group_api;
  struct join_protocol {
    std::string name;
    bytes metadata;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.metadata, "metadata");
    }
    bool operator==(const join_protocol&) const = default;
  };

  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<join_protocol> protocols;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.session_timeout_ms, "session_timeout_ms");
    v(s.rebalance_timeout_ms, "rebalance_timeout_ms", {.min = 1});
    v(s.member_id, "member_id");
    v(s.group_instance_id, "group_instance_id", {.min = 5});
    v(s.protocol_type, "protocol_type");
    v(s.protocols, "protocols");
  }
  bool operator==(const join_group_request&) const = default;
};

struct join_group_response {
  static constexpr const api_info& api = join_group_api;
  struct member {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    bytes metadata;
    static void fields(auto& s, auto& v) {
      v(s.member_id, "member_id");
      v(s.group_instance_id, "group_instance_id", {.min = 5});
      v(s.metadata, "metadata");
    }
    bool operator==(const member&) const = default;
  };

  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name = std::string();
  std::string leader;
  std::string member_id;
  std::vector<member> members;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 2});
    v(s.error_code, "error_code");
    v(s.generation_id, "generation_id");
    v(s.protocol_type, "protocol_type", {.min = 7});
    v(s.protocol_name, "protocol_name", {.nullable_from = 7});
    v(s.leader, "leader");
    v(s.member_id, "member_id");
    v(s.members, "members");
  }
  bool operator==(const join_group_response&) const = default;
};

}  // namespace tributary::kafka::protocol
