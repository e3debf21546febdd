#pragma once
// The limits and settings of the MQTT session core. Every value is a documented config key (see
// gateway/gateway_config.cc, which binds them, and packaging/config/gateway.json).
#include <cstddef>
#include <cstdint>
#include <string>

namespace tributary::gateway::mqtt {

struct core_config {
  std::string gateway_id = "gateway";  // gateway.id: the tributary.gateway header of every reading
  // mqtt.max_packet_bytes: the largest packet a client may send (advertised in a 5.0 CONNACK as
  // Maximum Packet Size); larger ones close the connection (5.0: DISCONNECT 0x95 first).
  uint32_t max_packet_bytes = 256 << 10;
  // mqtt.receive_maximum: QoS 1 and 2 PUBLISH packets a client may have unacknowledged (5.0:
  // advertised; one more is DISCONNECT 0x93). 3.1.1 clients: reading pauses at this many readings
  // waiting for their commit, and more than this many QoS 2 ids awaiting PUBREL closes the connection.
  uint16_t receive_maximum = 256;
  // mqtt.topic_alias_maximum: topic aliases a 5.0 client may set (0 = none).
  uint16_t topic_alias_maximum = 16;
  // mqtt.keep_alive_max_s: the longest keep alive accepted (0 = no limit). A 5.0 client asking for
  // more (or for 0) is told this value (Server Keep Alive); a 3.1.1 client is held to it silently.
  uint16_t keep_alive_max_s = 1200;
  // mqtt.session_expiry_max_s: a persistent session is kept at most this long after its connection
  // ends (a 5.0 client asking for more is told this value; 3.1.1 persistent sessions get it).
  uint32_t session_expiry_max_s = 86400;
  // mqtt.sessions_max: persistent sessions kept without a connection; beyond it the one closest to
  // its expiry is discarded (counted).
  size_t sessions_max = 10000;
  // mqtt.subscriptions_max: topic filters recorded per session; beyond it SUBACK refuses (0x97).
  size_t subscriptions_max = 64;
  // mqtt.subscription_bytes_max: bytes of topic filters recorded per session (beyond: 0x97).
  size_t subscription_bytes_max = 16 << 10;
  // mqtt.topic_alias_bytes_max: bytes of topics held by one session's topic aliases; setting more is
  // DISCONNECT 0x94. (Without it, 16 aliases of 64 KiB topics would hold 1 MiB per connection.)
  size_t topic_alias_bytes_max = 16 << 10;
  // mqtt.will_bytes_max: will topic + payload kept per session; a larger will is refused with
  // CONNACK 0x95 (3.1.1: return code 0x03). Wills live in memory for the session's life.
  size_t will_bytes_max = 16 << 10;
  // mqtt.connect_timeout_ms: a connection must complete CONNECT (and authentication) within this.
  uint64_t connect_timeout_ms = 10000;
  // mqtt.quota_backoff_ms: after the buffer refused a 3.1.1 client's QoS 1/2 PUBLISH (quota full,
  // commit failed), nothing more is acknowledged, reading stops, and the connection is closed this
  // much later: the client reconnects and re-sends what was not acknowledged.
  uint64_t quota_backoff_ms = 1000;
  // mqtt.client_id_bytes_max: longer client identifiers are refused (0x85 / return code 0x02).
  size_t client_id_bytes_max = 256;
  // mqtt.user_properties_max: 5.0 user properties copied into a reading's headers (more are dropped).
  size_t user_properties_max = 16;
  // auth.anonymous: clients without a user name are accepted.
  bool anonymous = true;
  // A password file is configured (auth.password_file): clients with a user name are verified.
  bool passwords = false;
};

}  // namespace tributary::gateway::mqtt
