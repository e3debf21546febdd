#include "common/uv/timer.h"

#include <uv.h>

#include "common/assert.h"

namespace tributary::uv {

struct timer::state final : detail::closable {
  uv_timer_t handle{};
  std::function<void()> cb;
  uint64_t generation = 0;  // bumped by every start/cancel, so a callback knows if it was replaced
  bool closing = false;
  std::shared_ptr<state> self;  // keeps the handle's memory alive until the close callback

  void close() noexcept {
    if (closing) return;
    closing = true;
    ++generation;
    uv_timer_stop(&handle);
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), [](uv_handle_t* h) noexcept {
      auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
      // Destroys the callback here, never while it runs; may free *s.
      auto keep = std::move(s->self);
      s->cb = nullptr;
    });
  }
  void close_for_loop_shutdown() noexcept override { close(); }

  static void on_timer(uv_timer_t* h) noexcept {
    auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
    if (s->closing || !s->cb) return;
    // Hold the state and move the callback out: the callback may restart (replacing cb), cancel or
    // destroy the public timer while it runs.
    auto keep = s->self;
    uint64_t gen = s->generation;
    bool repeating = uv_timer_get_repeat(h) != 0;
    auto fn = std::move(s->cb);
    s->cb = nullptr;
    fn();
    if (!s->closing && s->generation == gen && repeating) s->cb = std::move(fn);
  }
};

timer::timer(loop& l) : s_(std::make_shared<state>()) {
  TRIB_ASSERT(!l.closed());
  int rc = uv_timer_init(l.raw(), &s_->handle);
  TRIB_ASSERT(rc == 0, "uv_timer_init cannot fail");
  s_->handle.data = static_cast<detail::closable*>(s_.get());
  s_->self = s_;
}

timer& timer::operator=(timer&& other) noexcept {
  if (this != &other) {
    if (s_) s_->close();
    s_ = std::move(other.s_);
  }
  return *this;
}

timer::~timer() {
  if (s_) s_->close();
}

void timer::start_impl(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb) {
  TRIB_ASSERT(s_, "use of a moved-from timer");
  TRIB_ASSERT(!s_->closing, "start on a closed timer (its loop closed)");
  TRIB_ASSERT(cb);
  ++s_->generation;
  s_->cb = std::move(cb);
  int rc = uv_timer_start(&s_->handle, state::on_timer, timeout_ms, repeat_ms);
  TRIB_ASSERT(rc == 0, "uv_timer_start fails only without a callback or on a closing handle");
}

void timer::start(uint64_t timeout_ms, std::function<void()> cb) { start_impl(timeout_ms, 0, std::move(cb)); }

void timer::start_repeating(uint64_t interval_ms, std::function<void()> cb) {
  TRIB_ASSERT(interval_ms > 0);
  start_impl(interval_ms, interval_ms, std::move(cb));
}

void timer::cancel() {
  if (!s_ || s_->closing) return;
  ++s_->generation;
  uv_timer_stop(&s_->handle);
  s_->cb = nullptr;
}

void timer::set_ref(bool keeps_loop_alive) {
  TRIB_ASSERT(s_ && !s_->closing);
  auto* h = reinterpret_cast<uv_handle_t*>(&s_->handle);
  if (keeps_loop_alive) {
    uv_ref(h);
  } else {
    uv_unref(h);
  }
}

bool timer::active() const {
  return s_ && !s_->closing && uv_is_active(reinterpret_cast<const uv_handle_t*>(&s_->handle)) != 0;
}

}  // namespace tributary::uv
