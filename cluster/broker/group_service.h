#pragma once
// The group coordinator's adapter: feeds the pure core (cluster/group/coordinator.h) the decoded
// group requests with the loop's monotonic time, runs one timer for its deadlines, delivers the
// answers it parks (JoinGroup, SyncGroup) through callbacks, and keeps offsets and group metadata as
// records of the internal topic __consumer_offsets (cluster/group/records.h), written through the
// normal partition path (broker_service::append, so the group commit syncs them).
//
//  - OffsetCommit is answered once its records are at or below the high watermark, the same
//    guarantee as an acks=all produce (durable in flush.mode = sync).
//  - Group metadata is written when a generation becomes stable or the group empties (not waited for:
//    members rejoin anyway if it is lost).
//  - Start-up (load()): every partition of __consumer_offsets is replayed in order, the last record
//    of a key winning; restored members get a fresh session timeout to come back.
//  - Compaction: when a partition grows beyond groups.offsets_compact_bytes and beyond 4x the size of
//    its live state, the live state of its groups is appended again, and once that is durable every
//    whole segment before it is deleted. A crash in between only leaves the old records in place.
//  - Retention: the offsets of a group Empty for groups.offsets_retention_ms expire (tombstones).
//  - Coordinator = the leader of the group's partition (hash of the group id). On a single node that
//    is this node. In a cluster __consumer_offsets is a replicated topic like any other: the node
//    whose replica of a partition serves (leads, with its term's entry committed) replays that
//    partition into the core and coordinates its groups (partition_leadership); when it stops
//    serving, the groups are unloaded (parked joins and syncs answer NOT_COORDINATOR). Requests for
//    a group this node does not coordinate answer NOT_COORDINATOR, so clients ask FindCoordinator
//    again and follow the partition's leader.
//
// Runs on the event-loop thread.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "cluster/broker/broker_config.h"
#include "cluster/group/coordinator.h"
#include "cluster/group/records.h"
#include "common/kafka/protocol/error_code.h"
#include "common/kafka/record_batch.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace tributary::cluster::broker {

class broker_service;
class partition;

class group_service {
 public:
  static constexpr std::string_view offsets_topic = "__consumer_offsets";
  using error_code = tributary::kafka::protocol::error_code;
  using join_callback = std::function<void(const group::join_result&)>;
  using sync_callback = std::function<void(const group::sync_result&)>;

  struct commit_entry {
    std::string topic;
    int32_t partition = 0;
    group::committed_offset value;
    error_code error = error_code::none;
  };
  using commit_callback = std::function<void(std::vector<commit_entry>)>;

  // member_id_salt: makes generated member ids unique across restarts (random per start).
  group_service(uv::loop& l, const broker_config& cfg, broker_service& svc, metrics::registry& registry,
                std::string member_id_salt);
  ~group_service();
  group_service(const group_service&) = delete;
  group_service& operator=(const group_service&) = delete;

  // Start-up: replays __consumer_offsets if it exists.
  result<void> load();
  // Shutdown: answers every parked JoinGroup/SyncGroup (COORDINATOR_NOT_AVAILABLE, so clients look
  // for the coordinator again) and stops the timer.
  void shutdown();

  // The node coordinating `group_id`: NONE and the node id, or COORDINATOR_NOT_AVAILABLE
  // (__consumer_offsets cannot be created, or is being created, or its partition has no leader).
  error_code coordinator_for(std::string_view group_id, int32_t& node_id);
  // NONE when this node coordinates `group_id` now; else NOT_COORDINATOR, or
  // COORDINATOR_LOAD_IN_PROGRESS while its partition is being replayed, or COORDINATOR_NOT_AVAILABLE.
  error_code check_coordinator(std::string_view group_id);
  // A partition of __consumer_offsets started or stopped serving here (cluster mode).
  void partition_leadership(partition& p);
  // Creates __consumer_offsets if needed (Metadata asking for it by name).
  error_code ensure_topic();

  void join(group::join_request req, join_callback cb);
  void sync(group::sync_request req, sync_callback cb);
  error_code heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                       const std::optional<std::string>& instance_id);
  std::vector<error_code> leave(std::string_view group_id, const std::vector<group::member_ref>& members,
                                error_code& group_error);
  // Validates, appends and answers once durable (entries carry their per-partition errors).
  void commit(std::string_view group_id, int32_t generation, std::string_view member_id,
              const std::optional<std::string>& instance_id, std::vector<commit_entry> entries,
              commit_callback cb);
  const std::map<group::topic_partition, group::committed_offset>* offsets(std::string_view group_id) const {
    return core_.offsets(group_id);
  }
  std::vector<group::group_summary> list() const { return core_.list(); }
  const group::group* find(std::string_view group_id) const { return core_.find(group_id); }
  // DeleteGroups: writes the tombstones of the group and its offsets, then forgets it.
  error_code delete_group(std::string_view group_id);

  // Lag and membership gauges (before a /metrics render).
  void refresh_metrics();
  // Compaction of every partition that needs it (also run after appends); returns partitions compacted.
  size_t compact_if_needed();

  const group::coordinator& core() const { return core_; }

 private:
  struct record {
    group::record_key key;
    std::optional<std::vector<uint8_t>> value;  // nullopt = tombstone
  };
  struct partition_state {
    uint64_t live_bytes = 0;  // size of the last snapshot written (0 before the first)
    bool compacting = false;
  };

  partition* offsets_partition(std::string_view group_id);
  // Appends records to one partition (one or more batches); the offset after the last one.
  result<int64_t> append(partition& p, const std::vector<record>& records);
  void dispatch(group::outputs& out);
  void persist_groups(const std::vector<std::string>& ids);
  void expire(const std::vector<std::pair<std::string, group::topic_partition>>& expired);
  void arm_timer();
  result<void> replay(partition& p);
  bool replay_record(const tributary::kafka::record_view& rec);
  void compact(partition& p, int32_t index);
  int64_t now() const;

  uv::loop& loop_;
  const broker_config& cfg_;
  broker_service& svc_;
  metrics::registry& registry_;
  group::coordinator core_;
  uv::timer timer_;
  std::optional<int64_t> timer_armed_for_;
  group::request_id next_request_ = 1;
  std::unordered_map<group::request_id, join_callback> joins_;
  std::unordered_map<group::request_id, sync_callback> syncs_;
  std::map<int32_t, partition_state> partitions_;
  bool stopped_ = false;
  std::set<int32_t> loaded_;     // cluster mode: the offsets partitions whose groups are in the core
  int32_t partition_count_ = 0;  // of __consumer_offsets once it exists (may differ from the config)

  struct lag_gauges {
    metrics::gauge* lag = nullptr;
    metrics::gauge* committed = nullptr;
  };
  std::map<std::tuple<std::string, std::string, int32_t>, lag_gauges> lag_gauges_;
  std::map<std::string, metrics::gauge*, std::less<>> member_gauges_;
  metrics::counter* rebalances_ = nullptr;
  metrics::counter* commits_ = nullptr;
  metrics::gauge* groups_gauge_ = nullptr;
};

}  // namespace tributary::cluster::broker
