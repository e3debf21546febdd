#pragma once
// ListOffsets (key 2). Flexible from v6.
// v0 asks for up to max_num_offsets offsets and answers with old_style_offsets; v1 replaces them
// with one timestamp/offset pair; v2: isolation_level, throttle_time_ms; v4: leader epochs.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info list_offsets_api{api_key::list_offsets, "ListOffsets", 0, 6, 6};

struct list_offsets_request {
  static constexpr const api_info& api = list_offsets_api;
  struct partition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;
    int64_t timestamp = 0;
    int32_t max_num_offsets = 1;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.current_leader_epoch, "current_leader_epoch", {.min = 4});
      v(s.timestamp, "timestamp");
      v(s.max_num_offsets, "max_num_offsets", {.max = 0});
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

  int32_t replica_id = -1;
  int8_t isolation_level = 0;
  std::vector<topic> topics;

  static void fields(auto& s, auto& v) {
    v(s.replica_id, "replica_id");
    v(s.isolation_level, "isolation_level", {.min = 2});
    v(s.topics, "topics");
  }
  bool operator==(const list_offsets_request&) const = default;
};

struct list_offsets_response {
  static constexpr const api_info& api = list_offsets_api;
  struct partition {
    int32_t partition_index = 0;
    protocol::error_code error_code = protocol::error_code::none;
    std::vector<int64_t> old_style_offsets;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.error_code, "error_code");
      v(s.old_style_offsets, "old_style_offsets", {.max = 0});
      v(s.timestamp, "timestamp", {.min = 1});
      v(s.offset, "offset", {.min = 1});
      v(s.leader_epoch, "leader_epoch", {.min = 4});
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
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 2});
    v(s.topics, "topics");
  }
  bool operator==(const list_offsets_response&) const = default;
};

}  // namespace tributary::kafka::protocol
