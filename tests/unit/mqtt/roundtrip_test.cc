// Encode -> decode round trips for every packet type under 3.1.1 and 5.0, with the exact bytes
// of the spec's short forms and remaining-length boundaries.
#include "test_support.h"

namespace tributary::mqtt {
namespace {

using test::encode_bytes;
using test::to_hex;

using namespace std::string_view_literals;

constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

byte_span b(std::string_view s) { return as_bytes(s); }

// Encodes, checks framing and size, decodes, and returns the decoded packet (which borrows from
// `storage`).
template <class P>
P round_trip(const P& p, protocol_version v, std::vector<uint8_t>& storage) {
  storage = encode_bytes(p, v);
  CHECK(encoded_size(p, v) == storage.size());
  CHECK(encoded_size(packet(p), v) == storage.size());
  CHECK(encode(packet(p), v) == storage);
  CHECK(frame_length(storage, storage.size()) == storage.size());
  return test::decode_as<P>(storage, v);
}

template <class P>
void check_round_trip(const P& p, protocol_version v) {
  std::vector<uint8_t> storage;
  const P back = round_trip(p, v, storage);
  CHECK(back == p);
  CHECK(packet_type_of<P> == static_cast<packet_type>(storage[0] >> 4));
}

properties full_connect_props() {
  properties p;
  p.session_expiry_interval_s = 0xFFFFFFFF;
  p.receive_maximum = 100;
  p.maximum_packet_size = 1 << 20;
  p.topic_alias_maximum = 16;
  p.request_problem_information = 0;
  p.request_response_information = 1;
  p.user_properties = {{"a", "1"}, {"a", "2"}, {"", ""}};
  p.authentication_method = "SCRAM-SHA-1";
  p.authentication_data = b("client-first");
  return p;
}

properties full_will_props() {
  properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval_s = 3600;
  p.content_type = "text/plain";
  p.response_topic = "reply/to";
  p.correlation_data = b("\x01\x02");
  p.will_delay_interval_s = 5;
  p.user_properties = {{"k", "v"}};
  return p;
}

TEST_CASE("CONNECT round trips") {
  connect_packet minimal{.version = v311, .client_id = "c1"};
  check_round_trip(minimal, v311);
  // The version argument does not matter for CONNECT: it carries its own.
  check_round_trip(minimal, v5);

  connect_packet full311{.version = v311,
                         .clean_start = false,
                         .keep_alive_s = 65535,
                         .client_id = "device-17",
                         .will = will_message{.qos = qos_level::exactly_once,
                                              .retain = true,
                                              .topic = "devices/17/status",
                                              .payload = b("offline")},
                         .username = "user",
                         .password = bytes_view(b("pass\0word"sv))};
  check_round_trip(full311, v311);

  connect_packet full5 = full311;
  full5.version = v5;
  full5.client_id = "";  // 5.0: the server assigns one, even without clean start
  full5.props = full_connect_props();
  full5.will->props = full_will_props();
  full5.username = std::nullopt;  // 5.0 allows a password alone
  check_round_trip(full5, v5);

  // Exact bytes of the minimal 3.1.1 CONNECT (as mosquitto_pub writes it, see fixtures).
  connect_packet pub311{.version = v311, .keep_alive_s = 60, .client_id = "pub311"};
  CHECK(to_hex(encode_bytes(pub311, v311)) == "101200044d5154540402003c0006707562333131");
}

TEST_CASE("CONNACK round trips, and 3.1.1 return codes") {
  check_round_trip(connack_packet{}, v311);
  check_round_trip(connack_packet{.session_present = true}, v311);
  check_round_trip(connack_packet{.session_present = true}, v5);
  for (uint8_t rc = 0; rc <= 5; ++rc) {
    const reason_code r = *from_connect_return_code(rc);
    check_round_trip(connack_packet{.reason = r}, v311);
    CHECK(encode_bytes(connack_packet{.reason = r}, v311)[3] == rc);
  }
  // 5.0 codes without a 3.1.1 counterpart take the nearest return code.
  CHECK(encode_bytes(connack_packet{.reason = reason_code::banned}, v311)[3] == 5);
  CHECK(encode_bytes(connack_packet{.reason = reason_code::malformed_packet}, v311)[3] == 3);

  properties p;
  p.session_expiry_interval_s = 10;
  p.receive_maximum = 10;
  p.maximum_qos = 1;
  p.retain_available = 0;
  p.maximum_packet_size = 65536;
  p.assigned_client_identifier = "auto-1234";
  p.topic_alias_maximum = 0;
  p.reason_string = "welcome";
  p.user_properties = {{"gateway", "edge-1"}};
  p.wildcard_subscription_available = 1;
  p.subscription_identifier_available = 0;
  p.shared_subscription_available = 0;
  p.server_keep_alive_s = 30;
  p.response_information = "resp/";
  p.server_reference = "other:1883";
  p.authentication_method = "SCRAM-SHA-1";
  p.authentication_data = b("server-final");
  check_round_trip(connack_packet{.reason = reason_code::success, .props = p}, v5);
  check_round_trip(connack_packet{.reason = reason_code::use_another_server, .props = p}, v5);
  CHECK(to_hex(encode_bytes(connack_packet{}, v5)) == "2003000000");
  CHECK(to_hex(encode_bytes(connack_packet{}, v311)) == "20020000");
}

TEST_CASE("PUBLISH round trips") {
  for (auto v : {v311, v5}) {
    CAPTURE(v);
    check_round_trip(publish_packet{.topic = "a", .payload = b("")}, v);
    check_round_trip(publish_packet{.retain = true, .topic = "a/b/c", .payload = b("x")}, v);
    check_round_trip(publish_packet{.qos = qos_level::at_least_once, .topic = "t", .id = packet_id{1}}, v);
    check_round_trip(publish_packet{.dup = true,
                                    .qos = qos_level::exactly_once,
                                    .retain = true,
                                    .topic = "sensors/\u00e9t\u00e9/\U0001F600",
                                    .id = packet_id{65535},
                                    .payload = b("\x00\xff\x80 binary"sv)},
                     v);
  }
  properties p;
  p.payload_format_indicator = 1;
  p.message_expiry_interval_s = 0;
  p.content_type = "application/json";
  p.response_topic = "replies/x";
  p.correlation_data = b("");
  p.subscription_identifiers = {1, 127, 128, 16383, 16384, max_variable_byte_integer};
  p.topic_alias = 65535;
  p.user_properties = {{"z", "last"}, {"a", "first"}};  // order is kept
  check_round_trip(publish_packet{.qos = qos_level::at_least_once,
                                  .topic = "t",
                                  .id = packet_id{9},
                                  .props = p,
                                  .payload = b("{\"t\":1}")},
                   v5);
  // 5.0: an empty topic stands for a topic alias.
  properties alias;
  alias.topic_alias = 3;
  check_round_trip(publish_packet{.topic = "", .props = alias, .payload = b("1")}, v5);

  CHECK(to_hex(encode_bytes(publish_packet{.topic = "a", .payload = b("hi")}, v311)) == "30050001616869");
  CHECK(to_hex(encode_bytes(publish_packet{.topic = "a", .payload = b("hi")}, v5)) == "3006000161006869");
  CHECK(to_hex(encode_bytes(publish_packet{.dup = true,
                                           .qos = qos_level::exactly_once,
                                           .retain = true,
                                           .topic = "a",
                                           .id = packet_id{0x1234}},
                            v311)) == "3d050001611234");
}

TEST_CASE("5.0-only fields are not written under 3.1.1") {
  properties p;
  p.user_properties = {{"k", "v"}};
  std::vector<uint8_t> storage;
  const auto pub = round_trip(publish_packet{.topic = "t", .props = p, .payload = b("x")}, v311, storage);
  CHECK(pub.props.empty());
  const auto ack = round_trip(
      puback_packet{.id = packet_id{5}, .reason = reason_code::quota_exceeded, .props = p}, v311, storage);
  CHECK(ack == puback_packet{.id = packet_id{5}});
  CHECK(storage.size() == 4);
  const auto un =
      round_trip(unsuback_packet{.id = packet_id{5}, .reasons = {reason_code::success}}, v311, storage);
  CHECK(un.reasons.empty());
  const auto d = round_trip(disconnect_packet{.reason = reason_code::server_shutting_down}, v311, storage);
  CHECK(d == disconnect_packet{});
  const auto sub =
      round_trip(subscribe_packet{.id = packet_id{1},
                                  .subscriptions = {{.filter = "a/#",
                                                     .max_qos = qos_level::at_least_once,
                                                     .no_local = true,
                                                     .retain_as_published = true,
                                                     .retain_handling = retain_handling_mode::do_not_send}}},
                 v311, storage);
  CHECK(sub.subscriptions[0] == subscription{.filter = "a/#", .max_qos = qos_level::at_least_once});
}

template <class Ack>
void check_ack_forms(packet_type type, reason_code failure) {
  CAPTURE(type);
  const uint8_t first =
      static_cast<uint8_t>(static_cast<uint8_t>(type) << 4) | (type == packet_type::pubrel ? 2 : 0);
  const std::string head = to_hex(std::vector<uint8_t>{first});
  check_round_trip(Ack{.id = packet_id{1}}, v311);
  check_round_trip(Ack{.id = packet_id{1}}, v5);
  check_round_trip(Ack{.id = packet_id{0xBEEF}, .reason = failure}, v5);
  properties p;
  p.reason_string = "why";
  p.user_properties = {{"a", "b"}};
  check_round_trip(Ack{.id = packet_id{2}, .reason = failure, .props = p}, v5);
  check_round_trip(Ack{.id = packet_id{2}, .props = p}, v5);
  // Shortest forms (3.4.2.1): 2 bytes for success without properties, 3 with a reason only.
  CHECK(to_hex(encode_bytes(Ack{.id = packet_id{1}}, v311)) == head + "020001");
  CHECK(to_hex(encode_bytes(Ack{.id = packet_id{1}}, v5)) == head + "020001");
  CHECK(to_hex(encode_bytes(Ack{.id = packet_id{1}, .reason = failure}, v5)) ==
        head + "030001" + to_hex(std::vector<uint8_t>{static_cast<uint8_t>(failure)}));
  // The long forms of the same packets decode to the same thing.
  CHECK(test::decode_as<Ack>(test::from_hex(head + "03000100"), v5) == Ack{.id = packet_id{1}});
  CHECK(test::decode_as<Ack>(test::from_hex(head + "0400010000"), v5) == Ack{.id = packet_id{1}});
}

TEST_CASE("PUBACK, PUBREC, PUBREL, PUBCOMP round trips and short forms") {
  check_ack_forms<puback_packet>(packet_type::puback, reason_code::no_matching_subscribers);
  check_ack_forms<pubrec_packet>(packet_type::pubrec, reason_code::quota_exceeded);
  check_ack_forms<pubrel_packet>(packet_type::pubrel, reason_code::packet_identifier_not_found);
  check_ack_forms<pubcomp_packet>(packet_type::pubcomp, reason_code::packet_identifier_not_found);
}

TEST_CASE("SUBSCRIBE and SUBACK round trips") {
  subscribe_packet s311{.id = packet_id{10},
                        .subscriptions = {{.filter = "a/+/c", .max_qos = qos_level::exactly_once},
                                          {.filter = "#"},
                                          {.filter = "$SYS/#", .max_qos = qos_level::at_least_once}}};
  check_round_trip(s311, v311);
  check_round_trip(s311, v5);
  subscribe_packet s5 = s311;
  s5.props.subscription_identifiers = {268'435'455};
  s5.props.user_properties = {{"x", "y"}};
  s5.subscriptions.push_back({.filter = "$share/group/sensors/+",
                              .max_qos = qos_level::at_least_once,
                              .retain_as_published = true,
                              .retain_handling = retain_handling_mode::send_if_new_subscription});
  s5.subscriptions.push_back(
      {.filter = "x", .no_local = true, .retain_handling = retain_handling_mode::do_not_send});
  check_round_trip(s5, v5);
  // Options byte: QoS 1 (0x01) | no local (0x04) | retain as published (0x08) | do not send (0x20).
  const subscription all_options{.filter = "a",
                                 .max_qos = qos_level::at_least_once,
                                 .no_local = true,
                                 .retain_as_published = true,
                                 .retain_handling = retain_handling_mode::do_not_send};
  CHECK(to_hex(encode_bytes(subscribe_packet{.id = packet_id{1}, .subscriptions = {all_options}}, v5)) ==
        "82070001000001612d");

  suback_packet a311{.id = packet_id{10},
                     .reasons = {reason_code::granted_qos_0, reason_code::granted_qos_1,
                                 reason_code::granted_qos_2, reason_code::unspecified_error}};
  check_round_trip(a311, v311);
  check_round_trip(a311, v5);
  suback_packet a5 = a311;
  a5.reasons.push_back(reason_code::wildcard_subscriptions_not_supported);
  a5.props.reason_string = "no wildcards here";
  check_round_trip(a5, v5);
  // 3.1.1 has one failure code: every failure becomes 0x80.
  std::vector<uint8_t> storage;
  const auto back = round_trip(
      suback_packet{.id = packet_id{1}, .reasons = {reason_code::not_authorized, reason_code::granted_qos_1}},
      v311, storage);
  CHECK(back.reasons == std::vector{reason_code::unspecified_error, reason_code::granted_qos_1});
}

TEST_CASE("UNSUBSCRIBE and UNSUBACK round trips") {
  unsubscribe_packet u{.id = packet_id{7}, .filters = {"a/b", "+/x/#", "$share/g/t"}};
  check_round_trip(u, v311);
  check_round_trip(u, v5);
  u.props.user_properties = {{"k", "v"}};
  check_round_trip(u, v5);
  check_round_trip(unsuback_packet{.id = packet_id{7}}, v311);
  CHECK(to_hex(encode_bytes(unsuback_packet{.id = packet_id{7}}, v311)) == "b0020007");
  unsuback_packet a{.id = packet_id{7},
                    .reasons = {reason_code::success, reason_code::no_subscription_existed}};
  check_round_trip(a, v5);
  a.props.reason_string = "ok";
  check_round_trip(a, v5);
  CHECK(to_hex(encode_bytes(unsuback_packet{.id = packet_id{7}, .reasons = {reason_code::success}}, v5)) ==
        "b00400070000");
}

TEST_CASE("PINGREQ, PINGRESP, DISCONNECT, AUTH round trips") {
  for (auto v : {v311, v5}) {
    check_round_trip(pingreq_packet{}, v);
    check_round_trip(pingresp_packet{}, v);
    check_round_trip(disconnect_packet{}, v);
    CHECK(to_hex(encode_bytes(pingreq_packet{}, v)) == "c000");
    CHECK(to_hex(encode_bytes(pingresp_packet{}, v)) == "d000");
    CHECK(to_hex(encode_bytes(disconnect_packet{}, v)) == "e000");
  }
  check_round_trip(disconnect_packet{.reason = reason_code::session_taken_over}, v5);
  CHECK(to_hex(encode_bytes(disconnect_packet{.reason = reason_code::session_taken_over}, v5)) == "e0018e");
  properties dp;
  dp.session_expiry_interval_s = 0;
  dp.reason_string = "bye";
  dp.server_reference = "elsewhere";
  dp.user_properties = {{"a", "b"}};
  check_round_trip(disconnect_packet{.reason = reason_code::server_moved, .props = dp}, v5);
  check_round_trip(disconnect_packet{.props = dp}, v5);
  // The long forms of a normal disconnection decode as the short one.
  CHECK(test::decode_as<disconnect_packet>(test::from_hex("e00100"), v5) == disconnect_packet{});
  CHECK(test::decode_as<disconnect_packet>(test::from_hex("e0020000"), v5) == disconnect_packet{});

  check_round_trip(auth_packet{}, v5);
  CHECK(to_hex(encode_bytes(auth_packet{}, v5)) == "f000");
  properties ap;
  ap.authentication_method = "SCRAM-SHA-1";
  ap.authentication_data = b("c=biws,r=...");
  ap.reason_string = "step 2";
  ap.user_properties = {{"a", "b"}};
  check_round_trip(auth_packet{.reason = reason_code::continue_authentication, .props = ap}, v5);
  check_round_trip(auth_packet{.reason = reason_code::re_authenticate, .props = ap}, v5);
  check_round_trip(auth_packet{.reason = reason_code::success, .props = ap}, v5);
}

TEST_CASE("remaining length boundaries: 1, 2, 3 and 4 bytes") {
  struct boundary {
    size_t remaining;
    size_t length_bytes;
  };
  // PUBLISH QoS 0, topic "t" (3 bytes), 3.1.1: remaining = 3 + payload.
  for (const boundary bd : {boundary{3, 1}, boundary{127, 1}, boundary{128, 2}, boundary{16'383, 2},
                            boundary{16'384, 3}, boundary{2'097'151, 3}, boundary{2'097'152, 4}}) {
    CAPTURE(bd.remaining);
    const std::vector<uint8_t> payload(bd.remaining - 3, 0x5A);
    const publish_packet p{.topic = "t", .payload = byte_span(payload)};
    std::vector<uint8_t> storage;
    const auto back = round_trip(p, v311, storage);
    CHECK(back == p);
    CHECK(storage.size() == 1 + bd.length_bytes + bd.remaining);
    // The header alone is enough to frame.
    CHECK(frame_length(byte_span(storage).first(1 + bd.length_bytes), max_packet_size_limit) ==
          storage.size());
    CHECK(frame_length(byte_span(storage).first(bd.length_bytes), max_packet_size_limit) == size_t{0});
  }
}

TEST_CASE("encode appends to what the writer holds") {
  byte_writer w;
  w.write_u8(0xAA);
  encode(pingreq_packet{}, v5, w);
  encode(packet(pingresp_packet{}), v5, w);
  CHECK(to_hex(w.view()) == "aac000d000");
}

}  // namespace
}  // namespace tributary::mqtt
