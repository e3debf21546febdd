#pragma once
// Cluster mode: the partitions this node holds a replica of, each a Raft group over its segment log
// (hosted by the node's raft_host), kept in line with the controller's metadata; and the Kafka
// side's view of the cluster (cluster_hooks).
//
//  - reconcile() (after every metadata change and at start): a topic in the metadata that this node
//    does not know yet is created locally with only the partitions placed on this node (the others
//    have no directory here), and every hosted partition gets its Raft group, whose first members are
//    the partition's replicas.
//  - Topics are created through the controller: create_topic() validates, places the replicas
//    (controller::place) and submits the command; the topic appears once it is committed and
//    reconciled on each replica (as Kafka's CreateTopics with timeout 0).
//  - Produce: propose() rewrites a checked batch's base offset (the group's next offset) and leader
//    epoch (the term) and proposes it. After every Raft round each hosted partition's binding is
//    refreshed (partition::raft_binding): the high watermark follows the commit index (waking
//    acks=-1 producers and long-polling consumers), and a replica serves only while it leads and
//    has committed an entry of its own term. When it starts serving, its producer state is rebuilt
//    from its log (which then holds everything committed), so idempotent resends of batches the old
//    leader wrote are recognised.
//  - Retention: each replica applies the topic's retention to its own log, below what it has applied
//    (committed and written here); the cut is recorded as the group's snapshot point first
//    (segment_storage::compacted), so a follower that is behind the leader's log start gets a
//    snapshot and restarts its log from there.
//  - Leader reports: every 500 ms (and soon after a change) each node tells the others which
//    partitions it leads, so any node can answer Metadata for partitions it does not replicate.
//  - Preferred leaders: a leader that is not its partition's first replica hands leadership back to
//    it once it is caught up, so leaderships stay spread as placed (after a node restarts, say).
//  - Moves (add-node, remove-node: the controller's set_replicas changes a partition's replicas):
//    the node placed anew creates an empty log and joins the group; the leader changes the group's
//    membership one server at a time toward the placed replicas: a new replica joins as a learner,
//    becomes a voter once caught up, then a replica no longer placed is removed (a leader that is
//    itself leaving hands leadership over first). A node learns that its replica is gone from the
//    leader's report (its committed voters no longer name the node, nor does the placement): then
//    it closes the group and deletes the log.
//
// Still local to each node: internal topics (__consumer_offsets); see issue 9's notes.
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/broker/broker_service.h"
#include "cluster/broker/partition_manager.h"
#include "cluster/controller/leader_report.h"
#include "cluster/controller/service.h"
#include "cluster/replication/raft_host.h"
#include "cluster/rpc/transport.h"
#include "common/uv/timer.h"

namespace tributary::cluster::broker {

struct replica_manager_options {
  int32_t default_replication_factor = 3;
  uint64_t balance_interval_ms = 1000;  // preferred-leader check
  uint64_t report_interval_ms = 500;    // leader reports to the other nodes
  uint64_t moves_interval_ms = 250;     // leaders check their membership against the placement
};

class replica_manager final : public cluster_hooks {
 public:
  replica_manager(uv::loop& l, partition_manager& pm, broker_service& svc, replication::raft_host& host,
                  controller::service& ctl, rpc::transport& transport, replica_manager_options options);
  ~replica_manager() override;

  void reconcile();
  // Every hosted partition: replicas, leader, term, commit and log end (for /v1/cluster).
  nlohmann::json status() const;
  // Every partition of the cluster: leader, term, replicas, ISR and each replica's lag, from this
  // node's groups and the other nodes' reports (for /v1/cluster and `tributary topic describe`).
  nlohmann::json leaders() const;
  // Operator requests (POST /v1/cluster/add-node|remove-node): plan the replica moves that give a
  // node its share of the replicas (it must have registered: started with cluster.seeds) or take
  // every replica off it, and submit them to the controller; a removed node is marked so once its
  // replicas are placed elsewhere. Returns the planned moves; the groups carry them out (status and
  // `leaders` show the progress). invalid_replication when a replica would have nowhere to go.
  result<nlohmann::json> add_node(raft::node_id id);
  result<nlohmann::json> remove_node(raft::node_id id);
  // A leader report from another node (rpc::api::leader_report).
  void handle_report(rpc::request&& req, const rpc::transport::reply_fn& reply);

  // ---- cluster_hooks
  // -1 replication factor: min(default, live nodes).
  result<void> create_topic(std::string_view name, int32_t partitions, int32_t replication_factor,
                            const topic_config& cfg) override;
  result<std::pair<storage::offset, storage::offset>> propose(partition& p,
                                                              std::span<uint8_t> batch) override;
  std::vector<broker_address> brokers() const override;
  int32_t controller_id() const override;
  partition_placement placement(std::string_view topic, int32_t partition) const override;
  result<size_t> apply_retention(partition& p, int64_t now_ms) override;

 private:
  struct replica {
    std::string topic;
    int32_t partition = 0;
    std::vector<raft::node_id> replicas;
    replication::hosted_group* group = nullptr;
    broker::partition* part = nullptr;
  };
  struct reported {
    raft::node_id leader;
    int64_t term = 0;
    std::vector<raft::node_id> isr;
    std::vector<controller::replica_lag> lag;
    std::vector<raft::node_id> voters;  // committed; empty while a change is in flight
  };
  struct placed {  // from the metadata, by Raft group id
    std::string topic;
    int32_t partition = 0;
    std::vector<raft::node_id> replicas;
  };
  void after_round(replica& r);
  std::vector<raft::node_id> in_sync(const replica& r) const;
  std::vector<controller::replica_lag> lag_of(const replica& r) const;  // on the leader
  void balance_leaders();
  void send_reports();
  void drive_moves();
  void remove_local(uint64_t group);
  void drop_replica_if_moved(uint64_t group, const std::vector<raft::node_id>& voters, int64_t term);

  uv::loop& loop_;
  partition_manager& pm_;
  broker_service& svc_;
  replication::raft_host& host_;
  controller::service& ctl_;
  rpc::transport& transport_;
  replica_manager_options opt_;
  std::map<uint64_t, replica> replicas_;   // by Raft group id
  std::map<uint64_t, reported> reported_;  // other nodes' leaderships, by Raft group id
  uv::timer balance_timer_;
  uv::timer report_timer_;
  uv::timer report_soon_;
  uv::timer moves_timer_;
  std::map<uint64_t, placed> placed_;  // every partition of the metadata
  std::set<uint64_t> removing_;
  std::set<std::string, std::less<>> creating_;  // topics submitted to the controller, not yet decided
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);  // for the controller's callbacks
};

}  // namespace tributary::cluster::broker
