#include "cluster/kafka/request_context.h"

#include "cluster/kafka/connection.h"
#include "common/assert.h"
#include "common/log.h"

namespace tributary::cluster::kafka {

request_context::request_context(std::weak_ptr<connection> conn, response_queue::slot slot,
                                 std::vector<uint8_t> frame, protocol::request request,
                                 broker::broker_service& broker, api_stats* stats)
    : conn_(std::move(conn)),
      slot_(slot),
      frame_(std::move(frame)),
      request_(std::move(request)),
      broker_(broker),
      stats_(stats),
      received_(std::chrono::steady_clock::now()) {}

request_context::~request_context() {
  if (answered_) return;
  if (auto c = conn_.lock(); c && c->is_open()) {
    const protocol::api_info* api = protocol::find_api(request_.header.key);
    TRIB_LOG_ERROR("kafka", "request_dropped_unanswered", {"peer", c->peer()}, {"api", api ? api->name : "?"},
                   {"correlation_id", request_.header.correlation_id});
    c->close("a request was dropped without an answer", false);
  }
}

bool request_context::connection_open() const {
  auto c = conn_.lock();
  return c && c->is_open();
}

std::string request_context::client_host() const {
  auto c = conn_.lock();
  if (!c) return {};
  const std::string& peer = c->peer();
  auto colon = peer.rfind(':');
  std::string host = colon == std::string::npos ? peer : peer.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return "/" + host;
}

void request_context::complete(std::vector<uint8_t> bytes) {
  TRIB_ASSERT(!answered_, "a request is answered once");
  answered_ = true;
  if (stats_) {
    stats_->seconds->observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - received_).count());
  }
  if (auto c = conn_.lock()) c->complete(slot_, std::move(bytes));
}

void request_context::close_connection(std::string_view why) {
  answered_ = true;
  if (auto c = conn_.lock()) c->close(why);
}

std::span<uint8_t> request_context::writable(byte_span inside) {
  const uint8_t* base = frame_.data();
  TRIB_ASSERT(inside.data() >= base && inside.data() + inside.size() <= base + frame_.size(),
              "writable(): bytes outside this request's frame");
  return {frame_.data() + (inside.data() - base), inside.size()};
}

}  // namespace tributary::cluster::kafka
