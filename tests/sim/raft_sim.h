#pragma once
// A deterministic simulator for the Raft core (cluster/raft). One seed fixes everything: the
// network (loss, delay, duplication, reordering, symmetric and one-way partitions), crashes and
// restarts that lose unsynced writes (and can tear them), clock skew between nodes, and the
// client workload (proposals, membership changes, leadership transfers, reads, log compaction).
//
// A run has two phases:
//   chaos — `steps` events with faults;
//   heal  — faults stop, crashed nodes restart, the network becomes reliable; a leader must be
//           elected and a new proposal committed and applied by every member within a bound.
//
// After every event the checkers look at the cluster:
//   election safety     — at most one leader per term, and no node grants its vote to two
//                         candidates in one term (even across a crash);
//   log matching        — two durable logs with an entry of the same index and term hold the same
//                         entries up to it (checked with a hash chain when entries reach a disk);
//   leader completeness — a new leader holds every entry committed so far;
//   state machine safety — no two nodes apply different entries at one index, applies are
//                         gap-free, and an installed snapshot matches what was applied;
//   committed survives  — at the end the final leader has every entry ever reported committed
//                         (crashes included), and every member applied it;
//   linearizable reads  — a read index is never below an index committed before the read began.
// A failure prints the seed, the violation and the last events (the trace).
#include <cstdint>
#include <string>

#include "cluster/raft/node.h"

namespace tributary::sim {

struct raft_sim_options {
  int nodes = 3;
  int64_t steps = 2000;                // chaos-phase events
  int64_t heal_bound_ms = 15000;       // virtual time allowed for the heal phase
  size_t trace_events = 200;           // events kept for the failure report
  bool trace_all = false;              // print every event as it happens (debugging)
  cluster::raft::testing_knobs knobs;  // planted bugs
};

// Feature coverage, summed over seeds, so that a test can insist the schedules exercise them.
struct raft_sim_stats {
  int64_t events = 0;
  int64_t elections_won = 0;
  int64_t max_term = 0;
  int64_t entries_committed = 0;
  int64_t messages_sent = 0;
  int64_t messages_dropped = 0;
  int64_t messages_duplicated = 0;
  int64_t crashes = 0;
  int64_t unsynced_writes_lost = 0;  // crashes with a ready handed out but not yet durable
  int64_t torn_writes = 0;           // ... of which part reached the disk
  int64_t partitions = 0;
  int64_t one_way_partitions = 0;
  int64_t config_changes_committed = 0;
  int64_t transfers_started = 0;
  int64_t timeout_nows_sent = 0;
  int64_t snapshots_sent = 0;
  int64_t snapshots_installed = 0;
  int64_t compactions = 0;
  int64_t append_rejections = 0;
  int64_t pre_votes_refused = 0;
  int64_t reads_confirmed = 0;
  int64_t heal_to_commit_ms_max = 0;

  void add(const raft_sim_stats& o);
};

struct raft_sim_result {
  bool ok = true;
  std::string violation;  // what broke, when ok is false
  std::string trace;      // the last events before it
  raft_sim_stats stats;
};

raft_sim_result run_raft_sim(uint64_t seed, const raft_sim_options& options);

}  // namespace tributary::sim
