#include "common/mqtt/wire.h"

#include "common/assert.h"
#include "common/mqtt/utf8.h"

namespace tributary::mqtt::wire {

result<varint_read> read_varint(byte_span in) noexcept {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) {
    if (i >= in.size()) return varint_read{};  // need more bytes
    const uint8_t b = in[i];
    value |= uint32_t{b & 0x7Fu} << (7 * i);
    if ((b & 0x80) == 0) {
      // A final byte of 0 after others means a shorter encoding existed: [MQTT-1.5.5-1].
      if (i > 0 && b == 0) return fail(errc::bad_varint);
      return varint_read{value, i + 1};
    }
  }
  return fail(errc::bad_varint);  // a fifth byte would be needed
}

result<uint8_t> field_reader::u8() {
  if (remaining() < 1) return fail(errc::truncated);
  return data_[pos_++];
}

result<uint16_t> field_reader::u16() {
  if (remaining() < 2) return fail(errc::truncated);
  const uint16_t v = load_be16(data_.data() + pos_);
  pos_ += 2;
  return v;
}

result<uint32_t> field_reader::u32() {
  if (remaining() < 4) return fail(errc::truncated);
  const uint32_t v = load_be32(data_.data() + pos_);
  pos_ += 4;
  return v;
}

result<uint32_t> field_reader::varint() {
  const varint_read v = TRIB_TRY(read_varint(data_.subspan(pos_)));
  if (v.length == 0) return fail(errc::truncated);
  pos_ += v.length;
  return v.value;
}

result<byte_span> field_reader::span(size_t n) {
  if (remaining() < n) return fail(errc::truncated);
  const byte_span s = data_.subspan(pos_, n);
  pos_ += n;
  return s;
}

result<std::string_view> field_reader::utf8_string() {
  const uint16_t n = TRIB_TRY(u16());
  const std::string_view s = as_string_view(TRIB_TRY(span(n)));
  TRIB_TRY_VOID(validate_utf8_string(s));
  return s;
}

result<bytes_view> field_reader::binary() {
  const uint16_t n = TRIB_TRY(u16());
  return bytes_view(TRIB_TRY(span(n)));
}

byte_span field_reader::rest() {
  const byte_span s = data_.subspan(pos_);
  pos_ = data_.size();
  return s;
}

void field_writer::u8(uint8_t v) {
  if (out_) out_->write_u8(v);
  size_ += 1;
}

void field_writer::u16(uint16_t v) {
  if (out_) out_->write_u16(v);
  size_ += 2;
}

void field_writer::u32(uint32_t v) {
  if (out_) out_->write_u32(v);
  size_ += 4;
}

void field_writer::varint(uint32_t v) {
  TRIB_ASSERT(v <= max_variable_byte_integer, "variable byte integer out of range");
  const size_t n = varint_size(v);
  if (out_) {
    for (size_t i = 0; i < n; ++i) {
      const uint8_t digit = static_cast<uint8_t>(v & 0x7F);
      v >>= 7;
      out_->write_u8(v > 0 ? digit | 0x80 : digit);
    }
    TRIB_ASSERT(v == 0);
  }
  size_ += n;
}

void field_writer::raw(byte_span s) {
  if (out_) out_->write_raw(s);
  size_ += s.size();
}

void field_writer::utf8_string(std::string_view s) {
  TRIB_ASSERT(s.size() <= max_string_bytes, "UTF-8 string longer than 65535 bytes");
  u16(static_cast<uint16_t>(s.size()));
  raw(as_bytes(s));
}

void field_writer::binary(byte_span s) {
  TRIB_ASSERT(s.size() <= max_string_bytes, "binary data longer than 65535 bytes");
  u16(static_cast<uint16_t>(s.size()));
  raw(s);
}

}  // namespace tributary::mqtt::wire
