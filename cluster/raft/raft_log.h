#pragma once
// raft_log: the log as the core sees it — the durable part in log_storage, followed by the entries
// (and possibly a snapshot) the core has accepted but not yet seen persisted ("unstable"). It also
// keeps the commit and applied indexes. Internal to the core.
//
//   storage:   [first_index ........ unstable_offset-1]          (durable, read on demand)
//   unstable:                       [unstable_offset ... last_index]  (in memory until advance())
//
// Positions are offsets and entries cover one or more of them (see types.h); unstable_offset is
// always the first offset of an entry (or last_index + 1). Everything below unstable_offset is in
// storage and identical to what the core believes; storage may briefly hold stale entries at and
// above unstable_offset (an overwritten suffix the caller has not yet truncated), which are never
// read.
//
// Entry boundaries. Two logs that hold an entry of the same term covering the same offset hold the
// same entry: a term has one leader, which puts each of its entries at one place in its log and
// never rewrites its own log, and every other copy descends from that one. So comparing terms at
// an offset (term_at, matches) is comparing entries, and positions that a leader and a follower
// agree on are entry boundaries in both logs. Raft logs also never decrease in term, which is what
// lets find_conflict_by_term binary-search.
#include <deque>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "cluster/raft/storage.h"

namespace tributary::cluster::raft {

class raft_log {
 public:
  raft_log(const log_storage& storage, log_index committed, log_index applied);

  log_index first_index() const;
  // The last offset of the last entry.
  log_index last_index() const {
    return unstable_.empty() ? prev_index(unstable_offset_) : unstable_.back().last();
  }
  raft::term last_term() const;
  // The term of the entry covering offset i. errc::compacted below first_index() - 1,
  // errc::unavailable above last_index().
  result<raft::term> term_at(log_index i) const;
  // Whether our entry covering offset i has term t (then it is the entry the sender means).
  bool matches(log_index i, raft::term t) const;
  // Whether a log ending at (last, last_term) is at least as up to date as this one (§5.4.1).
  // Equal last terms mean both end in entries of one leader's log, so the higher last offset holds
  // more of them.
  bool is_up_to_date(log_index last, raft::term last_term) const;
  // The entries covering [lo, hi) (see log_storage::entries: the first covers lo and may start
  // before it).
  result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const;

  // The position in `ents` (contiguous, from a leader) of the first entry we do not hold: its term
  // differs from ours at its first offset, or we have nothing there. ents.size() when we hold
  // them all.
  size_t find_conflict(std::span<const entry> ents) const;
  // The last offset <= i whose term is <= t, with that term: the fast-backtracking probe of the
  // Raft thesis (§3.5, by term). Found by binary search, so it costs O(log n) term lookups. Unless
  // it is min(i, last_index()) itself, the answer is the last offset of an entry (the term
  // changes right after it). Below the log start the term is unknown: (first_index() - 2, 0) then
  // means "somewhere before the log start", which sends a leader to its snapshot.
  std::pair<log_index, raft::term> find_conflict_by_term(log_index i, raft::term t) const;
  // Appends contiguous entries; the first may overwrite an uncommitted suffix, from an entry's
  // first offset.
  void append(std::span<const entry> ents);
  void append(entry e);

  // The commit and applied indexes are always the last offset of an entry.
  log_index committed() const { return committed_; }
  void commit_to(log_index i);
  log_index applied() const { return applied_; }
  void applied_to(log_index i);

  // Replaces the log with a snapshot (the follower's log did not contain its last entry).
  void restore(raft::snapshot s);
  const std::optional<raft::snapshot>& pending_snapshot() const { return pending_snapshot_; }

  // --- the ready()/advance() cycle -----------------------------------------------------------
  bool has_unsent() const { return unsent_count() > 0 || (pending_snapshot_ && !snapshot_sent_); }
  // The unstable entries and snapshot not yet handed to the caller; marks them handed out.
  std::vector<entry> take_unsent_entries();
  std::optional<raft::snapshot> take_unsent_snapshot();
  // The caller persisted these (handed out earlier): drop the unstable prefix that still matches.
  void stable_to(std::span<const entry> persisted);
  void stable_snapshot_to(log_index i);
  // The last offset known durable and still part of this log.
  log_index durable_last_index() const { return prev_index(unstable_offset_); }
  bool has_entries_to_apply() const { return !pending_snapshot_ && applied_ < committed_; }
  result<std::vector<entry>> entries_to_apply(size_t max_bytes) const;

 private:
  size_t unsent_count() const { return unstable_.size() - unstable_sent_; }
  // The position in unstable_ of the entry covering offset i (unstable_offset_ <= i <= last).
  size_t unstable_position(log_index i) const;

  const log_storage& storage_;
  std::optional<raft::snapshot> pending_snapshot_;
  bool snapshot_sent_ = false;
  log_index unstable_offset_;
  std::deque<entry> unstable_;
  size_t unstable_sent_ = 0;  // how many of unstable_ (from the front) were handed out
  log_index committed_;
  log_index applied_;
};

}  // namespace tributary::cluster::raft
