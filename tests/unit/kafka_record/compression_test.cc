#include "common/kafka/compression.h"

#include <array>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "tests/unit/kafka_record/fixture_util.h"

using namespace tributary;
using namespace tributary::kafka;
using namespace tributary::kafka::test;

namespace {

const std::filesystem::path fixtures =
    std::filesystem::path(TRIB_SOURCE_DIR) / "tests/unit/kafka_record/fixtures";

constexpr std::array<compression_codec, 4> all_codecs = {compression_codec::gzip, compression_codec::snappy,
                                                         compression_codec::lz4, compression_codec::zstd};

template <class T>
std::error_code error_of(const result<T>& r) {
  return r ? std::error_code() : r.error();
}

bytes_vec sample(size_t n, uint32_t seed) {
  // Half random, half repetitive: compresses, but not to nothing.
  std::mt19937 rng(seed);
  bytes_vec v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = (i / 64) % 2 ? static_cast<uint8_t>(rng()) : static_cast<uint8_t>('a' + i % 7);
  return v;
}

bytes_vec concat(const bytes_vec& a, const bytes_vec& b) {
  bytes_vec out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

}  // namespace

TEST_CASE("compression: codec names and attribute bits") {
  for (uint8_t b = 0; b <= 4; ++b) {
    auto c = codec_from_bits(b);
    REQUIRE(c.has_value());
    CHECK(static_cast<uint8_t>(*c) == b);
    CHECK(codec_from_name(codec_name(*c)) == c);
  }
  CHECK(codec_name(compression_codec::zstd) == "zstd");
  for (uint8_t b = 5; b <= 7; ++b) CHECK_FALSE(codec_from_bits(b).has_value());
  CHECK_FALSE(codec_from_name("brotli").has_value());
  CHECK(codec_name(static_cast<compression_codec>(9)) == "unknown");
}

TEST_CASE("compression: files written by the gzip, zstd and lz4 tools and hand-framed xerial snappy") {
  const json doc = read_json(fixtures / "expected.json");
  REQUIRE(doc.at("compressed_files").size() >= 1);
  for (const json& f : doc.at("compressed_files")) {
    const std::string file = f.at("file").get<std::string>();
    CAPTURE(file);
    const auto codec = codec_from_name(f.at("codec").get<std::string>());
    REQUIRE(codec.has_value());
    const bytes_vec compressed = read_file(fixtures / file);
    const bytes_vec plain = read_file(fixtures / f.at("plain").get<std::string>());
    auto out = decompress(*codec, compressed, plain.size());
    REQUIRE(out.has_value());
    CHECK(*out == plain);
    // One byte less room than the content needs is a bomb.
    CHECK(error_of(decompress(*codec, compressed, plain.size() - 1)) == record_errc::too_large);
  }
}

TEST_CASE("compression: round trip for every codec, sizes from empty to multi-block") {
  for (auto codec : all_codecs) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{65536}, size_t{200000}}) {
      CAPTURE(codec_name(codec));
      CAPTURE(n);
      const bytes_vec input = sample(n, static_cast<uint32_t>(n));
      auto packed = compress(codec, input);
      REQUIRE(packed.has_value());
      auto out = decompress(codec, *packed, n);
      REQUIRE(out.has_value());
      CHECK(*out == input);
      if (n > 0) CHECK(error_of(decompress(codec, *packed, n - 1)) == record_errc::too_large);
    }
  }
}

TEST_CASE("compression: codec none is not a compression codec") {
  const bytes_vec data = {1, 2, 3};
  CHECK(error_of(compress(compression_codec::none, data)) == record_errc::unsupported_codec);
  CHECK(error_of(decompress(compression_codec::none, data, 100)) == record_errc::unsupported_codec);
  CHECK(error_of(decompress(static_cast<compression_codec>(6), data, 100)) == record_errc::unsupported_codec);
  CHECK(error_of(compress(static_cast<compression_codec>(6), data)) == record_errc::unsupported_codec);
}

TEST_CASE("compression: a compression bomb fails at the limit instead of allocating") {
  const bytes_vec zeros(32 * 1024 * 1024, 0);
  for (auto codec : all_codecs) {
    CAPTURE(codec_name(codec));
    auto packed = compress(codec, zeros);
    REQUIRE(packed.has_value());
    CHECK(packed->size() < zeros.size() / 20);
    CHECK(error_of(decompress(codec, *packed, 1024 * 1024)) == record_errc::too_large);
    CHECK(error_of(decompress(codec, *packed, 0)) == record_errc::too_large);
  }
}

TEST_CASE("compression: truncated, corrupt and trailing-garbage inputs fail") {
  const bytes_vec input = sample(50000, 3);
  for (auto codec : all_codecs) {
    CAPTURE(codec_name(codec));
    auto packed = compress(codec, input);
    REQUIRE(packed.has_value());
    const byte_span p(*packed);

    {  // truncated
      for (size_t cut : {size_t{1}, size_t{5}, packed->size() / 2, packed->size() - 1}) {
        CAPTURE(cut);
        CHECK(error_of(decompress(codec, p.first(packed->size() - cut), input.size())) ==
              record_errc::decompression_failed);
      }
    }
    {  // empty input
      // Every format has a header (a raw snappy block at least its length varint).
      CHECK(error_of(decompress(codec, {}, 100)) == record_errc::decompression_failed);
    }
    {  // garbage
      const bytes_vec junk = {0x13, 0x37, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22};
      CHECK(error_of(decompress(codec, junk, 1000)) == record_errc::decompression_failed);
    }
    if (codec != compression_codec::snappy) {  // trailing garbage (xerial framing: its own test)
      const bytes_vec junked = concat(*packed, bytes_vec{0x13, 0x37, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42});
      CHECK(error_of(decompress(codec, junked, input.size() + 100)) == record_errc::decompression_failed);
    }
    {  // a flipped byte in the middle
      bytes_vec bad = *packed;
      bad[bad.size() / 2] ^= 0x5a;
      auto out = decompress(codec, bad, input.size() + 100);
      // Codecs without checksums may decode to different bytes; never to the original.
      if (out) CHECK(*out != input);
    }
  }
}

TEST_CASE("compression: concatenated gzip members, lz4 frames and zstd frames decode as one stream") {
  const bytes_vec a = sample(3000, 1), b = sample(5000, 2);
  for (auto codec : {compression_codec::gzip, compression_codec::lz4, compression_codec::zstd}) {
    CAPTURE(codec_name(codec));
    const bytes_vec joined = concat(*compress(codec, a), *compress(codec, b));
    auto out = decompress(codec, joined, a.size() + b.size());
    REQUIRE(out.has_value());
    CHECK(*out == concat(a, b));
    CHECK(error_of(decompress(codec, joined, a.size() + b.size() - 1)) == record_errc::too_large);
  }
}

TEST_CASE("compression: snappy raw blocks (librdkafka) and xerial framing (Java) both decode") {
  const bytes_vec input = sample(100000, 5);
  auto raw = snappy_compress_raw(input);
  auto framed = snappy_compress_xerial(input, 4096);  // many chunks
  REQUIRE(raw.has_value());
  REQUIRE(framed.has_value());
  CHECK(std::memcmp(framed->data(), "\x82SNAPPY\0", 8) == 0);
  CHECK(*decompress(compression_codec::snappy, *raw, input.size()) == input);
  CHECK(*decompress(compression_codec::snappy, *framed, input.size()) == input);
  CHECK(error_of(decompress(compression_codec::snappy, *raw, input.size() - 1)) == record_errc::too_large);
  CHECK(error_of(decompress(compression_codec::snappy, *framed, input.size() - 1)) == record_errc::too_large);

  // compress() writes the xerial framing.
  auto c = compress(compression_codec::snappy, input);
  REQUIRE(c.has_value());
  CHECK(std::memcmp(c->data(), "\x82SNAPPY\0", 8) == 0);

  SUBCASE("header only: an empty stream") {
    const bytes_vec header(framed->begin(), framed->begin() + 16);
    auto out = decompress(compression_codec::snappy, header, 10);
    REQUIRE(out.has_value());
    CHECK(out->empty());
  }
  SUBCASE("header cut short") {
    const bytes_vec cut(framed->begin(), framed->begin() + 12);
    CHECK(error_of(decompress(compression_codec::snappy, cut, 10)) == record_errc::decompression_failed);
  }
  SUBCASE("chunk length cut short") {
    bytes_vec bad = *framed;
    bad.push_back(0);
    bad.push_back(0);
    CHECK(error_of(decompress(compression_codec::snappy, bad, input.size())) ==
          record_errc::decompression_failed);
  }
  SUBCASE("negative chunk length") {
    bytes_vec bad = *framed;
    for (uint8_t b : {0xff, 0xff, 0xff, 0xfe}) bad.push_back(b);
    CHECK(error_of(decompress(compression_codec::snappy, bad, input.size() + 10)) ==
          record_errc::decompression_failed);
  }
  SUBCASE("chunk longer than the data") {
    bytes_vec bad = *framed;
    for (uint8_t b : {0x00, 0x00, 0x10, 0x00, 0x01}) bad.push_back(b);
    CHECK(error_of(decompress(compression_codec::snappy, bad, input.size() + 10)) ==
          record_errc::decompression_failed);
  }
  SUBCASE("corrupt raw block inside a chunk") {
    bytes_vec bad(framed->begin(), framed->begin() + 16);
    for (uint8_t b : {0x00, 0x00, 0x00, 0x03, 0x05, 0xff, 0xff}) bad.push_back(b);
    CHECK(error_of(decompress(compression_codec::snappy, bad, 100)) == record_errc::decompression_failed);
  }
}

TEST_CASE("compression: errors have names and messages") {
  std::error_code ec = record_errc::too_large;
  CHECK(std::string(ec.category().name()) == "kafka.record");
  CHECK(ec.message() == "size limit exceeded");
  for (int v = 1; v <= static_cast<int>(record_errc::compression_failed); ++v)
    CHECK(std::error_code(static_cast<record_errc>(v)).message() != "unknown record error");
  CHECK(std::error_code(static_cast<record_errc>(999)).message() == "unknown record error");
}
