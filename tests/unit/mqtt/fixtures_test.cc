// Golden bytes from real clients and a real broker (tests/unit/mqtt/fixtures, captured by
// capture_fixtures.py from mosquitto_pub/mosquitto_sub 2.0.11, paho-mqtt 1.6.1 and mosquitto
// 2.0.11): every packet decodes, its fields are what the client was told to send, and it survives
// re-encoding.
#include <variant>

#include "common/mqtt/topic.h"
#include "test_support.h"

namespace tributary::mqtt {
namespace {

using test::fixture;
using test::load_fixture;

std::string_view text(bytes_view b) { return as_string_view(b); }
std::string_view text(const std::optional<bytes_view>& b) {
  REQUIRE(b.has_value());
  return as_string_view(*b);
}

// A fixture and its packets decoded (the packets borrow from the fixture).
struct decoded {
  fixture f;
  std::vector<packet> packets;  // every packet of the capture, in order
  std::vector<char> directions;

  explicit decoded(std::string_view name, bool connect_fails = false) : f(load_fixture(name)) {
    for (size_t i = 0; i < f.packets.size(); ++i) {
      const auto& cp = f.packets[i];
      CAPTURE(i);
      CAPTURE(test::to_hex(cp.bytes));
      // Framing finds exactly this packet, with the rest of the stream behind it.
      auto n = frame_length(cp.bytes, max_packet_size_limit);
      REQUIRE(n.has_value());
      CHECK(*n == cp.bytes.size());
      auto r = decode(cp.bytes, f.version());
      if (i == 0 && connect_fails) {
        REQUIRE_FALSE(r.has_value());
        continue;
      }
      if (!r) FAIL_CHECK("decode: " << r.error().message());
      REQUIRE(r.has_value());
      packets.push_back(std::move(*r));
      directions.push_back(cp.direction);
    }
  }

  // The n-th packet of type P sent in `direction`.
  template <class P>
  const P& nth(char direction, size_t n = 0) const {
    for (size_t i = 0; i < packets.size(); ++i) {
      if (directions[i] != direction || !std::holds_alternative<P>(packets[i])) continue;
      if (n-- == 0) return std::get<P>(packets[i]);
    }
    FAIL("no such packet in the fixture");
    throw std::logic_error("unreachable");
  }
};

// Re-encoding a decoded packet and decoding that gives the same packet; where the client wrote the
// fields in the order we write them, the bytes are the client's bytes exactly.
void check_reencodes(const decoded& d, bool expect_same_bytes = true) {
  size_t offset = d.f.packets.size() - d.packets.size();  // a failed CONNECT is not in packets
  for (size_t i = 0; i < d.packets.size(); ++i) {
    const auto& original = d.f.packets[i + offset].bytes;
    CAPTURE(test::to_hex(original));
    const std::vector<uint8_t> again = encode(d.packets[i], d.f.version());
    CHECK(encoded_size(d.packets[i], d.f.version()) == again.size());
    auto r = decode(again, d.f.version());
    REQUIRE(r.has_value());
    CHECK(*r == d.packets[i]);
    if (expect_same_bytes) CHECK(test::to_hex(again) == test::to_hex(original));
  }
}

TEST_CASE("mosquitto_pub 3.1.1 QoS 0") {
  decoded d("pub_v311_qos0");
  REQUIRE(d.packets.size() == 4);
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.version == protocol_version::v311);
  CHECK(c.client_id == "pub311");
  CHECK(c.clean_start);
  CHECK(c.keep_alive_s == 60);
  CHECK_FALSE(c.will.has_value());
  CHECK_FALSE(c.username.has_value());
  CHECK_FALSE(c.password.has_value());
  CHECK(c.props.empty());

  const auto& ack = d.nth<connack_packet>('s');
  CHECK(ack.reason == reason_code::success);
  CHECK_FALSE(ack.session_present);

  const auto& p = d.nth<publish_packet>('c');
  CHECK(p.qos == qos_level::at_most_once);
  CHECK_FALSE(p.retain);
  CHECK_FALSE(p.dup);
  CHECK(p.id == packet_id{0});
  CHECK(p.topic == "sensors/dev1/temp");
  CHECK(text(p.payload) == "21.5");
  d.nth<disconnect_packet>('c');
  CHECK(peek_connect_version(d.f.packets[0].bytes) == protocol_version::v311);
  check_reencodes(d);
}

TEST_CASE("mosquitto_pub 3.1.1 QoS 1 with will, user name and password") {
  decoded d("pub_v311_qos1_will_auth");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.client_id == "pub311w");
  CHECK(c.keep_alive_s == 45);
  CHECK(c.username == "alice");
  CHECK(text(c.password) == "s3cret");
  REQUIRE(c.will.has_value());
  CHECK(c.will->topic == "clients/pub311w/status");
  CHECK(text(c.will->payload) == "offline");
  CHECK(c.will->qos == qos_level::at_least_once);
  CHECK(c.will->retain);

  const auto& p = d.nth<publish_packet>('c');
  CHECK(p.qos == qos_level::at_least_once);
  CHECK(p.retain);
  CHECK(p.id.value != 0);
  CHECK(text(p.payload) == "22.0");
  const auto& ack = d.nth<puback_packet>('s');
  CHECK(ack.id == p.id);
  CHECK(ack.reason == reason_code::success);
  check_reencodes(d);
}

TEST_CASE("mosquitto_pub 3.1.1 QoS 2, persistent session, two-byte remaining length") {
  decoded d("pub_v311_qos2_persistent");
  const auto& c = d.nth<connect_packet>('c');
  CHECK_FALSE(c.clean_start);
  CHECK(c.client_id == "pub311q2");
  const auto& p = d.nth<publish_packet>('c');
  CHECK(p.qos == qos_level::exactly_once);
  CHECK(p.payload.size() == 200);
  CHECK((d.f.packets[2].bytes[1] & 0x80) != 0);  // the remaining length took two bytes
  CHECK(d.nth<pubrec_packet>('s').id == p.id);
  CHECK(d.nth<pubrel_packet>('c').id == p.id);
  CHECK(d.nth<pubcomp_packet>('s').id == p.id);
  check_reencodes(d);
}

TEST_CASE("mosquitto_pub MQTT 3.1 is an unsupported protocol version") {
  decoded d("pub_v31_unsupported", /*connect_fails=*/true);
  const auto& connect = d.f.packets[0].bytes;
  auto r = decode(connect, protocol_version::v311);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error() == errc::unsupported_protocol_version);
  CHECK(to_connect_return_code(errc::unsupported_protocol_version) ==
        connect_return_code::unacceptable_protocol_version);
  CHECK(to_reason_code(r.error()) == reason_code::unsupported_protocol_version);
  CHECK_FALSE(peek_connect_version(connect).has_value());
  // 3.1's other packets have 3.1.1's layout.
  CHECK(text(d.nth<publish_packet>('c').payload) == "1");
}

TEST_CASE("mosquitto refuses a 3.1.1 client: CONNACK return code 5") {
  decoded d("pub_v311_refused");
  const auto& ack = d.nth<connack_packet>('s');
  CHECK(ack.reason == reason_code::not_authorized);
  CHECK(to_connect_return_code(ack.reason) == connect_return_code::not_authorized);
  check_reencodes(d);
}

TEST_CASE("mosquitto_pub 5.0 CONNECT and PUBLISH properties") {
  decoded d("pub_v5_qos1_properties");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.version == protocol_version::v5);
  CHECK(c.client_id == "pub5");
  CHECK(c.props.session_expiry_interval_s == 300u);
  CHECK(c.props.receive_maximum == 20);
  CHECK(c.props.maximum_packet_size == 100000u);
  CHECK(c.props.topic_alias_maximum == 10);
  CHECK(c.props.request_problem_information == 1);
  CHECK(c.props.request_response_information == 1);
  REQUIRE(c.props.user_properties.size() == 1);
  CHECK(c.props.user_properties[0] == user_property{"client", "pub5"});
  CHECK(peek_connect_version(d.f.packets[0].bytes) == protocol_version::v5);

  const auto& ack = d.nth<connack_packet>('s');
  CHECK(ack.reason == reason_code::success);
  CHECK(ack.props.topic_alias_maximum == 10);
  CHECK(ack.props.receive_maximum == 20);

  const auto& p = d.nth<publish_packet>('c');
  CHECK(p.qos == qos_level::at_least_once);
  CHECK(p.topic == "sensors/dev1/temp");
  CHECK(text(p.payload) == R"({"t":21.5})");
  CHECK(p.props.payload_format_indicator == 1);
  CHECK(p.props.message_expiry_interval_s == 60u);
  CHECK(p.props.content_type == "application/json");
  CHECK(p.props.response_topic == "replies/pub5");
  CHECK(text(p.props.correlation_data) == "corr-1");
  CHECK(p.props.topic_alias == 1);
  REQUIRE(p.props.user_properties.size() == 2);
  CHECK(p.props.user_properties[0] == user_property{"a", "b"});
  CHECK(p.props.user_properties[1] == user_property{"c", "d"});

  const auto& puback = d.nth<puback_packet>('s');
  CHECK(puback.id == p.id);
  CHECK(puback.reason == reason_code::no_matching_subscribers);  // the three-byte form

  const auto& disc = d.nth<disconnect_packet>('c');
  CHECK(disc.reason == reason_code::normal_disconnection);
  CHECK(disc.props.session_expiry_interval_s == 0u);
  REQUIRE(disc.props.user_properties.size() == 1);
  CHECK(disc.props.user_properties[0] == user_property{"bye", "now"});
  // mosquitto writes properties in its own order, not by identifier: compare packets, not bytes.
  check_reencodes(d, /*expect_same_bytes=*/false);
}

TEST_CASE("mosquitto_pub 5.0 QoS 2 with every will property") {
  decoded d("pub_v5_qos2_will");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.username == "bob");
  CHECK(text(c.password) == "pw");
  REQUIRE(c.will.has_value());
  const will_message& w = *c.will;
  CHECK(w.qos == qos_level::exactly_once);
  CHECK(w.retain);
  CHECK(w.topic == "clients/pub5w/status");
  CHECK(text(w.payload) == "offline");
  CHECK(w.props.will_delay_interval_s == 30u);
  CHECK(w.props.payload_format_indicator == 1);
  CHECK(w.props.message_expiry_interval_s == 600u);
  CHECK(w.props.content_type == "text/plain");
  CHECK(w.props.response_topic == "replies/will");
  CHECK(text(w.props.correlation_data) == "will-corr");
  REQUIRE(w.props.user_properties.size() == 1);
  CHECK(w.props.user_properties[0] == user_property{"w", "x"});

  const auto& p = d.nth<publish_packet>('c');
  CHECK(p.qos == qos_level::exactly_once);
  CHECK(d.nth<pubrec_packet>('s').id == p.id);
  CHECK(d.nth<pubrel_packet>('c').id == p.id);
  CHECK(d.nth<pubcomp_packet>('s').id == p.id);
  check_reencodes(d, /*expect_same_bytes=*/false);
}

TEST_CASE("mosquitto_pub 5.0 with a 20000-byte payload: three-byte remaining length") {
  decoded d("pub_v5_big");
  const auto& bytes = d.f.packets[2].bytes;
  const auto& p = d.nth<publish_packet>('c');
  REQUIRE(p.payload.size() == 20000);
  CHECK(p.payload[0] == 'a');
  CHECK(p.payload[19999] == 'a' + 19999 % 26);
  CHECK((bytes[1] & 0x80) != 0);
  CHECK((bytes[2] & 0x80) != 0);
  CHECK((bytes[3] & 0x80) == 0);
  // Framing learns the size from the header alone, and refuses it before the body arrives.
  CHECK(frame_length(byte_span(bytes).first(4), 1 << 20) == bytes.size());
  CHECK(test::error_of(frame_length(byte_span(bytes).first(4), 1000)) == errc::packet_too_large);
  CHECK(frame_length(byte_span(bytes).first(4), bytes.size()) == bytes.size());
  CHECK(test::error_of(frame_length(byte_span(bytes).first(4), bytes.size() - 1)) == errc::packet_too_large);
  // mosquitto's CONNACK lists its properties in its own order.
  check_reencodes(d, /*expect_same_bytes=*/false);
}

TEST_CASE("mosquitto refuses a 5.0 client: CONNACK 0x87") {
  decoded d("pub_v5_refused");
  CHECK(d.nth<connack_packet>('s').reason == reason_code::not_authorized);
  check_reencodes(d);
}

TEST_CASE("mosquitto_sub 3.1.1: SUBSCRIBE, SUBACK, a retained PUBLISH from the broker") {
  decoded d("sub_v311");
  const auto& s = d.nth<subscribe_packet>('c');
  REQUIRE(s.subscriptions.size() == 2);
  CHECK(s.subscriptions[0].filter == "sensors/+/temp");
  CHECK(s.subscriptions[0].max_qos == qos_level::at_least_once);
  CHECK(s.subscriptions[1].filter == "alerts/#");
  const auto& ack = d.nth<suback_packet>('s');
  CHECK(ack.id == s.id);
  CHECK(ack.reasons == std::vector{reason_code::granted_qos_1, reason_code::granted_qos_1});
  const auto& p = d.nth<publish_packet>('s');
  CHECK(p.retain);
  CHECK(p.qos == qos_level::at_least_once);
  CHECK(p.topic == "sensors/dev9/temp");
  CHECK(topic_matches(s.subscriptions[0].filter, p.topic));
  CHECK(text(p.payload) == "18.25");
  CHECK(d.nth<puback_packet>('c').id == p.id);
  check_reencodes(d);
}

TEST_CASE("mosquitto_sub 5.0: options, UNSUBSCRIBE, user properties, QoS 2 delivery") {
  decoded d("sub_v5");
  const auto& c = d.nth<connect_packet>('c');
  CHECK_FALSE(c.clean_start);
  CHECK(c.props.session_expiry_interval_s == 120u);
  const auto& s = d.nth<subscribe_packet>('c');
  REQUIRE(s.props.user_properties.size() == 1);
  CHECK(s.props.user_properties[0] == user_property{"k", "v"});
  REQUIRE(s.subscriptions.size() == 2);
  for (const subscription& sub : s.subscriptions) {
    CHECK(sub.max_qos == qos_level::exactly_once);
    CHECK(sub.retain_as_published);
    CHECK_FALSE(sub.no_local);
    CHECK(sub.retain_handling == retain_handling_mode::send_on_subscribe);
  }
  CHECK(d.nth<suback_packet>('s').reasons ==
        std::vector{reason_code::granted_qos_2, reason_code::granted_qos_2});
  const auto& u = d.nth<unsubscribe_packet>('c');
  CHECK(u.filters == std::vector<std::string_view>{"old/topic"});
  CHECK(u.props.user_properties[0] == user_property{"u", "w"});
  const auto& ua = d.nth<unsuback_packet>('s');
  CHECK(ua.id == u.id);
  CHECK(ua.reasons == std::vector{reason_code::no_subscription_existed});
  const auto& p = d.nth<publish_packet>('s');
  CHECK(p.qos == qos_level::exactly_once);
  CHECK(p.retain);
  CHECK(d.nth<pubrec_packet>('c').id == p.id);
  CHECK(d.nth<pubrel_packet>('s').id == p.id);
  CHECK(d.nth<pubcomp_packet>('c').id == p.id);
  check_reencodes(d, /*expect_same_bytes=*/false);
}

TEST_CASE("paho 3.1.1 session: will, credentials, QoS 0/1/2 both ways, PINGREQ, UNSUBSCRIBE") {
  decoded d("paho_v311");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.client_id == "paho311");
  CHECK(c.keep_alive_s == 2);
  CHECK(c.username == "alice");
  CHECK(text(c.password) == "s3cret");
  REQUIRE(c.will.has_value());
  CHECK(c.will->qos == qos_level::at_least_once);
  CHECK(c.will->retain);
  const auto& s = d.nth<subscribe_packet>('c');
  REQUIRE(s.subscriptions.size() == 3);
  CHECK(s.subscriptions[2].filter == "status");
  CHECK(s.subscriptions[2].max_qos == qos_level::at_most_once);
  CHECK(d.nth<suback_packet>('s').reasons ==
        std::vector{reason_code::granted_qos_1, reason_code::granted_qos_2, reason_code::granted_qos_0});
  // Both directions carry QoS 0, 1 and 2 publishes (the broker echoes them to our subscriptions).
  for (char dir : {'c', 's'}) {
    CHECK(d.nth<publish_packet>(dir, 0).qos == qos_level::at_most_once);
    CHECK(d.nth<publish_packet>(dir, 1).qos == qos_level::at_least_once);
    CHECK(d.nth<publish_packet>(dir, 2).qos == qos_level::exactly_once);
  }
  const auto& empty_retained = d.nth<publish_packet>('c', 3);
  CHECK(empty_retained.retain);
  CHECK(empty_retained.payload.empty());
  d.nth<pingreq_packet>('c');
  d.nth<pingresp_packet>('s');
  CHECK(d.nth<unsubscribe_packet>('c').filters ==
        std::vector<std::string_view>{"sensors/+/temp", "alerts/#"});
  CHECK(d.nth<unsuback_packet>('s').reasons.empty());
  check_reencodes(d);
}

TEST_CASE("paho 5.0 session: properties everywhere, topic alias, subscription identifiers") {
  decoded d("paho_v5");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.client_id == "paho5");
  CHECK(c.props.session_expiry_interval_s == 120u);
  CHECK(c.props.receive_maximum == 32);
  CHECK(c.props.maximum_packet_size == 65536u);
  CHECK(c.props.topic_alias_maximum == 8);
  CHECK(c.props.request_response_information == 1);
  CHECK(c.props.request_problem_information == 0);
  CHECK(c.props.user_properties == std::vector<user_property>{{"app", "tributary"}, {"run", "1"}});
  CHECK(c.username == "bob");
  REQUIRE(c.password.has_value());
  CHECK(*c.password == bytes_view(test::bytes_of(std::string_view("\x00\x01"
                                                                  "binary\xff",
                                                                  9))));
  REQUIRE(c.will.has_value());
  CHECK(c.will->qos == qos_level::exactly_once);
  CHECK(text(c.will->payload) == "gone \u00e9\u4e2d");
  CHECK(c.will->props.will_delay_interval_s == 10u);
  CHECK(c.will->props.payload_format_indicator == 1);
  CHECK(text(c.will->props.correlation_data) == "will-1");

  const auto& s1 = d.nth<subscribe_packet>('c', 0);
  CHECK(s1.props.subscription_identifiers == std::vector<uint32_t>{42});
  REQUIRE(s1.subscriptions.size() == 1);
  CHECK(s1.subscriptions[0].max_qos == qos_level::at_least_once);
  CHECK(s1.subscriptions[0].retain_as_published);
  CHECK(s1.subscriptions[0].retain_handling == retain_handling_mode::send_if_new_subscription);
  const auto& s2 = d.nth<subscribe_packet>('c', 1);
  REQUIRE(s2.subscriptions.size() == 2);
  CHECK(s2.subscriptions[0].no_local);
  CHECK(s2.subscriptions[0].retain_handling == retain_handling_mode::do_not_send);
  CHECK(s2.subscriptions[1].filter == "$SYS/broker/uptime");

  // A $SYS message reached us through the explicit $SYS filter, not through a wildcard one.
  const auto& sys = d.nth<publish_packet>('s', 0);
  CHECK(sys.topic == "$SYS/broker/uptime");
  CHECK(topic_matches("$SYS/broker/uptime", sys.topic));
  CHECK_FALSE(topic_matches("+/broker/uptime", sys.topic));

  const auto& p = d.nth<publish_packet>('c', 0);
  CHECK(p.props.topic_alias == 1);
  CHECK(p.props.content_type == "application/json");
  CHECK(p.props.user_properties == std::vector<user_property>{{"device", "dev1"}, {"seq", "7"}});
  const auto& aliased = d.nth<publish_packet>('c', 1);
  CHECK(aliased.topic.empty());
  CHECK(aliased.props.topic_alias == 1);
  // The broker's copy carries our subscription identifier.
  const auto& echoed = d.nth<publish_packet>('s', 1);
  CHECK(echoed.topic == "sensors/dev1/temp");
  CHECK(echoed.props.subscription_identifiers == std::vector<uint32_t>{42});
  CHECK(d.nth<publish_packet>('c', 2).payload.size() == 300);

  const auto& ua = d.nth<unsuback_packet>('s');
  CHECK(ua.reasons ==
        std::vector{reason_code::success, reason_code::success, reason_code::no_subscription_existed});
  const auto& disc = d.nth<disconnect_packet>('c');
  CHECK(disc.reason == reason_code::disconnect_with_will_message);
  CHECK(disc.props.reason_string == "done");
  CHECK(disc.props.session_expiry_interval_s == 0u);
  check_reencodes(d, /*expect_same_bytes=*/false);
}

TEST_CASE("paho 5.0 with an authentication method mosquitto lacks: CONNACK 0x8C") {
  decoded d("paho_v5_bad_auth");
  const auto& c = d.nth<connect_packet>('c');
  CHECK(c.props.authentication_method == "SCRAM-SHA-256");
  CHECK(text(c.props.authentication_data) == "n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL");
  const auto& ack = d.nth<connack_packet>('s');
  CHECK(ack.reason == reason_code::bad_authentication_method);
  CHECK(to_connect_return_code(ack.reason) == connect_return_code::not_authorized);
  check_reencodes(d);
}

TEST_CASE("a captured conversation frames packet by packet from one byte stream") {
  const fixture f = load_fixture("paho_v5");
  std::vector<uint8_t> stream;
  size_t count = 0;
  for (const auto& p : f.packets) {
    if (p.direction != 'c') continue;
    stream.insert(stream.end(), p.bytes.begin(), p.bytes.end());
    ++count;
  }
  byte_span rest(stream);
  size_t framed = 0;
  while (!rest.empty()) {
    // Byte by byte, framing asks for more until the fixed header is complete.
    CHECK(frame_length(rest.first(1), 1 << 20) == size_t{0});
    const size_t n = *frame_length(rest, 1 << 20);
    REQUIRE(n > 0);
    REQUIRE(n <= rest.size());
    CHECK(decode(rest.first(n), protocol_version::v5).has_value());
    rest = rest.subspan(n);
    ++framed;
  }
  CHECK(framed == count);
}

}  // namespace
}  // namespace tributary::mqtt
