// raft::node: creation, ticks, elections, the step dispatch and the ready/advance cycle.
// Replication and membership are in node_replication.cc, read index in node_reads.cc.
#include <algorithm>

#include "cluster/raft/node.h"
#include "common/assert.h"

namespace tributary::cluster::raft {
namespace {

bool is_vote_request(message_type t) { return t == message_type::pre_vote || t == message_type::vote; }

// Messages only a leader of the message's term sends.
bool is_leader_message(message_type t) {
  return t == message_type::append || t == message_type::heartbeat || t == message_type::snapshot ||
         t == message_type::timeout_now;
}

result<void> validate_config(const config& cfg) {
  bool ok = cfg.id != no_node && cfg.heartbeat_ticks >= 1 && cfg.election_ticks > cfg.heartbeat_ticks &&
            cfg.max_append_bytes >= 1 && cfg.max_inflight_appends >= 1 && cfg.max_apply_bytes >= 1 &&
            cfg.max_pending_reads >= 1 && cfg.snapshot_retry_ticks >= 1 && cfg.applied >= no_index;
  if (!ok) return fail(errc::invalid_config);
  return {};
}

}  // namespace

const char* to_string(raft::role r) {
  switch (r) {
    case raft::role::follower: return "follower";
    case raft::role::pre_candidate: return "pre_candidate";
    case raft::role::candidate: return "candidate";
    case raft::role::leader: return "leader";
  }
  return "unknown";
}

// --- creation ----------------------------------------------------------------------------------

result<std::unique_ptr<node>> node::create(const config& cfg, const log_storage& storage) {
  TRIB_TRY_VOID(validate_config(cfg));
  const hard_state stored = storage.saved_hard_state();
  hard_state hs = stored;
  snapshot_metadata snap = storage.snapshot_meta();
  log_index first = storage.first_index();
  log_index last = storage.last_index();
  // The snapshot must lie within [first - 1, last]: the log continues right after it.
  if (first > next_index(snap.index) || last < snap.index || hs.term < raft::term{0}) {
    return fail(errc::corrupt_storage);
  }
  log_index committed = std::max(hs.commit, snap.index);
  if (committed > last) return fail(errc::corrupt_storage);  // the hard state is written after entries
  log_index applied = std::max(cfg.applied, snap.index);
  if (applied > committed) return fail(errc::invalid_config);
  // The snapshot, the commit index and the applied index are entry ends (one read each at most).
  auto is_entry_end = [&](log_index i) -> result<bool> {
    if (i < first) return i == prev_index(first);
    std::vector<entry> covering = TRIB_TRY(storage.entries(i, next_index(i), 1));
    return !covering.empty() && covering.front().last() == i;
  };
  if (!TRIB_TRY(is_entry_end(snap.index)) || !TRIB_TRY(is_entry_end(committed))) {
    return fail(errc::corrupt_storage);
  }
  if (!TRIB_TRY(is_entry_end(applied))) return fail(errc::invalid_config);

  raft::term last_term = TRIB_TRY(storage.term_at(last));
  if (last_term > hs.term) {
    // A torn write kept entries of a newer term but not the hard state that adopted it. No vote in
    // that term was ever sent (votes go out only once durable), so adopting it with no vote is safe.
    hs.term = last_term;
    hs.vote = no_node;
  }

  std::vector<config_record> configs{{snap.index, snap.config}};
  std::vector<entry> config_entries =
      TRIB_TRY(storage.config_entries(next_index(snap.index), next_index(last)));
  for (const entry& e : config_entries) {
    auto m = decode_membership(e.data.bytes());
    if (!m) return fail(errc::corrupt_storage);
    configs.push_back({e.index, std::move(*m)});
  }

  std::unique_ptr<node> n(new node(cfg, storage, hs, stored, committed, applied));
  n->configs_ = std::move(configs);
  n->on_commit_advanced();  // prune configurations the commit index already covers
  return n;
}

node::node(const config& cfg, const log_storage& storage, const hard_state& hs, const hard_state& stored,
           log_index committed, log_index applied)
    : cfg_(cfg),
      storage_(storage),
      log_(storage, committed, applied),
      rng_(cfg.random_seed ^ (cfg.id.value * 0x9e3779b97f4a7c15ull)),
      term_(hs.term),
      vote_(hs.vote),
      persisted_hard_state_(stored) {
  reset(term_);
}

// --- roles ---------------------------------------------------------------------------------------

void node::reset(raft::term t) {
  if (t != term_) {
    term_ = t;
    vote_ = no_node;
  }
  leader_ = no_node;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  randomized_election_ticks_ =
      cfg_.election_ticks + static_cast<int>(rng_.below(static_cast<uint64_t>(cfg_.election_ticks)));
  votes_.clear();
  progress_.clear();
  abort_transfer();
  uncommitted_bytes_ = 0;
  drop_reads();
}

void node::become_follower(raft::term t, node_id lead) {
  reset(t);
  role_ = raft::role::follower;
  leader_ = lead;
}

void node::become_pre_candidate() {
  TRIB_ASSERT(role_ != raft::role::leader, "a leader does not campaign");
  // A pre-candidate keeps its term and vote: it only asks whether it could win.
  votes_.clear();
  leader_ = no_node;
  election_elapsed_ = 0;
  role_ = raft::role::pre_candidate;
}

void node::become_candidate() {
  TRIB_ASSERT(role_ != raft::role::leader, "a leader does not campaign");
  reset(raft::term{term_.value + 1});
  vote_ = cfg_.id;
  role_ = raft::role::candidate;
}

void node::become_leader() {
  TRIB_ASSERT(role_ == raft::role::candidate, "only a candidate becomes leader");
  TRIB_ASSERT(promotable(), "a leader must be a voter");
  reset(term_);
  role_ = raft::role::leader;
  leader_ = cfg_.id;
  on_membership_changed();  // a progress for every member
  // Check-quorum counts only members heard from during this leadership.
  for (auto& [id, pr] : progress_) pr.recent_active = id == cfg_.id;
  progress& self = progress_.at(cfg_.id);
  self.match = log_.durable_last_index();
  self.become_replicate();
  // A no-op of its own term lets the leader commit entries of earlier terms (§5.4.2) and tells it
  // when it may serve reads and propose config changes.
  entry noop{term_, next_index(log_.last_index()), entry_type::no_op, {}};
  append_entries(std::span<const entry>(&noop, 1));
  broadcast_append(true);
}

result<void> node::campaign() {
  if (!promotable()) return fail(errc::not_a_voter);
  if (role_ == raft::role::leader) return {};
  start_campaign(cfg_.pre_vote, false);
  return {};
}

void node::start_campaign(bool pre, bool transfer) {
  if (!promotable()) return;
  raft::term campaign_term;
  message_type type;
  if (pre) {
    become_pre_candidate();
    campaign_term = raft::term{term_.value + 1};
    type = message_type::pre_vote;
  } else {
    become_candidate();
    campaign_term = term_;
    type = message_type::vote;
  }
  votes_[cfg_.id] = true;
  count_votes();  // a single voter wins on its own vote
  if (role_ != (pre ? raft::role::pre_candidate : raft::role::candidate)) return;
  for (node_id v : membership().voters) {
    if (v == cfg_.id) continue;
    message m;
    m.type = type;
    m.to = v;
    m.term = campaign_term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    m.transfer = transfer;
    send(std::move(m));
  }
}

void node::handle_vote_response(const message& m) {
  bool pre = role_ == raft::role::pre_candidate;
  message_type expected = pre ? message_type::pre_vote_response : message_type::vote_response;
  if (m.type != expected) return;
  votes_[m.from] = !m.reject;
  count_votes();
}

// Tallies votes_ (only the votes of current voters count) and acts on the outcome.
void node::count_votes() {
  bool pre = role_ == raft::role::pre_candidate;
  size_t granted = 0, refused = 0;
  for (node_id v : membership().voters) {
    auto it = votes_.find(v);
    if (it == votes_.end()) continue;
    (it->second ? granted : refused) += 1;
  }
  size_t quorum = membership().quorum();
  if (granted >= quorum) {
    if (pre) {
      start_campaign(false, false);
    } else {
      become_leader();
    }
  } else if (refused > membership().voters.size() - quorum) {
    become_follower(term_, no_node);  // this election is lost
  }
}

// --- time ----------------------------------------------------------------------------------------

void node::tick() {
  if (role_ == raft::role::leader) {
    tick_leader();
  } else {
    tick_election();
  }
}

void node::tick_election() {
  ++election_elapsed_;
  if (promotable() && election_elapsed_ >= randomized_election_ticks_) {
    election_elapsed_ = 0;
    start_campaign(cfg_.pre_vote, false);
  }
}

void node::tick_leader() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  if (election_elapsed_ >= cfg_.election_ticks) {
    election_elapsed_ = 0;
    if (cfg_.check_quorum) {
      if (!quorum_active()) {
        become_follower(term_, no_node);
        return;
      }
      for (auto& [id, pr] : progress_) pr.recent_active = id == cfg_.id;
    }
    abort_transfer();  // a transfer that did not finish within an election timeout is abandoned
  }
  for (auto& [id, pr] : progress_) {
    if (pr.state == progress_state::snapshot && ++pr.snapshot_ticks >= cfg_.snapshot_retry_ticks) {
      pr.become_probe();  // the snapshot (or its answer) was probably lost; probe and resend
    }
  }
  if (heartbeat_elapsed_ >= cfg_.heartbeat_ticks) {
    heartbeat_elapsed_ = 0;
    broadcast_heartbeat();
  }
}

// --- messages ------------------------------------------------------------------------------------

result<void> node::validate(const message& m) const {
  if (m.to != cfg_.id || m.from == no_node || m.from == cfg_.id || m.term < raft::term{0} ||
      m.index < no_index) {
    return fail(errc::invalid_message);
  }
  if (m.type == message_type::append) {
    log_index expect = next_index(m.index);
    raft::term previous = m.log_term;
    for (const entry& e : m.entries) {
      // Contiguous in offsets, widths valid, terms never decreasing and never above the leader's.
      if (e.index != expect || !valid_width(e.index, e.width) || e.term < previous || e.term > m.term) {
        return fail(errc::invalid_message);
      }
      if (e.type == entry_type::config && !decode_membership(e.data.bytes())) {
        return fail(errc::invalid_message);
      }
      expect = next_index(e.last());
      previous = e.term;
    }
  }
  if (m.type == message_type::snapshot &&
      (!m.snapshot || m.snapshot->metadata.index < no_index || m.snapshot->metadata.term > m.term)) {
    return fail(errc::invalid_message);
  }
  return {};
}

result<void> node::step(message m) {
  TRIB_TRY_VOID(validate(m));
  if (m.term > term_) {
    if (is_vote_request(m.type)) {
      // Leader lease: while we hear from a leader, a vote request cannot depose it (this is what
      // keeps a disruptive or removed node from forcing elections). A transfer overrides it.
      bool in_lease = cfg_.check_quorum && leader_ != no_node && election_elapsed_ < cfg_.election_ticks;
      if (in_lease && !m.transfer) return {};
    }
    if (m.type == message_type::pre_vote) {
      // A pre-vote does not change our term.
    } else if (m.type == message_type::pre_vote_response && !m.reject) {
      // A granted pre-vote carries the term we would campaign for; it is not a newer term.
    } else {
      int elapsed = election_elapsed_;
      become_follower(m.term, is_leader_message(m.type) ? m.from : no_node);
      // A vote request raises our term but restarts our election timer only if we grant it
      // (handle_vote_request): a candidate with a stale log must not keep the up-to-date nodes
      // from ever timing out first (Raft §5.2; it matters without pre-vote, under clock skew).
      if (m.type == message_type::vote) election_elapsed_ = elapsed;
    }
  } else if (m.term < term_) {
    if ((cfg_.check_quorum || cfg_.pre_vote) &&
        (m.type == message_type::append || m.type == message_type::heartbeat)) {
      // A stale leader (e.g. back from a partition). Tell it our term so it steps down; without
      // this a node whose term rose while partitioned could never rejoin when pre-vote keeps it
      // from winning an election.
      message resp;
      resp.type = message_type::append_response;
      resp.to = m.from;
      send(std::move(resp));
    } else if (is_vote_request(m.type)) {
      // A candidate behind our term: refuse, and tell it our term. Silence could leave it
      // campaigning forever below our term while it is the one candidate that could win (we may
      // be a voter with a stale log whose own campaigns cannot succeed).
      message resp;
      resp.type =
          m.type == message_type::pre_vote ? message_type::pre_vote_response : message_type::vote_response;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      send(std::move(resp));
    }
    return {};
  }

  if (is_vote_request(m.type)) {
    handle_vote_request(m);
    return {};
  }
  switch (role_) {
    case raft::role::follower: step_follower(m); break;
    case raft::role::pre_candidate:
    case raft::role::candidate: step_candidate(m); break;
    case raft::role::leader: step_leader(m); break;
  }
  return {};
}

void node::handle_vote_request(const message& m) {
  bool pre = m.type == message_type::pre_vote;
  // We may vote for whom we already voted for, for anyone if we have neither voted nor know a
  // leader in this term, and grant a pre-vote for any future term.
  bool can_vote = vote_ == m.from || (vote_ == no_node && leader_ == no_node) || (pre && m.term > term_);
  bool grant = can_vote && log_.is_up_to_date(m.index, m.log_term);
  message resp;
  resp.type = pre ? message_type::pre_vote_response : message_type::vote_response;
  resp.to = m.from;
  resp.reject = !grant;
  // A granted pre-vote answers in the term asked about; everything else in ours.
  resp.term = grant && pre ? m.term : term_;
  if (grant && !pre) {
    vote_ = m.from;
    election_elapsed_ = 0;
  }
  send(std::move(resp));
}

void node::step_follower(message& m) {
  switch (m.type) {
    case message_type::append:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_append(m);
      break;
    case message_type::heartbeat:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_heartbeat(m);
      break;
    case message_type::snapshot:
      election_elapsed_ = 0;
      leader_ = m.from;
      handle_snapshot(m);
      break;
    case message_type::timeout_now:
      // The leader hands over: campaign now, without pre-vote, overriding leases.
      start_campaign(false, true);
      break;
    case message_type::read_index_response: read_states_.push_back(read_state{m.index, m.context}); break;
    default: break;  // stale responses and requests only a leader serves
  }
}

void node::step_candidate(message& m) {
  switch (m.type) {
    case message_type::append:
      become_follower(term_, m.from);
      handle_append(m);
      break;
    case message_type::heartbeat:
      become_follower(term_, m.from);
      handle_heartbeat(m);
      break;
    case message_type::snapshot:
      become_follower(term_, m.from);
      handle_snapshot(m);
      break;
    case message_type::pre_vote_response:
    case message_type::vote_response: handle_vote_response(m); break;
    default: break;
  }
}

void node::step_leader(message& m) {
  switch (m.type) {
    case message_type::append_response: handle_append_response(m); break;
    case message_type::heartbeat_response: handle_heartbeat_response(m); break;
    case message_type::read_index:
      if (pending_reads_.size() + reads_awaiting_commit_.size() >= cfg_.max_pending_reads) break;
      if (committed_in_current_term()) {
        start_read(m.context, m.from);
      } else {
        reads_awaiting_commit_.push_back(pending_read{0, no_index, m.context, m.from});
      }
      break;
    // Another leader in our term cannot exist (election safety); vote answers arrive late.
    default: break;
  }
}

void node::send(message m) {
  m.from = cfg_.id;
  // Pre-vote messages carry the term campaigned for; every other message carries ours.
  if (m.type != message_type::pre_vote && m.type != message_type::pre_vote_response) m.term = term_;
  msgs_.push_back(std::move(m));
}

// --- ready / advance -----------------------------------------------------------------------------

bool node::has_ready() const {
  if (awaiting_advance_) return false;
  return !msgs_.empty() || log_.has_unsent() ||
         hard_state{term_, vote_, log_.committed()} != persisted_hard_state_ || log_.has_entries_to_apply() ||
         !read_states_.empty();
}

raft::ready node::ready() {
  TRIB_ASSERT(!awaiting_advance_, "ready() again before advance()");
  raft::ready rd;
  rd.snapshot = log_.take_unsent_snapshot();
  rd.entries = log_.take_unsent_entries();
  hard_state hs{term_, vote_, log_.committed()};
  bool term_or_vote_changed = hs.term != persisted_hard_state_.term || hs.vote != persisted_hard_state_.vote;
  if (hs != persisted_hard_state_) rd.hard_state = hs;
  if (log_.has_entries_to_apply()) {
    auto ents = log_.entries_to_apply(cfg_.max_apply_bytes);
    TRIB_ASSERT(ents.has_value(), "committed entries must be readable");
    rd.committed_entries = std::move(*ents);
  }
  rd.read_states = std::move(read_states_);
  read_states_.clear();

  bool leader_traffic_early = role_ == raft::role::leader && !term_or_vote_changed;
  for (message& m : msgs_) {
    bool early = leader_traffic_early && is_leader_message(m.type);
    if (cfg_.knobs.send_votes_before_persist && !m.reject &&
        (m.type == message_type::vote_response || m.type == message_type::pre_vote_response)) {
      early = true;  // planted bug
    }
    (early ? rd.early_messages : rd.messages).push_back(std::move(m));
  }
  msgs_.clear();
  persisted_hard_state_ = hs;
  awaiting_advance_ = true;
  return rd;
}

void node::advance(const raft::ready& rd) {
  TRIB_ASSERT(awaiting_advance_, "advance() without ready()");
  awaiting_advance_ = false;
  if (rd.snapshot) log_.stable_snapshot_to(rd.snapshot->metadata.index);
  log_.stable_to(rd.entries);
  if (!rd.committed_entries.empty()) {
    log_.applied_to(rd.committed_entries.back().last());
    if (role_ == raft::role::leader) {
      for (const entry& e : rd.committed_entries) {
        uncommitted_bytes_ -= std::min(uncommitted_bytes_, e.data.size());
      }
    }
  }
  if (role_ == raft::role::leader) {
    // The leader's own log counts towards a commit only once it is durable.
    progress& self = progress_.at(cfg_.id);
    if (self.update(log_.durable_last_index()) && maybe_commit()) broadcast_append(true);
  }
}

std::optional<peer_status> node::peer(node_id id) const {
  auto it = progress_.find(id);
  if (it == progress_.end()) return std::nullopt;
  const progress& pr = it->second;
  return peer_status{pr.match, pr.next, pr.state, pr.learner, pr.recent_active};
}

}  // namespace tributary::cluster::raft
