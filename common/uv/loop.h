#pragma once
// tributary::uv — a thin, careful layer over libuv.
//
// Rules every helper here follows (see STYLE.md §1):
//  - One event-loop thread per process. Every method of these classes runs on the loop's thread,
//    except where a method says it is thread-safe (async::send, the worker's job side).
//  - libuv's lifetime rule: the memory of a handle is freed in its close callback, never before.
//    Each helper keeps its handle in a heap state object that holds a reference to itself while the
//    handle is open and drops it in the close callback; the public object (timer, async, ...) only
//    starts the close. So destroying the public object is always safe, even inside its own callback,
//    and no user callback runs after the public object is gone.
//  - Every callback handed to libuv is noexcept. User callbacks must not throw either.
//  - `handle->data` of every handle created here points to a detail::closable, which lets
//    loop::close() close whatever is still open at shutdown the proper way (owner-aware).
#include <cstdint>
#include <memory>
#include <thread>

#include "common/result.h"
#include "common/uv/error.h"

struct uv_loop_s;

namespace tributary::uv {

namespace detail {
// Implemented by the state object behind each handle. loop::close() calls it for every handle still
// open; it closes all of the owner's handles (idempotent).
class closable {
 public:
  virtual void close_for_loop_shutdown() noexcept = 0;

 protected:
  ~closable() = default;
};
}  // namespace detail

class loop {
 public:
  // uv_loop_init can fail only for lack of resources (file descriptors, memory).
  static result<std::unique_ptr<loop>> create();
  ~loop();  // close() if not yet closed; a loop that cannot close is a bug (TRIB_ASSERT)
  loop(const loop&) = delete;
  loop& operator=(const loop&) = delete;

  // Runs until stop() is called or nothing active remains.
  void run();
  // One iteration, blocking for I/O if needed; returns true if more work remains.
  bool run_once();
  // One iteration without blocking; returns true if more work remains.
  bool run_nowait();
  // Makes run() return after the current iteration. Loop thread only.
  void stop();

  // The loop's cached monotonic time, in milliseconds (updated at the start of each iteration).
  uint64_t now_ms() const;
  void update_time();

  // Shutdown: asks every handle still open to close through its owner (timers cancel, connections
  // abort with errc::loop_closing, workers stop with cancel and wait for the running job), runs the
  // loop until every close callback ran, then uv_loop_close. Bounded: at most `max_close_rounds`
  // rounds of walk + run (callbacks may open new handles while others close).
  static constexpr int max_close_rounds = 16;
  result<void> close();
  bool closed() const { return closed_; }

  // True when called on the thread that created the loop (the loop thread).
  bool on_loop_thread() const { return std::this_thread::get_id() == thread_; }

  uv_loop_s* raw() { return raw_.get(); }

 private:
  struct passkey {};

 public:
  explicit loop(passkey);

 private:
  struct deleter {
    void operator()(uv_loop_s* l) const noexcept;
  };
  std::unique_ptr<uv_loop_s, deleter> raw_;
  std::thread::id thread_;
  bool closed_ = false;
};

}  // namespace tributary::uv
