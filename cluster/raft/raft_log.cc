#include "cluster/raft/raft_log.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::raft {

raft_log::raft_log(const log_storage& storage, log_index committed, log_index applied)
    : storage_(storage),
      unstable_offset_(next_index(storage.last_index())),
      committed_(committed),
      applied_(applied) {
  TRIB_ASSERT(applied_ <= committed_, "applied index beyond commit");
  TRIB_ASSERT(committed_ <= last_index(), "commit index beyond the log");
}

log_index raft_log::first_index() const {
  if (pending_snapshot_) return next_index(pending_snapshot_->metadata.index);
  return storage_.first_index();
}

raft::term raft_log::last_term() const {
  auto t = term_at(last_index());
  TRIB_ASSERT(t.has_value(), "the last entry's term must be known");
  return *t;
}

result<raft::term> raft_log::term_at(log_index i) const {
  if (pending_snapshot_ && i == pending_snapshot_->metadata.index) return pending_snapshot_->metadata.term;
  if (i >= unstable_offset_) {
    if (i > last_index()) return fail(errc::unavailable);
    return unstable_at(i).term;
  }
  if (pending_snapshot_) return fail(errc::compacted);
  return storage_.term_at(i);
}

bool raft_log::matches(log_index i, raft::term t) const {
  auto got = term_at(i);
  return got && *got == t;
}

bool raft_log::is_up_to_date(log_index last, raft::term t) const {
  raft::term mine = last_term();
  return t > mine || (t == mine && last >= last_index());
}

result<std::vector<entry>> raft_log::entries(log_index lo, log_index hi, size_t max_bytes) const {
  if (lo < first_index()) return fail(errc::compacted);
  if (hi > next_index(last_index())) return fail(errc::unavailable);
  std::vector<entry> out;
  if (lo >= hi) return out;
  size_t bytes = 0;
  if (lo < unstable_offset_) {
    log_index stable_hi = std::min(hi, unstable_offset_);
    out = TRIB_TRY(storage_.entries(lo, stable_hi, max_bytes));
    TRIB_ASSERT(!out.empty() && out.front().index == lo, "storage returned the wrong entries");
    for (const entry& e : out) bytes += e.byte_size();
    if (next_index(out.back().index) < stable_hi) return out;  // the byte limit cut the stable part
    lo = stable_hi;
  }
  for (log_index i = lo; i < hi; i = next_index(i)) {
    const entry& e = unstable_at(i);
    if (!out.empty() && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return out;
}

std::optional<log_index> raft_log::find_conflict(std::span<const entry> ents) const {
  for (const entry& e : ents) {
    if (!matches(e.index, e.term)) return e.index;
  }
  return std::nullopt;
}

std::pair<log_index, raft::term> raft_log::find_conflict_by_term(log_index i, raft::term t) const {
  i = std::min(i, last_index());
  log_index floor = prev_index(first_index());
  // Walks down at most last_index() - first_index() + 2 entries. Below the log start the term is
  // unknown: (i, 0) then means "somewhere at or below i", which sends the leader to its snapshot.
  for (; i >= floor; i = prev_index(i)) {
    auto ti = term_at(i);
    if (!ti) return {i, raft::term{0}};
    if (*ti <= t) return {i, *ti};
  }
  return {i, raft::term{0}};
}

void raft_log::append(std::span<const entry> ents) {
  if (ents.empty()) return;
  log_index first = ents.front().index;
  TRIB_ASSERT(first > committed_, "attempt to overwrite a committed entry");
  TRIB_ASSERT(first <= next_index(last_index()), "append would leave a gap in the log");
  if (first <= unstable_offset_) {
    // The new entries replace all of unstable (and a stale suffix of storage, if first is below it).
    unstable_.clear();
    unstable_sent_ = 0;
    unstable_offset_ = first;
  } else {
    unstable_.resize(static_cast<size_t>(first.value - unstable_offset_.value));
    unstable_sent_ = std::min(unstable_sent_, unstable_.size());
  }
  for (const entry& e : ents) {
    TRIB_ASSERT(e.index == next_index(last_index()), "entries to append are not contiguous");
    unstable_.push_back(e);
  }
}

void raft_log::append(entry e) {
  TRIB_ASSERT(e.index == next_index(last_index()), "a leader appends at the end of its log");
  unstable_.push_back(std::move(e));
}

void raft_log::commit_to(log_index i) {
  if (i <= committed_) return;  // the commit index never moves back
  TRIB_ASSERT(i <= last_index(), "commit index beyond the log");
  committed_ = i;
}

void raft_log::applied_to(log_index i) {
  TRIB_ASSERT(i <= committed_, "applied beyond commit");
  if (i > applied_) applied_ = i;
}

void raft_log::restore(raft::snapshot s) {
  TRIB_ASSERT(s.metadata.index > committed_, "restoring a snapshot the log already covers");
  committed_ = s.metadata.index;
  unstable_.clear();
  unstable_sent_ = 0;
  unstable_offset_ = next_index(s.metadata.index);
  pending_snapshot_ = std::move(s);
  snapshot_sent_ = false;
}

std::vector<entry> raft_log::take_unsent_entries() {
  std::vector<entry> out(unstable_.begin() + static_cast<ptrdiff_t>(unstable_sent_), unstable_.end());
  unstable_sent_ = unstable_.size();
  return out;
}

std::optional<raft::snapshot> raft_log::take_unsent_snapshot() {
  if (!pending_snapshot_ || snapshot_sent_) return std::nullopt;
  snapshot_sent_ = true;
  return pending_snapshot_;
}

void raft_log::stable_to(std::span<const entry> persisted) {
  for (const entry& e : persisted) {
    if (e.index < unstable_offset_) continue;  // already stable (a snapshot may have moved us on)
    if (unstable_.empty() || e.index != unstable_offset_ || unstable_.front().term != e.term) break;
    unstable_.pop_front();
    unstable_offset_ = next_index(unstable_offset_);
    if (unstable_sent_ > 0) --unstable_sent_;
  }
}

void raft_log::stable_snapshot_to(log_index i) {
  if (pending_snapshot_ && pending_snapshot_->metadata.index == i && snapshot_sent_) {
    pending_snapshot_.reset();
    snapshot_sent_ = false;
    applied_ = std::max(applied_, i);
  }
}

result<std::vector<entry>> raft_log::entries_to_apply(size_t max_bytes) const {
  if (!has_entries_to_apply()) return std::vector<entry>{};
  return entries(next_index(applied_), next_index(committed_), max_bytes);
}

}  // namespace tributary::cluster::raft
