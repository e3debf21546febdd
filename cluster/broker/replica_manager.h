#pragma once
// Cluster mode: the partitions this node holds a replica of, each a Raft group over its segment log
// (hosted by the node's raft_host), kept in line with the controller's metadata.
//
//  - reconcile() (after every metadata change and at start): a topic in the metadata that this node
//    does not know yet is created locally with only the partitions placed on this node (the others
//    have no directory here), and every hosted partition gets its Raft group, whose first members are
//    the partition's replicas.
//  - Topics are created through the controller: create_topic() validates, places the replicas
//    (controller::place) and submits the command; the topic appears once it is committed and
//    reconciled on each replica (as Kafka's CreateTopics with timeout 0).
//  - Preferred leaders: a leader that is not its partition's first replica hands leadership back to
//    it once it is caught up, so leaderships stay spread as placed (after a node restarts, say).
//
// Work in progress (issue 9): Produce and Fetch do not go through the Raft groups yet; internal
// topics (__consumer_offsets) stay local to each node.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/broker/partition_manager.h"
#include "cluster/controller/service.h"
#include "cluster/replication/raft_host.h"
#include "common/uv/timer.h"

namespace tributary::cluster::broker {

class replica_manager {
 public:
  replica_manager(uv::loop& l, partition_manager& pm, replication::raft_host& host, controller::service& ctl,
                  int32_t default_replication_factor, uint64_t balance_interval_ms);
  ~replica_manager();

  void reconcile();
  // Validates and submits a new topic to the controller. -1 replication factor: min(3, live nodes).
  result<void> create_topic(std::string_view name, int32_t partitions, int32_t replication_factor,
                            const topic_config& cfg);
  // Every hosted partition: replicas, leader, term, commit and log end (for /v1/cluster).
  nlohmann::json status() const;

 private:
  struct replica {
    std::string topic;
    int32_t partition = 0;
    std::vector<raft::node_id> replicas;
    replication::hosted_group* group = nullptr;
  };
  void balance_leaders();

  uv::loop& loop_;
  partition_manager& pm_;
  replication::raft_host& host_;
  controller::service& ctl_;
  int32_t default_replication_factor_;
  std::map<uint64_t, replica> replicas_;  // by Raft group id
  uv::timer balance_timer_;
};

}  // namespace tributary::cluster::broker
