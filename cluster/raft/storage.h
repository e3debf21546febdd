#pragma once
// The durable log as the Raft core sees it. The caller implements it: later the partition's segment
// log (and a small metadata file for the hard state and snapshot metadata), in tests and the
// simulator `memory_storage`. The core only reads through this interface; the caller writes what
// each ready() asks it to persist (see node.h) and then calls node::advance().
//
// The core never assumes the whole log is in memory: it reads entries here on demand (to replicate
// to followers, to hand out committed entries) and keeps only the entries it has not yet seen
// persisted.
#include <cstddef>
#include <deque>
#include <span>
#include <vector>

#include "cluster/raft/errc.h"
#include "cluster/raft/types.h"

namespace tributary::cluster::raft {

class log_storage {
 public:
  virtual ~log_storage() = default;

  // The hard state last persisted (all zero for a new node).
  virtual hard_state saved_hard_state() const = 0;
  // The latest snapshot's metadata. A new group is bootstrapped by giving each initial member a
  // storage whose snapshot metadata is index 0, term 0 and the initial membership; a node that joins
  // later starts with an empty membership and learns it from the leader.
  virtual snapshot_metadata snapshot_meta() const = 0;
  // The latest snapshot with its data, to send to a follower that is behind the log start.
  // errc::snapshot_unavailable when it cannot be produced right now (the leader retries later).
  virtual result<raft::snapshot> latest_snapshot() const = 0;

  // The first index still held in the log; first_index() - 1 is the last compacted entry, whose
  // term term_at() must still know. first_index() <= snapshot_meta().index + 1.
  virtual log_index first_index() const = 0;
  // The last index in the log (first_index() - 1 when the log is empty).
  virtual log_index last_index() const = 0;
  // The term of the entry at i, for i in [first_index() - 1, last_index()]; errc::compacted below,
  // errc::unavailable above.
  virtual result<raft::term> term_at(log_index i) const = 0;
  // Entries [lo, hi), stopping early once max_bytes (entry::byte_size) would be exceeded, but
  // always at least one entry when lo < hi. errc::compacted if lo < first_index(),
  // errc::unavailable if hi > last_index() + 1.
  virtual result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const = 0;

  // The config entries in [lo, hi), read once when a node starts. The default scans entries() in
  // chunks; the segment log can answer from batch headers alone.
  virtual result<std::vector<entry>> config_entries(log_index lo, log_index hi) const;
};

// An in-memory log_storage for tests, the simulator and the benchmark. The writers are what a
// caller does with a ready(): apply_snapshot, append, set_hard_state, in that order.
class memory_storage final : public log_storage {
 public:
  // An empty log whose snapshot is index 0, term 0 with the given (bootstrap) membership.
  explicit memory_storage(membership bootstrap = {});

  hard_state saved_hard_state() const override { return hard_state_; }
  snapshot_metadata snapshot_meta() const override { return snapshot_.metadata; }
  result<raft::snapshot> latest_snapshot() const override { return snapshot_; }
  log_index first_index() const override { return next_index(offset_); }
  log_index last_index() const override {
    return log_index{offset_.value + static_cast<int64_t>(entries_.size())};
  }
  result<raft::term> term_at(log_index i) const override;
  result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const override;

  void set_hard_state(const hard_state& hs) { hard_state_ = hs; }
  // Appends contiguous entries. The first may overwrite: every entry from its index on is dropped
  // first. errc::unavailable if it would leave a gap, errc::compacted if it reaches into the
  // compacted prefix.
  result<void> append(std::span<const entry> entries);
  // Replaces the whole log with a snapshot received from the leader. errc::snapshot_out_of_date if
  // it is not newer than the snapshot held.
  result<void> apply_snapshot(raft::snapshot s);
  // Records a snapshot of the application's state at `index` (<= last_index(), >= the current
  // snapshot's index) whose configuration is `config`. The log is not compacted; see compact().
  result<void> create_snapshot(log_index index, membership config, raft::payload data);
  // Drops the entries up to and including `through`, which must not pass the snapshot (else a
  // follower could need entries that neither the log nor the snapshot holds). A `through` at or
  // below the log start is a no-op.
  result<void> compact(log_index through);

 private:
  const entry& at(log_index i) const { return entries_[static_cast<size_t>(i.value - offset_.value - 1)]; }

  hard_state hard_state_;
  raft::snapshot snapshot_;
  log_index offset_;        // the index before entries_.front(): the last compacted entry
  raft::term offset_term_;  // its term
  std::deque<entry> entries_;
};

}  // namespace tributary::cluster::raft
