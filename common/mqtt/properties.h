#pragma once
// MQTT 5.0 properties (spec section 2.2.2): one struct with a member per property, absent by
// default. The decoder checks that each property is allowed in the packet it arrived in, appears
// at most once where the spec says so (only User Property, and Subscription Identifier in a
// PUBLISH, may repeat), has the right value type and a value in range. 3.1.1 packets have no
// properties: theirs are always empty.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/mqtt/types.h"

namespace tributary::mqtt {

enum class property_id : uint8_t {
  payload_format_indicator = 0x01,           // byte, 0 or 1: PUBLISH, will
  message_expiry_interval = 0x02,            // four-byte integer: PUBLISH, will
  content_type = 0x03,                       // UTF-8 string: PUBLISH, will
  response_topic = 0x08,                     // UTF-8 string (a topic name): PUBLISH, will
  correlation_data = 0x09,                   // binary data: PUBLISH, will
  subscription_identifier = 0x0B,            // variable byte integer 1..268,435,455: PUBLISH, SUBSCRIBE
  session_expiry_interval = 0x11,            // four-byte integer: CONNECT, CONNACK, DISCONNECT
  assigned_client_identifier = 0x12,         // UTF-8 string: CONNACK
  server_keep_alive = 0x13,                  // two-byte integer: CONNACK
  authentication_method = 0x15,              // UTF-8 string: CONNECT, CONNACK, AUTH
  authentication_data = 0x16,                // binary data: CONNECT, CONNACK, AUTH
  request_problem_information = 0x17,        // byte, 0 or 1: CONNECT
  will_delay_interval = 0x18,                // four-byte integer: will
  request_response_information = 0x19,       // byte, 0 or 1: CONNECT
  response_information = 0x1A,               // UTF-8 string: CONNACK
  server_reference = 0x1C,                   // UTF-8 string: CONNACK, DISCONNECT
  reason_string = 0x1F,                      // UTF-8 string: every packet with a reason code
  receive_maximum = 0x21,                    // two-byte integer, not 0: CONNECT, CONNACK
  topic_alias_maximum = 0x22,                // two-byte integer: CONNECT, CONNACK
  topic_alias = 0x23,                        // two-byte integer, not 0: PUBLISH
  maximum_qos = 0x24,                        // byte, 0 or 1: CONNACK
  retain_available = 0x25,                   // byte, 0 or 1: CONNACK
  user_property = 0x26,                      // UTF-8 string pair, repeatable: all but PING*
  maximum_packet_size = 0x27,                // four-byte integer, not 0: CONNECT, CONNACK
  wildcard_subscription_available = 0x28,    // byte, 0 or 1: CONNACK
  subscription_identifier_available = 0x29,  // byte, 0 or 1: CONNACK
  shared_subscription_available = 0x2A,      // byte, 0 or 1: CONNACK
};

// snake_case name for logs; "unknown" for other values.
std::string_view property_name(property_id id) noexcept;

struct user_property {
  std::string_view name;
  std::string_view value;
  bool operator==(const user_property&) const = default;
};

struct properties {
  std::optional<uint8_t> payload_format_indicator;
  std::optional<uint32_t> message_expiry_interval_s;
  std::optional<std::string_view> content_type;
  std::optional<std::string_view> response_topic;
  std::optional<bytes_view> correlation_data;
  // Several only in a PUBLISH from server to client; at most one in a SUBSCRIBE.
  std::vector<uint32_t> subscription_identifiers;
  std::optional<uint32_t> session_expiry_interval_s;
  std::optional<std::string_view> assigned_client_identifier;
  std::optional<uint16_t> server_keep_alive_s;
  std::optional<std::string_view> authentication_method;
  std::optional<bytes_view> authentication_data;
  std::optional<uint8_t> request_problem_information;
  std::optional<uint32_t> will_delay_interval_s;
  std::optional<uint8_t> request_response_information;
  std::optional<std::string_view> response_information;
  std::optional<std::string_view> server_reference;
  std::optional<std::string_view> reason_string;
  std::optional<uint16_t> receive_maximum;
  std::optional<uint16_t> topic_alias_maximum;
  std::optional<uint16_t> topic_alias;
  std::optional<uint8_t> maximum_qos;
  std::optional<uint8_t> retain_available;
  std::vector<user_property> user_properties;  // in the order they arrived (the spec keeps it)
  std::optional<uint32_t> maximum_packet_size;
  std::optional<uint8_t> wildcard_subscription_available;
  std::optional<uint8_t> subscription_identifier_available;
  std::optional<uint8_t> shared_subscription_available;

  bool operator==(const properties&) const = default;
  bool empty() const { return *this == properties{}; }
};

// Where a property block sits: a packet type, or the will properties inside a CONNECT.
enum class property_context : uint8_t {
  connect = 1,
  connack = 2,
  publish = 3,
  puback = 4,
  pubrec = 5,
  pubrel = 6,
  pubcomp = 7,
  subscribe = 8,
  suback = 9,
  unsubscribe = 10,
  unsuback = 11,
  disconnect = 14,
  auth = 15,
  will = 16,
};

// Whether the spec allows property `id` in `context`.
bool property_allowed(property_id id, property_context context) noexcept;
// Whether every property set in `p` is allowed in `context` (a check for encoders).
bool properties_allowed(const properties& p, property_context context) noexcept;

}  // namespace tributary::mqtt
