#pragma once
// Requests: the header (v1/v2) and the top-level decoder a broker feeds each frame to, and the
// encoder a client (or a test) uses.
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <tl/expected.hpp>

#include "common/kafka/protocol/codec.h"

namespace tributary::kafka::protocol {

// The fixed start of every request header, whatever its version: enough to route an answer.
struct request_id {
  api_key key{};
  int16_t version = 0;
  int32_t correlation_id = 0;
  bool operator==(const request_id&) const = default;
};

// Request header v1 (classic versions) or v2 (flexible versions: v1 + tagged fields, none known).
// client_id keeps its classic int16 length in v2.
struct request_header {
  api_key key{};
  int16_t version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;

  request_id id() const { return {key, version, correlation_id}; }
  bool operator==(const request_header&) const = default;
};

struct request {
  request_header header;
  request_body body;  // the alternative of header.key
  bool operator==(const request&) const = default;
};

// Why a frame is not a request, and what of it could be read.
struct request_error {
  std::error_code error;         // a protocol::errc
  std::optional<request_id> id;  // set once the frame held the 8 fixed header bytes
};

// Decodes one request frame (the bytes after the size prefix). On failure the error says why and,
// whenever the frame held them, carries the api key, version and correlation id, so that the
// broker can still answer (see is_api_versions_fallback). Records in the result borrow from
// `frame`.
//   truncated            the frame ends inside the header or the body
//   unknown_api_key      an API this codec does not describe (id set)
//   unsupported_version  a version outside the API's described range (id set)
//   bad_length, bad_varint, unexpected_null, too_many_elements, bad_tagged_field: a bad body
//   trailing_bytes       bytes left after the body
tl::expected<request, request_error> decode_request(byte_span frame, const decode_limits& limits = {});

// Just the fixed 8 bytes (truncated if the frame is shorter).
result<request_id> peek_request_id(byte_span frame);

// An ApiVersions request of a version we do not describe must still be answered, with a v0 body
// (see encode_api_versions_fallback in response.h): clients send their newest version first.
inline bool is_api_versions_fallback(const request_error& e) {
  return e.id && e.id->key == api_key::api_versions && e.error == errc::unsupported_version;
}

// Appends the frame of `req` (size prefix, header v1/v2, body). header.key must name the body's
// API and header.version be described (asserted).
void encode_request(byte_writer& out, const request& req);
std::vector<uint8_t> encode_request(const request& req);

}  // namespace tributary::kafka::protocol
