#pragma once
// The Paho adapter of the fleet core: one mqtt::async_client per virtual device, all sharing the Paho C
// library's one send thread and one receive thread. The calling thread is the only one that touches the
// fleet core: Paho callbacks (noexcept) append events to a bounded queue, and the driver loop every
// tick_ms drains them into the core, ticks it, and carries out its actions (connect, publish,
// disconnect). A progress line goes to `progress_out` once a second.
#include <atomic>
#include <cstdint>
#include <cstdio>

#include "common/result.h"
#include "firmware-sim/core/fleet.h"

namespace tributary::sim::io {

struct run_options {
  int64_t tick_ms = 2;                   // driver loop period
  int64_t progress_interval_ms = 1'000;  // 0: no progress lines
  std::FILE* progress_out = stderr;
  // Incremented by the signal handler: 1 = stop after draining, 2 or more = stop now.
  const std::atomic<int>* stop_signal = nullptr;
};

struct run_outcome {
  int64_t started_ms = 0;  // epoch ms at the fleet's time 0
  int64_t ended_ms = 0;    // epoch ms when the fleet finished
  int64_t total_ms = 0;
};

// "host:port", "tcp://host:port" or "mqtt://host:port" -> the URI Paho wants ("tcp://host:port").
std::string paho_uri(std::string_view broker);

// Runs the fleet to completion. Sets the fleet's wall-clock base just before time 0.
result<run_outcome> run_fleet(fleet& f, const run_options& options);

}  // namespace tributary::sim::io
