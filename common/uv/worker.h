#pragma once
// uv::worker: one dedicated thread with a bounded job queue, for blocking work the loop must never
// do itself (fsync, SQLite commits). submit(job, completion): `job` runs on the worker thread, jobs
// in submission order; `completion` runs afterwards on the loop thread (woken by a uv_async_t), in
// the same order. The loop never waits for a job.
//
// Bounds: at most max_in_flight_jobs jobs are submitted and not yet completed; submit() beyond that
// fails with errc::queue_full (the caller applies backpressure, e.g. stops reading its peer).
//
// Stopping (stop(mode)), a defined behaviour for every job:
//  - drain: the thread runs every queued job; each completion runs with {}.
//  - cancel: the job running now finishes (completion with {}); queued jobs never run, their
//    completions run with errc::cancelled.
// Then on_stopped runs (loop thread), the thread is joined (it has returned by then) and the handle
// closes. submit() after stop() fails with errc::closed. Destroying the worker object stops it with
// cancel and calls no completion at all (they are destroyed); the running job still finishes, so
// jobs must own (capture by value) what they use. loop::close() stops a live worker with cancel
// (completions do run) and waits for the running job.
//
// A job that throws is caught on the worker thread; its completion runs with errc::job_failed.
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "common/result.h"
#include "common/uv/loop.h"

namespace tributary::uv {

struct worker_options {
  size_t max_in_flight_jobs = 1024;
  std::string name = "worker";  // thread name (at most 15 characters are kept)
};

class worker {
 public:
  using job_fn = std::function<void()>;
  using completion_fn = std::function<void(std::error_code)>;
  enum class stop_mode : uint8_t { drain, cancel };

  static result<worker> start(loop& l, const worker_options& options);
  worker(worker&&) noexcept = default;
  worker& operator=(worker&& other) noexcept;
  ~worker();

  // Loop thread only.
  result<void> submit(job_fn job, completion_fn completion);
  void stop(stop_mode mode, std::function<void()> on_stopped = {});

  size_t in_flight() const;  // submitted, completion not yet run
  bool stopping() const;

  struct state;

 private:
  explicit worker(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::uv
