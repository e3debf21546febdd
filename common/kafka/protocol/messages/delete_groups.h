#pragma once
// DeleteGroups (key 42). Flexible from v2.
// v1: no change (throttling behaviour only); v2: flexible encoding.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info delete_groups_api{api_key::delete_groups, "DeleteGroups", 0, 2, 2};

struct delete_groups_request {
  static constexpr const api_info& api = delete_groups_api;
  std::vector<std::string> groups_names;

  static void fields(auto& s, auto& v) { v(s.groups_names, "groups_names"); }
  bool operator==(const delete_groups_request&) const = default;
};

struct delete_groups_response {
  static constexpr const api_info& api = delete_groups_api;
  struct result {
    std::string group_id;
    protocol::error_code error_code = protocol::error_code::none;
    static void fields(auto& s, auto& v) {
      v(s.group_id, "group_id");
      v(s.error_code, "error_code");
    }
    bool operator==(const result&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<result> results;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms");
    v(s.results, "results");
  }
  bool operator==(const delete_groups_response&) const = default;
};

}  // namespace tributary::kafka::protocol
