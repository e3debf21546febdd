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

  // The hard state last persisted (term 0, no vote, commit no_index for a new node).
  virtual hard_state saved_hard_state() const = 0;
  // The latest snapshot's metadata. A new group is bootstrapped by giving each initial member a
  // storage whose snapshot metadata is index first - 1 (no_index for a log that starts at offset
  // 0), term 0 and the initial membership; a node that joins later starts with an empty
  // membership and learns it (and where the log starts) from the leader.
  virtual snapshot_metadata snapshot_meta() const = 0;
  // The latest snapshot with its data, to send to a follower that is behind the log start.
  // errc::snapshot_unavailable when it cannot be produced right now (the leader retries later).
  virtual result<raft::snapshot> latest_snapshot() const = 0;

  // Positions are offsets (see types.h): an entry covers [index, last()] and the next starts at
  // last() + 1. For a segment log: first_index() is the log start offset, last_index() the log end
  // offset - 1, term_at() the epoch of the batch holding an offset, entries() a read of whole
  // batches (the README sketches the adapter).
  //
  // The first offset still held: the first entry's index. first_index() - 1 is the last offset of
  // the last compacted entry (or of the snapshot), whose term term_at() must still know.
  // first_index() <= snapshot_meta().index + 1.
  virtual log_index first_index() const = 0;
  // The last offset of the last entry (first_index() - 1 when the log is empty).
  virtual log_index last_index() const = 0;
  // The term of the entry covering offset i, for i in [first_index() - 1, last_index()];
  // errc::compacted below, errc::unavailable above. (Terms never decrease along a log, which lets
  // the core binary-search them.)
  virtual result<raft::term> term_at(log_index i) const = 0;
  // The entries covering offsets [lo, hi), in order: the first is the entry covering lo (it starts
  // before lo if lo is inside it, as a segment log's read does; the core asks for that only to move
  // a backtracking probe back to an entry's start), the last is the last one starting below hi.
  // Stops early once max_bytes (entry::byte_size) would be exceeded, but always returns at least
  // one entry when lo < hi. errc::compacted if lo < first_index(), errc::unavailable if
  // hi > last_index() + 1.
  virtual result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const = 0;

  // The config entries starting in [lo, hi), read once when a node starts; lo is an entry's first
  // offset. The default scans entries() in chunks; the segment log can answer from batch headers.
  virtual result<std::vector<entry>> config_entries(log_index lo, log_index hi) const;
};

// The position in `ents` (contiguous entries, non-empty) of the entry covering offset i, which must
// lie in [ents.front().index, ents.back().last()]. Guesses from the average width first (exact
// when widths are uniform), then binary-searches: O(1) for uniform widths, O(log n) at worst.
size_t position_covering(const std::deque<entry>& ents, log_index i);

// An in-memory log_storage for tests, the simulator and the benchmark. The writers are what a
// caller does with a ready(): apply_snapshot, append, set_hard_state, in that order. It enforces
// what a segment log enforces: appends and truncations at entry boundaries, offsets contiguous.
class memory_storage final : public log_storage {
 public:
  // An empty log whose first entry will be at `start` (its snapshot is index start - 1, term 0,
  // with the given bootstrap membership).
  explicit memory_storage(membership bootstrap = {}, log_index start = log_index{0});

  hard_state saved_hard_state() const override { return hard_state_; }
  snapshot_metadata snapshot_meta() const override { return snapshot_.metadata; }
  result<raft::snapshot> latest_snapshot() const override { return snapshot_; }
  log_index first_index() const override { return next_index(offset_); }
  log_index last_index() const override { return entries_.empty() ? offset_ : entries_.back().last(); }
  result<raft::term> term_at(log_index i) const override;
  result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const override;

  void set_hard_state(const hard_state& hs) { hard_state_ = hs; }
  // Appends contiguous entries (each starts right after the previous one's last offset). The
  // first may overwrite: every entry from its index on is dropped first, so its index must be an
  // entry's first offset or last_index() + 1 (errc::not_entry_boundary otherwise, as a segment
  // log's truncate_suffix). errc::unavailable if it would leave a gap, errc::compacted if it reaches
  // into the compacted prefix, errc::invalid_width for a bad width.
  result<void> append(std::span<const entry> entries);
  // Replaces the whole log with a snapshot received from the leader. errc::snapshot_out_of_date if
  // it is not newer than the snapshot held.
  result<void> apply_snapshot(raft::snapshot s);
  // Records a snapshot of the application's state at `index` (<= last_index(), >= the current
  // snapshot's index, the last offset of an entry: errc::not_entry_boundary otherwise) whose
  // configuration is `config`. The log is not compacted; see compact().
  result<void> create_snapshot(log_index index, membership config, raft::payload data);
  // Drops the entries up to and including offset `through`, which must be an entry's last offset
  // (errc::not_entry_boundary) and must not pass the snapshot (else a follower could need entries
  // that neither the log nor the snapshot holds). A `through` at or below the log start is a no-op.
  result<void> compact(log_index through);

 private:
  // The position in entries_ of the entry covering offset i (first_index() <= i <= last_index()).
  size_t position_of(log_index i) const;
  // Whether i is the last offset of an entry held, or of the compacted prefix.
  bool is_entry_end(log_index i) const;

  hard_state hard_state_;
  raft::snapshot snapshot_;
  log_index offset_;        // the last offset before entries_.front(): the last compacted one
  raft::term offset_term_;  // its term
  std::deque<entry> entries_;
};

}  // namespace tributary::cluster::raft
