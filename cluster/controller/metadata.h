#pragma once
// The cluster's metadata as the controller's Raft group (group 0) replicates it: the nodes, the
// topics, the replicas of every partition (the first replica is the preferred leader) and each
// partition's Raft group id. Pure: every node applies the same committed commands in the same order
// and gets the same state; a snapshot is the whole state as JSON.
//
// Commands are small JSON documents (`{"v":1,"op":"create_topic",...}`), one per group-0 entry. JSON
// because the metadata is small and rarely written, and an operator can read the log with kcat. A
// command that does not apply (a topic that exists, an unknown node) leaves the state unchanged; its
// error is the command's outcome, answered to whoever proposed it.
//
// Placement (place(), plan_*()) is computed by the leader before it proposes, and the command carries
// the result, so followers never recompute it.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/raft/types.h"
#include "common/result.h"

namespace tributary::cluster::controller {

using raft::node_id;

enum class errc {
  malformed_command = 1,  // a command that does not decode (bad JSON, missing or mistyped field)
  unknown_node,           // a command names a node that is not registered (or was removed)
  topic_exists,           // TOPIC_ALREADY_EXISTS
  unknown_topic,          // UNKNOWN_TOPIC_OR_PARTITION
  invalid_assignment,     // replicas empty, duplicated, or a partition out of range
  invalid_replication,    // INVALID_REPLICATION_FACTOR: more replicas than live nodes, or < 1
  invalid_partitions,     // INVALID_PARTITIONS
  node_has_replicas,      // remove_node while the node still holds replicas (move them first)
  malformed_snapshot,     // a snapshot that does not decode
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::controller

template <>
struct tributary::errc_info<tributary::cluster::controller::errc> {
  static constexpr const char* name = "controller";
  static const char* message(tributary::cluster::controller::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::controller::errc> : std::true_type {};

namespace tributary::cluster::controller {

struct node_record {
  node_id id;
  std::string kafka_address;  // host:port that clients use (Metadata)
  std::string rpc_address;    // host:port of the cluster RPC listener
  bool removed = false;       // removed by an operator (after its replicas moved away)
  friend bool operator==(const node_record&, const node_record&) = default;
};

struct partition_record {
  std::vector<node_id> replicas;  // replicas[0] is the preferred leader
  uint64_t group = 0;             // the partition's Raft group id (never reused)
  friend bool operator==(const partition_record&, const partition_record&) = default;
};

struct topic_record {
  std::string name;
  std::string id;  // 32 hex digits
  int64_t created_ms = 0;
  std::map<std::string, std::string> configs;  // Kafka config names and values, as set at creation
  std::vector<partition_record> partitions;
  friend bool operator==(const topic_record&, const topic_record&) = default;
};

// ---- commands
struct register_node {
  node_id node;
  std::string kafka_address;
  std::string rpc_address;
};
struct remove_node {
  node_id node;
};
struct create_topic {
  std::string name;
  std::string id;
  int64_t created_ms = 0;
  std::map<std::string, std::string> configs;
  std::vector<std::vector<node_id>> replicas;  // one list per partition (from place())
};
struct delete_topic {
  std::string name;
};
// The target replicas of one partition (a move: the partition's leader carries it out through Raft
// membership changes, one server at a time).
struct set_replicas {
  std::string topic;
  int32_t partition = 0;
  std::vector<node_id> replicas;
};
using command = std::variant<register_node, remove_node, create_topic, delete_topic, set_replicas>;

std::vector<uint8_t> encode(const command& c);
result<command> decode(std::span<const uint8_t> bytes);

class metadata {
 public:
  // Applies one committed command. An error leaves the state as it was.
  result<void> apply(const command& c);

  const std::map<node_id, node_record>& nodes() const { return nodes_; }
  const std::map<std::string, topic_record, std::less<>>& topics() const { return topics_; }
  const node_record* find_node(node_id id) const;
  const topic_record* find_topic(std::string_view name) const;
  // Nodes that can take replicas, in id order.
  std::vector<node_id> live_nodes() const;
  uint64_t next_group() const { return next_group_; }

  // How many replicas, and how many preferred leaderships, each live node holds.
  struct load {
    size_t replicas = 0;
    size_t leaders = 0;
  };
  std::map<node_id, load> loads() const;

  // The whole state (a group-0 snapshot), and back.
  nlohmann::json to_json() const;
  static result<metadata> from_json(const nlohmann::json& j);

  friend bool operator==(const metadata&, const metadata&) = default;

 private:
  std::map<node_id, node_record> nodes_;
  std::map<std::string, topic_record, std::less<>> topics_;
  uint64_t next_group_ = 1;  // group 0 is the controller
};

// Replicas for `partitions` new partitions of `replication_factor` each, spread over the live nodes so
// that replicas and preferred leaderships stay as even as possible across the whole cluster (counting
// every existing topic): each partition's leader is the node leading the fewest partitions, its
// followers the nodes holding the fewest replicas. Deterministic (ties go to the lower id, rotated by
// the partition so that followers differ).
result<std::vector<std::vector<node_id>>> place(const metadata& m, int32_t partitions,
                                                int32_t replication_factor);

// The moves that give a newly added node its share of replicas (and of preferred leaderships): each
// replaces one replica of a partition on the most loaded node. Empty when already balanced.
std::vector<set_replicas> plan_add_node(const metadata& m, node_id added);
// The moves that take every replica off `removed`, each to the least loaded live node not already a
// replica of that partition. Fails with invalid_replication when a partition would have nowhere to go.
result<std::vector<set_replicas>> plan_remove_node(const metadata& m, node_id removed);

}  // namespace tributary::cluster::controller
