// The cluster RPC transport over real TCP on 127.0.0.1 (one loop, several transports).
#include "cluster/rpc/transport.h"

#include <doctest/doctest.h>

#include "tests/unit/uv_http/test_support.h"

using namespace tributary;
using namespace tributary::cluster;
using rpc::transport;

namespace {

raft::node_id id(uint64_t v) { return raft::node_id{v}; }

struct node {
  std::unique_ptr<transport> t;
  std::vector<std::pair<raft::node_id, rpc::raft_batch>> batches;
  std::vector<std::pair<raft::node_id, bool>> peer_events;
  bool answer = true;

  node(uv::loop& l, uint64_t self, std::string cluster = "c1", std::string listen = "127.0.0.1:0") {
    rpc::transport_options o;
    o.self = id(self);
    o.cluster_id = std::move(cluster);
    o.request_timeout_ms = 300;
    o.reconnect_backoff_min_ms = 20;
    o.reconnect_backoff_max_ms = 100;
    rpc::transport::callbacks cb;
    cb.on_raft = [this](raft::node_id from, rpc::raft_batch&& b) {
      batches.emplace_back(from, std::move(b));
    };
    cb.on_request = [this](raft::node_id from, rpc::request&& q, transport::reply_fn reply) {
      if (!answer) return;  // never answers: the caller times out
      std::vector<uint8_t> body = q.body;
      body.push_back(static_cast<uint8_t>(from.value));
      reply(rpc::response{0, 0, "", std::move(body)});
    };
    cb.on_peer = [this](raft::node_id p, bool up) { peer_events.emplace_back(p, up); };
    t = std::make_unique<transport>(l, o, std::move(cb));
    REQUIRE(t->listen(listen).has_value());
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(t->port()); }
  size_t messages() const {
    size_t n = 0;
    for (const auto& [from, b] : batches) n += b.messages.size();
    return n;
  }
};

raft::message heartbeat(uint64_t commit) {
  raft::message m;
  m.type = raft::message_type::heartbeat;
  m.term = raft::term{3};
  m.commit = raft::log_index{static_cast<int64_t>(commit)};
  return m;
}

}  // namespace

TEST_CASE("the heartbeats of many groups go out as one frame per flush") {
  auto l = test::make_loop();
  node a(*l, 1), b(*l, 2);
  a.t->set_peer(id(2), b.address());
  REQUIRE(test::run_until(*l, [&] { return a.t->connected(id(2)) && b.t->connected(id(1)); }));
  const auto frames_before = b.t->stats().frames_in;
  for (uint64_t g = 1; g <= 500; ++g) a.t->send(id(2), rpc::group_id{g}, heartbeat(g));
  a.t->flush();
  REQUIRE(test::run_until(*l, [&] { return b.messages() == 500; }));
  CHECK(b.t->stats().frames_in == frames_before + 1);
  REQUIRE(b.batches.size() == 1);
  const auto& gm = b.batches[0].second.messages[41];
  CHECK(gm.group == rpc::group_id{42});
  CHECK(gm.message.from == id(1));
  CHECK(gm.message.to == id(2));
  CHECK(gm.message.commit == raft::log_index{42});
  // The accepting side can answer on the same connection without knowing the dialler's address.
  b.t->send(id(1), rpc::group_id{7}, heartbeat(1));
  b.t->flush();
  REQUIRE(test::run_until(*l, [&] { return a.messages() == 1; }));
}

TEST_CASE("calls get their answer, or not_connected, or a timeout") {
  auto l = test::make_loop();
  node a(*l, 1), b(*l, 2);
  a.t->set_peer(id(2), b.address());
  REQUIRE(test::run_until(*l, [&] { return a.t->connected(id(2)); }));
  std::optional<result<rpc::response>> got;
  a.t->call(id(2), rpc::api::controller_command, {7}, [&](result<rpc::response> r) { got = std::move(r); });
  REQUIRE(test::run_until(*l, [&] { return got.has_value(); }));
  REQUIRE(got->has_value());
  CHECK((*got)->body == std::vector<uint8_t>{7, 1});

  std::optional<result<rpc::response>> none;
  a.t->call(id(9), rpc::api::controller_command, {}, [&](result<rpc::response> r) { none = std::move(r); });
  REQUIRE(none.has_value());
  CHECK(none->error() == rpc::call_errc::not_connected);

  b.answer = false;
  std::optional<result<rpc::response>> late;
  a.t->call(id(2), rpc::api::controller_command, {}, [&](result<rpc::response> r) { late = std::move(r); });
  REQUIRE(test::run_until(*l, [&] { return late.has_value(); }));
  CHECK(late->error() == rpc::call_errc::timeout);
}

TEST_CASE("a node of another cluster is refused") {
  auto l = test::make_loop();
  node a(*l, 1, "c1"), b(*l, 2, "c2");
  a.t->set_peer(id(2), b.address());
  REQUIRE(test::run_until(
      *l, [&] { return b.t->stats().handshake_failures >= 1 && a.t->stats().handshake_failures >= 1; }));
  CHECK_FALSE(a.t->connected(id(2)));
  CHECK_FALSE(b.t->connected(id(1)));
}

TEST_CASE("both nodes dial: both keep the connection of the lower id, and traffic flows") {
  auto l = test::make_loop();
  node a(*l, 1), b(*l, 2);
  a.t->set_peer(id(2), b.address());
  b.t->set_peer(id(1), a.address());
  REQUIRE(test::run_until(*l, [&] { return a.t->connected(id(2)) && b.t->connected(id(1)); }));
  // Let the duplicate settle, then send both ways.
  REQUIRE(test::run_until(
      *l, [&] { return a.t->stats().connects >= 2 && b.t->stats().connects >= 2; }, 5000));
  uv::timer pause(*l);
  pause.start(100, [&] { l->stop(); });
  test::run(*l);
  a.t->send(id(2), rpc::group_id{1}, heartbeat(1));
  a.t->flush();
  b.t->send(id(1), rpc::group_id{1}, heartbeat(2));
  b.t->flush();
  REQUIRE(test::run_until(*l, [&] { return a.messages() == 1 && b.messages() == 1; }));
}

TEST_CASE("a restarted peer is dialled again") {
  auto l = test::make_loop();
  node a(*l, 1);
  auto b = std::make_unique<node>(*l, 2);
  const std::string addr = b->address();
  a.t->set_peer(id(2), addr);
  REQUIRE(test::run_until(*l, [&] { return a.t->connected(id(2)); }));
  b.reset();
  REQUIRE(test::run_until(*l, [&] { return !a.t->connected(id(2)); }));
  // Dropped while down: counted, not queued.
  a.t->send(id(2), rpc::group_id{1}, heartbeat(1));
  CHECK(a.t->stats().messages_dropped >= 1);
  b = std::make_unique<node>(*l, 2, "c1", addr);
  REQUIRE(test::run_until(*l, [&] { return a.t->connected(id(2)); }));
  a.t->send(id(2), rpc::group_id{1}, heartbeat(5));
  a.t->flush();
  REQUIRE(test::run_until(*l, [&] { return b->messages() == 1; }));
  CHECK(a.peer_events.front() == std::pair{id(2), true});
}
