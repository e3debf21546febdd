// libFuzzer target: the Kafka request decoder (common/kafka/protocol). Seeds: request frames captured
// from librdkafka and kafka-python (tests/unit/kafka_protocol/capture_requests.py), plus
// generated_*.bin, one frame per API at its highest version with random fields (from the codec's
// own encoder), so that flexible versions and tagged fields are reached from the start.
// Properties: any input decodes or fails cleanly; a failure carries the request id exactly when the
// frame holds its 8 fixed bytes; the ApiVersions fallback answer decodes; a decoded request
// re-encodes to a frame that decodes to an equal request and re-encodes to the same bytes.
#include <cstddef>
#include <cstdint>

#include "common/assert.h"
#include "common/kafka/protocol/protocol.h"

using namespace tributary::kafka::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const tributary::byte_span frame(data, size);
  // A small element budget keeps memory per input bounded (the limit itself is under test too).
  const decode_limits limits{10'000};
  auto req = decode_request(frame, limits);
  if (!req) {
    TRIB_ASSERT(req.error().error.category() == std::error_code(errc::truncated).category());
    TRIB_ASSERT(req.error().id.has_value() == (size >= 8));
    if (is_api_versions_fallback(req.error())) {
      const auto answer = encode_api_versions_fallback(req.error().id->correlation_id);
      auto decoded = decode_response(api_key::api_versions, 0, tributary::byte_span(answer).subspan(4));
      TRIB_ASSERT(decoded && decoded->correlation_id == req.error().id->correlation_id);
    }
    return 0;
  }
  const auto encoded = encode_request(*req);
  auto again = decode_request(tributary::byte_span(encoded).subspan(k_frame_size_bytes), limits);
  TRIB_ASSERT(again.has_value(), "a re-encoded request does not decode");
  TRIB_ASSERT(*again == *req, "a re-encoded request decodes to another request");
  TRIB_ASSERT(encode_request(*again) == encoded, "re-encoding is not stable");
  return 0;
}
