#pragma once
// Responses: the encoder a broker answers with (size prefix, response header v0/v1, body) and the
// decoder a client (or a test) reads them with.
#include <vector>

#include "common/assert.h"
#include "common/kafka/protocol/codec.h"

namespace tributary::kafka::protocol {

struct response {
  int32_t correlation_id = 0;
  response_body body;
  bool operator==(const response&) const = default;
};

namespace detail {
// Appends the size prefix and the response header for a body of body_bytes bytes.
void write_response_prefix(byte_writer& out, const api_info& api, int16_t version, int32_t correlation_id,
                           size_t body_bytes);
}  // namespace detail

// Appends the frame answering request `correlation_id` with `body` at `version` (a version the
// API describes: asserted). The header is v1 for flexible versions, v0 otherwise and always for
// ApiVersions. The bytes are sized first and written into one reservation.
template <message R>
void encode_response(byte_writer& out, int32_t correlation_id, int16_t version, const R& body) {
  const size_t body_bytes = body_size(body, version);
  detail::write_response_prefix(out, R::api, version, correlation_id, body_bytes);
  const size_t body_start = out.size();
  encode_body(out, body, version);
  TRIB_ASSERT(out.size() - body_start == body_bytes, "encoded body differs from its computed size");
}

void encode_response(byte_writer& out, int32_t correlation_id, int16_t version, const response_body& body);

template <class R>
std::vector<uint8_t> encode_response(int32_t correlation_id, int16_t version, const R& body) {
  byte_writer out;
  encode_response(out, correlation_id, version, body);
  return out.take();
}

// Decodes one response frame (the bytes after the size prefix) of API `key` at `version`: the
// response header carries neither, the client remembers what it asked. Errors as decode_request's.
result<response> decode_response(api_key key, int16_t version, byte_span frame,
                                 const decode_limits& limits = {});

// The answer to an ApiVersions request of a version we do not describe, as Kafka brokers give it:
// a v0 body with UNSUPPORTED_VERSION and one entry, ApiVersions itself with [min_version,
// max_version], behind a v0 response header. librdkafka then retries with v0, the Java client with
// max_version.
std::vector<uint8_t> encode_api_versions_fallback(int32_t correlation_id,
                                                  int16_t min_version = api_versions_api.min_version,
                                                  int16_t max_version = api_versions_api.max_version);

}  // namespace tributary::kafka::protocol
