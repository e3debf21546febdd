#include "common/crc32c.h"

#include <array>
#include <cstdint>
#include <numeric>
#include <random>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

using namespace tributary;

namespace {

struct vector_case {
  const char* name;
  std::vector<uint8_t> data;
  uint32_t crc;
};

// RFC 3720 appendix B.4 (iSCSI) plus the customary check value of "123456789".
std::vector<vector_case> published_vectors() {
  std::vector<uint8_t> inc(32), dec(32);
  std::iota(inc.begin(), inc.end(), uint8_t{0});
  for (size_t i = 0; i < 32; ++i) dec[i] = static_cast<uint8_t>(31 - i);
  const std::vector<uint8_t> read_pdu = {0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0,    0, 0, 0,    0, 0, 0, 0,
                                         0x14, 0,    0, 0, 0, 0, 4, 0, 0,    0, 0, 0x14, 0, 0, 0, 0x18,
                                         0x28, 0,    0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0,    0, 0, 0, 0};
  const std::string_view check = "123456789";
  return {
      {"empty", {}, 0x00000000u},
      {"32 zero bytes", std::vector<uint8_t>(32, 0x00), 0x8A9136AAu},
      {"32 0xff bytes", std::vector<uint8_t>(32, 0xff), 0x62A8AB43u},
      {"incrementing 0..31", inc, 0x46DD794Eu},
      {"decrementing 31..0", dec, 0x113FDB5Cu},
      {"iSCSI read command PDU", read_pdu, 0xD9963A56u},
      {"123456789", std::vector<uint8_t>(check.begin(), check.end()), 0xE3069283u},
  };
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

}  // namespace

TEST_CASE("crc32c: published vectors, every implementation") {
  for (const auto& v : published_vectors()) {
    CAPTURE(v.name);
    CHECK(crc32c(v.data) == v.crc);
    CHECK(crc32c_sw(v.data) == v.crc);
    if (crc32c_hw_available()) CHECK(crc32c_hw(v.data) == v.crc);
  }
}

TEST_CASE("crc32c: hardware and software agree on random lengths and misalignments") {
  if (!crc32c_hw_available()) {
    MESSAGE("SSE4.2 not available: hardware path not tested on this machine");
    return;
  }
  const auto data = random_bytes(8192 + 64, 0xC0FFEE);
  std::mt19937 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    const size_t start = rng() % 64;  // every alignment of the start
    const size_t len = i < 64 ? static_cast<size_t>(i) : rng() % 8192;
    const uint32_t seed_crc = (i % 3 == 0) ? 0 : static_cast<uint32_t>(rng());
    const byte_span s(data.data() + start, len);
    CAPTURE(start);
    CAPTURE(len);
    REQUIRE(crc32c_hw(s, seed_crc) == crc32c_sw(s, seed_crc));
  }
}

TEST_CASE("crc32c: incremental extension equals one shot") {
  const auto data = random_bytes(300, 7);
  const uint32_t whole = crc32c(data);
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    const byte_span all(data);
    CAPTURE(cut);
    CHECK(crc32c(all.subspan(cut), crc32c(all.first(cut))) == whole);
    CHECK(crc32c_sw(all.subspan(cut), crc32c_sw(all.first(cut))) == whole);
  }
  // Many small pieces of varying size.
  uint32_t c = 0;
  size_t at = 0;
  for (size_t step = 1; at < data.size(); step = step % 13 + 1) {
    const size_t n = std::min(step, data.size() - at);
    c = crc32c(byte_span(data).subspan(at, n), c);
    at += n;
  }
  CHECK(c == whole);
}

TEST_CASE("crc32c: a single changed bit changes the checksum") {
  auto data = random_bytes(1000, 99);
  const uint32_t before = crc32c(data);
  for (size_t bit = 0; bit < data.size() * 8; bit += 37) {
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    CHECK(crc32c(data) != before);
    data[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
  }
  CHECK(crc32c(data) == before);
}
