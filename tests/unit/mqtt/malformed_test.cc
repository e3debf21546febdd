// Every error branch of framing and decoding, with hand-built packets: each test changes one thing
// in an otherwise valid packet, and a valid twin shows the error is caused by that one thing.
#include <string>

#include "test_support.h"

namespace tributary::mqtt {
namespace {

constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

// ---- hex builders ----------------------------------------------------------------------------------

std::string h8(unsigned v) { return test::to_hex(std::vector<uint8_t>{static_cast<uint8_t>(v)}); }
std::string h16(unsigned v) { return h8(v >> 8) + h8(v & 0xFF); }
std::string vbi(uint32_t v) {
  std::string out;
  do {
    uint8_t digit = v & 0x7F;
    v >>= 7;
    out += h8(v ? digit | 0x80 : digit);
  } while (v);
  return out;
}
// A UTF-8 string field from text / from raw hex bytes.
std::string s(std::string_view text) {
  return h16(static_cast<unsigned>(text.size())) + test::to_hex(as_bytes(text));
}
std::string raw_s(std::string_view hex) {
  return h16(static_cast<unsigned>(hex.size() / 2)) + std::string(hex);
}
// A property block around the given properties.
std::string props(std::string_view inner = "") {
  return vbi(static_cast<uint32_t>(inner.size() / 2)) + std::string(inner);
}

// A whole packet: first byte, remaining length, body.
std::vector<uint8_t> pkt(uint8_t first, const std::string& body_hex) {
  const auto body = test::from_hex(body_hex);
  return test::from_hex(h8(first) + vbi(static_cast<uint32_t>(body.size())) + body_hex);
}

std::error_code err(uint8_t first, const std::string& body, protocol_version v) {
  const auto bytes = pkt(first, body);
  auto r = decode(bytes, v);
  if (r) FAIL_CHECK("decoded, but an error was expected: " << test::to_hex(bytes));
  return r ? std::error_code{} : r.error();
}

bool ok(uint8_t first, const std::string& body, protocol_version v) {
  const auto bytes = pkt(first, body);
  auto r = decode(bytes, v);
  if (!r) FAIL_CHECK("expected to decode: " << test::to_hex(bytes) << ": " << r.error().message());
  return r.has_value();
}

std::string connect_body(unsigned level, unsigned flags, const std::string& payload,
                         const std::string& connect_props = props(), std::string_view name = "MQTT") {
  return s(name) + h8(level) + h8(flags) + "003c" + (level == 5 ? connect_props : "") + payload;
}

// ---- framing ---------------------------------------------------------------------------------------

TEST_CASE("frame_length: need more, lengths, limits") {
  auto fl = [](std::string_view hex, size_t max = max_packet_size_limit) {
    const auto bytes = test::from_hex(hex);
    return frame_length(bytes, max);
  };
  CHECK(fl("") == size_t{0});
  CHECK(fl("30") == size_t{0});
  CHECK(fl("3080") == size_t{0});
  CHECK(fl("30ffff") == size_t{0});
  CHECK(fl("30ffffff") == size_t{0});
  CHECK(fl("3000") == size_t{2});
  CHECK(fl("307f") == size_t{2 + 127});
  CHECK(fl("308001") == size_t{3 + 128});
  CHECK(fl("30ffffff7f") == size_t{5 + 268'435'455});
  CHECK(fl("30ffffff7f") == max_packet_size_limit);
  // A fifth length byte does not exist [MQTT-1.5.5-1] / 3.1.1 2.2.3.
  CHECK(test::error_of(fl("30ffffffff")) == errc::bad_remaining_length);
  CHECK(test::error_of(fl("3080808080")) == errc::bad_remaining_length);
  // Lengths not in their shortest form [MQTT-1.5.5-1].
  CHECK(test::error_of(fl("308000")) == errc::bad_remaining_length);
  CHECK(test::error_of(fl("30ff00")) == errc::bad_remaining_length);
  CHECK(test::error_of(fl("3080808000")) == errc::bad_remaining_length);
  // The limit counts the whole packet, header included (as 5.0's Maximum Packet Size does).
  CHECK(fl("3005", 7) == size_t{7});
  CHECK(test::error_of(fl("3005", 6)) == errc::packet_too_large);
  CHECK(test::error_of(fl("30ffffff7f", 1 << 20)) == errc::packet_too_large);
  CHECK(test::error_of(fl("3000", 1)) == errc::packet_too_large);
  CHECK(to_reason_code(errc::packet_too_large) == reason_code::packet_too_large);
}

TEST_CASE("decode: the frame must be exactly one packet") {
  CHECK(test::decode_error("", v5) == errc::truncated);
  CHECK(test::decode_error("c0", v5) == errc::truncated);
  CHECK(test::decode_error("3080", v5) == errc::truncated);
  CHECK(test::decode_error("c001", v5) == errc::truncated);
  CHECK(test::decode_error("30050001", v5) == errc::truncated);
  CHECK(test::decode_error("c00000", v5) == errc::trailing_bytes);
  CHECK(test::decode_error("30ffffffff01", v5) == errc::bad_remaining_length);
  CHECK(test::decode_error("c08000", v5) == errc::bad_remaining_length);
}

// ---- fixed header ----------------------------------------------------------------------------------

TEST_CASE("packet type 0 and AUTH under 3.1.1") {
  CHECK(err(0x00, "", v311) == errc::bad_packet_type);
  CHECK(err(0x00, "", v5) == errc::bad_packet_type);
  CHECK(err(0x0F, "", v5) == errc::bad_packet_type);
  CHECK(err(0xF0, "", v311) == errc::bad_packet_type);
  CHECK(ok(0xF0, "", v5));
}

TEST_CASE("fixed header flags: every wrong value of every type") {
  for (unsigned type = 1; type <= 15; ++type) {
    if (type == 3) continue;  // PUBLISH flags carry DUP, QoS and RETAIN
    const unsigned required = type == 6 || type == 8 || type == 10 ? 2 : 0;
    for (unsigned flags = 0; flags < 16; ++flags) {
      if (flags == required) continue;
      CAPTURE(type);
      CAPTURE(flags);
      CHECK(err(static_cast<uint8_t>(type << 4 | flags), "0001", v5) == errc::bad_fixed_header_flags);
      if (type != 15)
        CHECK(err(static_cast<uint8_t>(type << 4 | flags), "0001", v311) == errc::bad_fixed_header_flags);
    }
  }
  CHECK(ok(0x62, "0001", v311));  // PUBREL 0b0010
  // [MQTT-3.3.1-2]: DUP is 0 on every QoS 0 PUBLISH.
  CHECK(err(0x38, s("a"), v311) == errc::bad_fixed_header_flags);
  CHECK(ok(0x3A, s("a") + "0001", v311));
  CHECK(to_reason_code(errc::bad_fixed_header_flags) == reason_code::malformed_packet);
}

// ---- CONNECT ---------------------------------------------------------------------------------------

TEST_CASE("CONNECT: protocol name and level") {
  CHECK(ok(0x10, connect_body(4, 0x02, s("id")), v5));
  CHECK(ok(0x10, connect_body(5, 0x02, s("id")), v311));
  CHECK(err(0x10, connect_body(4, 0x02, s("id"), props(), "MQTX"), v5) == errc::bad_protocol_name);
  CHECK(err(0x10, connect_body(4, 0x02, s("id"), props(), "mqtt"), v5) == errc::bad_protocol_name);
  CHECK(err(0x10, connect_body(4, 0x02, s("id"), props(), ""), v5) == errc::bad_protocol_name);
  for (unsigned level : {0u, 1u, 2u, 3u, 6u, 255u})
    CHECK(err(0x10, connect_body(level, 0x02, s("id")), v5) == errc::unsupported_protocol_version);
  CHECK(err(0x10, connect_body(3, 0x02, s("id"), props(), "MQIsdp"), v5) ==
        errc::unsupported_protocol_version);
  CHECK(err(0x10, connect_body(4, 0x02, s("id"), props(), "MQIsdp"), v5) ==
        errc::unsupported_protocol_version);
  CHECK(err(0x10, s("MQ"), v5) == errc::truncated);
  CHECK(err(0x10, s("MQTT"), v5) == errc::truncated);
  // peek_connect_version reads only name and level.
  CHECK(peek_connect_version(pkt(0x10, connect_body(5, 0x03, ""))) == protocol_version::v5);
  CHECK(peek_connect_version(pkt(0x10, connect_body(4, 0x03, ""))) == protocol_version::v311);
  CHECK_FALSE(peek_connect_version(pkt(0x10, connect_body(3, 0x02, s("id")))).has_value());
  CHECK_FALSE(peek_connect_version(pkt(0x10, connect_body(5, 0x02, s("id"), props(), "MQTX"))).has_value());
  CHECK_FALSE(peek_connect_version(pkt(0x10, s("MQTT"))).has_value());
  CHECK_FALSE(peek_connect_version(pkt(0x10, "00")).has_value());
  CHECK_FALSE(peek_connect_version(pkt(0x30, connect_body(5, 0x02, s("id")))).has_value());
  CHECK_FALSE(peek_connect_version(test::from_hex("10")).has_value());
  CHECK_FALSE(peek_connect_version(test::from_hex("10ffffffff01")).has_value());
}

TEST_CASE("CONNECT: flags") {
  for (auto v : {4u, 5u}) {
    CAPTURE(v);
    const std::string will = (v == 5 ? props() : "") + s("w/t") + s("bye");
    CHECK(ok(0x10, connect_body(v, 0x06, s("id") + will), v5));
    // [MQTT-3.1.2-3] reserved bit.
    CHECK(err(0x10, connect_body(v, 0x03, s("id")), v5) == errc::bad_connect_flags);
    // Will QoS 3.
    CHECK(err(0x10, connect_body(v, 0x1E, s("id") + will), v5) == errc::bad_connect_flags);
    // Will QoS or will retain without the will flag.
    CHECK(err(0x10, connect_body(v, 0x0A, s("id")), v5) == errc::bad_connect_flags);
    CHECK(err(0x10, connect_body(v, 0x12, s("id")), v5) == errc::bad_connect_flags);
    CHECK(err(0x10, connect_body(v, 0x22, s("id")), v5) == errc::bad_connect_flags);
    // Flags announce fields that are not there.
    CHECK(err(0x10, connect_body(v, 0x06, s("id")), v5) == errc::truncated);
    CHECK(err(0x10, connect_body(v, 0x82, s("id")), v5) == errc::truncated);
    CHECK(err(0x10, connect_body(v, 0xC2, s("id") + s("user")), v5) == errc::truncated);
    // Fields the flags do not announce are trailing bytes.
    CHECK(err(0x10, connect_body(v, 0x02, s("id") + s("user")), v5) == errc::trailing_bytes);
  }
  // 3.1.1 [MQTT-3.1.2-22]: a password needs a user name; 5.0 allows it alone.
  CHECK(err(0x10, connect_body(4, 0x42, s("id") + s("pw")), v5) == errc::password_without_username);
  CHECK(ok(0x10, connect_body(5, 0x42, s("id") + s("pw")), v5));
  CHECK(to_reason_code(errc::password_without_username) == reason_code::protocol_error);
  CHECK_FALSE(to_connect_return_code(errc::password_without_username).has_value());
  CHECK(to_reason_code(errc::bad_connect_flags) == reason_code::malformed_packet);
}

TEST_CASE("CONNECT: client identifier") {
  // 3.1.1 [MQTT-3.1.3-8]: empty id without clean session is answered with return code 0x02.
  CHECK(err(0x10, connect_body(4, 0x00, s("")), v5) == errc::client_id_rejected);
  CHECK(ok(0x10, connect_body(4, 0x02, s("")), v5));
  CHECK(ok(0x10, connect_body(5, 0x00, s("")), v5));
  CHECK(to_connect_return_code(errc::client_id_rejected) == connect_return_code::identifier_rejected);
  CHECK(to_reason_code(errc::client_id_rejected) == reason_code::client_identifier_not_valid);
  CHECK(err(0x10, connect_body(4, 0x02, raw_s("c0af")), v5) == errc::invalid_utf8);
  CHECK(err(0x10, connect_body(5, 0x02, raw_s("610062")), v5) == errc::invalid_utf8);
  CHECK(err(0x10, connect_body(4, 0x02, "00"), v5) == errc::truncated);
  CHECK(err(0x10, connect_body(4, 0x02, "0005616263"), v5) == errc::truncated);
}

TEST_CASE("CONNECT: will topic, will payload format, user name") {
  CHECK(err(0x10, connect_body(4, 0x06, s("id") + s("a/+") + s("x")), v5) == errc::invalid_topic_name);
  CHECK(err(0x10, connect_body(4, 0x06, s("id") + s("#") + s("x")), v5) == errc::invalid_topic_name);
  CHECK(err(0x10, connect_body(4, 0x06, s("id") + s("") + s("x")), v5) == errc::invalid_topic_name);
  CHECK(err(0x10, connect_body(4, 0x06, s("id") + raw_s("eda080") + s("x")), v5) == errc::invalid_utf8);
  // Will payload format indicator 1: the will payload must be UTF-8.
  CHECK(err(0x10, connect_body(5, 0x06, s("id") + props("0101") + s("w") + raw_s("ff")), v5) ==
        errc::payload_format_invalid);
  CHECK(ok(0x10, connect_body(5, 0x06, s("id") + props("0100") + s("w") + raw_s("ff")), v5));
  CHECK(ok(0x10, connect_body(5, 0x06, s("id") + props("0101") + s("w") + raw_s("c3a9")), v5));
  CHECK(err(0x10, connect_body(4, 0x82, s("id") + raw_s("ff")), v5) == errc::invalid_utf8);
  // The password is binary data: anything goes.
  CHECK(ok(0x10, connect_body(4, 0xC2, s("id") + s("u") + raw_s("ff00")), v5));
}

TEST_CASE("CONNECT: properties") {
  auto connect5 = [](const std::string& inner) { return connect_body(5, 0x02, s("id"), props(inner)); };
  CHECK(ok(0x10,
           connect5("1100000e10"
                    "21000a"
                    "270000ffff"
                    "220005"
                    "1701"
                    "1900"
                    "26" +
                    s("k") + s("v") + "26" + s("k") + s("v2") + "15" + s("m") + "16" + s("d")),
           v5));
  // Value ranges: 3.1.2.11.
  CHECK(err(0x10, connect5("210000"), v5) == errc::bad_property_value);      // receive maximum 0
  CHECK(err(0x10, connect5("2700000000"), v5) == errc::bad_property_value);  // maximum packet size 0
  CHECK(err(0x10, connect5("1702"), v5) == errc::bad_property_value);        // request problem information 2
  CHECK(err(0x10, connect5("1902"), v5) == errc::bad_property_value);        // request response information 2
  CHECK(ok(0x10, connect5("220000"), v5));                                   // topic alias maximum 0 is fine
  // Duplicates, except user properties.
  CHECK(err(0x10, connect5("21000a21000b"), v5) == errc::duplicate_property);
  CHECK(err(0x10, connect5("110000000111000000ff"), v5) == errc::duplicate_property);
  CHECK(err(0x10, connect5("15" + s("a") + "15" + s("b")), v5) == errc::duplicate_property);
  // Not allowed in CONNECT.
  CHECK(err(0x10, connect5("230001"), v5) == errc::property_not_allowed);       // topic alias
  CHECK(err(0x10, connect5("1800000005"), v5) == errc::property_not_allowed);   // will delay interval
  CHECK(err(0x10, connect5("12" + s("x")), v5) == errc::property_not_allowed);  // assigned client id
  CHECK(err(0x10, connect5("2401"), v5) == errc::property_not_allowed);         // maximum QoS
  // Unknown identifiers, one- and two-byte.
  CHECK(err(0x10, connect5("0400"), v5) == errc::unknown_property);
  CHECK(err(0x10, connect5("2b00"), v5) == errc::unknown_property);
  CHECK(err(0x10, connect5("7f00"), v5) == errc::unknown_property);
  CHECK(err(0x10, connect5("800100"), v5) == errc::unknown_property);
  // Authentication data needs a method.
  CHECK(err(0x10, connect5("16" + s("d")), v5) == errc::missing_auth_method);
  CHECK(ok(0x10, connect5("15" + s("m")), v5));
  // Will properties have their own list.
  const std::string will_tail = s("w") + s("x");
  CHECK(ok(0x10, connect_body(5, 0x06, s("id") + props("1800000005") + will_tail), v5));
  CHECK(err(0x10, connect_body(5, 0x06, s("id") + props("21000a") + will_tail), v5) ==
        errc::property_not_allowed);
  CHECK(err(0x10, connect_body(5, 0x06, s("id") + props("230001") + will_tail), v5) ==
        errc::property_not_allowed);
  CHECK(err(0x10, connect_body(5, 0x06, s("id") + props("08" + s("a/#")) + will_tail), v5) ==
        errc::invalid_topic_name);
  CHECK(to_reason_code(errc::bad_property_value) == reason_code::protocol_error);
  CHECK(to_reason_code(errc::duplicate_property) == reason_code::protocol_error);
  CHECK(to_reason_code(errc::property_not_allowed) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::unknown_property) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::missing_auth_method) == reason_code::protocol_error);
}

TEST_CASE("property blocks: lengths and truncation") {
  auto pub5 = [](const std::string& block) { return s("t") + block + "7061796c6f6164"; };
  CHECK(ok(0x30, pub5(props()), v5));
  // The block's length runs past the packet.
  CHECK(err(0x30, s("t") + "05" + "0101", v5) == errc::truncated);
  // A value cut by the block's end (message expiry interval needs 4 bytes).
  CHECK(err(0x30,
            pub5("03"
                 "020000"),
            v5) == errc::truncated);
  CHECK(err(0x30,
            pub5("02"
                 "03"
                 "00"),
            v5) == errc::truncated);  // string length cut
  CHECK(err(0x30,
            pub5("04"
                 "03"
                 "0005"
                 "61"),
            v5) == errc::truncated);  // string body cut
  CHECK(err(0x30,
            pub5("03"
                 "26"
                 "0000"),
            v5) == errc::truncated);  // user property value missing
  CHECK(err(0x30,
            pub5("01"
                 "0b"),
            v5) == errc::truncated);  // subscription id missing
  CHECK(err(0x30,
            pub5("02"
                 "0b"
                 "80"),
            v5) == errc::truncated);  // subscription id cut
  // Variable byte integers inside packets: at most 4 bytes, minimal.
  CHECK(err(0x30, s("t") + "8000", v5) == errc::bad_varint);              // property length 0 in 2 bytes
  CHECK(err(0x30, s("t") + "ffffffff01", v5) == errc::bad_varint);        // property length in 5 bytes
  CHECK(err(0x30, pub5(props("0b8100")), v5) == errc::bad_varint);        // subscription id 1 in 2 bytes
  CHECK(err(0x30, pub5(props("0b8080808001")), v5) == errc::bad_varint);  // in 5 bytes
  CHECK(err(0x30, pub5(props("8000")), v5) == errc::bad_varint);          // property identifier 0 in 2 bytes
  CHECK(to_reason_code(errc::bad_varint) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::truncated) == reason_code::malformed_packet);
}

// ---- CONNACK ---------------------------------------------------------------------------------------

TEST_CASE("CONNACK errors") {
  CHECK(ok(0x20, "0000", v311));
  CHECK(ok(0x20, "0100", v311));
  CHECK(ok(0x20, "0005", v311));
  CHECK(ok(0x20,
           "00"
           "9f" +
               props(),
           v5));
  CHECK(err(0x20, "0200", v311) == errc::bad_connack_flags);
  CHECK(err(0x20, "8000" + props(), v5) == errc::bad_connack_flags);
  CHECK(err(0x20, "0006", v311) == errc::bad_reason_code);
  CHECK(err(0x20, "0080", v311) == errc::bad_reason_code);
  CHECK(err(0x20, "0004" + props(), v5) == errc::bad_reason_code);
  CHECK(err(0x20, "0010" + props(), v5) == errc::bad_reason_code);
  CHECK(err(0x20, "0001" + props(), v5) == errc::bad_reason_code);  // a 3.1.1 code under 5.0
  // [MQTT-3.2.2-6]: no session on a refusal.
  CHECK(err(0x20, "0105", v311) == errc::session_present_on_failure);
  CHECK(err(0x20, "0187" + props(), v5) == errc::session_present_on_failure);
  CHECK(to_reason_code(errc::session_present_on_failure) == reason_code::protocol_error);
  CHECK(err(0x20, "0000", v5) == errc::truncated);  // 5.0 CONNACK always has a property length
  CHECK(err(0x20, "00", v311) == errc::truncated);
  CHECK(err(0x20, "000000", v311) == errc::trailing_bytes);
  CHECK(err(0x20, "0000" + props() + "00", v5) == errc::trailing_bytes);
  CHECK(err(0x20, "0000" + props("16" + s("d")), v5) == errc::missing_auth_method);
  CHECK(err(0x20, "0000" + props("1701"), v5) == errc::property_not_allowed);
  CHECK(err(0x20, "0000" + props("210000"), v5) == errc::bad_property_value);
  for (std::string flag : {"24", "25", "28", "29", "2a"}) {
    CAPTURE(flag);
    CHECK(ok(0x20, "0000" + props(flag + "01"), v5));
    CHECK(err(0x20, "0000" + props(flag + "02"), v5) == errc::bad_property_value);
  }
  CHECK(to_reason_code(errc::bad_connack_flags) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::bad_reason_code) == reason_code::protocol_error);
}

// ---- PUBLISH ---------------------------------------------------------------------------------------

TEST_CASE("PUBLISH: QoS, packet identifier, topic") {
  CHECK(err(0x36, s("a") + "0001", v311) == errc::invalid_qos);
  CHECK(err(0x37, s("a") + "0001" + props(), v5) == errc::invalid_qos);
  CHECK(to_reason_code(errc::invalid_qos) == reason_code::malformed_packet);
  CHECK(err(0x32, s("a") + "0000", v311) == errc::packet_id_zero);
  CHECK(err(0x34, s("a") + "0000" + props(), v5) == errc::packet_id_zero);
  CHECK(to_reason_code(errc::packet_id_zero) == reason_code::protocol_error);
  CHECK(err(0x32, s("a") + "00", v311) == errc::truncated);
  CHECK(err(0x30, "00", v311) == errc::truncated);
  CHECK(err(0x30, "000561", v311) == errc::truncated);
  CHECK(err(0x30, s("a"), v5) == errc::truncated);  // 5.0: the property length is required
  // Topic names: no wildcards [MQTT-3.3.2-2], at least one character.
  for (std::string_view bad : {"a/+", "+", "#", "a/#", "a+b", "a#"}) {
    CAPTURE(bad);
    CHECK(err(0x30, s(bad), v311) == errc::invalid_topic_name);
    CHECK(err(0x30, s(bad) + props(), v5) == errc::invalid_topic_name);
  }
  CHECK(err(0x30, s(""), v311) == errc::invalid_topic_name);
  CHECK(to_reason_code(errc::invalid_topic_name) == reason_code::topic_name_invalid);
  // 5.0: an empty topic needs a topic alias.
  CHECK(err(0x30, s("") + props(), v5) == errc::empty_topic_without_alias);
  CHECK(ok(0x30, s("") + props("230001"), v5));
  CHECK(to_reason_code(errc::empty_topic_without_alias) == reason_code::protocol_error);
  // Levels may be empty, '$' and spaces are ordinary characters.
  CHECK(ok(0x30, s("/a//b/"), v311));
  CHECK(ok(0x30, s("$SYS/x y"), v311));
  // An empty payload is a payload.
  CHECK(ok(0x32, s("a") + "0001", v311));
}

TEST_CASE("PUBLISH: UTF-8 in the topic") {
  const std::pair<const char*, const char*> cases[] = {
      {"c0af", "overlong '/'"},
      {"e080af", "overlong three-byte"},
      {"f08080af", "overlong four-byte"},
      {"eda080", "surrogate U+D800"},
      {"edbfbf", "surrogate U+DFFF"},
      {"6100", "U+0000"},
      {"80", "lone continuation byte"},
      {"e282", "cut sequence"},
      {"f4908080", "above U+10FFFF"},
      {"f880808080", "five-byte form"},
      {"ff", "byte FF"},
  };
  for (const auto& [hex, what] : cases) {
    CAPTURE(what);
    CHECK(err(0x30, raw_s(hex), v311) == errc::invalid_utf8);
    CHECK(err(0x30, raw_s(hex) + props(), v5) == errc::invalid_utf8);
  }
  CHECK(ok(0x30, raw_s("efbbbf61"), v311));  // U+FEFF is kept, not refused
  CHECK(ok(0x30, raw_s("f48fbfbf"), v311));  // U+10FFFF
  CHECK(ok(0x30, raw_s("7f01"), v311));      // control characters are well formed
  CHECK(to_reason_code(errc::invalid_utf8) == reason_code::malformed_packet);
}

TEST_CASE("PUBLISH: properties") {
  auto pub5 = [](const std::string& inner, std::string_view payload_hex = "78") {
    return s("t") + props(inner) + std::string(payload_hex);
  };
  CHECK(ok(0x30,
           pub5("0101"
                "0200000e10"
                "03" +
                s("text/plain") + "08" + s("r/t") + "09" + s("c") + "0b01" +
                "0b7f"
                "0bffffff7f"
                "230009"
                "26" +
                s("a") + s("b") + "26" + s("a") + s("b")),
           v5));
  CHECK(err(0x30, pub5("0102"), v5) == errc::bad_property_value);    // payload format indicator 2
  CHECK(err(0x30, pub5("230000"), v5) == errc::bad_property_value);  // topic alias 0
  CHECK(err(0x30, pub5("0b00"), v5) == errc::bad_property_value);    // subscription identifier 0
  CHECK(err(0x30, pub5("03" + s("a") + "03" + s("b")), v5) == errc::duplicate_property);
  CHECK(err(0x30, pub5("230001230002"), v5) == errc::duplicate_property);
  CHECK(err(0x30, pub5("1f" + s("why")), v5) == errc::property_not_allowed);      // reason string
  CHECK(err(0x30, pub5("1800000001"), v5) == errc::property_not_allowed);         // will delay interval
  CHECK(err(0x30, pub5("1100000001"), v5) == errc::property_not_allowed);         // session expiry
  CHECK(err(0x30, pub5("08" + s("a/+")), v5) == errc::invalid_topic_name);        // response topic
  CHECK(err(0x30, pub5("03" + raw_s("eda080")), v5) == errc::invalid_utf8);       // content type
  CHECK(err(0x30, pub5("26" + s("a") + raw_s("00")), v5) == errc::invalid_utf8);  // user property value
  // [MQTT-3.3.2-4]: payload format indicator 1 wants a UTF-8 payload (U+0000 is well formed).
  CHECK(err(0x30, pub5("0101", "ff"), v5) == errc::payload_format_invalid);
  CHECK(err(0x30, pub5("0101", "eda080"), v5) == errc::payload_format_invalid);
  CHECK(ok(0x30, pub5("0101", "00c3a9"), v5));
  CHECK(ok(0x30, pub5("0100", "ff"), v5));
  CHECK(to_reason_code(errc::payload_format_invalid) == reason_code::payload_format_invalid);
}

// ---- PUBACK / PUBREC / PUBREL / PUBCOMP ------------------------------------------------------------

TEST_CASE("PUBACK, PUBREC, PUBREL, PUBCOMP errors") {
  for (uint8_t first : {uint8_t{0x40}, uint8_t{0x50}, uint8_t{0x62}, uint8_t{0x70}}) {
    CAPTURE(first);
    CHECK(err(first, "0000", v311) == errc::packet_id_zero);
    CHECK(err(first, "0000", v5) == errc::packet_id_zero);
    CHECK(err(first, "00", v311) == errc::truncated);
    CHECK(err(first, "", v5) == errc::truncated);
    CHECK(err(first, "000100", v311) == errc::trailing_bytes);
    CHECK(ok(first, "000100", v5));
    CHECK(err(first,
              "0001"
              "05",
              v5) == errc::bad_reason_code);  // no such code
    CHECK(err(first,
              "0001"
              "00"
              "05"
              "1f00",
              v5) == errc::truncated);
    CHECK(err(first,
              "0001"
              "00"
              "00"
              "00",
              v5) == errc::trailing_bytes);
    CHECK(err(first,
              "0001"
              "00" +
                  props("230001"),
              v5) == errc::property_not_allowed);
    CHECK(err(first,
              "0001"
              "00" +
                  props("1f" + s("a") + "1f" + s("b")),
              v5) == errc::duplicate_property);
    CHECK(ok(first,
             "0001"
             "00" +
                 props("1f" + s("a") + "26" + s("k") + s("v")),
             v5));
  }
  // Codes that exist but belong to another packet.
  CHECK(err(0x40,
            "0001"
            "92",
            v5) == errc::bad_reason_code);
  CHECK(err(0x50,
            "0001"
            "92",
            v5) == errc::bad_reason_code);
  CHECK(err(0x62,
            "0001"
            "10",
            v5) == errc::bad_reason_code);
  CHECK(err(0x70,
            "0001"
            "97",
            v5) == errc::bad_reason_code);
  CHECK(ok(0x40,
           "0001"
           "10",
           v5));
  CHECK(ok(0x62,
           "0001"
           "92",
           v5));
}

// ---- SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK ---------------------------------------------------

TEST_CASE("SUBSCRIBE errors") {
  CHECK(ok(0x82, "0001" + s("a/+/c") + "02", v311));
  CHECK(err(0x82, "0001", v311) == errc::no_topic_filters);
  CHECK(err(0x82, "0001" + props(), v5) == errc::no_topic_filters);
  CHECK(to_reason_code(errc::no_topic_filters) == reason_code::protocol_error);
  CHECK(err(0x82, "0000" + s("a") + "00", v311) == errc::packet_id_zero);
  CHECK(err(0x82, "0001" + s("a"), v311) == errc::truncated);  // options byte missing
  CHECK(err(0x82, "0001" + s("a") + "00" + "0001", v311) == errc::truncated);
  // Options: QoS 3, reserved bits (7..2 in 3.1.1, 7..6 in 5.0), retain handling 3.
  CHECK(err(0x82, "0001" + s("a") + "03", v311) == errc::bad_subscription_options);
  CHECK(err(0x82, "0001" + props() + s("a") + "03", v5) == errc::bad_subscription_options);
  for (std::string bit : {"04", "08", "10", "20", "40", "80"})
    CHECK(err(0x82, "0001" + s("a") + bit, v311) == errc::bad_subscription_options);
  CHECK(err(0x82, "0001" + props() + s("a") + "40", v5) == errc::bad_subscription_options);
  CHECK(err(0x82, "0001" + props() + s("a") + "80", v5) == errc::bad_subscription_options);
  CHECK(ok(0x82, "0001" + props() + s("a") + "2e", v5));
  CHECK(err(0x82, "0001" + props() + s("a") + "30", v5) == errc::bad_retain_handling);
  CHECK(to_reason_code(errc::bad_subscription_options) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::bad_retain_handling) == reason_code::protocol_error);
  // Filters.
  for (std::string_view bad : {"", "a/#/b", "a#", "#a", "a/b#", "+a", "a/+b/c", "##", "++"}) {
    CAPTURE(bad);
    CHECK(err(0x82, "0001" + s(bad) + "00", v311) == errc::invalid_topic_filter);
    CHECK(err(0x82, "0001" + props() + s(bad) + "00", v5) == errc::invalid_topic_filter);
  }
  CHECK(err(0x82, "0001" + raw_s("61c0af") + "00", v311) == errc::invalid_utf8);
  CHECK(to_reason_code(errc::invalid_topic_filter) == reason_code::topic_filter_invalid);
  // Shared subscriptions (5.0 only; in 3.1.1 "$share/..." is an ordinary filter).
  for (std::string_view bad :
       {"$share//a", "$share/g", "$share/g/", "$share/g+/a", "$share/g#/a", "$share/g/a#"}) {
    CAPTURE(bad);
    CHECK(err(0x82, "0001" + props() + s(bad) + "00", v5) == errc::invalid_topic_filter);
  }
  CHECK(ok(0x82, "0001" + s("$share/g") + "00", v311));
  CHECK(ok(0x82, "0001" + props() + s("$share/g/a/#") + "00", v5));
  CHECK(ok(0x82, "0001" + props() + s("$sharex/a") + "04", v5));
  // [MQTT-3.8.3-4]: no local on a shared subscription.
  CHECK(err(0x82, "0001" + props() + s("$share/g/a") + "04", v5) == errc::no_local_on_shared_subscription);
  CHECK(to_reason_code(errc::no_local_on_shared_subscription) == reason_code::protocol_error);
  // Properties: one subscription identifier, not 0; user properties; nothing else.
  CHECK(ok(0x82,
           "0001" +
               props("0b05"
                     "26" +
                     s("a") + s("b")) +
               s("a") + "00",
           v5));
  CHECK(err(0x82, "0001" + props("0b050b06") + s("a") + "00", v5) == errc::duplicate_property);
  CHECK(err(0x82, "0001" + props("0b00") + s("a") + "00", v5) == errc::bad_property_value);
  CHECK(err(0x82, "0001" + props("0101") + s("a") + "00", v5) == errc::property_not_allowed);
}

TEST_CASE("SUBACK errors") {
  CHECK(ok(0x90,
           "0001"
           "000102"
           "80",
           v311));
  CHECK(err(0x90, "0001", v311) == errc::no_reason_codes);
  CHECK(err(0x90, "0001" + props(), v5) == errc::no_reason_codes);
  CHECK(to_reason_code(errc::no_reason_codes) == reason_code::protocol_error);
  CHECK(err(0x90,
            "0001"
            "03",
            v311) == errc::bad_reason_code);
  CHECK(err(0x90,
            "0001"
            "87",
            v311) == errc::bad_reason_code);  // 3.1.1 knows only 0x80
  CHECK(err(0x90, "0001" + props() + "11", v5) == errc::bad_reason_code);
  CHECK(ok(0x90, "0001" + props() + "87a2", v5));
  CHECK(err(0x90,
            "0000"
            "00",
            v311) == errc::packet_id_zero);
  CHECK(err(0x90, "00", v311) == errc::truncated);
  CHECK(err(0x90, "0001" + props("0b01") + "00", v5) == errc::property_not_allowed);
}

TEST_CASE("UNSUBSCRIBE and UNSUBACK errors") {
  CHECK(ok(0xA2, "0001" + s("a/+") + s("#"), v311));
  CHECK(err(0xA2, "0001", v311) == errc::no_topic_filters);
  CHECK(err(0xA2, "0001" + props(), v5) == errc::no_topic_filters);
  CHECK(err(0xA2, "0000" + s("a"), v311) == errc::packet_id_zero);
  CHECK(err(0xA2, "0001" + s("a/#/b"), v311) == errc::invalid_topic_filter);
  CHECK(err(0xA2, "0001" + props() + s("$share/g"), v5) == errc::invalid_topic_filter);
  CHECK(err(0xA2, "0001" + raw_s("eda080"), v311) == errc::invalid_utf8);
  CHECK(err(0xA2, "0001" + s("a") + "00", v311) == errc::truncated);
  CHECK(err(0xA2, "0001" + props("0b01") + s("a"), v5) == errc::property_not_allowed);

  CHECK(ok(0xB0, "0001", v311));
  CHECK(err(0xB0, "000100", v311) == errc::trailing_bytes);
  CHECK(err(0xB0, "0000", v311) == errc::packet_id_zero);
  CHECK(err(0xB0, "0001" + props(), v5) == errc::no_reason_codes);
  CHECK(err(0xB0, "0001", v5) == errc::truncated);
  CHECK(err(0xB0, "0001" + props() + "01", v5) == errc::bad_reason_code);
  CHECK(err(0xB0,
            "0001" + props() +
                "0011"
                "10",
            v5) == errc::bad_reason_code);
  CHECK(ok(0xB0, "0001" + props() + "00118f", v5));
}

// ---- PINGREQ, PINGRESP, DISCONNECT, AUTH -----------------------------------------------------------

TEST_CASE("PINGREQ, PINGRESP, DISCONNECT, AUTH errors") {
  for (auto v : {v311, v5}) {
    CHECK(err(0xC0, "00", v) == errc::trailing_bytes);
    CHECK(err(0xD0, "00", v) == errc::trailing_bytes);
  }
  CHECK(err(0xE0, "00", v311) == errc::trailing_bytes);
  CHECK(ok(0xE0, "04", v5));
  CHECK(err(0xE0, "18", v5) == errc::bad_reason_code);
  CHECK(err(0xE0, "01", v5) == errc::bad_reason_code);
  CHECK(err(0xE0, "00" + props("230001"), v5) == errc::property_not_allowed);
  CHECK(err(0xE0, "00" + props("1f"), v5) == errc::truncated);
  CHECK(err(0xE0, "00" + props() + "00", v5) == errc::trailing_bytes);
  CHECK(ok(0xE0,
           "8e" + props("1100000000"
                        "1c" +
                        s("x") + "1f" + s("y")),
           v5));

  CHECK(ok(0xF0, "18" + props("15" + s("SCRAM") + "16" + s("d")), v5));
  CHECK(err(0xF0, "00", v5) == errc::truncated);  // reason without property length
  CHECK(err(0xF0, "18" + props(), v5) == errc::missing_auth_method);
  CHECK(err(0xF0, "18" + props("16" + s("d")), v5) == errc::missing_auth_method);
  CHECK(err(0xF0, "01" + props("15" + s("m")), v5) == errc::bad_reason_code);
  CHECK(err(0xF0, "87" + props("15" + s("m")), v5) == errc::bad_reason_code);
  CHECK(err(0xF0, "19" + props("15" + s("m") + "1100000001"), v5) == errc::property_not_allowed);
  CHECK(err(0xF0, "19" + props("15" + s("m")) + "00", v5) == errc::trailing_bytes);
}

// ---- error mapping ---------------------------------------------------------------------------------

TEST_CASE("errors map to 5.0 reason codes and 3.1.1 return codes") {
  CHECK(to_reason_code(errc::bad_remaining_length) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::trailing_bytes) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::bad_packet_type) == reason_code::malformed_packet);
  CHECK(to_reason_code(errc::bad_protocol_name) == reason_code::unsupported_protocol_version);
  CHECK(to_reason_code(errc::unsupported_protocol_version) == reason_code::unsupported_protocol_version);
  CHECK(to_reason_code(std::error_code(errc::invalid_topic_filter)) == reason_code::topic_filter_invalid);
  CHECK(to_reason_code(std::make_error_code(std::errc::io_error)) == reason_code::unspecified_error);
  CHECK(to_reason_code(std::error_code(bytes::errc::end_of_input)) == reason_code::unspecified_error);
  // Only two decode errors have a 3.1.1 CONNACK; the rest close the connection silently.
  int with_return_code = 0;
  for (int e = 1; e <= static_cast<int>(errc::payload_format_invalid); ++e) {
    CAPTURE(e);
    const auto code = static_cast<errc>(e);
    CHECK(is_failure(to_reason_code(code)));
    const bool sendable = reason_code_allowed(packet_type::disconnect, to_reason_code(code)) ||
                          reason_code_allowed(packet_type::connack, to_reason_code(code));
    CHECK(sendable);
    CHECK(std::string(std::error_code(code).message()) != "unknown mqtt error");
    if (to_connect_return_code(code)) ++with_return_code;
  }
  CHECK(with_return_code == 2);
  CHECK(std::string(std::error_code(errc::truncated).category().name()) == "mqtt");
}

}  // namespace
}  // namespace tributary::mqtt
