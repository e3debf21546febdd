#pragma once
// A deterministic simulator for the Raft core (cluster/raft). One seed fixes everything: the
// network (loss, delay, duplication, reordering, symmetric and one-way partitions), crashes and
// restarts that lose unsynced writes (and can tear them), clock skew between nodes, the client
// workload (proposals, membership changes, leadership transfers, reads, log compaction), the
// widths of proposed entries (in most seeds they span several offsets, as Kafka batches: 1..8, or
// mostly small with some up to 500) and the offset where the group's log starts (0, or sometimes
// far above, while a node that joins later starts at 0).
//
// A run has two phases:
//   chaos — `steps` events with faults;
//   heal  — faults stop, crashed nodes restart, the network becomes reliable; a leader must be
//           elected and a new proposal committed and applied by every member within a bound.
//
// After every event the checkers look at the cluster (positions are offsets; an entry covers
// [index, last]):
//   election safety     — at most one leader per term, and no node grants its vote to two
//                         candidates in one term (even across a crash);
//   offset contiguity   — every batch written to a disk starts right after an entry end of that
//                         disk's log and each entry right after the previous one's last offset;
//                         applies are gap-free in offsets;
//   entry shape         — two entries of one term that share an offset (on any disks) are the same
//                         entry: same first and last offsets;
//   log matching        — two durable logs with an entry ending at the same offset with the same
//                         term hold the same entries up to it (a hash chain over entries, widths
//                         included, checked when entries reach a disk);
//   leader completeness — a new leader holds every entry committed so far, entry by entry;
//   state machine safety — what the nodes apply tiles the offsets: no two nodes apply different
//                         entries, or entries with other bounds, at overlapping offsets, and an
//                         installed snapshot ends where a committed entry ends and matches what
//                         was applied up to it;
//   commit at entry ends — every node's commit index (and every read index) is the last offset of
//                         an entry;
//   committed survives  — at the end the final leader has every entry ever reported committed
//                         (crashes included), and every member applied it;
//   linearizable reads  — a read index is never below an offset committed before the read began.
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
  int64_t offsets_committed = 0;       // the offsets those entries cover
  int64_t wide_entries_committed = 0;  // ... entries with a width above 1
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
