#include "common/uv/async.h"

#include <mutex>

#include <uv.h>

#include "common/assert.h"

namespace tributary::uv {

struct async::state final : detail::closable {
  uv_async_t handle{};
  std::mutex mutex;      // orders send() against close(): no uv_async_send once closing
  bool closing = false;  // guarded by mutex (written on the loop thread only)
  std::function<void()> cb;
  std::shared_ptr<state> self;

  bool send() {
    std::lock_guard lock(mutex);
    if (closing) return false;
    return uv_async_send(&handle) == 0;
  }

  void close() noexcept {
    {
      std::lock_guard lock(mutex);
      if (closing) return;
      closing = true;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), [](uv_handle_t* h) noexcept {
      auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
      auto keep = std::move(s->self);
      s->cb = nullptr;
    });
  }
  void close_for_loop_shutdown() noexcept override { close(); }

  static void on_async(uv_async_t* h) noexcept {
    auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
    if (s->closing_unlocked()) return;
    auto keep = s->self;
    s->cb();  // the callback is never replaced; close() only clears it in the close callback
  }
  // closing is only written on the loop thread, and this reads it on the loop thread.
  bool closing_unlocked() const { return closing; }
};

result<async> async::create(loop& l, std::function<void()> cb) {
  TRIB_ASSERT(!l.closed());
  TRIB_ASSERT(cb);
  auto s = std::make_shared<state>();
  s->cb = std::move(cb);
  TRIB_TRY_VOID(check(uv_async_init(l.raw(), &s->handle, state::on_async)));
  s->handle.data = static_cast<detail::closable*>(s.get());
  s->self = s;
  return async(std::move(s));
}

async& async::operator=(async&& other) noexcept {
  if (this != &other) {
    if (s_) s_->close();
    s_ = std::move(other.s_);
  }
  return *this;
}

async::~async() {
  if (s_) s_->close();
}

bool async::send() const { return s_ && s_->send(); }
bool async::sender::send() const { return s_ && s_->send(); }

void async::close() {
  if (s_) s_->close();
}

}  // namespace tributary::uv
