#pragma once
// What a producer error means for the row that got it (pure: no librdkafka here).
//
// Error codes are librdkafka's rd_kafka_resp_err_t values: Kafka protocol codes (>= 0, public and
// stable) and librdkafka's local codes (-200..-100). The adapter (forwarder.cc) static_asserts that
// every constant below equals librdkafka's own, so the two cannot drift apart.
//
// Classes and what the forwarding core does with them:
//   retriable      the network or the cluster, for now (timeouts, leader moves, not enough replicas,
//                  purged by us): the row stays in the buffer and is sent again after a backoff with
//                  jitter. Unknown codes land here too: an error we do not know is never a drop.
//   record         the broker refused the batch holding this row (too large, invalid record). A batch
//                  may hold innocent rows, so the row is sent again ALONE; if it fails alone, it is
//                  dead-lettered.
//   record_final   this row alone was refused before it left (librdkafka's size check at produce
//                  time, an invalid argument): dead-lettered at once.
//   topic          the topic refuses every row (not authorized, invalid name, policy): dead-lettered.
//   unknown_topic  the topic does not exist (and the cluster does not create it): dead-lettered or
//                  retried, by the forwarder.unknown_topic setting.
//   producer       the producer as a whole (authentication, TLS, fatal idempotence state): never the
//                  row's fault, so never dead-lettered: retried after a backoff (and the producer
//                  is recreated when librdkafka says its state is fatal).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tributary::gateway::forwarder {

enum class error_class : uint8_t { retriable, record, record_final, topic, unknown_topic, producer };
inline constexpr size_t error_class_count = 6;
inline constexpr std::array<error_class, error_class_count> all_error_classes = {
    error_class::retriable, error_class::record,        error_class::record_final,
    error_class::topic,     error_class::unknown_topic, error_class::producer};

std::string_view to_string(error_class c);

// Where the error came from: the produce call itself (librdkafka refused to queue the row) or a
// delivery report (the row was queued, then failed).
enum class error_origin : uint8_t { produce_call, delivery };

error_class classify(int32_t error_code, error_origin origin);

// The codes the classification names (librdkafka's values; checked against rdkafka.h by the adapter).
namespace code {
// librdkafka local errors
inline constexpr int32_t bad_msg = -199;
inline constexpr int32_t bad_compression = -198;
inline constexpr int32_t destroy = -197;
inline constexpr int32_t transport = -195;
inline constexpr int32_t msg_timed_out = -192;
inline constexpr int32_t unknown_partition = -190;
inline constexpr int32_t unknown_topic = -188;
inline constexpr int32_t all_brokers_down = -187;
inline constexpr int32_t invalid_arg = -186;
inline constexpr int32_t timed_out = -185;
inline constexpr int32_t queue_full = -184;
inline constexpr int32_t ssl = -181;
inline constexpr int32_t state = -172;
inline constexpr int32_t not_implemented = -170;
inline constexpr int32_t authentication = -169;
inline constexpr int32_t unsupported_feature = -165;
inline constexpr int32_t purge_queue = -152;
inline constexpr int32_t purge_inflight = -151;
inline constexpr int32_t fatal = -150;
inline constexpr int32_t inconsistent = -149;
inline constexpr int32_t gapless_guarantee = -148;
// Kafka protocol errors
inline constexpr int32_t unknown_topic_or_part = 3;
inline constexpr int32_t invalid_msg_size = 4;
inline constexpr int32_t msg_size_too_large = 10;
inline constexpr int32_t topic_exception = 17;
inline constexpr int32_t record_list_too_large = 18;
inline constexpr int32_t invalid_required_acks = 21;
inline constexpr int32_t topic_authorization_failed = 29;
inline constexpr int32_t cluster_authorization_failed = 31;
inline constexpr int32_t invalid_timestamp = 32;
inline constexpr int32_t unsupported_sasl_mechanism = 33;
inline constexpr int32_t illegal_sasl_state = 34;
inline constexpr int32_t unsupported_version = 35;
inline constexpr int32_t unsupported_for_message_format = 43;
inline constexpr int32_t policy_violation = 44;
inline constexpr int32_t out_of_order_sequence_number = 45;
inline constexpr int32_t invalid_producer_epoch = 47;
inline constexpr int32_t invalid_producer_id_mapping = 49;
inline constexpr int32_t transactional_id_authorization_failed = 53;
inline constexpr int32_t sasl_authentication_failed = 58;
inline constexpr int32_t unknown_producer_id = 59;
inline constexpr int32_t unsupported_compression_type = 76;
inline constexpr int32_t invalid_record = 87;
}  // namespace code

}  // namespace tributary::gateway::forwarder
