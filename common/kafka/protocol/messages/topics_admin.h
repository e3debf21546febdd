#pragma once
// CreateTopics (key 19; flexible from v5) and DeleteTopics (key 20; flexible from v4).
// CreateTopics v1: validate_only, error_message; v2: throttle_time_ms; v5: the created topic's
// partitions, replication factor and configs, and a tagged topic_config_error_code.
// DeleteTopics v1: throttle_time_ms.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info create_topics_api{api_key::create_topics, "CreateTopics", 0, 5, 5};
inline constexpr api_info delete_topics_api{api_key::delete_topics, "DeleteTopics", 0, 4, 4};

struct create_topics_request {
  static constexpr const api_info& api = create_topics_api;
  struct replica_assignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
    static void fields(auto& s, auto& v) {
      v(s.partition_index, "partition_index");
      v(s.broker_ids, "broker_ids");
    }
    bool operator==(const replica_assignment&) const = default;
  };
  struct config {
    std::string name;
    std::optional<std::string> value;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.value, "value");
    }
    bool operator==(const config&) const = default;
  };
  struct topic {
    std::string name;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
    std::vector<replica_assignment> assignments;
    std::vector<config> configs;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.num_partitions, "num_partitions");
      v(s.replication_factor, "replication_factor");
      v(s.assignments, "assignments");
      v(s.configs, "configs");
    }
    bool operator==(const topic&) const = default;
  };

  std::vector<topic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;

  static void fields(auto& s, auto& v) {
    v(s.topics, "topics");
    v(s.timeout_ms, "timeout_ms");
    v(s.validate_only, "validate_only", {.min = 1});
  }
  bool operator==(const create_topics_request&) const = default;
};

struct create_topics_response {
  static constexpr const api_info& api = create_topics_api;
  struct config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.value, "value");
      v(s.read_only, "read_only");
      v(s.config_source, "config_source");
      v(s.is_sensitive, "is_sensitive");
    }
    bool operator==(const config&) const = default;
  };
  struct topic_result {
    std::string name;
    protocol::error_code error_code = protocol::error_code::none;
    std::optional<std::string> error_message;
    protocol::error_code topic_config_error_code = protocol::error_code::none;
    int32_t num_partitions = -1;
    int16_t replication_factor = -1;
    std::optional<std::vector<config>> configs = std::vector<config>();
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.error_code, "error_code");
      v(s.error_message, "error_message", {.min = 1});
      v(s.topic_config_error_code, "topic_config_error_code", {.min = 5, .tag = 0});
      v(s.num_partitions, "num_partitions", {.min = 5});
      v(s.replication_factor, "replication_factor", {.min = 5});
      v(s.configs, "configs", {.min = 5});
    }
    bool operator==(const topic_result&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<topic_result> topics;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 2});
    v(s.topics, "topics");
  }
  bool operator==(const create_topics_response&) const = default;
};

struct delete_topics_request {
  static constexpr const api_info& api = delete_topics_api;
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;

  static void fields(auto& s, auto& v) {
    v(s.topic_names, "topic_names");
    v(s.timeout_ms, "timeout_ms");
  }
  bool operator==(const delete_topics_request&) const = default;
};

struct delete_topics_response {
  static constexpr const api_info& api = delete_topics_api;
  struct deletable_topic_result {
    std::string name;
    protocol::error_code error_code = protocol::error_code::none;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.error_code, "error_code");
    }
    bool operator==(const deletable_topic_result&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<deletable_topic_result> responses;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.responses, "responses");
  }
  bool operator==(const delete_topics_response&) const = default;
};

}  // namespace tributary::kafka::protocol
