#pragma once
// Group commit: fdatasync of every partition with appended data, on a worker thread, one round at a
// time, so that many producers share one fsync.
//
// A round: prepare_sync() of each dirty partition (loop thread), one worker job that run_sync()s them
// all, then complete_sync() on the loop thread, which advances each partition's durable offset (its
// high watermark in sync mode) and reports it through on_durable. Appends that arrive while a round
// is in flight mark their partitions dirty for the next round, which starts as soon as this one ends.
//
//  - flush_mode::sync: appended() starts a round at once when none is in flight.
//  - flush_mode::interval: rounds start every interval_ms (and on flush()).
//
// An fdatasync failure is reported through on_failure for that partition and the partition is marked
// failed: its durable offset never advances again, because after a failed fdatasync the kernel may
// have dropped the dirty pages and a later fdatasync could succeed without them. The owner stops
// accepting appends to it (KAFKA_STORAGE_ERROR) and shuts down (see main.cc).
// Partitions are referenced by address: forget() must be called before a partition is destroyed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <system_error>
#include <unordered_set>
#include <vector>

#include "cluster/broker/broker_config.h"
#include "cluster/broker/partition_manager.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"

namespace tributary::cluster::broker {

struct flusher_options {
  flush_mode mode = flush_mode::sync;
  uint32_t interval_ms = 1000;
};

class flusher {
 public:
  using durable_fn = std::function<void(partition&)>;
  using failure_fn = std::function<void(partition&, std::error_code)>;

  // `registry` may be null (tests). Starts the worker thread.
  static result<std::unique_ptr<flusher>> start(uv::loop& l, const flusher_options& options,
                                                metrics::registry* registry, durable_fn on_durable,
                                                failure_fn on_failure);
  ~flusher();
  flusher(const flusher&) = delete;
  flusher& operator=(const flusher&) = delete;

  // Data was appended to p (or p rolled a segment).
  void appended(partition& p);
  // p is about to be destroyed: never touch it again (a round in flight skips it).
  void forget(partition& p);
  // Starts a round now (whatever the mode) if there is anything to sync; `done` runs once every
  // partition dirty at the time of the call has been through a completed round.
  void flush(std::function<void()> done = {});

  // True once an fdatasync of p failed: p's durable offset never advances again (see flusher.cc).
  bool failed(const partition& p) const { return failed_.contains(const_cast<partition*>(&p)); }
  bool round_in_flight() const { return in_flight_; }
  size_t dirty_partitions() const { return dirty_.size(); }
  uint64_t rounds() const { return rounds_; }

  // Stops the worker (drain); on_stopped runs on the loop thread once the thread has exited.
  void stop(std::function<void()> on_stopped = {});

 private:
  struct entry {
    partition* p;  // nullptr once forgotten
    storage::sync_job job;
  };
  flusher(uv::loop& l, const flusher_options& options, uv::worker w);
  void start_round();
  void round_done(std::error_code ec, const std::vector<result<void>>& results);

  uv::loop& loop_;
  flusher_options options_;
  uv::worker worker_;
  uv::timer timer_;
  durable_fn on_durable_;
  failure_fn on_failure_;
  std::unordered_set<partition*> dirty_;
  std::unordered_set<partition*> failed_;
  std::vector<partition*> dirty_order_;  // first-dirtied first (deterministic rounds)
  std::vector<entry> in_flight_entries_;
  bool in_flight_ = false;
  bool completing_ = false;  // inside round_done(), while it calls back
  bool flush_requested_ = false;
  std::vector<std::function<void()>> flush_waiting_;     // done once the next round completes
  std::vector<std::function<void()>> flush_after_this_;  // done once the round after this completes
  std::chrono::steady_clock::time_point round_started_;
  uint64_t rounds_ = 0;
  metrics::counter* rounds_metric_ = nullptr;
  metrics::counter* failures_metric_ = nullptr;
  metrics::histogram* latency_metric_ = nullptr;
  metrics::histogram* partitions_metric_ = nullptr;
};

}  // namespace tributary::cluster::broker
