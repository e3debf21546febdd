// Entries that span several offsets (a Kafka batch of n records covers n offsets): proposals and
// their widths, conflicts and backtracking between logs whose entries have different widths,
// snapshots and the commit index at entry ends, logs that do not start at offset 0.
#include <climits>

#include "cluster/raft/raft_log.h"
#include "harness.h"

using namespace raft_test;
using raft::message_type;
using raft::role;

namespace {

// Writes entries of (term, width) from offset 0 into `id`'s storage, with a hard state of
// `hs_term`, and restarts it.
void seed(cluster& c, uint64_t id, std::vector<std::pair<int64_t, uint32_t>> shape, int64_t hs_term) {
  std::vector<raft::entry> ents;
  int64_t at = 0;
  for (auto [t, w] : shape) {
    ents.push_back(
        raft::entry{trm(t), idx(at), raft::entry_type::normal, bytes_of("e" + std::to_string(at)), w});
    at += w;
  }
  REQUIRE(c.storage(id).append(ents).has_value());
  c.storage(id).set_hard_state(raft::hard_state{trm(hs_term), raft::no_node, raft::no_index});
  c.start(id);
}

std::vector<raft::entry> all_entries(cluster& c, uint64_t id) {
  auto e = c[id].log_entries(c[id].first_index(), next(c[id].last_index()), SIZE_MAX);
  REQUIRE(e.has_value());
  return *e;
}

size_t rejections_from(cluster& c, uint64_t id) {
  size_t n = 0;
  for (auto& m : c.delivered()) n += m.type == message_type::append_response && m.from == nid(id) && m.reject;
  return n;
}

// The appends the leader sent to `to` that carried entries.
std::vector<raft::message> appends_to(cluster& c, uint64_t to) {
  std::vector<raft::message> out;
  for (auto& m : c.delivered()) {
    if (m.type == message_type::append && m.to == nid(to) && !m.entries.empty()) out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("proposals occupy as many offsets as their widths") {
  cluster c({1});
  c.elect(1);  // the no-op at offset 0
  std::vector<raft::proposal> ps{{bytes_of("a"), 16}, {bytes_of("b"), 1}, {bytes_of("c"), 3}};
  auto r = c[1].propose(ps);
  REQUIRE(r.has_value());
  CHECK(*r == raft::index_range{idx(1), idx(20)});
  c.stabilize();
  CHECK(c[1].commit_index() == idx(20));
  auto& applied = c.at(1).applied;
  REQUIRE(applied.size() == 4);
  CHECK(applied[1].index == idx(1));
  CHECK(applied[1].last() == idx(16));
  CHECK(applied[2].index == idx(17));
  CHECK(applied[3].index == idx(18));
  CHECK(applied[3].last() == idx(20));
  // The convenience for payloads gives width 1 each.
  std::vector<raft::payload> plain{bytes_of("d"), bytes_of("e")};
  CHECK(*c[1].propose(plain) == raft::index_range{idx(21), idx(22)});
}

TEST_CASE("a width of 0, above max_entry_width or past the largest offset is refused") {
  cluster c({1});
  c.elect(1);
  log_index last = c[1].last_index();
  auto refused = [&](std::vector<raft::proposal> ps) {
    auto r = c[1].propose(ps);
    return !r && r.error() == raft::errc::invalid_width;
  };
  CHECK(refused({{bytes_of("zero"), 0}}));
  CHECK(refused({{bytes_of("huge"), raft::max_entry_width + 1}}));
  CHECK(refused({{bytes_of("fine"), 4}, {bytes_of("zero"), 0}}));  // all or nothing
  CHECK(c[1].last_index() == last);
  CHECK(!c[1].has_ready());
  // The widest batch Kafka can express is accepted.
  auto widest = c[1].propose(std::vector<raft::proposal>{{bytes_of("w"), raft::max_entry_width}});
  REQUIRE(widest.has_value());
  CHECK(widest->last.value - widest->first.value + 1 == int64_t{raft::max_entry_width});
  c.stabilize();
  CHECK(c[1].commit_index() == widest->last);
}

TEST_CASE("offsets run out below the largest int64") {
  // A log that starts 10 offsets below the top: the no-op takes one, a batch of 9 the rest (the
  // offset after the last one, a Kafka log end offset, must still be an int64).
  raft::memory_storage s(members({1}), idx(INT64_MAX - 10));
  raft::config cfg;
  cfg.id = nid(1);
  auto n = raft::node::create(cfg, s);
  REQUIRE(n.has_value());
  raft::node& node = **n;
  REQUIRE(node.campaign().has_value());
  auto persist = [&] {
    while (node.has_ready()) {
      raft::ready rd = node.ready();
      REQUIRE(s.append(rd.entries).has_value());
      if (rd.hard_state) s.set_hard_state(*rd.hard_state);
      node.advance(rd);
    }
  };
  persist();
  REQUIRE(node.commit_index() == idx(INT64_MAX - 10));
  std::vector<raft::proposal> too_wide{{bytes_of("x"), 10}};
  CHECK(node.propose(too_wide).error() == raft::errc::invalid_width);
  std::vector<raft::proposal> fits{{bytes_of("x"), 9}};
  auto r = node.propose(fits);
  REQUIRE(r.has_value());
  CHECK(r->last == idx(INT64_MAX - 1));
  persist();
  CHECK(node.commit_index() == idx(INT64_MAX - 1));
  std::vector<raft::proposal> one{{bytes_of("y"), 1}};
  CHECK(node.propose(one).error() == raft::errc::invalid_width);
}

TEST_CASE("a conflict between entries of other widths at the same offsets truncates at an entry start") {
  cluster c({1, 2, 3});
  // Node 1 and 3: [0]t1 [1]t3 [2..5]t3 [6..7]t3. Node 2 holds entries of the stale term 2 at the
  // same offsets, cut differently: [0]t1 [1..3]t2 [4..5]t2 [6..10]t2.
  seed(c, 1, {{1, 1}, {3, 1}, {3, 4}, {3, 2}}, 3);
  seed(c, 3, {{1, 1}, {3, 1}, {3, 4}, {3, 2}}, 3);
  seed(c, 2, {{1, 1}, {2, 3}, {2, 2}, {2, 5}}, 2);
  c.elect(1);
  c.stabilize();
  CHECK(rejections_from(c, 2) == 1);
  auto leader = all_entries(c, 1);
  auto follower = all_entries(c, 2);
  CHECK(follower == leader);
  REQUIRE(leader.size() == 5);
  CHECK(leader[4].index == idx(8));  // the no-op of term 4
  CHECK(c[2].commit_index() == idx(8));
  // The repair started right after the common entry [0], at the start of both logs' next entry.
  auto sent = appends_to(c, 2);
  REQUIRE_FALSE(sent.empty());
  CHECK(sent.back().index == idx(0));
  CHECK(sent.back().entries.front().index == idx(1));
  CHECK(c.storage(2).last_index() == idx(8));
}

TEST_CASE("backtracking: a member's hint inside a leader's entry moves the probe to that entry's start") {
  // A state a five-node cluster can reach: a term-1 leader wrote [0..9] to node 1 (and others);
  // node 2, without it, led term 3 and wrote [0..2]; node 1 led term 4 and wrote [10..12]
  // without replicating it. Node 1 now wins term 5.
  cluster c({1, 2, 3});
  seed(c, 1, {{1, 10}, {4, 3}}, 4);
  seed(c, 3, {{1, 10}}, 1);
  seed(c, 2, {{3, 3}}, 3);
  c.elect(1);
  c.stabilize();
  // Node 2 refuses prev=12@4 and names its offset 2 (term 3); node 1's own entry covering 2 is
  // [0..9] of term 1, so the next probe sends all of [0..9] after no_index.
  CHECK(rejections_from(c, 2) == 1);
  auto sent = appends_to(c, 2);
  REQUIRE(sent.size() >= 2);
  CHECK(sent[1].index == raft::no_index);
  CHECK(sent[1].entries.front().index == idx(0));
  CHECK(sent[1].entries.front().width == 10);
  CHECK(all_entries(c, 2) == all_entries(c, 1));
  CHECK(c[1].peer(nid(2))->match == c[1].last_index());
}

TEST_CASE("backtracking across entries of different widths and terms") {
  cluster c({1, 2, 3});
  // A long common prefix of mixed widths, then divergent suffixes of several terms.
  std::vector<std::pair<int64_t, uint32_t>> common{{1, 5}, {1, 1}, {2, 7}, {2, 2}, {2, 16}};
  auto with = [&](std::vector<std::pair<int64_t, uint32_t>> tail) {
    auto all = common;
    all.insert(all.end(), tail.begin(), tail.end());
    return all;
  };
  seed(c, 1, with({{4, 3}, {4, 9}, {6, 1}, {6, 4}}), 6);
  seed(c, 3, with({{4, 3}, {4, 9}, {6, 1}, {6, 4}}), 6);
  seed(c, 2, with({{3, 2}, {3, 2}, {3, 8}, {5, 1}, {5, 6}, {5, 3}}), 5);
  c.elect(1);
  c.stabilize();
  CHECK(rejections_from(c, 2) <= 2);
  CHECK(all_entries(c, 2) == all_entries(c, 1));
  // Every append the leader sent started right after an entry of its log.
  auto leader = all_entries(c, 1);
  for (auto& m : appends_to(c, 2)) {
    bool at_end = m.index == raft::no_index;
    for (auto& e : leader) at_end = at_end || e.last() == m.index;
    CHECK(at_end);
  }
}

TEST_CASE("find_conflict_by_term answers like a scan, in O(log n) lookups") {
  raft::memory_storage s(members({1}));
  std::vector<raft::entry> ents;
  int64_t at = 0;
  width_source w(42, 8);
  for (int64_t t : {1, 1, 1, 2, 2, 4, 4, 4, 4, 5, 7, 7}) {
    uint32_t width = w.next();
    ents.push_back(raft::entry{trm(t), idx(at), raft::entry_type::normal, {}, width});
    at += width;
  }
  REQUIRE(s.append(ents).has_value());
  REQUIRE(s.create_snapshot(ents[1].last(), members({1}), {}).has_value());
  REQUIRE(s.compact(ents[1].last()).has_value());
  raft::raft_log log(s, raft::no_index, raft::no_index);
  log_index floor = prev(log.first_index());
  for (int64_t i = floor.value - 1; i <= log.last_index().value + 3; ++i) {
    for (int64_t t = 0; t <= 8; ++t) {
      CAPTURE(i);
      CAPTURE(t);
      // The scan: the last offset <= i with a term <= t.
      std::pair<log_index, raft::term> want{idx(std::min(i, log.last_index().value)), trm(0)};
      if (want.first < floor) {
        want.second = trm(0);
      } else {
        while (want.first >= floor && *log.term_at(want.first) > trm(t)) want.first = prev(want.first);
        if (want.first >= floor) want.second = *log.term_at(want.first);
      }
      CHECK(log.find_conflict_by_term(idx(i), trm(t)) == want);
    }
  }
}

TEST_CASE("snapshots are taken at the last offset of an entry and restore a member there") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  raft::index_range a = c.propose(1, "a", 7);
  c.propose(1, "b", 3);
  c.stabilize();
  // Inside entry "a": refused; at its end: taken.
  CHECK(c.storage(1).create_snapshot(log_index{a.last.value - 1}, c[1].membership(), {}).error() ==
        raft::errc::not_entry_boundary);
  REQUIRE(c.storage(1).create_snapshot(a.last, c[1].membership(), bytes_of("upto-a")).has_value());
  CHECK(c.storage(1).compact(log_index{a.first.value + 2}).error() == raft::errc::not_entry_boundary);
  REQUIRE(c.storage(1).compact(a.last).has_value());
  CHECK(c[1].first_index() == next(a.last));
  c.heal();
  c.tick(1);
  c.stabilize();
  CHECK(count_type(c.delivered(), message_type::snapshot) == 1);
  CHECK(c.storage(3).snapshot_meta().index == a.last);
  CHECK(c[3].first_index() == next(a.last));
  CHECK(all_entries(c, 3) == all_entries(c, 1));
  CHECK(c[3].commit_index() == c[1].commit_index());
}

TEST_CASE("the commit index only ever lands on the last offset of an entry") {
  cluster c({1, 2, 3});
  c.elect(1);
  for (int round = 0; round < 4; ++round) {
    for (int k = 0; k < 3; ++k) c.propose(1, "p", static_cast<uint32_t>(1 + (round * 3 + k) % 7));
    // One message at a time, in a rotating order, checking every node after each delivery.
    for (int step = 0; step < 200; ++step) {
      auto q = c.take();
      if (q.empty()) break;
      std::rotate(q.begin(), q.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(step) % q.size()),
                  q.end());
      c.deliver(q.front());
      for (size_t i = 1; i < q.size(); ++i) c.queue().push_back(q[i]);
      c.persist_all();
      for (uint64_t id : {1, 2, 3}) c.check_shape(id);
    }
    c.tick(1);  // heartbeats carry the commit index too
  }
  c.stabilize();
  CHECK(c[2].commit_index() == c[1].last_index());
}

TEST_CASE("max_uncommitted_bytes counts payload bytes, not offsets") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.max_uncommitted_bytes = 100; });
  c.elect(1);
  c.isolate(2);
  c.isolate(3);
  std::vector<raft::proposal> wide{{raft::payload(std::vector<uint8_t>(60, 'w')), 5000}};
  REQUIRE(c[1].propose(wide).has_value());
  std::vector<raft::proposal> narrow{{raft::payload(std::vector<uint8_t>(60, 'n')), 1}};
  CHECK(c[1].propose(narrow).error() == raft::errc::too_many_uncommitted_bytes);
  c.heal();
  c.tick(1);
  c.stabilize();
  CHECK(c[1].propose(narrow).has_value());
}

TEST_CASE("a group whose log starts at a large offset, and a member that joins with an empty log") {
  const log_index start{int64_t{1} << 40};
  cluster c({1, 2, 3}, {}, {}, start);
  c.add(4, {});  // a new replica: its empty log starts at offset 0
  c.elect(1);
  CHECK(c[1].commit_index() == start);  // the no-op is the group's first entry
  raft::index_range r = c.propose(1, "batch", 16);
  CHECK(r.first == next(start));
  c.stabilize();
  REQUIRE(c[1].propose_config_change({raft::config_change_type::add_learner, nid(4)}).has_value());
  c.stabilize();
  // The leader could not send offsets below its log start: node 4 got the bootstrap snapshot.
  CHECK(c.storage(4).snapshot_meta().index == prev(start));
  CHECK(c[4].first_index() == start);
  CHECK(all_entries(c, 4) == all_entries(c, 1));
  CHECK(c[4].commit_index() == c[1].commit_index());
}

TEST_CASE("leadership transfer waits until the target holds the leader's last offset") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  c.propose(1, "wide", 40);
  c.stabilize();
  c.heal();
  REQUIRE(c[1].transfer_leadership(nid(3)).has_value());
  auto first = c.take();
  CHECK(count_type(first, message_type::timeout_now) == 0);  // node 3 is behind: append first
  for (auto& m : first) c.queue().push_back(m);
  c.stabilize();
  CHECK(c[3].role() == role::leader);
  CHECK(*c[3].log_term(idx(40)) == trm(1));  // it holds all of [1..40]
  CHECK(c[3].last_index() == idx(41));       // and its own no-op right after
}
