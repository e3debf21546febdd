// Transcripts of the MQTT session core (gateway/mqtt/core.h): packets and times in, actions out.
#include <doctest/doctest.h>

#include "transcript.h"

using namespace tributary;
using namespace tributary::gateway::mqtt;
using namespace tributary::gateway::mqtt::test;
using proto::reason_code;

namespace {

const std::string connack5 = " {receive_maximum=4 topic_alias_maximum=2 maximum_packet_size=4096}";

}  // namespace

TEST_CASE("3.1.1: CONNECT, QoS 1 PUBLISH acknowledged only after the commit") {
  harness h;
  CHECK(h.recv(1, connect311("dev-1")) == "c1 < CONNACK sp=0 rc=success\n");
  CHECK(h.recv(1, publish("sensors/dev-1/temp", "21.5", 1, 7)) ==
        "c1 submit #1 qos=1 topic=telemetry.temp key=dev-1 payload=21.5\n");
  CHECK(h.commit(1) == "c1 < PUBACK id=7 rc=success\n");
  const auto& r = h.reading(1);
  CHECK(header_value(r, "tributary.gateway") == "gw-test");
  CHECK(header_value(r, "tributary.client_id") == "dev-1");
  CHECK(header_value(r, "tributary.mqtt_topic") == "sensors/dev-1/temp");
  CHECK(header_value(r, "tributary.mqtt_qos") == "1");
  CHECK(header_value(r, "tributary.receive_ms") == std::to_string(h.now().unix_ms));
  CHECK(header_value(r, "tributary.event") == "<none>");
  CHECK(r.receive_ms == h.now().unix_ms);
  CHECK(r.priority == 0);
  CHECK(!r.expires_ms);
}

TEST_CASE("5.0: CONNACK advertises the limits; routes give topic, key, priority and expiry") {
  harness h;
  CHECK(h.recv(1, connect("dev-1")) == "c1 < CONNACK sp=0 rc=success" + connack5 + "\n");
  CHECK(h.recv(1, publish("alarms/dev-1/smoke/kitchen", "fire", 1, 1)) ==
        "c1 submit #1 qos=1 topic=alarms key=dev-1 payload=fire\n");
  CHECK(h.reading(1).priority == 9);
  CHECK(h.reading(1).expires_ms == h.now().unix_ms + 60000);
  // The 5.0 Message Expiry Interval shortens the route's ttl.
  auto p = publish("alarms/dev-1/smoke", "fire", 1, 2);
  p.props.message_expiry_interval_s = 5;
  p.props.content_type = "text/plain";
  p.props.user_properties = {{"site", "north"}, {"tributary.gateway", "spoofed"}};
  CHECK(h.recv(1, p) == "c1 submit #2 qos=1 topic=alarms key=dev-1 payload=fire\n");
  CHECK(h.reading(2).expires_ms == h.now().unix_ms + 5000);
  CHECK(header_value(h.reading(2), "tributary.content_type") == "text/plain");
  CHECK(header_value(h.reading(2), "site") == "north");
  CHECK(header_value(h.reading(2), "tributary.gateway") == "gw-test");  // not overwritten
}

TEST_CASE("acknowledgements leave in the order of the publishes, whatever the order of commits") {
  harness h;
  h.recv(1, connect("dev-1"));
  CHECK(h.recv(1, publish("sensors/a/t", "1", 1, 10)) ==
        "c1 submit #1 qos=1 topic=telemetry.t key=a payload=1\n");
  CHECK(h.recv(1, publish("sensors/a/t", "2", 2, 11)) ==
        "c1 submit #2 qos=2 topic=telemetry.t key=a payload=2\n");
  CHECK(h.recv(1, publish("sensors/a/t", "3", 1, 12)) ==
        "c1 submit #3 qos=1 topic=telemetry.t key=a payload=3\n");
  CHECK(h.commit(3) == "");
  CHECK(h.commit(2) == "");
  CHECK(h.commit(1) ==
        "c1 < PUBACK id=10 rc=success\nc1 < PUBREC id=11 rc=success\nc1 < PUBACK id=12 rc=success\n");
}

TEST_CASE("QoS 2 re-sent with the same id before PUBREL is stored once") {
  harness h;
  h.recv(1, connect311("dev-1"));
  CHECK(h.recv(1, publish("sensors/a/t", "x", 2, 5)) ==
        "c1 submit #1 qos=2 topic=telemetry.t key=a payload=x\n");
  auto dup = publish("sensors/a/t", "x", 2, 5);
  dup.dup = true;
  CHECK(h.recv(1, dup) == "");  // waits for the same commit
  CHECK(h.commit(1) == "c1 < PUBREC id=5 rc=success\nc1 < PUBREC id=5 rc=success\n");
  CHECK(h.recv(1, dup) == "c1 < PUBREC id=5 rc=success\n");  // after the commit: answered at once
  CHECK(h.core().stats().qos2_duplicates == 2);
  CHECK(h.recv(1, pubrel(5)) == "c1 < PUBCOMP id=5 rc=success\n");
  // Released: the same id is a new message now.
  CHECK(h.recv(1, publish("sensors/a/t", "y", 2, 5)) ==
        "c1 submit #2 qos=2 topic=telemetry.t key=a payload=y\n");
  CHECK(h.submitted() == 2);
}

TEST_CASE("QoS 2 state survives a reconnect of a persistent session: the re-send is not stored again") {
  harness h;
  connect_opts o;
  o.clean_start = false;
  o.session_expiry_s = 600;
  h.recv(1, connect("dev-1", o));
  CHECK(h.recv(1, publish("sensors/a/t", "x", 2, 9)) ==
        "c1 submit #1 qos=2 topic=telemetry.t key=a payload=x\n");
  CHECK(h.closed(1) == "");  // connection lost before the commit
  CHECK(h.commit(1) == "");  // committed meanwhile: the session remembers it
  CHECK(h.recv(2, connect("dev-1", o)) == "c2 < CONNACK sp=1 rc=success" + connack5 + "\n");
  auto dup = publish("sensors/a/t", "x", 2, 9);
  dup.dup = true;
  CHECK(h.recv(2, dup) == "c2 < PUBREC id=9 rc=success\n");
  CHECK(h.recv(2, pubrel(9)) == "c2 < PUBCOMP id=9 rc=success\n");
  CHECK(h.submitted() == 1);
}

TEST_CASE("PUBREL for an unknown id: PUBCOMP 0x92 in 5.0, success in 3.1.1") {
  harness h;
  h.recv(1, connect("a"));
  CHECK(h.recv(1, pubrel(3)) == "c1 < PUBCOMP id=3 rc=packet_identifier_not_found\n");
  h.recv(2, connect311("b"));
  CHECK(h.recv(2, pubrel(3)) == "c2 < PUBCOMP id=3 rc=success\n");
}

TEST_CASE("QoS 0: submitted, never answered; a full queue drops it (counted)") {
  harness h;
  h.recv(1, connect("dev-1"));
  CHECK(h.recv(1, publish("sensors/a/t", "x", 0)) ==
        "c1 submit #1 qos=0 topic=telemetry.t key=a payload=x\n");
  CHECK(h.commit(1, commit_result::queue_full) == "");
  CHECK(h.core().stats().dropped[static_cast<size_t>(drop_reason::queue_full)] == 1);
  CHECK(h.core().stats().publishes[0] == 1);
}

TEST_CASE("no route: 5.0 PUBACK 0x90, 3.1.1 acknowledged and dropped, QoS 0 counted") {
  harness h;
  h.recv(1, connect("a"));
  CHECK(h.recv(1, publish("elsewhere/x", "x", 1, 1)) == "c1 < PUBACK id=1 rc=topic_name_invalid\n");
  CHECK(h.recv(1, publish("elsewhere/x", "x", 2, 2)) == "c1 < PUBREC id=2 rc=topic_name_invalid\n");
  CHECK(h.recv(1, publish("elsewhere/x", "x", 0)) == "");
  h.recv(2, connect311("b"));
  CHECK(h.recv(2, publish("elsewhere/x", "x", 1, 1)) == "c2 < PUBACK id=1 rc=success\n");
  CHECK(h.recv(2, publish("elsewhere/x", "x", 2, 2)) == "c2 < PUBREC id=2 rc=success\n");
  CHECK(h.recv(2, pubrel(2)) == "c2 < PUBCOMP id=2 rc=success\n");
  CHECK(h.core().stats().dropped[static_cast<size_t>(drop_reason::no_route)] == 5);
  CHECK(h.submitted() == 0);
}

TEST_CASE("a capture that makes an invalid topic name refuses the publish") {
  harness h;
  h.recv(1, connect("a"));
  CHECK(h.recv(1, publish("sensors/a/bad:kind", "x", 1, 1)) == "c1 < PUBACK id=1 rc=topic_name_invalid\n");
  CHECK(h.core().stats().dropped[static_cast<size_t>(drop_reason::bad_target_topic)] == 1);
}

TEST_CASE("quota exceeded: 5.0 PUBACK 0x97; the connection goes on") {
  harness h;
  h.recv(1, connect("a"));
  h.recv(1, publish("sensors/a/t", "1", 1, 1));
  h.recv(1, publish("sensors/a/t", "2", 2, 2));
  CHECK(h.commit(1, commit_result::quota_exceeded) == "c1 < PUBACK id=1 rc=quota_exceeded\n");
  CHECK(h.commit(2, commit_result::quota_exceeded) == "c1 < PUBREC id=2 rc=quota_exceeded\n");
  // A failed QoS 2 id is forgotten: the retry is stored.
  CHECK(h.recv(1, publish("sensors/a/t", "2", 2, 2)) ==
        "c1 submit #3 qos=2 topic=telemetry.t key=a payload=2\n");
  CHECK(h.core().stats().dropped[static_cast<size_t>(drop_reason::quota_exceeded)] == 2);
}

TEST_CASE("quota exceeded, 3.1.1: not acknowledged, reading stops, closed after the back-off, no will") {
  harness h;
  connect_opts o;
  o.will_topic = "status/a";
  h.recv(1, connect311("a", o));
  h.recv(1, publish("sensors/a/t", "1", 1, 1));
  h.recv(1, publish("sensors/a/t", "2", 1, 2));
  h.recv(1, publish("sensors/a/t", "3", 1, 3));
  CHECK(h.commit(1) == "c1 < PUBACK id=1 rc=success\n");
  CHECK(h.commit(2, commit_result::quota_exceeded) == "c1 pause\n");
  CHECK(h.commit(3) == "");  // after a refusal nothing is acknowledged: order would be broken
  h.advance(999);
  CHECK(h.tick() == "");
  h.advance(1);
  CHECK(h.tick() == "c1 close (quota_exceeded)\n");
  CHECK(h.closed(1) == "");
  CHECK(h.core().stats().wills_published == 0);
}

TEST_CASE("3.1.1 flow control: reading pauses at receive_maximum readings waiting for commit") {
  harness h;
  h.recv(1, connect311("a"));
  for (uint16_t i = 1; i <= 3; ++i) h.recv(1, publish("sensors/a/t", "x", 1, i));
  CHECK(h.recv(1, publish("sensors/a/t", "x", 1, 4)) ==
        "c1 submit #4 qos=1 topic=telemetry.t key=a payload=x\nc1 pause\n");
  CHECK(h.commit(1) == "c1 < PUBACK id=1 rc=success\nc1 resume\n");
}

TEST_CASE("5.0 receive maximum exceeded: DISCONNECT 0x93") {
  harness h;
  h.recv(1, connect("a"));
  for (uint16_t i = 1; i <= 4; ++i) h.recv(1, publish("sensors/a/t", "x", i % 2 + 1, i));
  CHECK(h.recv(1, publish("sensors/a/t", "x", 1, 5)) ==
        "c1 < DISCONNECT rc=receive_maximum_exceeded\nc1 close (receive_maximum_exceeded)\n");
}

TEST_CASE("keep alive enforced at 1.5x: DISCONNECT 0x8D and the will goes into the stream") {
  harness h;
  connect_opts o;
  o.keep_alive_s = 10;
  o.will_topic = "status/dev-9";
  o.will_payload = "offline";
  h.recv(1, connect("dev-9", o));
  h.advance(14999);
  CHECK(h.tick() == "");
  CHECK(h.recv(1, proto::pingreq_packet{}) == "c1 < PINGRESP\n");  // resets the deadline
  h.advance(14999);
  CHECK(h.tick() == "");
  h.advance(1);
  CHECK(h.tick() ==
        "c1 < DISCONNECT rc=keep_alive_timeout\n"
        "c0 submit #1 qos=0 will topic=status key=dev-9 payload=offline\n"
        "c1 close (keep_alive_timeout)\n");
  CHECK(header_value(h.reading(1), "tributary.event") == "will");
  CHECK(header_value(h.reading(1), "tributary.will_reason") == "keep_alive_timeout");
  CHECK(header_value(h.reading(1), "tributary.mqtt_topic") == "status/dev-9");
  CHECK(h.core().stats().keep_alive_timeouts == 1);
}

TEST_CASE("keep alive is not held against a client waiting for our acknowledgements") {
  harness h;
  connect_opts o;
  o.keep_alive_s = 2;
  h.recv(1, connect311("slow", o));
  h.recv(1, publish("sensors/a/t", "x", 1, 1));
  h.advance(10000);  // the commit takes long (a slow disk): the client waits, silent
  CHECK(h.tick() == "");
  CHECK(h.commit(1) == "c1 < PUBACK id=1 rc=success\n");
  h.advance(2999);
  CHECK(h.tick() == "");
  h.advance(1);
  CHECK(h.tick() == "c1 close (keep_alive_timeout)\n");
}

TEST_CASE("keep alive: a 3.1.1 client asking 0 or more than the maximum is held to the maximum") {
  harness h;
  connect_opts o;
  o.keep_alive_s = 0;
  h.recv(1, connect311("a", o));
  h.advance(900 * 1000 - 1);
  CHECK(h.tick() == "");
  h.advance(1);
  CHECK(h.tick() == "c1 close (keep_alive_timeout)\n");
  // 5.0 is told: Server Keep Alive.
  o.keep_alive_s = 0;
  CHECK(h.recv(2, connect("b", o)) ==
        "c2 < CONNACK sp=0 rc=success {receive_maximum=4 topic_alias_maximum=2 maximum_packet_size=4096 "
        "server_keep_alive=600}\n");
}

TEST_CASE("will: abrupt close sends it, DISCONNECT 0x00 does not, 5.0 DISCONNECT 0x04 does") {
  harness h;
  connect_opts o;
  o.will_topic = "status/w";
  h.recv(1, connect311("w1", o));
  CHECK(h.closed(1) == "c0 submit #1 qos=0 will topic=status key=w payload=offline\n");
  CHECK(header_value(h.reading(1), "tributary.will_reason") == "connection_lost");
  h.recv(2, connect311("w2", o));
  CHECK(h.recv(2, disconnect()) == "c2 close (DISCONNECT)\n");
  CHECK(h.closed(2) == "");
  h.recv(3, connect("w3", o));
  CHECK(h.recv(3, disconnect(reason_code::disconnect_with_will_message)) ==
        "c0 submit #2 qos=0 will topic=status key=w payload=offline\nc3 close (DISCONNECT)\n");
  CHECK(h.core().stats().wills_published == 2);
}

TEST_CASE("will delay: published after the delay, cancelled by a reconnect within it") {
  harness h;
  connect_opts o;
  o.clean_start = false;
  o.session_expiry_s = 600;
  o.will_topic = "status/d";
  o.will_delay_s = 5;
  h.recv(1, connect("d", o));
  CHECK(h.closed(1) == "");
  h.advance(4999);
  CHECK(h.tick() == "");
  h.advance(1);
  CHECK(h.tick() == "c0 submit #1 qos=0 will topic=status key=d payload=offline\n");
  CHECK(header_value(h.reading(1), "tributary.will_reason") == "will_delay_elapsed");

  h.recv(2, connect("d", o));
  CHECK(h.closed(2) == "");
  h.advance(3000);
  CHECK(h.recv(3, connect("d", o)) == "c3 < CONNACK sp=1 rc=success" + connack5 + "\n");
  h.advance(10000);
  CHECK(h.tick() == "");
  CHECK(h.core().stats().wills_cancelled == 1);
}

TEST_CASE("takeover: the old connection gets DISCONNECT 0x8E and its will; the new one takes the session") {
  harness h;
  connect_opts o;
  o.clean_start = false;
  o.session_expiry_s = 600;
  o.will_topic = "status/t";
  h.recv(1, connect("t", o));
  proto::subscribe_packet sub;
  sub.id = proto::packet_id(1);
  sub.subscriptions.push_back({"cmd/t", qos_level::at_least_once});
  CHECK(h.recv(1, sub) == "c1 < SUBACK id=1 [0x01]\n");
  CHECK(h.recv(2, connect("t", o)) ==
        "c1 < DISCONNECT rc=session_taken_over\n"
        "c0 submit #1 qos=0 will topic=status key=t payload=offline\n"
        "c1 close (session_taken_over)\n"
        "c2 < CONNACK sp=1 rc=success" +
            connack5 + "\n");
  CHECK(h.closed(1) == "");  // the old socket closing later changes nothing
  CHECK(h.core().stats().takeovers == 1);
  // The new connection owns the session: its subscriptions are there.
  proto::unsubscribe_packet unsub;
  unsub.id = proto::packet_id(2);
  unsub.filters = {"cmd/t", "cmd/other"};
  CHECK(h.recv(2, unsub) == "c2 < UNSUBACK id=2 [0x00,0x11]\n");
  // A 3.1.1 takeover: the old client is closed without a DISCONNECT.
  h.recv(3, connect311("u"));
  CHECK(h.recv(4, connect311("u")) == "c3 close (session_taken_over)\nc4 < CONNACK sp=0 rc=success\n");
}

TEST_CASE("persistent sessions: 3.1.1 clean session 0 resumes; expiry; clean start discards") {
  harness h;
  connect_opts o;
  o.clean_start = false;
  CHECK(h.recv(1, connect311("p", o)) == "c1 < CONNACK sp=0 rc=success\n");
  h.closed(1);
  CHECK(h.core().detached_session_count() == 1);
  CHECK(h.recv(2, connect311("p", o)) == "c2 < CONNACK sp=1 rc=success\n");
  h.closed(2);
  h.advance(3600 * 1000);  // session_expiry_max_s
  CHECK(h.tick() == "");
  CHECK(h.core().detached_session_count() == 0);
  CHECK(h.core().stats().sessions_expired == 1);
  CHECK(h.recv(3, connect311("p", o)) == "c3 < CONNACK sp=0 rc=success\n");
  h.closed(3);
  o.clean_start = true;
  CHECK(h.recv(4, connect311("p", o)) == "c4 < CONNACK sp=0 rc=success\n");
  h.closed(4);
  CHECK(h.core().session_count() == 0);
}

TEST_CASE("5.0 session expiry: 0 ends with the connection; above the maximum is clamped and said") {
  harness h;
  connect_opts o;
  o.clean_start = false;
  o.session_expiry_s = 0;
  h.recv(1, connect("s", o));
  h.closed(1);
  CHECK(h.core().session_count() == 0);
  o.session_expiry_s = 99999;
  CHECK(h.recv(2, connect("s", o)) ==
        "c2 < CONNACK sp=0 rc=success {session_expiry=3600 receive_maximum=4 topic_alias_maximum=2 "
        "maximum_packet_size=4096}\n");
}

TEST_CASE("sessions_max: the detached session closest to expiry is discarded") {
  harness h;  // sessions_max = 4
  connect_opts o;
  o.clean_start = false;
  for (uint64_t c = 1; c <= 5; ++c) {
    o.session_expiry_s = static_cast<uint32_t>(100 * c);
    h.recv(c, connect("s" + std::to_string(c), o));
    h.closed(c);
  }
  CHECK(h.core().detached_session_count() == 4);
  CHECK(h.core().stats().sessions_evicted == 1);
  o.session_expiry_s = 100;
  CHECK(h.recv(6, connect("s1", o)) == "c6 < CONNACK sp=0 rc=success" + connack5 + "\n");  // s1 was discarded
  CHECK(h.recv(7, connect("s2", o)) == "c7 < CONNACK sp=1 rc=success" + connack5 + "\n");
}

TEST_CASE("DISCONNECT may not raise the session expiry from 0") {
  harness h;
  h.recv(1, connect("a"));
  auto d = disconnect();
  d.props.session_expiry_interval_s = 10;
  CHECK(h.recv(1, d) == "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
}

TEST_CASE("authentication") {
  auto cfg = small_config();
  cfg.anonymous = false;
  cfg.passwords = true;
  harness h(cfg);
  SUBCASE("anonymous refused: 0x87 / 3.1.1 return code 0x05") {
    CHECK(h.recv(1, connect("a")) == "c1 < CONNACK sp=0 rc=not_authorized\nc1 close (not_authorized)\n");
    CHECK(h.recv(2, connect311("a")) == "c2 < CONNACK sp=0 rc=not_authorized\nc2 close (not_authorized)\n");
  }
  SUBCASE("checked off the loop; wrong password: 0x86 / 0x04") {
    connect_opts o;
    o.username = "alice";
    o.password = "nope";
    CHECK(h.recv(1, connect("a", o)) == "c1 pause\nc1 verify user=alice password=nope\n");
    CHECK(h.recv(1, publish("sensors/a/t", "x", 0)) == "");  // nothing is handled meanwhile
    CHECK(h.auth(1, auth_outcome::refused) ==
          "c1 < CONNACK sp=0 rc=bad_username_or_password\nc1 close (bad_username_or_password)\n");
    o.version = protocol_version::v311;
    h.recv(2, connect("b", o));
    CHECK(h.auth(2, auth_outcome::refused) ==
          "c2 < CONNACK sp=0 rc=bad_username_or_password\nc2 close (bad_username_or_password)\n");
    CHECK(h.core().stats().auth_failures == 2);
  }
  SUBCASE("accepted; busy") {
    connect_opts o;
    o.username = "alice";
    o.password = "secret";
    h.recv(1, connect("a", o));
    CHECK(h.auth(1, auth_outcome::accepted) == "c1 < CONNACK sp=0 rc=success" + connack5 + "\nc1 resume\n");
    h.recv(2, connect("b", o));
    CHECK(h.auth(2, auth_outcome::busy) == "c2 < CONNACK sp=0 rc=server_busy\nc2 close (server_busy)\n");
  }
  SUBCASE("a verdict for a connection that is gone is ignored") {
    connect_opts o;
    o.username = "alice";
    h.recv(1, connect("a", o));
    h.closed(1);
    CHECK(h.auth(1, auth_outcome::accepted) == "");
  }
  SUBCASE("connect timeout covers the password check") {
    connect_opts o;
    o.username = "alice";
    h.recv(1, connect("a", o));
    h.advance(5000);
    CHECK(h.tick() == "c1 abort (no CONNECT in time)\n");
  }
}

TEST_CASE("bad CONNECTs get the CONNACK their version allows") {
  harness h;
  SUBCASE("MQTT 3.1 (MQIsdp, level 3): 3.1.1 CONNACK 0x01") {
    // fixed header, protocol name "MQIsdp", level 3, flags clean, keep alive 60, client id "x"
    std::vector<uint8_t> f = {0x10, 15, 0, 6, 'M', 'Q', 'I', 's', 'd', 'p', 3, 0x02, 0, 60, 0, 1, 'x'};
    CHECK(h.recv_bytes(1, f) ==
          "c1 < CONNACK sp=0 rc=unsupported_protocol_version\nc1 close (bad CONNECT)\n");
  }
  SUBCASE("level 6: 0x01") {
    std::vector<uint8_t> f = {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 6, 0x02, 0, 60, 0, 1, 'x'};
    CHECK(h.recv_bytes(1, f) ==
          "c1 < CONNACK sp=0 rc=unsupported_protocol_version\nc1 close (bad CONNECT)\n");
  }
  SUBCASE("5.0 with a reserved flag: CONNACK 0x81") {
    std::vector<uint8_t> f = {0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x03, 0, 60, 0, 0, 1, 'x'};
    h.set_version(1, protocol_version::v5);
    CHECK(h.recv_bytes(1, f) == "c1 < CONNACK sp=0 rc=malformed_packet\nc1 close (bad CONNECT)\n");
  }
  SUBCASE("3.1.1 malformed: closed without a word") {
    std::vector<uint8_t> f = {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x03, 0, 60, 0, 1, 'x'};
    CHECK(h.recv_bytes(1, f) == "c1 close (bad CONNECT)\n");
  }
  SUBCASE("first packet not a CONNECT: reset") {
    CHECK(h.recv_bytes(1, {0xC0, 0x00}) == "c1 abort (first packet is not CONNECT)\n");
  }
  SUBCASE("client id too long: 0x85 / 0x02") {
    CHECK(h.recv(1, connect("0123456789012345678901234567890123456789")) ==
          "c1 < CONNACK sp=0 rc=client_identifier_not_valid\nc1 close (client_identifier_not_valid)\n");
  }
  SUBCASE("enhanced authentication: 0x8C") {
    auto c = connect("a");
    c.props.authentication_method = "SCRAM-SHA-1";
    CHECK(h.recv(1, c) ==
          "c1 < CONNACK sp=0 rc=bad_authentication_method\nc1 close (bad_authentication_method)\n");
  }
  SUBCASE("no CONNECT in time: reset") {
    h.open(1);
    h.advance(5000);
    CHECK(h.tick() == "c1 abort (no CONNECT in time)\n");
  }
}

TEST_CASE("empty client id: one is assigned (5.0 says which)") {
  harness h;
  CHECK(h.recv(1, connect("")) ==
        "c1 < CONNACK sp=0 rc=success {receive_maximum=4 topic_alias_maximum=2 maximum_packet_size=4096 "
        "assigned=tributary-auto-1}\n");
  CHECK(h.recv(2, connect311("")) == "c2 < CONNACK sp=0 rc=success\n");
  h.recv(2, publish("sensors/a/t", "x", 0));
  CHECK(header_value(h.reading(1), "tributary.client_id") == "tributary-auto-2");
}

TEST_CASE("protocol errors end the connection with the right reason; other clients go on") {
  harness h;
  h.recv(1, connect("a"));
  h.recv(9, connect311("bystander"));
  SUBCASE("second CONNECT") {
    CHECK(h.recv(1, connect("a")) == "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
  }
  SUBCASE("wildcard in a PUBLISH topic: 0x90 (3.1.1: close)") {
    // PUBLISH QoS 0 "a/+" payload "x"
    CHECK(h.recv_bytes(1, {0x30, 6, 0, 3, 'a', '/', '+', 'x'}) ==
          "c1 < DISCONNECT rc=topic_name_invalid\nc1 close (topic_name_invalid)\n");
    h.recv(2, connect311("b"));
    CHECK(h.recv_bytes(2, {0x30, 6, 0, 3, 'a', '/', '#', 'x'}) == "c2 close (topic_name_invalid)\n");
  }
  SUBCASE("invalid UTF-8 in a topic: 0x81") {
    CHECK(h.recv_bytes(1, {0x30, 5, 0, 2, 0xC0, 0x80, 'x'}) ==
          "c1 < DISCONNECT rc=malformed_packet\nc1 close (malformed_packet)\n");
  }
  SUBCASE("packet too large / bad remaining length (from the framing layer)") {
    CHECK(h.frame_error(1, true) == "c1 < DISCONNECT rc=packet_too_large\nc1 close (packet_too_large)\n");
  }
  SUBCASE("bad remaining length") {
    CHECK(h.frame_error(1, false) == "c1 < DISCONNECT rc=malformed_packet\nc1 close (malformed_packet)\n");
  }
  SUBCASE("server-only packet from a client") {
    CHECK(h.recv(1, proto::connack_packet{}) ==
          "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
  }
  SUBCASE("AUTH") {
    CHECK(h.recv(1, proto::auth_packet{}) ==
          "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
  }
  SUBCASE("Subscription Identifier in a client PUBLISH") {
    auto p = publish("sensors/a/t", "x", 1, 1);
    p.props.subscription_identifiers = {4};
    CHECK(h.recv(1, p) == "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
  }
  CHECK(h.recv(9, publish("sensors/z/t", "ok", 1, 1)).find("submit") != std::string::npos);
}

TEST_CASE("topic aliases") {
  harness h;
  h.recv(1, connect("a"));
  auto p = publish("sensors/a/temp", "1", 0);
  p.props.topic_alias = 2;
  CHECK(h.recv(1, p) == "c1 submit #1 qos=0 topic=telemetry.temp key=a payload=1\n");
  auto q = publish("", "2", 0);
  q.props.topic_alias = 2;
  CHECK(h.recv(1, q) == "c1 submit #2 qos=0 topic=telemetry.temp key=a payload=2\n");
  CHECK(header_value(h.reading(2), "tributary.mqtt_topic") == "sensors/a/temp");
  SUBCASE("unknown alias: protocol error") {
    q.props.topic_alias = 1;
    CHECK(h.recv(1, q) == "c1 < DISCONNECT rc=protocol_error\nc1 close (protocol_error)\n");
  }
  SUBCASE("alias above the maximum: 0x94") {
    q.props.topic_alias = 3;
    CHECK(h.recv(1, q) == "c1 < DISCONNECT rc=topic_alias_invalid\nc1 close (topic_alias_invalid)\n");
  }
}

TEST_CASE("memory bounds: topic alias bytes, subscription bytes, will bytes") {
  auto cfg = small_config();
  cfg.topic_alias_bytes_max = 20;
  cfg.subscription_bytes_max = 10;
  cfg.will_bytes_max = 12;
  harness h(cfg);
  h.recv(1, connect("a"));
  auto p = publish("sensors/a/temperature", "1", 0);  // 21 bytes
  p.props.topic_alias = 1;
  CHECK(h.recv(1, p) == "c1 < DISCONNECT rc=topic_alias_invalid\nc1 close (topic_alias_invalid)\n");
  h.recv(2, connect311("b"));
  proto::subscribe_packet sub;
  sub.id = proto::packet_id(1);
  sub.subscriptions = {{"cmd/b/x", qos_level::at_least_once}, {"cmd/b/y", qos_level::at_least_once}};
  CHECK(h.recv(2, sub) == "c2 < SUBACK id=1 [0x01,0x80]\n");
  proto::unsubscribe_packet unsub;
  unsub.id = proto::packet_id(2);
  unsub.filters = {"cmd/b/x"};
  h.recv(2, unsub);
  sub.id = proto::packet_id(3);
  CHECK(h.recv(2, sub) == "c2 < SUBACK id=3 [0x01,0x80]\n");  // room again for one
  connect_opts o;
  o.will_topic = "status/c";
  o.will_payload = "offline";  // 8 + 7 > 12
  CHECK(h.recv(3, connect("c", o)) == "c3 < CONNACK sp=0 rc=packet_too_large\nc3 close (packet_too_large)\n");
  CHECK(h.recv(4, connect311("d", o)) ==
        "c4 < CONNACK sp=0 rc=server_unavailable\nc4 close (packet_too_large)\n");
}

TEST_CASE("SUBSCRIBE is accepted (command topics), bounded by subscriptions_max; nothing is delivered") {
  harness h;
  h.recv(1, connect311("a"));
  proto::subscribe_packet sub;
  sub.id = proto::packet_id(4);
  sub.subscriptions = {{"cmd/a/#", qos_level::exactly_once},
                       {"cmd/b", qos_level::at_most_once},
                       {"$share/g/cmd/c", qos_level::at_least_once},
                       {"cmd/d", qos_level::at_least_once}};
  CHECK(h.recv(1, sub) == "c1 < SUBACK id=4 [0x02,0x00,0x01,0x80]\n");
  proto::unsubscribe_packet unsub;
  unsub.id = proto::packet_id(5);
  unsub.filters = {"cmd/b"};
  CHECK(h.recv(1, unsub) == "c1 < UNSUBACK id=5\n");
  h.recv(2, connect("b"));
  sub.id = proto::packet_id(6);
  CHECK(h.recv(2, sub) == "c2 < SUBACK id=6 [0x02,0x00,0x01,0x97]\n");
}

TEST_CASE("a client's Maximum Packet Size is respected") {
  harness h;
  connect_opts o;
  o.max_packet_bytes = 3;  // smaller than any acknowledgement
  h.recv(1, connect("a", o));
  h.recv(1, publish("sensors/a/t", "x", 1, 1));
  CHECK(h.commit(1) == "");
  CHECK(h.recv(1, proto::pingreq_packet{}) == "c1 < PINGRESP\n");  // 2 bytes fit
}

TEST_CASE("PUBACK, PUBREC and PUBCOMP from a client are ignored") {
  harness h;
  h.recv(1, connect("a"));
  CHECK(h.recv(1, proto::puback_packet{proto::packet_id(1), {}, {}}) == "");
  CHECK(h.recv(1, proto::pubrec_packet{proto::packet_id(1), {}, {}}) == "");
  CHECK(h.recv(1, proto::pubcomp_packet{proto::packet_id(1), {}, {}}) == "");
  CHECK(h.core().stats().ignored_packets == 3);
}

TEST_CASE("commits that finish after the connection is gone are ignored") {
  harness h;
  h.recv(1, connect("a"));
  h.recv(1, publish("sensors/a/t", "x", 1, 1));
  h.closed(1);
  CHECK(h.commit(1) == "");
  CHECK(h.core().pending_commits() == 0);
}

TEST_CASE("shutdown: pending acknowledgements first, then DISCONNECT 0x8B, no will") {
  harness h;
  connect_opts o;
  o.will_topic = "status/a";
  h.recv(1, connect("a", o));
  h.recv(2, connect311("b", o));
  h.open(3);  // one that never sent CONNECT is just closed
  h.recv(1, publish("sensors/a/t", "x", 1, 1));
  CHECK(h.commit(1) == "c1 < PUBACK id=1 rc=success\n");
  const std::string out = h.shutdown();
  CHECK(out.find("c1 < DISCONNECT rc=server_shutting_down\nc1 close (server_shutting_down)\n") !=
        std::string::npos);
  CHECK(out.find("c2 close (server_shutting_down)\n") != std::string::npos);
  CHECK(out.find("c3 close (shutting down)\n") != std::string::npos);
  CHECK(out.find("submit") == std::string::npos);
  CHECK(h.core().stats().wills_published == 0);
}
