// Pure parts of the uv helpers: stock frame functions, address parsing, option validation.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <vector>

#include "common/uv/address.h"
#include "common/uv/framing.h"
#include "common/uv/tcp.h"

using namespace tributary;
using uv::frame_status;

namespace {
std::vector<uint8_t> bytes_of(std::initializer_list<int> xs) {
  std::vector<uint8_t> out;
  for (int x : xs) out.push_back(static_cast<uint8_t>(x));
  return out;
}
}  // namespace

TEST_CASE("i32 length prefix: need more, known total, complete, negative length") {
  auto f = [](const std::vector<uint8_t>& b) { return uv::frame_i32_length_prefix(b); };
  auto st = f(bytes_of({0, 0, 0}));
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 0);
  st = f(bytes_of({0, 0, 0, 3, 'a'}));
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 7);  // known before the frame is buffered
  st = f(bytes_of({0, 0, 0, 3, 'a', 'b', 'c', 0, 0}));
  CHECK(st.k == frame_status::kind::complete);
  CHECK(st.length == 7);
  st = f(bytes_of({0, 0, 0, 0}));
  CHECK(st.k == frame_status::kind::complete);
  CHECK(st.length == 4);
  st = f(bytes_of({0x80, 0, 0, 0}));
  CHECK(st.k == frame_status::kind::invalid);
  CHECK(st.error == uv::errc::bad_frame);
  st = f(bytes_of({0x7f, 0xff, 0xff, 0xff}));  // 2 GiB announced: the connection refuses it by size
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 4 + 0x7fffffffull);
}

TEST_CASE("mqtt fixed header: 1 to 4 length bytes, fifth byte and non-minimal encodings refused") {
  auto f = [](const std::vector<uint8_t>& b) { return uv::frame_mqtt(b); };
  CHECK(f(bytes_of({0x30})).k == frame_status::kind::need_more);
  auto st = f(bytes_of({0xc0, 0x00}));  // PINGREQ
  CHECK(st.k == frame_status::kind::complete);
  CHECK(st.length == 2);
  st = f(bytes_of({0x30, 0x02, 'a'}));
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 4);
  st = f(bytes_of({0x30, 0x80}));  // continuation, next byte missing
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 0);
  // 128 = 0x80 0x01
  std::vector<uint8_t> two = bytes_of({0x30, 0x80, 0x01});
  two.resize(3 + 128, 'x');
  st = f(two);
  CHECK(st.k == frame_status::kind::complete);
  CHECK(st.length == 131);
  // 268,435,455 = ff ff ff 7f: the largest; only the header is needed to know the total
  st = f(bytes_of({0x30, 0xff, 0xff, 0xff, 0x7f}));
  CHECK(st.k == frame_status::kind::need_more);
  CHECK(st.length == 1 + 4 + 268435455ull);
  st = f(bytes_of({0x30, 0xff, 0xff, 0xff, 0xff, 0x01}));
  CHECK(st.k == frame_status::kind::invalid);
  CHECK(st.error == uv::errc::bad_frame);
  st = f(bytes_of({0x30, 0x80, 0x00}));  // 0 encoded in two bytes
  CHECK(st.k == frame_status::kind::invalid);
}

TEST_CASE("frame_stream takes everything buffered") {
  auto b = bytes_of({1, 2, 3});
  auto st = uv::frame_stream(b);
  CHECK(st.k == frame_status::kind::complete);
  CHECK(st.length == 3);
}

TEST_CASE("addresses: numeric IPv4 and [IPv6] with a port; everything else is bad_address") {
  auto a = uv::parse_address("127.0.0.1:9092");
  REQUIRE(a);
  CHECK(a->ss_family == AF_INET);
  CHECK(uv::address_port(reinterpret_cast<const sockaddr*>(&*a)) == 9092);
  CHECK(uv::format_address(reinterpret_cast<const sockaddr*>(&*a)) == "127.0.0.1:9092");
  auto z = uv::parse_address("0.0.0.0:0");
  REQUIRE(z);
  CHECK(uv::address_port(reinterpret_cast<const sockaddr*>(&*z)) == 0);
  auto v6 = uv::parse_address("[::1]:65535");
  REQUIRE(v6);
  CHECK(v6->ss_family == AF_INET6);
  CHECK(uv::format_address(reinterpret_cast<const sockaddr*>(&*v6)) == "[::1]:65535");
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":9092", "localhost:80", "127.0.0.1:65536",
                          "127.0.0.1:80a", "127.0.0.1:-1", "::1:80", "[::1]", "[::1]80", "[::1:80", "[]:80",
                          "1.2.3:80", "256.0.0.1:80", "[127.0.0.1]:80", "127.0.0.1:123456",
                          "a very long host name that is certainly longer than sixty four chars:1"}) {
    INFO(bad);
    auto r = uv::parse_address(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error() == uv::errc::bad_address);
  }
  sockaddr unknown{};
  unknown.sa_family = AF_UNIX;
  CHECK(uv::format_address(&unknown) == "?");
  CHECK(uv::address_port(&unknown) == 0);
}

TEST_CASE("connection options: watermarks ordered, sizes positive") {
  uv::connection_options o;
  CHECK(o.validate());
  auto bad = o;
  bad.write_low_watermark_bytes = bad.write_high_watermark_bytes + 1;
  CHECK_FALSE(bad.validate());
  bad = o;
  bad.write_high_watermark_bytes = bad.write_limit_bytes + 1;
  CHECK_FALSE(bad.validate());
  bad = o;
  bad.max_frame_bytes = 0;
  CHECK_FALSE(bad.validate());
  bad = o;
  bad.read_chunk_bytes = 0;
  CHECK_FALSE(bad.validate());
  bad = o;
  bad.write_low_watermark_bytes = 0;
  CHECK_FALSE(bad.validate());
}

TEST_CASE("uv error codes carry their category and message") {
  std::error_code e = uv::errc::frame_too_large;
  CHECK(std::string(e.category().name()) == "uv");
  CHECK(e.message() == "frame larger than the configured maximum");
  auto u = uv::uv_error(-111);  // ECONNREFUSED on Linux
  CHECK(std::string(u.category().name()) == "libuv");
  CHECK(u.message() == "connection refused");
  CHECK(uv::check(0));
  CHECK_FALSE(uv::check(-111));
}
