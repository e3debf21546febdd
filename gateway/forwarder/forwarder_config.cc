#include "gateway/forwarder/forwarder_config.h"

#include <algorithm>

#include <fmt/format.h>

namespace tributary::gateway::forwarder {

std::string_view to_string(compression_codec c) {
  switch (c) {
    case compression_codec::none: return "none";
    case compression_codec::gzip: return "gzip";
    case compression_codec::snappy: return "snappy";
    case compression_codec::lz4: return "lz4";
    case compression_codec::zstd: return "zstd";
  }
  return "none";
}

void add_forwarder_config(config::schema& s, forwarder_config& c) {
  s.add("forwarder.enabled", c.enabled,
        "Forward the buffer to the cluster (also needs forwarder.bootstrap_servers). false: buffer only.");
  s.add("forwarder.bootstrap_servers", c.bootstrap_servers,
        "Kafka bootstrap servers, host:port[,host:port...] (any Kafka-protocol cluster). \"\" = not "
        "forwarding.");
  s.add_enum("forwarder.compression", c.compression,
             {{"none", compression_codec::none},
              {"gzip", compression_codec::gzip},
              {"snappy", compression_codec::snappy},
              {"lz4", compression_codec::lz4},
              {"zstd", compression_codec::zstd}},
             "Record batch compression (compression.type).");
  s.add("forwarder.linger_ms", c.linger_ms, "How long the producer waits to fill a batch (linger.ms).",
        {.min = 0, .max = 60000});
  s.add("forwarder.batch_rows_max", c.batch_rows_max, "Readings read from the buffer at once.",
        {.min = 1, .max = 10000});
  s.add("forwarder.batch_bytes_max", c.batch_bytes_max,
        "Accounted bytes read from the buffer at once (the first reading may exceed it).",
        {.min = 1024, .max = 1ull << 30});
  s.add("forwarder.in_flight_rows_max", c.in_flight_rows_max,
        "Readings sent and not yet removed from the buffer (the window). Bounds the duplicates a crash can "
        "cause.",
        {.min = 1, .max = 1000000});
  s.add("forwarder.in_flight_bytes_max", c.in_flight_bytes_max, "Accounted bytes in the window.",
        {.min = 1 << 20, .max = 1ull << 34});
  s.add("forwarder.remove_batch_rows_max", c.remove_batch_rows_max,
        "Acknowledged readings deleted from the buffer per transaction.", {.min = 1, .max = 10000});
  s.add("forwarder.retry_backoff_min_ms", c.retry_backoff_min_ms,
        "First wait after a retriable failure (doubles per failure, jittered to [d/2, d]; also "
        "reconnect.backoff.ms and retry.backoff.ms).",
        {.min = 1, .max = 3600000});
  s.add("forwarder.retry_backoff_max_ms", c.retry_backoff_max_ms,
        "Longest wait between attempts (also reconnect.backoff.max.ms).", {.min = 1, .max = 3600000});
  s.add("forwarder.delivery_timeout_ms", c.delivery_timeout_ms,
        "A record not acknowledged within this fails as retriable: everything in flight is purged, stays in "
        "the buffer and is sent again after a backoff (enforced by the forwarder; librdkafka's "
        "message.timeout.ms is infinite).",
        {.min = 1000, .max = 3600000});
  s.add("forwarder.request_timeout_ms", c.request_timeout_ms,
        "One produce request's timeout (request.timeout.ms); less than delivery_timeout_ms.",
        {.min = 100, .max = 900000});
  s.add("forwarder.idle_poll_ms", c.idle_poll_ms, "The buffer had nothing to send: look again after this.",
        {.min = 1, .max = 60000});
  s.add("forwarder.poll_interval_ms", c.poll_interval_ms,
        "Producer events are served when librdkafka signals them, and at least this often.",
        {.min = 1, .max = 10000});
  s.add("forwarder.queue_full_retry_ms", c.queue_full_retry_ms,
        "The producer's queue was full: try again after this (or after the next delivery report).",
        {.min = 1, .max = 60000});
  s.add("forwarder.job_retry_ms", c.job_retry_ms,
        "A buffer read, delete or dead-letter move failed: run it again after this.",
        {.min = 1, .max = 3600000});
  s.add("forwarder.stop_timeout_ms", c.stop_timeout_ms,
        "At shutdown, how long records in flight may take to be acknowledged (fewer duplicates after a "
        "restart); what is left is sent again after the restart.",
        {.min = 0, .max = 600000});
  s.add("forwarder.stats_interval_ms", c.stats_interval_ms,
        "librdkafka statistics period: broker states for the uplink gauge (statistics.interval.ms).",
        {.min = 100, .max = 3600000});
  s.add_enum("forwarder.unknown_topic", c.unknown_topic_dead_letter,
             {{"dead-letter", true}, {"retry", false}},
             "A topic the cluster does not have (and does not create): dead-letter its readings, or keep "
             "retrying them.");
  s.add("forwarder.seed", c.seed, "Seed of the backoff jitter; 0 = random.");
  s.add("forwarder.librdkafka", c.librdkafka,
        "librdkafka settings passed through, as \"key=value\" strings (TLS: security.protocol, ssl.*; SASL: "
        "sasl.*). Keys the forwarder sets itself are refused.");
}

const std::vector<std::string>& owned_librdkafka_keys() {
  static const std::vector<std::string> keys = {
      "bootstrap.servers",
      "metadata.broker.list",
      "enable.idempotence",
      "acks",
      "request.required.acks",
      "max.in.flight.requests.per.connection",
      "max.in.flight",
      "retries",
      "message.send.max.retries",
      "enable.gapless.guarantee",
      "partitioner",
      "compression.codec",
      "compression.type",
      "linger.ms",
      "queue.buffering.max.ms",
      "message.timeout.ms",
      "delivery.timeout.ms",
      "request.timeout.ms",
      "queue.buffering.max.messages",
      "queue.buffering.max.kbytes",
      "statistics.interval.ms",
      "retry.backoff.ms",
      "reconnect.backoff.ms",
      "reconnect.backoff.max.ms",
      "dr_cb",
      "dr_msg_cb",
      "error_cb",
      "stats_cb",
      "log_cb",
      "opaque",
      "produce.offset.report",
      "delivery.report.only.error",
      "transactional.id",
  };
  return keys;
}

namespace {
// The key of "key=value" (trimmed of nothing: librdkafka keys have no spaces), or nullopt.
std::optional<std::pair<std::string, std::string>> split_assignment(const std::string& s) {
  const auto eq = s.find('=');
  if (eq == std::string::npos || eq == 0) return std::nullopt;
  return std::make_pair(s.substr(0, eq), s.substr(eq + 1));
}
}  // namespace

std::optional<std::string> validate(const forwarder_config& c) {
  if (c.retry_backoff_min_ms > c.retry_backoff_max_ms) {
    return "forwarder.retry_backoff_min_ms must be at most forwarder.retry_backoff_max_ms";
  }
  if (c.request_timeout_ms >= c.delivery_timeout_ms) {
    return "forwarder.request_timeout_ms must be less than forwarder.delivery_timeout_ms";
  }
  if (c.batch_rows_max > c.in_flight_rows_max) {
    return "forwarder.batch_rows_max must be at most forwarder.in_flight_rows_max";
  }
  if (c.batch_bytes_max > c.in_flight_bytes_max) {
    return "forwarder.batch_bytes_max must be at most forwarder.in_flight_bytes_max";
  }
  if (c.enabled && c.bootstrap_servers.find_first_of(" \t\n") != std::string::npos) {
    return "forwarder.bootstrap_servers: host:port entries separated by commas, without spaces";
  }
  const auto& owned = owned_librdkafka_keys();
  for (size_t i = 0; i < c.librdkafka.size(); ++i) {
    auto kv = split_assignment(c.librdkafka[i]);
    if (!kv) {
      return fmt::format("forwarder.librdkafka[{}]: expected \"key=value\", got \"{}\"", i, c.librdkafka[i]);
    }
    if (std::find(owned.begin(), owned.end(), kv->first) != owned.end()) {
      return fmt::format(
          "forwarder.librdkafka[{}]: \"{}\" is set by the forwarder itself (see the forwarder.* keys)", i,
          kv->first);
    }
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> librdkafka_properties(const forwarder_config& c) {
  std::vector<std::pair<std::string, std::string>> p;
  auto set = [&](std::string k, std::string v) { p.emplace_back(std::move(k), std::move(v)); };
  set("bootstrap.servers", c.bootstrap_servers);
  set("client.id", "tributary-gateway-" + c.gateway_id);
  set("enable.idempotence", "true");
  set("acks", "all");
  set("max.in.flight.requests.per.connection", "5");
  set("enable.gapless.guarantee", "false");
  set("partitioner", "murmur2_random");
  set("compression.type", std::string(to_string(c.compression)));
  set("linger.ms", std::to_string(c.linger_ms));
  // Infinite: the core enforces delivery_timeout_ms by purging everything at once. librdkafka's own
  // timeout fails the expired head of a partition's queue and sends the rest (forward_core.h).
  set("message.timeout.ms", "0");
  set("request.timeout.ms", std::to_string(c.request_timeout_ms));
  // The window bounds what is handed to librdkafka, so its queue never refuses for size in practice
  // (a full queue is still handled: the forwarder waits).
  set("queue.buffering.max.messages", std::to_string(std::max<uint64_t>(c.in_flight_rows_max, 1000)));
  const uint64_t kbytes = std::min<uint64_t>(c.in_flight_bytes_max / 1024 * 2 + 1024, 2147483647);
  set("queue.buffering.max.kbytes", std::to_string(kbytes));
  set("retry.backoff.ms", std::to_string(std::min<uint32_t>(c.retry_backoff_min_ms, 300000)));
  set("reconnect.backoff.ms", std::to_string(std::min<uint32_t>(c.retry_backoff_min_ms, 3600000)));
  set("reconnect.backoff.max.ms", std::to_string(std::min<uint32_t>(c.retry_backoff_max_ms, 3600000)));
  set("statistics.interval.ms", std::to_string(c.stats_interval_ms));
  for (const auto& a : c.librdkafka) {
    if (auto kv = split_assignment(a)) p.push_back(std::move(*kv));
  }
  return p;
}

core_limits make_core_limits(const forwarder_config& c) {
  core_limits l;
  l.batch_rows_max = c.batch_rows_max;
  l.batch_bytes_max = c.batch_bytes_max;
  l.in_flight_rows_max = c.in_flight_rows_max;
  l.in_flight_bytes_max = c.in_flight_bytes_max;
  l.remove_batch_rows_max = c.remove_batch_rows_max;
  l.idle_poll_ms = c.idle_poll_ms;
  l.queue_full_retry_ms = c.queue_full_retry_ms;
  l.retry_backoff_min_ms = c.retry_backoff_min_ms;
  l.retry_backoff_max_ms = std::max(c.retry_backoff_min_ms, c.retry_backoff_max_ms);
  l.job_retry_ms = c.job_retry_ms;
  l.unknown_topic_dead_letter = c.unknown_topic_dead_letter;
  l.delivery_timeout_ms = c.delivery_timeout_ms;
  return l;
}

}  // namespace tributary::gateway::forwarder
