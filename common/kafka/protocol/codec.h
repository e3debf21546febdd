#pragma once
// Decoding, encoding and sizing of message bodies, derived from their descriptions (schema.h).
// Pure: bytes in, structs out, and back. The framing and headers around a body are in request.h
// and response.h.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/bytes.h"
#include "common/kafka/protocol/errc.h"
#include "common/kafka/protocol/messages.h"
#include "common/result.h"

namespace tributary::kafka::protocol {

// Default for decode_limits::max_array_elements. Each decoded element costs tens of bytes of memory
// while it may take a single byte on the wire, so the element count is bounded on its own, not
// only through the frame size. A million covers any real request (one element per partition).
inline constexpr uint32_t k_default_max_array_elements = 1'000'000;

struct decode_limits {
  // Total number of array elements (all arrays, all nesting levels) in one message.
  uint32_t max_array_elements = k_default_max_array_elements;
};

// Decodes one body of message type T at `version` from r, leaving r after it. Errors are
// protocol::errc values. `version` must be one T describes (checked by the caller; asserted).
// Records fields borrow from r's underlying bytes.
template <message T>
result<T> decode_body(byte_reader& r, int16_t version, const decode_limits& limits = {});

// Appends the body of m at `version`. Values a version cannot carry are programming errors and
// abort (TRIB_ASSERT): a null where the field is not nullable, a string longer than 32767 bytes in
// a classic version. Fields absent from `version` are left out, whatever their value.
template <message T>
void encode_body(byte_writer& out, const T& m, int16_t version);

// The exact number of bytes encode_body writes.
template <message T>
size_t body_size(const T& m, int16_t version);

// Every field by name, for logs and test failures: {name=value, list=[...], ...}.
template <message T>
std::string debug_string(const T& m);

// Skips a tagged-field section (uvarint count, then tag/size/data entries).
result<void> skip_tagged_fields(byte_reader& r);

}  // namespace tributary::kafka::protocol
