// Membership: the config codec, single-server changes, apply-on-append and reverting on truncation.
#include "harness.h"

using namespace raft_test;
using raft::config_change;
using raft::config_change_type;
using raft::role;

TEST_CASE("apply_config_change: each kind and its refusals") {
  raft::membership m = members({1, 2, 3}, {4});
  auto apply = [&](config_change_type t, uint64_t n) { return raft::apply_config_change(m, {t, nid(n)}); };
  CHECK(*apply(config_change_type::add_voter, 5) == members({1, 2, 3, 5}, {4}));
  CHECK(*apply(config_change_type::add_voter, 4) == members({1, 2, 3, 4}));  // promotes a learner
  CHECK(*apply(config_change_type::add_learner, 5) == members({1, 2, 3}, {4, 5}));
  CHECK(*apply(config_change_type::promote_learner, 4) == members({1, 2, 3, 4}));
  CHECK(*apply(config_change_type::remove_node, 2) == members({1, 3}, {4}));
  CHECK(*apply(config_change_type::remove_node, 4) == members({1, 2, 3}));

  auto invalid = [](const auto& r) { return !r && r.error() == raft::errc::config_change_invalid; };
  CHECK(invalid(apply(config_change_type::add_voter, 2)));
  CHECK(invalid(apply(config_change_type::add_learner, 4)));
  CHECK(invalid(apply(config_change_type::add_learner, 1)));
  CHECK(invalid(apply(config_change_type::promote_learner, 1)));
  CHECK(invalid(apply(config_change_type::promote_learner, 9)));
  CHECK(invalid(apply(config_change_type::remove_node, 9)));
  CHECK(invalid(apply(config_change_type::add_voter, 0)));
  CHECK(invalid(raft::apply_config_change(members({1}), {config_change_type::remove_node, nid(1)})));
  CHECK(invalid(raft::apply_config_change(m, {static_cast<config_change_type>(99), nid(5)})));
}

TEST_CASE("membership codec round-trips and refuses malformed input") {
  raft::membership m = members({1, 2, 70000000000}, {9});
  auto bytes = raft::encode_membership(m);
  CHECK(*raft::decode_membership(bytes) == m);
  CHECK(*raft::decode_membership(raft::encode_membership({})) == raft::membership{});

  auto refused = [](std::vector<uint8_t> b) { return !raft::decode_membership(b).has_value(); };
  CHECK(refused({}));
  auto wrong_version = bytes;
  wrong_version[0] = 2;
  CHECK(refused(wrong_version));
  CHECK(refused(std::vector<uint8_t>(bytes.begin(), bytes.end() - 1)));  // truncated
  auto trailing = bytes;
  trailing.push_back(0);
  CHECK(refused(trailing));
  raft::membership unsorted;
  unsorted.voters = {nid(2), nid(1)};
  CHECK(refused(raft::encode_membership(unsorted)));
  raft::membership overlap;
  overlap.voters = {nid(1)};
  overlap.learners = {nid(1)};
  CHECK(refused(raft::encode_membership(overlap)));
  raft::membership zero;
  zero.voters = {raft::no_node};
  CHECK(refused(raft::encode_membership(zero)));
  std::vector<uint8_t> huge_count = {1, 0xff, 0xff, 0xff, 0xff};
  CHECK(refused(huge_count));
  CHECK(raft::to_string(m) == "voters=[1,2,70000000000] learners=[9]");
}

TEST_CASE("add a learner, promote it, remove a voter: each in force as soon as appended") {
  cluster c({1, 2, 3});
  c.add(4, {});  // joins later: knows no membership yet
  CHECK(c[4].membership() == raft::membership{});
  c.elect(1);

  REQUIRE(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).has_value());
  CHECK(c[1].membership() == members({1, 2, 3}, {4}));  // before it commits
  c.stabilize();
  for (uint64_t id : {1, 2, 3, 4}) CHECK(c[id].membership() == members({1, 2, 3}, {4}));
  CHECK(c[4].commit_index() == c[1].commit_index());
  CHECK(c[1].peer(nid(4))->learner);

  REQUIRE(c[1].propose_config_change({config_change_type::promote_learner, nid(4)}).has_value());
  c.stabilize();
  CHECK(c[4].membership() == members({1, 2, 3, 4}));
  CHECK_FALSE(c[1].peer(nid(4))->learner);

  REQUIRE(c[1].propose_config_change({config_change_type::remove_node, nid(2)}).has_value());
  c.stabilize();
  CHECK(c[1].membership() == members({1, 3, 4}));
  CHECK(c[3].membership() == members({1, 3, 4}));
  CHECK_FALSE(c[1].peer(nid(2)).has_value());

  // The new configuration commits without node 2, and node 2 cannot disrupt it.
  c.isolate(2);
  log_index i = c.propose(1, "without 2").last;
  c.stabilize();
  CHECK(c[4].commit_index() == i);
  c.heal();
  for (int t = 0; t < 60; ++t) {
    c.tick(2);
    c.stabilize();
  }
  CHECK(c[1].role() == role::leader);
  CHECK(c[1].term() == trm(1));

  // A restarted member reads its configuration back from the log.
  c.start(4);
  CHECK(c[4].membership() == members({1, 3, 4}));
}

TEST_CASE("config change refusals") {
  cluster c({1, 2, 3});
  CHECK(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).error() ==
        raft::errc::not_leader);

  // A new leader that has not committed its no-op yet.
  REQUIRE(c[1].campaign().has_value());
  for (int round = 0; round < 10 && c[1].role() != role::leader; ++round) {
    for (auto& m : c.take()) c.deliver(m);
  }
  REQUIRE(c[1].role() == role::leader);
  CHECK(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).error() ==
        raft::errc::config_change_pending);
  c.stabilize();

  REQUIRE(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).has_value());
  CHECK(c[1].propose_config_change({config_change_type::add_learner, nid(5)}).error() ==
        raft::errc::config_change_pending);
  c.stabilize();
  CHECK(c[1].propose_config_change({config_change_type::remove_node, nid(1)}).error() ==
        raft::errc::cannot_remove_leader);
  CHECK(c[1].propose_config_change({config_change_type::add_voter, nid(2)}).error() ==
        raft::errc::config_change_invalid);
  REQUIRE(c[1].transfer_leadership(nid(2)).has_value());
  CHECK(c[1].propose_config_change({config_change_type::add_learner, nid(5)}).error() ==
        raft::errc::transfer_in_progress);
}

TEST_CASE("an uncommitted config entry that is overwritten stops being in force") {
  cluster c({1, 2, 3});
  c.add(4, {});
  c.elect(1);
  c.isolate(1);
  REQUIRE(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).has_value());
  CHECK(c[1].membership() == members({1, 2, 3}, {4}));
  c.take();  // never leaves node 1

  for (int t = 0; t < 80 && c[2].role() != role::leader && c[3].role() != role::leader; ++t) {
    c.tick(2);
    c.tick(3);
    c.stabilize();
  }
  uint64_t leader = c[2].role() == role::leader ? 2 : 3;
  REQUIRE(c[leader].role() == role::leader);
  c.heal();
  c.tick(leader);
  c.stabilize();
  CHECK(c[1].role() == role::follower);
  CHECK(c[1].membership() == members({1, 2, 3}));
  CHECK(*c[1].log_term(idx(1)) == c[leader].term());  // the config entry at 1 was overwritten
}

TEST_CASE("a snapshot carries the configuration to a follower that missed the config entry") {
  cluster c({1, 2, 3});
  c.add(4, {});
  c.elect(1);
  REQUIRE(c[1].propose_config_change({config_change_type::add_learner, nid(4)}).has_value());
  c.stabilize([](const raft::message& m) { return m.to == nid(4); });
  REQUIRE(c.storage(1).create_snapshot(c[1].applied_index(), c[1].membership(), {}).has_value());
  REQUIRE(c.storage(1).compact(c[1].applied_index()).has_value());
  c.tick(1);
  c.stabilize();
  CHECK(c.storage(4).snapshot_meta().index == idx(1));  // the no-op at 0, the config entry at 1
  CHECK(c[4].membership() == members({1, 2, 3}, {4}));
  c.start(4);
  CHECK(c[4].membership() == members({1, 2, 3}, {4}));
}
