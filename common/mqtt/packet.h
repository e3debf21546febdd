#pragma once
// MQTT 3.1.1 and 5.0 control packets: one plain struct per packet type, and `packet`, a variant of
// them all (alternative i is packet type i + 1).
//
// Decoded packets borrow: every string_view and bytes_view points into the buffer that was decoded,
// so that buffer must outlive the packet; copy what you keep. Fields that exist only in 5.0
// (properties, reason codes) are empty/success after decoding a 3.1.1 packet and are not written
// when encoding one.
#include <cstdint>
#include <optional>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "common/mqtt/properties.h"
#include "common/mqtt/reason_code.h"
#include "common/mqtt/types.h"

namespace tributary::mqtt {

struct will_message {
  qos_level qos = qos_level::at_most_once;
  bool retain = false;
  properties props;  // 5.0 will properties
  std::string_view topic;
  bytes_view payload;
  bool operator==(const will_message&) const = default;
};

struct connect_packet {
  protocol_version version = protocol_version::v5;  // CONNECT carries its own version
  bool clean_start = true;                          // "clean session" in 3.1.1
  uint16_t keep_alive_s = 0;
  properties props;
  std::string_view client_id;  // may be empty (5.0; 3.1.1 only with clean_start)
  std::optional<will_message> will;
  std::optional<std::string_view> username;
  std::optional<bytes_view> password;
  bool operator==(const connect_packet&) const = default;
};

struct connack_packet {
  bool session_present = false;
  // 5.0 reason code. A 3.1.1 return code is decoded into its 5.0 equivalent and encoded back with
  // to_connect_return_code (reason_code.h).
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const connack_packet&) const = default;
};

struct publish_packet {
  bool dup = false;
  qos_level qos = qos_level::at_most_once;
  bool retain = false;
  std::string_view topic;  // may be empty in 5.0 when props.topic_alias is set
  packet_id id{};          // 0 for QoS 0 (no identifier on the wire), never 0 otherwise
  properties props;
  bytes_view payload;
  bool operator==(const publish_packet&) const = default;
};

// PUBACK, PUBREC, PUBREL, PUBCOMP: a packet identifier, and in 5.0 a reason code and properties
// (left out on the wire when success and none, as the spec allows).
struct puback_packet {
  packet_id id{};
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const puback_packet&) const = default;
};

struct pubrec_packet {
  packet_id id{};
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const pubrec_packet&) const = default;
};

struct pubrel_packet {
  packet_id id{};
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const pubrel_packet&) const = default;
};

struct pubcomp_packet {
  packet_id id{};
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const pubcomp_packet&) const = default;
};

struct subscription {
  std::string_view filter;
  qos_level max_qos = qos_level::at_most_once;
  bool no_local = false;                                                           // 5.0
  bool retain_as_published = false;                                                // 5.0
  retain_handling_mode retain_handling = retain_handling_mode::send_on_subscribe;  // 5.0
  bool operator==(const subscription&) const = default;
};

struct subscribe_packet {
  packet_id id{};
  properties props;
  std::vector<subscription> subscriptions;  // at least one
  bool operator==(const subscribe_packet&) const = default;
};

struct suback_packet {
  packet_id id{};
  properties props;
  // One per subscription: granted_qos_0/1/2 or a failure. 3.1.1 has only 0x80 for failure: every
  // failure code is encoded as 0x80 (unspecified_error) there.
  std::vector<reason_code> reasons;
  bool operator==(const suback_packet&) const = default;
};

struct unsubscribe_packet {
  packet_id id{};
  properties props;
  std::vector<std::string_view> filters;  // at least one
  bool operator==(const unsubscribe_packet&) const = default;
};

struct unsuback_packet {
  packet_id id{};
  properties props;
  std::vector<reason_code> reasons;  // 5.0: one per filter; 3.1.1: none
  bool operator==(const unsuback_packet&) const = default;
};

struct pingreq_packet {
  bool operator==(const pingreq_packet&) const = default;
};

struct pingresp_packet {
  bool operator==(const pingresp_packet&) const = default;
};

struct disconnect_packet {
  reason_code reason = reason_code::normal_disconnection;  // 5.0
  properties props;                                        // 5.0
  bool operator==(const disconnect_packet&) const = default;
};

// 5.0 only.
struct auth_packet {
  reason_code reason = reason_code::success;
  properties props;
  bool operator==(const auth_packet&) const = default;
};

using packet =
    std::variant<connect_packet, connack_packet, publish_packet, puback_packet, pubrec_packet, pubrel_packet,
                 pubcomp_packet, subscribe_packet, suback_packet, unsubscribe_packet, unsuback_packet,
                 pingreq_packet, pingresp_packet, disconnect_packet, auth_packet>;

namespace detail {
template <class T, class Variant>
struct is_alternative : std::false_type {};
template <class T, class... Ts>
struct is_alternative<T, std::variant<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};
}  // namespace detail

// The packet structs above (the alternatives of `packet`).
template <class T>
concept packet_struct = detail::is_alternative<T, packet>::value;

namespace detail {
template <class P, size_t I = 0>
constexpr size_t packet_index() {
  if constexpr (std::is_same_v<P, std::variant_alternative_t<I, packet>>)
    return I;
  else
    return packet_index<P, I + 1>();
}
}  // namespace detail

// The type of a packet struct, and of the packet a variant holds.
template <packet_struct P>
inline constexpr packet_type packet_type_of = static_cast<packet_type>(detail::packet_index<P>() + 1);
inline packet_type type_of(const packet& p) noexcept { return static_cast<packet_type>(p.index() + 1); }

}  // namespace tributary::mqtt
