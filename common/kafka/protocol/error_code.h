#pragma once
// Kafka wire error codes: the int16 `error_code` fields of responses. Numbers and names as in the
// protocol guide's error table (kafka.apache.org/protocol#protocol_error_codes); a unit test checks
// every one against librdkafka's rd_kafka_resp_err_t. Internal errors become these only at the edge.
#include <cstdint>
#include <string_view>

namespace tributary::kafka::protocol {

// X(name, NAME, code): one line per code this project uses or may meet.
#define TRIB_KAFKA_ERROR_CODES(X)                                                     \
  X(unknown_server_error, UNKNOWN_SERVER_ERROR, -1)                                   \
  X(none, NONE, 0)                                                                    \
  X(offset_out_of_range, OFFSET_OUT_OF_RANGE, 1)                                      \
  X(corrupt_message, CORRUPT_MESSAGE, 2)                                              \
  X(unknown_topic_or_partition, UNKNOWN_TOPIC_OR_PARTITION, 3)                        \
  X(invalid_fetch_size, INVALID_FETCH_SIZE, 4)                                        \
  X(leader_not_available, LEADER_NOT_AVAILABLE, 5)                                    \
  X(not_leader_or_follower, NOT_LEADER_OR_FOLLOWER, 6)                                \
  X(request_timed_out, REQUEST_TIMED_OUT, 7)                                          \
  X(broker_not_available, BROKER_NOT_AVAILABLE, 8)                                    \
  X(replica_not_available, REPLICA_NOT_AVAILABLE, 9)                                  \
  X(message_too_large, MESSAGE_TOO_LARGE, 10)                                         \
  X(offset_metadata_too_large, OFFSET_METADATA_TOO_LARGE, 12)                         \
  X(network_exception, NETWORK_EXCEPTION, 13)                                         \
  X(coordinator_load_in_progress, COORDINATOR_LOAD_IN_PROGRESS, 14)                   \
  X(coordinator_not_available, COORDINATOR_NOT_AVAILABLE, 15)                         \
  X(not_coordinator, NOT_COORDINATOR, 16)                                             \
  X(invalid_topic_exception, INVALID_TOPIC_EXCEPTION, 17)                             \
  X(record_list_too_large, RECORD_LIST_TOO_LARGE, 18)                                 \
  X(not_enough_replicas, NOT_ENOUGH_REPLICAS, 19)                                     \
  X(not_enough_replicas_after_append, NOT_ENOUGH_REPLICAS_AFTER_APPEND, 20)           \
  X(invalid_required_acks, INVALID_REQUIRED_ACKS, 21)                                 \
  X(illegal_generation, ILLEGAL_GENERATION, 22)                                       \
  X(inconsistent_group_protocol, INCONSISTENT_GROUP_PROTOCOL, 23)                     \
  X(invalid_group_id, INVALID_GROUP_ID, 24)                                           \
  X(unknown_member_id, UNKNOWN_MEMBER_ID, 25)                                         \
  X(invalid_session_timeout, INVALID_SESSION_TIMEOUT, 26)                             \
  X(rebalance_in_progress, REBALANCE_IN_PROGRESS, 27)                                 \
  X(invalid_commit_offset_size, INVALID_COMMIT_OFFSET_SIZE, 28)                       \
  X(topic_authorization_failed, TOPIC_AUTHORIZATION_FAILED, 29)                       \
  X(group_authorization_failed, GROUP_AUTHORIZATION_FAILED, 30)                       \
  X(cluster_authorization_failed, CLUSTER_AUTHORIZATION_FAILED, 31)                   \
  X(invalid_timestamp, INVALID_TIMESTAMP, 32)                                         \
  X(unsupported_sasl_mechanism, UNSUPPORTED_SASL_MECHANISM, 33)                       \
  X(illegal_sasl_state, ILLEGAL_SASL_STATE, 34)                                       \
  X(unsupported_version, UNSUPPORTED_VERSION, 35)                                     \
  X(topic_already_exists, TOPIC_ALREADY_EXISTS, 36)                                   \
  X(invalid_partitions, INVALID_PARTITIONS, 37)                                       \
  X(invalid_replication_factor, INVALID_REPLICATION_FACTOR, 38)                       \
  X(invalid_replica_assignment, INVALID_REPLICA_ASSIGNMENT, 39)                       \
  X(invalid_config, INVALID_CONFIG, 40)                                               \
  X(not_controller, NOT_CONTROLLER, 41)                                               \
  X(invalid_request, INVALID_REQUEST, 42)                                             \
  X(unsupported_for_message_format, UNSUPPORTED_FOR_MESSAGE_FORMAT, 43)               \
  X(policy_violation, POLICY_VIOLATION, 44)                                           \
  X(out_of_order_sequence_number, OUT_OF_ORDER_SEQUENCE_NUMBER, 45)                   \
  X(duplicate_sequence_number, DUPLICATE_SEQUENCE_NUMBER, 46)                         \
  X(invalid_producer_epoch, INVALID_PRODUCER_EPOCH, 47)                               \
  X(invalid_txn_state, INVALID_TXN_STATE, 48)                                         \
  X(invalid_producer_id_mapping, INVALID_PRODUCER_ID_MAPPING, 49)                     \
  X(invalid_transaction_timeout, INVALID_TRANSACTION_TIMEOUT, 50)                     \
  X(concurrent_transactions, CONCURRENT_TRANSACTIONS, 51)                             \
  X(transactional_id_authorization_failed, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 53) \
  X(kafka_storage_error, KAFKA_STORAGE_ERROR, 56)                                     \
  X(sasl_authentication_failed, SASL_AUTHENTICATION_FAILED, 58)                       \
  X(unknown_producer_id, UNKNOWN_PRODUCER_ID, 59)                                     \
  X(non_empty_group, NON_EMPTY_GROUP, 68)                                             \
  X(group_id_not_found, GROUP_ID_NOT_FOUND, 69)                                       \
  X(fetch_session_id_not_found, FETCH_SESSION_ID_NOT_FOUND, 70)                       \
  X(invalid_fetch_session_epoch, INVALID_FETCH_SESSION_EPOCH, 71)                     \
  X(topic_deletion_disabled, TOPIC_DELETION_DISABLED, 73)                             \
  X(fenced_leader_epoch, FENCED_LEADER_EPOCH, 74)                                     \
  X(unknown_leader_epoch, UNKNOWN_LEADER_EPOCH, 75)                                   \
  X(unsupported_compression_type, UNSUPPORTED_COMPRESSION_TYPE, 76)                   \
  X(offset_not_available, OFFSET_NOT_AVAILABLE, 78)                                   \
  X(member_id_required, MEMBER_ID_REQUIRED, 79)                                       \
  X(group_max_size_reached, GROUP_MAX_SIZE_REACHED, 81)                               \
  X(fenced_instance_id, FENCED_INSTANCE_ID, 82)                                       \
  X(invalid_record, INVALID_RECORD, 87)                                               \
  X(unstable_offset_commit, UNSTABLE_OFFSET_COMMIT, 88)                               \
  X(throttling_quota_exceeded, THROTTLING_QUOTA_EXCEEDED, 89)                         \
  X(producer_fenced, PRODUCER_FENCED, 90)

enum class error_code : int16_t {
#define TRIB_X(name, upper, code) name = code,
  TRIB_KAFKA_ERROR_CODES(TRIB_X)
#undef TRIB_X
};

// "NOT_COORDINATOR"; "UNKNOWN_ERROR_CODE" for a number not in the list.
std::string_view error_code_name(error_code e) noexcept;

}  // namespace tributary::kafka::protocol
