#include "gateway/forwarder/core/error_class.h"

namespace tributary::gateway::forwarder {

std::string_view to_string(error_class c) {
  switch (c) {
    case error_class::retriable: return "retriable";
    case error_class::record: return "record";
    case error_class::record_final: return "record_final";
    case error_class::topic: return "topic";
    case error_class::unknown_topic: return "unknown_topic";
    case error_class::producer: return "producer";
  }
  return "retriable";
}

error_class classify(int32_t error_code, error_origin origin) {
  switch (error_code) {
    // The row itself. At the produce call librdkafka checked this one row (message.max.bytes, a bad
    // argument); in a delivery report the broker refused a whole batch, which may hold other rows.
    case code::msg_size_too_large:
    case code::invalid_msg_size:
    case code::record_list_too_large:
    case code::invalid_record:
    case code::invalid_timestamp:
    case code::bad_msg:
      return origin == error_origin::produce_call ? error_class::record_final : error_class::record;
    case code::invalid_arg: return error_class::record_final;

    case code::topic_exception:
    case code::topic_authorization_failed:
    case code::unsupported_for_message_format:
    case code::policy_violation: return error_class::topic;

    case code::unknown_topic_or_part:
    case code::unknown_topic:
    case code::unknown_partition: return error_class::unknown_topic;

    case code::bad_compression:
    case code::ssl:
    case code::state:
    case code::not_implemented:
    case code::authentication:
    case code::unsupported_feature:
    case code::fatal:
    case code::inconsistent:
    case code::gapless_guarantee:
    case code::invalid_required_acks:
    case code::cluster_authorization_failed:
    case code::unsupported_sasl_mechanism:
    case code::illegal_sasl_state:
    case code::unsupported_version:
    case code::out_of_order_sequence_number:
    case code::invalid_producer_epoch:
    case code::invalid_producer_id_mapping:
    case code::transactional_id_authorization_failed:
    case code::sasl_authentication_failed:
    case code::unknown_producer_id:
    case code::unsupported_compression_type: return error_class::producer;

    // Timeouts, transport, purges, leader moves, not enough replicas, destroy, and every code not
    // named above: the row stays and is sent again.
    default: return error_class::retriable;
  }
}

}  // namespace tributary::gateway::forwarder
