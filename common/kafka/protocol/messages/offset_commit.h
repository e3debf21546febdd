#pragma once
// OffsetCommit (key 8). Flexible from v8.
// v1: generation_id, member_id and a per-partition commit_timestamp (v1 only); v2-v4:
// retention_time_ms; v3: throttle_time_ms; v6: committed_leader_epoch; v7: group_instance_id.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info offset_commit_api{api_key::offset_commit, "OffsetCommit", 0, 8, 8};

struct offset_commit_request {
  static constexpr const api_info& api = offset_commit_api;
  struct partition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    int64_t commit_timestamp = -1;
    std::optional<std::string> committed_metadata;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.committed_offset, "committed_offset");
      v(s.committed_leader_epoch, "committed_leader_epoch", {.min = 6});
      v(s.commit_timestamp, "commit_timestamp", {.min = 1, .max = 1});
      v(s.committed_metadata, "committed_metadata");
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

  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_time_ms = -1;
  std::vector<topic> topics;

  static void fields(auto& s, auto& v) {
    v(s.group_id, "group_id");
    v(s.generation_id, "generation_id", {.min = 1});
    v(s.member_id, "member_id", {.min = 1});
    v(s.group_instance_id, "group_instance_id", {.min = 7});
    v(s.retention_time_ms, "retention_time_ms", {.min = 2, .max = 4});
    v(s.topics, "topics");
  }
  bool operator==(const offset_commit_request&) const = default;
};

struct offset_commit_response {
  static constexpr const api_info& api = offset_commit_api;
  struct partition {
    int32_t partition_index = 0;
    protocol::error_code error_code = protocol::error_code::none;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
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

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 3});
    v(s.topics, "topics");
  }
  bool operator==(const offset_commit_response&) const = default;
};

}  // namespace tributary::kafka::protocol
