#pragma once
// raft::node — one member of one Raft group, as a pure state machine in the manner of etcd's raft:
// no I/O, no clock, no threads. Time is tick(); input is step(message), propose(), and the other
// requests below; output is collected in a `ready` that the caller drains.
//
// Features: leader election with pre-vote and check-quorum; pipelined, batched replication; commit
// by majority; follower catch-up with backtracking by term; leadership transfer; single-server
// membership changes (voters and learners); snapshots for followers behind the log start; read
// index for linearizable reads.
//
// Offsets: an index is a Kafka offset and an entry covers `width` of them (types.h). The commit
// index, the applied index, a snapshot's index, a read index and a member's match are always the
// last offset of an entry. For a partition the Kafka high watermark is commit_index() + 1 (the
// offset after the last committed record) and the log end offset is last_index() + 1.
//
// ---------------------------------------------------------------------------------------------
// The ready / advance contract (the caller's loop):
//
//   while (n.has_ready()) {
//     raft::ready rd = n.ready();
//     send(rd.early_messages);                  // optional: may go out before or during (1)
//     (1) durably persist, in this order:       // fsync before going on
//           rd.snapshot   — replace the log (and restore the state machine from it),
//           rd.entries    — append; the first entry may overwrite: drop every entry from its
//                           index on before appending (always an entry's first offset:
//                           a segment log's truncate_suffix at a batch boundary),
//           rd.hard_state — term, vote, commit;
//     (2) send(rd.messages);
//     (3) apply rd.committed_entries in order; answer rd.read_states once applied up to them;
//     (4) n.advance(rd);
//   }
//
// Why the order matters:
//  - A vote grant, a vote request (the candidate's own vote) and an append acknowledgement each
//    promise something about this node's disk: that it voted for X in term T, or holds entries up
//    to i. They are in rd.messages, which go out only after (1). If a crash lost the vote before
//    the grant was sent, the node could vote twice in one term.
//  - rd.early_messages holds only a leader's replication traffic (append, heartbeat, snapshot,
//    timeout_now) and only when this ready does not change the term or vote. It promises nothing
//    about the leader's disk: the leader counts its own log towards a commit only after advance()
//    confirmed it durable (thesis §10.2.1), so sending before the leader's fsync is safe.
//    (A leader created in this very ready, e.g. a single voter, has an unpersisted term: then
//    nothing is early.) Sending everything after (1) is always correct, only slower.
//  - Entries before the hard state: a torn write must never leave a commit index beyond the log.
//    (A torn write that keeps entries but loses the hard state is harmless: on restart the node
//    adopts the last entry's term if it is newer.)
//  - A crash anywhere in the loop is fine: nothing from an unpersisted ready was promised. The node
//    restarts from what its storage holds.
//
// Between ready() and advance() the node keeps working (step, tick, propose) but has_ready() is
// false; the next ready holds what happened meanwhile. Only one ready is outstanding at a time.
//
// Membership: a node uses the latest configuration in its log, committed or not (the "apply on
// append" rule of the Raft thesis §4.1). A truncated config entry reverts to the one before it. A
// leader proposes a change only after it committed an entry of its own term and when no other
// change is uncommitted, so two configurations in force at once always differ by one server and
// their majorities overlap. Config entries carry the whole resulting membership.
// ---------------------------------------------------------------------------------------------
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "cluster/raft/errc.h"
#include "cluster/raft/message.h"
#include "cluster/raft/progress.h"
#include "cluster/raft/raft_log.h"
#include "cluster/raft/rng.h"
#include "cluster/raft/storage.h"
#include "cluster/raft/types.h"

namespace tributary::cluster::raft {

// Planted bugs that prove the simulator's checkers can fail (tests/sim). Never set in production.
struct testing_knobs {
  // The leader treats an entry as committed as soon as any one voter (itself included) holds it,
  // instead of a majority.
  bool commit_on_minority = false;
  // Vote grants go out with the early messages, before the vote is durable.
  bool send_votes_before_persist = false;
  // A follower acknowledges an append up to the FIRST offset of its last entry instead of the
  // last, so the leader's match and commit index can land inside an entry of several offsets.
  bool ack_entry_start = false;
};

struct config {
  node_id id;
  // A follower that hears from no leader for a random [election_ticks, 2 * election_ticks) ticks
  // campaigns; a leader that has not heard from a quorum for election_ticks steps down
  // (check_quorum). Must exceed heartbeat_ticks.
  int election_ticks = 10;
  int heartbeat_ticks = 1;
  // Pre-vote (thesis §9.6): a node first asks whether it could win, without raising its term, so a
  // node rejoining from a partition does not depose a healthy leader.
  bool pre_vote = true;
  // The leader steps down when it has not heard from a quorum for an election timeout, and
  // followers that heard from a leader within the timeout ignore vote requests (leader lease).
  bool check_quorum = true;
  // Limits.
  size_t max_append_bytes = 1 << 20;  // entry bytes per append message (at least one entry is sent)
  size_t max_inflight_appends = 256;  // pipelined appends per follower awaiting an answer
  // Bytes proposed but not committed; further proposals fail with too_many_uncommitted_bytes.
  // 0 = unlimited. A proposal is always accepted when nothing is uncommitted.
  size_t max_uncommitted_bytes = 64u << 20;
  size_t max_apply_bytes = 64u << 20;  // committed entry bytes per ready (at least one entry)
  size_t max_pending_reads = 4096;     // read_index requests awaiting confirmation on a leader
  int snapshot_retry_ticks = 50;       // a snapshot not acknowledged within this many ticks is re-sent
  // The last offset the application's state machine has applied (restored from its snapshot and
  // replayed; the last offset of an entry); committed entries after it are handed out again on
  // restart. Below the snapshot it means the snapshot's index.
  log_index applied = no_index;
  uint64_t random_seed = 0;
  testing_knobs knobs;
};

enum class role : uint8_t { follower, pre_candidate, candidate, leader };
const char* to_string(raft::role r);

struct read_state {
  log_index index;  // serve the read once the state machine has applied this offset (for a
                    // partition: a read that sees the high watermark index + 1)
  uint64_t request_id = 0;
  friend bool operator==(const read_state&, const read_state&) = default;
};

struct ready {
  std::optional<raft::snapshot> snapshot;
  std::vector<entry> entries;
  std::optional<raft::hard_state> hard_state;
  std::vector<message> early_messages;
  std::vector<message> messages;
  std::vector<entry> committed_entries;
  std::vector<read_state> read_states;
};

// What a leader knows about one member (for tests, metrics and the admin API).
struct peer_status {
  log_index match;  // the last offset known to match (an entry end)
  log_index next;   // the next offset to send
  progress_state state = progress_state::probe;
  bool learner = false;
  bool recent_active = false;
};

class node {
 public:
  // A node over `storage`, which must outlive it. Fails with invalid_config or corrupt_storage.
  static result<std::unique_ptr<node>> create(const config& cfg, const log_storage& storage);

  node(const node&) = delete;
  node& operator=(const node&) = delete;

  // One unit of logical time.
  void tick();
  // A message from another member. invalid_message for one that breaks the protocol's shape.
  result<void> step(message m);

  // Appends one entry per proposal, each covering proposal::width offsets (leader only); returns
  // the offsets they occupy: the first entry's index (a batch's base offset) up to the last
  // entry's last offset. They are committed when they appear in a ready's committed_entries, i.e.
  // once commit_index() >= range.last. errc::empty_proposal without proposals, invalid_width for a
  // width of 0 or above max_entry_width or one that would run past the largest offset.
  result<index_range> propose(std::span<const proposal> proposals);
  // The same with width 1 for every payload (the controller's group 0 and tests).
  result<index_range> propose(std::span<const raft::payload> payloads);
  // Proposes a single-server membership change (leader only); returns the config entry's index
  // (its width is 1).
  result<log_index> propose_config_change(const config_change& change);
  // Hands leadership to a voter: proposals are refused while the target catches up; then it is
  // told to campaign at once. Abandoned after an election timeout.
  result<void> transfer_leadership(node_id target);
  // Requests a linearizable read. A read_state with `request_id` appears in a later ready once this
  // node (leader) or the leader (asked by a follower) confirmed it still leads; then the read may
  // be served once applied >= read_state.index. Reads can be dropped (leader change, lost
  // message): callers time out and retry.
  result<void> read_index(uint64_t request_id);
  // Starts an election now (for bootstrapping and tests). not_a_voter unless a voter.
  result<void> campaign();
  // The transport could not deliver a snapshot (or did): the leader probes again.
  void report_snapshot(node_id to, bool delivered);

  bool has_ready() const;
  raft::ready ready();
  // The caller persisted and applied `rd` (see the contract above).
  void advance(const raft::ready& rd);

  // --- inspection -----------------------------------------------------------------------------
  node_id id() const { return cfg_.id; }
  raft::role role() const { return role_; }
  raft::term term() const { return term_; }
  node_id leader() const { return leader_; }
  node_id vote() const { return vote_; }
  log_index commit_index() const { return log_.committed(); }  // high watermark - 1
  log_index applied_index() const { return log_.applied(); }
  log_index first_index() const { return log_.first_index(); }  // the first entry's first offset
  log_index last_index() const { return log_.last_index(); }    // the last entry's last offset
  // The term of the entry covering offset i.
  result<raft::term> log_term(log_index i) const { return log_.term_at(i); }
  // The entries covering offsets [lo, hi) (the first may start before lo; see log_storage).
  result<std::vector<entry>> log_entries(log_index lo, log_index hi, size_t max_bytes) const {
    return log_.entries(lo, hi, max_bytes);
  }
  const raft::membership& membership() const { return configs_.back().config; }
  // Whether the latest configuration is committed (no membership change in flight).
  bool membership_committed() const { return configs_.back().index <= log_.committed(); }
  node_id transfer_target() const { return transfer_target_; }
  std::optional<peer_status> peer(node_id id) const;

 private:
  // `hs` is the hard state to start from, `stored` what storage holds (they differ after a torn
  // write; the first ready then persists `hs`).
  node(const config& cfg, const log_storage& storage, const hard_state& hs, const hard_state& stored,
       log_index committed, log_index applied);

  // A configuration and the index of the entry (or snapshot) that set it.
  struct config_record {
    log_index index;
    raft::membership config;
  };
  struct pending_read {
    uint64_t seq = 0;  // the read sequence that confirms it
    log_index index;   // the commit index when it was requested
    uint64_t request_id = 0;
    node_id from;  // who asked: this node or a follower
  };

  // node.cc — roles, elections, the step dispatch.
  bool promotable() const { return membership().is_voter(cfg_.id); }
  void reset(raft::term t);
  void become_follower(raft::term t, node_id lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void start_campaign(bool pre, bool transfer);
  void tick_election();
  void tick_leader();
  void handle_vote_request(const message& m);
  void handle_vote_response(const message& m);
  void count_votes();
  void step_follower(message& m);
  void step_candidate(message& m);
  void step_leader(message& m);
  result<void> validate(const message& m) const;
  void send(message m);

  // node_replication.cc — appending, replicating, committing, membership.
  void append_entries(std::span<const entry> ents);
  void on_membership_changed();
  void on_commit_advanced();
  bool maybe_commit();
  bool committed_in_current_term() const;
  bool send_append(node_id to, bool send_if_empty);
  bool send_snapshot(node_id to, progress& pr);
  void broadcast_append(bool send_if_empty);
  void broadcast_heartbeat();
  void handle_append(message& m);
  void handle_heartbeat(const message& m);
  void handle_snapshot(message& m);
  void handle_append_response(const message& m);
  void handle_heartbeat_response(const message& m);
  void abort_transfer() { transfer_target_ = no_node; }
  bool quorum_active() const;

  // node_reads.cc — read index.
  void start_read(uint64_t request_id, node_id from);
  void release_reads_awaiting_commit();
  void confirm_reads();
  void deliver_read(const pending_read& r);
  void drop_reads();

  config cfg_;
  const log_storage& storage_;
  raft_log log_;
  raft::rng rng_;

  raft::term term_;
  node_id vote_;
  node_id leader_;
  raft::role role_ = raft::role::follower;

  int election_elapsed_ = 0;  // ticks since the last election event (leader: since the last
                              // check-quorum round)
  int heartbeat_elapsed_ = 0;
  int randomized_election_ticks_ = 0;

  // Configurations: front is the latest at or below the commit index; any later ones are
  // uncommitted (at most one, by the proposal rule, unless a follower holds several from leaders
  // of older terms). back() is the one in force.
  std::vector<config_record> configs_;

  std::map<node_id, progress> progress_;  // leader: every member, itself included
  std::map<node_id, bool> votes_;         // (pre-)candidate: who granted (true) or refused
  node_id transfer_target_;
  size_t uncommitted_bytes_ = 0;  // payload bytes proposed (this leadership) and not yet applied

  uint64_t read_seq_ = 0;
  std::deque<pending_read> pending_reads_;           // seq order
  std::vector<pending_read> reads_awaiting_commit_;  // before the leader commits in its term
  std::vector<read_state> read_states_;

  std::vector<message> msgs_;
  std::vector<log_index> match_scratch_;  // maybe_commit's working space
  hard_state persisted_hard_state_;       // the last one handed out and advanced
  bool awaiting_advance_ = false;
};

}  // namespace tributary::cluster::raft
