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

size_t raft_log::unstable_position(log_index i) const {
  TRIB_ASSERT(unstable_offset_ <= i, "offset not unstable");
  return position_covering(unstable_, i);
}

result<raft::term> raft_log::term_at(log_index i) const {
  if (pending_snapshot_ && i == pending_snapshot_->metadata.index) return pending_snapshot_->metadata.term;
  if (i >= unstable_offset_) {
    if (i > last_index()) return fail(errc::unavailable);
    return unstable_[unstable_position(i)].term;
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
    TRIB_ASSERT(!out.empty() && out.front().covers(lo), "storage returned the wrong entries");
    for (const entry& e : out) bytes += e.byte_size();
    if (next_index(out.back().last()) < stable_hi) return out;  // the byte limit cut the stable part
    lo = stable_hi;
    if (lo >= hi) return out;
  }
  for (size_t k = unstable_position(lo); k < unstable_.size() && unstable_[k].index < hi; ++k) {
    const entry& e = unstable_[k];
    if (!out.empty() && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return out;
}

size_t raft_log::find_conflict(std::span<const entry> ents) const {
  for (size_t k = 0; k < ents.size(); ++k) {
    const entry& e = ents[k];
    if (!matches(e.index, e.term)) return k;
    // Holding the entry's first offset with its term means holding the whole entry (raft_log.h).
    TRIB_ASSERT(matches(e.last(), e.term), "an entry of one term covers the same offsets in every log");
  }
  return ents.size();
}

std::pair<log_index, raft::term> raft_log::find_conflict_by_term(log_index i, raft::term t) const {
  log_index hi = std::min(i, last_index());
  log_index floor = prev_index(first_index());  // the last offset whose term is known
  if (hi < floor) return {hi, raft::term{0}};
  auto known_term = [&](log_index at) {
    auto got = term_at(at);
    TRIB_ASSERT(got.has_value(), "terms between the log start and its end are known");
    return *got;
  };
  raft::term at_hi = known_term(hi);
  if (at_hi <= t) return {hi, at_hi};
  if (known_term(floor) > t) return {prev_index(floor), raft::term{0}};
  // Terms never decrease along the log: keep term(lo) <= t < term(hi) and halve [lo, hi].
  log_index lo = floor;
  while (hi.value - lo.value > 1) {
    log_index mid{lo.value + (hi.value - lo.value) / 2};
    (known_term(mid) <= t ? lo : hi) = mid;
  }
  return {lo, known_term(lo)};
}

void raft_log::append(std::span<const entry> ents) {
  if (ents.empty()) return;
  log_index first = ents.front().index;
  TRIB_ASSERT(first > committed_, "attempt to overwrite a committed entry");
  TRIB_ASSERT(first <= next_index(last_index()), "append would leave a gap in the log");
  if (first <= unstable_offset_) {
    // The new entries replace all of unstable (and a stale suffix of storage, if first is below
    // it; the storage refuses a first offset that is not an entry boundary).
    unstable_.clear();
    unstable_sent_ = 0;
    unstable_offset_ = first;
  } else {
    size_t keep = first > last_index() ? unstable_.size() : unstable_position(first);
    TRIB_ASSERT(keep == unstable_.size() || unstable_[keep].index == first,
                "an overwrite starts at an entry's first offset");
    unstable_.resize(keep);
    unstable_sent_ = std::min(unstable_sent_, unstable_.size());
  }
  for (const entry& e : ents) {
    TRIB_ASSERT(e.index == next_index(last_index()), "entries to append are not contiguous");
    TRIB_ASSERT(valid_width(e.index, e.width), "entry widths are validated when received");
    unstable_.push_back(e);
  }
}

void raft_log::append(entry e) {
  TRIB_ASSERT(e.index == next_index(last_index()), "a leader appends at the end of its log");
  TRIB_ASSERT(valid_width(e.index, e.width), "entry widths are validated when proposed");
  unstable_.push_back(std::move(e));
}

void raft_log::commit_to(log_index i) {
  if (i <= committed_) return;  // the commit index never moves back
  TRIB_ASSERT(i <= last_index(), "commit index beyond the log");
  TRIB_ASSERT(i < unstable_offset_ || unstable_[unstable_position(i)].last() == i,
              "the commit index is the last offset of an entry");
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
    // The same first offset and term is the same entry (raft_log.h).
    if (unstable_.empty() || e.index != unstable_offset_ || unstable_.front().term != e.term) break;
    unstable_offset_ = next_index(unstable_.front().last());
    unstable_.pop_front();
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
