// raft::node: read index (thesis §6.4). A read is linearizable if it observes every write
// committed before it was requested. The leader records its commit index, then confirms it is
// still the leader by hearing from a quorum in a heartbeat round that started after the request;
// the read may then be served once the state machine has applied that index.
//
// Heartbeats carry a read sequence number instead of one context per read: each request takes the
// next number, every heartbeat carries the latest, and an echo of n confirms every read numbered
// <= n. A read is confirmed when a quorum of voters (the leader included) echoed its number.
#include <algorithm>

#include "cluster/raft/node.h"
#include "common/assert.h"

namespace tributary::cluster::raft {

result<void> node::read_index(uint64_t request_id) {
  if (role_ == raft::role::leader) {
    if (pending_reads_.size() + reads_awaiting_commit_.size() >= cfg_.max_pending_reads) {
      return fail(errc::too_many_pending_reads);
    }
    // Until it commits an entry of its term a new leader does not know the commit index.
    if (committed_in_current_term()) {
      start_read(request_id, cfg_.id);
    } else {
      reads_awaiting_commit_.push_back(pending_read{0, no_index, request_id, cfg_.id});
    }
    return {};
  }
  if (leader_ == no_node) return fail(errc::no_leader);
  message m;
  m.type = message_type::read_index;
  m.to = leader_;
  m.context = request_id;
  send(std::move(m));
  return {};
}

void node::start_read(uint64_t request_id, node_id from) {
  pending_read r{++read_seq_, log_.committed(), request_id, from};
  if (membership().voters.size() == 1) {
    deliver_read(r);  // a single voter is its own quorum
    return;
  }
  pending_reads_.push_back(r);
  broadcast_heartbeat();
}

void node::release_reads_awaiting_commit() {
  if (reads_awaiting_commit_.empty() || !committed_in_current_term()) return;
  std::vector<pending_read> waiting = std::move(reads_awaiting_commit_);
  reads_awaiting_commit_.clear();
  for (const pending_read& r : waiting) start_read(r.request_id, r.from);
}

void node::confirm_reads() {
  if (pending_reads_.empty()) return;
  const raft::membership& m = membership();
  std::vector<uint64_t> acked;
  acked.reserve(m.voters.size());
  for (node_id v : m.voters) {
    if (v == cfg_.id) {
      acked.push_back(read_seq_);
      continue;
    }
    auto it = progress_.find(v);
    acked.push_back(it == progress_.end() ? 0 : it->second.read_acked);
  }
  std::sort(acked.begin(), acked.end(), std::greater<>());
  uint64_t confirmed = acked[m.quorum() - 1];
  while (!pending_reads_.empty() && pending_reads_.front().seq <= confirmed) {
    deliver_read(pending_reads_.front());
    pending_reads_.pop_front();
  }
}

void node::deliver_read(const pending_read& r) {
  if (r.from == cfg_.id) {
    read_states_.push_back(read_state{r.index, r.request_id});
    return;
  }
  message m;
  m.type = message_type::read_index_response;
  m.to = r.from;
  m.index = r.index;
  m.context = r.request_id;
  send(std::move(m));
}

void node::drop_reads() {
  pending_reads_.clear();
  reads_awaiting_commit_.clear();
}

}  // namespace tributary::cluster::raft
