#include "cluster/replication/segment_storage.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <deque>
#include <filesystem>
#include <map>

#include "cluster/raft/node.h"
#include "common/kafka/record_batch.h"
#include "tests/unit/temp_dir.h"

using namespace tributary;
using namespace tributary::cluster;
using replication::segment_storage;
namespace fs = std::filesystem;

namespace {

constexpr int64_t now_ms = 1700000000000;

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-replication-test") {}
};

raft::node_id id(uint64_t v) { return raft::node_id{v}; }
raft::log_index at(int64_t v) { return raft::log_index{v}; }

// A producer batch of `records` records, placed at `base` in `epoch`, as a leader proposes it.
raft::payload batch(int64_t base, int64_t epoch, int records, std::string_view tag = "r") {
  kafka::record_batch_builder b({.base_offset = base, .partition_leader_epoch = static_cast<int32_t>(epoch)});
  for (int i = 0; i < records; ++i) {
    std::string v = std::string(tag) + std::to_string(base + i);
    b.add({.timestamp_ms = now_ms, .value = as_bytes(v)});
  }
  return raft::payload(*b.build());
}

raft::entry normal(int64_t base, int64_t term, int records) {
  return raft::entry{raft::term{term}, at(base), raft::entry_type::normal, batch(base, term, records),
                     static_cast<uint32_t>(records)};
}

struct opened {
  std::unique_ptr<storage::partition_log> log;
  std::unique_ptr<segment_storage> st;
};

opened open_at(const fs::path& dir, raft::membership boot = {}) {
  auto log = storage::partition_log::open(dir, {}, now_ms);
  REQUIRE(log.has_value());
  opened o{std::move(*log), nullptr};
  auto st = segment_storage::open(*o.log, std::move(boot));
  REQUIRE(st.has_value());
  o.st = std::move(*st);
  return o;
}

}  // namespace

TEST_CASE("a new segment log is an empty Raft log at offset 0") {
  temp_dir d;
  auto o = open_at(d.path, raft::membership{{id(1), id(2), id(3)}, {}});
  CHECK(o.st->first_index() == at(0));
  CHECK(o.st->last_index() == raft::no_index);
  CHECK(*o.st->term_at(raft::no_index) == raft::term{0});
  CHECK(o.st->snapshot_meta().config.voters.size() == 3);
  CHECK(o.st->term_at(at(0)).error() == raft::errc::unavailable);
}

TEST_CASE("entries of every type survive a restart, as batches a Kafka reader understands") {
  temp_dir d;
  raft::membership m{{id(1), id(2)}, {id(3)}};
  {
    auto o = open_at(d.path);
    std::vector<raft::entry> ents = {
        raft::entry{raft::term{1}, at(0), raft::entry_type::no_op, {}, 1},
        normal(1, 1, 3),
        raft::entry{raft::term{2}, at(4), raft::entry_type::config, raft::payload(raft::encode_membership(m)),
                    1},
        normal(5, 2, 2),
    };
    REQUIRE(o.st->append(ents, now_ms).has_value());
    REQUIRE(o.st->set_hard_state({raft::term{2}, id(1), at(6)}).has_value());
    REQUIRE(o.log->sync_now().has_value());
  }
  auto o = open_at(d.path);
  CHECK(o.st->saved_hard_state().term == raft::term{2});
  CHECK(o.st->saved_hard_state().vote == id(1));
  CHECK(o.st->last_index() == at(6));
  CHECK(*o.st->term_at(at(0)) == raft::term{1});
  CHECK(*o.st->term_at(at(3)) == raft::term{1});
  CHECK(*o.st->term_at(at(4)) == raft::term{2});
  auto ents = o.st->entries(at(0), at(7), 1 << 20);
  REQUIRE(ents.has_value());
  REQUIRE(ents->size() == 4);
  CHECK((*ents)[0].type == raft::entry_type::no_op);
  CHECK((*ents)[1].type == raft::entry_type::normal);
  CHECK((*ents)[1].width == 3);
  CHECK((*ents)[1].data == batch(1, 1, 3));
  CHECK((*ents)[2].type == raft::entry_type::config);
  CHECK(*raft::decode_membership((*ents)[2].data.bytes()) == m);
  CHECK((*ents)[3].index == at(5));
  // From inside an entry: the covering entry comes first.
  auto mid = o.st->entries(at(2), at(5), 1 << 20);
  REQUIRE(mid.has_value());
  CHECK(mid->front().index == at(1));
  CHECK(mid->back().index == at(4));
  // A byte limit still returns one entry.
  CHECK(o.st->entries(at(1), at(7), 1)->size() == 1);
  // The no-op and config batches are control batches: consumers skip them.
  auto rd = o.log->read(storage::offset{0}, 1 << 20, storage::offset{7});
  kafka::batch_splitter split(rd->data);
  auto first = split.next();
  REQUIRE(first.has_value());
  CHECK((*first)->is_control());
  CHECK((*first)->validate().has_value());
}

TEST_CASE("appends overwrite a suffix at an entry boundary only, and check their batches") {
  temp_dir d;
  auto o = open_at(d.path);
  std::vector<raft::entry> ents = {normal(0, 1, 2), normal(2, 1, 2), normal(4, 1, 2)};
  REQUIRE(o.st->append(ents, now_ms).has_value());
  std::vector<raft::entry> inside = {normal(3, 2, 1)};
  CHECK(o.st->append(inside, now_ms).error() == raft::errc::not_entry_boundary);
  std::vector<raft::entry> over = {normal(2, 2, 5)};
  REQUIRE(o.st->append(over, now_ms).has_value());
  CHECK(o.st->last_index() == at(6));
  CHECK(*o.st->term_at(at(2)) == raft::term{2});
  CHECK(*o.st->term_at(at(1)) == raft::term{1});
  // A batch whose offset, epoch or width disagrees with its entry is refused.
  auto wrong = normal(7, 2, 2);
  wrong.width = 3;
  std::vector<raft::entry> bad = {wrong};
  CHECK(o.st->append(bad, now_ms).error() == replication::errc::entry_mismatch);
  std::vector<raft::entry> gap = {normal(9, 2, 1)};
  CHECK(o.st->append(gap, now_ms).error() == raft::errc::unavailable);
}

TEST_CASE("a snapshot from the leader restarts the log after it") {
  temp_dir d;
  {
    auto o = open_at(d.path);
    std::vector<raft::entry> ents = {normal(0, 1, 2)};
    REQUIRE(o.st->append(ents, now_ms).has_value());
    raft::snapshot s{{at(99), raft::term{4}, raft::membership{{id(1), id(2), id(3)}, {}}},
                     raft::payload(std::vector<uint8_t>{'m', 'e', 't', 'a'})};
    REQUIRE(o.st->apply_snapshot(s, now_ms).has_value());
    CHECK(o.st->first_index() == at(100));
    CHECK(o.st->last_index() == at(99));
    CHECK(o.log->start_offset() == storage::offset{100});
    std::vector<raft::entry> next = {normal(100, 4, 1)};
    REQUIRE(o.st->append(next, now_ms).has_value());
    REQUIRE(o.log->sync_now().has_value());
  }
  auto o = open_at(d.path);
  CHECK(o.st->snapshot_meta().index == at(99));
  CHECK(*o.st->term_at(at(99)) == raft::term{4});
  CHECK(o.st->term_at(at(98)).error() == raft::errc::compacted);
  CHECK(o.st->latest_snapshot()->data.size() == 4);
  CHECK(o.st->last_index() == at(100));
}

TEST_CASE("a damaged state file is refused, not silently reset") {
  temp_dir d;
  { auto o = open_at(d.path); }
  {
    auto f = std::fopen((d.path / "raft.state").c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, 10, SEEK_SET);
    std::fputc(0x5a, f);
    std::fclose(f);
  }
  auto log = storage::partition_log::open(d.path, {}, now_ms);
  REQUIRE(log.has_value());
  CHECK(segment_storage::open(**log, {}).error() == replication::errc::bad_state_file);
}

// ---- a Raft group of three whose logs are segment logs -----------------------------------------

namespace {

class group {
 public:
  explicit group(const fs::path& root) : root_(root) {
    for (uint64_t n = 1; n <= 3; ++n) start(n);
  }

  void start(uint64_t n) {
    auto& m = members_[n];
    auto o = open_at(root_ / std::to_string(n), raft::membership{{id(1), id(2), id(3)}, {}});
    m.log = std::move(o.log);
    m.st = std::move(o.st);
    raft::config cfg;
    cfg.id = id(n);
    cfg.random_seed = n * 7919;
    // The commit index in raft.state may be older than what was applied (it is written only with
    // the term and vote): start from it, and ignore entries handed out again below.
    cfg.applied = raft::no_index;
    auto node = raft::node::create(cfg, *m.st);
    REQUIRE_MESSAGE(node.has_value(), node.error().message());
    m.node = std::move(*node);
  }
  void stop(uint64_t n) {
    members_[n].node.reset();
    members_[n].st.reset();
    members_[n].log.reset();
  }

  // Runs until nothing moves: every ready persisted (entries, hard state, fsync), its messages
  // delivered.
  void settle() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = false;
      for (auto& [n, m] : members_) {
        if (!m.node || !m.node->has_ready()) continue;
        moved = true;
        auto rd = m.node->ready();
        for (auto& msg : rd.early_messages) wire_.push_back(msg);
        if (rd.snapshot) REQUIRE(m.st->apply_snapshot(*rd.snapshot, now_ms).has_value());
        REQUIRE(m.st->append(rd.entries, now_ms).has_value());
        if (rd.hard_state) REQUIRE(m.st->set_hard_state(*rd.hard_state).has_value());
        REQUIRE(m.log->sync_now().has_value());
        for (auto& msg : rd.messages) wire_.push_back(msg);
        for (const auto& e : rd.committed_entries) {
          if (e.last() <= applied_[n]) continue;
          if (e.type == raft::entry_type::normal) committed_[n].push_back(e.index.value);
          applied_[n] = e.last();
        }
        m.node->advance(rd);
      }
      while (!wire_.empty()) {
        moved = true;
        auto msg = std::move(wire_.front());
        wire_.pop_front();
        auto& to = members_[msg.to.value];
        if (to.node) (void)to.node->step(std::move(msg));
      }
      if (!moved) return;
    }
    FAIL("the group did not settle");
  }

  uint64_t elect() {
    for (int t = 0; t < 200; ++t) {
      for (auto& [n, m] : members_)
        if (m.node) m.node->tick();
      settle();
      for (auto& [n, m] : members_)
        if (m.node && m.node->role() == raft::role::leader) return n;
    }
    FAIL("no leader");
    return 0;
  }

  void propose(uint64_t leader, int records) {
    auto& node = *members_[leader].node;
    const int64_t base = node.last_index().value + 1;
    raft::proposal p{batch(base, node.term().value, records), static_cast<uint32_t>(records)};
    REQUIRE(node.propose(std::span<const raft::proposal>(&p, 1)).has_value());
  }

  raft::node& node(uint64_t n) { return *members_[n].node; }
  storage::partition_log& log(uint64_t n) { return *members_[n].log; }
  const std::vector<int64_t>& committed(uint64_t n) { return committed_[n]; }

 private:
  struct member {
    std::unique_ptr<storage::partition_log> log;
    std::unique_ptr<segment_storage> st;
    std::unique_ptr<raft::node> node;
  };
  fs::path root_;
  std::map<uint64_t, member> members_;
  std::map<uint64_t, std::vector<int64_t>> committed_;
  std::map<uint64_t, raft::log_index> applied_{{1, raft::no_index}, {2, raft::no_index}, {3, raft::no_index}};
  std::deque<raft::message> wire_;
};

std::vector<uint8_t> all_bytes(storage::partition_log& log) {
  auto rd = log.read(log.start_offset(), 64 << 20, log.end_offset());
  REQUIRE(rd.has_value());
  return rd->data;
}

}  // namespace

TEST_CASE("three segment logs replicate through Raft, byte for byte, and come back after a restart") {
  temp_dir d;
  group g(d.path);
  uint64_t leader = g.elect();
  for (int i = 0; i < 50; ++i) g.propose(leader, 1 + i % 4);
  g.settle();
  for (int t = 0; t < 3; ++t) {  // a heartbeat round carries the final commit index to followers
    g.node(leader).tick();
    g.settle();
  }
  for (uint64_t n = 1; n <= 3; ++n) {
    CHECK(g.committed(n).size() == 50);
    CHECK(g.node(n).commit_index() == g.node(leader).last_index());
  }
  CHECK(all_bytes(g.log(1)) == all_bytes(g.log(2)));
  CHECK(all_bytes(g.log(1)) == all_bytes(g.log(3)));
  const auto end = g.node(leader).last_index();

  // Every node stops and starts again from its files.
  for (uint64_t n = 1; n <= 3; ++n) g.stop(n);
  for (uint64_t n = 1; n <= 3; ++n) g.start(n);
  for (uint64_t n = 1; n <= 3; ++n) CHECK(g.node(n).last_index() == end);
  leader = g.elect();
  CHECK(g.node(leader).term() > raft::term{1});
  g.propose(leader, 3);
  g.settle();
  CHECK(g.committed(leader).size() == 51);
  CHECK(all_bytes(g.log(1)) == all_bytes(g.log(2)));
}

TEST_CASE("a deposed leader's unacknowledged suffix is cut from its segment log") {
  temp_dir d;
  group g(d.path);
  uint64_t old_leader = g.elect();
  g.propose(old_leader, 2);
  g.settle();
  const auto committed_end = g.node(old_leader).commit_index();
  // The leader is cut off (stopped here) after appending entries nobody else has.
  g.propose(old_leader, 5);
  g.propose(old_leader, 5);
  // Persist the old leader's own ready without delivering anything: its log holds the suffix.
  auto& n = g.node(old_leader);
  auto rd = n.ready();
  REQUIRE(rd.entries.size() == 2);
  g.stop(old_leader);
  {
    // Write what the ready asked for, as a crash after the append would leave it.
    auto o = open_at(d.path / std::to_string(old_leader));
    REQUIRE(o.st->append(rd.entries, now_ms).has_value());
    REQUIRE(o.log->sync_now().has_value());
    CHECK(o.st->last_index().value == committed_end.value + 10);
  }
  uint64_t new_leader = g.elect();
  REQUIRE(new_leader != old_leader);
  g.propose(new_leader, 1);
  g.settle();
  g.start(old_leader);
  for (int t = 0; t < 5; ++t) {
    g.node(new_leader).tick();
    g.settle();
  }
  CHECK(g.node(old_leader).last_index() == g.node(new_leader).last_index());
  CHECK(all_bytes(g.log(old_leader)) == all_bytes(g.log(new_leader)));
}
