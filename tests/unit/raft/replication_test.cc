// Replication: backtracking, pipelining and its limits, snapshots, leadership transfer, restarts.
#include "faulty_storage.h"
#include "harness.h"

using namespace raft_test;
using raft::message_type;
using raft::role;

namespace {

// Gives node `id` a log made of runs of (count, term) from offset 0 and a hard state of `hs_term`,
// then restarts it over that storage. The k-th entry's width depends only on (width_seed, term, k),
// so two nodes given the same run of a term hold the same entries, as Raft requires (one leader
// per term); width_seed 0 gives width 1 throughout.
void seed_log(cluster& c, uint64_t id, std::vector<std::pair<int, int64_t>> runs, int64_t hs_term,
              uint64_t width_seed = 0) {
  std::vector<raft::entry> ents;
  int64_t i = 0;
  int ordinal = 0;
  for (auto [count, t] : runs) {
    for (int k = 0; k < count; ++k, ++ordinal) {
      uint32_t w =
          width_seed == 0
              ? 1
              : width_source(width_seed * 1000003 + static_cast<uint64_t>(t) * 1009 + ordinal, 8).next();
      ents.push_back(
          raft::entry{trm(t), idx(i), raft::entry_type::normal, bytes_of("e" + std::to_string(i)), w});
      i += w;
    }
  }
  REQUIRE(c.storage(id).append(ents).has_value());
  c.storage(id).set_hard_state(raft::hard_state{trm(hs_term), raft::no_node, raft::no_index});
  c.start(id);
}

size_t rejections_from(cluster& c, uint64_t id) {
  size_t n = 0;
  for (auto& m : c.delivered()) {
    if (m.type == message_type::append_response && m.from == nid(id) && m.reject) ++n;
  }
  return n;
}

// The same entries (offsets, widths, terms, payloads) from the later of the two log starts on.
void check_same_log(cluster& c, uint64_t a, uint64_t b) {
  REQUIRE(c[a].last_index() == c[b].last_index());
  log_index from = std::max(c[a].first_index(), c[b].first_index());
  auto ea = c[a].log_entries(from, next(c[a].last_index()), SIZE_MAX);
  auto eb = c[b].log_entries(from, next(c[b].last_index()), SIZE_MAX);
  REQUIRE(ea.has_value());
  REQUIRE(eb.has_value());
  CHECK(*ea == *eb);
}

raft::payload sized(size_t n, char fill = 'p') {
  return raft::payload(std::vector<uint8_t>(n, static_cast<uint8_t>(fill)));
}

}  // namespace

// Each backtracking test runs with width 1 throughout (seed 0) and with random widths 1..8.
TEST_CASE("backtracking by term: one rejection per term, not per entry") {
  for (uint64_t ws : {0, 1, 2, 3, 4, 5}) {
    CAPTURE(ws);
    cluster c({1, 2, 3});
    seed_log(c, 1, {{3, 1}, {5, 5}}, 5, ws);
    seed_log(c, 3, {{3, 1}, {5, 5}}, 5, ws);
    // Node 2 holds 30 entries of three stale terms after the common prefix.
    seed_log(c, 2, {{3, 1}, {10, 2}, {10, 3}, {10, 4}}, 4, ws);
    log_index noop = next(c[1].last_index());
    c.elect(1);
    c.stabilize();
    CHECK(rejections_from(c, 2) == 1);
    check_same_log(c, 1, 2);
    CHECK(c[2].last_index() == noop);  // the stale suffix is gone; the new leader's no-op follows
    CHECK(c[2].commit_index() == noop);
  }
}

TEST_CASE("backtracking: a follower with a short log says where it ends") {
  for (uint64_t ws : {0, 1, 2, 3}) {
    CAPTURE(ws);
    cluster c({1, 2, 3});
    seed_log(c, 1, {{3, 1}, {40, 2}}, 2, ws);
    seed_log(c, 3, {{3, 1}, {40, 2}}, 2, ws);
    seed_log(c, 2, {{3, 1}}, 1, ws);
    c.elect(1);
    c.stabilize();
    CHECK(rejections_from(c, 2) == 1);
    check_same_log(c, 1, 2);
  }
}

TEST_CASE("backtracking: a follower whose log diverges inside the leader's terms") {
  for (uint64_t ws : {0, 1, 2, 3, 4, 5, 6, 7}) {
    CAPTURE(ws);
    cluster c({1, 2, 3});
    seed_log(c, 1, {{2, 1}, {4, 2}, {4, 4}, {4, 6}}, 6, ws);
    seed_log(c, 3, {{2, 1}, {4, 2}, {4, 4}, {4, 6}}, 6, ws);
    seed_log(c, 2, {{2, 1}, {4, 2}, {5, 3}, {6, 5}}, 5, ws);
    c.elect(1);
    c.stabilize();
    CHECK(rejections_from(c, 2) <= 2);
    check_same_log(c, 1, 2);
  }
}

TEST_CASE("a stale append below the commit index is answered with the commit index") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.propose(1, "a");
  c.stabilize();
  raft::message stale;
  stale.type = message_type::append;
  stale.from = nid(1);
  stale.to = nid(2);
  stale.term = c[1].term();
  stale.index = raft::no_index;
  stale.log_term = trm(0);
  REQUIRE(c[2].step(stale).has_value());
  auto out = c.take();
  REQUIRE(out.size() == 1);
  CHECK(out[0].type == message_type::append_response);
  CHECK_FALSE(out[0].reject);
  CHECK(out[0].index == c[2].commit_index());
}

TEST_CASE("pipelining stops at max_inflight_appends and resumes on answers") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.max_inflight_appends = 2; });
  c.elect(1);
  for (int i = 0; i < 5; ++i) c.propose(1, "p" + std::to_string(i));
  auto out = c.take();
  size_t to2 = 0;
  for (auto& m : out) {
    if (m.type == message_type::append && m.to == nid(2)) ++to2;
  }
  CHECK(to2 == 2);
  CHECK(c[1].peer(nid(2))->state == raft::progress_state::replicate);
  for (auto& m : out) c.queue().push_back(m);
  c.stabilize();
  check_same_log(c, 1, 2);
  CHECK(c[2].commit_index() == c[1].last_index());
}

TEST_CASE("max_append_bytes bounds every append, but at least one entry goes") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.max_append_bytes = 100; });
  c.elect(1);
  std::vector<raft::payload> ps(5, sized(50));
  REQUIRE(c[1].propose(ps).has_value());
  c.stabilize();
  size_t appends = 0;
  for (auto& m : c.delivered()) {
    if (m.type != message_type::append) continue;
    ++appends;
    CHECK(m.entries.size() <= 1);  // 2 x (32 + 50) > 100
  }
  CHECK(appends >= 10);
  CHECK(c[3].commit_index() == c[1].last_index());
}

TEST_CASE("max_uncommitted_bytes refuses proposals until entries commit") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.max_uncommitted_bytes = 100; });
  c.elect(1);
  raft::payload p = sized(60);
  REQUIRE(c[1].propose(std::span<const raft::payload>(&p, 1)).has_value());
  CHECK(c[1].propose(std::span<const raft::payload>(&p, 1)).error() ==
        raft::errc::too_many_uncommitted_bytes);
  c.stabilize();
  CHECK(c[1].propose(std::span<const raft::payload>(&p, 1)).has_value());
  // A proposal larger than the limit is accepted when nothing is uncommitted.
  raft::payload big = sized(1000);
  c.stabilize();
  CHECK(c[1].propose(std::span<const raft::payload>(&big, 1)).has_value());
}

TEST_CASE("max_apply_bytes splits committed entries over several readies") {
  cluster c({1}, {}, [](raft::config& cfg) { cfg.max_apply_bytes = 100; });
  c.elect(1);
  std::vector<raft::payload> ps(4, sized(50));
  REQUIRE(c[1].propose(ps).has_value());
  c.stabilize();
  CHECK(c.at(1).applied.size() == 5);
  for (auto& rd : c.at(1).readies) CHECK(rd.committed_entries.size() <= 1);
}

TEST_CASE("proposal errors") {
  cluster c({1, 2, 3});
  raft::payload p = bytes_of("x");
  CHECK(c[1].propose(std::span<const raft::payload>(&p, 1)).error() == raft::errc::not_leader);
  c.elect(1);
  CHECK(c[2].propose(std::span<const raft::payload>(&p, 1)).error() == raft::errc::not_leader);
  CHECK(c[1].propose(std::span<const raft::payload>()).error() == raft::errc::empty_proposal);
}

TEST_CASE("a follower behind the log start is sent a snapshot, and the leader retries a lost one") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.snapshot_retry_ticks = 5; });
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 10; ++i) c.propose(1, "v" + std::to_string(i));
  c.stabilize();
  const log_index snap = c[1].applied_index();
  REQUIRE(snap == c[1].last_index());
  REQUIRE(c.storage(1).create_snapshot(snap, c[1].membership(), bytes_of("state@snap")).has_value());
  REQUIRE(c.storage(1).compact(snap).has_value());
  CHECK(c[1].first_index() == next(snap));
  c.heal();

  // The first snapshot is lost on the way.
  bool dropped = false;
  auto drop_first_snapshot = [&](const raft::message& m) {
    if (m.type == message_type::snapshot && !dropped) return dropped = true;
    return false;
  };
  c.tick(1);
  c.stabilize(drop_first_snapshot);
  CHECK(dropped);
  CHECK(c[1].peer(nid(3))->state == raft::progress_state::snapshot);
  for (int t = 0; t < 10 && c[3].last_index() < c[1].last_index(); ++t) {
    c.tick(1);
    c.stabilize(drop_first_snapshot);
  }
  CHECK(count_type(c.delivered(), message_type::snapshot) == 1);
  CHECK(c.storage(3).snapshot_meta().index == snap);
  CHECK(string_of(c.storage(3).latest_snapshot()->data) == "state@snap");
  CHECK(c[3].last_index() == c[1].last_index());
  CHECK(c[3].commit_index() == c[1].commit_index());
  CHECK(c[1].peer(nid(3))->state == raft::progress_state::replicate);
  // Replication continues after the snapshot.
  c.propose(1, "after");
  c.stabilize();
  REQUIRE_FALSE(c.at(3).applied.empty());
  CHECK(string_of(c.at(3).applied.back().data) == "after");
}

TEST_CASE("report_snapshot sends the leader back to probing") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 3; ++i) c.propose(1, "v");
  c.stabilize();
  REQUIRE(c.storage(1).create_snapshot(c[1].applied_index(), c[1].membership(), {}).has_value());
  REQUIRE(c.storage(1).compact(c[1].applied_index()).has_value());
  c.heal();
  c.tick(1);
  c.stabilize([](const raft::message& m) { return m.type == message_type::snapshot; });
  REQUIRE(c[1].peer(nid(3))->state == raft::progress_state::snapshot);
  c[1].report_snapshot(nid(3), false);
  CHECK(c[1].peer(nid(3))->state == raft::progress_state::probe);
  c.tick(1);
  c.stabilize();
  CHECK(c[3].last_index() == c[1].last_index());
}

TEST_CASE("leadership transfer to a follower that is behind") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  c.propose(1, "a");
  c.propose(1, "b");
  c.stabilize();
  c.heal();
  REQUIRE(c[1].transfer_leadership(nid(3)).has_value());
  CHECK(c[1].transfer_target() == nid(3));
  raft::payload p = bytes_of("refused");
  CHECK(c[1].propose(std::span<const raft::payload>(&p, 1)).error() == raft::errc::transfer_in_progress);
  c.stabilize();
  CHECK(count_type(c.delivered(), message_type::timeout_now) == 1);
  CHECK(c[3].role() == role::leader);
  CHECK(c[3].term() == trm(2));
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].leader() == nid(3));
  c.propose(3, "c");
  c.stabilize();
  CHECK(string_of(c.at(1).applied.back().data) == "c");
}

TEST_CASE("leadership transfer is abandoned after an election timeout") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  REQUIRE(c[1].transfer_leadership(nid(3)).has_value());
  for (int t = 0; t < 10; ++t) {
    c.tick(1);
    c.stabilize();
  }
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].transfer_target() == raft::no_node);
  c.propose(1, "accepted again");
}

TEST_CASE("leadership transfer errors") {
  cluster c({1, 2, 3, 4}, members({1, 2, 3}, {4}));
  CHECK(c[1].transfer_leadership(nid(2)).error() == raft::errc::not_leader);
  c.elect(1);
  CHECK(c[1].transfer_leadership(nid(4)).error() == raft::errc::not_a_voter);
  CHECK(c[1].transfer_leadership(nid(9)).error() == raft::errc::not_a_voter);
  CHECK(c[1].transfer_leadership(nid(1)).has_value());  // already the leader
  CHECK(c[1].transfer_target() == raft::no_node);
}

TEST_CASE("a restarted node keeps its term, vote and log and replays committed entries") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.propose(1, "a");
  log_index b = c.propose(1, "b").last;
  c.stabilize();
  for (uint64_t id : {1, 2, 3}) {
    raft::term t = c[id].term();
    raft::node_id v = c[id].vote();
    c.start(id);
    CHECK(c[id].term() == t);
    CHECK(c[id].vote() == v);
    CHECK(c[id].role() == role::follower);
    CHECK(c[id].commit_index() == b);
    CHECK(c[id].applied_index() == raft::no_index);
    c.persist(id);
    REQUIRE(c.at(id).applied.size() == 3);
    CHECK(string_of(c.at(id).applied[2].data) == "b");
  }
  c.elect(2);
  CHECK(c[2].term() == trm(2));
  log_index cc = c.propose(2, "c").last;
  c.stabilize();
  CHECK(c[3].commit_index() == cc);
}

TEST_CASE("restart after a torn write: entries of a newer term without their hard state") {
  cluster c({1, 2, 3});
  raft::entry e{trm(5), idx(0), raft::entry_type::normal, bytes_of("x"), 3};
  REQUIRE(c.storage(2).append(std::span<const raft::entry>(&e, 1)).has_value());
  c.storage(2).set_hard_state(raft::hard_state{trm(3), nid(1), raft::no_index});
  c.start(2);
  CHECK(c[2].term() == trm(5));
  CHECK(c[2].vote() == raft::no_node);
}

TEST_CASE("node::create rejects invalid configs and corrupt storage") {
  raft::memory_storage s(members({1, 2, 3}));
  raft::config cfg;
  cfg.id = nid(1);
  CHECK(raft::node::create(cfg, s).has_value());
  auto bad = [&](auto change) {
    raft::config b = cfg;
    change(b);
    auto r = raft::node::create(b, s);
    return !r && r.error() == raft::errc::invalid_config;
  };
  CHECK(bad([](raft::config& b) { b.id = raft::no_node; }));
  CHECK(bad([](raft::config& b) { b.election_ticks = b.heartbeat_ticks; }));
  CHECK(bad([](raft::config& b) { b.heartbeat_ticks = 0; }));
  CHECK(bad([](raft::config& b) { b.max_inflight_appends = 0; }));
  CHECK(bad([](raft::config& b) { b.max_append_bytes = 0; }));
  CHECK(bad([](raft::config& b) { b.max_pending_reads = 0; }));
  CHECK(bad([](raft::config& b) { b.applied = idx(3); }));  // beyond the commit index

  raft::entry e{trm(1), idx(0), raft::entry_type::normal, bytes_of("x"), 4};
  REQUIRE(s.append(std::span<const raft::entry>(&e, 1)).has_value());
  s.set_hard_state(raft::hard_state{trm(1), raft::no_node, idx(4)});  // commit beyond the log
  CHECK(raft::node::create(cfg, s).error() == raft::errc::corrupt_storage);
  s.set_hard_state(raft::hard_state{trm(1), raft::no_node, idx(2)});  // commit inside [0..3]
  CHECK(raft::node::create(cfg, s).error() == raft::errc::corrupt_storage);
  s.set_hard_state(raft::hard_state{trm(1), raft::no_node, idx(3)});
  CHECK(raft::node::create(cfg, s).has_value());
  CHECK(bad([](raft::config& b) { b.applied = idx(1); }));  // applied inside [0..3]

  raft::memory_storage s2(members({1}));
  raft::entry garbage{trm(1), idx(0), raft::entry_type::config, bytes_of("not a membership")};
  REQUIRE(s2.append(std::span<const raft::entry>(&garbage, 1)).has_value());
  CHECK(raft::node::create(cfg, s2).error() == raft::errc::corrupt_storage);
}

TEST_CASE("messages that break the protocol's shape are refused") {
  cluster c({1, 2, 3});
  c.elect(1);
  raft::message base;
  base.type = message_type::append;
  base.from = nid(1);
  base.to = nid(2);
  base.term = c[1].term();
  base.index = idx(0);  // the leader's no-op
  base.log_term = trm(1);
  auto refused = [&](raft::message m) {
    auto r = c[2].step(m);
    return !r && r.error() == raft::errc::invalid_message;
  };
  {
    raft::message m = base;
    m.to = nid(3);
    CHECK(refused(m));
  }
  {
    raft::message m = base;
    m.from = nid(2);
    CHECK(refused(m));
  }
  {
    raft::message m = base;
    m.from = raft::no_node;
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // a gap
    m.entries.push_back(raft::entry{trm(1), idx(2), raft::entry_type::normal, {}});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // a gap after a wide entry: the next one starts at 1 + 3
    m.entries.push_back(raft::entry{trm(1), idx(1), raft::entry_type::normal, {}, 3});
    m.entries.push_back(raft::entry{trm(1), idx(3), raft::entry_type::normal, {}});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // a width of 0
    m.entries.push_back(raft::entry{trm(1), idx(1), raft::entry_type::normal, {}, 0});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // a width above what a Kafka batch can span
    m.entries.push_back(raft::entry{trm(1), idx(1), raft::entry_type::normal, {}, raft::max_entry_width + 1});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // an entry whose end would leave no int64 log end offset
    m.index = idx(INT64_MAX - 3);
    m.entries.push_back(raft::entry{trm(1), idx(INT64_MAX - 2), raft::entry_type::normal, {}, 3});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // an entry from a future term
    m.entries.push_back(raft::entry{trm(9), idx(1), raft::entry_type::normal, {}});
    CHECK(refused(m));
  }
  {
    raft::message m = base;  // terms going backwards
    m.log_term = trm(1);
    m.entries.push_back(raft::entry{trm(0), idx(1), raft::entry_type::normal, {}});
    CHECK(refused(m));
  }
  {
    raft::message m = base;
    m.entries.push_back(raft::entry{trm(1), idx(1), raft::entry_type::config, bytes_of("??")});
    CHECK(refused(m));
  }
  {
    raft::message m = base;
    m.type = message_type::snapshot;
    CHECK(refused(m));  // no snapshot attached
  }
  {
    raft::message m = base;
    m.index = idx(-2);  // no_index (-1) is the position before offset 0; nothing lies below it
    CHECK(refused(m));
  }
  CHECK(c[2].log_term(idx(1)).error() == raft::errc::unavailable);  // nothing was appended
}

TEST_CASE("a leader whose storage cannot produce a snapshot now retries later") {
  cluster c({1, 2, 3});
  faulty_storage reader(c.storage(1));
  c.start_over(1, reader);
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 3; ++i) c.propose(1, "v");
  c.stabilize();
  REQUIRE(c.storage(1).create_snapshot(c[1].applied_index(), c[1].membership(), {}).has_value());
  REQUIRE(c.storage(1).compact(c[1].applied_index()).has_value());
  c.heal();
  reader.fail_snapshot = true;
  for (int t = 0; t < 3; ++t) {
    c.tick(1);
    c.stabilize();
  }
  CHECK(count_type(c.delivered(), message_type::snapshot) == 0);
  CHECK(c[1].peer(nid(3))->state != raft::progress_state::snapshot);
  reader.fail_snapshot = false;
  c.tick(1);
  c.stabilize();
  CHECK(count_type(c.delivered(), message_type::snapshot) == 1);
  CHECK(c[3].last_index() == c[1].last_index());
}
