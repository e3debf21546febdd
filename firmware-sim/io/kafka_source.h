#pragma once
// The verifier's Kafka consumer (librdkafka): joins its own consumer group, reads the topic from the
// earliest offset and hands every record's payload and timestamp to a callback, until the topic has been
// idle for idle_ms (counted from the first partition assignment), the deadline passes, or stop() says so.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "firmware-sim/io/errc.h"

namespace tributary::sim::io {

struct kafka_source_options {
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "telemetry";
  std::string group_id;           // empty: a fresh group per run (tributary-sim-verify-<pid>-<ms>)
  int64_t idle_ms = 5'000;        // stop after this long without a record once assigned
  int64_t deadline_ms = 120'000;  // stop after this long whatever happens
  uint64_t records_max = 1'000'000'000;
  std::vector<std::pair<std::string, std::string>> properties;  // extra librdkafka properties
};

struct kafka_source_stats {
  uint64_t records = 0;
  uint64_t consumer_errors = 0;  // non-fatal errors reported by the consumer
  bool assigned = false;
  int64_t elapsed_ms = 0;
  std::string stop_reason;  // "idle", "deadline", "stopped", "records_max"
};

// Called on the calling thread for every record: payload, record timestamp (epoch ms, -1 if none) and the
// consume time (epoch ms).
using record_fn = std::function<void(byte_span payload, int64_t record_ts_ms, int64_t consumed_ms)>;

result<kafka_source_stats> consume_topic(const kafka_source_options& options, const record_fn& on_record,
                                         const std::function<bool()>& stop);

}  // namespace tributary::sim::io
