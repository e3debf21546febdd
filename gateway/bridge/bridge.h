#pragma once
// bridge: the libuv adapter around the bridge's client_core. It owns the TCP connection to the local
// broker (reconnected with backoff), a tick timer, and hands the core's readings to the same group
// committer as the MQTT listener; commit completions go back to the core, which acknowledges
// upstream only then.
//
// Backpressure: when the committer's queue is full, QoS 1/2 readings are held here in arrival order
// (at most bridge.inflight_max: the core stops reading at that many awaiting their commit), the
// socket is not read, and they are offered again as soon as one of the bridge's commits completes
// (room was freed), or after retry_ms (the listener's readings took the room). QoS 0 readings are
// dropped instead (counted as a commit failure).
//
// Shutdown, in the daemon's steps (main.cc): stop_reading(); drain(fn) once every held reading is
// with the committer; after the committer closed (every completion delivered, so every
// acknowledgement is written), disconnect(fn): DISCONNECT, graceful close, fn when closed (bounded).
//
// Loop thread only. Every callback handed to libuv (through common/uv) is noexcept.
#include <cstdint>
#include <functional>
#include <memory>

#include "common/result.h"
#include "common/uv/loop.h"
#include "gateway/bridge/bridge_config.h"
#include "gateway/bridge/client_core.h"
#include "gateway/mqtt/config.h"
#include "gateway/routes/route_table.h"

namespace tributary::metrics {
class registry;
}
namespace tributary::gateway::buffer {
class group_committer;
}

namespace tributary::gateway::bridge {

struct bridge_options {
  // The group committer's bounds (buffer.commit_queue_rows_max / _bytes_max), so the bridge knows
  // when a submit would be refused without losing the reading.
  size_t committer_rows_max = 10000;
  uint64_t committer_bytes_max = 32ull << 20;
  uint64_t retry_ms = 10;                  // offer held readings again at least this often
  uint64_t close_linger_ms = 2000;         // bound on the graceful close at shutdown
  std::function<int64_t()> wall_clock_ms;  // Unix ms, for the readings' receive time
};

class bridge {
 public:
  // Starts connecting at once. The routes, committer and registry (nullptr = none) must outlive it.
  static result<std::unique_ptr<bridge>> start(uv::loop& l, const bridge_config& cfg,
                                               const bridge_options& options, mqtt::core_config mqtt_config,
                                               const routes::route_table& routes,
                                               buffer::group_committer& committer,
                                               metrics::registry* metrics);
  ~bridge();
  bridge(const bridge&) = delete;
  bridge& operator=(const bridge&) = delete;

  void stop_reading();
  void drain(std::function<void()> on_drained);
  void disconnect(std::function<void()> on_closed);

  bool connected() const;
  const client_core& core() const;

  struct state;

 private:
  explicit bridge(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::gateway::bridge
