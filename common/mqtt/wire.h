#pragma once
// Internal to the MQTT codec (not for use outside common/mqtt and its tests): the MQTT data
// representations (spec section 1.5) read from and written to packet bodies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/mqtt/errc.h"
#include "common/mqtt/properties.h"
#include "common/mqtt/types.h"
#include "common/result.h"

namespace tributary::mqtt::wire {

// A Variable Byte Integer at the start of `in`.
struct varint_read {
  uint32_t value = 0;
  size_t length = 0;  // bytes used; 0 if `in` ends before the integer does
};
// Errors: errc::bad_varint (a fifth byte would be needed, or the encoding is longer than the
// value needs: [MQTT-1.5.5-1]).
result<varint_read> read_varint(byte_span in) noexcept;
constexpr size_t varint_size(uint32_t v) noexcept {
  return v < 128 ? 1 : v < 16'384 ? 2 : v < 2'097'152 ? 3 : 4;
}

// Reads the fields of one packet body. Running past the end is errc::truncated.
class field_reader {
 public:
  explicit field_reader(byte_span data) : data_(data) {}

  bool empty() const { return pos_ == data_.size(); }
  size_t remaining() const { return data_.size() - pos_; }

  result<uint8_t> u8();
  result<uint16_t> u16();
  result<uint32_t> u32();
  result<uint32_t> varint();
  result<byte_span> span(size_t n);
  // UTF-8 Encoded String: two-byte length, then text checked with validate_utf8_string.
  result<std::string_view> utf8_string();
  // Binary Data: two-byte length, then bytes.
  result<bytes_view> binary();
  // Everything left (a PUBLISH payload).
  byte_span rest();

 private:
  byte_span data_;
  size_t pos_ = 0;
};

// Writes fields into a byte_writer, or only counts them (null target): encoding runs once to
// measure and once to write, so no body is ever copied.
class field_writer {
 public:
  explicit field_writer(byte_writer* out) : out_(out) {}

  size_t size() const { return size_; }

  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void varint(uint32_t v);
  void raw(byte_span s);
  void utf8_string(std::string_view s);  // asserts s.size() <= 65,535
  void binary(byte_span s);              // asserts s.size() <= 65,535

 private:
  byte_writer* out_;
  size_t size_ = 0;
};

// A property block: Variable Byte Integer length, then properties. Validates as properties.h says.
result<properties> read_properties(field_reader& r, property_context context);
// Writes a property block (a length of 0 for none). Asserts that `p` suits `context`.
void write_properties(field_writer& w, const properties& p, property_context context);

}  // namespace tributary::mqtt::wire
