#pragma once
// InitProducerId (key 22). Flexible from v2.
// v3: the producer's current id and epoch, to resume after INVALID_PRODUCER_EPOCH; v4 allows
// PRODUCER_FENCED in the response.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info init_producer_id_api{api_key::init_producer_id, "InitProducerId", 0, 4, 2};

struct init_producer_id_request {
  static constexpr const api_info& api = init_producer_id_api;
  std::optional<std::string> transactional_id;
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;

  static void fields(auto& s, auto& v) {
    v(s.transactional_id, "transactional_id");
    v(s.transaction_timeout_ms, "transaction_timeout_ms");
    v(s.producer_id, "producer_id", {.min = 3});
    v(s.producer_epoch, "producer_epoch", {.min = 3});
  }
  bool operator==(const init_producer_id_request&) const = default;
};

struct init_producer_id_response {
  static constexpr const api_info& api = init_producer_id_api;
  int32_t throttle_time_ms = 0;
  protocol::error_code error_code = protocol::error_code::none;
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms");
    v(s.error_code, "error_code");
    v(s.producer_id, "producer_id");
    v(s.producer_epoch, "producer_epoch");
  }
  bool operator==(const init_producer_id_response&) const = default;
};

}  // namespace tributary::kafka::protocol
