#include "common/uv/loop.h"

#include <uv.h>

#include "common/assert.h"
#include "common/log.h"

namespace tributary::uv {

void loop::deleter::operator()(uv_loop_s* l) const noexcept { delete l; }

loop::loop(passkey) : raw_(new uv_loop_t{}), thread_(std::this_thread::get_id()) {}

result<std::unique_ptr<loop>> loop::create() {
  auto l = std::make_unique<loop>(passkey{});
  TRIB_TRY_VOID(check(uv_loop_init(l->raw())));
  l->raw()->data = l.get();
  return l;
}

loop::~loop() {
  if (closed_) return;
  auto r = close();
  TRIB_ASSERT(r, "event loop could not close: a handle never finished closing");
}

void loop::run() {
  TRIB_ASSERT(!closed_);
  TRIB_ASSERT(on_loop_thread(), "a loop runs on the thread that created it");
  uv_run(raw(), UV_RUN_DEFAULT);
}

bool loop::run_once() {
  TRIB_ASSERT(!closed_);
  TRIB_ASSERT(on_loop_thread());
  return uv_run(raw(), UV_RUN_ONCE) != 0;
}

bool loop::run_nowait() {
  TRIB_ASSERT(!closed_);
  TRIB_ASSERT(on_loop_thread());
  return uv_run(raw(), UV_RUN_NOWAIT) != 0;
}

void loop::stop() {
  TRIB_ASSERT(!closed_);
  uv_stop(raw());
}

uint64_t loop::now_ms() const { return uv_now(raw_.get()); }
void loop::update_time() { uv_update_time(raw()); }

namespace {
void close_one(uv_handle_t* h, void*) noexcept {
  if (uv_is_closing(h)) return;
  if (h->data != nullptr) {
    static_cast<detail::closable*>(h->data)->close_for_loop_shutdown();
  } else {
    uv_close(h, nullptr);
  }
}
}  // namespace

result<void> loop::close() {
  if (closed_) return {};
  TRIB_ASSERT(on_loop_thread());
  int rc = UV_EBUSY;
  for (int round = 0; round < max_close_rounds; ++round) {
    uv_walk(raw(), close_one, nullptr);
    uv_run(raw(), UV_RUN_DEFAULT);
    rc = uv_loop_close(raw());
    if (rc == 0) {
      closed_ = true;
      return {};
    }
    if (rc != UV_EBUSY) break;
  }
  TRIB_LOG_ERROR("uv", "loop close failed", {"error", uv_strerror(rc)});
  return fail(uv_error(rc));
}

}  // namespace tributary::uv
