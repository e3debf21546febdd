#pragma once
// Messages between the members of one Raft group. One struct for every type, as in etcd's raft:
// each type uses the fields its comment names and leaves the others at their defaults. The transport
// encodes them (and batches heartbeats of many groups between two nodes); the core neither encodes
// nor sends anything.
#include <optional>
#include <string>
#include <vector>

#include "cluster/raft/types.h"

namespace tributary::cluster::raft {

enum class message_type : uint8_t {
  // Every index in a message is an offset (types.h), and every position is the LAST offset of an
  // entry unless said otherwise.
  //
  // Election. `term` is the term campaigned for (for pre_vote: the sender's term + 1, which the
  // sender has not adopted); `index`/`log_term` describe the candidate's last entry (its last
  // offset); `transfer` is set when the campaign follows a leadership transfer and may override a
  // leader lease.
  pre_vote = 0,
  pre_vote_response = 1,  // `reject`; a granted response carries the term that was asked for
  vote = 2,
  vote_response = 3,  // `reject`
  // Replication. append: `index`/`log_term` are the last offset and term of the entry just before
  // `entries` (the follower checks it holds that entry), `entries` are contiguous (each starts at
  // the previous one's last offset + 1, the first at index + 1), `commit` is the leader's commit
  // index.
  append = 4,
  // Success: `index` is the last offset known to match the leader's log. Rejection (`reject`):
  // `index` is the rejected append's `index`, and `reject_hint`/`log_term` name the follower's
  // last offset at or below it whose term is <= the rejected append's log_term, with that term,
  // for backtracking by term (the hint may be inside an entry; see raft_log::find_conflict_by_term).
  append_response = 5,
  // Heartbeats are small and self-contained so the transport can batch them across groups:
  // `term`, `commit` (capped at what the follower is known to hold) and `context` (the leader's
  // read sequence, echoed back to confirm read_index requests).
  heartbeat = 6,
  heartbeat_response = 7,    // `context` echoed
  snapshot = 8,              // `snapshot`; answered with an append_response
  timeout_now = 9,           // leadership transfer: campaign now, skipping pre-vote
  read_index = 10,           // follower -> leader; `context` is the caller's request id
  read_index_response = 11,  // `index` is the read index (a commit index); `context` the request id
};

struct message {
  message_type type = message_type::heartbeat;
  node_id from;
  node_id to;
  raft::term term;
  log_index index;
  raft::term log_term;
  log_index commit;
  log_index reject_hint;
  bool reject = false;
  bool transfer = false;
  uint64_t context = 0;
  std::vector<entry> entries;
  std::optional<raft::snapshot> snapshot;
};

const char* to_string(message_type t);
// One line for traces and test failures, e.g. "append 1->2 t=3 i=10 lt=3 c=9 n=2".
std::string to_string(const message& m);

}  // namespace tributary::cluster::raft
