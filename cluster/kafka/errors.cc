#include "cluster/kafka/errors.h"

#include "cluster/broker/partition_manager.h"
#include "cluster/broker/topic_table.h"
#include "cluster/storage/types.h"
#include "common/kafka/record_errc.h"

namespace tributary::cluster::kafka {

protocol::error_code to_kafka_error(std::error_code ec) {
  using protocol::error_code;
  if (!ec) return error_code::none;
  if (ec.category() == errc_category<broker::topic_errc>()) {
    switch (static_cast<broker::topic_errc>(ec.value())) {
      case broker::topic_errc::invalid_name: return error_code::invalid_topic_exception;
      case broker::topic_errc::already_exists: return error_code::topic_already_exists;
      case broker::topic_errc::unknown_topic: return error_code::unknown_topic_or_partition;
      case broker::topic_errc::invalid_partitions: return error_code::invalid_partitions;
      case broker::topic_errc::invalid_config: return error_code::invalid_config;
      case broker::topic_errc::invalid_replication: return error_code::invalid_replication_factor;
      case broker::topic_errc::io_error:
      case broker::topic_errc::bad_file: return error_code::kafka_storage_error;
    }
  }
  if (ec.category() == errc_category<broker::append_errc>()) {
    switch (static_cast<broker::append_errc>(ec.value())) {
      case broker::append_errc::corrupt_message: return error_code::corrupt_message;
      case broker::append_errc::message_too_large: return error_code::message_too_large;
      case broker::append_errc::out_of_order: return error_code::out_of_order_sequence_number;
      case broker::append_errc::fenced_epoch: return error_code::invalid_producer_epoch;
      case broker::append_errc::storage_error: return error_code::kafka_storage_error;
      case broker::append_errc::not_leader: return error_code::not_leader_or_follower;
      case broker::append_errc::not_enough_replicas: return error_code::not_enough_replicas;
    }
  }
  if (ec.category() == errc_category<tributary::kafka::record_errc>()) {
    switch (static_cast<tributary::kafka::record_errc>(ec.value())) {
      case tributary::kafka::record_errc::bad_magic: return error_code::invalid_record;
      case tributary::kafka::record_errc::too_large: return error_code::message_too_large;
      case tributary::kafka::record_errc::unsupported_codec: return error_code::unsupported_compression_type;
      default: return error_code::corrupt_message;
    }
  }
  if (ec.category() == errc_category<storage::errc>()) {
    if (static_cast<storage::errc>(ec.value()) == storage::errc::offset_out_of_range)
      return error_code::offset_out_of_range;
    return error_code::kafka_storage_error;
  }
  return error_code::unknown_server_error;
}

}  // namespace tributary::cluster::kafka

namespace tributary::cluster::kafka {

protocol::error_code leader_error(const broker::partition& p, int32_t current_leader_epoch) {
  if (!p.serving()) return protocol::error_code::not_leader_or_follower;
  if (current_leader_epoch < 0 || current_leader_epoch == p.leader_epoch()) return protocol::error_code::none;
  return current_leader_epoch < p.leader_epoch() ? protocol::error_code::fenced_leader_epoch
                                                 : protocol::error_code::unknown_leader_epoch;
}

}  // namespace tributary::cluster::kafka
