#pragma once
// group_committer: the event loop's side of the buffer. The MQTT server calls submit(reading,
// completion) for every QoS 1/2 PUBLISH; the completion (with the gateway seq, or an error) is when
// the PUBACK may go out.
//
// Group commit, pulled by the worker: submit() appends the reading to an inbox shared with the
// worker thread and, unless a commit job is already waiting on the worker, submits one. A job takes
// what the inbox holds when it STARTS (up to batch_rows_max / batch_bytes_max) and writes it in one
// transaction (buffer_store::append_batch). So while one transaction runs, the next job already
// waits behind it and, the moment the worker is free, takes everything that arrived meanwhile: the
// worker never waits for the loop thread between two commits. The completions of one transaction
// run together on the loop thread, in submission order (then the after_completions() callbacks).
// When nothing is in flight a submit starts a transaction at once, so a lone reading waits for one
// fsync, not for a timer. The readings themselves are freed on the worker after their transaction,
// and the worker does not check them again: submit() did (append_batch with the checked sizes).
//
// Bounds and backpressure: the committer holds at most queue_rows_max readings and queue_bytes_max
// accounted bytes (queued plus committing). submit() beyond that fails at once with
// errc::queue_full; the MQTT side stops reading from its clients and resumes when on_space() fires
// (set_on_space), after a transaction has freed room.
//
// The worker may be shared with the forwarder (one SQLite connection, one thread). If the worker's
// own job queue is full, the committer keeps the readings queued and tries again after
// retry_delay_ms (a uv::timer).
//
// Lifetime: the store must outlive the worker's jobs (stop the worker before destroying the store).
// close(on_closed): no more submits (errc::closed); everything queued is still committed, then
// on_closed runs. Destroying the committer drops queued readings and completions without calling
// them; a transaction in flight still finishes on the worker.
//
// Loop thread only. Completions must not throw: they run inside a libuv callback.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/worker.h"
#include "gateway/buffer/buffer_store.h"

namespace tributary::metrics {
class registry;
}

namespace tributary::gateway::buffer {

struct committer_options {
  size_t queue_rows_max = 10000;           // readings held (queued + committing)
  uint64_t queue_bytes_max = 32ull << 20;  // accounted bytes held (queued + committing)
  size_t batch_rows_max = 4096;            // readings per transaction (<= the store's batch_rows_max)
  uint64_t batch_bytes_max = 16ull << 20;  // accounted bytes per transaction (one reading may exceed it)
  uint64_t retry_delay_ms = 5;             // when the worker's job queue is full
  // Registers commit metrics (tributary_gateway_buffer_*) when set; must outlive the committer.
  metrics::registry* metrics = nullptr;
};

// What the gateway exports (plain counters, loop thread).
struct committer_stats {
  uint64_t submitted_rows = 0;  // accepted by submit()
  uint64_t committed_rows = 0;  // completions with a seq
  uint64_t failed_rows = 0;     // completions with an error
  uint64_t commits = 0;         // transactions run (successful or not)
  uint64_t commit_errors = 0;   // transactions that failed as a whole
  uint64_t queue_full_rejections = 0;
  uint64_t worker_busy_retries = 0;  // the worker's queue was full; retried after retry_delay_ms
  uint64_t last_batch_rows = 0;
  uint64_t max_batch_rows = 0;
  uint64_t last_commit_us = 0;  // append_batch time on the worker (includes fsync)
  uint64_t max_commit_us = 0;
  uint64_t total_commit_us = 0;
  size_t queued_rows = 0;      // waiting for the next transaction
  size_t committing_rows = 0;  // in the transaction now running
  uint64_t held_bytes = 0;     // queued + committing
};

class group_committer {
 public:
  using completion_fn = std::function<void(result<gateway_seq>)>;

  // The store is used only through `w` (its thread). Options out of range: errc::bad_option.
  static result<std::unique_ptr<group_committer>> create(uv::loop& l, uv::worker& w, buffer_store& store,
                                                         const committer_options& options);
  ~group_committer();
  group_committer(const group_committer&) = delete;
  group_committer& operator=(const group_committer&) = delete;

  // Queues the reading; `done` runs later on the loop thread, never inside submit(). Fails at once
  // with queue_full, row_too_large, invalid_row (checked here too, so a bad reading never waits) or
  // closed; then `done` is not called.
  result<void> submit(reading r, completion_fn done);

  // Called (loop thread) after a transaction completes if a submit failed with queue_full since the
  // last call: the MQTT side may read from its clients again.
  void set_on_space(std::function<void()> fn);

  // From inside a completion: `fn` runs once, right after the last completion of this round (one
  // transaction's, or a failed queue's), still inside the same loop callback. A caller that queues
  // its completions can then answer them all together without waiting for the next loop turn.
  void after_completions(std::function<void()> fn);

  void close(std::function<void()> on_closed);
  bool idle() const;  // nothing queued, nothing committing

  const committer_stats& stats() const;

  struct state;

 private:
  explicit group_committer(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::gateway::buffer
