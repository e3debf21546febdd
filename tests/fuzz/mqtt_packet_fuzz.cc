// libFuzzer target for the MQTT codec (common/mqtt): framing, decoding under both protocol
// versions, and re-encoding of whatever decodes.
//
// Input: one options byte, then a byte stream as a connection would receive it.
//   options bit 0: 1 = the session speaks MQTT 5.0, 0 = 3.1.1 (every packet is also decoded under
//                  the other version);
//   options bit 7: a 64-byte maximum packet size instead of 1 MiB, so packet_too_large is reached.
// Properties checked (a violation aborts through TRIB_ASSERT):
//   - frame_length never claims more than the maximum, and 0 only when the header is incomplete;
//   - decode succeeds or fails with an mqtt::errc, never crashes, over-reads or leaks;
//   - a decoded packet encodes to exactly encoded_size bytes, which frame as one packet and decode
//     to an equal packet, and that encoding is a fixed point (encoding the second decode gives the
//     same bytes).
// Seeds: tests/fuzz/corpus/mqtt_packet/, written by tests/unit/mqtt/capture_fixtures.py from
// traffic between real clients (mosquitto_pub/sub, paho) and a real broker (mosquitto), plus
// hand_* seeds, written by hand, for what no captured client sends (AUTH, enhanced authentication).
#include <cstddef>
#include <cstdint>

#include "common/assert.h"
#include "common/mqtt/codec.h"

namespace {

using namespace tributary;
using namespace tributary::mqtt;

void check_packet(byte_span frame, protocol_version version, size_t max_packet_size) {
  auto decoded = decode(frame, version);
  if (!decoded) {
    TRIB_ASSERT(decoded.error().category() == std::error_code(errc::truncated).category(), "non-mqtt error");
    TRIB_ASSERT(is_failure(to_reason_code(decoded.error())));
    return;
  }
  const std::vector<uint8_t> bytes = encode(*decoded, version);
  TRIB_ASSERT(bytes.size() == encoded_size(*decoded, version), "encoded_size disagrees with encode");
  TRIB_ASSERT(bytes.size() <= frame.size(), "the canonical encoding is never longer than the input");
  auto framed = frame_length(bytes, max_packet_size);
  TRIB_ASSERT(framed && *framed == bytes.size(), "re-encoded packet does not frame as one packet");
  auto again = decode(bytes, version);
  TRIB_ASSERT(again.has_value(), "re-encoded packet does not decode");
  TRIB_ASSERT(*again == *decoded, "re-encoded packet decodes to a different packet");
  TRIB_ASSERT(encode(*again, version) == bytes, "encoding is not a fixed point");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const protocol_version version = (data[0] & 0x01) ? protocol_version::v5 : protocol_version::v311;
  const protocol_version other =
      version == protocol_version::v5 ? protocol_version::v311 : protocol_version::v5;
  const size_t max_packet_size = (data[0] & 0x80) ? 64 : size_t{1} << 20;
  byte_span rest(data + 1, size - 1);

  (void)peek_connect_version(rest);
  while (!rest.empty()) {
    auto n = frame_length(rest, max_packet_size);
    if (!n) {
      TRIB_ASSERT(n.error() == errc::bad_remaining_length || n.error() == errc::packet_too_large);
      break;
    }
    if (*n == 0 || *n > rest.size()) {
      // Incomplete: a decoder handed the partial packet must say so, not guess.
      auto r = decode(rest, version);
      TRIB_ASSERT(!r && (r.error() == errc::truncated), "a partial packet decoded");
      break;
    }
    TRIB_ASSERT(*n <= max_packet_size && *n >= 2);
    const byte_span frame = rest.first(*n);
    check_packet(frame, version, max_packet_size_limit);
    check_packet(frame, other, max_packet_size_limit);
    (void)peek_connect_version(frame);
    rest = rest.subspan(*n);
  }
  return 0;
}
