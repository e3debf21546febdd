#pragma once
// Metadata (key 3). Flexible from v9.
// v1: null topics = all (v0: empty = all), rack, controller_id, is_internal; v2: cluster_id;
// v3: throttle_time_ms; v4: allow_auto_topic_creation; v5: offline_replicas; v7: leader_epoch;
// v8: authorized operations; v10: topic ids (request names nullable); v11 drops the cluster
// authorized operations; v12: response topic names nullable.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info metadata_api{api_key::metadata, "Metadata", 0, 12, 9};

struct metadata_request {
  static constexpr const api_info& api = metadata_api;
  struct topic {
    uuid topic_id;
    std::optional<std::string> name = std::string();
    static void fields(auto& s, auto& v) {
      v(s.topic_id, "topic_id", {.min = 10});
      v(s.name, "name", {.nullable_from = 10});
    }
    bool operator==(const topic&) const = default;
  };

  std::optional<std::vector<topic>> topics = std::vector<topic>();
  bool allow_auto_topic_creation = true;
  bool include_cluster_authorized_operations = false;
  bool include_topic_authorized_operations = false;

  static void fields(auto& s, auto& v) {
    v(s.topics, "topics", {.nullable_from = 1});
    v(s.allow_auto_topic_creation, "allow_auto_topic_creation", {.min = 4});
    v(s.include_cluster_authorized_operations, "include_cluster_authorized_operations",
      {.min = 8, .max = 10});
    v(s.include_topic_authorized_operations, "include_topic_authorized_operations", {.min = 8});
  }
  bool operator==(const metadata_request&) const = default;
};

struct metadata_response {
  static constexpr const api_info& api = metadata_api;
  struct broker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    static void fields(auto& s, auto& v) {
      v(s.node_id, "node_id");
      v(s.host, "host");
      v(s.port, "port");
      v(s.rack, "rack", {.min = 1});
    }
    bool operator==(const broker&) const = default;
  };
  struct partition {
    protocol::error_code error_code = protocol::error_code::none;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = -1;
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;
    static void fields(auto& s, auto& v) {
      v(s.error_code, "error_code");
      v(s.partition_index, "partition_index");
      v(s.leader_id, "leader_id");
      v(s.leader_epoch, "leader_epoch", {.min = 7});
      v(s.replica_nodes, "replica_nodes");
      v(s.isr_nodes, "isr_nodes");
      v(s.offline_replicas, "offline_replicas", {.min = 5});
    }
    bool operator==(const partition&) const = default;
  };
  struct topic {
    protocol::error_code error_code = protocol::error_code::none;
    std::optional<std::string> name = std::string();
    uuid topic_id;
    bool is_internal = false;
    std::vector<partition> partitions;
    int32_t topic_authorized_operations = std::numeric_limits<int32_t>::min();
    static void fields(auto& s, auto& v) {
      v(s.error_code, "error_code");
      v(s.name, "name", {.nullable_from = 12});
      v(s.topic_id, "topic_id", {.min = 10});
      v(s.is_internal, "is_internal", {.min = 1});
      v(s.partitions, "partitions");
      v(s.topic_authorized_operations, "topic_authorized_operations", {.min = 8});
    }
    bool operator==(const topic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<broker> brokers;
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<topic> topics;
  int32_t cluster_authorized_operations = std::numeric_limits<int32_t>::min();

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 3});
    v(s.brokers, "brokers");
    v(s.cluster_id, "cluster_id", {.min = 2});
    v(s.controller_id, "controller_id", {.min = 1});
    v(s.topics, "topics");
    v(s.cluster_authorized_operations, "cluster_authorized_operations", {.min = 8, .max = 10});
  }
  bool operator==(const metadata_response&) const = default;
};

}  // namespace tributary::kafka::protocol
