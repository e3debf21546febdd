#include <doctest/doctest.h>

#include "gateway/buffer/errc.h"
#include "gateway/buffer/reading.h"
#include "test_support.h"

using namespace tributary;
using namespace tributary::gateway::buffer;
using tributary::test::err_of;

namespace {
std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("headers: encode and decode round trip, with null and empty values") {
  std::vector<header> hs{{"gateway", bytes_of("gw-1")},
                         {"empty", std::vector<uint8_t>{}},
                         {"null", std::nullopt},
                         {"", bytes_of("k")}};
  std::vector<uint8_t> blob;
  encode_headers(hs, blob);
  CHECK(blob.size() == encoded_headers_size(hs));
  CHECK(blob[0] == headers_encoding_version);
  auto back = decode_headers(blob, 64);
  REQUIRE(back);
  CHECK(*back == hs);
}

TEST_CASE("headers: none encode to nothing (a NULL column)") {
  std::vector<uint8_t> blob;
  encode_headers({}, blob);
  CHECK(blob.empty());
  CHECK(encoded_headers_size({}) == 0);
  auto back = decode_headers({}, 64);
  REQUIRE(back);
  CHECK(back->empty());
}

TEST_CASE("headers: damaged blobs are corrupt, never a crash") {
  std::vector<header> hs{{"a", bytes_of("1")}, {"b", std::nullopt}};
  std::vector<uint8_t> good;
  encode_headers(hs, good);
  SUBCASE("every truncation") {
    for (size_t n = 1; n < good.size(); ++n) {
      auto r = decode_headers(byte_span(good.data(), n), 64);
      CHECK_MESSAGE(!r, "truncated at " << n);
      if (!r) CHECK(err_of(r) == make_error_code(errc::corrupt));
    }
  }
  SUBCASE("trailing bytes") {
    auto bad = good;
    bad.push_back(0);
    CHECK(!decode_headers(bad, 64));
  }
  SUBCASE("unknown version") {
    auto bad = good;
    bad[0] = 2;
    CHECK(!decode_headers(bad, 64));
  }
  SUBCASE("more headers than allowed") { CHECK(!decode_headers(good, 1)); }
  SUBCASE("an absurd count") {
    std::vector<uint8_t> bad{1, 0xff, 0xff, 0xff, 0x7f};
    CHECK(!decode_headers(bad, SIZE_MAX));
  }
  SUBCASE("a value length below -1") {
    std::vector<uint8_t> bad{1, 1, 1, 'a', 3};  // zigzag 3 = -2
    CHECK(!decode_headers(bad, 64));
  }
  SUBCASE("a key longer than the blob") {
    std::vector<uint8_t> bad{1, 1, 50, 'a', 1};
    CHECK(!decode_headers(bad, 64));
  }
}

TEST_CASE("accounted bytes: topic + key + headers + payload + overhead") {
  reading r;
  r.topic = "t";
  r.key = bytes_of("key");
  r.payload = bytes_of("12345");
  CHECK(accounted_bytes(r) == 1 + 3 + 5 + row_overhead_bytes);
  r.headers.push_back({"h", bytes_of("v")});
  CHECK(accounted_bytes(r) == 1 + 3 + 5 + encoded_headers_size(r.headers) + row_overhead_bytes);
  r.key.reset();
  CHECK(accounted_bytes(r) == 1 + 5 + encoded_headers_size(r.headers) + row_overhead_bytes);
}

TEST_CASE("headers: views encode to exactly the bytes the list does, and count without building") {
  std::vector<header> hs{{"tributary.gateway", bytes_of("gw-1")},
                         {"empty", std::vector<uint8_t>{}},
                         {"null", std::nullopt},
                         {"", bytes_of("k")},
                         {std::string(200, 'K'), std::vector<uint8_t>(300, 'v')}};  // two-byte lengths
  std::vector<header_view> views;
  for (const auto& h : hs) {
    views.push_back({h.key, h.value ? std::optional<byte_span>(byte_span(*h.value)) : std::nullopt});
  }
  std::vector<uint8_t> from_list, from_views;
  encode_headers(hs, from_list);
  encode_header_views(views, from_views);
  CHECK(from_views == from_list);
  CHECK(encoded_header_views_size(views) == from_list.size());
  auto n = count_encoded_headers(from_views, 64);
  REQUIRE(n);
  CHECK(*n == hs.size());
  CHECK(err_of(count_encoded_headers(from_views, 3)) == make_error_code(errc::corrupt));
  for (size_t cut = 1; cut < from_views.size(); ++cut) {
    CHECK_MESSAGE(!count_encoded_headers(byte_span(from_views.data(), cut), 64), "truncated at " << cut);
  }
  std::vector<uint8_t> none;
  encode_header_views({}, none);
  CHECK(none.empty());
  CHECK(count_encoded_headers({}, 64) == size_t{0});
}

TEST_CASE("accounted bytes: encoded headers count as their encoding") {
  reading a;
  a.topic = "t";
  a.payload = bytes_of("12345");
  a.headers.push_back({"h", bytes_of("v")});
  reading b = a;
  b.headers.clear();
  encode_headers(a.headers, b.headers_encoded);
  CHECK(headers_column_size(b) == encoded_headers_size(a.headers));
  CHECK(accounted_bytes(b) == accounted_bytes(a));
}
