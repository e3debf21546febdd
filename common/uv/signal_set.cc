#include "common/uv/signal_set.h"

#include <array>

#include <uv.h>

#include "common/assert.h"

namespace tributary::uv {

struct signal_set::state final : detail::closable {
  std::array<uv_signal_t, max_signals> handles{};
  size_t initialized = 0;  // handles[0, initialized) were initialised and must be closed
  size_t open = 0;         // handles whose close callback has not run yet
  bool closing = false;
  std::function<void(int)> cb;
  std::shared_ptr<state> self;

  void close() noexcept {
    if (closing) return;
    closing = true;
    if (open == 0) {  // nothing was initialised (create failed at the first signal)
      cb = nullptr;
      self.reset();  // may free *this: nothing may follow
      return;
    }
    for (size_t i = 0; i < initialized; ++i) {
      uv_close(reinterpret_cast<uv_handle_t*>(&handles[i]), [](uv_handle_t* h) noexcept {
        auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
        TRIB_ASSERT(s->open > 0);
        if (--s->open > 0) return;
        auto keep = std::move(s->self);
        s->cb = nullptr;
      });
    }
  }
  void close_for_loop_shutdown() noexcept override { close(); }

  static void on_signal(uv_signal_t* h, int signum) noexcept {
    auto* s = static_cast<state*>(static_cast<detail::closable*>(h->data));
    if (s->closing) return;
    auto keep = s->self;
    s->cb(signum);
  }
};

result<signal_set> signal_set::create(loop& l, std::initializer_list<int> signals,
                                      std::function<void(int)> cb) {
  TRIB_ASSERT(!l.closed());
  TRIB_ASSERT(cb);
  TRIB_ASSERT(signals.size() > 0 && signals.size() <= max_signals);
  auto s = std::make_shared<state>();
  s->cb = std::move(cb);
  s->self = s;
  signal_set set(s);  // closes whatever was initialised if we return early
  for (int signum : signals) {
    auto& h = s->handles[s->initialized];
    TRIB_TRY_VOID(check(uv_signal_init(l.raw(), &h)));
    h.data = static_cast<detail::closable*>(s.get());
    ++s->initialized;
    ++s->open;
    TRIB_TRY_VOID(check(uv_signal_start(&h, state::on_signal, signum)));
  }
  return set;
}

signal_set& signal_set::operator=(signal_set&& other) noexcept {
  if (this != &other) {
    if (s_) s_->close();
    s_ = std::move(other.s_);
  }
  return *this;
}

signal_set::~signal_set() {
  if (s_) s_->close();
}

void signal_set::close() {
  if (s_) s_->close();
}

}  // namespace tributary::uv
