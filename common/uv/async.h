#pragma once
// uv::async: wakes the loop from any thread (uv_async_t). Several send() calls before the loop
// runs the callback coalesce into one call (libuv semantics), so the callback drains whatever
// shared queue it guards. send() is thread-safe and safe at any time: after close it does nothing
// and returns false (never touches a closed handle). Destroying the async closes it.
#include <functional>
#include <memory>

#include "common/result.h"
#include "common/uv/loop.h"

namespace tributary::uv {

class async {
 public:
  struct state;

  // A copyable, thread-safe handle for other threads; it keeps the state (not the loop) alive.
  class sender {
   public:
    bool send() const;

   private:
    friend class async;
    explicit sender(std::shared_ptr<state> s) : s_(std::move(s)) {}
    std::shared_ptr<state> s_;
  };

  // Fails only when the loop cannot create its wake-up descriptor (resource exhaustion).
  static result<async> create(loop& l, std::function<void()> cb);
  async(async&&) noexcept = default;
  async& operator=(async&& other) noexcept;
  ~async();

  bool send() const;  // thread-safe; false once closed
  sender get_sender() const { return sender(s_); }
  void close();

 private:
  explicit async(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::uv
