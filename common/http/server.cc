#include "common/http/server.h"

#include <map>
#include <optional>
#include <unordered_map>

#include "common/assert.h"
#include "common/log.h"
#include "common/uv/tcp.h"

namespace tributary::http {

namespace {
struct route {
  handler get;
  handler post;
};

// Per-connection parser; the frame function and the callbacks share it.
struct connection_context {
  explicit connection_context(const parser_limits& limits) : parser(limits) {}
  request_parser parser;
};

std::string allow_header(const route& r) {
  std::string allow;
  if (r.get) allow = "GET, HEAD";
  if (r.post) allow += allow.empty() ? "POST" : ", POST";
  return allow;
}
}  // namespace

struct server::state : std::enable_shared_from_this<state> {
  uv::loop* l = nullptr;
  server_options options;
  std::map<std::string, route, std::less<>> routes;
  std::optional<uv::tcp_listener> listener;
  std::unordered_map<uv::tcp_connection*, std::shared_ptr<uv::tcp_connection>> connections;
  server_stats stats;
  bool closed = false;

  void accept(std::shared_ptr<uv::tcp_connection> conn) {
    if (closed) {
      conn->abort();
      return;
    }
    auto ctx = std::make_shared<connection_context>(options.limits);
    auto self = shared_from_this();
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [self, ctx](uv::tcp_connection& c, byte_span frame) { self->on_request(c, *ctx, frame); };
    cbs.on_frame_error = [self](uv::tcp_connection& c, std::error_code ec) { self->on_bad_request(c, ec); };
    cbs.on_close = [self](uv::tcp_connection& c, std::error_code) { self->connections.erase(&c); };
    auto frame = [ctx](byte_span buffered) -> uv::frame_status {
      auto st = ctx->parser.parse(buffered);
      switch (st.k) {
        case parse_status::kind::need_more: return uv::frame_status::need_more(st.length);
        case parse_status::kind::complete: return uv::frame_status::complete(st.length);
        case parse_status::kind::error: return uv::frame_status::invalid(st.error);
      }
      return uv::frame_status::invalid();
    };
    auto* raw = conn.get();
    connections.emplace(raw, conn);
    conn->start(std::move(frame), std::move(cbs));
  }

  void on_request(uv::tcp_connection& c, connection_context& ctx, byte_span frame) {
    const request req = ctx.parser.get(frame);
    ctx.parser.reset();
    ++stats.requests;
    response resp;
    const bool head = req.method == method::head;
    auto it = routes.find(req.path);
    if (it == routes.end()) {
      resp = status_response(404);
    } else {
      const route& r = it->second;
      const handler* h = nullptr;
      if ((req.method == method::get || head) && r.get) h = &r.get;
      if (req.method == method::post && r.post) h = &r.post;
      if (h == nullptr) {
        resp = status_response(405);
        resp.headers.emplace_back("Allow", allow_header(r));
      } else {
        try {
          resp = (*h)(req);
        } catch (const std::exception& e) {
          ++stats.handler_errors;
          TRIB_LOG_ERROR("http", "handler threw", {"path", req.path}, {"what", e.what()});
          resp = status_response(500);
        } catch (...) {
          ++stats.handler_errors;
          TRIB_LOG_ERROR("http", "handler threw", {"path", req.path});
          resp = status_response(500);
        }
      }
    }
    const bool keep_alive = req.keep_alive && !closed;
    // A failed write closed the connection already (write queue full); nothing more to do.
    (void)c.write(serialize(resp, keep_alive, head));
    if (!keep_alive) c.close();
  }

  void on_bad_request(uv::tcp_connection& c, std::error_code ec) {
    ++stats.bad_requests;
    int status = 400;
    if (ec.category() == errc_category<errc>()) {
      status = status_of(static_cast<errc>(ec.value()));
    } else if (ec == uv::errc::frame_too_large) {
      status = 413;
    }
    TRIB_LOG_DEBUG("http", "bad request", {"peer", c.peer_address()}, {"status", status},
                   {"error", ec.message()});
    (void)c.write(serialize(status_response(status), false));
    // The connection closes gracefully when this returns.
  }

  void close_all() {
    closed = true;
    if (listener) listener->close();
    // close() may not erase synchronously, but copy anyway: on_close runs later and erases.
    std::vector<std::shared_ptr<uv::tcp_connection>> all;
    all.reserve(connections.size());
    for (auto& [raw, conn] : connections) all.push_back(conn);
    for (auto& conn : all) conn->close();
  }
};

server::server(uv::loop& l, const server_options& options) : s_(std::make_shared<state>()) {
  s_->l = &l;
  s_->options = options;
}

server::server(server&&) noexcept = default;

server& server::operator=(server&& other) noexcept {
  if (this != &other) {
    if (s_) s_->close_all();
    s_ = std::move(other.s_);
  }
  return *this;
}

server::~server() {
  if (s_) s_->close_all();
}

void server::get(std::string path, handler h) {
  TRIB_ASSERT(h && path.starts_with('/'));
  auto& r = s_->routes[std::move(path)];
  TRIB_ASSERT(!r.get, "one GET handler per path");
  r.get = std::move(h);
}

void server::post(std::string path, handler h) {
  TRIB_ASSERT(h && path.starts_with('/'));
  auto& r = s_->routes[std::move(path)];
  TRIB_ASSERT(!r.post, "one POST handler per path");
  r.post = std::move(h);
}

result<void> server::listen(std::string_view address) {
  TRIB_ASSERT(!s_->listener, "listen() once");
  TRIB_ASSERT(!s_->closed);
  const auto& o = s_->options;
  uv::listener_options lo;
  lo.backlog = o.backlog;
  lo.max_connections = o.max_connections;
  lo.connection.max_frame_bytes = o.limits.max_message_bytes();
  lo.connection.read_chunk_bytes = 16 << 10;
  lo.connection.idle_timeout_ms = o.idle_timeout_ms;
  lo.connection.close_linger_ms = o.close_linger_ms;
  lo.connection.write_high_watermark_bytes = o.write_high_watermark_bytes;
  lo.connection.write_low_watermark_bytes = o.write_low_watermark_bytes;
  lo.connection.write_limit_bytes = o.write_limit_bytes;
  std::weak_ptr<state> weak = s_;
  auto listener = TRIB_TRY(uv::tcp_listener::listen(*s_->l, address, lo, [weak](auto conn) {
    if (auto s = weak.lock()) {
      s->accept(std::move(conn));
    } else {
      conn->abort();
    }
  }));
  s_->listener.emplace(std::move(listener));
  TRIB_LOG_INFO("http", "listening", {"addr", s_->listener->address()});
  return {};
}

uint16_t server::port() const { return s_->listener ? s_->listener->port() : 0; }
std::string server::address() const { return s_->listener ? s_->listener->address() : std::string(); }
size_t server::connection_count() const { return s_->connections.size(); }
const server_stats& server::stats() const { return s_->stats; }
void server::close() {
  if (s_) s_->close_all();
}

}  // namespace tributary::http
