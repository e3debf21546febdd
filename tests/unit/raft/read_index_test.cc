// Read index: linearizable reads confirmed by a quorum, forwarded by followers, held until the
// leader has committed in its term, never confirmed by a partitioned leader.
#include "harness.h"

using namespace raft_test;
using raft::message_type;
using raft::read_state;
using raft::role;

TEST_CASE("the leader confirms a read once a quorum answers a heartbeat sent after it") {
  cluster c({1, 2, 3});
  c.elect(1);
  raft::index_range w = c.propose(1, "w");
  c.stabilize();
  REQUIRE(c[1].read_index(7).has_value());
  auto hb = c.take();
  REQUIRE(count_type(hb, message_type::heartbeat) == 2);
  for (auto& m : hb) CHECK(m.context == 1);
  // One answer (plus the leader) is a quorum of three.
  for (auto& m : hb) {
    if (m.to == nid(2)) c.deliver(m);
  }
  CHECK(c.at(1).reads.empty());
  for (auto& m : c.take()) c.deliver(m);
  c.persist(1);
  REQUIRE(c.at(1).reads.size() == 1);
  CHECK(c.at(1).reads[0] == read_state{w.last, 7});  // the last offset of the last committed entry
}

TEST_CASE("a partitioned leader cannot confirm a read; a later heartbeat round can") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(1);
  REQUIRE(c[1].read_index(8).has_value());
  c.stabilize();
  CHECK(c.at(1).reads.empty());
  c.heal();
  c.tick(1);
  c.stabilize();
  REQUIRE(c.at(1).reads.size() == 1);
  CHECK(c.at(1).reads[0].request_id == 8);
}

TEST_CASE("a follower's read is forwarded to the leader and answered with the read index") {
  cluster c({1, 2, 3});
  c.elect(1);
  raft::index_range w = c.propose(1, "w");
  c.stabilize();
  REQUIRE(c[2].read_index(9).has_value());
  c.stabilize();
  REQUIRE(c.at(2).reads.size() == 1);
  CHECK(c.at(2).reads[0] == read_state{w.last, 9});
  CHECK(count_type(c.delivered(), message_type::read_index_response) == 1);
}

TEST_CASE("a new leader holds reads until it has committed an entry of its term") {
  cluster c({1, 2, 3});
  REQUIRE(c[1].campaign().has_value());
  for (int round = 0; round < 10 && c[1].role() != role::leader; ++round) {
    for (auto& m : c.take()) c.deliver(m);
  }
  REQUIRE(c[1].role() == role::leader);
  REQUIRE(c[1].commit_index() == raft::no_index);
  REQUIRE(c[1].read_index(5).has_value());
  c.stabilize();
  REQUIRE(c.at(1).reads.size() == 1);
  CHECK(c.at(1).reads[0] == read_state{idx(0), 5});  // includes the no-op of its term
}

TEST_CASE("a single voter confirms reads on its own") {
  cluster c({1});
  c.elect(1);
  REQUIRE(c[1].read_index(3).has_value());
  c.persist(1);
  REQUIRE(c.at(1).reads.size() == 1);
  CHECK(c.at(1).reads[0] == read_state{idx(0), 3});
}

TEST_CASE("read errors and the pending reads limit") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.max_pending_reads = 2; });
  CHECK(c[2].read_index(1).error() == raft::errc::no_leader);
  c.elect(1);
  c.isolate(1);
  REQUIRE(c[1].read_index(1).has_value());
  REQUIRE(c[1].read_index(2).has_value());
  CHECK(c[1].read_index(3).error() == raft::errc::too_many_pending_reads);
  // Stepping down drops pending reads (their callers time out and retry elsewhere).
  c.tick(1, 20);
  REQUIRE(c[1].role() == role::follower);
  c.heal();
  c.stabilize();
  CHECK(c.at(1).reads.empty());
}
