#include "common/kafka/protocol/frame.h"

namespace tributary::kafka::protocol {

result<std::optional<byte_span>> next_frame(byte_span buffered, size_t max_frame_bytes) {
  if (buffered.size() < k_frame_size_bytes) return std::optional<byte_span>{};
  const auto size = static_cast<int32_t>(load_be32(buffered.data()));
  if (size < 0) return fail(errc::bad_frame_size);
  if (static_cast<size_t>(size) > max_frame_bytes) return fail(errc::frame_too_large);
  if (buffered.size() - k_frame_size_bytes < static_cast<size_t>(size)) return std::optional<byte_span>{};
  return std::optional<byte_span>(buffered.subspan(k_frame_size_bytes, static_cast<size_t>(size)));
}

}  // namespace tributary::kafka::protocol
