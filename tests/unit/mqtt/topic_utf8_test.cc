// UTF-8 rules, topic name and filter validation, topic matching, reason code tables.
#include <string>

#include "common/mqtt/topic.h"
#include "common/mqtt/utf8.h"
#include "test_support.h"

namespace tributary::mqtt {
namespace {

using namespace std::string_view_literals;

bool well_formed(std::string_view hex) {
  const auto bytes = test::from_hex(hex);
  return is_well_formed_utf8(bytes);
}
bool mqtt_string(std::string_view hex) {
  const auto bytes = test::from_hex(hex);
  return validate_utf8_string(as_string_view(bytes)).has_value();
}

TEST_CASE("UTF-8: well-formed sequences at every boundary") {
  for (std::string_view hex : {
           "",          // empty
           "00",        // U+0000 (well formed; refused only in strings)
           "7f",        // U+007F
           "c280",      // U+0080
           "dfbf",      // U+07FF
           "e0a080",    // U+0800
           "ecbfbf",    // U+CFFF
           "ed9fbf",    // U+D7FF, just below the surrogates
           "ee8080",    // U+E000, just above them
           "efbbbf",    // U+FEFF
           "efbfbf",    // U+FFFF
           "f0908080",  // U+10000
           "f3bfbfbf",  // U+FFFFF
           "f48fbfbf",  // U+10FFFF
       }) {
    CAPTURE(hex);
    CHECK(well_formed(hex));
  }
}

TEST_CASE("UTF-8: ill-formed sequences") {
  for (std::string_view hex : {
           "80",        // continuation byte alone
           "bf",        // continuation byte alone
           "c0af",      // overlong '/'
           "c180",      // overlong
           "c2",        // cut
           "c27f",      // second byte not a continuation
           "e080af",    // overlong three-byte
           "e09fbf",    // overlong three-byte, top of range
           "eda080",    // U+D800 (surrogate)
           "edafbf",    // U+DBFF
           "edb080",    // U+DC00
           "edbfbf",    // U+DFFF
           "e282",      // cut
           "e2827f",    // bad third byte
           "f08f8080",  // overlong four-byte
           "f4908080",  // U+110000
           "f5808080",  // lead byte F5
           "f0908080"
           "80",            // extra continuation
           "f09080",        // cut
           "f8888080a0",    // five-byte form
           "fc8480808080",  // six-byte form
           "fe",
           "ff",
       }) {
    CAPTURE(hex);
    CHECK_FALSE(well_formed(hex));
    CHECK_FALSE(mqtt_string(hex));
  }
}

TEST_CASE("UTF-8 Encoded String: no U+0000, at most 65535 bytes") {
  CHECK(mqtt_string("61"));
  CHECK_FALSE(mqtt_string("00"));
  CHECK_FALSE(mqtt_string("610062"));
  CHECK(validate_utf8_string("").has_value());
  const std::string longest(65535, 'a');
  CHECK(validate_utf8_string(longest).has_value());
  CHECK(test::error_of(validate_utf8_string(longest + "a")) == errc::invalid_utf8);
  CHECK(validate_utf8_string("caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80").has_value());
}

TEST_CASE("topic names") {
  for (std::string_view ok : {"a", "/", "a/b", "/a", "a/", "a//b", "$SYS/x", " ", "sensors/dev 1/temp"})
    CHECK(validate_topic_name(ok).has_value());
  for (std::string_view bad : {"", "+", "#", "a/+", "a/#", "a+", "#/a"})
    CHECK(test::error_of(validate_topic_name(bad)) == errc::invalid_topic_name);
  CHECK(test::error_of(validate_topic_name("a\0b"sv)) == errc::invalid_utf8);
  CHECK(test::error_of(validate_topic_name("\xc0\xaf")) == errc::invalid_utf8);
}

TEST_CASE("topic filters") {
  for (std::string_view ok : {"#", "+", "a", "a/#", "a/+", "+/+", "+/#", "/#", "a/+/b/#", "/", "//", "+//+",
                              "$SYS/#", "$share/g/a"})
    CHECK(validate_topic_filter(ok).has_value());
  for (std::string_view bad : {"", "a#", "#a", "a/#/b", "#/", "a/b#", "+a", "a+", "a/+b", "++", "##", "#/#"})
    CHECK(test::error_of(validate_topic_filter(bad)) == errc::invalid_topic_filter);
  CHECK(test::error_of(validate_topic_filter("a/\xed\xa0\x80")) == errc::invalid_utf8);
}

TEST_CASE("shared subscriptions") {
  CHECK(is_shared_subscription("$share/g/a"));
  CHECK_FALSE(is_shared_subscription("$share"));
  CHECK_FALSE(is_shared_subscription("$sharex/g/a"));
  CHECK_FALSE(is_shared_subscription("a/$share/g"));
  auto s = parse_shared_subscription("$share/group-1/sensors/+/temp");
  REQUIRE(s.has_value());
  CHECK(s->share_name == "group-1");
  CHECK(s->filter == "sensors/+/temp");
  CHECK(parse_shared_subscription("$share/g/#")->filter == "#");
  for (std::string_view bad :
       {"$share/", "$share//a", "$share/g", "$share/g/", "$share/+/a", "$share/#/a", "$share/g/a/#/b"})
    CHECK(test::error_of(parse_shared_subscription(bad)) == errc::invalid_topic_filter);
}

TEST_CASE("topic matching") {
  struct match_case {
    std::string_view filter;
    std::string_view topic;
    bool matches;
  };
  const match_case cases[] = {
      // Literal.
      {"a", "a", true},
      {"a", "b", false},
      {"a", "a/b", false},
      {"a/b", "a", false},
      {"a/b", "a/b", true},
      {"A", "a", false},  // case sensitive
      // '#': the level and everything below, including the parent [4.7.1.2].
      {"#", "a", true},
      {"#", "a/b/c", true},
      {"#", "/", true},
      {"sport/tennis/player1/#", "sport/tennis/player1", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
      {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
      {"sport/tennis/player1/#", "sport/tennis/player2", false},
      {"sport/#", "sport", true},
      {"sport/#", "sports", false},
      {"a/#", "a/", true},
      // '+': exactly one level, which may be empty [4.7.1.3].
      {"sport/tennis/+", "sport/tennis/player1", true},
      {"sport/tennis/+", "sport/tennis/player1/ranking", false},
      {"sport/+", "sport", false},
      {"sport/+", "sport/", true},
      {"+", "a", true},
      {"+", "/a", false},
      {"+/+", "/finance", true},
      {"/+", "/finance", true},
      {"+", "/finance", false},
      {"+/b/+", "a/b/c", true},
      {"+/b/+", "a/x/c", false},
      {"+/#", "a", true},
      {"+/#", "a/b/c", true},
      {"a//b", "a//b", true},
      {"a/+/b", "a//b", true},
      // '$' topics are out of reach of leading wildcards [MQTT-4.7.2-1].
      {"#", "$SYS/broker/uptime", false},
      {"+/broker/uptime", "$SYS/broker/uptime", false},
      {"+/monitor/Clients", "$SYS/monitor/Clients", false},
      {"$SYS/#", "$SYS/broker/uptime", true},
      {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
      {"$SYS/#", "$SYS", true},
      {"a/#", "a/$b", true},  // only the first level counts
  };
  for (const auto& c : cases) {
    CAPTURE(c.filter);
    CAPTURE(c.topic);
    CHECK(validate_topic_filter(c.filter).has_value());
    CHECK(validate_topic_name(c.topic).has_value());
    CHECK(topic_matches(c.filter, c.topic) == c.matches);
  }
}

TEST_CASE("reason codes: names, tables, 3.1.1 return codes") {
  CHECK(reason_code_name(reason_code::success) == "success");
  CHECK(reason_code_name(reason_code::normal_disconnection) == "success");
  CHECK(reason_code_name(reason_code::malformed_packet) == "malformed_packet");
  CHECK(reason_code_name(reason_code::wildcard_subscriptions_not_supported) ==
        "wildcard_subscriptions_not_supported");
  CHECK(reason_code_name(static_cast<reason_code>(0x03)) == "unknown");
  int known = 0;
  for (int v = 0; v < 256; ++v) known += is_known_reason_code(static_cast<uint8_t>(v)) ? 1 : 0;
  CHECK(known == 43);  // 5.0 section 2.4 lists 43 distinct values
  CHECK(is_failure(reason_code::unspecified_error));
  CHECK_FALSE(is_failure(reason_code::no_matching_subscribers));

  // Spot checks of the per-packet tables.
  CHECK(reason_code_allowed(packet_type::connack, reason_code::bad_authentication_method));
  CHECK_FALSE(reason_code_allowed(packet_type::connack, reason_code::server_shutting_down));
  CHECK(reason_code_allowed(packet_type::puback, reason_code::no_matching_subscribers));
  CHECK_FALSE(reason_code_allowed(packet_type::pubcomp, reason_code::no_matching_subscribers));
  CHECK(reason_code_allowed(packet_type::suback, reason_code::granted_qos_2));
  CHECK_FALSE(reason_code_allowed(packet_type::unsuback, reason_code::granted_qos_2));
  CHECK(reason_code_allowed(packet_type::unsuback, reason_code::no_subscription_existed));
  CHECK(reason_code_allowed(packet_type::disconnect, reason_code::disconnect_with_will_message));
  CHECK_FALSE(reason_code_allowed(packet_type::disconnect, reason_code::client_identifier_not_valid));
  CHECK(reason_code_allowed(packet_type::auth, reason_code::re_authenticate));
  CHECK_FALSE(reason_code_allowed(packet_type::publish, reason_code::success));
  CHECK_FALSE(reason_code_allowed(packet_type::pingreq, reason_code::success));
  // Every code is allowed somewhere, and every code but 0x00 has a name of its own.
  for (int v = 0; v < 256; ++v) {
    const auto r = static_cast<reason_code>(v);
    if (!is_known_reason_code(static_cast<uint8_t>(v))) continue;
    bool somewhere = false;
    for (int t = 1; t <= 15; ++t)
      somewhere = somewhere || reason_code_allowed(static_cast<packet_type>(t), r);
    CAPTURE(v);
    CHECK(somewhere);
  }

  for (uint8_t rc = 0; rc <= 5; ++rc) {
    const auto r = from_connect_return_code(rc);
    REQUIRE(r.has_value());
    CHECK(static_cast<uint8_t>(to_connect_return_code(*r)) == rc);
    CHECK(connect_return_code_name(static_cast<connect_return_code>(rc)) != "unknown");
  }
  CHECK_FALSE(from_connect_return_code(6).has_value());
  CHECK(to_connect_return_code(reason_code::banned) == connect_return_code::not_authorized);
  CHECK(to_connect_return_code(reason_code::server_busy) == connect_return_code::server_unavailable);
  CHECK(to_connect_return_code(reason_code::packet_too_large) == connect_return_code::server_unavailable);

  CHECK(packet_type_name(packet_type::unsuback) == "UNSUBACK");
  for (int t = 1; t <= 15; ++t) CHECK(packet_type_name(static_cast<packet_type>(t)) != "unknown");
  CHECK(packet_type_name(static_cast<packet_type>(0)) == "unknown");
  CHECK(protocol_version_name(protocol_version::v311) == "3.1.1");
  CHECK(protocol_version_name(protocol_version::v5) == "5.0");
  CHECK(property_name(property_id::subscription_identifier) == "subscription_identifier");
  CHECK(property_name(static_cast<property_id>(0x04)) == "unknown");
  CHECK(property_allowed(property_id::will_delay_interval, property_context::will));
  CHECK_FALSE(property_allowed(property_id::will_delay_interval, property_context::connect));
  CHECK_FALSE(property_allowed(static_cast<property_id>(0x7F), property_context::connect));
}

}  // namespace
}  // namespace tributary::mqtt
