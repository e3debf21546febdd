#pragma once
// Fetch (key 1). Flexible from v12.
// v1: throttle_time_ms; v3: max_bytes; v4: isolation_level, last_stable_offset, aborted
// transactions; v5: log_start_offset; v7: fetch sessions (session id/epoch, forgotten topics,
// top-level error_code); v9: current_leader_epoch; v11: rack_id, preferred_read_replica;
// v12: last_fetched_epoch, tagged cluster_id and the tagged diverging epoch / current leader /
// snapshot id of each partition. The response's records are the stored batches, carried opaque.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info fetch_api{api_key::fetch, "Fetch", 0, 12, 12};

struct fetch_request {
  static constexpr const api_info& api = fetch_api;
  struct fetch_partition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;
    int64_t fetch_offset = 0;
    int32_t last_fetched_epoch = -1;
    int64_t log_start_offset = -1;
    int32_t partition_max_bytes = 0;
    static void fields(auto& s, auto& v) {
      v(s.partition, "partition");
      v(s.current_leader_epoch, "current_leader_epoch", {.min = 9});
      v(s.fetch_offset, "fetch_offset");
      v(s.last_fetched_epoch, "last_fetched_epoch", {.min = 12});
      v(s.log_start_offset, "log_start_offset", {.min = 5});
      v(s.partition_max_bytes, "partition_max_bytes");
    }
    bool operator==(const fetch_partition&) const = default;
  };
  struct fetch_topic {
    std::string topic;
    std::vector<fetch_partition> partitions;
    static void fields(auto& s, auto& v) {
      v(s.topic, "topic");
      v(s.partitions, "partitions");
    }
    bool operator==(const fetch_topic&) const = default;
  };
  struct forgotten_topic {
    std::string topic;
    std::vector<int32_t> partitions;
    static void fields(auto& s, auto& v) {
      v(s.topic, "topic");
      v(s.partitions, "partitions");
    }
    bool operator==(const forgotten_topic&) const = default;
  };

  std::optional<std::string> cluster_id;
  int32_t replica_id = -1;
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = std::numeric_limits<int32_t>::max();
  int8_t isolation_level = 0;
  int32_t session_id = 0;
  int32_t session_epoch = -1;
  std::vector<fetch_topic> topics;
  std::vector<forgotten_topic> forgotten_topics_data;
  std::string rack_id;

  static void fields(auto& s, auto& v) {
    v(s.cluster_id, "cluster_id", {.min = 12, .tag = 0});
    v(s.replica_id, "replica_id");
    v(s.max_wait_ms, "max_wait_ms");
    v(s.min_bytes, "min_bytes");
    v(s.max_bytes, "max_bytes", {.min = 3});
    v(s.isolation_level, "isolation_level", {.min = 4});
    v(s.session_id, "session_id", {.min = 7});
    v(s.session_epoch, "session_epoch", {.min = 7});
    v(s.topics, "topics");
    v(s.forgotten_topics_data, "forgotten_topics_data", {.min = 7});
    v(s.rack_id, "rack_id", {.min = 11});
  }
  bool operator==(const fetch_request&) const = default;
};

struct fetch_response {
  static constexpr const api_info& api = fetch_api;
  struct epoch_end_offset {
    int32_t epoch = -1;
    int64_t end_offset = -1;
    static void fields(auto& s, auto& v) {
      v(s.epoch, "epoch");
      v(s.end_offset, "end_offset");
    }
    bool operator==(const epoch_end_offset&) const = default;
  };
  struct leader_id_and_epoch {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
    static void fields(auto& s, auto& v) {
      v(s.leader_id, "leader_id");
      v(s.leader_epoch, "leader_epoch");
    }
    bool operator==(const leader_id_and_epoch&) const = default;
  };
  struct snapshot {
    int64_t end_offset = -1;
    int32_t epoch = -1;
    static void fields(auto& s, auto& v) {
      v(s.end_offset, "end_offset");
      v(s.epoch, "epoch");
    }
    bool operator==(const snapshot&) const = default;
  };
  struct aborted_transaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
    static void fields(auto& s, auto& v) {
      v(s.producer_id, "producer_id");
      v(s.first_offset, "first_offset");
    }
    bool operator==(const aborted_transaction&) const = default;
  };
  struct partition_data {
    int32_t partition_index = 0;
    protocol::error_code error_code = protocol::error_code::none;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    epoch_end_offset diverging_epoch;
    leader_id_and_epoch current_leader;
    snapshot snapshot_id;
    std::optional<std::vector<aborted_transaction>> aborted_transactions;
    int32_t preferred_read_replica = -1;
    std::optional<records_view> records;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.error_code, "error_code");
      v(s.high_watermark, "high_watermark");
      v(s.last_stable_offset, "last_stable_offset", {.min = 4});
      v(s.log_start_offset, "log_start_offset", {.min = 5});
      v(s.diverging_epoch, "diverging_epoch", {.min = 12, .tag = 0});
      v(s.current_leader, "current_leader", {.min = 12, .tag = 1});
      v(s.snapshot_id, "snapshot_id", {.min = 12, .tag = 2});
      v(s.aborted_transactions, "aborted_transactions", {.min = 4});
      v(s.preferred_read_replica, "preferred_read_replica", {.min = 11});
      v(s.records, "records");
    }
    bool operator==(const partition_data&) const = default;
  };
  struct fetchable_topic_response {
    std::string topic;
    std::vector<partition_data> partitions;
    static void fields(auto& s, auto& v) {
      v(s.topic, "topic");
      v(s.partitions, "partitions");
    }
    bool operator==(const fetchable_topic_response&) const = default;
  };

  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  int32_t session_id = 0;
  std::vector<fetchable_topic_response> responses;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.error_code, "error_code", {.min = 7});
    v(s.session_id, "session_id", {.min = 7});
    v(s.responses, "responses");
  }
  bool operator==(const fetch_response&) const = default;
};

}  // namespace tributary::kafka::protocol
