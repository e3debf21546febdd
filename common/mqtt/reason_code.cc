#include "common/mqtt/reason_code.h"

#include "common/assert.h"

namespace tributary::mqtt {

std::string_view packet_type_name(packet_type t) noexcept {
  switch (t) {
    case packet_type::connect: return "CONNECT";
    case packet_type::connack: return "CONNACK";
    case packet_type::publish: return "PUBLISH";
    case packet_type::puback: return "PUBACK";
    case packet_type::pubrec: return "PUBREC";
    case packet_type::pubrel: return "PUBREL";
    case packet_type::pubcomp: return "PUBCOMP";
    case packet_type::subscribe: return "SUBSCRIBE";
    case packet_type::suback: return "SUBACK";
    case packet_type::unsubscribe: return "UNSUBSCRIBE";
    case packet_type::unsuback: return "UNSUBACK";
    case packet_type::pingreq: return "PINGREQ";
    case packet_type::pingresp: return "PINGRESP";
    case packet_type::disconnect: return "DISCONNECT";
    case packet_type::auth: return "AUTH";
  }
  return "unknown";
}

std::string_view protocol_version_name(protocol_version v) noexcept {
  switch (v) {
    case protocol_version::v311: return "3.1.1";
    case protocol_version::v5: return "5.0";
  }
  return "unknown";
}

std::string_view reason_code_name(reason_code r) noexcept {
  using enum reason_code;
  switch (r) {
    case success: return "success";
    case granted_qos_1: return "granted_qos_1";
    case granted_qos_2: return "granted_qos_2";
    case disconnect_with_will_message: return "disconnect_with_will_message";
    case no_matching_subscribers: return "no_matching_subscribers";
    case no_subscription_existed: return "no_subscription_existed";
    case continue_authentication: return "continue_authentication";
    case re_authenticate: return "re_authenticate";
    case unspecified_error: return "unspecified_error";
    case malformed_packet: return "malformed_packet";
    case protocol_error: return "protocol_error";
    case implementation_specific_error: return "implementation_specific_error";
    case unsupported_protocol_version: return "unsupported_protocol_version";
    case client_identifier_not_valid: return "client_identifier_not_valid";
    case bad_username_or_password: return "bad_username_or_password";
    case not_authorized: return "not_authorized";
    case server_unavailable: return "server_unavailable";
    case server_busy: return "server_busy";
    case banned: return "banned";
    case server_shutting_down: return "server_shutting_down";
    case bad_authentication_method: return "bad_authentication_method";
    case keep_alive_timeout: return "keep_alive_timeout";
    case session_taken_over: return "session_taken_over";
    case topic_filter_invalid: return "topic_filter_invalid";
    case topic_name_invalid: return "topic_name_invalid";
    case packet_identifier_in_use: return "packet_identifier_in_use";
    case packet_identifier_not_found: return "packet_identifier_not_found";
    case receive_maximum_exceeded: return "receive_maximum_exceeded";
    case topic_alias_invalid: return "topic_alias_invalid";
    case packet_too_large: return "packet_too_large";
    case message_rate_too_high: return "message_rate_too_high";
    case quota_exceeded: return "quota_exceeded";
    case administrative_action: return "administrative_action";
    case payload_format_invalid: return "payload_format_invalid";
    case retain_not_supported: return "retain_not_supported";
    case qos_not_supported: return "qos_not_supported";
    case use_another_server: return "use_another_server";
    case server_moved: return "server_moved";
    case shared_subscriptions_not_supported: return "shared_subscriptions_not_supported";
    case connection_rate_exceeded: return "connection_rate_exceeded";
    case maximum_connect_time: return "maximum_connect_time";
    case subscription_identifiers_not_supported: return "subscription_identifiers_not_supported";
    case wildcard_subscriptions_not_supported: return "wildcard_subscriptions_not_supported";
  }
  return "unknown";
}

bool is_known_reason_code(uint8_t value) noexcept {
  return reason_code_name(static_cast<reason_code>(value)) != "unknown";
}

bool reason_code_allowed(packet_type type, reason_code r) noexcept {
  using enum reason_code;
  switch (type) {
    case packet_type::connack:
      switch (r) {
        case success:
        case unspecified_error:
        case malformed_packet:
        case protocol_error:
        case implementation_specific_error:
        case unsupported_protocol_version:
        case client_identifier_not_valid:
        case bad_username_or_password:
        case not_authorized:
        case server_unavailable:
        case server_busy:
        case banned:
        case bad_authentication_method:
        case topic_name_invalid:
        case packet_too_large:
        case quota_exceeded:
        case payload_format_invalid:
        case retain_not_supported:
        case qos_not_supported:
        case use_another_server:
        case server_moved:
        case connection_rate_exceeded: return true;
        default: return false;
      }
    case packet_type::puback:
    case packet_type::pubrec:
      switch (r) {
        case success:
        case no_matching_subscribers:
        case unspecified_error:
        case implementation_specific_error:
        case not_authorized:
        case topic_name_invalid:
        case packet_identifier_in_use:
        case quota_exceeded:
        case payload_format_invalid: return true;
        default: return false;
      }
    case packet_type::pubrel:
    case packet_type::pubcomp: return r == success || r == packet_identifier_not_found;
    case packet_type::suback:
      switch (r) {
        case granted_qos_0:
        case granted_qos_1:
        case granted_qos_2:
        case unspecified_error:
        case implementation_specific_error:
        case not_authorized:
        case topic_filter_invalid:
        case packet_identifier_in_use:
        case quota_exceeded:
        case shared_subscriptions_not_supported:
        case subscription_identifiers_not_supported:
        case wildcard_subscriptions_not_supported: return true;
        default: return false;
      }
    case packet_type::unsuback:
      switch (r) {
        case success:
        case no_subscription_existed:
        case unspecified_error:
        case implementation_specific_error:
        case not_authorized:
        case topic_filter_invalid:
        case packet_identifier_in_use: return true;
        default: return false;
      }
    case packet_type::disconnect:
      switch (r) {
        case normal_disconnection:
        case disconnect_with_will_message:
        case unspecified_error:
        case malformed_packet:
        case protocol_error:
        case implementation_specific_error:
        case not_authorized:
        case server_busy:
        case server_shutting_down:
        case keep_alive_timeout:
        case session_taken_over:
        case topic_filter_invalid:
        case topic_name_invalid:
        case receive_maximum_exceeded:
        case topic_alias_invalid:
        case packet_too_large:
        case message_rate_too_high:
        case quota_exceeded:
        case administrative_action:
        case payload_format_invalid:
        case retain_not_supported:
        case qos_not_supported:
        case use_another_server:
        case server_moved:
        case shared_subscriptions_not_supported:
        case connection_rate_exceeded:
        case maximum_connect_time:
        case subscription_identifiers_not_supported:
        case wildcard_subscriptions_not_supported: return true;
        default: return false;
      }
    case packet_type::auth: return r == success || r == continue_authentication || r == re_authenticate;
    case packet_type::connect:
    case packet_type::publish:
    case packet_type::subscribe:
    case packet_type::unsubscribe:
    case packet_type::pingreq:
    case packet_type::pingresp: return false;
  }
  return false;
}

std::string_view connect_return_code_name(connect_return_code c) noexcept {
  switch (c) {
    case connect_return_code::accepted: return "accepted";
    case connect_return_code::unacceptable_protocol_version: return "unacceptable_protocol_version";
    case connect_return_code::identifier_rejected: return "identifier_rejected";
    case connect_return_code::server_unavailable: return "server_unavailable";
    case connect_return_code::bad_username_or_password: return "bad_username_or_password";
    case connect_return_code::not_authorized: return "not_authorized";
  }
  return "unknown";
}

connect_return_code to_connect_return_code(reason_code r) noexcept {
  TRIB_ASSERT(reason_code_allowed(packet_type::connack, r), reason_code_name(r));
  switch (r) {
    case reason_code::success: return connect_return_code::accepted;
    case reason_code::unsupported_protocol_version: return connect_return_code::unacceptable_protocol_version;
    case reason_code::client_identifier_not_valid: return connect_return_code::identifier_rejected;
    case reason_code::bad_username_or_password: return connect_return_code::bad_username_or_password;
    case reason_code::not_authorized:
    case reason_code::banned:
    case reason_code::bad_authentication_method: return connect_return_code::not_authorized;
    default: return connect_return_code::server_unavailable;
  }
}

std::optional<reason_code> from_connect_return_code(uint8_t value) noexcept {
  switch (value) {
    case 0x00: return reason_code::success;
    case 0x01: return reason_code::unsupported_protocol_version;
    case 0x02: return reason_code::client_identifier_not_valid;
    case 0x03: return reason_code::server_unavailable;
    case 0x04: return reason_code::bad_username_or_password;
    case 0x05: return reason_code::not_authorized;
    default: return std::nullopt;
  }
}

}  // namespace tributary::mqtt
