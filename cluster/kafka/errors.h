#pragma once
// Internal errors become Kafka error codes here, at the protocol edge, and only here.
//   topic_errc:   invalid_name -> INVALID_TOPIC_EXCEPTION, already_exists -> TOPIC_ALREADY_EXISTS,
//                 unknown_topic -> UNKNOWN_TOPIC_OR_PARTITION, invalid_partitions -> INVALID_PARTITIONS,
//                 invalid_config -> INVALID_CONFIG, io_error/bad_file -> KAFKA_STORAGE_ERROR
//   append_errc:  corrupt_message -> CORRUPT_MESSAGE, message_too_large -> MESSAGE_TOO_LARGE,
//                 out_of_order -> OUT_OF_ORDER_SEQUENCE_NUMBER, fenced_epoch -> INVALID_PRODUCER_EPOCH,
//                 storage_error -> KAFKA_STORAGE_ERROR, not_leader -> NOT_LEADER_OR_FOLLOWER,
//                 not_enough_replicas -> NOT_ENOUGH_REPLICAS
//   record_errc:  bad_magic -> INVALID_RECORD (RecordBatch v2 only), too_large -> MESSAGE_TOO_LARGE,
//                 unsupported_codec -> UNSUPPORTED_COMPRESSION_TYPE, anything else -> CORRUPT_MESSAGE
//   storage errc: offset_out_of_range -> OFFSET_OUT_OF_RANGE, anything else -> KAFKA_STORAGE_ERROR
//   other:        UNKNOWN_SERVER_ERROR
#include <system_error>

#include "common/kafka/protocol/error_code.h"

namespace tributary::cluster::broker {
class partition;
}

namespace tributary::cluster::kafka {

namespace protocol = tributary::kafka::protocol;

protocol::error_code to_kafka_error(std::error_code ec);

// Whether this node may answer a client for `p` (Fetch, ListOffsets): NOT_LEADER_OR_FOLLOWER on a
// replica that is not the serving leader of a Raft partition; a client's current_leader_epoch (-1 =
// not given) below the partition's is FENCED_LEADER_EPOCH, above it UNKNOWN_LEADER_EPOCH.
protocol::error_code leader_error(const broker::partition& p, int32_t current_leader_epoch);

// Codes the codec's list does not name yet (error_code.h); see the report to the protocol owner.
inline constexpr auto k_unknown_topic_id = static_cast<protocol::error_code>(100);  // UNKNOWN_TOPIC_ID

}  // namespace tributary::cluster::kafka
