#pragma once
// The MQTT packet codec: framing, decoding and encoding of every packet type of 3.1.1 and 5.0.
// Pure: bytes in, packets out and back; no I/O, no clocks, no allocation beyond the vectors of a
// decoded packet (user properties, subscription identifiers, subscriptions, reason codes), whose
// sizes the packet size bounds: the maximum packet size given to frame_length is the limit.
//
//   // Per connection: cut packets out of the received bytes, then decode each.
//   size_t n = TRIB_TRY(mqtt::frame_length(buffered, max_packet_size));
//   if (n == 0 || buffered.size() < n) return;  // wait for more bytes
//   mqtt::packet p = TRIB_TRY(mqtt::decode(buffered.first(n), session_version));
//
// The first packet of a connection is a CONNECT, which carries its protocol version; every later
// packet is decoded with that version. When a CONNECT fails to decode, peek_connect_version tells
// which CONNACK format the answer takes, and to_reason_code / to_connect_return_code (errc.h) what
// it says.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "common/bytes.h"
#include "common/mqtt/errc.h"
#include "common/mqtt/packet.h"
#include "common/result.h"

namespace tributary::mqtt {

// The length of the next packet in `buffered` (first byte + Remaining Length bytes + Remaining
// Length), or 0 while more bytes are needed to know it. Only the fixed header is examined; the
// packet's bytes need not all be there. Errors: errc::bad_remaining_length (more than 4 length
// bytes, or a length not in its shortest form), errc::packet_too_large (the packet would exceed
// max_packet_size bytes; checked as soon as the length is known, before the body arrives).
result<size_t> frame_length(byte_span buffered, size_t max_packet_size) noexcept;

// Decodes one whole packet (as frame_length delimited it: `frame` must hold exactly one packet).
// `version` is the session's protocol version; a CONNECT is decoded by its own protocol level and
// ignores it. The result borrows from `frame`. Errors: any mqtt::errc.
result<packet> decode(byte_span frame, protocol_version version);

// For a frame whose first byte says CONNECT: the protocol version its protocol level names, if it
// is one we speak, even when the rest of the packet is bad. nullopt otherwise.
std::optional<protocol_version> peek_connect_version(byte_span frame) noexcept;

// Appends the encoding of `p` to `out`. A CONNECT is encoded in its own `version`; other packets
// in `version` (5.0-only fields are left out under 3.1.1; AUTH cannot be encoded under 3.1.1).
// Encoding does not fail: the packet must be valid (non-zero packet identifiers where required,
// strings of at most 65,535 bytes, reason codes and properties the packet type allows, at least
// one subscription, ...); a violated precondition is a TRIB_ASSERT. String contents are not
// re-validated: build packets from validated text.
template <packet_struct P>
void encode(const P& p, protocol_version version, byte_writer& out);
void encode(const packet& p, protocol_version version, byte_writer& out);
std::vector<uint8_t> encode(const packet& p, protocol_version version);

// The number of bytes encode would append (to compare with a peer's maximum packet size).
template <packet_struct P>
size_t encoded_size(const P& p, protocol_version version);
size_t encoded_size(const packet& p, protocol_version version);

}  // namespace tributary::mqtt
