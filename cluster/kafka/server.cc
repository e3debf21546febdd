#include "cluster/kafka/server.h"

#include "cluster/kafka/connection.h"
#include "common/assert.h"
#include "common/kafka/protocol/frame.h"
#include "common/log.h"

namespace tributary::cluster::kafka {

namespace {
// Request latency buckets: 100 µs .. ~52 s (long polls and fsync waits included).
std::vector<double> latency_buckets() { return metrics::exponential_buckets(0.0001, 2, 20); }
}  // namespace

server::server(uv::loop& l, broker::broker_service& svc, metrics::registry& registry)
    : loop_(l), svc_(svc), registry_(registry) {
  connections_gauge_ = &registry_.add_gauge("tributary_kafka_connections", "Open Kafka client connections.");
  accepted_ = &registry_.add_counter("tributary_kafka_connections_accepted_total",
                                     "Kafka client connections accepted.");
}

server::~server() {
  if (listener_) listener_->close();
  auto conns = std::move(connections_);
  connections_.clear();
  for (auto& [_, c] : conns) c->detach();
}

result<void> server::listen(std::string_view address) {
  const auto& k = svc_.config().kafka;
  uv::listener_options o;
  o.max_connections = k.max_connections;
  o.connection.max_frame_bytes = protocol::k_frame_size_bytes + k.max_request_bytes;
  o.connection.read_chunk_bytes = 64 << 10;
  o.connection.write_high_watermark_bytes = 4 << 20;
  o.connection.write_low_watermark_bytes = 1 << 20;
  o.connection.write_limit_bytes = k.write_buffer_bytes;
  o.connection.idle_timeout_ms = k.idle_timeout_ms;
  o.connection.no_delay = true;
  TRIB_TRY_VOID(o.connection.validate());
  auto l = TRIB_TRY(uv::tcp_listener::listen(
      loop_, address, o, [this](std::shared_ptr<uv::tcp_connection> tcp) { accept(std::move(tcp)); }));
  listener_.emplace(std::move(l));
  return {};
}

uint16_t server::port() const { return listener_ ? listener_->port() : 0; }
std::string server::address() const { return listener_ ? listener_->address() : std::string(); }

void server::accept(std::shared_ptr<uv::tcp_connection> tcp) {
  const uint64_t id = next_connection_id_++;
  auto c = std::make_shared<connection>(*this, std::move(tcp), id);
  connections_.emplace(id, c);
  accepted_->inc();
  connections_gauge_->set(static_cast<int64_t>(connections_.size()));
  c->start();
  if (reading_stopped_) c->stop_reading();
}

void server::connection_closed(uint64_t id) {
  connections_.erase(id);
  connections_gauge_->set(static_cast<int64_t>(connections_.size()));
}

void server::stop_accepting() {
  if (listener_) listener_->close();
}

void server::stop_reading() {
  reading_stopped_ = true;
  for (auto& [_, c] : connections_) c->stop_reading();
}

size_t server::in_flight() const {
  size_t n = 0;
  for (const auto& [_, c] : connections_) n += c->in_flight();
  return n;
}

void server::close_all() {
  // Copy: closing may call back into connection_closed() (not synchronously today, but cheaply safe).
  std::vector<std::shared_ptr<connection>> conns;
  conns.reserve(connections_.size());
  for (auto& [_, c] : connections_) conns.push_back(c);
  for (auto& c : conns) c->close("broker shutting down", false);
}

api_stats* server::stats_for(protocol::api_key key) {
  const auto k = static_cast<int16_t>(key);
  auto it = stats_.find(k);
  if (it != stats_.end()) return &it->second;
  const protocol::api_info* api = protocol::find_api(key);
  if (api == nullptr) return nullptr;  // unknown keys are counted as bad requests, not per API
  metrics::labels labels{{"api", std::string(api->name)}};
  api_stats s;
  s.requests =
      &registry_.add_counter("tributary_kafka_requests_total", "Kafka requests received, by API.", labels);
  s.seconds = &registry_.add_histogram("tributary_kafka_request_seconds",
                                       "Time from receiving a Kafka request to queueing its answer, by API.",
                                       latency_buckets(), labels);
  return &stats_.emplace(k, s).first->second;
}

void server::count_bad_request(std::string_view reason) {
  registry_
      .add_counter("tributary_kafka_bad_requests_total",
                   "Requests refused: bad frames, undecodable bytes, unknown APIs, unsupported versions.",
                   {{"reason", std::string(reason)}})
      .inc();
}

}  // namespace tributary::cluster::kafka
