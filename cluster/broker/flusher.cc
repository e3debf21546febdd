#include "cluster/broker/flusher.h"

#include <algorithm>

#include "common/assert.h"
#include "common/log.h"

namespace tributary::cluster::broker {

namespace {
constexpr size_t flusher_jobs_max = 4;  // one round in flight; the bound only guards misuse
}

flusher::flusher(uv::loop& l, const flusher_options& options, uv::worker w)
    : loop_(l), options_(options), worker_(std::move(w)), timer_(l) {}

result<std::unique_ptr<flusher>> flusher::start(uv::loop& l, const flusher_options& options,
                                                metrics::registry* registry, durable_fn on_durable,
                                                failure_fn on_failure) {
  auto w = TRIB_TRY(uv::worker::start(l, {.max_in_flight_jobs = flusher_jobs_max, .name = "trib-fsync"}));
  std::unique_ptr<flusher> f(new flusher(l, options, std::move(w)));
  f->on_durable_ = std::move(on_durable);
  f->on_failure_ = std::move(on_failure);
  if (registry) {
    f->rounds_metric_ =
        &registry->add_counter("tributary_fsync_rounds_total",
                               "Group-commit rounds (one worker job fdatasyncs every dirty partition).");
    f->failures_metric_ =
        &registry->add_counter("tributary_fsync_failures_total", "Partitions whose fdatasync failed.");
    f->latency_metric_ = &registry->add_histogram(
        "tributary_fsync_round_seconds", "Duration of a group-commit round, from prepare to completion.",
        metrics::exponential_buckets(0.0001, 2, 18));
    f->partitions_metric_ = &registry->add_histogram("tributary_fsync_round_partitions",
                                                     "Partitions synced per group-commit round.",
                                                     metrics::exponential_buckets(1, 2, 14));
  }
  if (options.mode == flush_mode::interval) {
    flusher* self = f.get();
    f->timer_.start_repeating(options.interval_ms, [self] {
      if (!self->in_flight_ && !self->dirty_.empty()) self->start_round();
    });
  }
  return f;
}

flusher::~flusher() = default;

void flusher::appended(partition& p) {
  if (failed_.contains(&p)) return;
  if (dirty_.insert(&p).second) dirty_order_.push_back(&p);
  // While a round completes, its end decides about the next one.
  if (options_.mode == flush_mode::sync && !in_flight_ && !completing_) start_round();
}

void flusher::forget(partition& p) {
  failed_.erase(&p);
  if (dirty_.erase(&p) > 0) std::erase(dirty_order_, &p);
  for (auto& e : in_flight_entries_) {
    if (e.p == &p) e.p = nullptr;
  }
}

void flusher::flush(std::function<void()> done) {
  if (in_flight_ || completing_) {
    // What is dirty now goes into the round after the one in flight.
    if (done) flush_after_this_.push_back(std::move(done));
    flush_requested_ = true;
    return;
  }
  if (dirty_.empty()) {
    if (done) done();
    return;
  }
  if (done) flush_waiting_.push_back(std::move(done));
  start_round();
}

void flusher::start_round() {
  TRIB_ASSERT(!in_flight_, "one group-commit round at a time");
  if (dirty_.empty()) return;
  in_flight_entries_.clear();
  in_flight_entries_.reserve(dirty_order_.size());
  std::vector<storage::sync_job> jobs;
  jobs.reserve(dirty_order_.size());
  for (partition* p : dirty_order_) {
    auto job = p->log().prepare_sync();
    jobs.push_back(job);
    in_flight_entries_.push_back({p, std::move(job)});
  }
  dirty_.clear();
  dirty_order_.clear();
  in_flight_ = true;
  flush_requested_ = false;
  round_started_ = std::chrono::steady_clock::now();
  auto results = std::make_shared<std::vector<result<void>>>(jobs.size());
  auto submitted = worker_.submit(
      [jobs = std::move(jobs), results] {
        for (size_t i = 0; i < jobs.size(); ++i) (*results)[i] = storage::partition_log::run_sync(jobs[i]);
      },
      [this, results](std::error_code ec) { round_done(ec, *results); });
  // One job in flight at a time, so the queue cannot be full; a stopped worker is a shutdown bug.
  TRIB_ASSERT(submitted.has_value(), "the fsync worker refused a round");
}

void flusher::round_done(std::error_code ec, const std::vector<result<void>>& results) {
  TRIB_ASSERT(in_flight_);
  in_flight_ = false;
  completing_ = true;  // callbacks below may call appended() and flush(): no round starts under them
  ++rounds_;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - round_started_).count();
  if (rounds_metric_) rounds_metric_->inc();
  if (latency_metric_) latency_metric_->observe(seconds);
  if (partitions_metric_) partitions_metric_->observe(static_cast<double>(in_flight_entries_.size()));

  // Entries stay in the member while callbacks run, so that a forget() from one of them still
  // reaches the entries not yet processed.
  auto& entries = in_flight_entries_;
  for (size_t i = 0; i < entries.size(); ++i) {
    partition* p = entries[i].p;
    if (p == nullptr) continue;  // forgotten (topic deleted) while the round ran
    std::error_code err = ec;
    if (!err && i < results.size() && !results[i]) err = results[i].error();
    if (err) {
      if (failures_metric_) failures_metric_->inc();
      TRIB_LOG_ERROR("flusher", "fsync_failed", {"topic", p->topic()}, {"partition", p->id()},
                     {"error", err.message()});
      // After a failed fdatasync the kernel may have dropped the dirty pages and a later fdatasync
      // can succeed without them: this partition's appended tail can never be claimed durable.
      failed_.insert(p);
      if (dirty_.erase(p) > 0) std::erase(dirty_order_, p);
      if (on_failure_) on_failure_(*p, err);
      continue;
    }
    p->log().complete_sync(entries[i].job);
    if (on_durable_) on_durable_(*p);
  }

  entries.clear();
  completing_ = false;
  auto done_now = std::move(flush_waiting_);
  flush_waiting_ = std::move(flush_after_this_);
  flush_after_this_.clear();
  const bool again =
      !dirty_.empty() && (options_.mode == flush_mode::sync || flush_requested_ || !flush_waiting_.empty());
  if (again) {
    start_round();
  } else if (!flush_waiting_.empty()) {
    // Nothing dirty any more: whoever waited for the next round is satisfied.
    auto also_done = std::move(flush_waiting_);
    flush_waiting_.clear();
    for (auto& d : also_done) done_now.push_back(std::move(d));
  }
  for (auto& d : done_now) d();
}

void flusher::stop(std::function<void()> on_stopped) {
  timer_.cancel();
  worker_.stop(uv::worker::stop_mode::drain, std::move(on_stopped));
}

}  // namespace tributary::cluster::broker
