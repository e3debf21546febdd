#pragma once
// The partitions of one broker node: topic table + one partition_log per partition + idempotent
// producer state, under one data directory:
//   <data-dir>/topics.json             topic table (topic_table.h)
//   <data-dir>/producer_ids            next block of producer ids (never reused across restarts)
//   <data-dir>/<topic>-<partition>/    segments (storage/partition_log.h)
//   <data-dir>/.lock                   flock'ed while a broker uses the directory
// Runs on the broker's event-loop thread; only storage::partition_log::run_sync goes to a worker.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/broker/producer_state.h"
#include "cluster/broker/topic_table.h"
#include "cluster/storage/partition_log.h"
#include "common/result.h"

namespace tributary::cluster::broker {

// Broker-wide defaults that topic configs override.
struct log_defaults {
  storage::log_config log;
  int32_t max_message_bytes = 1048588;  // Kafka's default max.message.bytes
  bool log_append_time = false;
  // Producer state is rebuilt from at most this many bytes at the end of each log on start.
  uint64_t producer_state_rebuild_bytes = 64ull << 20;
  size_t producers_per_partition_max = 10000;
  // flush.mode = interval: consumers read up to the log end (page cache), not only what fdatasync
  // covered; the fsync runs on a timer. false (flush.mode = sync): the high watermark is the durable
  // offset.
  bool high_watermark_at_log_end = false;
};

enum class append_errc {
  corrupt_message = 1,  // CORRUPT_MESSAGE (bad CRC, malformed records)
  message_too_large,    // MESSAGE_TOO_LARGE (over max.message.bytes)
  out_of_order,         // OUT_OF_ORDER_SEQUENCE_NUMBER
  fenced_epoch,         // INVALID_PRODUCER_EPOCH
  storage_error,        // KAFKA_STORAGE_ERROR
  not_leader,           // NOT_LEADER_OR_FOLLOWER (a Raft partition in cluster mode)
  not_enough_replicas,  // NOT_ENOUGH_REPLICAS (a Raft leader with too much uncommitted: no quorum)
};
inline std::error_code make_error_code(append_errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::broker

template <>
struct tributary::errc_info<tributary::cluster::broker::append_errc> {
  static constexpr const char* name = "append";
  static const char* message(tributary::cluster::broker::append_errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::broker::append_errc> : std::true_type {};

namespace tributary::cluster::broker {

class partition {
 public:
  partition(std::string topic, int32_t id, std::unique_ptr<storage::partition_log> log, const log_defaults& d,
            const topic_config& cfg);

  const std::string& topic() const { return topic_; }
  int32_t id() const { return id_; }
  storage::partition_log& log() { return *log_; }
  const storage::partition_log& log() const { return *log_; }
  producer_table& producers() { return producers_; }
  int32_t max_message_bytes() const { return max_message_bytes_; }
  bool log_append_time() const { return log_append_time_; }
  // What consumers may read: the durable end of the log on a single node, advanced by the flusher
  // after each fdatasync (with high_watermark_at_log_end, flush.mode = interval, the log end:
  // consumers may see data that a crash can still take away); in a cluster the Raft commit index + 1.
  storage::offset high_watermark() const {
    if (raft) return storage::offset(raft->committed_end);
    return hw_at_log_end_ ? log_->end_offset() : log_->durable_offset();
  }

  // Cluster mode: a Raft group owns this log (replica_manager keeps this up to date after every
  // Raft round). Retention and the flusher leave the log alone; appends go through the group.
  struct raft_binding {
    uint64_t group = 0;
    // This replica leads and has committed an entry of its term (so everything earlier is
    // committed too and the producer state is rebuilt): it may take Produce, Fetch, ListOffsets.
    bool serving = false;
    int32_t term = 0;           // the leader epoch clients see
    int64_t committed_end = 0;  // commit index + 1: the high watermark
  };
  std::optional<raft_binding> raft;
  bool replicated() const { return raft.has_value(); }
  // May this replica answer clients for the partition (always on a single node)?
  bool serving() const { return !raft || raft->serving; }
  // Kafka's leader epoch: 0 on a single node, the Raft term in a cluster.
  int32_t leader_epoch() const { return raft ? raft->term : 0; }

  // Bytes and records appended since start (for /metrics).
  uint64_t bytes_in = 0;
  uint64_t records_in = 0;

 private:
  std::string topic_;
  int32_t id_;
  std::unique_ptr<storage::partition_log> log_;
  producer_table producers_;
  int32_t max_message_bytes_;
  bool log_append_time_;
  bool hw_at_log_end_;
};

struct append_outcome {
  storage::offset base{-1};
  storage::offset last{-1};
  int64_t log_append_time_ms = -1;  // -1 for CreateTime topics
  bool duplicate = false;           // an idempotent resend: nothing was appended
};

class partition_manager {
 public:
  static result<std::unique_ptr<partition_manager>> open(const std::filesystem::path& data_dir,
                                                         const log_defaults& defaults, int64_t now_ms);
  ~partition_manager();

  const topic_table& topics() const { return topics_; }
  const log_defaults& defaults() const { return defaults_; }

  // Creates the topic and its partition directories. `topic_id`: 32 hex digits.
  // `hosted` (a cluster node): only these partitions get a directory and a log here.
  result<const topic_info*> create_topic(std::string_view name, int32_t partitions, const topic_config& cfg,
                                         int64_t now_ms, std::string topic_id,
                                         std::optional<std::vector<int32_t>> hosted = std::nullopt);
  // Removes the topic from the table, then its directories.
  result<void> delete_topic(std::string_view name);
  // Cluster mode: a replica of one partition of a known topic moves onto this node (an empty log is
  // created, ready to be filled by the partition's Raft group), or off it (the log is closed and its
  // directory removed). The topic table records which partitions this node holds.
  result<partition*> add_replica(std::string_view topic, int32_t id, int64_t now_ms);
  result<void> remove_replica(std::string_view topic, int32_t id);

  // nullptr for an unknown partition, or one this node holds no replica of.
  partition* find(std::string_view topic, int32_t id);
  std::vector<partition*> all_partitions();

  // Appends one producer batch to `p`: checks the batch (CRC, records, size), applies the idempotent
  // producer rules, rewrites offset/epoch (and LogAppendTime), writes it. `batch` is modified in place.
  result<append_outcome> append(partition& p, std::span<uint8_t> batch, int64_t now_ms);

  // The two halves of append() around the write, for a Raft partition whose leader proposes the
  // batch instead of writing it. prepare_append checks (and sets LogAppendTime); when `duplicate`
  // is set the batch is an idempotent resend and must not be written. appended() records what was
  // written at [base, last] in the producer state and the counters.
  struct prepared_append {
    int64_t producer_id = -1;
    int16_t producer_epoch = 0;
    int32_t first_seq = 0;
    int32_t record_count = 0;
    int64_t log_append_time_ms = -1;
    std::optional<append_outcome> duplicate;
  };
  result<prepared_append> prepare_append(partition& p, std::span<uint8_t> batch, int64_t now_ms);
  append_outcome appended(partition& p, const prepared_append& a, storage::offset base, storage::offset last,
                          size_t bytes);

  // Replays the batch headers at the end of the log into a fresh producer table (at start, and when
  // a replica becomes the leader of a Raft partition).
  result<void> rebuild_producer_state(partition& p);

  // Hands out producer ids for InitProducerId: unique across restarts (ids are reserved in blocks
  // persisted before use) and, in a cluster, across nodes: each node's ids carry its node id in the
  // high bits (set_producer_id_node), so two producers never share an id whichever node they ask.
  result<int64_t> next_producer_id();
  void set_producer_id_node(int32_t node_id) { producer_id_base_ = int64_t{node_id} << 40; }

  // Clean shutdown: fsync and write index files of every partition.
  result<void> close();

 private:
  partition_manager() = default;
  result<std::unique_ptr<partition>> open_partition(const topic_info& t, int32_t id, int64_t now_ms);
  std::filesystem::path partition_dir(std::string_view topic, int32_t id) const;

  std::filesystem::path dir_;
  log_defaults defaults_;
  topic_table topics_;
  std::map<std::string, std::vector<std::unique_ptr<partition>>, std::less<>> partitions_;
  int lock_fd_ = -1;
  int64_t next_producer_id_ = 0;
  int64_t producer_id_block_end_ = 0;
  int64_t producer_id_base_ = 0;  // cluster mode: node id << 40 (2^40 ids per node)
};

}  // namespace tributary::cluster::broker
