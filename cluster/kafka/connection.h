#pragma once
// One client connection: decodes its requests in order, hands each to its handler with a slot in the
// connection's response_queue, and writes the completed prefix of answers. At most
// kafka.max_in_flight_requests requests are open at once; beyond that the connection stops reading
// until answers drain (per-client backpressure, together with the tcp write watermarks).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/kafka/response_queue.h"
#include "common/bytes.h"
#include "common/kafka/protocol/request.h"
#include "common/uv/tcp.h"

namespace tributary::cluster::kafka {

namespace protocol = tributary::kafka::protocol;

class server;

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(server& s, std::shared_ptr<uv::tcp_connection> tcp, uint64_t id);
  ~connection();

  void start();
  uint64_t id() const { return id_; }
  const std::string& peer() const;
  bool is_open() const;
  size_t in_flight() const { return queue_.in_flight(); }

  // A request's answer (empty: none). Writes whatever prefix of answers is now complete.
  void complete(response_queue::slot s, std::vector<uint8_t> bytes);
  // Graceful close after the answers already written; logs `why` at `warn` when it is the client's fault.
  void close(std::string_view why, bool client_fault = true);
  // Shutdown: read no more requests.
  void stop_reading();
  // The server is going away: abort, and never call it again.
  void detach();

 private:
  void on_frame(byte_span frame);
  void on_frame_error(std::error_code ec);
  void dispatch(std::vector<uint8_t> payload);
  void answer_undecodable(const protocol::request_error& e);
  void flush();
  void update_reading();

  server* server_;
  std::shared_ptr<uv::tcp_connection> tcp_;
  uint64_t id_;
  response_queue queue_;
  bool paused_for_limit_ = false;
  bool reading_stopped_ = false;
  bool closing_ = false;
};

}  // namespace tributary::cluster::kafka
