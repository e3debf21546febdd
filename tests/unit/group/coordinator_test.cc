// Deterministic tests of every transition of the group coordinator core (cluster/group): time is a
// number the test advances, replies are collected from `outputs`.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>

#include "cluster/group/coordinator.h"

namespace tributary::cluster::group {
namespace {

using ec = error_code;

struct harness {
  coordinator c;
  int64_t now = 1000;
  request_id next_id = 1;
  std::map<request_id, join_result> joins;
  std::map<request_id, sync_result> syncs;
  std::vector<std::string> changed;

  explicit harness(config cfg = make_config()) : c(std::move(cfg)) {}

  static config make_config() {
    config cfg;
    cfg.min_session_timeout_ms = 1000;
    cfg.initial_rebalance_delay_ms = 0;
    cfg.member_id_salt = "s";
    return cfg;
  }

  void collect(outputs& out) {
    for (auto& [id, r] : out.joins) {
      CHECK_MESSAGE(!joins.contains(id), "request answered twice");
      joins[id] = r;
    }
    for (auto& [id, r] : out.syncs) {
      CHECK_MESSAGE(!syncs.contains(id), "request answered twice");
      syncs[id] = r;
    }
    for (auto& g : out.changed_groups) changed.push_back(g);
  }

  static join_request request(std::string member, bool v4 = true, std::string proto = "range",
                              std::vector<uint8_t> md = {1}) {
    join_request r;
    r.group_id = "g";
    r.member_id = std::move(member);
    r.protocol_type = "consumer";
    r.protocols = {{std::move(proto), std::move(md)}};
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = 20000;
    r.client_id = "c";
    r.client_host = "/127.0.0.1";
    r.member_id_required = v4;
    return r;
  }

  request_id join(const join_request& r) {
    outputs out;
    request_id id = next_id++;
    c.join(r, id, now, out);
    collect(out);
    return id;
  }
  request_id sync(std::string member, int32_t gen, std::vector<std::pair<std::string, bytes>> a = {},
                  std::optional<std::string> instance = std::nullopt) {
    outputs out;
    request_id id = next_id++;
    c.sync({"g", gen, std::move(member), std::move(instance), std::move(a)}, id, now, out);
    collect(out);
    return id;
  }
  ec heartbeat(std::string member, int32_t gen, std::optional<std::string> instance = std::nullopt) {
    outputs out;
    auto e = c.heartbeat("g", gen, member, instance, now, out);
    collect(out);
    return e;
  }
  std::vector<ec> leave(std::vector<member_ref> m, ec* group_error = nullptr) {
    outputs out;
    ec ge;
    auto r = c.leave("g", m, now, out, ge);
    if (group_error) *group_error = ge;
    collect(out);
    return r;
  }
  void advance(int64_t ms) {
    now += ms;
    outputs out;
    c.tick(now, out);
    collect(out);
  }
  const group& g() const {
    const group* p = c.find("g");
    REQUIRE(p);
    return *p;
  }
  // A member that joins with MEMBER_ID_REQUIRED first; returns its member id.
  std::string join_v4(join_request r = request("")) {
    auto first = join(r);
    REQUIRE(joins.contains(first));
    REQUIRE(joins[first].error == ec::member_id_required);
    return joins[first].member_id;
  }
};

// One member joins, syncs as leader: a stable group of generation 1.
std::string stable_single(harness& h) {
  auto id = h.join_v4();
  auto j = h.join(harness::request(id));
  REQUIRE(h.joins.contains(j));
  REQUIRE(h.joins[j].error == ec::none);
  auto s = h.sync(id, h.joins[j].generation, {{id, {7}}});
  REQUIRE(h.syncs.contains(s));
  REQUIRE(h.syncs[s].error == ec::none);
  return id;
}

TEST_CASE("unload: parked joins and syncs answer NOT_COORDINATOR, the group is gone") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));  // parks: a must rejoin
  CHECK_FALSE(h.joins.contains(jb));
  outputs out;
  h.c.unload("g", out);
  h.collect(out);
  REQUIRE(h.joins.contains(jb));
  CHECK(h.joins[jb].error == ec::not_coordinator);
  CHECK(h.c.find("g") == nullptr);
  CHECK(h.heartbeat(a, 1) != ec::none);
  outputs none;
  h.c.unload("g", none);  // unknown: nothing
  CHECK(none.joins.empty());
}

TEST_CASE("state names") {
  CHECK(state_name(group_state::empty) == "Empty");
  CHECK(state_name(group_state::preparing_rebalance) == "PreparingRebalance");
  CHECK(state_name(group_state::completing_rebalance) == "CompletingRebalance");
  CHECK(state_name(group_state::stable) == "Stable");
  CHECK(state_name(group_state::dead) == "Dead");
}

TEST_CASE("first join v4+: MEMBER_ID_REQUIRED, then join with the id; v0-v3 never get 79") {
  harness h;
  auto id = h.join_v4();
  CHECK(id == "c-s-1");
  CHECK(h.g().members.empty());
  CHECK(h.g().pending_members.contains(id));
  auto j = h.join(harness::request(id));
  REQUIRE(h.joins.contains(j));
  const auto& r = h.joins[j];
  CHECK(r.error == ec::none);
  CHECK(r.generation == 1);
  CHECK(r.leader == id);
  CHECK(r.member_id == id);
  CHECK(r.protocol_name == "range");
  CHECK(r.protocol_type == "consumer");
  REQUIRE(r.members.size() == 1);
  CHECK(r.members[0].metadata == bytes{1});
  CHECK(h.g().state == group_state::completing_rebalance);

  harness old;
  auto j2 = old.join(harness::request("", false));
  REQUIRE(old.joins.contains(j2));
  CHECK(old.joins[j2].error == ec::none);
  CHECK(!old.joins[j2].member_id.empty());
}

TEST_CASE("a pending member id expires after the session timeout") {
  harness h;
  auto id = h.join_v4();
  REQUIRE(h.c.next_deadline() == h.now + 10000);
  h.advance(10000);
  CHECK(h.c.find("g") == nullptr);
  auto j = h.join(harness::request(id));
  CHECK(h.joins[j].error == ec::unknown_member_id);
}

TEST_CASE("sync: leader's assignments reach every member, group becomes stable and is persisted") {
  harness h;
  auto a = h.join_v4();
  auto b = h.join_v4();
  auto ja = h.join(harness::request(a));
  CHECK_FALSE(h.joins.contains(ja));  // waits for b
  auto jb = h.join(harness::request(b));
  REQUIRE(h.joins.contains(ja));
  REQUIRE(h.joins.contains(jb));
  const std::string leader = h.joins[ja].leader;
  CHECK(h.joins[jb].leader == leader);
  const std::string follower = leader == a ? b : a;
  const auto& lr = leader == a ? h.joins[ja] : h.joins[jb];
  const auto& fr = leader == a ? h.joins[jb] : h.joins[ja];
  CHECK(lr.members.size() == 2);
  CHECK(fr.members.empty());
  auto sf = h.sync(follower, 1);
  CHECK_FALSE(h.syncs.contains(sf));            // waits for the leader
  CHECK(h.heartbeat(follower, 1) == ec::none);  // CompletingRebalance: heartbeats are fine
  auto sl = h.sync(leader, 1, {{leader, {1}}, {follower, {2}}});
  REQUIRE(h.syncs.contains(sf));
  REQUIRE(h.syncs.contains(sl));
  CHECK(h.syncs[sf].assignment == bytes{2});
  CHECK(h.syncs[sl].assignment == bytes{1});
  CHECK(h.g().state == group_state::stable);
  CHECK(h.changed == std::vector<std::string>{"g"});
  // A stable group answers a late sync at once.
  auto again = h.sync(follower, 1);
  CHECK(h.syncs[again].assignment == bytes{2});
}

TEST_CASE("a new member rebalances a stable group; heartbeats say REBALANCE_IN_PROGRESS") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  CHECK(h.g().state == group_state::preparing_rebalance);
  CHECK_FALSE(h.joins.contains(jb));
  CHECK(h.heartbeat(a, 1) == ec::rebalance_in_progress);
  auto ja = h.join(harness::request(a));
  REQUIRE(h.joins.contains(ja));
  REQUIRE(h.joins.contains(jb));
  CHECK(h.joins[ja].generation == 2);
  CHECK(h.joins[ja].leader == a);  // the leader stays
  CHECK(h.joins[ja].members.size() == 2);
  CHECK(h.heartbeat(a, 1) == ec::illegal_generation);
  CHECK(h.heartbeat(a, 2) == ec::none);
}

TEST_CASE("a stable follower rejoining with the same subscription gets the current generation") {
  harness h;
  auto a = h.join_v4();
  auto b = h.join_v4();
  auto ja = h.join(harness::request(a));
  auto jb = h.join(harness::request(b));
  const std::string leader = h.joins[ja].leader;
  const std::string follower = leader == a ? b : a;
  h.sync(leader, 1, {});
  (void)jb;
  auto again = h.join(harness::request(follower));
  REQUIRE(h.joins.contains(again));
  CHECK(h.joins[again].generation == 1);
  CHECK(h.g().state == group_state::stable);
  // Changed metadata does rebalance.
  auto changed = h.join(harness::request(follower, true, "range", {9}));
  CHECK_FALSE(h.joins.contains(changed));
  CHECK(h.g().state == group_state::preparing_rebalance);
}

TEST_CASE("completing rebalance: a member that re-sends its join gets the same answer") {
  harness h;
  auto a = h.join_v4();
  auto j1 = h.join(harness::request(a));
  auto j2 = h.join(harness::request(a));
  REQUIRE(h.joins.contains(j2));
  CHECK(h.joins[j2].generation == h.joins[j1].generation);
  CHECK(h.g().state == group_state::completing_rebalance);
}

TEST_CASE("leave: the group rebalances without the member; the last one leaves an empty group") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  auto ja = h.join(harness::request(a));
  h.sync(a, 2, {});
  h.sync(b, 2, {});
  CHECK(h.g().state == group_state::stable);
  (void)ja;
  (void)jb;
  auto errs = h.leave({{b, std::nullopt}});
  CHECK(errs == std::vector<ec>{ec::none});
  CHECK(h.g().state == group_state::preparing_rebalance);
  auto ja3 = h.join(harness::request(a));
  REQUIRE(h.joins.contains(ja3));
  CHECK(h.joins[ja3].generation == 3);
  CHECK(h.joins[ja3].members.size() == 1);
  h.sync(a, 3, {});
  errs = h.leave({{a, std::nullopt}, {"nobody", std::nullopt}});
  CHECK(errs == std::vector<ec>{ec::none, ec::unknown_member_id});
  // No offsets: the group is gone.
  CHECK(h.c.find("g") == nullptr);
  ec ge;
  h.leave({{a, std::nullopt}}, &ge);
  CHECK(ge == ec::unknown_member_id);
}

TEST_CASE("a leaving member waiting in a join is answered UNKNOWN_MEMBER_ID") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  CHECK_FALSE(h.joins.contains(jb));
  h.leave({{b, std::nullopt}});
  REQUIRE(h.joins.contains(jb));
  CHECK(h.joins[jb].error == ec::unknown_member_id);
  (void)a;
}

TEST_CASE("member crash: the session timeout removes it and the others rebalance") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  h.join(harness::request(a));
  h.sync(a, 2, {});
  h.sync(b, 2, {});
  (void)jb;
  // a keeps heartbeating, b is silent.
  for (int i = 0; i < 3; ++i) {
    h.advance(3000);
    CHECK(h.heartbeat(a, 2) == ec::none);
  }
  CHECK(h.g().members.contains(b));
  h.advance(3000);  // b's last sign of life was 12 s ago (session timeout 10 s)
  CHECK_FALSE(h.g().members.contains(b));
  CHECK(h.g().state == group_state::preparing_rebalance);
  CHECK(h.heartbeat(a, 2) == ec::rebalance_in_progress);
  auto j = h.join(harness::request(a));
  REQUIRE(h.joins.contains(j));
  CHECK(h.joins[j].generation == 3);
  CHECK(h.heartbeat(b, 3) == ec::unknown_member_id);
}

TEST_CASE("rebalance timeout: members that do not rejoin are removed") {
  harness h;
  auto a = stable_single(h);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  h.join(harness::request(a));
  h.sync(a, 2, {});
  h.sync(b, 2, {});
  // a rejoins with new metadata; b keeps heartbeating but never rejoins.
  auto ja = h.join(harness::request(a, true, "range", {5}));
  CHECK_FALSE(h.joins.contains(ja));
  for (int i = 0; i < 6; ++i) {
    h.advance(3000);
    if (h.g().members.contains(b)) h.heartbeat(b, 2);
  }
  h.advance(3000);  // 21 s > the rebalance timeout (20 s)
  REQUIRE(h.joins.contains(ja));
  CHECK(h.joins[ja].generation == 3);
  CHECK_FALSE(h.g().members.contains(b));
  (void)jb;
}

TEST_CASE("initial rebalance delay: consumers started together land in one generation") {
  auto cfg = harness::make_config();
  cfg.initial_rebalance_delay_ms = 3000;
  harness h(cfg);
  auto a = h.join_v4();
  auto ja = h.join(harness::request(a));
  CHECK_FALSE(h.joins.contains(ja));
  h.advance(2000);
  auto b = h.join_v4();
  auto jb = h.join(harness::request(b));
  h.advance(2000);  // the delay restarted with b
  CHECK_FALSE(h.joins.contains(ja));
  h.advance(1000);
  REQUIRE(h.joins.contains(ja));
  REQUIRE(h.joins.contains(jb));
  CHECK(h.joins[ja].generation == 1);
  CHECK(h.joins[jb].generation == 1);
}

TEST_CASE("sync and heartbeat errors: unknown group, unknown member, stale generation, rebalancing") {
  harness h;
  auto s = h.sync("x", 1);
  CHECK(h.syncs[s].error == ec::unknown_member_id);
  CHECK(h.heartbeat("x", 1) == ec::unknown_member_id);
  auto a = stable_single(h);
  s = h.sync("x", 1);
  CHECK(h.syncs[s].error == ec::unknown_member_id);
  s = h.sync(a, 7);
  CHECK(h.syncs[s].error == ec::illegal_generation);
  CHECK(h.heartbeat(a, 7) == ec::illegal_generation);
  CHECK(h.heartbeat("x", 1) == ec::unknown_member_id);
  auto b = h.join_v4();
  h.join(harness::request(b));
  s = h.sync(a, 1);
  CHECK(h.syncs[s].error == ec::rebalance_in_progress);
}

TEST_CASE("a rebalance answers syncs parked in CompletingRebalance with REBALANCE_IN_PROGRESS") {
  harness h;
  auto a = h.join_v4();
  auto b = h.join_v4();
  auto ja = h.join(harness::request(a));
  h.join(harness::request(b));
  const std::string leader = h.joins[ja].leader;
  const std::string follower = leader == a ? b : a;
  auto sf = h.sync(follower, 1);
  CHECK_FALSE(h.syncs.contains(sf));
  auto c = h.join_v4();
  h.join(harness::request(c));
  REQUIRE(h.syncs.contains(sf));
  CHECK(h.syncs[sf].error == ec::rebalance_in_progress);
}

TEST_CASE("join errors: empty group id, session timeout bounds, protocols, unknown member") {
  harness h;
  auto r = harness::request("");
  r.group_id = "";
  auto j = h.join(r);
  CHECK(h.joins[j].error == ec::invalid_group_id);
  r = harness::request("");
  r.session_timeout_ms = 10;
  j = h.join(r);
  CHECK(h.joins[j].error == ec::invalid_session_timeout);
  r = harness::request("");
  r.session_timeout_ms = 1800001;
  j = h.join(r);
  CHECK(h.joins[j].error == ec::invalid_session_timeout);
  j = h.join(harness::request("ghost"));
  CHECK(h.joins[j].error == ec::unknown_member_id);
  r = harness::request("");
  r.protocols.clear();
  j = h.join(r);
  CHECK(h.joins[j].error == ec::inconsistent_group_protocol);
  CHECK(h.c.find("g") == nullptr);

  stable_single(h);
  auto other = harness::request("", true, "roundrobin");
  j = h.join(other);
  CHECK(h.joins[j].error == ec::inconsistent_group_protocol);
  other = harness::request("");
  other.protocol_type = "connect";
  j = h.join(other);
  CHECK(h.joins[j].error == ec::inconsistent_group_protocol);
  j = h.join(harness::request("ghost"));
  CHECK(h.joins[j].error == ec::unknown_member_id);
}

TEST_CASE("protocol selection: the common protocol most members prefer") {
  harness h;
  auto a = h.join_v4();
  auto b = h.join_v4();
  auto ra = harness::request(a);
  ra.protocols = {{"cooperative-sticky", {1}}, {"range", {2}}};
  auto rb = harness::request(b);
  rb.protocols = {{"range", {3}}, {"cooperative-sticky", {4}}, {"roundrobin", {5}}};
  auto ja = h.join(ra);
  h.join(rb);
  // One vote each: the first candidate in the first member's order wins.
  CHECK(h.joins[ja].protocol_name == "cooperative-sticky");
  harness h2;
  auto c = h2.join_v4();
  auto d = h2.join_v4();
  auto rc = harness::request(c);
  rc.protocols = {{"roundrobin", {1}}, {"range", {2}}};
  auto rd = harness::request(d);
  rd.protocols = {{"range", {3}}};
  auto jc = h2.join(rc);
  h2.join(rd);
  CHECK(h2.joins[jc].protocol_name == "range");
  const auto& leader_reply = h2.joins[jc].leader == c ? h2.joins[jc] : h2.joins[jc + 1];
  for (const auto& m : leader_reply.members) CHECK((m.metadata == bytes{2} || m.metadata == bytes{3}));
}

TEST_CASE("max group size") {
  auto cfg = harness::make_config();
  cfg.max_group_size = 1;
  harness h(cfg);
  stable_single(h);
  auto b = h.join_v4();
  auto j = h.join(harness::request(b));
  CHECK(h.joins[j].error == ec::group_max_size_reached);
}

TEST_CASE("static membership: a restarted instance takes its slot without a rebalance") {
  auto cfg = harness::make_config();
  cfg.initial_rebalance_delay_ms = 3000;
  harness h(cfg);
  auto ra = harness::request("");
  ra.instance_id = "i-a";
  auto rb = harness::request("");
  rb.instance_id = "i-b";
  auto ja = h.join(ra);  // static members never get MEMBER_ID_REQUIRED
  CHECK_FALSE(h.joins.contains(ja));
  auto jb = h.join(rb);
  h.advance(3000);
  REQUIRE(h.joins.contains(ja));
  REQUIRE(h.joins.contains(jb));
  const std::string a = h.joins[ja].member_id;
  const std::string b = h.joins[jb].member_id;
  const std::string leader = h.joins[ja].leader;
  const std::string follower = leader == a ? b : a;
  const std::string follower_instance = leader == a ? "i-b" : "i-a";
  h.sync(leader, 1, {{a, {1}}, {b, {2}}});
  h.sync(follower, 1);
  REQUIRE(h.g().state == group_state::stable);
  // The follower restarts: empty member id, same instance.
  auto r = harness::request("");
  r.instance_id = follower_instance;
  auto j = h.join(r);
  REQUIRE(h.joins.contains(j));
  CHECK(h.joins[j].error == ec::none);
  CHECK(h.joins[j].generation == 1);
  const std::string renewed = h.joins[j].member_id;
  CHECK(renewed != follower);
  CHECK(h.g().state == group_state::stable);
  auto s = h.sync(renewed, 1, {}, follower_instance);
  CHECK(h.syncs[s].assignment == (leader == a ? bytes{2} : bytes{1}));
  // The old member id is fenced.
  CHECK(h.heartbeat(follower, 1, follower_instance) == ec::fenced_instance_id);
  s = h.sync(follower, 1, {}, follower_instance);
  CHECK(h.syncs[s].error == ec::fenced_instance_id);
  auto stale = harness::request(follower);
  stale.instance_id = follower_instance;
  auto js = h.join(stale);
  CHECK(h.joins[js].error == ec::fenced_instance_id);
  CHECK(h.c.validate_commit("g", 1, follower, follower_instance, h.now) == ec::fenced_instance_id);
  CHECK(h.c.validate_commit("g", 1, renewed, follower_instance, h.now) == ec::none);
  ec ge;
  outputs out;
  auto errs = h.c.leave("g", {{"wrong", follower_instance}}, h.now, out, ge);
  CHECK(errs == std::vector<ec>{ec::fenced_instance_id});
  // A static leader restarting does not rebalance either; it is told the old leader id (so it does
  // not assign) and leads from the next rebalance on.
  auto rl = harness::request("");
  rl.instance_id = leader == a ? "i-a" : "i-b";
  auto jl = h.join(rl);
  REQUIRE(h.joins.contains(jl));
  CHECK(h.joins[jl].generation == 1);
  CHECK(h.joins[jl].leader == leader);
  CHECK(h.joins[jl].members.empty());
  const std::string new_leader = h.joins[jl].member_id;
  CHECK(h.g().leader == new_leader);
  CHECK(h.g().state == group_state::stable);
  s = h.sync(new_leader, 1, {}, rl.instance_id);
  CHECK(h.syncs[s].assignment == (leader == a ? bytes{1} : bytes{2}));
  // Leaving by instance id alone: the rest rebalance, the new leader gets the members.
  errs = h.leave({{"", follower_instance}});
  CHECK(errs == std::vector<ec>{ec::none});
  CHECK(h.g().state == group_state::preparing_rebalance);
  auto jl2 = h.join([&] {
    auto r = harness::request(new_leader);
    r.instance_id = rl.instance_id;
    return r;
  }());
  REQUIRE(h.joins.contains(jl2));
  CHECK(h.joins[jl2].generation == 2);
  CHECK(h.joins[jl2].leader == new_leader);
  CHECK(h.joins[jl2].members.size() == 1);
  // A changed subscription of a restarted static member does rebalance.
  auto changed = harness::request("", true, "range", {42});
  changed.instance_id = rl.instance_id;
  h.sync(new_leader, 2, {});
  REQUIRE(h.g().state == group_state::stable);
  auto jc = h.join(changed);  // the only member: the rebalance completes at once
  REQUIRE(h.joins.contains(jc));
  CHECK(h.joins[jc].generation == 3);
  CHECK(h.g().state == group_state::completing_rebalance);
}

TEST_CASE("offset commits: simple, member, stale generation, unknown member, rebalancing") {
  harness h;
  // Unknown group: a simple commit creates it, a generation >= 0 is illegal.
  CHECK(h.c.validate_commit("g2", 3, "m", std::nullopt, h.now) == ec::illegal_generation);
  CHECK(h.c.validate_commit("g2", -1, "", std::nullopt, h.now) == ec::none);
  h.c.apply_commit("g2", {"t", 0}, {5, -1, "md", 1});
  REQUIRE(h.c.offsets("g2"));
  CHECK(h.c.offsets("g2")->at({"t", 0}).offset == 5);
  CHECK(h.c.list().size() == 1);
  auto a = stable_single(h);
  CHECK(h.c.validate_commit("g", 1, a, std::nullopt, h.now) == ec::none);
  CHECK(h.c.validate_commit("g", 0, a, std::nullopt, h.now) == ec::illegal_generation);
  CHECK(h.c.validate_commit("g", 1, "x", std::nullopt, h.now) == ec::unknown_member_id);
  CHECK(h.c.validate_commit("g", -1, "", std::nullopt, h.now) == ec::unknown_member_id);
  auto b = h.join_v4();
  h.join(harness::request(b));
  // PreparingRebalance: members of the current generation may still commit.
  CHECK(h.c.validate_commit("g", 1, a, std::nullopt, h.now) == ec::none);
  h.join(harness::request(a));
  CHECK(h.g().state == group_state::completing_rebalance);
  CHECK(h.c.validate_commit("g", 2, a, std::nullopt, h.now) == ec::rebalance_in_progress);
  h.c.remove_offset("g2", {"t", 0});
  CHECK(h.c.find("g2") == nullptr);
}

TEST_CASE("delete groups: unknown, non-empty, empty") {
  harness h;
  CHECK(h.c.can_delete("g") == ec::group_id_not_found);
  auto a = stable_single(h);
  CHECK(h.c.can_delete("g") == ec::non_empty_group);
  h.c.apply_commit("g", {"t", 1}, {1, -1, std::nullopt, 0});
  h.leave({{a, std::nullopt}});
  REQUIRE(h.c.find("g"));
  CHECK(h.g().state == group_state::empty);
  CHECK(h.c.can_delete("g") == ec::none);
  h.c.erase("g");
  CHECK(h.c.find("g") == nullptr);
}

TEST_CASE("snapshot and restore: members, assignments and generation survive; sessions restart") {
  harness h;
  auto a = stable_single(h);
  h.c.apply_commit("g", {"t", 0}, {42, 3, "x", 9});
  auto snap = h.c.snapshot("g");
  REQUIRE(snap);
  CHECK(snap->state == group_state::stable);
  CHECK(snap->generation == 1);
  REQUIRE(snap->members.size() == 1);
  CHECK(snap->members[0].assignment == bytes{7});

  harness r;
  r.c.apply_commit("g", {"t", 0}, {42, 3, "x", 9});
  r.c.restore(*snap, r.now);
  CHECK(r.g().state == group_state::stable);
  CHECK(r.g().generation == 1);
  CHECK(r.heartbeat(a, 1) == ec::none);
  auto s = r.sync(a, 1);
  CHECK(r.syncs[s].assignment == bytes{7});
  CHECK(r.c.offsets("g")->at({"t", 0}).offset == 42);
  // A restored member that never comes back expires.
  r.advance(10000);
  CHECK(r.g().members.empty());
  CHECK(r.g().state == group_state::empty);
  CHECK(r.g().generation == 2);

  // An empty snapshot of a group without offsets leaves nothing.
  harness e;
  group_snapshot empty;
  empty.id = "g";
  empty.generation = 4;
  e.c.restore(empty, e.now);
  CHECK(e.c.find("g") == nullptr);
}

TEST_CASE("next_deadline follows sessions and rebalances") {
  harness h;
  CHECK_FALSE(h.c.next_deadline());
  auto a = stable_single(h);
  CHECK(h.c.next_deadline() == h.now + 10000);
  h.advance(4000);
  h.heartbeat(a, 1);
  CHECK(h.c.next_deadline() == h.now + 10000);
}

TEST_CASE("offset retention: an empty group's offsets expire, counted from emptying or the last commit") {
  auto cfg = harness::make_config();
  cfg.offsets_retention_ms = 60000;
  harness h(cfg);
  auto a = stable_single(h);
  h.c.apply_commit("g", {"t", 0}, {5, -1, std::nullopt, 0});
  for (int i = 0; i < 24; ++i) {  // a member keeps the offsets alive
    h.advance(5000);
    REQUIRE(h.heartbeat(a, 1) == ec::none);
  }
  CHECK(h.c.offsets("g"));
  h.leave({{a, std::nullopt}});
  REQUIRE(h.g().state == group_state::empty);
  CHECK(h.c.next_deadline() == std::optional<int64_t>(h.now + 60000));
  h.advance(59999);
  CHECK(h.c.offsets("g")->size() == 1);
  outputs out;
  h.now += 1;
  h.c.tick(h.now, out);
  REQUIRE(out.expired_offsets.size() == 1);
  CHECK(out.expired_offsets[0] == std::pair<std::string, topic_partition>{"g", {"t", 0}});
  CHECK(std::find(out.changed_groups.begin(), out.changed_groups.end(), "g") != out.changed_groups.end());
  CHECK(h.c.find("g") == nullptr);

  // A simple-commit group: every commit restarts the clock.
  CHECK(h.c.validate_commit("s", -1, "", std::nullopt, h.now) == ec::none);
  h.c.apply_commit("s", {"t", 0}, {1, -1, std::nullopt, 0});
  h.advance(50000);
  CHECK(h.c.validate_commit("s", -1, "", std::nullopt, h.now) == ec::none);
  h.advance(50000);
  CHECK(h.c.offsets("s"));
  h.advance(10000);
  CHECK_FALSE(h.c.offsets("s"));

  // Replayed offsets (no group record): the clock starts at the first tick.
  harness r(cfg);
  r.c.apply_commit("x", {"t", 0}, {1, -1, std::nullopt, 0});
  r.advance(1);
  r.advance(59999);
  CHECK(r.c.offsets("x"));
  r.advance(1);
  CHECK_FALSE(r.c.offsets("x"));

  // -1 keeps them.
  cfg.offsets_retention_ms = -1;
  harness k(cfg);
  k.c.apply_commit("x", {"t", 0}, {1, -1, std::nullopt, 0});
  k.advance(1000000000);
  CHECK(k.c.offsets("x"));
  CHECK_FALSE(k.c.next_deadline());
}

}  // namespace
}  // namespace tributary::cluster::group
