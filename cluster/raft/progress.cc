#include "cluster/raft/progress.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::raft {

void inflight_window::add(log_index last) {
  TRIB_ASSERT(!full(), "inflight window overflow");
  ring_[(start_ + count_) % ring_.size()] = last;
  ++count_;
}

void inflight_window::free_through(log_index i) {
  while (count_ > 0 && ring_[start_] <= i) free_first();
}

void inflight_window::free_first() {
  if (count_ == 0) return;
  start_ = (start_ + 1) % ring_.size();
  --count_;
}

bool progress::update(log_index n) {
  if (n <= match) return false;
  match = n;
  next = std::max(next, next_index(n));
  probe_sent = false;
  return true;
}

bool progress::decrease_to(log_index rejected, log_index probe_hint) {
  if (state == progress_state::replicate) {
    // A rejection at or below match is a late answer to an older append.
    if (rejected <= match) return false;
    next = next_index(match);
    return true;
  }
  // In probe (and snapshot) state only the answer to the append just sent counts.
  if (prev_index(next) != rejected) return false;
  // At least one entry back: `rejected` is the last offset of the entry before the rejected append,
  // and sending from inside that entry sends all of it (node::send_append).
  next = std::max(std::min(rejected, next_index(probe_hint)), next_index(match));
  probe_sent = false;
  return true;
}

bool progress::paused() const {
  switch (state) {
    case progress_state::probe: return probe_sent;
    case progress_state::replicate: return inflight.full();
    case progress_state::snapshot: return true;
  }
  return true;
}

void progress::sent_entries(log_index last) {
  if (state == progress_state::replicate) {
    next = next_index(last);
    inflight.add(last);
  } else if (state == progress_state::probe) {
    probe_sent = true;
  }
}

void progress::become_probe() {
  // After a snapshot, probing starts right after it.
  log_index from = state == progress_state::snapshot ? std::max(match, pending_snapshot) : match;
  state = progress_state::probe;
  next = next_index(from);
  probe_sent = false;
  pending_snapshot = no_index;
  inflight.reset();
}

void progress::become_replicate() {
  state = progress_state::replicate;
  next = next_index(match);
  probe_sent = false;
  pending_snapshot = no_index;
  inflight.reset();
}

void progress::become_snapshot(log_index snapshot_index) {
  state = progress_state::snapshot;
  pending_snapshot = snapshot_index;
  snapshot_ticks = 0;
  probe_sent = false;
  inflight.reset();
}

}  // namespace tributary::cluster::raft
