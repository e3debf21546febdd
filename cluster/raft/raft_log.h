#pragma once
// raft_log: the log as the core sees it — the durable part in log_storage, followed by the entries
// (and possibly a snapshot) the core has accepted but not yet seen persisted ("unstable"). It also
// keeps the commit and applied indexes. Internal to the core.
//
//   storage:   [first_index ........ unstable_offset-1]          (durable, read on demand)
//   unstable:                       [unstable_offset ... last_index]  (in memory until advance())
//
// Everything below unstable_offset is in storage and identical to what the core believes; storage
// may briefly hold stale entries at and above unstable_offset (an overwritten suffix the caller has
// not yet truncated), which are never read.
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
  log_index last_index() const {
    return log_index{unstable_offset_.value + static_cast<int64_t>(unstable_.size()) - 1};
  }
  raft::term last_term() const;
  // errc::compacted below first_index() - 1, errc::unavailable above last_index().
  result<raft::term> term_at(log_index i) const;
  bool matches(log_index i, raft::term t) const;
  // Whether a log ending at (last, last_term) is at least as up to date as this one (§5.4.1).
  bool is_up_to_date(log_index last, raft::term last_term) const;
  result<std::vector<entry>> entries(log_index lo, log_index hi, size_t max_bytes) const;

  // The index of the first entry of `ents` whose term differs from ours or that we do not hold;
  // nullopt when we already hold them all.
  std::optional<log_index> find_conflict(std::span<const entry> ents) const;
  // The last index <= i whose term is <= t (the fast-backtracking probe of the Raft thesis §3.5
  // optimisation, by term), with that term; stops at the log start.
  std::pair<log_index, raft::term> find_conflict_by_term(log_index i, raft::term t) const;
  // Appends contiguous entries; the first may overwrite an uncommitted suffix.
  void append(std::span<const entry> ents);
  void append(entry e);

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
  // The last index known durable and still part of this log.
  log_index durable_last_index() const { return prev_index(unstable_offset_); }
  bool has_entries_to_apply() const { return !pending_snapshot_ && applied_ < committed_; }
  result<std::vector<entry>> entries_to_apply(size_t max_bytes) const;

 private:
  size_t unsent_count() const { return unstable_.size() - unstable_sent_; }
  const entry& unstable_at(log_index i) const {
    return unstable_[static_cast<size_t>(i.value - unstable_offset_.value)];
  }

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
