#pragma once
// MQTT 5.0 reason codes (spec section 2.4) and the MQTT 3.1.1 CONNACK return codes.
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/mqtt/types.h"

namespace tributary::mqtt {

enum class reason_code : uint8_t {
  // 0x00 has three names, one per packet family.
  success = 0x00,               // CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK, AUTH
  normal_disconnection = 0x00,  // DISCONNECT
  granted_qos_0 = 0x00,         // SUBACK
  granted_qos_1 = 0x01,
  granted_qos_2 = 0x02,
  disconnect_with_will_message = 0x04,
  no_matching_subscribers = 0x10,
  no_subscription_existed = 0x11,
  continue_authentication = 0x18,
  re_authenticate = 0x19,
  unspecified_error = 0x80,
  malformed_packet = 0x81,
  protocol_error = 0x82,
  implementation_specific_error = 0x83,
  unsupported_protocol_version = 0x84,
  client_identifier_not_valid = 0x85,
  bad_username_or_password = 0x86,
  not_authorized = 0x87,
  server_unavailable = 0x88,
  server_busy = 0x89,
  banned = 0x8A,
  server_shutting_down = 0x8B,
  bad_authentication_method = 0x8C,
  keep_alive_timeout = 0x8D,
  session_taken_over = 0x8E,
  topic_filter_invalid = 0x8F,
  topic_name_invalid = 0x90,
  packet_identifier_in_use = 0x91,
  packet_identifier_not_found = 0x92,
  receive_maximum_exceeded = 0x93,
  topic_alias_invalid = 0x94,
  packet_too_large = 0x95,
  message_rate_too_high = 0x96,
  quota_exceeded = 0x97,
  administrative_action = 0x98,
  payload_format_invalid = 0x99,
  retain_not_supported = 0x9A,
  qos_not_supported = 0x9B,
  use_another_server = 0x9C,
  server_moved = 0x9D,
  shared_subscriptions_not_supported = 0x9E,
  connection_rate_exceeded = 0x9F,
  maximum_connect_time = 0xA0,
  subscription_identifiers_not_supported = 0xA1,
  wildcard_subscriptions_not_supported = 0xA2,
};

// snake_case name for logs ("malformed_packet"); 0x00 is "success". Unknown values: "unknown".
std::string_view reason_code_name(reason_code r) noexcept;
// True if the value is one of the codes MQTT 5.0 defines.
bool is_known_reason_code(uint8_t value) noexcept;
// Codes 0x80 and above report failure.
constexpr bool is_failure(reason_code r) noexcept { return static_cast<uint8_t>(r) >= 0x80; }
// Whether MQTT 5.0 lets `type` carry `r` (the per-packet tables of sections 3.2.2.2, 3.4.2.1,
// 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1 and 3.15.2.1). False for packet types
// without a reason code.
bool reason_code_allowed(packet_type type, reason_code r) noexcept;

// MQTT 3.1.1 CONNACK return codes (section 3.2.2.3).
enum class connect_return_code : uint8_t {
  accepted = 0x00,
  unacceptable_protocol_version = 0x01,
  identifier_rejected = 0x02,
  server_unavailable = 0x03,
  bad_username_or_password = 0x04,
  not_authorized = 0x05,
};

std::string_view connect_return_code_name(connect_return_code c) noexcept;
// The 3.1.1 return code that says what a 5.0 CONNACK reason code says. 3.1.1 has six codes, so
// several map onto one: banned and bad_authentication_method become not_authorized, every other
// failure without a 3.1.1 counterpart becomes server_unavailable. Precondition: `r` is allowed in a
// CONNACK (reason_code_allowed(packet_type::connack, r)).
connect_return_code to_connect_return_code(reason_code r) noexcept;
// The 5.0 reason code for a 3.1.1 return code (exact: 0x01 -> 0x84, 0x02 -> 0x85, 0x03 -> 0x88,
// 0x04 -> 0x86, 0x05 -> 0x87). nullopt for values 3.1.1 does not define.
std::optional<reason_code> from_connect_return_code(uint8_t value) noexcept;

}  // namespace tributary::mqtt
