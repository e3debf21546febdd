#pragma once
// uv::signal_set: calls back on the loop thread when one of the given signals arrives, typically
// SIGINT/SIGTERM (clean shutdown) and SIGHUP (reload). While the set exists the signals do not take
// their default action; destroying it restores the previous disposition (libuv does this when the
// last watcher of a signal stops).
#include <functional>
#include <initializer_list>
#include <memory>

#include "common/result.h"
#include "common/uv/loop.h"

namespace tributary::uv {

class signal_set {
 public:
  // Limit on the number of signals in one set.
  static constexpr size_t max_signals = 8;

  static result<signal_set> create(loop& l, std::initializer_list<int> signals,
                                   std::function<void(int signum)> cb);
  signal_set(signal_set&&) noexcept = default;
  signal_set& operator=(signal_set&& other) noexcept;
  ~signal_set();
  void close();

  struct state;

 private:
  explicit signal_set(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::uv
