#pragma once
// http::server: the embedded HTTP/1.1 endpoint of every daemon (GET /metrics, GET /health, admin
// JSON), on the uv helpers. Handlers run on the loop thread and must be quick (render, not block).
//
//   http::server s(loop, {});
//   s.get("/metrics", [&](const http::request&) {
//     return http::response{200, std::string(http::prometheus_content_type), registry.render_prometheus()};
//   });
//   TRIB_TRY_VOID(s.listen("0.0.0.0:9644"));
//
// Routing is by exact path (the query is ignored). Unknown path: 404. Known path, method without a
// handler: 405 with Allow. HEAD is answered for every GET route (headers only). Malformed requests
// get the parser's status (400, 413, 414, 431, 501, 505; see status.h) and Connection: close. A
// handler that throws gives 500. Requests on one connection are answered in order (pipelining);
// HTTP/1.1 keeps the connection unless "Connection: close"; HTTP/1.0 only with keep-alive.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/http/request_parser.h"
#include "common/http/response.h"
#include "common/result.h"

namespace tributary::uv {
class loop;
}

namespace tributary::http {

struct server_options {
  size_t max_connections = 64;  // more are accepted and closed at once
  int backlog = 128;
  uint64_t idle_timeout_ms = 60000;             // a connection idle this long is closed
  uint64_t close_linger_ms = 2000;              // bound on flushing a response before close
  parser_limits limits;                         // request size limits
  size_t write_high_watermark_bytes = 1 << 20;  // pipelined replies not taken by the peer
  size_t write_low_watermark_bytes = 256 << 10;
  size_t write_limit_bytes = 64 << 20;  // larger than the largest response (/metrics)
};

struct server_stats {
  uint64_t requests = 0;        // complete requests routed
  uint64_t bad_requests = 0;    // malformed requests answered with an error status and closed
  uint64_t handler_errors = 0;  // handlers that threw (500)
};

using handler = std::function<response(const request&)>;

class server {
 public:
  server(uv::loop& l, const server_options& options = {});
  server(server&&) noexcept;
  server& operator=(server&&) noexcept;
  ~server();  // close()

  // Routes may be added before or after listen(). A path has at most one handler per method.
  void get(std::string path, handler h);
  void post(std::string path, handler h);

  // Numeric "host:port"; port 0 = ephemeral (see port()). Once.
  result<void> listen(std::string_view address);
  uint16_t port() const;
  std::string address() const;

  size_t connection_count() const;
  const server_stats& stats() const;

  // Stops listening and closes every connection gracefully (responses already queued are sent).
  void close();

  struct state;

 private:
  std::shared_ptr<state> s_;
};

}  // namespace tributary::http
