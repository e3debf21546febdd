#pragma once
// OffsetFetch (key 9). Flexible from v6.
// v2: null topics = all topics, top-level error_code; v3: throttle_time_ms;
// v5: committed_leader_epoch; v7: require_stable. (v8 batches groups; not described.)
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info offset_fetch_api{api_key::offset_fetch, "OffsetFetch", 0, 7, 6};

struct offset_fetch_request {
  static constexpr const api_info& api = offset_fetch_api;
  struct topic {
    std::string name;
    std::vector<int32_t> partition_indexes;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.partition_indexes, "partition_indexes");
    }
    bool operator==(const topic&) const = default;
  };

  std::string group_id;
  std::optional<std::vector<topic>> topics = std::vector<topic>();
  bool require_stable = false;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.topics, "topics", {.nullable_from = 2});
    v(s.require_stable, "require_stable", {.min = 7});
  }
  bool operator==(const offset_fetch_request&) const = default;
};

struct offset_fetch_response {
  static constexpr const api_info& api = offset_fetch_api;
  struct partition {
    int32_t partition_index = 0;
    int64_t committed_offset = -1;
    int32_t committed_leader_epoch = -1;
    std::optional<std::string> metadata;
    protocol::error_code error_code = protocol::error_code::none;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.committed_offset, "committed_offset");
      v(s.committed_leader_epoch, "committed_leader_epoch", {.min = 5});
      v(s.metadata, "metadata");
      v(s.error_code, "error_code");
    }
    bool operator==(const partition&) const = default;
  };
  struct topic {
    std::string name;
    std::vector<partition> partitions;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.partitions, "partitions");
    }
    bool operator==(const topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<topic> topics;
  protocol::error_code error_code = protocol::error_code::none;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 3});
    v(s.topics, "topics");
    v(s.error_code, "error_code", {.min = 2});
  }
  bool operator==(const offset_fetch_response&) const = default;
};

}  // namespace tributary::kafka::protocol
