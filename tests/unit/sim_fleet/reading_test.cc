#include <doctest/doctest.h>

#include <string>

#include "firmware-sim/core/reading.h"

using namespace tributary;
using namespace tributary::sim;

namespace {

reading sample(uint8_t mask = model_all) {
  reading r;
  r.device_index = 42;
  r.seq = 7;
  r.ts_ms = 1'732'350'000'123;
  r.values.mask = mask;
  r.values.temp_c = 21.375;
  r.values.count = 123456;
  r.values.lat = 48.858370;
  r.values.lon = 2.294481;
  r.values.vib_g = 0.021;
  return r;
}

result<decoded_reading> decode(const std::string& s) { return decode_reading(as_bytes(s)); }

}  // namespace

TEST_CASE("json reading: the documented shape, and it decodes back") {
  std::string out;
  encode_json(sample(), "dev-000042", 0, out);
  CHECK(out == R"({"device":"dev-000042","seq":7,"ts_ms":1732350000123,"temp_c":21.38,"count":123456,)"
               R"("lat":48.858370,"lon":2.294481,"vib_g":0.021})");
  auto d = decode(out);
  REQUIRE(d);
  CHECK(d->format == payload_format::json);
  CHECK(d->device == "dev-000042");
  CHECK(d->seq == 7);
  CHECK(d->ts_ms == 1'732'350'000'123);
  CHECK(d->values.mask == model_all);
  CHECK(d->values.count == 123456);
  CHECK(d->values.lat == doctest::Approx(48.85837));
}

TEST_CASE("json reading: only the device's models appear") {
  std::string out;
  encode_json(sample(model_counter), "d1", 0, out);
  CHECK(out == R"({"device":"d1","seq":7,"ts_ms":1732350000123,"count":123456})");
  auto d = decode(out);
  REQUIRE(d);
  CHECK(d->values.mask == model_counter);
}

TEST_CASE("json reading: padded to exactly the requested size") {
  std::string out;
  encode_json(sample(0), "d1", 0, out);
  const size_t natural = out.size();
  for (size_t want : {size_t{0}, natural - 1, natural, natural + 1, natural + 5, natural + 9, natural + 10,
                      natural + 11, size_t{256}, size_t{4096}}) {
    encode_json(sample(0), "d1", want, out);
    CHECK(out.size() == std::max(want, natural));
    auto d = decode(out);
    REQUIRE(d);
    CHECK(d->seq == 7);
  }
  encode_json(sample(0), "d1", payload_bytes_max, out);
  CHECK(out.size() == payload_bytes_max);
  CHECK(decode(out));
}

TEST_CASE("binary reading: fixed header, model fields, zero padding") {
  std::string out;
  encode_binary(sample(), 0, out);
  REQUIRE(out.size() == binary_header_bytes + 5 * 8);
  const auto* p = reinterpret_cast<const uint8_t*>(out.data());
  CHECK(load_be32(p) == 0x54524942);
  CHECK(out.substr(0, 4) == "TRIB");
  CHECK(p[4] == 1);
  CHECK(p[5] == model_all);
  CHECK(load_be16(p + 6) == 0);
  CHECK(load_be32(p + 8) == 42);
  CHECK(load_be64(p + 12) == 7);
  CHECK(load_be64(p + 20) == 1'732'350'000'123ULL);
  auto d = decode(out);
  REQUIRE(d);
  CHECK(d->format == payload_format::binary);
  CHECK(d->device_index == 42);
  CHECK(d->device.empty());
  CHECK(d->seq == 7);
  CHECK(d->values.temp_c == 21.375);
  CHECK(d->values.vib_g == 0.021);

  encode_binary(sample(model_counter), 100, out);
  CHECK(out.size() == 100);
  CHECK(out.substr(binary_header_bytes + 8) == std::string(100 - binary_header_bytes - 8, '\0'));
  d = decode(out);
  REQUIRE(d);
  CHECK(d->values.count == 123456);
}

TEST_CASE("binary reading: decoding errors") {
  std::string out;
  encode_binary(sample(), 0, out);
  CHECK(decode(out.substr(0, binary_header_bytes - 1)).error() == errc::truncated);
  CHECK(decode(out.substr(0, binary_header_bytes + 12)).error() == errc::truncated);
  std::string bad_version = out;
  bad_version[4] = 2;
  CHECK(decode(bad_version).error() == errc::unsupported_version);
  std::string bad_mask = out;
  bad_mask[5] = static_cast<char>(0x80);
  CHECK(decode(bad_mask).error() == errc::bad_field);
  CHECK(decode("XRIB" + out.substr(4)).error() == errc::bad_magic);
  CHECK(decode("").error() == errc::bad_magic);
  CHECK(decode(std::string(payload_bytes_max + 1, '{')).error() == errc::payload_too_large);
}

TEST_CASE("json reading: decoding errors") {
  CHECK(decode("{").error() == errc::bad_json);
  CHECK(decode("[1]").error() == errc::bad_magic);
  CHECK(decode(R"({"seq":1,"ts_ms":2})").error() == errc::missing_field);
  CHECK(decode(R"({"device":"d","ts_ms":2})").error() == errc::missing_field);
  CHECK(decode(R"({"device":"d","seq":1})").error() == errc::missing_field);
  CHECK(decode(R"({"device":1,"seq":1,"ts_ms":2})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"d","seq":-1,"ts_ms":2})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"d","seq":1.5,"ts_ms":2})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"d","seq":1,"ts_ms":"now"})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"a b","seq":1,"ts_ms":2})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"d","seq":1,"ts_ms":2,"temp_c":"hot"})").error() == errc::bad_field);
  CHECK(decode(R"({"device":"d","seq":1,"ts_ms":2,"count":-3})").error() == errc::bad_field);
  // A reading is a flat object; deep nesting is refused before parsing.
  CHECK(decode(R"({"device":"d","seq":1,"ts_ms":2,"x":[[1]]})").error() == errc::bad_json);
  CHECK(decode("{" + std::string(10000, '[')).error() == errc::bad_json);
  // Extra fields (from other producers) are fine, and braces inside strings do not count as nesting.
  auto d = decode(R"({"device":"d","seq":1,"ts_ms":-2,"note":"[[[{{{","x":[1]})");
  REQUIRE(d);
  CHECK(d->ts_ms == -2);
}

TEST_CASE("device names") {
  CHECK(valid_device_name("dev-000001"));
  CHECK(valid_device_name("plant_3.line:7"));
  CHECK_FALSE(valid_device_name(""));
  CHECK_FALSE(valid_device_name("a b"));
  CHECK_FALSE(valid_device_name("quote\""));
  CHECK_FALSE(valid_device_name("sensors/x"));
  CHECK(valid_device_name(std::string(device_name_bytes_max, 'a')));
  CHECK_FALSE(valid_device_name(std::string(device_name_bytes_max + 1, 'a')));
}
