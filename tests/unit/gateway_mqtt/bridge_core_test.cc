// The bridge's client session core (gateway/bridge/client_core.h), driven packet by packet with
// made-up times: acknowledgements only after the commit, in arrival order, never across
// connections; reconnect backoff; flow control; QoS 2.
#include <doctest/doctest.h>

#include <optional>
#include <variant>

#include "common/mqtt/codec.h"
#include "gateway/bridge/client_core.h"

using namespace tributary;
using namespace tributary::gateway;
using namespace tributary::gateway::bridge;
namespace wire = tributary::mqtt;

namespace {

routes::route_table test_routes() {
  routes::table_spec spec;
  spec.routes.push_back({"sensors/+device/+kind", "telemetry.{kind}", "{device}", 0, 0});
  auto t = routes::route_table::build(spec);
  REQUIRE(t);
  return std::move(*t);
}

bridge_config test_config() {
  bridge_config c;
  c.enabled = true;
  c.client_id = "gw-bridge";
  c.subscriptions = {{"sensors/#", 1}, {"alarms/#", 2}};
  c.keep_alive_s = 10;
  c.reconnect_min_ms = 100;
  c.reconnect_max_ms = 800;
  c.inflight_max = 3;
  return c;
}

instant at(uint64_t ms) { return instant{ms, 1'700'000'000'000 + static_cast<int64_t>(ms)}; }

// What one call returned, sorted by kind; sent bytes decoded back into packets.
struct result_view {
  std::vector<std::vector<uint8_t>> frames;  // each sent packet's bytes
  std::vector<submit_action> submits;
  std::optional<close_action> close;
  std::optional<bool> pause;
  bool connect = false;

  wire::packet packet(size_t i) const {
    auto p = wire::decode(frames.at(i), wire::protocol_version::v311);
    REQUIRE(p);
    return *p;
  }
  wire::packet_type type(size_t i) const { return wire::type_of(packet(i)); }
  uint16_t ack_id(size_t i) const {
    auto p = packet(i);
    if (auto* a = std::get_if<wire::puback_packet>(&p)) return a->id.value;
    if (auto* a = std::get_if<wire::pubrec_packet>(&p)) return a->id.value;
    if (auto* a = std::get_if<wire::pubcomp_packet>(&p)) return a->id.value;
    FAIL("not an acknowledgement");
    return 0;
  }
};

result_view view(actions a) {
  result_view v;
  for (auto& x : a) {
    if (auto* s = std::get_if<send_action>(&x)) {
      byte_span rest = s->bytes;
      while (!rest.empty()) {
        auto n = wire::frame_length(rest, 1 << 20);
        REQUIRE(n);
        REQUIRE(*n > 0);
        v.frames.emplace_back(rest.begin(), rest.begin() + static_cast<ptrdiff_t>(*n));
        rest = rest.subspan(*n);
      }
    } else if (auto* sub = std::get_if<submit_action>(&x)) {
      v.submits.push_back(std::move(*sub));
    } else if (auto* c = std::get_if<close_action>(&x)) {
      v.close = *c;
    } else if (auto* p = std::get_if<pause_action>(&x)) {
      v.pause = p->pause;
    } else if (std::holds_alternative<connect_action>(x)) {
      v.connect = true;
    }
  }
  return v;
}

std::vector<uint8_t> bytes_of(const wire::packet& p) { return wire::encode(p, wire::protocol_version::v311); }

std::vector<uint8_t> connack(bool session_present, wire::reason_code rc = wire::reason_code::success) {
  wire::connack_packet c;
  c.session_present = session_present;
  c.reason = rc;
  return bytes_of(c);
}

std::vector<uint8_t> publish(std::string_view topic, std::string_view payload, uint8_t qos, uint16_t id,
                             bool dup = false) {
  wire::publish_packet p;
  p.topic = topic;
  p.qos = static_cast<wire::qos_level>(qos);
  p.id = wire::packet_id(qos == 0 ? 0 : id);
  p.dup = dup;
  p.payload = wire::bytes_view(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  return bytes_of(p);
}

struct fixture {
  routes::route_table routes = test_routes();
  gateway::mqtt::core_config mc;
  client_core core;
  explicit fixture(bridge_config c = test_config()) : core(std::move(c), mc, routes) {}

  // Connects and accepts; returns what CONNACK produced.
  result_view up(uint64_t now, bool session_present = false) {
    auto t = view(core.tick(at(now)));
    REQUIRE(t.connect);
    auto c = view(core.on_connected(at(now)));
    REQUIRE(c.frames.size() == 1);
    REQUIRE(c.type(0) == wire::packet_type::connect);
    auto r = view(core.on_frame(connack(session_present), at(now)));
    REQUIRE(core.connected());
    return r;
  }
};

}  // namespace

TEST_CASE("bridge: CONNECT asks for a persistent session; SUBSCRIBE follows CONNACK") {
  fixture f;
  auto t = view(f.core.tick(at(0)));
  CHECK(t.connect);
  auto c = view(f.core.on_connected(at(0)));
  auto p = std::get<wire::connect_packet>(c.packet(0));
  CHECK(p.client_id == "gw-bridge");
  CHECK(!p.clean_start);
  CHECK(p.keep_alive_s == 10);
  CHECK(!p.username);
  auto r = view(f.core.on_frame(connack(false), at(5)));
  REQUIRE(r.frames.size() == 1);
  auto s = std::get<wire::subscribe_packet>(r.packet(0));
  REQUIRE(s.subscriptions.size() == 2);
  CHECK(s.subscriptions[0].filter == "sensors/#");
  CHECK(s.subscriptions[1].max_qos == wire::qos_level::exactly_once);
  CHECK(f.core.stats().connects == 1);
}

TEST_CASE("bridge: QoS 1 is acknowledged only after its commit, and in arrival order") {
  fixture f;
  f.up(0);
  auto a = view(f.core.on_frame(publish("sensors/d1/temp", "21.5", 1, 7), at(10)));
  CHECK(a.frames.empty());  // nothing acknowledged on receipt
  REQUIRE(a.submits.size() == 1);
  const auto& row = a.submits[0].row;
  CHECK(row.topic == "telemetry.temp");
  CHECK(row.key == std::optional<std::vector<uint8_t>>(std::vector<uint8_t>{'d', '1'}));
  CHECK(row.receive_ms == at(10).unix_ms);
  auto b = view(f.core.on_frame(publish("sensors/d2/temp", "22", 1, 8), at(11)));
  REQUIRE(b.submits.size() == 1);
  // The second commits first: nothing may go out before the first's PUBACK.
  CHECK(view(f.core.on_committed(b.submits[0].token, commit_result::committed, at(12))).frames.empty());
  auto acks = view(f.core.on_committed(a.submits[0].token, commit_result::committed, at(13)));
  REQUIRE(acks.frames.size() == 2);
  CHECK(acks.type(0) == wire::packet_type::puback);
  CHECK(acks.ack_id(0) == 7);
  CHECK(acks.ack_id(1) == 8);
}

TEST_CASE("bridge: a commit that completes after its connection ended is not acknowledged on the next") {
  fixture f;
  f.up(0);
  auto a = view(f.core.on_frame(publish("sensors/d1/temp", "1", 1, 1), at(10)));
  REQUIRE(a.submits.size() == 1);
  view(f.core.on_closed(at(20)));
  CHECK(!f.core.connected());
  CHECK(f.core.stats().connections_lost == 1);
  auto r = f.up(20 + 100, true);  // the broker still has the session: no SUBSCRIBE
  CHECK(r.frames.empty());
  CHECK(f.core.stats().reconnects == 1);
  // The broker re-sends id 1 on the new connection; the old commit must not answer it.
  auto again = view(f.core.on_frame(publish("sensors/d1/temp", "1", 1, 1, true), at(130)));
  REQUIRE(again.submits.size() == 1);
  CHECK(view(f.core.on_committed(a.submits[0].token, commit_result::committed, at(131))).frames.empty());
  CHECK(f.core.stats().stale_commits == 1);
  auto ack = view(f.core.on_committed(again.submits[0].token, commit_result::committed, at(132)));
  REQUIRE(ack.frames.size() == 1);
  CHECK(ack.ack_id(0) == 1);
  CHECK(f.core.stats().redelivered == 1);
}

TEST_CASE("bridge: a failed commit is never acknowledged; the connection closes so the broker re-sends") {
  fixture f;
  f.up(0);
  auto a = view(f.core.on_frame(publish("sensors/d1/temp", "1", 1, 1), at(10)));
  auto b = view(f.core.on_frame(publish("sensors/d1/temp", "2", 1, 2), at(10)));
  auto r = view(f.core.on_committed(a.submits[0].token, commit_result::quota_exceeded, at(11)));
  CHECK(r.frames.empty());
  REQUIRE(r.close);
  CHECK(!r.close->abort);
  CHECK(view(f.core.on_committed(b.submits[0].token, commit_result::committed, at(12))).frames.empty());
  CHECK(f.core.stats().commit_failures == 1);
}

TEST_CASE("bridge: reconnect backoff doubles to the maximum and resets on CONNACK") {
  fixture f;
  CHECK(view(f.core.tick(at(0))).connect);
  view(f.core.on_connect_failed(at(0)));
  CHECK(f.core.backoff_ms() == 100);
  CHECK(!view(f.core.tick(at(99))).connect);
  CHECK(view(f.core.tick(at(100))).connect);
  view(f.core.on_connect_failed(at(100)));
  CHECK(f.core.backoff_ms() == 200);
  uint64_t now = 100;
  for (int i = 0; i < 5; ++i) {
    now = f.core.next_attempt_ms();
    CHECK(view(f.core.tick(at(now))).connect);
    view(f.core.on_connect_failed(at(now)));
  }
  CHECK(f.core.backoff_ms() == 800);
  CHECK(f.core.stats().connect_failures == 7);
  now = f.core.next_attempt_ms();
  CHECK(view(f.core.tick(at(now))).connect);
  view(f.core.on_connected(at(now)));
  // A refused CONNACK is a failure too.
  auto refused = view(f.core.on_frame(connack(false, wire::reason_code::not_authorized), at(now)));
  REQUIRE(refused.close);
  view(f.core.on_closed(at(now)));
  CHECK(f.core.stats().connect_failures == 8);
  now = f.core.next_attempt_ms();
  f.up(now);
  CHECK(f.core.backoff_ms() == 0);
  view(f.core.on_closed(at(now + 5)));
  CHECK(f.core.backoff_ms() == 100);
}

TEST_CASE("bridge: at inflight_max readings awaiting commit, reading pauses") {
  fixture f;  // inflight_max 3
  f.up(0);
  std::vector<commit_token> tokens;
  for (uint16_t id = 1; id <= 3; ++id) {
    auto r = view(f.core.on_frame(publish("sensors/d/t", "x", 1, id), at(1)));
    tokens.push_back(r.submits.at(0).token);
    CHECK(r.pause == (id == 3 ? std::optional<bool>(true) : std::nullopt));
  }
  auto r = view(f.core.on_committed(tokens[0], commit_result::committed, at(2)));
  CHECK(r.pause == std::optional<bool>(false));
  CHECK(r.frames.size() == 1);
}

TEST_CASE("bridge: QoS 2 is stored once, PUBREC after the commit, PUBCOMP on PUBREL") {
  fixture f;
  f.up(0);
  auto a = view(f.core.on_frame(publish("sensors/d/t", "q2", 2, 5), at(1)));
  REQUIRE(a.submits.size() == 1);
  CHECK(a.frames.empty());
  auto dup = view(f.core.on_frame(publish("sensors/d/t", "q2", 2, 5, true), at(2)));
  CHECK(dup.submits.empty());
  auto rec = view(f.core.on_committed(a.submits[0].token, commit_result::committed, at(3)));
  REQUIRE(rec.frames.size() == 2);  // one PUBREC per PUBLISH received
  CHECK(rec.type(0) == wire::packet_type::pubrec);
  CHECK(rec.ack_id(1) == 5);
  auto comp = view(f.core.on_frame(bytes_of(wire::pubrel_packet{wire::packet_id(5), {}, {}}), at(4)));
  REQUIRE(comp.frames.size() == 1);
  CHECK(comp.type(0) == wire::packet_type::pubcomp);
  CHECK(f.core.stats().qos2_duplicates == 1);
}

TEST_CASE("bridge: no route: acknowledged at once and dropped; QoS 0 is never answered") {
  fixture f;
  f.up(0);
  auto r = view(f.core.on_frame(publish("other/x", "1", 1, 9), at(1)));
  CHECK(r.submits.empty());
  REQUIRE(r.frames.size() == 1);
  CHECK(r.ack_id(0) == 9);
  CHECK(f.core.stats().no_route == 1);
  auto q0 = view(f.core.on_frame(publish("sensors/d/t", "0", 0, 0), at(2)));
  REQUIRE(q0.submits.size() == 1);
  CHECK(view(f.core.on_committed(q0.submits[0].token, commit_result::committed, at(3))).frames.empty());
}

TEST_CASE("bridge: keep alive pings, and silence closes") {
  fixture f;  // keep alive 10 s
  f.up(0);
  CHECK(view(f.core.tick(at(9'999))).frames.empty());
  auto ping = view(f.core.tick(at(10'000)));
  REQUIRE(ping.frames.size() == 1);
  CHECK(ping.type(0) == wire::packet_type::pingreq);
  auto gone = view(f.core.tick(at(15'000)));
  REQUIRE(gone.close);
  CHECK(gone.close->abort);
  CHECK(f.core.stats().keep_alive_timeouts == 1);
}

TEST_CASE("bridge: shutdown sends the ready acknowledgements, DISCONNECT, and never reconnects") {
  fixture f;
  f.up(0);
  auto a = view(f.core.on_frame(publish("sensors/d/t", "1", 1, 3), at(1)));
  view(f.core.on_committed(a.submits[0].token, commit_result::committed, at(2)));
  auto s = view(f.core.shutdown(at(3)));
  REQUIRE(s.frames.size() == 1);
  CHECK(s.type(0) == wire::packet_type::disconnect);
  REQUIRE(s.close);
  view(f.core.on_closed(at(4)));
  CHECK(!view(f.core.tick(at(100'000))).connect);
}
