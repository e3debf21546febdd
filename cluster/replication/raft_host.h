#pragma once
// raft_host: runs every Raft group of one node (the controller's group 0 and the partitions this
// node replicates) on the event loop, over their segment logs, and talks to the other nodes
// through the RPC transport. It is the "ready loop" of raft/node.h, for many groups at once:
//
//   every tick_ms:   tick() every group, then process()
//   process():       for every group with a ready:
//                      send its early messages (a leader's appends may leave before its fsync),
//                      write its snapshot, entries and hard state (page cache; a changed term or
//                      vote is fsynced at once by segment_storage);
//                    one fsync round for every log written (a worker thread: group commit across
//                    groups; the loop keeps serving), then for every group:
//                      send its messages (votes, acknowledgements: they promise durable state),
//                      hand its committed entries to the group's apply function,
//                      advance().
//                    transport.flush(): one frame per peer for all groups' messages.
//
// Proposals made between two rounds are picked up by the next one (kick()).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "cluster/raft/node.h"
#include "cluster/replication/segment_storage.h"
#include "cluster/rpc/transport.h"
#include "cluster/storage/partition_log.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"

namespace tributary::cluster::replication {

struct host_options {
  raft::node_id self;
  uint64_t tick_ms = 100;                // one Raft tick
  int election_ticks = 10;               // election timeout: [10, 20) ticks = 1 to 2 s by default
  int heartbeat_ticks = 1;               // a heartbeat round every tick
  uint64_t random_seed = 1;              // per-node seed for election timeouts (mixed with the group id)
  std::function<int64_t()> wall_now_ms;  // timestamps of control batches
};

// One Raft group hosted here.
struct hosted_group {
  rpc::group_id id;
  std::unique_ptr<storage::partition_log> owned_log;  // when the host opened the log itself
  storage::partition_log* log = nullptr;
  std::unique_ptr<segment_storage> storage;
  std::unique_ptr<raft::node> node;
  // Committed entries, in order (each call after the entries are durable here).
  std::function<void(const std::vector<raft::entry>&)> apply;
  // After a round in which the group's role, leader or term may have changed.
  std::function<void()> on_round;
};

struct host_stats {
  uint64_t rounds = 0;
  uint64_t fsync_rounds = 0;
  uint64_t fsync_failures = 0;
  uint64_t unknown_group_messages = 0;
};

class raft_host {
 public:
  // `on_fatal` runs when a log cannot be written or synced: the node must stop (restart recovers).
  static result<std::unique_ptr<raft_host>> create(uv::loop& l, rpc::transport& t, host_options options,
                                                   std::function<void(std::error_code)> on_fatal);
  ~raft_host();
  raft_host(const raft_host&) = delete;
  raft_host& operator=(const raft_host&) = delete;

  // Opens (or creates) a group whose log lives in `dir`. `bootstrap` is the initial membership of a
  // new group (empty for a member that joins an existing group).
  result<hosted_group*> open_group(rpc::group_id id, const std::filesystem::path& dir,
                                   raft::membership bootstrap, const storage::log_config& log_config,
                                   int64_t now_ms);
  // The same over a log someone else owns (a partition of the partition_manager), which must
  // outlive the group.
  result<hosted_group*> open_group(rpc::group_id id, storage::partition_log& log, raft::membership bootstrap);
  hosted_group* find(rpc::group_id id);
  // Stops hosting a group (its replica moved away): it is destroyed once no round uses it, then
  // `done` runs (on the loop); its log, if someone else owns it, may go after that.
  void close_group(rpc::group_id id, std::function<void()> done);

  // Messages from a peer (the transport's on_raft).
  void receive(rpc::raft_batch&& batch);
  // Process readies on the next loop turn (after a propose, a campaign, ...).
  void kick();
  // Stops ticking and processing; waits for a round in progress, then calls done.
  void stop(std::function<void()> done);

  const host_stats& stats() const { return stats_; }
  const host_options& options() const { return opt_; }

 private:
  raft_host(uv::loop& l, rpc::transport& t, host_options options, uv::worker w,
            std::function<void(std::error_code)> on_fatal);
  void tick();
  void process();
  void finish_round(std::vector<std::pair<hosted_group*, raft::ready>> readies,
                    std::vector<std::pair<hosted_group*, storage::sync_job>> jobs, bool ok);
  void send(const hosted_group& g, std::vector<raft::message>& msgs);

  uv::loop& loop_;
  rpc::transport& transport_;
  host_options opt_;
  uv::worker worker_;
  std::function<void(std::error_code)> on_fatal_;
  std::map<rpc::group_id, std::unique_ptr<hosted_group>> groups_;
  uv::timer tick_timer_;
  uv::timer kick_timer_;
  bool in_round_ = false;
  bool finishing_ = false;
  bool again_ = false;
  bool stopping_ = false;
  bool failed_ = false;
  std::function<void()> on_stopped_;
  std::vector<std::pair<rpc::group_id, std::function<void()>>> closing_;  // after the round in flight
  host_stats stats_;
};

}  // namespace tributary::cluster::replication
