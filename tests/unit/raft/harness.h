#pragma once
// A small deterministic cluster for unit tests of the Raft core: nodes over memory_storage, a
// message queue the test controls, and helpers to persist readies, deliver messages and tick.
// Unlike the simulator nothing here is random: every test spells out its schedule. Only the widths
// of proposed entries vary, from a seeded generator (1..8 offsets by default), so that tests run
// over entries that span several offsets; tests compute offsets from what propose() returns.
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
inline log_index next(log_index i) { return log_index{i.value + 1}; }
inline log_index prev(log_index i) { return log_index{i.value - 1}; }
inline log_index idx(int64_t v) { return log_index{v}; }
inline raft::term trm(int64_t v) { return raft::term{v}; }

inline raft::payload bytes_of(std::string_view s) {
  return raft::payload(std::vector<uint8_t>(s.begin(), s.end()));
}
inline std::string string_of(const raft::payload& p) {
  auto b = p.bytes();
  return std::string(b.begin(), b.end());
}

// SplitMix64, the widths' generator.
class width_source {
 public:
  explicit width_source(uint64_t seed, uint32_t max_width) : state_(seed), max_(max_width) {}
  uint32_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return 1 + static_cast<uint32_t>(z % max_);
  }

 private:
  uint64_t state_;
  uint32_t max_;
};

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
  // a node that joins later) and a log whose first entry will be at offset `start`.
  explicit cluster(std::vector<uint64_t> ids, raft::membership initial = {}, tweak_fn tweak = {},
                   log_index start = log_index{0})
      : tweak_(std::move(tweak)) {
    if (initial.voters.empty() && initial.learners.empty()) initial = members(ids);
    for (uint64_t id : ids) add(id, initial, start);
  }

  void add(uint64_t id, raft::membership bootstrap, log_index first = log_index{0}) {
    member m;
    m.storage = std::make_unique<raft::memory_storage>(std::move(bootstrap), first);
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
    for (auto& [id, m] : members_) check_shape(id);
  }

  // Offsets in `id`'s log are contiguous (each entry starts right after the previous one's last
  // offset), its commit index is the end of an entry, and it applied entries without gaps.
  void check_shape(uint64_t id) {
    INFO("node " << id);
    raft::node& n = *members_.at(id).node;
    auto all = n.log_entries(n.first_index(), next(n.last_index()), SIZE_MAX);
    REQUIRE(all.has_value());
    log_index expect = n.first_index();
    bool commit_at_end = n.commit_index() == prev(n.first_index());
    for (const raft::entry& e : *all) {
      CHECK(e.index == expect);
      CHECK(e.width >= 1);
      expect = next(e.last());
      commit_at_end = commit_at_end || e.last() == n.commit_index();
    }
    CHECK(prev(expect) == n.last_index());
    CHECK(commit_at_end);
    const auto& applied = members_.at(id).applied;
    for (size_t k = 1; k < applied.size(); ++k) CHECK(applied[k].index == next(applied[k - 1].last()));
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

  // Proposal widths: random in 1..max_width from `seed`, or always 1 with max_width 1.
  void use_widths(uint64_t seed, uint32_t max_width) { widths_ = width_source(seed, max_width); }
  uint32_t next_width() { return widths_.next(); }

  // Makes `id` leader: it campaigns and the cluster settles.
  void elect(uint64_t id) {
    REQUIRE(members_.at(id).node->campaign().has_value());
    stabilize();
    REQUIRE(members_.at(id).node->role() == raft::role::leader);
  }

  // Proposes one entry of the next width (or of `width`); returns the offsets it occupies.
  raft::index_range propose(uint64_t id, std::string_view data, uint32_t width = 0) {
    raft::proposal p{bytes_of(data), width ? width : next_width()};
    auto r = members_.at(id).node->propose(std::span<const raft::proposal>(&p, 1));
    REQUIRE(r.has_value());
    CHECK(r->last.value - r->first.value + 1 == p.width);
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
  width_source widths_{1, 8};
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
