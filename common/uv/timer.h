#pragma once
// uv::timer: a one-shot or repeating timer on the loop. Destroying the timer cancels it (the handle
// closes in the background); no callback runs after cancel() or destruction. The callback may
// restart, cancel or destroy its own timer.
#include <cstdint>
#include <functional>
#include <memory>

#include "common/uv/loop.h"

namespace tributary::uv {

class timer {
 public:
  explicit timer(loop& l);
  timer(timer&&) noexcept = default;
  timer& operator=(timer&& other) noexcept;
  ~timer();

  // Fires once after timeout_ms (0 = next loop iteration). Replaces any previous schedule.
  void start(uint64_t timeout_ms, std::function<void()> cb);
  // Fires every interval_ms (> 0), the first time after interval_ms.
  void start_repeating(uint64_t interval_ms, std::function<void()> cb);
  void cancel();
  bool active() const;
  // An unreferenced timer does not keep loop::run() going by itself (e.g. a periodic stats timer,
  // a watchdog). Timers are referenced by default.
  void set_ref(bool keeps_loop_alive);

  struct state;

 private:
  void start_impl(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb);
  std::shared_ptr<state> s_;
};

}  // namespace tributary::uv
