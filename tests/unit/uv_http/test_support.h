#pragma once
// Helpers for the uv/http tests: a loop run bounded by a watchdog, and a command runner for curl.
// Inside libuv callbacks only CHECK (never REQUIRE: an exception must not cross a C callback).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace tributary::test {

inline constexpr uint64_t watchdog_ms = 20000;

inline std::unique_ptr<uv::loop> make_loop() {
  auto l = uv::loop::create();
  REQUIRE(l);
  return std::move(*l);
}

// Runs the loop until something calls stop() (or nothing is left to run). Fails the test if the
// watchdog fires first; returns false then.
inline bool run(uv::loop& l, uint64_t limit_ms = watchdog_ms) {
  bool fired = false;
  uv::timer watchdog(l);
  watchdog.start(limit_ms, [&] {
    fired = true;
    l.stop();
  });
  l.run();
  CHECK_MESSAGE(!fired, "watchdog fired: the test did not finish in time");
  return !fired;
}

// Runs the loop until nothing is left to do (the watchdog does not count). Fails the test if the
// watchdog fires first; returns false then.
inline bool run_until_idle(uv::loop& l, uint64_t limit_ms = watchdog_ms) {
  bool fired = false;
  uv::timer watchdog(l);
  watchdog.set_ref(false);
  watchdog.start(limit_ms, [&] {
    fired = true;
    l.stop();
  });
  l.run();
  CHECK_MESSAGE(!fired, "watchdog fired: the test did not finish in time");
  return !fired;
}

// Runs the loop until `done()` holds (checked every millisecond), bounded by the watchdog.
inline bool run_until(uv::loop& l, const std::function<bool()>& done, uint64_t limit_ms = watchdog_ms) {
  uv::timer probe(l);
  probe.start_repeating(1, [&] {
    if (done()) l.stop();
  });
  return run(l, limit_ms);
}

struct command_result {
  int exit_code = -1;
  std::string output;
};

// Runs a shell command (blocking: call it on a worker thread) and captures its stdout.
inline command_result run_command(const std::string& cmd) {
  command_result r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace tributary::test
