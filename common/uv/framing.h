#pragma once
// Framing for uv::tcp_connection: a frame function looks at the bytes buffered for the current
// frame and says whether a whole frame is there, how long it is, or that the stream is malformed.
// Pure functions, no I/O; they let one connection class serve Kafka (i32 length prefix), MQTT
// (fixed header + remaining-length varint), cluster RPC and HTTP (a stateful request parser).
//
// Contract of a frame function, as tcp_connection calls it:
//  - `buffered` starts at the first byte of the current frame and is never empty;
//  - the same frame may be presented again with more bytes appended (the storage may have moved, the
//    bytes seen before have not changed), so a stateful function can resume where it stopped;
//  - after complete(n) the next call starts a new frame at what was byte n.
// need_more(total) with a known total lets the connection refuse a frame over max_frame_bytes
// before buffering it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <system_error>

#include "common/bytes.h"
#include "common/uv/error.h"

namespace tributary::uv {

struct frame_status {
  enum class kind : uint8_t { need_more, complete, invalid };
  kind k = kind::need_more;
  size_t length = 0;      // complete: frame length; need_more: whole frame length if known, else 0
  std::error_code error;  // invalid: why

  static frame_status need_more(size_t total_if_known = 0) { return {kind::need_more, total_if_known, {}}; }
  static frame_status complete(size_t length) { return {kind::complete, length, {}}; }
  static frame_status invalid(std::error_code ec = errc::bad_frame) { return {kind::invalid, 0, ec}; }
};

using frame_fn = std::function<frame_status(byte_span buffered)>;

// Kafka and cluster RPC: a big-endian int32 length, then that many bytes. The frame includes the
// 4-byte prefix. A negative length is bad_frame.
frame_status frame_i32_length_prefix(byte_span buffered);

// MQTT: one fixed-header byte, then the remaining length as a variable byte integer of 1 to 4 bytes
// (at most 268,435,455), then that many bytes. A fifth length byte or a non-minimal encoding (a
// final 0x00 after continuation bytes) is bad_frame.
frame_status frame_mqtt(byte_span buffered);

// Everything buffered is one "frame" (a raw byte stream, e.g. for test clients).
frame_status frame_stream(byte_span buffered);

}  // namespace tributary::uv
