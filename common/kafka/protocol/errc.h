#pragma once
// Errors of the Kafka protocol codec: framing, request/response headers and message bodies.
// They describe what is wrong with the bytes; the broker turns them into a reaction at the edge
// (answer UNSUPPORTED_VERSION / INVALID_REQUEST, or close the connection).
#include <system_error>

#include "common/result.h"

namespace tributary::kafka::protocol {

enum class errc {
  truncated = 1,        // the input ends inside a field (or before the fixed request header)
  trailing_bytes,       // bytes left after the message body
  bad_length,           // a string/bytes/array length that is negative (not null) or exceeds the input
  bad_varint,           // an unsigned varint longer than its type allows
  unexpected_null,      // a null where the field is not nullable at this version
  unknown_api_key,      // an api key this codec does not describe
  unsupported_version,  // an api version outside the range this codec describes
  too_many_elements,    // the arrays of one message hold more elements than decode_limits allows
  bad_tagged_field,     // a known tagged field whose value does not fill its declared size exactly
  frame_too_large,      // a frame size prefix above the configured maximum
  bad_frame_size,       // a negative frame size prefix
};

inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

// Translates the byte reader's errors (bytes::errc) into this subsystem's; other codes pass through.
std::error_code from_bytes_error(std::error_code ec) noexcept;

}  // namespace tributary::kafka::protocol

template <>
struct tributary::errc_info<tributary::kafka::protocol::errc> {
  static constexpr const char* name = "kafka.protocol";
  static const char* message(tributary::kafka::protocol::errc e) noexcept;
};

template <>
struct std::is_error_code_enum<tributary::kafka::protocol::errc> : std::true_type {};
