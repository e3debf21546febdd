#include "common/uv/framing.h"

namespace tributary::uv {

frame_status frame_i32_length_prefix(byte_span buffered) {
  if (buffered.size() < 4) return frame_status::need_more();
  auto length = static_cast<int32_t>(load_be32(buffered.data()));
  if (length < 0) return frame_status::invalid(errc::bad_frame);
  size_t total = 4 + static_cast<size_t>(length);
  if (buffered.size() < total) return frame_status::need_more(total);
  return frame_status::complete(total);
}

frame_status frame_mqtt(byte_span buffered) {
  constexpr size_t max_length_bytes = 4;
  size_t remaining = 0;
  size_t i = 1;
  for (;; ++i) {
    if (i > max_length_bytes) return frame_status::invalid(errc::bad_frame);
    if (buffered.size() <= i) return frame_status::need_more();
    uint8_t b = buffered[i];
    remaining |= static_cast<size_t>(b & 0x7f) << (7 * (i - 1));
    if ((b & 0x80) == 0) {
      if (b == 0 && i > 1) return frame_status::invalid(errc::bad_frame);  // non-minimal
      break;
    }
  }
  size_t total = 1 + i + remaining;
  if (buffered.size() < total) return frame_status::need_more(total);
  return frame_status::complete(total);
}

frame_status frame_stream(byte_span buffered) { return frame_status::complete(buffered.size()); }

}  // namespace tributary::uv
