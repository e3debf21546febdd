#pragma once
// SaslHandshake (key 17; never flexible) and SaslAuthenticate (key 36; flexible from v2).
// SaslHandshake v1 means the tokens that follow travel in SaslAuthenticate requests; after v0 they
// are raw size-prefixed frames (kafka-python does that), which is the connection's business.
// SaslAuthenticate v1 adds session_lifetime_ms.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info sasl_handshake_api{api_key::sasl_handshake, "SaslHandshake", 0, 1,
                                             k_never_flexible};
inline constexpr api_info sasl_authenticate_api{api_key::sasl_authenticate, "SaslAuthenticate", 0, 2, 2};

struct sasl_handshake_request {
  static constexpr const api_info& api = sasl_handshake_api;
  std::string mechanism;

  static void fields(auto& s, auto& v) { v(s.mechanism, "mechanism"); }
  bool operator==(const sasl_handshake_request&) const = default;
};

struct sasl_handshake_response {
  static constexpr const api_info& api = sasl_handshake_api;
  protocol::error_code error_code = protocol::error_code::none;
  std::vector<std::string> mechanisms;

  static void fields(auto& s, auto& v) {
    v(s.error_code, "error_code");
    v(s.mechanisms, "mechanisms");
  }
  bool operator==(const sasl_handshake_response&) const = default;
};

struct sasl_authenticate_request {
  static constexpr const api_info& api = sasl_authenticate_api;
  bytes auth_bytes;

  static void fields(auto& s, auto& v) { v(s.auth_bytes, "auth_bytes"); }
  bool operator==(const sasl_authenticate_request&) const = default;
};

struct sasl_authenticate_response {
  static constexpr const api_info& api = sasl_authenticate_api;
  protocol::error_code error_code = protocol::error_code::none;
  std::optional<std::string> error_message;
  bytes auth_bytes;
  int64_t session_lifetime_ms = 0;

  static void fields(auto& s, auto& v) {
    v(s.error_code, "error_code");
    v(s.error_message, "error_message");
    v(s.auth_bytes, "auth_bytes");
    v(s.session_lifetime_ms, "session_lifetime_ms", {.min = 1});
  }
  bool operator==(const sasl_authenticate_response&) const = default;
};

}  // namespace tributary::kafka::protocol
