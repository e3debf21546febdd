#pragma once
// progress: what a leader knows about one member's log, and how it sends to it. Internal to the
// core. The three states follow etcd's raft design:
//   probe      — the leader does not know where the logs match; one append at a time, and the next
//                only after a response or a heartbeat response;
//   replicate  — the logs match up to `match`; appends are pipelined, up to max_inflight at once,
//                and `next` moves forward optimistically as they are sent;
//   snapshot   — the member is behind the log start; a snapshot is on its way and nothing else is
//                sent until it is acknowledged or given up on.
// Positions are offsets (types.h): `match` is always the last offset of an entry, `next` the first
// offset of one (or the leader's last offset + 1), except right after a rejection, when the probe
// hint may point inside an entry; node::send_append then moves `next` back to that entry's start.
#include <cstddef>
#include <vector>

#include "cluster/raft/types.h"

namespace tributary::cluster::raft {

// A ring of the last offset of each append in flight, oldest first. Bounded by construction.
class inflight_window {
 public:
  explicit inflight_window(size_t capacity) : ring_(capacity) {}
  bool full() const { return count_ == ring_.size(); }
  size_t count() const { return count_; }
  void add(log_index last);
  // Frees every append whose last offset is <= i (they were all delivered or superseded).
  void free_through(log_index i);
  void free_first();
  void reset() { start_ = count_ = 0; }

 private:
  std::vector<log_index> ring_;
  size_t start_ = 0;
  size_t count_ = 0;
};

enum class progress_state : uint8_t { probe, replicate, snapshot };

struct progress {
  explicit progress(size_t max_inflight) : inflight(max_inflight) {}

  log_index match = no_index;  // the last offset known durable on the member and matching our log
  log_index next;              // the next offset to send
  progress_state state = progress_state::probe;
  bool probe_sent = false;                // probe: an append is out; wait for an answer before the next
  log_index pending_snapshot = no_index;  // snapshot: the last offset of the snapshot sent
  int snapshot_ticks = 0;                 // snapshot: ticks since it was sent (it is retried after a while)
  bool recent_active = false;             // heard from since the last check-quorum round
  bool learner = false;
  uint64_t read_acked = 0;  // the highest read sequence it echoed in this term
  inflight_window inflight;

  // Records a successful append response; false if it tells nothing new.
  bool update(log_index n);
  // Records a rejection of the append whose previous offset was `rejected`; `probe_hint` is where
  // the leader's log and the member's hint suggest to probe next (it may be inside an entry). False
  // if the rejection is stale.
  bool decrease_to(log_index rejected, log_index probe_hint);
  // Whether nothing may be sent now.
  bool paused() const;
  // An append covering up to offset `last` was just sent.
  void sent_entries(log_index last);

  void become_probe();
  void become_replicate();
  void become_snapshot(log_index snapshot_index);
};

}  // namespace tributary::cluster::raft
