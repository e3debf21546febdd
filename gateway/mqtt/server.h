#pragma once
// mqtt::server: the libuv adapter around the pure server_core. It owns the TCP listener and the
// connections, feeds the core (frames, closes, timer ticks, commit completions, password checks)
// and carries out what the core asks: writes, closes, read pauses, readings for the buffer's group
// committer, password checks on a worker thread.
//
// Backpressure: when the group committer's queue is full, QoS 1/2 and will readings are held here
// in arrival order (at most held_rows_max; the committer's own bound keeps this small in practice)
// and the connections that produced them stop being read until the committer has room again
// (group_committer::set_on_space). QoS 0 readings are dropped instead (counted, queue_full).
//
// Memory: no per-connection thread, a per-connection read buffer bounded by the frame size, the
// write queue bounded by write_limit_bytes (a client that never reads its acknowledgements is
// aborted), and the core's bounded per-session state.
//
// Loop thread only. Every callback it hands to libuv (through common/uv) is noexcept.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/uv/loop.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/core.h"

namespace tributary::metrics {
class registry;
}
namespace tributary::gateway::buffer {
class group_committer;
}
namespace tributary::gateway::auth {
class password_db;
}

namespace tributary::gateway::mqtt {

struct server_options {
  std::string listen = "0.0.0.0:1883";  // --listen / mqtt.listen
  size_t max_connections = 10000;       // mqtt.max_connections: more are accepted and closed at once
  int backlog = 511;
  uint64_t tick_ms = 100;  // mqtt.tick_ms: how often keep-alive, timeouts and session expiry are checked
  size_t read_chunk_bytes = 16 << 10;  // mqtt.read_chunk_bytes: bytes asked per socket read
  size_t write_limit_bytes = 1 << 20;  // mqtt.write_limit_bytes: unread replies before abort
  size_t auth_queue_max = 1024;        // auth.queue_max: password checks waiting (else 0x89)
  size_t held_rows_max = 100000;       // readings held while the committer is full
  // The group committer's bounds (buffer.commit_queue_rows_max / _bytes_max), so the server knows
  // when a submit would be refused without losing the reading.
  size_t committer_rows_max = 10000;
  uint64_t committer_bytes_max = 32ull << 20;
  uint64_t close_linger_ms = 2000;  // bound on a graceful close
  // The wall clock (Unix ms) for the readings' receive time, given by main (this folder holds the
  // pure core, which never reads a clock: tests/tools/check_pure_cores.sh checks the whole folder).
  std::function<int64_t()> wall_clock_ms;
};

class server {
 public:
  // Listens and starts serving. The routes, committer, password database (nullptr = no password
  // file) and metrics registry (nullptr = none) must outlive the server.
  static result<std::unique_ptr<server>> start(uv::loop& l, const server_options& options, core_config config,
                                               const routes::route_table& routes,
                                               buffer::group_committer& committer,
                                               std::shared_ptr<const auth::password_db> passwords,
                                               metrics::registry* metrics);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  uint16_t port() const;
  std::string address() const;

  // Shutdown, in steps (main.cc): stop_accepting() and pause every client; drain(fn): fn runs once no
  // reading is held here any more (all are with the committer); after the committer closed (every
  // commit done, every acknowledgement written), disconnect_all(fn): 5.0 clients get DISCONNECT
  // 0x8B, every connection closes gracefully, and fn runs once all are closed (bounded by
  // close_linger_ms plus a tick).
  void stop_accepting();
  void drain(std::function<void()> on_drained);
  void disconnect_all(std::function<void()> on_closed);

  size_t connection_count() const;
  size_t held_rows() const;
  const server_core& core() const;

  struct state;

 private:
  explicit server(std::shared_ptr<state> s) : s_(std::move(s)) {}
  std::shared_ptr<state> s_;
};

}  // namespace tributary::gateway::mqtt
