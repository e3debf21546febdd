// Framing and decoding. Section numbers and [MQTT-x.y.z-n] tags are those of MQTT 5.0 unless they
// say 3.1.1.
#include "common/mqtt/codec.h"

#include <utility>

#include "common/mqtt/topic.h"
#include "common/mqtt/utf8.h"
#include "common/mqtt/wire.h"

namespace tributary::mqtt {
namespace {

using wire::field_reader;

struct fixed_header {
  uint8_t first_byte = 0;
  size_t header_length = 0;  // first byte + Remaining Length bytes
  uint32_t remaining_length = 0;
};

// The fixed header at the start of `in`; header_length 0 while it is incomplete.
result<fixed_header> read_fixed_header(byte_span in) {
  if (in.empty()) return fixed_header{};
  auto length = wire::read_varint(in.subspan(1));
  if (!length) return fail(errc::bad_remaining_length);
  if (length->length == 0) return fixed_header{};
  return fixed_header{in[0], 1 + length->length, length->value};
}

// The fixed flags of every type but PUBLISH (2.1.3): 0b0010 for PUBREL, SUBSCRIBE, UNSUBSCRIBE.
uint8_t required_flags(packet_type t) {
  return t == packet_type::pubrel || t == packet_type::subscribe || t == packet_type::unsubscribe ? 0x2 : 0x0;
}

result<void> expect_end(const field_reader& r) {
  if (!r.empty()) return fail(errc::trailing_bytes);
  return {};
}

// [MQTT-2.2.1-3]: packets that carry an identifier carry a non-zero one.
result<packet_id> read_packet_id(field_reader& r) {
  const uint16_t v = TRIB_TRY(r.u16());
  if (v == 0) return fail(errc::packet_id_zero);
  return packet_id{v};
}

result<reason_code> read_reason(field_reader& r, packet_type type) {
  const auto code = static_cast<reason_code>(TRIB_TRY(r.u8()));
  if (!reason_code_allowed(type, code)) return fail(errc::bad_reason_code);
  return code;
}

// A filter in a SUBSCRIBE or UNSUBSCRIBE (UTF-8 validated already).
result<void> check_filter(std::string_view filter, protocol_version version) {
  if (version == protocol_version::v5 && is_shared_subscription(filter)) {
    TRIB_TRY(parse_shared_subscription(filter));
    return {};
  }
  if (!detail::is_valid_topic_filter_structure(filter)) return fail(errc::invalid_topic_filter);
  return {};
}

// Properties that carry an authentication method may carry data only with it (3.1.2.11.10).
result<void> check_auth_pair(const properties& p) {
  if (p.authentication_data && !p.authentication_method) return fail(errc::missing_auth_method);
  return {};
}

result<packet> decode_connect(field_reader r) {
  // 3.1.2.1, 3.1.2.2: "MQTT" and level 4 (3.1.1) or 5 (5.0). MQTT 3.1 ("MQIsdp", level 3) is a
  // version we do not speak, not a foreign protocol.
  const std::string_view name = TRIB_TRY(r.utf8_string());
  const uint8_t level = TRIB_TRY(r.u8());
  if (name != "MQTT" && name != "MQIsdp") return fail(errc::bad_protocol_name);
  if (name != "MQTT" || (level != 4 && level != 5)) return fail(errc::unsupported_protocol_version);
  connect_packet c;
  c.version = static_cast<protocol_version>(level);
  const bool v5 = c.version == protocol_version::v5;

  const uint8_t flags = TRIB_TRY(r.u8());
  const bool has_username = flags & 0x80;
  const bool has_password = flags & 0x40;
  const bool will_retain = flags & 0x20;
  const uint8_t will_qos = (flags >> 3) & 0x3;
  const bool has_will = flags & 0x04;
  c.clean_start = flags & 0x02;
  if (flags & 0x01) return fail(errc::bad_connect_flags);   // [MQTT-3.1.2-3] reserved
  if (will_qos == 3) return fail(errc::bad_connect_flags);  // [MQTT-3.1.2-12]
  // [MQTT-3.1.2-11], [MQTT-3.1.2-13]: no will, then will QoS 0 and will retain 0.
  if (!has_will && (will_qos != 0 || will_retain)) return fail(errc::bad_connect_flags);
  // 3.1.1 [MQTT-3.1.2-22]: no user name, then no password. (5.0 allows a password alone.)
  if (!v5 && has_password && !has_username) return fail(errc::password_without_username);
  c.keep_alive_s = TRIB_TRY(r.u16());
  if (v5) {
    c.props = TRIB_TRY(wire::read_properties(r, property_context::connect));
    TRIB_TRY_VOID(check_auth_pair(c.props));
  }

  c.client_id = TRIB_TRY(r.utf8_string());
  // 3.1.1 [MQTT-3.1.3-8]: an empty client id needs clean session; else return code 0x02.
  if (!v5 && c.client_id.empty() && !c.clean_start) return fail(errc::client_id_rejected);
  if (has_will) {
    will_message w;
    w.qos = static_cast<qos_level>(will_qos);
    w.retain = will_retain;
    if (v5) w.props = TRIB_TRY(wire::read_properties(r, property_context::will));
    w.topic = TRIB_TRY(r.utf8_string());
    if (!detail::is_valid_topic_name_structure(w.topic)) return fail(errc::invalid_topic_name);
    w.payload = TRIB_TRY(r.binary());
    if (w.props.payload_format_indicator == 1 && !is_well_formed_utf8(w.payload))
      return fail(errc::payload_format_invalid);
    c.will = std::move(w);
  }
  if (has_username) c.username = TRIB_TRY(r.utf8_string());
  if (has_password) c.password = TRIB_TRY(r.binary());
  TRIB_TRY_VOID(expect_end(r));
  return c;
}

result<packet> decode_connack(field_reader r, protocol_version version) {
  connack_packet c;
  const uint8_t ack_flags = TRIB_TRY(r.u8());
  if (ack_flags & 0xFE) return fail(errc::bad_connack_flags);  // [MQTT-3.2.2-1] reserved bits
  c.session_present = ack_flags & 0x01;
  const uint8_t code = TRIB_TRY(r.u8());
  if (version == protocol_version::v311) {
    const auto reason = from_connect_return_code(code);
    if (!reason) return fail(errc::bad_reason_code);
    c.reason = *reason;
  } else {
    c.reason = static_cast<reason_code>(code);
    if (!reason_code_allowed(packet_type::connack, c.reason)) return fail(errc::bad_reason_code);
    c.props = TRIB_TRY(wire::read_properties(r, property_context::connack));
    TRIB_TRY_VOID(check_auth_pair(c.props));
  }
  // [MQTT-3.2.2-6] (3.1.1 [MQTT-3.2.2-4]): a refusal never reports a session.
  if (c.session_present && is_failure(c.reason)) return fail(errc::session_present_on_failure);
  TRIB_TRY_VOID(expect_end(r));
  return c;
}

result<packet> decode_publish(field_reader r, uint8_t flags, protocol_version version) {
  publish_packet p;
  p.dup = flags & 0x8;
  const uint8_t qos = (flags >> 1) & 0x3;
  p.retain = flags & 0x1;
  if (qos == 3) return fail(errc::invalid_qos);                      // [MQTT-3.3.1-4]
  if (p.dup && qos == 0) return fail(errc::bad_fixed_header_flags);  // [MQTT-3.3.1-2]
  p.qos = static_cast<qos_level>(qos);

  p.topic = TRIB_TRY(r.utf8_string());
  if (!p.topic.empty() && !detail::is_valid_topic_name_structure(p.topic))
    return fail(errc::invalid_topic_name);
  if (qos > 0) p.id = TRIB_TRY(read_packet_id(r));
  if (version == protocol_version::v5)
    p.props = TRIB_TRY(wire::read_properties(r, property_context::publish));
  if (p.topic.empty()) {
    // 5.0 3.3.2.1: a zero-length topic name stands for the topic alias's topic; 3.1.1 has none.
    if (version == protocol_version::v311) return fail(errc::invalid_topic_name);
    if (!p.props.topic_alias) return fail(errc::empty_topic_without_alias);
  }
  p.payload = r.rest();
  // [MQTT-3.3.2-4]: with payload format indicator 1 the payload is UTF-8 (receivers MAY check;
  // the gateway answers 0x99 rather than store text it would later fail to read).
  if (p.props.payload_format_indicator == 1 && !is_well_formed_utf8(p.payload))
    return fail(errc::payload_format_invalid);
  return p;
}

// PUBACK, PUBREC, PUBREL, PUBCOMP: identifier, then (5.0) an optional reason code and optional
// properties (3.4.2.1: Remaining Length 2 means success and none, 3 means no properties).
template <class Ack>
result<packet> decode_ack(field_reader r, protocol_version version, packet_type type,
                          property_context context) {
  Ack a;
  a.id = TRIB_TRY(read_packet_id(r));
  if (version == protocol_version::v5 && !r.empty()) {
    a.reason = TRIB_TRY(read_reason(r, type));
    if (!r.empty()) a.props = TRIB_TRY(wire::read_properties(r, context));
  }
  TRIB_TRY_VOID(expect_end(r));
  return a;
}

result<packet> decode_subscribe(field_reader r, protocol_version version) {
  const bool v5 = version == protocol_version::v5;
  subscribe_packet s;
  s.id = TRIB_TRY(read_packet_id(r));
  if (v5) s.props = TRIB_TRY(wire::read_properties(r, property_context::subscribe));
  while (!r.empty()) {
    subscription sub;
    sub.filter = TRIB_TRY(r.utf8_string());
    const uint8_t options = TRIB_TRY(r.u8());
    const uint8_t qos = options & 0x3;
    if (qos == 3) return fail(errc::bad_subscription_options);  // [MQTT-3.8.3-4 (3.1.1)]
    // Reserved bits: 7..2 in 3.1.1 [MQTT-3-8.3-4], 7..6 in 5.0 [MQTT-3.8.3-5].
    if (options & (v5 ? 0xC0 : 0xFC)) return fail(errc::bad_subscription_options);
    sub.max_qos = static_cast<qos_level>(qos);
    sub.no_local = options & 0x04;
    sub.retain_as_published = options & 0x08;
    const uint8_t retain_handling = (options >> 4) & 0x3;
    if (retain_handling == 3) return fail(errc::bad_retain_handling);  // 3.8.3.1
    sub.retain_handling = static_cast<retain_handling_mode>(retain_handling);
    TRIB_TRY_VOID(check_filter(sub.filter, version));
    // [MQTT-3.8.3-4]: no local on a shared subscription is a protocol error.
    if (v5 && sub.no_local && is_shared_subscription(sub.filter))
      return fail(errc::no_local_on_shared_subscription);
    s.subscriptions.push_back(sub);
  }
  if (s.subscriptions.empty()) return fail(errc::no_topic_filters);  // [MQTT-3.8.3-2]
  return s;
}

result<packet> decode_suback(field_reader r, protocol_version version) {
  suback_packet s;
  s.id = TRIB_TRY(read_packet_id(r));
  if (version == protocol_version::v5) s.props = TRIB_TRY(wire::read_properties(r, property_context::suback));
  while (!r.empty()) {
    const auto code = static_cast<reason_code>(TRIB_TRY(r.u8()));
    // 3.1.1 3.9.3: 0x00, 0x01, 0x02 or 0x80 only.
    const bool ok = version == protocol_version::v5
                        ? reason_code_allowed(packet_type::suback, code)
                        : (code <= reason_code::granted_qos_2 || code == reason_code::unspecified_error);
    if (!ok) return fail(errc::bad_reason_code);
    s.reasons.push_back(code);
  }
  if (s.reasons.empty()) return fail(errc::no_reason_codes);
  return s;
}

result<packet> decode_unsubscribe(field_reader r, protocol_version version) {
  unsubscribe_packet u;
  u.id = TRIB_TRY(read_packet_id(r));
  if (version == protocol_version::v5)
    u.props = TRIB_TRY(wire::read_properties(r, property_context::unsubscribe));
  while (!r.empty()) {
    const std::string_view filter = TRIB_TRY(r.utf8_string());
    TRIB_TRY_VOID(check_filter(filter, version));
    u.filters.push_back(filter);
  }
  if (u.filters.empty()) return fail(errc::no_topic_filters);  // [MQTT-3.10.3-2]
  return u;
}

result<packet> decode_unsuback(field_reader r, protocol_version version) {
  unsuback_packet u;
  u.id = TRIB_TRY(read_packet_id(r));
  if (version == protocol_version::v5) {
    u.props = TRIB_TRY(wire::read_properties(r, property_context::unsuback));
    while (!r.empty()) u.reasons.push_back(TRIB_TRY(read_reason(r, packet_type::unsuback)));
    if (u.reasons.empty()) return fail(errc::no_reason_codes);
  }
  TRIB_TRY_VOID(expect_end(r));
  return u;
}

// 3.14.2.1: Remaining Length 0 means normal disconnection; below 2, no properties.
result<packet> decode_disconnect(field_reader r, protocol_version version) {
  disconnect_packet d;
  if (version == protocol_version::v5 && !r.empty()) {
    d.reason = TRIB_TRY(read_reason(r, packet_type::disconnect));
    if (!r.empty()) d.props = TRIB_TRY(wire::read_properties(r, property_context::disconnect));
  }
  TRIB_TRY_VOID(expect_end(r));
  return d;
}

// 3.15.2.1: Remaining Length 0 means success without properties; otherwise both are present and
// the properties name the authentication method (3.15.2.2.2).
result<packet> decode_auth(field_reader r) {
  auth_packet a;
  if (!r.empty()) {
    a.reason = TRIB_TRY(read_reason(r, packet_type::auth));
    a.props = TRIB_TRY(wire::read_properties(r, property_context::auth));
    if (!a.props.authentication_method) return fail(errc::missing_auth_method);
  }
  TRIB_TRY_VOID(expect_end(r));
  return a;
}

}  // namespace

result<size_t> frame_length(byte_span buffered, size_t max_packet_size) noexcept {
  const fixed_header h = TRIB_TRY(read_fixed_header(buffered));
  if (h.header_length == 0) return size_t{0};
  const size_t total = h.header_length + h.remaining_length;
  if (total > max_packet_size) return fail(errc::packet_too_large);
  return total;
}

std::optional<protocol_version> peek_connect_version(byte_span frame) noexcept {
  auto h = read_fixed_header(frame);
  if (!h || h->header_length == 0 || (h->first_byte >> 4) != static_cast<uint8_t>(packet_type::connect))
    return std::nullopt;
  field_reader r(frame.subspan(h->header_length));
  auto name_length = r.u16();
  if (!name_length || *name_length != 4) return std::nullopt;
  auto name = r.span(4);
  if (!name || as_string_view(*name) != "MQTT") return std::nullopt;
  auto level = r.u8();
  if (!level || (*level != 4 && *level != 5)) return std::nullopt;
  return static_cast<protocol_version>(*level);
}

result<packet> decode(byte_span frame, protocol_version version) {
  const fixed_header h = TRIB_TRY(read_fixed_header(frame));
  if (h.header_length == 0) return fail(errc::truncated);
  const size_t total = h.header_length + h.remaining_length;
  if (frame.size() < total) return fail(errc::truncated);
  if (frame.size() > total) return fail(errc::trailing_bytes);

  const uint8_t type_bits = h.first_byte >> 4;
  const uint8_t flags = h.first_byte & 0x0F;
  // 2.1.2: type 0 is forbidden; AUTH (15) is reserved in 3.1.1.
  if (type_bits == 0 || (type_bits == 15 && version == protocol_version::v311))
    return fail(errc::bad_packet_type);
  const auto type = static_cast<packet_type>(type_bits);
  if (type != packet_type::publish && flags != required_flags(type))
    return fail(errc::bad_fixed_header_flags);

  field_reader body(frame.subspan(h.header_length));
  switch (type) {
    case packet_type::connect: return decode_connect(body);
    case packet_type::connack: return decode_connack(body, version);
    case packet_type::publish: return decode_publish(body, flags, version);
    case packet_type::puback: return decode_ack<puback_packet>(body, version, type, property_context::puback);
    case packet_type::pubrec: return decode_ack<pubrec_packet>(body, version, type, property_context::pubrec);
    case packet_type::pubrel: return decode_ack<pubrel_packet>(body, version, type, property_context::pubrel);
    case packet_type::pubcomp:
      return decode_ack<pubcomp_packet>(body, version, type, property_context::pubcomp);
    case packet_type::subscribe: return decode_subscribe(body, version);
    case packet_type::suback: return decode_suback(body, version);
    case packet_type::unsubscribe: return decode_unsubscribe(body, version);
    case packet_type::unsuback: return decode_unsuback(body, version);
    case packet_type::pingreq: TRIB_TRY_VOID(expect_end(body)); return pingreq_packet{};
    case packet_type::pingresp: TRIB_TRY_VOID(expect_end(body)); return pingresp_packet{};
    case packet_type::disconnect: return decode_disconnect(body, version);
    case packet_type::auth: return decode_auth(body);
  }
  return fail(errc::bad_packet_type);  // unreachable: every 4-bit value but 0 is a type
}

}  // namespace tributary::mqtt
