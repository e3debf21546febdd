#include "common/mqtt/errc.h"

namespace tributary {

const char* errc_info<mqtt::errc>::message(mqtt::errc e) noexcept {
  using enum mqtt::errc;
  switch (e) {
    case bad_remaining_length: return "remaining length longer than 4 bytes or not minimal";
    case packet_too_large: return "packet larger than the maximum packet size";
    case truncated: return "packet ends inside a field";
    case trailing_bytes: return "bytes left after the last field";
    case bad_packet_type: return "invalid packet type";
    case bad_fixed_header_flags: return "invalid fixed header flags";
    case bad_varint: return "variable byte integer longer than 4 bytes or not minimal";
    case bad_connect_flags: return "invalid CONNECT flags";
    case bad_connack_flags: return "invalid CONNACK acknowledge flags";
    case invalid_qos: return "QoS 3";
    case invalid_utf8: return "invalid UTF-8 string";
    case bad_subscription_options: return "invalid subscription options";
    case unknown_property: return "unknown property identifier";
    case property_not_allowed: return "property not allowed in this packet";
    case password_without_username: return "password without user name";
    case packet_id_zero: return "packet identifier 0";
    case duplicate_property: return "property repeated";
    case bad_property_value: return "property value out of range";
    case missing_auth_method: return "authentication method missing";
    case bad_reason_code: return "reason code not allowed in this packet";
    case session_present_on_failure: return "session present with a failure reason code";
    case empty_topic_without_alias: return "empty topic name without topic alias";
    case bad_retain_handling: return "retain handling 3";
    case no_local_on_shared_subscription: return "no local on a shared subscription";
    case no_topic_filters: return "no topic filter";
    case no_reason_codes: return "no reason code";
    case bad_protocol_name: return "protocol name is not MQTT";
    case unsupported_protocol_version: return "unsupported protocol version";
    case client_id_rejected: return "client identifier rejected";
    case invalid_topic_name: return "invalid topic name";
    case invalid_topic_filter: return "invalid topic filter";
    case payload_format_invalid: return "payload is not UTF-8 though its format indicator says so";
  }
  return "unknown mqtt error";
}

}  // namespace tributary

namespace tributary::mqtt {

reason_code to_reason_code(errc e) noexcept {
  switch (e) {
    case errc::packet_too_large: return reason_code::packet_too_large;

    case errc::bad_remaining_length:
    case errc::truncated:
    case errc::trailing_bytes:
    case errc::bad_packet_type:
    case errc::bad_fixed_header_flags:
    case errc::bad_varint:
    case errc::bad_connect_flags:
    case errc::bad_connack_flags:
    case errc::invalid_qos:
    case errc::invalid_utf8:
    case errc::bad_subscription_options:
    case errc::unknown_property:
    case errc::property_not_allowed: return reason_code::malformed_packet;

    case errc::password_without_username:
    case errc::packet_id_zero:
    case errc::duplicate_property:
    case errc::bad_property_value:
    case errc::missing_auth_method:
    case errc::bad_reason_code:
    case errc::session_present_on_failure:
    case errc::empty_topic_without_alias:
    case errc::bad_retain_handling:
    case errc::no_local_on_shared_subscription:
    case errc::no_topic_filters:
    case errc::no_reason_codes: return reason_code::protocol_error;

    case errc::bad_protocol_name:
    case errc::unsupported_protocol_version: return reason_code::unsupported_protocol_version;
    case errc::client_id_rejected: return reason_code::client_identifier_not_valid;
    case errc::invalid_topic_name: return reason_code::topic_name_invalid;
    case errc::invalid_topic_filter: return reason_code::topic_filter_invalid;
    case errc::payload_format_invalid: return reason_code::payload_format_invalid;
  }
  return reason_code::unspecified_error;
}

reason_code to_reason_code(const std::error_code& ec) noexcept {
  if (ec.category() != errc_category<errc>()) return reason_code::unspecified_error;
  return to_reason_code(static_cast<errc>(ec.value()));
}

std::optional<connect_return_code> to_connect_return_code(errc e) noexcept {
  switch (e) {
    // [MQTT-3.1.2-2]: an unsupported protocol level is answered with return code 0x01.
    case errc::unsupported_protocol_version: return connect_return_code::unacceptable_protocol_version;
    // [MQTT-3.1.3-8]: an empty client id without clean session is answered with 0x02.
    case errc::client_id_rejected: return connect_return_code::identifier_rejected;
    // Everything else is a protocol violation: 3.1.1 closes the connection without a CONNACK
    // (a wrong protocol name included: [MQTT-3.1.2-1] says the server MAY just disconnect).
    default: return std::nullopt;
  }
}

}  // namespace tributary::mqtt
