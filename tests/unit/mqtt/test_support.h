#pragma once
// Helpers for the MQTT codec tests: hex, fixtures captured from real clients, decode shorthands.
#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <doctest/doctest.h>

#include "common/mqtt/codec.h"

namespace tributary::mqtt::test {

inline std::vector<uint8_t> from_hex(std::string_view hex) {
  std::vector<uint8_t> out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int hi = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n') continue;
    const int n = nibble(c);
    if (n < 0) throw std::invalid_argument("bad hex digit");
    if (hi < 0) {
      hi = n;
    } else {
      out.push_back(static_cast<uint8_t>(hi << 4 | n));
      hi = -1;
    }
  }
  if (hi >= 0) throw std::invalid_argument("odd number of hex digits");
  return out;
}

inline std::string to_hex(byte_span b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 0xF];
  }
  return s;
}

// One packet of a fixture: 'c' (client to server) or 's' (server to client) and its bytes.
struct captured_packet {
  char direction = 'c';
  std::vector<uint8_t> bytes;
};

struct fixture {
  int level = 0;  // the CONNECT's protocol level (3, 4 or 5)
  std::vector<captured_packet> packets;

  protocol_version version() const { return level == 5 ? protocol_version::v5 : protocol_version::v311; }
};

// Loads tests/unit/mqtt/fixtures/<name>.hex (format: see capture_fixtures.py).
inline fixture load_fixture(std::string_view name) {
  const std::string path =
      std::string(TRIB_SOURCE_DIR) + "/tests/unit/mqtt/fixtures/" + std::string(name) + ".hex";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  fixture f;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line.starts_with("# version: ")) {
      f.level = std::stoi(line.substr(11));
      continue;
    }
    if (line[0] == '#') continue;
    if (line.size() < 3 || (line[0] != 'c' && line[0] != 's') || line[1] != ' ')
      throw std::runtime_error("bad fixture line in " + path);
    f.packets.push_back({line[0], from_hex(std::string_view(line).substr(2))});
  }
  if (f.level == 0 || f.packets.empty()) throw std::runtime_error("incomplete fixture " + path);
  return f;
}

// Decodes and requires success; the packet borrows from `bytes`, which must outlive it.
template <class P>
P decode_as(const std::vector<uint8_t>& bytes, protocol_version v) {
  auto r = decode(bytes, v);
  if (!r) FAIL_CHECK("decode failed: " << r.error().message() << " for " << to_hex(bytes));
  REQUIRE(r.has_value());
  REQUIRE(std::holds_alternative<P>(*r));
  return std::get<P>(*r);
}

// The error of a result that should have failed (a failed CHECK and an empty code if it did not:
// calling .error() on a value would be undefined).
template <class T>
std::error_code error_of(const result<T>& r) {
  if (r) FAIL_CHECK("succeeded, but an error was expected");
  return r ? std::error_code{} : r.error();
}

// The error decoding `hex` yields (the test fails if it decodes).
inline std::error_code decode_error(std::string_view hex, protocol_version v) {
  const auto bytes = from_hex(hex);
  auto r = decode(bytes, v);
  if (r) FAIL_CHECK("decoded, but an error was expected: " << hex);
  return r ? std::error_code{} : r.error();
}

template <class P>
std::vector<uint8_t> encode_bytes(const P& p, protocol_version v) {
  byte_writer w;
  encode(p, v, w);
  return w.take();
}

inline byte_span bytes_of(std::string_view s) { return as_bytes(s); }

}  // namespace tributary::mqtt::test

// doctest output for the enums used in CHECKs.
namespace tributary::mqtt {
inline std::ostream& operator<<(std::ostream& os, reason_code r) { return os << reason_code_name(r); }
inline std::ostream& operator<<(std::ostream& os, errc e) { return os << std::error_code(e).message(); }
inline std::ostream& operator<<(std::ostream& os, qos_level q) { return os << static_cast<int>(q); }
inline std::ostream& operator<<(std::ostream& os, protocol_version v) {
  return os << protocol_version_name(v);
}
inline std::ostream& operator<<(std::ostream& os, packet_type t) { return os << packet_type_name(t); }
}  // namespace tributary::mqtt
