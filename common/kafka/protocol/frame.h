#pragma once
// Kafka framing: every request and response travels as an int32 size, then that many bytes.
#include <cstddef>
#include <optional>

#include "common/bytes.h"
#include "common/kafka/protocol/errc.h"
#include "common/result.h"

namespace tributary::kafka::protocol {

inline constexpr size_t k_frame_size_bytes = 4;

// Default largest frame a connection accepts, as Kafka's socket.request.max.bytes (100 MiB). The
// broker's config narrows it; beyond it a peer is broken or hostile and the connection is closed.
inline constexpr size_t k_default_max_frame_bytes = 100 * 1024 * 1024;

// The first complete frame in `buffered` (the bytes received so far on a connection): its payload
// without the size prefix, or nullopt while it is incomplete. The caller then drops
// k_frame_size_bytes + payload.size() bytes. A negative size (bad_frame_size) or one above
// max_frame_bytes (frame_too_large) can never become a frame: close the connection.
result<std::optional<byte_span>> next_frame(byte_span buffered,
                                            size_t max_frame_bytes = k_default_max_frame_bytes);

}  // namespace tributary::kafka::protocol
