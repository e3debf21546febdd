// Kafka error codes checked against a real client's table, librdkafka's rd_kafka_resp_err_t (its
// header is read for the enum values only; nothing of librdkafka is linked). librdkafka spells a
// few names differently (NO_ERROR, INVALID_MSG, ...); the numbers are what must agree.
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>

#include <set>

#include "common/kafka/protocol/error_code.h"

namespace tributary::kafka::protocol {
namespace {

TEST_CASE("error codes match librdkafka's numbers") {
  const std::pair<error_code, rd_kafka_resp_err_t> pairs[] = {
      {error_code::unknown_server_error, RD_KAFKA_RESP_ERR_UNKNOWN},
      {error_code::none, RD_KAFKA_RESP_ERR_NO_ERROR},
      {error_code::offset_out_of_range, RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE},
      {error_code::corrupt_message, RD_KAFKA_RESP_ERR_INVALID_MSG},
      {error_code::unknown_topic_or_partition, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART},
      {error_code::invalid_fetch_size, RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE},
      {error_code::leader_not_available, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE},
      {error_code::not_leader_or_follower, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
      {error_code::request_timed_out, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT},
      {error_code::broker_not_available, RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE},
      {error_code::replica_not_available, RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE},
      {error_code::message_too_large, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE},
      {error_code::offset_metadata_too_large, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE},
      {error_code::network_exception, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION},
      {error_code::coordinator_load_in_progress, RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS},
      {error_code::coordinator_not_available, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE},
      {error_code::not_coordinator, RD_KAFKA_RESP_ERR_NOT_COORDINATOR},
      {error_code::invalid_topic_exception, RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION},
      {error_code::record_list_too_large, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE},
      {error_code::not_enough_replicas, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS},
      {error_code::not_enough_replicas_after_append, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND},
      {error_code::invalid_required_acks, RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS},
      {error_code::illegal_generation, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION},
      {error_code::inconsistent_group_protocol, RD_KAFKA_RESP_ERR_INCONSISTENT_GROUP_PROTOCOL},
      {error_code::invalid_group_id, RD_KAFKA_RESP_ERR_INVALID_GROUP_ID},
      {error_code::unknown_member_id, RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID},
      {error_code::invalid_session_timeout, RD_KAFKA_RESP_ERR_INVALID_SESSION_TIMEOUT},
      {error_code::rebalance_in_progress, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS},
      {error_code::invalid_commit_offset_size, RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE},
      {error_code::topic_authorization_failed, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED},
      {error_code::group_authorization_failed, RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED},
      {error_code::cluster_authorization_failed, RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED},
      {error_code::invalid_timestamp, RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP},
      {error_code::unsupported_sasl_mechanism, RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM},
      {error_code::illegal_sasl_state, RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE},
      {error_code::unsupported_version, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION},
      {error_code::topic_already_exists, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS},
      {error_code::invalid_partitions, RD_KAFKA_RESP_ERR_INVALID_PARTITIONS},
      {error_code::invalid_replication_factor, RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR},
      {error_code::invalid_replica_assignment, RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT},
      {error_code::invalid_config, RD_KAFKA_RESP_ERR_INVALID_CONFIG},
      {error_code::not_controller, RD_KAFKA_RESP_ERR_NOT_CONTROLLER},
      {error_code::invalid_request, RD_KAFKA_RESP_ERR_INVALID_REQUEST},
      {error_code::unsupported_for_message_format, RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT},
      {error_code::policy_violation, RD_KAFKA_RESP_ERR_POLICY_VIOLATION},
      {error_code::out_of_order_sequence_number, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER},
      {error_code::duplicate_sequence_number, RD_KAFKA_RESP_ERR_DUPLICATE_SEQUENCE_NUMBER},
      {error_code::invalid_producer_epoch, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH},
      {error_code::invalid_txn_state, RD_KAFKA_RESP_ERR_INVALID_TXN_STATE},
      {error_code::invalid_producer_id_mapping, RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING},
      {error_code::invalid_transaction_timeout, RD_KAFKA_RESP_ERR_INVALID_TRANSACTION_TIMEOUT},
      {error_code::concurrent_transactions, RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS},
      {error_code::transactional_id_authorization_failed,
       RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED},
      {error_code::kafka_storage_error, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR},
      {error_code::sasl_authentication_failed, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED},
      {error_code::unknown_producer_id, RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID},
      {error_code::non_empty_group, RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP},
      {error_code::group_id_not_found, RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND},
      {error_code::fetch_session_id_not_found, RD_KAFKA_RESP_ERR_FETCH_SESSION_ID_NOT_FOUND},
      {error_code::invalid_fetch_session_epoch, RD_KAFKA_RESP_ERR_INVALID_FETCH_SESSION_EPOCH},
      {error_code::topic_deletion_disabled, RD_KAFKA_RESP_ERR_TOPIC_DELETION_DISABLED},
      {error_code::fenced_leader_epoch, RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH},
      {error_code::unknown_leader_epoch, RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH},
      {error_code::unsupported_compression_type, RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE},
      {error_code::offset_not_available, RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE},
      {error_code::member_id_required, RD_KAFKA_RESP_ERR_MEMBER_ID_REQUIRED},
      {error_code::group_max_size_reached, RD_KAFKA_RESP_ERR_GROUP_MAX_SIZE_REACHED},
      {error_code::fenced_instance_id, RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID},
      {error_code::invalid_record, RD_KAFKA_RESP_ERR_INVALID_RECORD},
      {error_code::unstable_offset_commit, RD_KAFKA_RESP_ERR_UNSTABLE_OFFSET_COMMIT},
      {error_code::throttling_quota_exceeded, RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED},
      {error_code::producer_fenced, RD_KAFKA_RESP_ERR_PRODUCER_FENCED},
  };
  std::set<int> checked;
  for (auto [ours, theirs] : pairs) {
    CHECK_MESSAGE(static_cast<int>(ours) == static_cast<int>(theirs), error_code_name(ours));
    checked.insert(static_cast<int>(ours));
  }
  // Every code of our list is in the table above.
  std::set<int> listed;
#define TRIB_X(name, upper, code) listed.insert(code);
  TRIB_KAFKA_ERROR_CODES(TRIB_X)
#undef TRIB_X
  CHECK(listed == checked);
}

TEST_CASE("error code names") {
  CHECK(error_code_name(error_code::none) == "NONE");
  CHECK(error_code_name(error_code::unknown_server_error) == "UNKNOWN_SERVER_ERROR");
  CHECK(error_code_name(error_code::fenced_instance_id) == "FENCED_INSTANCE_ID");
  CHECK(error_code_name(static_cast<error_code>(1234)) == "UNKNOWN_ERROR_CODE");
}

}  // namespace
}  // namespace tributary::kafka::protocol
