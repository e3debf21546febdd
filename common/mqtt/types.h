#pragma once
// Vocabulary of the MQTT codec: protocol versions, packet types, QoS levels, packet identifiers,
// binary views and the size limits the specifications fix (MQTT 3.1.1, OASIS 2014; MQTT 5.0,
// OASIS 2019).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "common/strong_type.h"

namespace tributary::mqtt {

// The CONNECT packet's "protocol level" byte.
enum class protocol_version : uint8_t { v311 = 4, v5 = 5 };

// The high nibble of a packet's first byte. 0 is forbidden; 15 (AUTH) exists only in 5.0.
enum class packet_type : uint8_t {
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
  pingreq = 12,
  pingresp = 13,
  disconnect = 14,
  auth = 15,
};

enum class qos_level : uint8_t { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

// Subscription option "Retain Handling" (5.0): when retained messages are sent on subscribe.
enum class retain_handling_mode : uint8_t {
  send_on_subscribe = 0,         // send retained messages at the time of the subscribe
  send_if_new_subscription = 1,  // only if the subscription did not already exist
  do_not_send = 2,               // never send retained messages for this subscribe
};

// A PUBLISH (QoS > 0), PUBACK/PUBREC/PUBREL/PUBCOMP, SUBSCRIBE/SUBACK or UNSUBSCRIBE/UNSUBACK
// packet identifier. Never 0 on the wire; 0 stands for "none" in a QoS 0 PUBLISH.
using packet_id = strong<uint16_t, struct packet_id_tag>;

// A view of binary data (a payload, Binary Data fields) that compares by content, as std::span
// does not. Like every view in a decoded packet it points into the decoded buffer.
struct bytes_view : byte_span {
  constexpr bytes_view() = default;
  constexpr bytes_view(byte_span s) : byte_span(s) {}  // NOLINT: implicit on purpose
  constexpr bytes_view(const uint8_t* p, size_t n) : byte_span(p, n) {}
  friend bool operator==(bytes_view a, bytes_view b) { return std::ranges::equal(a, b); }
};

// Limits fixed by the protocol.
// Largest value of a Variable Byte Integer (4 bytes of 7 bits): also the largest Remaining Length.
inline constexpr uint32_t max_variable_byte_integer = 268'435'455;
inline constexpr uint32_t max_remaining_length = max_variable_byte_integer;
// Largest packet: first byte + 4 length bytes + the largest remaining length.
inline constexpr size_t max_packet_size_limit = 1 + 4 + size_t{max_remaining_length};
// UTF-8 Encoded Strings and Binary Data carry a two-byte length.
inline constexpr size_t max_string_bytes = 65'535;

std::string_view packet_type_name(packet_type t) noexcept;            // "CONNECT", "PUBACK", ...
std::string_view protocol_version_name(protocol_version v) noexcept;  // "3.1.1", "5.0"

}  // namespace tributary::mqtt
