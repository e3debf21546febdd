#pragma once
// Errors of the MQTT codec, one per failure class, and their translation into what the gateway
// sends: a 5.0 reason code (CONNACK before a session exists, DISCONNECT after) or, for a 3.1.1
// CONNECT, a CONNACK return code or nothing (3.1.1 closes the connection without a word).
#include <optional>
#include <system_error>

#include "common/mqtt/reason_code.h"
#include "common/result.h"

namespace tributary::mqtt {

enum class errc {
  // Framing (frame_length and the fixed header).
  bad_remaining_length = 1,  // Remaining Length longer than 4 bytes or not in its shortest form
  packet_too_large,          // the whole packet is larger than the configured maximum packet size

  // Malformed packets: the bytes cannot be parsed as the spec describes (reason 0x81).
  truncated,                 // a field runs past the end of the packet
  trailing_bytes,            // bytes left over after the last field
  bad_packet_type,           // packet type 0, or AUTH under 3.1.1
  bad_fixed_header_flags,    // flag bits other than the spec fixes for the type; DUP on a QoS 0 PUBLISH
  bad_varint,                // a Variable Byte Integer inside the packet: over 4 bytes or not minimal
  bad_connect_flags,         // CONNECT reserved flag set, will QoS/retain without the will flag, will QoS 3
  bad_connack_flags,         // CONNACK acknowledge flags bits 7..1 not zero
  invalid_qos,               // PUBLISH QoS 3
  invalid_utf8,              // ill-formed UTF-8 (overlong, surrogate, > U+10FFFF) or U+0000 in a string
  bad_subscription_options,  // reserved subscription option bits set, or QoS 3 in the options
  unknown_property,          // a property identifier 5.0 does not define
  property_not_allowed,      // a property 5.0 defines but not for this packet

  // Protocol errors: parsed, but against a rule of the spec (reason 0x82).
  password_without_username,        // 3.1.1 CONNECT with the password flag but not the user name flag
  packet_id_zero,                   // a packet identifier of 0 where one is required
  duplicate_property,               // a property repeated that may appear at most once
  bad_property_value,               // a property value out of range (receive maximum 0, topic alias 0, ...)
  missing_auth_method,              // authentication data without a method; an AUTH without a method
  bad_reason_code,                  // a reason/return code the packet may not carry
  session_present_on_failure,       // CONNACK with session present and a failure code
  empty_topic_without_alias,        // 5.0 PUBLISH with a zero-length topic and no topic alias
  bad_retain_handling,              // subscription option retain handling 3
  no_local_on_shared_subscription,  // no local set on a $share/ subscription
  no_topic_filters,                 // SUBSCRIBE or UNSUBSCRIBE without a topic filter
  no_reason_codes,                  // SUBACK or 5.0 UNSUBACK without a reason code

  // CONNECT refusals with a reason of their own.
  bad_protocol_name,             // protocol name is neither "MQTT" nor 3.1's "MQIsdp" (reason 0x84)
  unsupported_protocol_version,  // a protocol level other than 4 or 5 (reason 0x84, return code 0x01)
  client_id_rejected,            // 3.1.1: empty client id without clean session (0x85, return code 0x02)

  // Topics and payloads.
  invalid_topic_name,      // wildcard or empty topic name where a topic name is required (0x90)
  invalid_topic_filter,    // misplaced wildcard, empty filter, bad shared subscription (0x8F)
  payload_format_invalid,  // payload format indicator 1 but the payload is not valid UTF-8 (0x99)
};

inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

// The 5.0 reason code to send for a decode error (in a CONNACK if the error is in the CONNECT, in a
// DISCONNECT otherwise).
reason_code to_reason_code(errc e) noexcept;
// The same for any error code: mqtt errors as above, anything else is unspecified_error.
reason_code to_reason_code(const std::error_code& ec) noexcept;
// For a 3.1.1 CONNECT that failed to decode: the CONNACK return code to send before closing, or
// nullopt when 3.1.1 says to close the connection without a CONNACK.
std::optional<connect_return_code> to_connect_return_code(errc e) noexcept;

}  // namespace tributary::mqtt

template <>
struct tributary::errc_info<tributary::mqtt::errc> {
  static constexpr const char* name = "mqtt";
  static const char* message(tributary::mqtt::errc e) noexcept;
};

template <>
struct std::is_error_code_enum<tributary::mqtt::errc> : std::true_type {};
