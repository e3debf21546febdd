#pragma once
// Bounds-checked big-endian byte reader and writer with the encodings of the Kafka protocol:
// fixed-width integers, zigzag varint/varlong (records), unsigned varint (KIP-482 flexible versions),
// (compact) (nullable) strings and bytes. Reading past the end returns an error, never UB; the reader
// never allocates and returns views into the input.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tributary {

using byte_span = std::span<const uint8_t>;

namespace bytes {
enum class errc {
  end_of_input = 1,  // a read needs more bytes than remain
  bad_varint,        // a varint longer than its type allows
  bad_length,        // a length prefix that is negative (and not the null marker) or absurd
  null_not_allowed,  // a null where the field is not nullable
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }
}  // namespace bytes

template <>
struct errc_info<bytes::errc> {
  static constexpr const char* name = "bytes";
  static const char* message(bytes::errc e) noexcept;
};

}  // namespace tributary

template <>
struct std::is_error_code_enum<tributary::bytes::errc> : std::true_type {};

namespace tributary {

// Zigzag mapping as used by Kafka records (protobuf sint32/sint64).
constexpr uint32_t zigzag_encode32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}
constexpr uint64_t zigzag_encode64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
constexpr int32_t zigzag_decode32(uint32_t v) { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
constexpr int64_t zigzag_decode64(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Encoded size of an unsigned varint / a zigzag varint.
constexpr size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
constexpr size_t varint_size(int64_t v) { return uvarint_size(zigzag_encode64(v)); }

class byte_reader {
 public:
  byte_reader() = default;
  explicit byte_reader(byte_span data) : data_(data) {}
  byte_reader(const uint8_t* p, size_t n) : data_(p, n) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool empty() const { return pos_ == data_.size(); }
  byte_span rest() const { return data_.subspan(pos_); }
  byte_span whole() const { return data_; }

  result<uint8_t> read_u8() {
    if (pos_ >= data_.size()) return end_of_input();
    return data_[pos_++];
  }
  result<int8_t> read_i8();
  result<uint16_t> read_u16();
  result<int16_t> read_i16();
  result<uint32_t> read_u32();
  result<int32_t> read_i32();
  result<uint64_t> read_u64();
  result<int64_t> read_i64();
  result<double> read_f64();

  result<int32_t> read_varint();    // zigzag, at most 5 bytes
  result<int64_t> read_varlong() {  // zigzag, at most 10 bytes
    auto v = read_uvarlong();
    if (!v) return fail(v.error());
    return zigzag_decode64(*v);
  }
  result<uint32_t> read_uvarint();    // unsigned, at most 5 bytes
  result<uint64_t> read_uvarlong() {  // unsigned, at most 10 bytes
    // A value under 128 (most lengths and counts) is one byte: no loop, no call.
    if (pos_ < data_.size() && data_[pos_] < 0x80) return uint64_t{data_[pos_++]};
    return read_uvarlong_long();
  }

  result<byte_span> read_span(size_t n) {
    if (remaining() < n) return end_of_input();
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  result<void> skip(size_t n);
  // A reader over the next n bytes; this reader moves past them.
  result<byte_reader> sub_reader(size_t n);

  // Kafka STRING / NULLABLE_STRING: int16 length, -1 = null.
  result<std::string_view> read_string();
  result<std::optional<std::string_view>> read_nullable_string();
  // Kafka COMPACT_STRING / COMPACT_NULLABLE_STRING: uvarint length+1, 0 = null.
  result<std::string_view> read_compact_string();
  result<std::optional<std::string_view>> read_compact_nullable_string();
  // Kafka BYTES / NULLABLE_BYTES: int32 length, -1 = null.
  result<byte_span> read_bytes();
  result<std::optional<byte_span>> read_nullable_bytes();
  // Kafka COMPACT_BYTES / COMPACT_NULLABLE_BYTES.
  result<byte_span> read_compact_bytes();
  result<std::optional<byte_span>> read_compact_nullable_bytes();
  // Array lengths: int32 (-1 = null) and compact uvarint (0 = null). A null array is returned as
  // nullopt. A count larger than the remaining bytes could ever hold (min_element_bytes each) is
  // rejected as bad_length, so callers can reserve safely.
  result<std::optional<uint32_t>> read_array_length(size_t min_element_bytes = 1);
  result<std::optional<uint32_t>> read_compact_array_length(size_t min_element_bytes = 1);

 private:
  template <class T>
  result<T> read_be();
  result<uint64_t> read_uvarlong_long();  // the general case of read_uvarlong
  static tl::unexpected<std::error_code> end_of_input();

  byte_span data_{};
  size_t pos_ = 0;
};

// Appends to a growable buffer. Writes cannot fail; lengths that a Kafka field cannot hold are
// programming errors (TRIB_ASSERT): callers validate user input before encoding it.
class byte_writer {
 public:
  byte_writer() = default;
  explicit byte_writer(std::vector<uint8_t> buf) : buf_(std::move(buf)) {}

  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  std::vector<uint8_t> take() { return std::move(buf_); }
  byte_span view() const { return buf_; }
  void reserve(size_t n) { buf_.reserve(n); }

  void write_u8(uint8_t v) { buf_.push_back(v); }
  void write_i8(int8_t v) { buf_.push_back(static_cast<uint8_t>(v)); }
  void write_u16(uint16_t v);
  void write_i16(int16_t v) { write_u16(static_cast<uint16_t>(v)); }
  void write_u32(uint32_t v);
  void write_i32(int32_t v) { write_u32(static_cast<uint32_t>(v)); }
  void write_u64(uint64_t v);
  void write_i64(int64_t v) { write_u64(static_cast<uint64_t>(v)); }
  void write_f64(double v);

  void write_varint(int32_t v) { write_uvarlong(zigzag_encode32(v)); }
  void write_varlong(int64_t v) { write_uvarlong(zigzag_encode64(v)); }
  void write_uvarint(uint32_t v) { write_uvarlong(v); }
  void write_uvarlong(uint64_t v);

  void write_raw(byte_span s) { buf_.insert(buf_.end(), s.begin(), s.end()); }
  void write_raw(std::string_view s) { buf_.insert(buf_.end(), s.begin(), s.end()); }

  void write_string(std::string_view s);
  void write_nullable_string(std::optional<std::string_view> s);
  void write_compact_string(std::string_view s);
  void write_compact_nullable_string(std::optional<std::string_view> s);
  void write_bytes(byte_span b);
  void write_nullable_bytes(std::optional<byte_span> b);
  void write_compact_bytes(byte_span b);
  void write_compact_nullable_bytes(std::optional<byte_span> b);
  void write_array_length(std::optional<uint32_t> n);          // int32, nullopt = -1
  void write_compact_array_length(std::optional<uint32_t> n);  // uvarint n+1, nullopt = 0

  // Reserve `n` bytes now and fill them later (e.g. a length or CRC known only at the end).
  size_t reserve_bytes(size_t n);
  void patch_u32(size_t at, uint32_t v);
  void patch_i32(size_t at, int32_t v) { patch_u32(at, static_cast<uint32_t>(v)); }
  void patch_u16(size_t at, uint16_t v);

 private:
  std::vector<uint8_t> buf_;
};

// Helpers for fixed-width big-endian access to raw memory whose size the caller has checked.
inline uint32_t load_be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}
inline uint64_t load_be64(const uint8_t* p) { return (uint64_t{load_be32(p)} << 32) | load_be32(p + 4); }
inline void store_be64(uint8_t* p, uint64_t v) {
  store_be32(p, static_cast<uint32_t>(v >> 32));
  store_be32(p + 4, static_cast<uint32_t>(v));
}
inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

inline byte_span as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_string_view(byte_span s) {
  return {reinterpret_cast<const char*>(s.data()), s.size()};
}

}  // namespace tributary
