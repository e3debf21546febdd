// Elections: pre-vote, check-quorum, leader lease, stale leaders, the persistence order of votes.
#include "harness.h"

using namespace raft_test;
using raft::message_type;
using raft::role;

TEST_CASE("a single voter elects itself and commits its proposals") {
  cluster c({1});
  c.elect(1);
  CHECK(c[1].term() == trm(1));
  CHECK(c[1].leader() == nid(1));
  raft::index_range r = c.propose(1, "a", 5);
  CHECK(r == raft::index_range{idx(1), idx(5)});  // the leader's no-op is at offset 0
  c.stabilize();
  CHECK(c[1].commit_index() == idx(5));
  auto& applied = c.at(1).applied;
  REQUIRE(applied.size() == 2);
  CHECK(applied[0].type == raft::entry_type::no_op);
  CHECK(applied[0].index == idx(0));
  CHECK(applied[0].width == 1);
  CHECK(string_of(applied[1].data) == "a");
  CHECK(applied[1].index == idx(1));
  CHECK(applied[1].width == 5);
}

TEST_CASE("three voters: the first to time out wins, through pre-vote then vote") {
  cluster c({1, 2, 3});
  // Node 1 times out first (randomized timeout in [10, 20) ticks).
  for (int t = 0; t < 20 && c[1].role() == role::follower; ++t) c.tick(1);
  CHECK(c[1].role() == role::pre_candidate);
  CHECK(c[1].term() == trm(0));  // pre-vote does not raise the term
  auto pre = c.take();
  CHECK(count_type(pre, message_type::pre_vote) == 2);
  for (auto& m : pre) CHECK(m.term == trm(1));
  for (auto& m : pre) c.deliver(m);
  c.stabilize();
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].term() == trm(1));
  CHECK(c[2].leader() == nid(1));
  CHECK(c[3].leader() == nid(1));
  CHECK(c[2].vote() == nid(1));
  // Everyone holds and has applied the leader's no-op.
  for (uint64_t id : {1, 2, 3}) CHECK(c[id].commit_index() == idx(0));
}

TEST_CASE("pre-vote: a node back from a partition cannot depose a live leader") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  c.tick(3, 60);  // it times out again and again, but only pre-votes
  c.take();       // lost in the partition
  CHECK(c[3].term() == trm(1));
  CHECK(c[3].role() == role::pre_candidate);
  c.heal();
  // Its next pre-vote is ignored: 1 is the leader and 2 heard from it within the election timeout.
  for (int t = 0; t < 40 && count_type(c.queue(), message_type::pre_vote) == 0; ++t) c.tick(3);
  auto pre = c.take([](const raft::message& m) { return m.type == message_type::pre_vote; });
  REQUIRE(pre.size() == 2);
  for (auto& m : pre) c.deliver(m);
  CHECK(c.take().empty());  // no answer at all, no term change
  c.tick(1);                // a heartbeat brings 3 back as a follower
  c.stabilize();
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].term() == trm(1));
  CHECK(c[3].role() == role::follower);
  CHECK(c[3].leader() == nid(1));
}

TEST_CASE("pre-vote is refused to a node whose log is behind, and no term rises") {
  // Without check-quorum (no lease), only the log check protects the leader.
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.check_quorum = false; });
  c.elect(1);
  c.isolate(3);
  c.propose(1, "x");
  c.stabilize();
  c.heal();
  REQUIRE(c[3].campaign().has_value());
  c.stabilize();
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].term() == trm(1));
  CHECK(c[2].term() == trm(1));
  size_t refused = 0;
  for (auto& m : c.delivered()) {
    if (m.type == message_type::pre_vote_response && m.to == nid(3) && m.reject) ++refused;
  }
  CHECK(refused >= 1);
}

TEST_CASE("check-quorum: a leader that hears from no quorum steps down") {
  cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(1);
  c.tick(1, 10);  // the first round still counts the answers from the election
  c.take();
  CHECK(c[1].role() == role::leader);
  c.tick(1, 10);
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].term() == trm(1));
  CHECK(c[1].leader() == raft::no_node);
}

TEST_CASE("without check-quorum an isolated leader stays leader") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.check_quorum = false; });
  c.elect(1);
  c.isolate(1);
  c.tick(1, 50);
  CHECK(c[1].role() == role::leader);
}

TEST_CASE("a stale leader learns the newer term from an answer to its append and steps down") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.check_quorum = false; });
  c.elect(1);
  c.isolate(1);
  for (int t = 0; t < 60 && c[2].role() != role::leader && c[3].role() != role::leader; ++t) {
    c.tick(2);
    c.tick(3);
    c.stabilize();
  }
  uint64_t new_leader = c[2].role() == role::leader ? 2 : 3;
  REQUIRE(c[new_leader].role() == role::leader);
  c.take();
  c.heal();
  c.tick(1);  // a heartbeat of the old term
  c.stabilize();
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].term() == c[new_leader].term());
  c.tick(new_leader);
  c.stabilize();
  CHECK(c[1].leader() == nid(new_leader));
}

TEST_CASE("a vote is persisted before it is sent, and never sent early") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.pre_vote = false; });
  REQUIRE(c[1].campaign().has_value());
  raft::ready rd = c[1].ready();
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->term == trm(1));
  CHECK(rd.hard_state->vote == nid(1));
  CHECK(rd.early_messages.empty());  // the candidate's own vote must be durable first
  CHECK(count_type(rd.messages, message_type::vote) == 2);
  c.storage(1).set_hard_state(*rd.hard_state);
  c[1].advance(rd);

  REQUIRE(c[2].step(rd.messages[0].to == nid(2) ? rd.messages[0] : rd.messages[1]).has_value());
  raft::ready rd2 = c[2].ready();
  REQUIRE(rd2.hard_state.has_value());
  CHECK(rd2.hard_state->vote == nid(1));
  CHECK(rd2.early_messages.empty());
  REQUIRE(rd2.messages.size() == 1);
  CHECK(rd2.messages[0].type == message_type::vote_response);
  CHECK_FALSE(rd2.messages[0].reject);
  c[2].advance(rd2);

  // The grant goes out only after the vote is durable, so a restarted node remembers it and
  // refuses another candidate in the same term.
  c.storage(2).set_hard_state(*rd2.hard_state);
  c.start(2);
  CHECK(c[2].vote() == nid(1));
  raft::message other;
  other.type = message_type::vote;
  other.from = nid(3);
  other.to = nid(2);
  other.term = trm(1);
  REQUIRE(c[2].step(other).has_value());
  raft::ready rd3 = c[2].ready();
  REQUIRE(rd3.messages.size() == 1);
  CHECK(rd3.messages[0].reject);
  c[2].advance(rd3);
}

TEST_CASE("the planted bug: vote grants go out early") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) {
    cfg.pre_vote = false;
    cfg.knobs.send_votes_before_persist = true;
  });
  REQUIRE(c[1].campaign().has_value());
  raft::ready rd = c[1].ready();
  c[1].advance(rd);
  REQUIRE(c[2].step(rd.messages[0].to == nid(2) ? rd.messages[0] : rd.messages[1]).has_value());
  raft::ready rd2 = c[2].ready();
  CHECK(count_type(rd2.early_messages, message_type::vote_response) == 1);
  c[2].advance(rd2);
}

TEST_CASE("a leader's replication messages may go out before its own fsync") {
  cluster c({1, 2, 3});
  c.elect(1);
  raft::payload p = bytes_of("x");
  REQUIRE(c[1].propose(std::span<const raft::payload>(&p, 1)).has_value());
  raft::ready rd = c[1].ready();
  CHECK(rd.entries.size() == 1);
  CHECK_FALSE(rd.hard_state.has_value());
  CHECK(count_type(rd.early_messages, message_type::append) == 2);
  CHECK(rd.messages.empty());
  // Not yet durable on the leader: even with both followers' acknowledgements the leader counts
  // itself only after advance(), so one follower alone cannot commit.
  REQUIRE(c.storage(1).append(rd.entries).has_value());
  for (auto& m : rd.early_messages) {
    if (m.to == nid(2)) REQUIRE(c[2].step(m).has_value());
  }
  raft::ready f = c[2].ready();
  REQUIRE(c.storage(2).append(f.entries).has_value());
  c[2].advance(f);
  for (auto& m : f.messages) REQUIRE(c[1].step(m).has_value());
  CHECK(c[1].commit_index() == idx(0));  // only one of three holds it durably
  c[1].advance(rd);                      // now the leader does too
  CHECK(c[1].commit_index() == idx(1));
}

TEST_CASE("a single voter's first ready holds its new term: nothing is early") {
  cluster c({1, 2}, members({1}, {2}));
  REQUIRE(c[1].campaign().has_value());
  CHECK(c[1].role() == role::leader);
  raft::ready rd = c[1].ready();
  REQUIRE(rd.hard_state.has_value());
  CHECK(rd.hard_state->term == trm(1));
  CHECK(rd.early_messages.empty());
  CHECK(count_type(rd.messages, message_type::append) == 1);  // to the learner
  c[1].advance(rd);
}

TEST_CASE("learners neither campaign nor count as votes, but receive the log") {
  cluster c({1, 2, 3}, members({1, 2}, {3}));
  c.tick(3, 100);
  CHECK(c[3].role() == role::follower);
  CHECK(c.take().empty());
  CHECK(c[3].campaign().error() == raft::errc::not_a_voter);

  c.elect(1);
  c.propose(1, "to-learner");
  c.stabilize();
  REQUIRE(c.at(3).applied.size() == 2);
  CHECK(string_of(c.at(3).applied[1].data) == "to-learner");
  CHECK(c[1].peer(nid(3))->learner);

  // Node 2 campaigns; a grant from the learner does not make it win (it needs node 1 too).
  c.isolate(1);
  c.tick(2, 40);
  REQUIRE(c[2].role() == role::pre_candidate);
  auto asked = c.take();
  for (auto& m : asked) CHECK(m.to == nid(1));  // the learner is not even asked
  raft::message grant;
  grant.type = message_type::pre_vote_response;
  grant.from = nid(3);
  grant.to = nid(2);
  grant.term = raft::term{c[2].term().value + 1};
  REQUIRE(c[2].step(grant).has_value());
  CHECK(c[2].role() == role::pre_candidate);
}

TEST_CASE("election timeouts are randomized per node but reproducible from the seed") {
  auto first_campaign_tick = [](uint64_t seed) {
    cluster c({1, 2, 3}, {}, [seed](raft::config& cfg) { cfg.random_seed = seed; });
    for (int t = 1; t <= 20; ++t) {
      c.tick(1);
      if (c[1].role() != role::follower) return t;
    }
    return -1;
  };
  int a = first_campaign_tick(7);
  CHECK(a >= 10);
  CHECK(a < 20);
  CHECK(first_campaign_tick(7) == a);
  std::set<int> seen;
  for (uint64_t s = 0; s < 20; ++s) seen.insert(first_campaign_tick(s));
  CHECK(seen.size() > 3);
}

TEST_CASE("a candidate behind our term is refused and told our term") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) { cfg.pre_vote = false; });
  c.storage(3).set_hard_state(raft::hard_state{trm(5), raft::no_node, raft::no_index});
  c.start(3);
  REQUIRE(c[1].campaign().has_value());
  for (auto& m : c.take()) {
    if (m.to == nid(3)) c.deliver(m);
  }
  auto answers = c.take();
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].type == message_type::vote_response);
  CHECK(answers[0].reject);
  CHECK(answers[0].term == trm(5));
  c.deliver(answers[0]);
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].term() == trm(5));
  // Its next campaign is at a term node 3 accepts.
  c.elect(1);
  CHECK(c[1].term() == trm(6));
}

TEST_CASE("refusing a vote to a stale candidate raises the term but keeps the election timer") {
  cluster c({1, 2, 3}, {}, [](raft::config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  c.elect(1);
  c.isolate(3);
  c.propose(1, "3 misses this");
  c.stabilize();
  c.heal();
  c.isolate(1);  // the leader is gone; node 2 should take over
  c.tick(2, 9);  // just short of the shortest election timeout
  REQUIRE(c[2].role() == role::follower);
  REQUIRE(c[3].campaign().has_value());  // node 3, whose log is stale, campaigns first
  c.stabilize();
  CHECK(c[2].term() == c[3].term());  // node 2 refused but adopted the term
  CHECK(c[2].vote() == raft::no_node);
  // Node 2's timer kept running: it campaigns within what was left of its timeout.
  for (int t = 0; t < 10 && c[2].role() == role::follower; ++t) c.tick(2);
  CHECK(c[2].role() == role::candidate);
  c.stabilize();
  CHECK(c[2].role() == role::leader);
}
