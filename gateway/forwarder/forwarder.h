#pragma once
// forwarder: drains the gateway's SQLite buffer into a Kafka-protocol cluster through librdkafka.
// The adapter around forward_core (core/forward_core.h, the policy): it runs the core's jobs on the
// buffer's worker thread (peek_batch, remove_delivered, move_to_dead_letter), hands rows to an
// idempotent librdkafka producer, and feeds delivery reports back to the core.
//
// Wiring (the gateway's main, loop thread):
//   auto fwd = forwarder::forwarder::create(loop, buffer_worker, store, cfg.forwarder, &registry);
//   fwd.value()->start();
//   ...
//   fwd->stop([&] { buffer_worker.stop(drain, ...); });   // before the worker stops
//
// Guarantees:
//  - A row leaves the buffer only after its delivery report says the cluster committed it
//    (enable.idempotence=true, acks=all). Crash (kill -9) at any moment: rows not yet removed are sent
//    again at the next start; duplicates come only from the window (forwarder.in_flight_rows_max).
//  - Every record carries the headers tributary.gateway (the gateway id, unless the reading already
//    has it: the MQTT server sets it) and tributary.gateway_seq (the buffer's sequence, DECIMAL TEXT,
//    e.g. "1842"), so (gateway, gateway_seq) identifies a reading across duplicates. The record's
//    timestamp is the gateway's receive time; key, payload and the reading's headers go unchanged.
//  - Order per key: rows are read in the buffer's order; keyed records go to a partition by
//    partitioner=murmur2_random (the Java client's hash of the key bytes, so Java and librdkafka
//    producers agree); idempotence keeps order within a partition under librdkafka's own retries
//    (at most 5 requests in flight). A row that finally fails as retriable is not removed: the
//    producer's unsent queue is purged, every report is awaited, and the buffer is read again from
//    the oldest row still there after a jittered backoff (forward_core.h). The delivery timeout
//    (forwarder.delivery_timeout_ms) is the core's, not librdkafka's (message.timeout.ms is
//    infinite): librdkafka's fails the expired head of a partition's queue and sends the younger
//    rows behind it at once; the core's purges everything, queued and in flight, together.
//  - Errors are never a silent drop: see core/error_class.h. Dead letters keep the reason
//    ("MSG_SIZE_TOO_LARGE: Broker: Message size too large") and are counted.
//
// Threads: everything here runs on the loop thread. librdkafka's own threads only wake the loop
// (rd_kafka_queue_cb_event_enable -> uv::async); delivery reports, errors and statistics are served
// by rd_kafka_poll(rk, 0) on the loop. rd_kafka_destroy (which blocks) runs on a short-lived thread.
//
// Metrics (tributary_gateway_forwarder_*): forwarded_rows_total, forwarded_bytes_total (accounted),
// errors_total{class}, dead_lettered_rows_total, queue_full_total, settles_total, backoffs_total,
// resent_rows_total, producer_recreations_total, delivery_timeouts_total, window_rows, window_bytes,
// in_flight_rows, producer_queue_messages, uplink_up, brokers_up, state{state}, drain_rows_per_second. The
// backlog (rows, bytes, oldest age) is the buffer's own metrics (buffer_metrics.h).
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/worker.h"
#include "gateway/buffer/buffer_store.h"
#include "gateway/forwarder/core/forward_core.h"
#include "gateway/forwarder/errc.h"
#include "gateway/forwarder/forwarder_config.h"

namespace tributary::metrics {
class registry;
}

namespace tributary::gateway::forwarder {

// Applies the producer settings to a librdkafka configuration without creating a producer: the
// text of the first setting librdkafka refuses (or of validate()), nullopt when all are accepted.
// For start-up checks (exit 2 on a bad configuration).
std::optional<std::string> check_config(const forwarder_config& c);

class forwarder {
 public:
  using wall_clock_fn = std::function<int64_t()>;  // Unix ms (expiry, dead letters' failed_ms)

  // Creates the producer (not yet sending). errc::not_active when !c.active(), bad_config,
  // producer_failed (logged with librdkafka's message). The worker and the store must outlive the
  // forwarder's jobs: stop the forwarder, then the worker, then close the store.
  static result<std::unique_ptr<forwarder>> create(uv::loop& l, uv::worker& buffer_worker,
                                                   buffer::buffer_store& store, const forwarder_config& c,
                                                   metrics::registry* metrics = nullptr,
                                                   wall_clock_fn wall_clock_ms = {});
  ~forwarder();  // without stop(): destroys the producer here, blocking (shutdown paths only)
  forwarder(const forwarder&) = delete;
  forwarder& operator=(const forwarder&) = delete;

  void start();
  // Stops reading the buffer; lets rows in flight be acknowledged (and removed) for at most
  // forwarder.stop_timeout_ms, then purges what is left (it stays in the buffer), destroys the
  // producer off the loop, and calls on_stopped on the loop thread. Idempotent.
  void stop(std::function<void()> on_stopped);

  const forward_core& core() const;
  bool uplink_up() const;
  size_t producer_queue_messages() const;  // rd_kafka_outq_len

  struct state;

 private:
  explicit forwarder(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::gateway::forwarder
