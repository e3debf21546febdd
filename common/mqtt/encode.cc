// Encoding. Each packet's body is written by one function, run twice: once into a counter to learn
// the Remaining Length, once into the output. The decoder's rules are the encoder's preconditions.
#include "common/mqtt/codec.h"

#include <variant>

#include "common/assert.h"
#include "common/mqtt/wire.h"

namespace tributary::mqtt {
namespace {

using wire::field_writer;

constexpr uint8_t type_bits(packet_type t) { return static_cast<uint8_t>(static_cast<uint8_t>(t) << 4); }

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

void write_packet_id(field_writer& w, packet_id id) {
  TRIB_ASSERT(id.value != 0, "packet identifier 0");
  w.u16(id.value);
}

void write_reason(field_writer& w, packet_type type, reason_code r) {
  TRIB_ASSERT(reason_code_allowed(type, r), reason_code_name(r));
  w.u8(static_cast<uint8_t>(r));
}

// ---- first bytes ---------------------------------------------------------------------------------

template <packet_struct P>
uint8_t first_byte(const P&) {
  constexpr packet_type t = packet_type_of<P>;
  constexpr uint8_t flags =
      t == packet_type::pubrel || t == packet_type::subscribe || t == packet_type::unsubscribe ? 0x2 : 0x0;
  return type_bits(t) | flags;
}

uint8_t first_byte(const publish_packet& p) {
  const auto qos = static_cast<uint8_t>(p.qos);
  return static_cast<uint8_t>(type_bits(packet_type::publish) | (p.dup ? 0x8 : 0) | (qos << 1) |
                              (p.retain ? 0x1 : 0));
}

// ---- bodies --------------------------------------------------------------------------------------

void write_body(field_writer& w, const connect_packet& c, protocol_version) {
  const bool v5 = is_v5(c.version);
  TRIB_ASSERT(v5 || !c.password || c.username, "3.1.1 CONNECT: a password needs a user name");
  TRIB_ASSERT(v5 || c.clean_start || !c.client_id.empty(),
              "3.1.1 CONNECT: empty client id needs clean session");
  uint8_t flags = 0;
  if (c.username) flags |= 0x80;
  if (c.password) flags |= 0x40;
  if (c.will) {
    TRIB_ASSERT(c.will->qos <= qos_level::exactly_once);
    flags |= 0x04 | static_cast<uint8_t>(static_cast<uint8_t>(c.will->qos) << 3);
    if (c.will->retain) flags |= 0x20;
  }
  if (c.clean_start) flags |= 0x02;

  w.utf8_string("MQTT");
  w.u8(static_cast<uint8_t>(c.version));
  w.u8(flags);
  w.u16(c.keep_alive_s);
  if (v5) wire::write_properties(w, c.props, property_context::connect);
  w.utf8_string(c.client_id);
  if (c.will) {
    if (v5) wire::write_properties(w, c.will->props, property_context::will);
    TRIB_ASSERT(!c.will->topic.empty(), "will topic empty");
    w.utf8_string(c.will->topic);
    w.binary(c.will->payload);
  }
  if (c.username) w.utf8_string(*c.username);
  if (c.password) w.binary(*c.password);
}

void write_body(field_writer& w, const connack_packet& c, protocol_version v) {
  TRIB_ASSERT(reason_code_allowed(packet_type::connack, c.reason), reason_code_name(c.reason));
  TRIB_ASSERT(!(c.session_present && is_failure(c.reason)), "CONNACK: session present on a refusal");
  w.u8(c.session_present ? 0x01 : 0x00);
  if (is_v5(v)) {
    w.u8(static_cast<uint8_t>(c.reason));
    wire::write_properties(w, c.props, property_context::connack);
  } else {
    w.u8(static_cast<uint8_t>(to_connect_return_code(c.reason)));
  }
}

void write_body(field_writer& w, const publish_packet& p, protocol_version v) {
  TRIB_ASSERT(p.qos <= qos_level::exactly_once);
  TRIB_ASSERT(!(p.dup && p.qos == qos_level::at_most_once), "PUBLISH: DUP on QoS 0");
  TRIB_ASSERT(p.qos != qos_level::at_most_once || p.id.value == 0, "PUBLISH: packet id on QoS 0");
  TRIB_ASSERT(!p.topic.empty() || (is_v5(v) && p.props.topic_alias), "PUBLISH: empty topic without alias");
  w.utf8_string(p.topic);
  if (p.qos != qos_level::at_most_once) write_packet_id(w, p.id);
  if (is_v5(v)) wire::write_properties(w, p.props, property_context::publish);
  w.raw(p.payload);
}

// PUBACK, PUBREC, PUBREL, PUBCOMP in their shortest form (3.4.2.1).
template <class Ack>
void write_ack(field_writer& w, const Ack& a, protocol_version v, property_context context) {
  write_packet_id(w, a.id);
  if (!is_v5(v)) return;
  const bool has_props = !a.props.empty();
  if (a.reason == reason_code::success && !has_props) return;
  write_reason(w, packet_type_of<Ack>, a.reason);
  if (has_props) wire::write_properties(w, a.props, context);
}

void write_body(field_writer& w, const puback_packet& a, protocol_version v) {
  write_ack(w, a, v, property_context::puback);
}
void write_body(field_writer& w, const pubrec_packet& a, protocol_version v) {
  write_ack(w, a, v, property_context::pubrec);
}
void write_body(field_writer& w, const pubrel_packet& a, protocol_version v) {
  write_ack(w, a, v, property_context::pubrel);
}
void write_body(field_writer& w, const pubcomp_packet& a, protocol_version v) {
  write_ack(w, a, v, property_context::pubcomp);
}

void write_body(field_writer& w, const subscribe_packet& s, protocol_version v) {
  TRIB_ASSERT(!s.subscriptions.empty(), "SUBSCRIBE without a subscription");
  write_packet_id(w, s.id);
  if (is_v5(v)) wire::write_properties(w, s.props, property_context::subscribe);
  for (const subscription& sub : s.subscriptions) {
    TRIB_ASSERT(sub.max_qos <= qos_level::exactly_once);
    TRIB_ASSERT(sub.retain_handling <= retain_handling_mode::do_not_send);
    auto options = static_cast<uint8_t>(sub.max_qos);
    if (is_v5(v)) {
      if (sub.no_local) options |= 0x04;
      if (sub.retain_as_published) options |= 0x08;
      options |= static_cast<uint8_t>(static_cast<uint8_t>(sub.retain_handling) << 4);
    }
    w.utf8_string(sub.filter);
    w.u8(options);
  }
}

void write_body(field_writer& w, const suback_packet& s, protocol_version v) {
  TRIB_ASSERT(!s.reasons.empty(), "SUBACK without a reason code");
  write_packet_id(w, s.id);
  if (is_v5(v)) wire::write_properties(w, s.props, property_context::suback);
  for (reason_code r : s.reasons) {
    TRIB_ASSERT(reason_code_allowed(packet_type::suback, r), reason_code_name(r));
    // 3.1.1 knows one failure code, 0x80.
    if (!is_v5(v) && is_failure(r)) r = reason_code::unspecified_error;
    w.u8(static_cast<uint8_t>(r));
  }
}

void write_body(field_writer& w, const unsubscribe_packet& u, protocol_version v) {
  TRIB_ASSERT(!u.filters.empty(), "UNSUBSCRIBE without a filter");
  write_packet_id(w, u.id);
  if (is_v5(v)) wire::write_properties(w, u.props, property_context::unsubscribe);
  for (std::string_view f : u.filters) w.utf8_string(f);
}

void write_body(field_writer& w, const unsuback_packet& u, protocol_version v) {
  write_packet_id(w, u.id);
  if (!is_v5(v)) return;
  TRIB_ASSERT(!u.reasons.empty(), "5.0 UNSUBACK without a reason code");
  wire::write_properties(w, u.props, property_context::unsuback);
  for (reason_code r : u.reasons) write_reason(w, packet_type::unsuback, r);
}

void write_body(field_writer&, const pingreq_packet&, protocol_version) {}
void write_body(field_writer&, const pingresp_packet&, protocol_version) {}

void write_body(field_writer& w, const disconnect_packet& d, protocol_version v) {
  if (!is_v5(v)) return;
  const bool has_props = !d.props.empty();
  if (d.reason == reason_code::normal_disconnection && !has_props) return;
  write_reason(w, packet_type::disconnect, d.reason);
  if (has_props) wire::write_properties(w, d.props, property_context::disconnect);
}

void write_body(field_writer& w, const auth_packet& a, protocol_version v) {
  TRIB_ASSERT(is_v5(v), "AUTH exists only in MQTT 5.0");
  if (a.reason == reason_code::success && a.props.empty()) return;
  write_reason(w, packet_type::auth, a.reason);
  wire::write_properties(w, a.props, property_context::auth);
}

template <packet_struct P>
size_t body_size(const P& p, protocol_version version) {
  field_writer counter(nullptr);
  write_body(counter, p, version);
  TRIB_ASSERT(counter.size() <= max_remaining_length, "packet too large to encode");
  return counter.size();
}

}  // namespace

template <packet_struct P>
void encode(const P& p, protocol_version version, byte_writer& out) {
  const size_t body = body_size(p, version);
  field_writer w(&out);
  w.u8(first_byte(p));
  w.varint(static_cast<uint32_t>(body));
  const size_t header = w.size();
  write_body(w, p, version);
  TRIB_ASSERT(w.size() - header == body, "encoder wrote a different size than it measured");
}

template <packet_struct P>
size_t encoded_size(const P& p, protocol_version version) {
  const size_t body = body_size(p, version);
  return 1 + wire::varint_size(static_cast<uint32_t>(body)) + body;
}

void encode(const packet& p, protocol_version version, byte_writer& out) {
  std::visit([&](const auto& x) { encode(x, version, out); }, p);
}

std::vector<uint8_t> encode(const packet& p, protocol_version version) {
  byte_writer out;
  encode(p, version, out);
  return out.take();
}

size_t encoded_size(const packet& p, protocol_version version) {
  return std::visit([&](const auto& x) { return encoded_size(x, version); }, p);
}

#define TRIB_MQTT_INSTANTIATE(P)                                     \
  template void encode<P>(const P&, protocol_version, byte_writer&); \
  template size_t encoded_size<P>(const P&, protocol_version);
TRIB_MQTT_INSTANTIATE(connect_packet)
TRIB_MQTT_INSTANTIATE(connack_packet)
TRIB_MQTT_INSTANTIATE(publish_packet)
TRIB_MQTT_INSTANTIATE(puback_packet)
TRIB_MQTT_INSTANTIATE(pubrec_packet)
TRIB_MQTT_INSTANTIATE(pubrel_packet)
TRIB_MQTT_INSTANTIATE(pubcomp_packet)
TRIB_MQTT_INSTANTIATE(subscribe_packet)
TRIB_MQTT_INSTANTIATE(suback_packet)
TRIB_MQTT_INSTANTIATE(unsubscribe_packet)
TRIB_MQTT_INSTANTIATE(unsuback_packet)
TRIB_MQTT_INSTANTIATE(pingreq_packet)
TRIB_MQTT_INSTANTIATE(pingresp_packet)
TRIB_MQTT_INSTANTIATE(disconnect_packet)
TRIB_MQTT_INSTANTIATE(auth_packet)
#undef TRIB_MQTT_INSTANTIATE

}  // namespace tributary::mqtt
