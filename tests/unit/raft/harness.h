#pragma once
// A small deterministic cluster for unit tests of the Raft core: nodes over memory_storage, a
// message queue the test controls, and helpers to persist readies, deliver messages and tick.
// Unlike the simulator nothing here is random: every test spells out its schedule.
#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/raft/node.h"

namespace raft_test {

namespace raft = tributary::cluster::raft;
using raft::log_index;
using raft::node_id;

inline node_id nid(uint64_t v) { return node_id{v}; }
inline log_index idx(int64_t v) { return log_index{v}; }
inline raft::term trm(int64_t v) { return raft::term{v}; }

inline raft::payload bytes_of(std::string_view s) {
  return raft::payload(std::vector<uint8_t>(s.begin(), s.end()));
}
inline std::string string_of(const raft::payload& p) {
  auto b = p.bytes();
  return std::string(b.begin(), b.end());
}

inline raft::membership members(std::vector<uint64_t> voters, std::vector<uint64_t> learners = {}) {
  raft::membership m;
  for (uint64_t v : voters) m.voters.push_back(node_id{v});
  for (uint64_t l : learners) m.learners.push_back(node_id{l});
  std::sort(m.voters.begin(), m.voters.end());
  std::sort(m.learners.begin(), m.learners.end());
  return m;
}

struct member {
  std::unique_ptr<raft::memory_storage> storage;
  std::unique_ptr<raft::node> node;
  std::vector<raft::entry> applied;
  std::vector<raft::read_state> reads;
  std::vector<raft::ready> readies;  // every ready handled, for tests that inspect them
};

class cluster {
 public:
  using tweak_fn = std::function<void(raft::config&)>;

  // Nodes `ids`, each bootstrapped with `initial` as its membership (pass an empty membership for
  // a node that joins later).
  explicit cluster(std::vector<uint64_t> ids, raft::membership initial = {}, tweak_fn tweak = {})
      : tweak_(std::move(tweak)) {
    if (initial.voters.empty() && initial.learners.empty()) initial = members(ids);
    for (uint64_t id : ids) add(id, initial);
  }

  void add(uint64_t id, raft::membership bootstrap) {
    member m;
    m.storage = std::make_unique<raft::memory_storage>(std::move(bootstrap));
    members_[id] = std::move(m);
    start(id);
  }

  raft::config config_for(uint64_t id) const {
    raft::config cfg;
    cfg.id = node_id{id};
    cfg.random_seed = id;
    if (tweak_) tweak_(cfg);
    return cfg;
  }

  // (Re)creates the node over its storage, as after a crash (unpersisted state is gone).
  void start(uint64_t id) {
    member& m = members_.at(id);
    raft::config cfg = config_for(id);
    cfg.applied = m.storage->snapshot_meta().index;
    m.applied.clear();
    auto n = raft::node::create(cfg, *m.storage);
    REQUIRE(n.has_value());
    m.node = std::move(*n);
  }

  // Restarts `id` reading through `reader` (e.g. a faulty_storage over storage(id)); readies are
  // still persisted into storage(id).
  void start_over(uint64_t id, const raft::log_storage& reader) {
    member& m = members_.at(id);
    raft::config cfg = config_for(id);
    cfg.applied = m.storage->snapshot_meta().index;
    m.applied.clear();
    auto n = raft::node::create(cfg, reader);
    REQUIRE(n.has_value());
    m.node = std::move(*n);
  }

  raft::node& operator[](uint64_t id) { return *members_.at(id).node; }
  member& at(uint64_t id) { return members_.at(id); }
  raft::memory_storage& storage(uint64_t id) { return *members_.at(id).storage; }

  // Handles every pending ready of `id`: persist, queue messages, apply, advance.
  void persist(uint64_t id) {
    member& m = members_.at(id);
    for (int round = 0; round < 100 && m.node->has_ready(); ++round) {
      raft::ready rd = m.node->ready();
      if (rd.snapshot) {
        REQUIRE(m.storage->apply_snapshot(*rd.snapshot).has_value());
        m.applied.clear();  // the state machine is replaced by the snapshot
      }
      REQUIRE(m.storage->append(rd.entries).has_value());
      if (rd.hard_state) m.storage->set_hard_state(*rd.hard_state);
      for (auto& msg : rd.early_messages) queue_.push_back(msg);
      for (auto& msg : rd.messages) queue_.push_back(msg);
      for (auto& e : rd.committed_entries) m.applied.push_back(e);
      for (auto& r : rd.read_states) m.reads.push_back(r);
      m.node->advance(rd);
      m.readies.push_back(std::move(rd));
    }
  }
  void persist_all() {
    for (auto& [id, m] : members_) persist(id);
  }

  // Delivers queued messages (and the messages they cause) until the queue is empty. Messages to
  // or from an isolated node, or matching `drop`, are lost.
  void stabilize(std::function<bool(const raft::message&)> drop = {}) {
    persist_all();
    for (int round = 0; round < 10000 && !queue_.empty(); ++round) {
      std::vector<raft::message> batch = std::move(queue_);
      queue_.clear();
      for (auto& msg : batch) deliver(msg, drop);
      persist_all();
    }
    REQUIRE(queue_.empty());
  }

  void deliver(const raft::message& msg, const std::function<bool(const raft::message&)>& drop = {}) {
    if (isolated_.contains(msg.from.value) || isolated_.contains(msg.to.value)) return;
    if (drop && drop(msg)) return;
    auto it = members_.find(msg.to.value);
    if (it == members_.end()) return;
    delivered_.push_back(msg);
    auto r = it->second.node->step(msg);
    REQUIRE(r.has_value());
  }

  // Queued messages, removed from the queue (for tests that deliver by hand).
  std::vector<raft::message> take(std::function<bool(const raft::message&)> which = {}) {
    persist_all();
    std::vector<raft::message> out, keep;
    for (auto& msg : queue_) (!which || which(msg) ? out : keep).push_back(msg);
    queue_ = std::move(keep);
    return out;
  }

  void tick(uint64_t id, int times = 1) {
    for (int i = 0; i < times; ++i) members_.at(id).node->tick();
    persist(id);
  }

  // Makes `id` leader: it campaigns and the cluster settles.
  void elect(uint64_t id) {
    REQUIRE(members_.at(id).node->campaign().has_value());
    stabilize();
    REQUIRE(members_.at(id).node->role() == raft::role::leader);
  }

  log_index propose(uint64_t id, std::string_view data) {
    raft::payload p = bytes_of(data);
    auto r = members_.at(id).node->propose(std::span<const raft::payload>(&p, 1));
    REQUIRE(r.has_value());
    return *r;
  }

  void isolate(uint64_t id) { isolated_.insert(id); }
  void heal() { isolated_.clear(); }

  std::vector<raft::message>& queue() { return queue_; }
  std::vector<raft::message>& delivered() { return delivered_; }
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> out;
    for (auto& [id, m] : members_) out.push_back(id);
    return out;
  }

 private:
  tweak_fn tweak_;
  std::map<uint64_t, member> members_;
  std::vector<raft::message> queue_;
  std::vector<raft::message> delivered_;
  std::set<uint64_t> isolated_;
};

inline size_t count_type(const std::vector<raft::message>& ms, raft::message_type t) {
  return static_cast<size_t>(
      std::count_if(ms.begin(), ms.end(), [&](const raft::message& m) { return m.type == t; }));
}

}  // namespace raft_test
