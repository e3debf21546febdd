#pragma once
// forward_core: the forwarder's policy as a pure state machine — what to read from the buffer next,
// what to hand to the producer, when a row may leave the buffer, what goes to the dead-letter table,
// and when to back off. No librdkafka, no SQLite, no clock, no threads: the adapter (forwarder.cc)
// feeds it events with the time and runs the actions it returns.
//
// The window. A row enters the window when a peek returns it and leaves when its fate is written to
// the buffer: removed after the cluster acknowledged it, or moved to the dead-letter table. The
// window is bounded by in_flight_rows_max and in_flight_bytes_max; it is exactly the set of rows
// that can be sent twice when the process dies (kill -9): they may be in the cluster and still in
// the buffer. So duplicates upstream are bounded by the window, and carry (gateway, gateway_seq).
//
// Row states inside the window:
//   unsent  -> produce accepted -> in_flight -> delivered -> acked -> (remove job) -> gone
//                                            -> failed    -> see below
//   dead-lettering (the move job) -> gone
//
// Failures (error_class.h):
//   retriable, producer, unknown_topic under "retry": the row is NOT removed. The core "settles":
//     it stops producing, asks the adapter to purge what the producer has not sent yet (so no
//     younger row of a key can land before the failed older one), waits until every row in flight
//     has its report, then backs off (exponential, jittered, seeded) and reads the buffer again
//     from its cursor reset: every row not yet removed comes again, in the buffer's order (priority,
//     then seq), so order per key holds. A resend after an unknown outcome (a timeout) may duplicate:
//     that is the window.
//     This holds only if the producer never fails an older row of a partition while it goes on
//     delivering younger ones. An idempotent librdkafka does exactly that when its own
//     message.timeout.ms expires: the timed-out head of the queue is reported, the epoch is bumped
//     and the rest of the queue (rows produced a few milliseconds later, not yet expired) is sent at
//     once, on librdkafka's broker thread, long before our purge can run. So the adapter sets
//     message.timeout.ms to infinite and the core keeps the delivery timeout itself: when the oldest
//     row in flight has waited delivery_timeout_ms, it asks for a purge of everything the producer
//     holds, queued AND in flight (purge_in_flight), and settles. Every row in flight is then reported
//     as failed (possibly persisted: resent, maybe duplicated) unless it was delivered first; a
//     younger row delivered implies the older ones before it on the connection were persisted too
//     (the broker checks the idempotent sequence), so first copies stay in order.
//   record: the broker refused a batch; the row becomes a suspect, the core settles without backoff
//     and, when it meets the suspect again, sends it alone (nothing else in flight). Failing alone,
//     it is dead-lettered; delivered, it was an innocent neighbour.
//   record_final, topic, unknown_topic under "dead-letter": dead-lettered at once, with the reason.
//
// Acked rows are removed in batches: at most one remove job at a time, the next batch grows while
// it runs (the worker's transaction is the clock), at most remove_batch_rows_max per job.
//
// Jobs the adapter runs on the buffer's worker, in the order take_actions() lists them:
// dead letters, then removes, then the peek. A peek after a settle resets the cursor; as the remove
// and dead-letter jobs were submitted before it and the worker runs jobs in order, the reset peek
// does not see rows already decided. A row the core still holds (a remove that failed and waits to
// be retried) is skipped if a peek returns it again.
//
// Time: now_ms is a monotonic millisecond clock of the adapter's choosing.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateway/buffer/reading.h"
#include "gateway/forwarder/core/backoff.h"
#include "gateway/forwarder/core/error_class.h"
#include "gateway/forwarder/core/rate_meter.h"

namespace tributary::gateway::forwarder {

using buffer::gateway_seq;

struct core_limits {
  size_t batch_rows_max = 1000;        // rows per peek
  uint64_t batch_bytes_max = 1 << 20;  // accounted bytes per peek (the first row may exceed it)
  size_t in_flight_rows_max = 10000;   // rows in the window
  uint64_t in_flight_bytes_max = 32ull
                                 << 20;  // accounted bytes in the window (one peek may overshoot by a row)
  size_t remove_batch_rows_max = 1000;   // rows per remove job
  size_t dead_letter_batch_max = 100;    // rows per dead-letter job
  uint64_t idle_poll_ms = 20;            // the buffer had nothing more: read again after this
  uint64_t queue_full_retry_ms = 10;     // the producer's queue was full: try again after this (or a report)
  uint64_t retry_backoff_min_ms = 100;   // first backoff after a retriable failure
  uint64_t retry_backoff_max_ms = 10000;
  uint64_t job_retry_ms = 1000;  // a buffer job failed (SQLite, worker busy): run it again after this
  bool unknown_topic_dead_letter = true;  // unknown_topic: dead-letter (true) or retry (false)
  uint64_t rate_window_ms = 10000;        // drain rate window
  uint64_t delivery_timeout_ms =
      0;  // a row in flight this long: purge queue and in flight, settle; 0 = never
};

// A row as the core sees it (the adapter keeps the data).
struct row_info {
  gateway_seq seq;
  uint8_t priority = 0;
  uint64_t bytes = 0;  // accounted bytes (buffer's size column)
};

struct peek_request {
  size_t rows_max = 0;
  uint64_t bytes_max = 0;
  bool reset_cursor = false;  // hand out every remaining row again (after a settle)
};

struct dead_letter_request {
  gateway_seq seq;
  std::string reason;
};

struct core_actions {
  std::vector<dead_letter_request> dead_letter;  // one job, at most dead_letter_batch_max
  std::vector<gateway_seq> remove;               // one job, at most remove_batch_rows_max
  std::optional<peek_request> peek;              // one job
  bool purge_unsent = false;       // ask the producer to drop what it has not sent (reported as failures)
  bool purge_in_flight = false;    // ... and what it sent (a delivery timeout): every row in flight fails
  bool drop_unsent = false;        // drop the rows held for produce: they come again from the reset peek
  bool recreate_producer = false;  // the producer's state is fatal: replace it (nothing is in flight)
  bool empty() const {
    return dead_letter.empty() && remove.empty() && !peek && !purge_unsent && !purge_in_flight &&
           !drop_unsent && !recreate_producer;
  }
};

enum class produce_status : uint8_t { accepted, queue_full, failed };

enum class core_mode : uint8_t {
  running,      // reading and producing
  settling,     // after a failure: waiting for every report before reading again
  backing_off,  // settled; reading again at resume_at
  stopping,     // stop(): nothing new; reports, removes and dead letters finish
  stopped,
};
std::string_view to_string(core_mode m);

struct core_stats {
  uint64_t peeks = 0;
  uint64_t peeked_rows = 0;
  uint64_t skipped_rows = 0;  // a peek returned a row the core still held
  uint64_t produced_rows = 0;
  uint64_t delivered_rows = 0;
  uint64_t delivered_bytes = 0;
  uint64_t removed_rows = 0;  // remove jobs confirmed
  uint64_t failures[error_class_count] = {};
  uint64_t queue_full = 0;
  uint64_t dead_letter_requests = 0;
  uint64_t dead_lettered_rows = 0;  // move jobs confirmed
  uint64_t settles = 0;             // rewinds: a failure made the core settle and read again
  uint64_t backoffs = 0;
  uint64_t backoff_ms_total = 0;
  uint64_t resent_rows = 0;  // rows that failed retriably and will be sent again
  uint64_t isolated_sends = 0;
  uint64_t producer_recreations = 0;
  uint64_t peek_errors = 0;
  uint64_t remove_errors = 0;
  uint64_t dead_letter_errors = 0;
  uint64_t uplink_changes = 0;
  uint64_t delivery_timeouts = 0;  // the oldest row in flight passed delivery_timeout_ms: purged all
};

class forward_core {
 public:
  forward_core(const core_limits& limits, uint64_t seed);

  // ---- what to do ----
  // The next row to hand to the producer (peek order), or nullopt: nothing ready, or settling,
  // stopping, blocked by a full producer queue, or a suspect waiting to go alone. Each returned row
  // must be answered by on_produce() before asking again.
  std::optional<gateway_seq> next_to_produce() const;
  void on_produce(gateway_seq seq, produce_status status, int32_t error_code, std::string_view reason,
                  uint64_t now_ms);
  // The jobs and producer calls to run now. Call after every event (and after producing).
  core_actions take_actions(uint64_t now_ms);
  // The next time after now_ms when tick()/take_actions() will have something to do (backoff end,
  // queue-full retry, idle poll, job retry, delivery timeout), or nullopt: only an event can move things.
  std::optional<uint64_t> next_deadline_ms(uint64_t now_ms) const;
  void tick(uint64_t now_ms);

  // ---- events ----
  // The peek asked by take_actions(): rows in peek order. Returns, per row, whether the core took
  // it (to produce); the adapter keeps the data of taken rows only.
  std::vector<bool> on_peeked(std::span<const row_info> rows, uint64_t now_ms);
  void on_peek_failed(uint64_t now_ms);
  void on_delivered(gateway_seq seq, uint64_t now_ms);
  void on_delivery_failed(gateway_seq seq, int32_t error_code, std::string_view reason, uint64_t now_ms);
  // The remove job asked for these seqs finished (ok: the transaction committed).
  void on_removed(std::span<const gateway_seq> seqs, bool ok, uint64_t now_ms);
  // One dead-letter job finished: each request's outcome (ok also when the row was gone already).
  void on_dead_lettered(std::span<const dead_letter_request> requests, const std::vector<bool>& ok,
                        uint64_t now_ms);
  // librdkafka reported a fatal producer error: settle, back off, recreate the producer.
  void on_producer_fatal(uint64_t now_ms);
  // Broker states (from producer statistics): how many brokers are up; 0 = uplink down.
  void on_brokers_up(size_t up, uint64_t now_ms);
  void on_all_brokers_down(uint64_t now_ms);

  void stop(uint64_t now_ms);
  bool stopped() const { return mode_ == core_mode::stopped; }

  // ---- observation ----
  core_mode mode() const { return mode_; }
  size_t window_rows() const { return window_.size(); }
  uint64_t window_bytes() const { return window_bytes_; }
  size_t in_flight_rows() const { return in_flight_; }
  size_t unsent_rows() const { return unsent_.size(); }
  size_t suspects() const { return suspects_.size(); }
  bool uplink_up() const { return uplink_up_; }
  std::optional<uint64_t> resume_at_ms() const;
  double drain_rows_per_second(uint64_t now_ms) const { return drained_.per_second(now_ms); }
  const core_stats& stats() const { return stats_; }
  const core_limits& limits() const { return limits_; }
  // O(window): every count matches the rows' states (TRIB_ASSERT). For tests.
  void check_invariants() const;

 private:
  enum class row_state : uint8_t { unsent, in_flight, acked, removing, dead_lettering };
  struct entry {
    uint64_t bytes = 0;
    row_state state = row_state::unsent;
  };

  void handle_failure(gateway_seq seq, error_class cls, int32_t error_code, std::string_view reason,
                      bool was_in_flight, uint64_t now_ms);
  void begin_settle(bool with_backoff);
  void maybe_settled(uint64_t now_ms);
  void drop_unsent();
  void erase_row(gateway_seq seq);
  void dead_letter(gateway_seq seq, std::string reason);
  void set_uplink(bool up);
  bool is_in_flight(int64_t seq) const;
  void prune_sent();
  std::optional<uint64_t> delivery_deadline_ms() const;

  core_limits limits_;
  backoff backoff_;
  rate_meter drained_;
  core_mode mode_ = core_mode::running;
  core_stats stats_;

  std::unordered_map<int64_t, entry> window_;
  uint64_t window_bytes_ = 0;
  std::deque<gateway_seq> unsent_;  // taken rows waiting to be produced, in peek order
  size_t in_flight_ = 0;            // produced, no report yet
  // (seq, produce time) in produce order, with a delivery timeout only; the front is the oldest row
  // still in flight (rows that got their report are dropped from the front). Each row in flight
  // appears once: a row is produced again only after a settle, and a settle ends with nothing in
  // flight, which empties this. Bounded by the rows produced within one delivery_timeout_ms.
  std::deque<std::pair<int64_t, uint64_t>> sent_;
  uint64_t timeout_purge_at_ = 0;   // after a delivery-timeout purge, the next one not before this
  std::vector<gateway_seq> acked_;  // delivered, not yet in a remove job
  std::vector<gateway_seq> removing_;
  bool remove_outstanding_ = false;
  std::deque<dead_letter_request> dead_letters_;  // not yet in a job
  bool dead_letter_outstanding_ = false;
  bool peek_outstanding_ = false;
  bool reset_cursor_ = false;  // the next peek resets the cursor

  peek_request last_peek_;
  uint64_t peek_retry_at_ = 0;  // a job failed: run it again not before
  uint64_t remove_retry_at_ = 0;
  uint64_t dead_letter_retry_at_ = 0;

  bool settle_backoff_ = false;           // this settle ends with a backoff
  bool purge_pending_ = false;            // actions: purge the producer's queue
  bool purge_in_flight_pending_ = false;  // actions: purge the producer's queue and what is in flight
  bool drop_pending_ = false;             // actions: drop the held rows
  bool recreate_pending_ = false;         // actions: recreate the producer
  bool fatal_ = false;                    // recreate the producer when settled
  uint64_t resume_at_ = 0;                // backing_off: when to read again

  bool blocked_ = false;  // the producer's queue was full
  uint64_t blocked_until_ = 0;
  std::optional<int64_t> isolating_;  // a suspect sent alone, waiting for its report
  std::set<int64_t> suspects_;        // rows of a refused batch, to be sent alone (bounded by the window)
  uint64_t idle_until_ = 0;           // the buffer was drained: next peek not before

  bool uplink_up_ = false;
};

}  // namespace tributary::gateway::forwarder
