// raft::node: proposals, replication, commit, snapshots, membership and leadership transfer.
#include <algorithm>

#include "cluster/raft/node.h"
#include "common/assert.h"

namespace tributary::cluster::raft {

// --- requests ------------------------------------------------------------------------------------

result<index_range> node::propose(std::span<const proposal> proposals) {
  if (role_ != raft::role::leader) return fail(errc::not_leader);
  if (transfer_target_ != no_node) return fail(errc::transfer_in_progress);
  if (proposals.empty()) return fail(errc::empty_proposal);
  // All or nothing: check every width (and that the offsets do not run out) before appending.
  const log_index first = next_index(log_.last_index());
  log_index at = first;
  size_t bytes = 0;
  for (const proposal& p : proposals) {
    if (!valid_width(at, p.width)) return fail(errc::invalid_width);
    at = log_index{at.value + static_cast<int64_t>(p.width)};
    bytes += p.data.size();
  }
  if (cfg_.max_uncommitted_bytes > 0 && uncommitted_bytes_ > 0 &&
      uncommitted_bytes_ + bytes > cfg_.max_uncommitted_bytes) {
    return fail(errc::too_many_uncommitted_bytes);
  }
  uncommitted_bytes_ += bytes;
  for (const proposal& p : proposals) {
    log_.append(entry{term_, next_index(log_.last_index()), entry_type::normal, p.data, p.width});
  }
  broadcast_append(false);
  return index_range{first, log_.last_index()};
}

result<index_range> node::propose(std::span<const raft::payload> payloads) {
  std::vector<proposal> ps;
  ps.reserve(payloads.size());
  for (const raft::payload& p : payloads) ps.push_back(proposal{p, 1});
  return propose(std::span<const proposal>(ps));
}

result<log_index> node::propose_config_change(const config_change& change) {
  if (role_ != raft::role::leader) return fail(errc::not_leader);
  if (transfer_target_ != no_node) return fail(errc::transfer_in_progress);
  // One change at a time, and only once this leader committed an entry of its term: otherwise a
  // change it proposes could overlap with an uncommitted one from an earlier leader that it has
  // not seen (the single-server change bug fixed in the Raft thesis errata).
  if (!committed_in_current_term() || configs_.back().index > log_.committed()) {
    return fail(errc::config_change_pending);
  }
  if (change.type == config_change_type::remove_node && change.node == cfg_.id) {
    return fail(errc::cannot_remove_leader);
  }
  raft::membership next = TRIB_TRY(apply_config_change(membership(), change));
  entry e{term_, next_index(log_.last_index()), entry_type::config, raft::payload(encode_membership(next))};
  append_entries(std::span<const entry>(&e, 1));
  broadcast_append(false);
  return e.index;
}

result<void> node::transfer_leadership(node_id target) {
  if (role_ != raft::role::leader) return fail(errc::not_leader);
  if (target == cfg_.id) return {};
  if (!membership().is_voter(target)) return fail(errc::not_a_voter);
  if (transfer_target_ == target) return {};
  transfer_target_ = target;
  election_elapsed_ = 0;  // the transfer must finish within an election timeout
  const progress& pr = progress_.at(target);
  if (pr.match == log_.last_index()) {
    message m;
    m.type = message_type::timeout_now;
    m.to = target;
    send(std::move(m));
  } else {
    send_append(target, true);
  }
  return {};
}

void node::report_snapshot(node_id to, bool delivered) {
  if (role_ != raft::role::leader) return;
  auto it = progress_.find(to);
  if (it == progress_.end() || it->second.state != progress_state::snapshot) return;
  progress& pr = it->second;
  if (!delivered) pr.pending_snapshot = no_index;
  // Either way, probe: a delivered snapshot is acknowledged by an append response.
  pr.become_probe();
  if (delivered) pr.probe_sent = true;
}

// --- the log and the membership ------------------------------------------------------------------

// Appends to the log (a leader's own entries, or a follower's from its leader, possibly
// overwriting an uncommitted suffix) and applies config entries at once: a node uses the latest
// configuration in its log.
void node::append_entries(std::span<const entry> ents) {
  if (ents.empty()) return;
  log_index first = ents.front().index;
  bool changed = false;
  while (configs_.size() > 1 && configs_.back().index >= first) {
    configs_.pop_back();  // truncated: the configuration before it is in force again
    changed = true;
  }
  TRIB_ASSERT(configs_.back().index < first, "a committed configuration is being overwritten");
  log_.append(ents);
  for (const entry& e : ents) {
    if (e.type != entry_type::config) continue;
    auto m = decode_membership(e.data.bytes());
    TRIB_ASSERT(m.has_value(), "config entries are validated when received");
    configs_.push_back({e.index, std::move(*m)});
    changed = true;
  }
  if (changed) on_membership_changed();
}

void node::on_membership_changed() {
  // Followers and candidates need nothing more: votes are counted against membership() as it is.
  if (role_ != raft::role::leader) return;
  const raft::membership& m = membership();
  std::erase_if(progress_, [&](const auto& kv) { return !m.contains(kv.first); });
  auto track = [&](node_id id, bool learner) {
    auto [it, added] = progress_.try_emplace(id, cfg_.max_inflight_appends);
    progress& pr = it->second;
    pr.learner = learner;
    if (added) {
      pr.next = next_index(log_.last_index());
      pr.recent_active = true;  // give a new member an election timeout before check-quorum counts it
    }
  };
  for (node_id id : m.voters) track(id, false);
  for (node_id id : m.learners) track(id, true);
  TRIB_ASSERT(progress_.contains(cfg_.id), "a leader stays a member (it cannot remove itself)");
  if (transfer_target_ != no_node && !m.is_voter(transfer_target_)) abort_transfer();
  // A smaller quorum may commit what a larger one did not.
  if (maybe_commit()) broadcast_append(true);
}

void node::on_commit_advanced() {
  // Keep one configuration at or below the commit index (the last one), and those after it.
  while (configs_.size() > 1 && configs_[1].index <= log_.committed()) configs_.erase(configs_.begin());
  if (role_ == raft::role::leader) release_reads_awaiting_commit();
}

bool node::committed_in_current_term() const {
  auto t = log_.term_at(log_.committed());
  return t && *t == term_;
}

// Commits the highest offset a majority of voters hold durably, if it is of the current term
// (§5.4.2: entries of earlier terms are committed only indirectly). Every match is the last offset
// of an entry, so the commit index is too.
bool node::maybe_commit() {
  const raft::membership& m = membership();
  std::vector<log_index>& matches = match_scratch_;  // reused: no allocation per answer
  matches.clear();
  for (node_id v : m.voters) {
    auto it = progress_.find(v);
    matches.push_back(it == progress_.end() ? no_index : it->second.match);
  }
  if (matches.empty()) return false;
  std::sort(matches.begin(), matches.end(), std::greater<>());
  log_index candidate = matches[m.quorum() - 1];
  if (cfg_.knobs.commit_on_minority) candidate = matches.front();  // planted bug
  if (candidate <= log_.committed()) return false;
  auto t = log_.term_at(candidate);
  if (!t || *t != term_) return false;
  log_.commit_to(candidate);
  on_commit_advanced();
  return true;
}

// --- leader: sending -----------------------------------------------------------------------------

bool node::send_append(node_id to, bool send_if_empty) {
  progress& pr = progress_.at(to);
  if (pr.paused()) return false;
  TRIB_ASSERT(pr.next <= next_index(log_.last_index()), "a member cannot be ahead of the leader's log");
  auto ents = log_.entries(pr.next, next_index(log_.last_index()), cfg_.max_append_bytes);
  if (!ents) return send_snapshot(to, pr);
  if (!ents->empty() && ents->front().index != pr.next) {
    // A backtracking probe points inside one of our entries (a member's hint names an offset of
    // its own log, and progress::decrease_to steps back to the last offset of the entry before the
    // rejected append): send that whole entry, from its first offset.
    TRIB_ASSERT(pr.state == progress_state::probe && ents->front().index < pr.next,
                "only a probe may start inside an entry");
    pr.next = ents->front().index;
  }
  log_index prev = prev_index(pr.next);
  auto prev_term = log_.term_at(prev);
  if (!prev_term) return send_snapshot(to, pr);
  if (ents->empty() && !send_if_empty) return false;
  message m;
  m.type = message_type::append;
  m.to = to;
  m.index = prev;
  m.log_term = *prev_term;
  m.commit = log_.committed();
  if (!ents->empty()) {
    pr.sent_entries(ents->back().last());
  } else if (pr.state == progress_state::probe) {
    pr.probe_sent = true;
  }
  m.entries = std::move(*ents);
  send(std::move(m));
  return true;
}

// The member needs entries the log no longer holds: send the latest snapshot instead.
bool node::send_snapshot(node_id to, progress& pr) {
  if (!pr.recent_active) return false;  // not while it may be down; heartbeats tell us when it is back
  auto snap = storage_.latest_snapshot();
  if (!snap) return false;  // not available now; retried on the next heartbeat response
  TRIB_ASSERT(next_index(snap->metadata.index) >= log_.first_index(),
              "the snapshot must reach the log start");
  pr.become_snapshot(snap->metadata.index);
  message m;
  m.type = message_type::snapshot;
  m.to = to;
  m.snapshot = std::move(*snap);
  send(std::move(m));
  return true;
}

void node::broadcast_append(bool send_if_empty) {
  for (auto& [id, pr] : progress_) {
    if (id != cfg_.id) send_append(id, send_if_empty);
  }
}

void node::broadcast_heartbeat() {
  for (auto& [id, pr] : progress_) {
    if (id == cfg_.id) continue;
    message m;
    m.type = message_type::heartbeat;
    m.to = id;
    // Never tell a member to commit beyond what it is known to hold.
    m.commit = std::min(pr.match, log_.committed());
    m.context = read_seq_;
    send(std::move(m));
  }
}

bool node::quorum_active() const {
  size_t active = 0;
  for (node_id v : membership().voters) {
    auto it = progress_.find(v);
    if (v == cfg_.id || (it != progress_.end() && it->second.recent_active)) ++active;
  }
  return active >= membership().quorum();
}

// --- leader: answers -----------------------------------------------------------------------------

void node::handle_append_response(const message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  progress& pr = it->second;
  pr.recent_active = true;

  if (m.reject) {
    // Backtrack by term: the follower named its last offset whose term is <= the probe's
    // (reject_hint, log_term). The last offset where our log has a term <= that term is the next
    // candidate for a match; one round trip per term instead of per entry. The probe may land
    // inside one of our entries; send_append then starts from that entry's first offset.
    log_index probe = m.reject_hint;
    if (m.log_term > raft::term{0}) probe = log_.find_conflict_by_term(m.reject_hint, m.log_term).first;
    if (pr.decrease_to(m.index, probe)) {
      if (pr.state == progress_state::replicate) pr.become_probe();
      send_append(m.from, true);
    }
    return;
  }

  bool was_paused = pr.paused();
  if (!pr.update(m.index)) return;  // a duplicate or late answer
  switch (pr.state) {
    case progress_state::probe: pr.become_replicate(); break;
    case progress_state::snapshot:
      if (next_index(pr.match) >= log_.first_index()) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case progress_state::replicate: pr.inflight.free_through(pr.match); break;
  }
  if (maybe_commit()) {
    broadcast_append(true);
  } else if (was_paused) {
    send_append(m.from, true);  // it may have missed commit updates while paused
  }
  // Refill the pipeline; each round adds an append to the bounded inflight window or stops.
  while (send_append(m.from, false)) {
  }
  if (m.from == transfer_target_ && pr.match == log_.last_index()) {
    message now;
    now.type = message_type::timeout_now;
    now.to = m.from;
    send(std::move(now));
  }
}

void node::handle_heartbeat_response(const message& m) {
  auto it = progress_.find(m.from);
  if (it == progress_.end()) return;
  progress& pr = it->second;
  pr.recent_active = true;
  pr.probe_sent = false;
  // Appends may have been lost with the pipeline full: free a slot so one can go out again.
  if (pr.state == progress_state::replicate && pr.inflight.full()) pr.inflight.free_first();
  if (pr.match < log_.last_index()) send_append(m.from, true);
  if (m.context > pr.read_acked) {
    pr.read_acked = m.context;
    confirm_reads();
  }
}

// --- follower: receiving -------------------------------------------------------------------------

void node::handle_append(message& m) {
  message resp;
  resp.type = message_type::append_response;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    // Everything up to our commit index matches the leader's log already.
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  if (!log_.matches(m.index, m.log_term)) {
    auto [hint, hint_term] = log_.find_conflict_by_term(m.index, m.log_term);
    resp.reject = true;
    resp.index = m.index;
    resp.reject_hint = hint;
    resp.log_term = hint_term;
    send(std::move(resp));
    return;
  }
  // The leader's entry ending at m.index is ours (same offset, same term): every position from
  // here on is an entry boundary in both logs, and so is where a conflicting suffix is cut.
  log_index last_new = m.entries.empty() ? m.index : m.entries.back().last();
  size_t conflict = log_.find_conflict(m.entries);
  if (conflict < m.entries.size()) append_entries(std::span<const entry>(m.entries).subspan(conflict));
  // Entries past last_new are not known to match the leader's, so commit no further.
  log_.commit_to(std::min(m.commit, last_new));
  on_commit_advanced();
  resp.index = last_new;
  if (cfg_.knobs.ack_entry_start && !m.entries.empty()) resp.index = m.entries.back().index;  // planted bug
  send(std::move(resp));
}

void node::handle_heartbeat(const message& m) {
  log_.commit_to(m.commit);
  on_commit_advanced();
  message resp;
  resp.type = message_type::heartbeat_response;
  resp.to = m.from;
  resp.context = m.context;
  send(std::move(resp));
}

void node::handle_snapshot(message& m) {
  message resp;
  resp.type = message_type::append_response;
  resp.to = m.from;
  const snapshot_metadata& meta = m.snapshot->metadata;
  if (meta.index <= log_.committed()) {
    resp.index = log_.committed();  // already covered; tell the leader where we are
  } else if (log_.matches(meta.index, meta.term)) {
    // We hold the snapshot's last entry: no need to restore, just commit up to it.
    log_.commit_to(meta.index);
    on_commit_advanced();
    resp.index = meta.index;
  } else {
    configs_.assign(1, config_record{meta.index, meta.config});
    log_.restore(std::move(*m.snapshot));
    on_membership_changed();
    resp.index = log_.committed();
  }
  send(std::move(resp));
}

}  // namespace tributary::cluster::raft
