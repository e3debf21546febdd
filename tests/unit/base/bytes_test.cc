#include "common/bytes.h"

#include <doctest/doctest.h>

#include <limits>
#include <random>

using namespace tributary;

namespace {
std::vector<uint8_t> v(std::initializer_list<int> xs) {
  std::vector<uint8_t> out;
  for (int x : xs) out.push_back(static_cast<uint8_t>(x));
  return out;
}
}  // namespace

TEST_CASE("big-endian integers round-trip and read past the end is an error") {
  byte_writer w;
  w.write_i8(-2);
  w.write_i16(-12345);
  w.write_u16(0xBEEF);
  w.write_i32(-7);
  w.write_u32(0xDEADBEEF);
  w.write_i64(std::numeric_limits<int64_t>::min());
  w.write_u64(0x0102030405060708ull);
  w.write_f64(3.25);
  auto buf = w.take();
  CHECK(buf.size() == 1 + 2 + 2 + 4 + 4 + 8 + 8 + 8);
  // Big-endian on the wire.
  CHECK(buf[3] == 0xBE);
  CHECK(buf[4] == 0xEF);

  byte_reader r(buf);
  CHECK(*r.read_i8() == -2);
  CHECK(*r.read_i16() == -12345);
  CHECK(*r.read_u16() == 0xBEEF);
  CHECK(*r.read_i32() == -7);
  CHECK(*r.read_u32() == 0xDEADBEEF);
  CHECK(*r.read_i64() == std::numeric_limits<int64_t>::min());
  CHECK(*r.read_u64() == 0x0102030405060708ull);
  CHECK(*r.read_f64() == 3.25);
  CHECK(r.empty());
  auto e = r.read_u8();
  REQUIRE_FALSE(e);
  CHECK(e.error() == bytes::errc::end_of_input);

  byte_reader partial(buf.data(), 3);
  CHECK_FALSE(partial.read_i32());
  CHECK(partial.position() == 0);  // a failed fixed-width read consumes nothing
}

TEST_CASE("unsigned varint: published encodings") {
  // Protobuf / KIP-482 examples.
  struct c {
    uint64_t value;
    std::vector<uint8_t> bytes;
  };
  for (const auto& [value, bytes] : std::vector<c>{{0, v({0x00})},
                                                   {1, v({0x01})},
                                                   {127, v({0x7f})},
                                                   {128, v({0x80, 0x01})},
                                                   {300, v({0xac, 0x02})},
                                                   {16384, v({0x80, 0x80, 0x01})},
                                                   {0xffffffffull, v({0xff, 0xff, 0xff, 0xff, 0x0f})}}) {
    byte_writer w;
    w.write_uvarlong(value);
    CHECK(w.buffer() == bytes);
    CHECK(uvarint_size(value) == bytes.size());
    byte_reader r(bytes);
    CHECK(*r.read_uvarlong() == value);
    if (value <= 0xffffffffull) {
      byte_reader r32(bytes);
      CHECK(*r32.read_uvarint() == value);
    }
  }
}

TEST_CASE("zigzag varint: Kafka/protobuf sint examples") {
  CHECK(zigzag_encode32(0) == 0);
  CHECK(zigzag_encode32(-1) == 1);
  CHECK(zigzag_encode32(1) == 2);
  CHECK(zigzag_encode32(-2) == 3);
  CHECK(zigzag_encode32(2147483647) == 4294967294u);
  CHECK(zigzag_encode32(-2147483648) == 4294967295u);
  CHECK(zigzag_encode64(std::numeric_limits<int64_t>::min()) == std::numeric_limits<uint64_t>::max());
  // -1 as a Kafka varint (null key length) is the single byte 0x01.
  byte_writer w;
  w.write_varint(-1);
  CHECK(w.buffer() == v({0x01}));
  std::mt19937_64 rng(42);
  for (int i = 0; i < 10000; ++i) {
    int64_t x = static_cast<int64_t>(rng());
    int32_t y = static_cast<int32_t>(rng());
    byte_writer ww;
    ww.write_varlong(x);
    ww.write_varint(y);
    byte_reader r(ww.buffer());
    CHECK(*r.read_varlong() == x);
    CHECK(*r.read_varint() == y);
    CHECK(r.empty());
  }
}

TEST_CASE("malformed varints are errors") {
  // Too long for 32 bits.
  auto six = v({0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
  byte_reader r(six);
  CHECK(r.read_uvarint().error() == bytes::errc::bad_varint);
  // 5th byte with bits above 32.
  auto overflow32 = v({0xff, 0xff, 0xff, 0xff, 0x1f});
  byte_reader r2(overflow32);
  CHECK(r2.read_varint().error() == bytes::errc::bad_varint);
  // 11 bytes for a varlong.
  std::vector<uint8_t> eleven(10, 0x80);
  eleven.push_back(0x01);
  byte_reader r3(eleven);
  CHECK(r3.read_varlong().error() == bytes::errc::bad_varint);
  // 10th byte > 1 overflows 64 bits.
  std::vector<uint8_t> ten(9, 0xff);
  ten.push_back(0x02);
  byte_reader r4(ten);
  CHECK(r4.read_uvarlong().error() == bytes::errc::bad_varint);
  // Truncated.
  auto cut = v({0x80, 0x80});
  byte_reader r5(cut);
  CHECK(r5.read_varlong().error() == bytes::errc::end_of_input);
}

TEST_CASE("strings and bytes, classic and compact, nullable") {
  byte_writer w;
  w.write_string("kafka");
  w.write_nullable_string(std::nullopt);
  w.write_compact_string("topic");
  w.write_compact_nullable_string(std::nullopt);
  w.write_compact_string("");
  const uint8_t raw[] = {1, 2, 3};
  w.write_bytes(raw);
  w.write_nullable_bytes(std::nullopt);
  w.write_compact_bytes(raw);
  w.write_compact_nullable_bytes(std::nullopt);
  w.write_array_length(2);
  w.write_array_length(std::nullopt);
  w.write_compact_array_length(0);
  w.write_compact_array_length(std::nullopt);

  auto buf = w.take();
  // "kafka" as STRING: 00 05 'k'...
  CHECK(buf[0] == 0);
  CHECK(buf[1] == 5);
  byte_reader r(buf);
  CHECK(*r.read_string() == "kafka");
  CHECK(*r.read_nullable_string() == std::nullopt);
  CHECK(*r.read_compact_string() == "topic");
  CHECK(*r.read_compact_nullable_string() == std::nullopt);
  CHECK(*r.read_compact_string() == "");
  CHECK(r.read_bytes()->size() == 3);
  CHECK_FALSE(r.read_nullable_bytes()->has_value());
  auto cb = *r.read_compact_bytes();
  CHECK(cb.size() == 3);
  CHECK(cb[2] == 3);
  CHECK_FALSE(r.read_compact_nullable_bytes()->has_value());
  CHECK(**r.read_array_length(0) == 2);
  CHECK_FALSE(r.read_array_length()->has_value());
  CHECK(**r.read_compact_array_length() == 0);
  CHECK_FALSE(r.read_compact_array_length()->has_value());
  CHECK(r.empty());
}

TEST_CASE("bad lengths: null where required, negative, longer than the input") {
  auto null_string = v({0xff, 0xff});
  byte_reader r1(null_string);
  CHECK(r1.read_string().error() == bytes::errc::null_not_allowed);
  auto neg = v({0xff, 0xfe});
  byte_reader r2(neg);
  CHECK(r2.read_nullable_string().error() == bytes::errc::bad_length);
  auto too_long = v({0x00, 0x09, 'a', 'b'});
  byte_reader r3(too_long);
  CHECK(r3.read_string().error() == bytes::errc::end_of_input);
  auto neg_bytes = v({0xff, 0xff, 0xff, 0xfe});
  byte_reader r4(neg_bytes);
  CHECK(r4.read_nullable_bytes().error() == bytes::errc::bad_length);
  auto compact_null = v({0x00});
  byte_reader r5(compact_null);
  CHECK(r5.read_compact_bytes().error() == bytes::errc::null_not_allowed);
  // An array count that the remaining bytes could never hold is rejected before anyone reserves.
  auto huge_array = v({0x7f, 0xff, 0xff, 0xff, 0x00});
  byte_reader r6(huge_array);
  CHECK(r6.read_array_length(4).error() == bytes::errc::bad_length);
  auto huge_compact = v({0xff, 0xff, 0xff, 0xff, 0x0f});
  byte_reader r7(huge_compact);
  CHECK(r7.read_compact_array_length(1).error() == bytes::errc::bad_length);
}

TEST_CASE("patching reserved bytes and sub readers") {
  byte_writer w;
  size_t at = w.reserve_bytes(4);
  w.write_string("abc");
  w.patch_i32(at, static_cast<int32_t>(w.size() - 4));
  byte_reader r(w.buffer());
  int32_t len = *r.read_i32();
  CHECK(len == 5);
  auto sub = *r.sub_reader(static_cast<size_t>(len));
  CHECK(*sub.read_string() == "abc");
  CHECK(r.empty());
  CHECK_FALSE(r.sub_reader(1));
}

TEST_CASE("error codes carry the bytes category and a message") {
  std::error_code ec = bytes::errc::bad_varint;
  CHECK(std::string(ec.category().name()) == "bytes");
  CHECK(ec.message() == "varint too long");
}
