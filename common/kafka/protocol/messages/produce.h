#pragma once
// Produce (key 0). Flexible from v9.
// v1: throttle_time_ms; v2: log_append_time_ms; v3: transactional_id (and RecordBatch v2);
// v5: log_start_offset; v8: record_errors and error_message. The request body is the same for
// v3-v9. A request with acks = 0 gets no response at all.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info produce_api{api_key::produce, "Produce", 0, 9, 9};

struct produce_request {
  static constexpr const api_info& api = produce_api;
  struct partition_produce_data {
    int32_t index = 0;
    std::optional<records_view> records;
    static void fields(auto& s, auto& v) {
      v(s.index, "index");
      v(s.records, "records");
    }
    bool operator==(const partition_produce_data&) const = default;
  };
  struct topic_produce_data {
    std::string name;
    std::vector<partition_produce_data> partition_data;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.partition_data, "partition_data");
    }
    bool operator==(const topic_produce_data&) const = default;
  };

  std::optional<std::string> transactional_id;
  int16_t acks = 0;
  int32_t timeout_ms = 0;
  std::vector<topic_produce_data> topic_data;

  static void fields(auto& s, auto& v) {
    v(s.transactional_id, "transactional_id", {.min = 3});
    v(s.acks, "acks");
    v(s.timeout_ms, "timeout_ms");
    v(s.topic_data, "topic_data");
  }
  bool operator==(const produce_request&) const = default;
};

struct produce_response {
  static constexpr const api_info& api = produce_api;
  struct batch_index_and_error_message {
    int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
    static void fields(auto& s, auto& v) {
      v(s.batch_index, "batch_index");
      v(s.batch_index_error_message, "batch_index_error_message");
    }
    bool operator==(const batch_index_and_error_message&) const = default;
  };
  struct partition_response {
    int32_t index = 0;
    protocol::error_code error_code = protocol::error_code::none;
    int64_t base_offset = 0;
    int64_t log_append_time_ms = -1;
    int64_t log_start_offset = -1;
    std::vector<batch_index_and_error_message> record_errors;
    std::optional<std::string> error_message;
    static void fields(auto& s, auto& v) {
      v(s.index, "index");
      v(s.error_code, "error_code");
      v(s.base_offset, "base_offset");
      v(s.log_append_time_ms, "log_append_time_ms", {.min = 2});
      v(s.log_start_offset, "log_start_offset", {.min = 5});
      v(s.record_errors, "record_errors", {.min = 8});
      v(s.error_message, "error_message", {.min = 8});
    }
    bool operator==(const partition_response&) const = default;
  };
  struct topic_response {
    std::string name;
    std::vector<partition_response> partition_responses;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.partition_responses, "partition_responses");
    }
    bool operator==(const topic_response&) const = default;
  };

  std::vector<topic_response> responses;
  int32_t throttle_time_ms = 0;

  static void fields(auto& s, auto& v) {
    v(s.responses, "responses");
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
  }
  bool operator==(const produce_response&) const = default;
};

}  // namespace tributary::kafka::protocol
