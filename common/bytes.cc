#include "common/bytes.h"

#include <bit>
#include <cstring>
#include <limits>

#include "common/assert.h"

namespace tributary {

const char* errc_info<bytes::errc>::message(bytes::errc e) noexcept {
  switch (e) {
    case bytes::errc::end_of_input: return "unexpected end of input";
    case bytes::errc::bad_varint: return "varint too long";
    case bytes::errc::bad_length: return "invalid length prefix";
    case bytes::errc::null_not_allowed: return "null where a value is required";
  }
  return "unknown bytes error";
}

template <class T>
result<T> byte_reader::read_be() {
  if (remaining() < sizeof(T)) return fail(bytes::errc::end_of_input);
  using U = std::make_unsigned_t<T>;
  U v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v = static_cast<U>((v << 8) | data_[pos_ + i]);
  pos_ += sizeof(T);
  return static_cast<T>(v);
}

result<int8_t> byte_reader::read_i8() { return read_be<int8_t>(); }
result<uint16_t> byte_reader::read_u16() { return read_be<uint16_t>(); }
result<int16_t> byte_reader::read_i16() { return read_be<int16_t>(); }
result<uint32_t> byte_reader::read_u32() { return read_be<uint32_t>(); }
result<int32_t> byte_reader::read_i32() { return read_be<int32_t>(); }
result<uint64_t> byte_reader::read_u64() { return read_be<uint64_t>(); }
result<int64_t> byte_reader::read_i64() { return read_be<int64_t>(); }
result<double> byte_reader::read_f64() {
  auto v = TRIB_TRY(read_u64());
  return std::bit_cast<double>(v);
}

tl::unexpected<std::error_code> byte_reader::end_of_input() { return fail(bytes::errc::end_of_input); }

result<uint64_t> byte_reader::read_uvarlong_long() {
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) return fail(bytes::errc::end_of_input);
    uint8_t b = data_[pos_++];
    // The 10th byte may only carry the top bit of a 64-bit value.
    if (i == 9 && b > 1) return fail(bytes::errc::bad_varint);
    v |= uint64_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return fail(bytes::errc::bad_varint);
}

result<uint32_t> byte_reader::read_uvarint() {
  uint32_t v = 0;
  for (int i = 0; i < 5; ++i) {
    if (pos_ >= data_.size()) return fail(bytes::errc::end_of_input);
    uint8_t b = data_[pos_++];
    // The 5th byte may only carry the top 4 bits of a 32-bit value.
    if (i == 4 && b > 0x0f) return fail(bytes::errc::bad_varint);
    v |= uint32_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80) == 0) return v;
  }
  return fail(bytes::errc::bad_varint);
}

result<int32_t> byte_reader::read_varint() { return zigzag_decode32(TRIB_TRY(read_uvarint())); }

result<void> byte_reader::skip(size_t n) {
  if (remaining() < n) return fail(bytes::errc::end_of_input);
  pos_ += n;
  return {};
}

result<byte_reader> byte_reader::sub_reader(size_t n) { return byte_reader(TRIB_TRY(read_span(n))); }

result<std::optional<std::string_view>> byte_reader::read_nullable_string() {
  int16_t n = TRIB_TRY(read_i16());
  if (n == -1) return std::optional<std::string_view>{};
  if (n < 0) return fail(bytes::errc::bad_length);
  return as_string_view(TRIB_TRY(read_span(static_cast<size_t>(n))));
}

result<std::string_view> byte_reader::read_string() {
  auto s = TRIB_TRY(read_nullable_string());
  if (!s) return fail(bytes::errc::null_not_allowed);
  return *s;
}

result<std::optional<std::string_view>> byte_reader::read_compact_nullable_string() {
  uint32_t n = TRIB_TRY(read_uvarint());
  if (n == 0) return std::optional<std::string_view>{};
  return as_string_view(TRIB_TRY(read_span(n - 1)));
}

result<std::string_view> byte_reader::read_compact_string() {
  auto s = TRIB_TRY(read_compact_nullable_string());
  if (!s) return fail(bytes::errc::null_not_allowed);
  return *s;
}

result<std::optional<byte_span>> byte_reader::read_nullable_bytes() {
  int32_t n = TRIB_TRY(read_i32());
  if (n == -1) return std::optional<byte_span>{};
  if (n < 0) return fail(bytes::errc::bad_length);
  return TRIB_TRY(read_span(static_cast<size_t>(n)));
}

result<byte_span> byte_reader::read_bytes() {
  auto b = TRIB_TRY(read_nullable_bytes());
  if (!b) return fail(bytes::errc::null_not_allowed);
  return *b;
}

result<std::optional<byte_span>> byte_reader::read_compact_nullable_bytes() {
  uint32_t n = TRIB_TRY(read_uvarint());
  if (n == 0) return std::optional<byte_span>{};
  return TRIB_TRY(read_span(n - 1));
}

result<byte_span> byte_reader::read_compact_bytes() {
  auto b = TRIB_TRY(read_compact_nullable_bytes());
  if (!b) return fail(bytes::errc::null_not_allowed);
  return *b;
}

result<std::optional<uint32_t>> byte_reader::read_array_length(size_t min_element_bytes) {
  int32_t n = TRIB_TRY(read_i32());
  if (n == -1) return std::optional<uint32_t>{};
  if (n < 0) return fail(bytes::errc::bad_length);
  if (min_element_bytes > 0 && static_cast<uint64_t>(n) * min_element_bytes > remaining())
    return fail(bytes::errc::bad_length);
  return static_cast<uint32_t>(n);
}

result<std::optional<uint32_t>> byte_reader::read_compact_array_length(size_t min_element_bytes) {
  uint32_t n = TRIB_TRY(read_uvarint());
  if (n == 0) return std::optional<uint32_t>{};
  uint32_t count = n - 1;
  if (min_element_bytes > 0 && static_cast<uint64_t>(count) * min_element_bytes > remaining())
    return fail(bytes::errc::bad_length);
  return count;
}

void byte_writer::write_u16(uint16_t v) {
  uint8_t b[2];
  store_be16(b, v);
  buf_.insert(buf_.end(), b, b + 2);
}
void byte_writer::write_u32(uint32_t v) {
  uint8_t b[4];
  store_be32(b, v);
  buf_.insert(buf_.end(), b, b + 4);
}
void byte_writer::write_u64(uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  buf_.insert(buf_.end(), b, b + 8);
}
void byte_writer::write_f64(double v) { write_u64(std::bit_cast<uint64_t>(v)); }

void byte_writer::write_uvarlong(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void byte_writer::write_string(std::string_view s) {
  TRIB_ASSERT(s.size() <= static_cast<size_t>(std::numeric_limits<int16_t>::max()),
              "string too long for int16 length");
  write_i16(static_cast<int16_t>(s.size()));
  write_raw(s);
}
void byte_writer::write_nullable_string(std::optional<std::string_view> s) {
  if (!s) return write_i16(-1);
  write_string(*s);
}
void byte_writer::write_compact_string(std::string_view s) {
  TRIB_ASSERT(s.size() < std::numeric_limits<uint32_t>::max());
  write_uvarint(static_cast<uint32_t>(s.size() + 1));
  write_raw(s);
}
void byte_writer::write_compact_nullable_string(std::optional<std::string_view> s) {
  if (!s) return write_uvarint(0);
  write_compact_string(*s);
}
void byte_writer::write_bytes(byte_span b) {
  TRIB_ASSERT(b.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  write_i32(static_cast<int32_t>(b.size()));
  write_raw(b);
}
void byte_writer::write_nullable_bytes(std::optional<byte_span> b) {
  if (!b) return write_i32(-1);
  write_bytes(*b);
}
void byte_writer::write_compact_bytes(byte_span b) {
  TRIB_ASSERT(b.size() < std::numeric_limits<uint32_t>::max());
  write_uvarint(static_cast<uint32_t>(b.size() + 1));
  write_raw(b);
}
void byte_writer::write_compact_nullable_bytes(std::optional<byte_span> b) {
  if (!b) return write_uvarint(0);
  write_compact_bytes(*b);
}
void byte_writer::write_array_length(std::optional<uint32_t> n) {
  if (!n) return write_i32(-1);
  TRIB_ASSERT(*n <= static_cast<uint32_t>(std::numeric_limits<int32_t>::max()));
  write_i32(static_cast<int32_t>(*n));
}
void byte_writer::write_compact_array_length(std::optional<uint32_t> n) {
  if (!n) return write_uvarint(0);
  TRIB_ASSERT(*n < std::numeric_limits<uint32_t>::max());
  write_uvarint(*n + 1);
}

size_t byte_writer::reserve_bytes(size_t n) {
  size_t at = buf_.size();
  buf_.resize(at + n);
  return at;
}
void byte_writer::patch_u32(size_t at, uint32_t v) {
  TRIB_ASSERT(at + 4 <= buf_.size());
  store_be32(buf_.data() + at, v);
}
void byte_writer::patch_u16(size_t at, uint16_t v) {
  TRIB_ASSERT(at + 2 <= buf_.size());
  store_be16(buf_.data() + at, v);
}

}  // namespace tributary
