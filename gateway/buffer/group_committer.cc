#include "gateway/buffer/group_committer.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/timer.h"

namespace tributary::gateway::buffer {

namespace {
constexpr std::string_view component = "buffer";
}  // namespace

struct group_committer::state : std::enable_shared_from_this<state> {
  // Readings with their completions and accounted sizes, index for index. The inbox holds one,
  // each transaction another: a job swaps the whole inbox into its batch when it fits (no reading
  // is moved one by one, and the loop thread waits on the mutex for a swap only).
  struct rows {
    std::vector<reading> readings;
    std::vector<completion_fn> done;
    std::vector<uint64_t> sizes;
    uint64_t bytes = 0;

    size_t size() const { return readings.size(); }
    bool empty() const { return readings.empty(); }
    void push(reading r, completion_fn fn, uint64_t size) {
      readings.push_back(std::move(r));
      done.push_back(std::move(fn));
      sizes.push_back(size);
      bytes += size;
    }
    void swap(rows& o) {
      readings.swap(o.readings);
      done.swap(o.done);
      sizes.swap(o.sizes);
      std::swap(bytes, o.bytes);
    }
    void clear() {
      readings.clear();
      done.clear();
      sizes.clear();
      bytes = 0;
    }
  };
  // What the loop thread hands over and the worker takes (see the header). The completions travel
  // with their readings but are only moved on the worker, never called there.
  struct inbox {
    std::mutex mutex;
    rows pending;
    bool armed = false;            // a job is submitted and has not taken its readings yet
    std::atomic<size_t> taken{0};  // readings taken by jobs whose completion has not run (stats only)
    size_t batch_rows_max = 0;
    uint64_t batch_bytes_max = 0;
  };
  // One transaction: taken and run on the worker, finished on the loop thread.
  struct batch {
    rows taken;                                           // readings emptied on the worker afterwards
    bool ran = false;                                     // the job ran (it took the readings)
    result<append_outcome> outcome = fail(errc::closed);  // set by the job
    uint64_t commit_us = 0;
  };

  uv::loop* loop = nullptr;
  uv::worker* worker = nullptr;
  buffer_store* store = nullptr;
  committer_options options;
  store_options limits;  // the store's, copied: checked in submit()

  std::shared_ptr<inbox> in = std::make_shared<inbox>();
  size_t jobs = 0;           // commit jobs submitted, completion not yet run
  size_t held = 0;           // readings submitted and not completed (inbox + taken by a job)
  uint64_t held_bytes_ = 0;  // their accounted bytes
  bool closing = false;
  bool worker_gone = false;  // the worker refused a job with closed: fail everything
  bool detached = false;     // the public object is gone: call nothing
  bool space_wanted = false;
  std::function<void()> on_space;
  std::function<void()> on_closed;
  std::optional<uv::timer> retry_timer;
  committer_stats stats;
  // Finished batches' emptied vectors, kept for their capacity: the inbox, the running batch and
  // the next one each hold a set, so three sets go round and none grows from empty again.
  std::vector<rows> spares;
  bool in_completions = false;               // finish() or fail_queue() is calling completions
  std::vector<std::function<void()>> after;  // after_completions()

  // Metrics (null without a registry).
  metrics::counter* m_commits = nullptr;
  metrics::counter* m_rows = nullptr;
  metrics::counter* m_errors = nullptr;
  metrics::counter* m_queue_full = nullptr;
  metrics::histogram* m_batch_rows = nullptr;
  metrics::histogram* m_commit_seconds = nullptr;
  metrics::gauge* m_held_rows = nullptr;

  size_t held_rows() const { return held; }
  uint64_t held_bytes() const { return held_bytes_; }

  void update_gauges() {
    const size_t committing = std::min(in->taken.load(std::memory_order_relaxed), held);
    stats.committing_rows = committing;
    stats.queued_rows = held - committing;
    stats.held_bytes = held_bytes_;
    if (m_held_rows) m_held_rows->set(static_cast<int64_t>(held));
  }

  void register_metrics(metrics::registry& reg) {
    m_commits = &reg.add_counter("tributary_gateway_buffer_commits_total", "Buffer transactions run.");
    m_rows = &reg.add_counter("tributary_gateway_buffer_committed_rows_total",
                              "Readings committed to the buffer.");
    m_errors =
        &reg.add_counter("tributary_gateway_buffer_commit_errors_total", "Buffer transactions that failed.");
    m_queue_full = &reg.add_counter("tributary_gateway_buffer_queue_full_total",
                                    "Readings refused because the commit queue was full.");
    m_batch_rows =
        &reg.add_histogram("tributary_gateway_buffer_commit_rows", "Readings per buffer transaction.",
                           metrics::exponential_buckets(1, 2, 14));
    m_commit_seconds = &reg.add_histogram("tributary_gateway_buffer_commit_seconds",
                                          "Time of one buffer transaction on the worker, fsync included.",
                                          metrics::exponential_buckets(0.0001, 2, 16));
    m_held_rows =
        &reg.add_gauge("tributary_gateway_buffer_queued_rows", "Readings queued or being committed.");
  }

  // Worker thread: takes the readings at the front of the inbox, one batch's worth. `b.taken` is
  // empty (with the capacity of an earlier batch); usually the whole inbox fits and is swapped in.
  static void take(inbox& in, batch& b) {
    std::lock_guard lock(in.mutex);
    in.armed = false;
    rows& p = in.pending;
    if (p.size() <= in.batch_rows_max && (p.bytes <= in.batch_bytes_max || p.size() == 1)) {
      b.taken.swap(p);
      return;
    }
    size_t n = 0;
    while (n < p.size() && n < in.batch_rows_max) {
      if (n > 0 && b.taken.bytes + p.sizes[n] > in.batch_bytes_max) break;
      b.taken.push(std::move(p.readings[n]), std::move(p.done[n]), p.sizes[n]);
      ++n;
    }
    p.readings.erase(p.readings.begin(), p.readings.begin() + static_cast<std::ptrdiff_t>(n));
    p.done.erase(p.done.begin(), p.done.begin() + static_cast<std::ptrdiff_t>(n));
    p.sizes.erase(p.sizes.begin(), p.sizes.begin() + static_cast<std::ptrdiff_t>(n));
    p.bytes -= b.taken.bytes;
  }

  // Loop thread: makes sure a job will take what the inbox holds.
  void start_commit() {
    if (worker_gone || detached) return;
    {
      std::lock_guard lock(in->mutex);
      if (in->armed || in->pending.empty()) return;
      in->armed = true;
    }
    auto b = std::make_shared<batch>();
    if (!spares.empty()) {  // empty vectors with capacity, left by an earlier batch
      b->taken.swap(spares.back());
      spares.pop_back();
    }
    auto submitted = worker->submit(
        [st = store, b, box = in]() {
          take(*box, *b);
          b->ran = true;
          if (b->taken.empty()) return;
          box->taken.fetch_add(b->taken.size(), std::memory_order_relaxed);
          auto t0 = std::chrono::steady_clock::now();
          b->outcome = st->append_batch(b->taken.readings, b->taken.sizes);
          b->commit_us = static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
                  .count());
          b->taken.readings.clear();  // the readings are freed here, not on the loop thread
        },
        [self = shared_from_this(), b](std::error_code ec) { self->finish(*b, ec); });
    if (submitted) {
      ++jobs;
      update_gauges();
      return;
    }
    {
      std::lock_guard lock(in->mutex);
      in->armed = false;
    }
    if (submitted.error() == make_error_code(uv::errc::queue_full)) {
      stats.worker_busy_retries++;
      arm_retry(options.retry_delay_ms);
    } else {
      TRIB_LOG_ERROR(component, "worker refused a commit", {"error", submitted.error().message()});
      worker_gone = true;
      arm_retry(0);  // fails the queue from the timer: never inside submit()
    }
  }

  void arm_retry(uint64_t delay_ms) {
    if (retry_timer->active()) return;
    retry_timer->start(delay_ms, [this] {
      auto keep = shared_from_this();
      if (worker_gone) {
        fail_queue(errc::closed);
        maybe_closed();
      } else {
        start_commit();
      }
    });
  }

  // Fails every reading no job has taken (newest last, as they were submitted).
  void fail_queue(std::error_code ec) {
    rows failed;
    {
      std::lock_guard lock(in->mutex);
      failed.swap(in->pending);
    }
    TRIB_ASSERT(failed.size() <= held && failed.bytes <= held_bytes_);
    held -= failed.size();
    held_bytes_ -= failed.bytes;
    update_gauges();
    in_completions = true;
    for (auto& done : failed.done) {
      stats.failed_rows++;
      if (detached) return;
      if (done) done(fail(ec));
    }
    run_after_completions();
  }

  // The after_completions() callbacks of the round that just ended, in the order they were given.
  void run_after_completions() {
    in_completions = false;
    while (!after.empty() && !detached) {
      std::vector<std::function<void()>> fns;
      fns.swap(after);
      for (auto& fn : fns) {
        if (detached) return;
        fn();
      }
    }
  }

  // Loop thread: the transaction's outcome reaches its readings.
  void finish(batch& b, std::error_code job_ec) {
    auto keep = shared_from_this();
    TRIB_ASSERT(jobs > 0);
    --jobs;
    if (!b.ran) {  // cancelled before it started: it took nothing and left the inbox armed
      std::lock_guard lock(in->mutex);
      in->armed = false;
    }
    const size_t n = b.taken.done.size();
    TRIB_ASSERT(n <= held && b.taken.bytes <= held_bytes_);
    held -= n;
    held_bytes_ -= b.taken.bytes;
    in->taken.fetch_sub(n, std::memory_order_relaxed);
    if (n > 0) {
      stats.commits++;
      stats.last_batch_rows = n;
      stats.max_batch_rows = std::max<uint64_t>(stats.max_batch_rows, n);
      stats.last_commit_us = b.commit_us;
      stats.max_commit_us = std::max(stats.max_commit_us, b.commit_us);
      stats.total_commit_us += b.commit_us;
      if (m_commits) {
        m_commits->inc();
        m_batch_rows->observe(static_cast<double>(n));
        m_commit_seconds->observe(static_cast<double>(b.commit_us) / 1e6);
      }
    }
    std::error_code whole = job_ec;
    if (!whole && !b.outcome) whole = b.outcome.error();
    // n == 0: the job found the inbox empty (dropped by the destructor, or failed): no transaction.
    if (n > 0 && whole) {
      stats.commit_errors++;
      if (m_errors) m_errors->inc();
      TRIB_LOG_ERROR(component, "commit failed", {"rows", n}, {"error", whole.message()});
    } else if (n > 0) {
      TRIB_ASSERT(b.outcome->rows.size() == n, "one outcome per reading");
    }
    // Readings the job left (over a batch's bounds) need the next job: arm it before the
    // completions run, so the worker is not left idle.
    start_commit();
    update_gauges();
    in_completions = true;
    for (size_t i = 0; i < n; ++i) {
      result<gateway_seq> r = whole ? result<gateway_seq>(fail(whole)) : b.outcome->rows[i];
      if (r) {
        stats.committed_rows++;
        if (m_rows) m_rows->inc();
      } else {
        stats.failed_rows++;
      }
      if (detached) continue;  // a completion destroyed the committer: call no more
      if (b.taken.done[i]) b.taken.done[i](std::move(r));
    }
    if (detached) return;
    run_after_completions();
    if (detached) return;
    // The emptied vectors serve the next batch (none of this batch's readings or completions is
    // left: the readings were freed on the worker, the completions are cleared here).
    if (b.taken.readings.capacity() > 0 && spares.size() < 3) {
      b.taken.clear();
      spares.emplace_back().swap(b.taken);
    }
    if (space_wanted && held_rows() < options.queue_rows_max && held_bytes() < options.queue_bytes_max) {
      space_wanted = false;
      if (on_space) on_space();
    }
    maybe_closed();
  }

  void maybe_closed() {
    if (!closing || jobs > 0 || held > 0 || detached) return;
    auto fn = std::move(on_closed);
    on_closed = nullptr;
    if (fn) fn();
  }
};

result<std::unique_ptr<group_committer>> group_committer::create(uv::loop& l, uv::worker& w,
                                                                 buffer_store& store,
                                                                 const committer_options& options) {
  TRIB_ASSERT(l.on_loop_thread());
  if (options.queue_rows_max == 0 || options.queue_bytes_max == 0 || options.batch_rows_max == 0 ||
      options.batch_rows_max > store.options().batch_rows_max || options.batch_bytes_max == 0 ||
      options.queue_bytes_max < store.options().row_bytes_max) {
    return fail(errc::bad_option);
  }
  auto s = std::make_shared<state>();
  s->loop = &l;
  s->worker = &w;
  s->store = &store;
  s->options = options;
  s->limits = store.options();
  s->in->batch_rows_max = options.batch_rows_max;
  s->in->batch_bytes_max = options.batch_bytes_max;
  s->retry_timer.emplace(l);
  if (options.metrics) s->register_metrics(*options.metrics);
  return std::unique_ptr<group_committer>(new group_committer(std::move(s)));
}

group_committer::~group_committer() {
  if (!s_) return;
  s_->detached = true;
  s_->retry_timer.reset();
  // Queued readings are dropped; a transaction in flight keeps the state alive until it finishes.
  state::rows dropped;
  {
    std::lock_guard lock(s_->in->mutex);
    dropped.swap(s_->in->pending);
  }
  s_->after.clear();
  s_->on_space = nullptr;
  s_->on_closed = nullptr;
}

result<void> group_committer::submit(reading r, completion_fn done) {
  state& s = *s_;
  TRIB_ASSERT(s.loop->on_loop_thread(), "submit() runs on the loop thread");
  if (s.closing || s.worker_gone) return fail(errc::closed);
  uint64_t size = TRIB_TRY(check_reading(r, s.limits));
  if (s.held_rows() >= s.options.queue_rows_max || s.held_bytes() + size > s.options.queue_bytes_max) {
    s.stats.queue_full_rejections++;
    if (s.m_queue_full) s.m_queue_full->inc();
    s.space_wanted = true;
    return fail(errc::queue_full);
  }
  {
    std::lock_guard lock(s.in->mutex);
    s.in->pending.push(std::move(r), std::move(done), size);
  }
  ++s.held;
  s.held_bytes_ += size;
  s.stats.submitted_rows++;
  s.start_commit();
  s.update_gauges();
  return {};
}

void group_committer::set_on_space(std::function<void()> fn) { s_->on_space = std::move(fn); }

void group_committer::after_completions(std::function<void()> fn) {
  TRIB_ASSERT(s_->in_completions, "after_completions() is called from inside a completion");
  s_->after.push_back(std::move(fn));
}

void group_committer::close(std::function<void()> on_closed) {
  state& s = *s_;
  s.closing = true;
  s.on_closed = std::move(on_closed);
  s.maybe_closed();
}

bool group_committer::idle() const { return s_->jobs == 0 && s_->held == 0; }

const committer_stats& group_committer::stats() const { return s_->stats; }

}  // namespace tributary::gateway::buffer
