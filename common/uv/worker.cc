#include "common/uv/worker.h"

#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <uv.h>

#include "common/assert.h"
#include "common/log.h"

namespace tributary::uv {

struct worker::state final : detail::closable {
  struct item {
    job_fn job;
    completion_fn completion;
    std::error_code result;
  };

  loop* l = nullptr;
  worker_options options;
  uv_async_t async{};
  std::thread thread;

  // Shared with the worker thread, guarded by mutex.
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<item> queue;  // not started yet
  std::deque<item> done;   // ran, completion pending
  bool stop_requested = false;
  stop_mode mode = stop_mode::drain;
  bool thread_exited = false;

  // Loop thread only.
  size_t in_flight = 0;
  bool stopping = false;
  bool detached = false;  // the worker object is gone: completions are not called
  bool closing = false;
  std::function<void()> on_stopped;
  std::shared_ptr<state> self;

  void run_thread() noexcept {
    if (!options.name.empty()) pthread_setname_np(pthread_self(), options.name.substr(0, 15).c_str());
    std::unique_lock lock(mutex);
    for (;;) {
      wake.wait(lock, [&] { return stop_requested || !queue.empty(); });
      if (queue.empty() || (stop_requested && mode == stop_mode::cancel)) break;
      item it = std::move(queue.front());
      queue.pop_front();
      lock.unlock();
      try {
        it.job();
      } catch (const std::exception& e) {
        it.result = errc::job_failed;
        TRIB_LOG_ERROR("uv", "worker job threw", {"worker", options.name}, {"what", e.what()});
      } catch (...) {
        it.result = errc::job_failed;
        TRIB_LOG_ERROR("uv", "worker job threw", {"worker", options.name});
      }
      it.job = nullptr;  // release the job's captures on this thread, before the completion runs
      lock.lock();
      done.push_back(std::move(it));
      uv_async_send(&async);
    }
    thread_exited = true;
    uv_async_send(&async);  // the handle stays open until the loop has seen thread_exited
  }

  static void on_async(uv_async_t* h) noexcept {
    auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
    auto keep = s->self;
    std::deque<item> ready;
    std::deque<item> cancelled;
    bool exited = false;
    {
      std::lock_guard lock(s->mutex);
      ready.swap(s->done);
      exited = s->thread_exited;
      if (exited) cancelled.swap(s->queue);
    }
    for (auto& it : ready) s->complete(it, it.result);
    if (!exited) return;
    s->thread.join();  // the thread has returned or is returning: no wait worth the name
    for (auto& it : cancelled) s->complete(it, errc::cancelled);
    TRIB_ASSERT(s->in_flight == 0);
    auto stopped = std::move(s->on_stopped);
    s->on_stopped = nullptr;
    if (stopped && !s->detached) stopped();
    s->close_handle();
  }

  void complete(item& it, std::error_code ec) noexcept {
    TRIB_ASSERT(in_flight > 0);
    --in_flight;
    auto fn = std::move(it.completion);
    if (fn && !detached) fn(ec);
  }

  void request_stop(stop_mode m) noexcept {
    if (stopping) return;
    stopping = true;
    {
      std::lock_guard lock(mutex);
      stop_requested = true;
      mode = m;
    }
    wake.notify_one();
  }

  void close_handle() noexcept {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&async), [](uv_handle_t* h) noexcept {
      auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
      auto keep = std::move(s->self);
    });
  }

  void close_for_loop_shutdown() noexcept override { request_stop(stop_mode::cancel); }
};

result<worker> worker::start(loop& l, const worker_options& options) {
  TRIB_ASSERT(!l.closed());
  TRIB_ASSERT(options.max_in_flight_jobs > 0);
  auto s = std::make_shared<state>();
  s->l = &l;
  s->options = options;
  TRIB_TRY_VOID(check(uv_async_init(l.raw(), &s->async, state::on_async)));
  s->async.data = static_cast<detail::closable*>(s.get());
  s->self = s;
  try {
    s->thread = std::thread([p = s.get()] { p->run_thread(); });
  } catch (const std::system_error& e) {
    s->stopping = true;
    s->close_handle();
    return fail(e.code());
  }
  return worker(std::move(s));
}

worker& worker::operator=(worker&& other) noexcept {
  if (this != &other) {
    if (s_) {
      s_->detached = true;
      s_->request_stop(stop_mode::cancel);
    }
    s_ = std::move(other.s_);
  }
  return *this;
}

worker::~worker() {
  if (!s_) return;
  s_->detached = true;
  s_->request_stop(stop_mode::cancel);
}

result<void> worker::submit(job_fn job, completion_fn completion) {
  TRIB_ASSERT(s_, "use of a moved-from worker");
  TRIB_ASSERT(job);
  if (s_->stopping) return fail(errc::closed);  // also after loop::close(): the loop may be gone
  TRIB_ASSERT(s_->l->on_loop_thread(), "submit() runs on the loop thread");
  if (s_->in_flight >= s_->options.max_in_flight_jobs) return fail(errc::queue_full);
  {
    std::lock_guard lock(s_->mutex);
    s_->queue.push_back({std::move(job), std::move(completion), {}});
  }
  ++s_->in_flight;
  s_->wake.notify_one();
  return {};
}

void worker::stop(stop_mode mode, std::function<void()> on_stopped) {
  TRIB_ASSERT(s_, "use of a moved-from worker");
  if (s_->stopping) return;
  s_->on_stopped = std::move(on_stopped);
  s_->request_stop(mode);
}

size_t worker::in_flight() const { return s_ ? s_->in_flight : 0; }
bool worker::stopping() const { return !s_ || s_->stopping; }

}  // namespace tributary::uv
