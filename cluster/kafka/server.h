#pragma once
// The Kafka listener of a broker node: accepts clients, frames and decodes their requests, routes each
// to its handler (handlers/handlers.h) and writes the answers in request order per connection.
//
// Bad input stays with the client that sent it: a frame over kafka.max_request_bytes, bytes that do
// not decode, an API key or version the codec does not describe close that connection (with a log
// line); an ApiVersions of an unknown version gets the v0 fallback answer; a described API we do not
// handle, or a version outside the advertised range, gets the protocol's UNSUPPORTED_VERSION answer
// where the response can carry one. Every other connection goes on untouched.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cluster/broker/broker_service.h"
#include "cluster/kafka/request_context.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/tcp.h"

namespace tributary::cluster::kafka {

class connection;

class server {
 public:
  server(uv::loop& l, broker::broker_service& svc, metrics::registry& registry);
  ~server();  // aborts connections still open; no callback reaches this object afterwards
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  result<void> listen(std::string_view address);
  uint16_t port() const;
  std::string address() const;

  // Shutdown, in this order: stop_accepting(), stop_reading() (no new requests), wait until
  // in_flight() is 0 (bounded by the caller), close_all(), wait until connection_count() is 0.
  void stop_accepting();
  void stop_reading();
  size_t in_flight() const;
  void close_all();
  size_t connection_count() const { return connections_.size(); }

  // For connections.
  broker::broker_service& broker() { return svc_; }
  const broker::broker_config& config() const { return svc_.config(); }
  api_stats* stats_for(protocol::api_key key);
  void count_bad_request(std::string_view reason);
  void connection_closed(uint64_t id);

 private:
  void accept(std::shared_ptr<uv::tcp_connection> tcp);

  uv::loop& loop_;
  broker::broker_service& svc_;
  metrics::registry& registry_;
  std::optional<uv::tcp_listener> listener_;
  std::unordered_map<uint64_t, std::shared_ptr<connection>> connections_;
  uint64_t next_connection_id_ = 1;
  bool reading_stopped_ = false;
  std::unordered_map<int16_t, api_stats> stats_;
  metrics::gauge* connections_gauge_ = nullptr;
  metrics::counter* accepted_ = nullptr;
};

}  // namespace tributary::cluster::kafka
