#include "cluster/kafka/connection.h"

#include <exception>

#include "cluster/kafka/error_response.h"
#include "cluster/kafka/handlers/handlers.h"
#include "cluster/kafka/request_context.h"
#include "cluster/kafka/server.h"
#include "common/assert.h"
#include "common/kafka/protocol/frame.h"
#include "common/kafka/protocol/response.h"
#include "common/log.h"

namespace tributary::cluster::kafka {

namespace p = protocol;

connection::connection(server& s, std::shared_ptr<uv::tcp_connection> tcp, uint64_t id)
    : server_(&s), tcp_(std::move(tcp)), id_(id) {}

connection::~connection() = default;

const std::string& connection::peer() const { return tcp_->peer_address(); }

bool connection::is_open() const { return server_ != nullptr && tcp_->is_open() && !closing_; }

void connection::start() {
  std::weak_ptr<connection> weak = weak_from_this();
  uv::tcp_connection::callbacks cbs;
  cbs.on_frame = [weak](uv::tcp_connection&, byte_span frame) {
    if (auto self = weak.lock()) self->on_frame(frame);
  };
  cbs.on_frame_error = [weak](uv::tcp_connection&, std::error_code ec) {
    if (auto self = weak.lock()) self->on_frame_error(ec);
  };
  cbs.on_close = [weak, id = id_](uv::tcp_connection&, std::error_code reason) {
    auto self = weak.lock();
    if (!self || self->server_ == nullptr) return;
    if (reason && reason != std::error_code(uv::errc::peer_closed)) {
      TRIB_LOG_DEBUG("kafka", "connection_closed", {"peer", self->peer()}, {"reason", reason.message()});
    }
    self->server_->connection_closed(id);  // may destroy *self: `self` keeps it until we return
  };
  tcp_->start(uv::frame_i32_length_prefix, std::move(cbs));
}

void connection::on_frame(byte_span frame) {
  if (closing_ || server_ == nullptr) return;
  TRIB_ASSERT(frame.size() >= p::k_frame_size_bytes);
  auto payload = frame.subspan(p::k_frame_size_bytes);
  // The request's records borrow from these bytes until it is answered (a Produce may wait for its
  // fsync), so the frame is copied out of the read buffer, which is reused at once.
  // No exception may cross into libuv: one that escapes a handler (out of memory, a bug) costs this
  // client its connection, never the process.
  try {
    dispatch(std::vector<uint8_t>(payload.begin(), payload.end()));
  } catch (const std::exception& e) {
    TRIB_LOG_ERROR("kafka", "request_failed", {"peer", peer()}, {"error", e.what()});
    server_->count_bad_request("handler_exception");
    close("the request failed inside the broker", false);
    return;
  }
  update_reading();
}

void connection::on_frame_error(std::error_code ec) {
  if (server_ == nullptr) return;
  const bool too_large = ec == std::error_code(uv::errc::frame_too_large);
  server_->count_bad_request(too_large ? "frame_too_large" : "bad_frame");
  TRIB_LOG_WARN("kafka", "connection_closed_bad_frame", {"peer", peer()}, {"error", ec.message()},
                {"max_request_bytes", server_->config().kafka.max_request_bytes});
  closing_ = true;  // tcp_connection closes it when this callback returns
}

void connection::dispatch(std::vector<uint8_t> payload) {
  auto decoded = p::decode_request(payload);
  if (!decoded) {
    answer_undecodable(decoded.error());
    return;
  }
  const p::request_header& h = decoded->header;
  const handler* entry = find_handler(h.key);
  api_stats* stats = server_->stats_for(h.key);
  if (stats) stats->requests->inc();
  const response_queue::slot slot = queue_.open();
  auto ctx = std::make_shared<request_context>(weak_from_this(), slot, std::move(payload),
                                               std::move(*decoded), server_->broker(), stats);
  if (entry && entry->supports(h.version)) {
    entry->handle(*ctx);
    return;
  }
  // Described by the codec but not handled (an API we do not implement, a version we do not
  // advertise): the protocol's UNSUPPORTED_VERSION where the response can carry it.
  const p::api_info* api = p::find_api(h.key);
  TRIB_LOG_DEBUG("kafka", "unsupported_request", {"peer", peer()}, {"api", api ? api->name : "?"},
                 {"version", h.version});
  server_->count_bad_request("unsupported_version");
  if (entry && entry->reject) {
    entry->reject(*ctx, p::error_code::unsupported_version);
    return;
  }
  if (auto bytes = top_level_error_response(ctx->request(), p::error_code::unsupported_version)) {
    ctx->respond_encoded(std::move(*bytes));
    return;
  }
  ctx->close_connection(fmt::format("{} v{} is not supported and its response has no error code to say so",
                                    api ? api->name : "?", h.version));
}

// The answer to a request that did not decode.
void connection::answer_undecodable(const p::request_error& e) {
  if (p::is_api_versions_fallback(e)) {
    // Clients send their newest ApiVersions first; the v0 answer tells them our range.
    const handler* av = find_handler(p::api_key::api_versions);
    TRIB_ASSERT(av != nullptr);
    server_->count_bad_request("api_versions_fallback");
    if (auto* stats = server_->stats_for(p::api_key::api_versions)) stats->requests->inc();
    const auto slot = queue_.open();
    complete(slot, p::encode_api_versions_fallback(e.id->correlation_id, av->min_version, av->max_version));
    return;
  }
  std::string what;
  if (e.error == std::error_code(p::errc::unknown_api_key)) {
    server_->count_bad_request("unknown_api_key");
    what = fmt::format("unknown api key {}", static_cast<int16_t>(e.id->key));
  } else if (e.error == std::error_code(p::errc::unsupported_version)) {
    server_->count_bad_request("unsupported_version");
    const p::api_info* api = p::find_api(e.id->key);
    what = fmt::format("{} v{} is beyond the versions this broker can decode", api ? api->name : "?",
                       e.id->version);
  } else {
    server_->count_bad_request("malformed");
    what = fmt::format("malformed request: {}", e.error.message());
  }
  if (e.id) {
    const p::api_info* api = p::find_api(e.id->key);
    TRIB_LOG_WARN("kafka", "connection_closed_bad_request", {"peer", peer()}, {"reason", what},
                  {"api", api ? api->name : "?"}, {"version", e.id->version},
                  {"correlation_id", e.id->correlation_id});
  } else {
    TRIB_LOG_WARN("kafka", "connection_closed_bad_request", {"peer", peer()}, {"reason", what});
  }
  close(what, false);  // already logged
}

void connection::complete(response_queue::slot s, std::vector<uint8_t> bytes) {
  queue_.complete(s, std::move(bytes));
  flush();
}

void connection::flush() {
  if (server_ == nullptr) return;
  for (auto& bytes : queue_.take_ready()) {
    if (!tcp_->is_open()) break;
    if (auto r = tcp_->write(std::move(bytes)); !r) {
      TRIB_LOG_WARN("kafka", "connection_write_failed", {"peer", peer()}, {"error", r.error().message()});
      closing_ = true;
      break;
    }
  }
  update_reading();
}

void connection::update_reading() {
  if (server_ == nullptr || !tcp_->is_open()) return;
  const size_t limit = server_->config().kafka.max_in_flight_requests;
  const bool over = queue_.in_flight() >= limit;
  if (over && !paused_for_limit_) {
    paused_for_limit_ = true;
    if (!reading_stopped_) tcp_->pause_reading();
  } else if (!over && paused_for_limit_) {
    paused_for_limit_ = false;
    if (!reading_stopped_) tcp_->resume_reading();
  }
}

void connection::close(std::string_view why, bool client_fault) {
  if (closing_) return;
  closing_ = true;
  if (client_fault) TRIB_LOG_WARN("kafka", "connection_closed", {"peer", peer()}, {"reason", why});
  tcp_->close();
}

void connection::stop_reading() {
  if (reading_stopped_) return;
  reading_stopped_ = true;
  if (!paused_for_limit_ && tcp_->is_open()) tcp_->pause_reading();
}

void connection::detach() {
  server_ = nullptr;
  if (!tcp_->is_closed()) tcp_->abort();
}

}  // namespace tributary::cluster::kafka
