#pragma once
// The cluster RPC transport on libuv: one TCP connection per pair of nodes, carrying every Raft
// group's messages and the node-to-node calls in both directions (protocol.h has the frames).
//
// Connections. A node dials every peer whose address it knows and that it has no connection to (so a
// new node can reach the seeds before they know its address). When both sides dialled, two
// connections briefly exist; both nodes keep the one dialled by the lower node id and close the
// other, so they agree without a round trip. A lost connection is dialled again after a backoff
// (doubling from reconnect_backoff_min_ms to reconnect_backoff_max_ms, with jitter).
//
// Raft traffic. send() queues a message for a peer; flush() writes what was queued for each peer as
// one `raft` frame (several when it passes frame_target_bytes), unless the connection already has
// peer_write_backlog_bytes waiting to be written: then the messages are dropped and counted. The caller
// flushes once per loop turn, after every group's ready() was drained, so the heartbeats of all partitions
// between two nodes go out together. Messages for a peer without a connection are dropped and counted: Raft
// retransmits, and a queue for a dead peer would only grow.
//
// Calls. call() sends a request and runs its callback exactly once: with the response, or with
// not_connected, connection_lost or timeout. on_request answers with the reply function it is given
// (once; a reply after the connection closed is dropped).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/rpc/protocol.h"
#include "common/uv/loop.h"
#include "common/uv/tcp.h"
#include "common/uv/timer.h"

namespace tributary::cluster::rpc {

enum class call_errc {
  not_connected = 1,  // no connection to the peer right now
  connection_lost,    // the connection closed before the answer came
  timeout,            // no answer within request_timeout_ms
  shutting_down,      // the transport is closing
};
inline std::error_code make_error_code(call_errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::rpc

template <>
struct tributary::errc_info<tributary::cluster::rpc::call_errc> {
  static constexpr const char* name = "rpc_call";
  static const char* message(tributary::cluster::rpc::call_errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::rpc::call_errc> : std::true_type {};

namespace tributary::cluster::rpc {

struct transport_options {
  raft::node_id self;
  std::string cluster_id;
  size_t max_frame_bytes = 64u << 20;
  size_t frame_target_bytes = 4u << 20;  // a raft frame is cut after this many entry bytes
  size_t write_limit_bytes = 256u << 20;
  // Raft messages for a peer whose connection has more than this waiting to be written are dropped
  // (and counted), as for a peer without a connection: Raft retransmits, and the link keeps being
  // read in both directions (two nodes that both stopped reading while their writes back up would
  // never drain each other).
  size_t peer_write_backlog_bytes = 32u << 20;
  uint64_t connect_timeout_ms = 2000;
  uint64_t handshake_timeout_ms = 5000;
  uint64_t reconnect_backoff_min_ms = 50;
  uint64_t reconnect_backoff_max_ms = 2000;
  uint64_t request_timeout_ms = 5000;
  uint64_t seed = 1;  // jitter
};

struct transport_stats {
  uint64_t frames_out = 0;
  uint64_t frames_in = 0;
  uint64_t messages_out = 0;
  uint64_t messages_in = 0;
  uint64_t messages_dropped = 0;  // queued for a peer without a connection
  uint64_t connects = 0;          // connections established (both directions)
  uint64_t handshake_failures = 0;
  uint64_t protocol_errors = 0;  // frames that did not decode, or out of turn
};

class transport {
 public:
  using reply_fn = std::function<void(response)>;
  struct callbacks {
    std::function<void(raft::node_id from, raft_batch&& batch)> on_raft;
    std::function<void(raft::node_id from, request&& req, reply_fn reply)> on_request;
    std::function<void(raft::node_id peer, bool connected)> on_peer;  // optional
  };

  transport(uv::loop& l, transport_options options, callbacks cbs);
  ~transport();
  transport(const transport&) = delete;
  transport& operator=(const transport&) = delete;

  result<void> listen(std::string_view address);
  uint16_t port() const;
  std::string address() const;

  // Where a peer listens (numeric host:port). Dials it when not connected. A changed address
  // takes effect at the next dial.
  void set_peer(raft::node_id peer, std::string address);
  void remove_peer(raft::node_id peer);
  bool connected(raft::node_id peer) const;

  void send(raft::node_id to, group_id group, raft::message m);
  void flush();

  void call(raft::node_id to, rpc::api api, std::vector<uint8_t> body,
            std::function<void(result<response>)> done);

  // Closes every connection and fails pending calls with shutting_down. Idempotent.
  void close();

  const transport_stats& stats() const { return stats_; }

 private:
  struct conn;
  struct peer {
    std::string address;
    std::shared_ptr<conn> active;  // established (handshake done)
    bool dialling = false;
    uint64_t backoff_ms = 0;
    std::optional<uv::timer> redial;
    std::vector<group_message> queue;
    size_t queued_bytes = 0;
  };
  struct pending_call {
    raft::node_id to;
    std::weak_ptr<conn> via;
    uint64_t deadline_ms = 0;
    std::function<void(result<response>)> done;
  };

  void accept(std::shared_ptr<uv::tcp_connection> tcp);
  void dial(raft::node_id peer_id);
  void schedule_redial(raft::node_id peer_id);
  void start_conn(const std::shared_ptr<conn>& c);
  void on_frame(const std::shared_ptr<conn>& c, byte_span bytes);
  void established(const std::shared_ptr<conn>& c);
  void closed(const std::shared_ptr<conn>& c);
  void write_frame(conn& c, const frame& f);
  void expire_calls();
  void fail_calls(const conn* via, call_errc why);

  uv::loop& loop_;
  transport_options opt_;
  callbacks cb_;
  std::optional<uv::tcp_listener> listener_;
  std::map<raft::node_id, peer> peers_;
  std::vector<std::shared_ptr<conn>> conns_;  // every open connection, established or not
  std::map<uint64_t, pending_call> calls_;
  uint64_t next_correlation_ = 1;
  uv::timer call_timer_;
  uint64_t rng_;
  bool closing_ = false;
  transport_stats stats_;
  // Callbacks that libuv runs after the transport is gone (a connect completing, a close callback)
  // hold a weak_ptr to this and do nothing once it expired.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace tributary::cluster::rpc
