#pragma once
// What a handler gets: one decoded request (which owns the frame its records point into), the
// broker's services, and the promise of one answer in this connection's order.
//
// A handler answers exactly once, at once or later: respond(body) encodes the response at the
// request's version; respond_nothing() answers without bytes (Produce acks=0); close_connection()
// gives up on the client. To answer later, keep the context alive with shared_from_this() (e.g. in a
// waiter's callback). If the connection is gone by then, the answer is dropped. A context destroyed
// unanswered while its connection lives is a bug: it is logged and the connection is closed, so the
// client is never left waiting on a slot that will not complete.
#include <chrono>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "cluster/broker/broker_service.h"
#include "cluster/kafka/response_queue.h"
#include "common/kafka/protocol/protocol.h"
#include "common/metrics.h"

namespace tributary::cluster::kafka {

namespace protocol = tributary::kafka::protocol;

class connection;

// Per-API metrics.
struct api_stats {
  metrics::counter* requests = nullptr;
  metrics::histogram* seconds = nullptr;
};

class request_context : public std::enable_shared_from_this<request_context> {
 public:
  // `request` borrows from `frame` (its records point into it); moving the vector keeps its buffer.
  request_context(std::weak_ptr<connection> conn, response_queue::slot slot, std::vector<uint8_t> frame,
                  protocol::request request, broker::broker_service& broker, api_stats* stats);
  ~request_context();
  request_context(const request_context&) = delete;
  request_context& operator=(const request_context&) = delete;

  const protocol::request_header& header() const { return request_.header; }
  int16_t version() const { return request_.header.version; }
  protocol::request& request() { return request_; }
  broker::broker_service& broker() { return broker_; }
  const broker::broker_config& config() const { return broker_.config(); }

  // Encodes `body` at the request's version and completes this request's slot.
  template <protocol::message R>
  void respond(const R& body) {
    byte_writer out;
    protocol::encode_response(out, request_.header.correlation_id, request_.header.version, body);
    complete(out.take());
  }
  // Completes the slot with no answer (Produce acks=0).
  void respond_nothing() { complete({}); }
  // Completes the slot with an answer encoded already (size prefix included).
  void respond_encoded(std::vector<uint8_t> frame) { complete(std::move(frame)); }
  // Closes the connection gracefully (after the answers before this one), logging why.
  void close_connection(std::string_view why);
  bool answered() const { return answered_; }
  bool connection_open() const;
  // The client's address as Kafka reports it in DescribeGroups ("/127.0.0.1"); "" once disconnected.
  std::string client_host() const;
  // The request header's client_id ("" when null).
  std::string client_id() const { return request_.header.client_id.value_or(""); }

  // A writable view of `inside` (bytes of this request's frame, e.g. a Produce batch, which the
  // append rewrites in place).
  std::span<uint8_t> writable(byte_span inside);

 private:
  void complete(std::vector<uint8_t> bytes);

  std::weak_ptr<connection> conn_;
  response_queue::slot slot_;
  std::vector<uint8_t> frame_;
  protocol::request request_;
  broker::broker_service& broker_;
  api_stats* stats_;
  std::chrono::steady_clock::time_point received_;
  bool answered_ = false;
};

}  // namespace tributary::cluster::kafka
