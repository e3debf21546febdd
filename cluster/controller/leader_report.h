#pragma once
// Leader reports: each node tells every other node, about twice a second and soon after a change,
// which partitions it leads (the partition's Raft group, the term, the replicas in sync and how far
// each replica is behind). A node
// answers Metadata for partitions it holds no replica of from these reports (the highest term
// wins), so a client can ask any node. A pure codec: JSON bytes in and out, never throwing.
#include <cstdint>
#include <span>
#include <vector>

#include "cluster/controller/metadata.h"
#include "common/result.h"

namespace tributary::cluster::controller {

struct replica_lag {
  node_id replica;
  int64_t behind = 0;  // offsets behind the leader's log end; -1 = unknown
  friend bool operator==(const replica_lag&, const replica_lag&) = default;
};

struct led_partition {
  uint64_t group = 0;
  int64_t term = 0;
  std::vector<node_id> isr;      // the leader first
  std::vector<replica_lag> lag;  // every replica but the leader
  std::vector<node_id> voters;   // the group's voters now (a replica not among them was moved away)
  friend bool operator==(const led_partition&, const led_partition&) = default;
};

struct leader_report {
  node_id from;
  std::vector<led_partition> led;
  friend bool operator==(const leader_report&, const leader_report&) = default;
};

std::vector<uint8_t> encode(const leader_report& r);
// errc::malformed_command for anything that is not a well-formed report.
result<leader_report> decode_leader_report(std::span<const uint8_t> bytes);

}  // namespace tributary::cluster::controller
