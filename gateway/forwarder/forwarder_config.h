#pragma once
// The forwarder's settings: keys under `forwarder.` (add_forwarder_config binds them to a schema).
//
//   "forwarder": {
//     "bootstrap_servers": "kafka-1.example:9093,kafka-2.example:9093",
//     "compression": "lz4",
//     "librdkafka": ["security.protocol=sasl_ssl", "sasl.mechanisms=SCRAM-SHA-256",
//                    "sasl.username=gw-17", "sasl.password=...", "ssl.ca.location=/etc/ssl/ca.pem"]
//   }
//
// `forwarder.librdkafka` passes settings through to librdkafka unchanged (TLS, SASL, timeouts, socket
// options...), so the gateway works against any Kafka-protocol cluster. The config schema has no
// string-map type, so it is a list of "key=value" strings (on the command line:
// --set forwarder.librdkafka=a=1,b=2 — values holding a comma need the file). The settings the
// forwarder's guarantees depend on (idempotence, acks, in-flight limit, partitioner, delivery
// timeout, queue sizes, the callbacks) cannot be passed through: use the forwarder.* key that
// names them, or there is none on purpose (validate() says which).
//
// Fixed choices (see forwarder.h): enable.idempotence=true, acks=all, at most 5 requests in flight
// per connection (order per partition under retries), partitioner=murmur2_random (the Java
// client's default for keyed records, so Java and librdkafka producers put a key on the same
// partition).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/config.h"
#include "gateway/forwarder/core/forward_core.h"

namespace tributary::gateway::forwarder {

enum class compression_codec : uint8_t { none, gzip, snappy, lz4, zstd };
std::string_view to_string(compression_codec c);

struct forwarder_config {
  bool enabled = true;            // forwarder.enabled (also needs bootstrap_servers)
  std::string bootstrap_servers;  // forwarder.bootstrap_servers; "" = not forwarding
  compression_codec compression = compression_codec::lz4;
  uint32_t linger_ms = 5;
  uint32_t batch_rows_max = 1000;
  uint64_t batch_bytes_max = 1 << 20;
  uint32_t in_flight_rows_max = 10000;
  uint64_t in_flight_bytes_max = 32ull << 20;
  uint32_t remove_batch_rows_max = 2000;
  uint32_t retry_backoff_min_ms = 200;
  uint32_t retry_backoff_max_ms = 30000;
  uint32_t delivery_timeout_ms = 30000;
  uint32_t request_timeout_ms = 10000;
  uint32_t idle_poll_ms = 20;
  uint32_t poll_interval_ms = 100;
  uint32_t queue_full_retry_ms = 10;
  uint32_t job_retry_ms = 1000;
  uint32_t stop_timeout_ms = 5000;
  uint32_t stats_interval_ms = 1000;
  bool unknown_topic_dead_letter = true;  // forwarder.unknown_topic: "dead-letter" or "retry"
  uint64_t seed = 0;                      // jitter generator; 0 = from std::random_device
  std::vector<std::string> librdkafka;    // "key=value" passthrough

  // Not config keys: the gateway's main sets them.
  std::string gateway_id = "gateway";  // the tributary.gateway header when a reading lacks it

  bool active() const { return enabled && !bootstrap_servers.empty(); }
};

// Binds every forwarder.* key (c must outlive s and must not move).
void add_forwarder_config(config::schema& s, forwarder_config& c);

// What single keys cannot check: combinations, and the passthrough list (well-formed, not a key the
// forwarder owns). Messages name the keys.
std::optional<std::string> validate(const forwarder_config& c);

// The librdkafka producer settings, in the order they are applied: the forwarder's, then the
// passthrough list. (librdkafka itself checks names and values when the producer is created.)
std::vector<std::pair<std::string, std::string>> librdkafka_properties(const forwarder_config& c);

// The keys the passthrough list may not set.
const std::vector<std::string>& owned_librdkafka_keys();

core_limits make_core_limits(const forwarder_config& c);

// Header names the forwarder adds to every record (see forwarder.h).
inline constexpr std::string_view header_gateway = "tributary.gateway";          // gateway id
inline constexpr std::string_view header_gateway_seq = "tributary.gateway_seq";  // decimal text

}  // namespace tributary::gateway::forwarder
