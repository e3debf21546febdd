#pragma once
// TCP over libuv: a listener with a connection limit, and connections with framed reads, a bounded
// write queue with backpressure, graceful and abortive close, and an optional idle timeout.
//
// Life of a tcp_connection (always held by std::shared_ptr):
//  - It keeps itself alive while its handles are open: dropping every shared_ptr does not close it.
//    It closes on close() (graceful), abort(), a peer EOF or error, a framing error, the idle timeout,
//    a full write queue, or loop::close(). on_close then runs exactly once, from the close callback of
//    its last handle, and no other callback runs after it. Owners free their per-connection state in
//    on_close. The object itself stays valid for whoever still holds a shared_ptr (is_closed() is
//    true, write() returns errc::closed).
//  - Reads are framed by a frame_fn (framing.h). Each complete frame is passed to on_frame as a view
//    into the read buffer, valid only during the call (no copy). The read buffer never grows beyond
//    max(max_frame_bytes, read_chunk_bytes); a frame over max_frame_bytes is refused as soon as its
//    length is known (before it is buffered) with on_frame_error(errc::frame_too_large).
//  - Frames are delivered in order, one at a time. Delivery stops while the owner paused reading
//    (pause_reading(), e.g. until an fsync completes) or while the write queue is over its high
//    watermark (backpressure: a peer that pipelines requests but never reads replies is no longer
//    read from); it restarts, with the frames already buffered first, on resume_reading() or when
//    pending writes fall to the low watermark. A write that would pass write_limit_bytes fails with
//    errc::write_queue_full and aborts the connection.
//  - close(): stops delivering frames, flushes pending writes, shuts down the write side, then reads
//    and discards until the peer's EOF (so the peer is not reset while it still sends), all bounded
//    by close_linger_ms. abort(): closes now with a TCP reset; pending writes are dropped.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <uv.h>

#include "common/bytes.h"
#include "common/result.h"
#include "common/uv/framing.h"
#include "common/uv/loop.h"

namespace tributary::uv {

// Limits of one connection. Config values; validate() them when loading config (the constructor
// asserts they are valid).
struct connection_options {
  size_t max_frame_bytes = 1 << 20;              // largest frame accepted
  size_t read_chunk_bytes = 64 << 10;            // most bytes asked from the kernel per read
  size_t write_high_watermark_bytes = 1 << 20;   // pending writes above this: stop reading
  size_t write_low_watermark_bytes = 256 << 10;  // ... and read again at or below this
  size_t write_limit_bytes = 16 << 20;           // a write beyond this aborts (write_queue_full)
  uint64_t idle_timeout_ms = 0;                  // 0 = none: abort after this long without I/O
  uint64_t close_linger_ms = 5000;               // bound on a graceful close
  uint64_t connect_timeout_ms = 5000;            // outbound connects only
  bool no_delay = true;                          // TCP_NODELAY (request/response protocols)
  // Stop reading while the write queue is above the high watermark (a client that pipelines requests
  // but never reads replies). false for symmetric peer links, where both ends stopping reading
  // while their writes back up would deadlock; their owner bounds what it queues instead.
  bool pause_reading_when_backpressured = true;

  // Fails with std::errc::invalid_argument unless 0 < low <= high <= limit, frames and chunks > 0.
  result<void> validate() const;
};

struct connection_stats {
  uint64_t bytes_read = 0;
  uint64_t bytes_written = 0;
  uint64_t frames = 0;
  uint64_t backpressure_pauses = 0;  // times the write queue crossed the high watermark
};

class tcp_listener;

class tcp_connection final : public std::enable_shared_from_this<tcp_connection>, public detail::closable {
 public:
  struct callbacks {
    // Required. `frame` is valid only during the call.
    std::function<void(tcp_connection&, byte_span frame)> on_frame;
    // Optional. The stream cannot be framed any more (frame_too_large, bad_frame, or the error the
    // frame function returned); reading has stopped. The owner may write a reply. When the callback
    // returns, the connection closes gracefully with this error as its reason (unless the owner
    // already closed it).
    std::function<void(tcp_connection&, std::error_code)> on_frame_error;
    // Optional. true when the write queue crossed the high watermark (reading stopped), false when
    // it drained to the low watermark. May be called from inside write().
    std::function<void(tcp_connection&, bool backpressured)> on_backpressure;
    // Optional. Exactly once, last. reason: {} after close() without a reason, errc::peer_closed
    // after the peer's EOF, or the error that closed the connection.
    std::function<void(tcp_connection&, std::error_code reason)> on_close;
  };

  using connect_fn = std::function<void(result<std::shared_ptr<tcp_connection>>)>;
  // Outbound connection to a numeric "host:port". A bad address fails at once (done is not called);
  // otherwise done runs later, once, with the connection (open, not started) or the error
  // (a libuv error such as ECONNREFUSED, errc::connect_timeout, errc::loop_closing).
  static result<void> connect(loop& l, std::string_view address, const connection_options& options,
                              connect_fn done);

  // Starts reading and delivering frames. Once per connection.
  void start(frame_fn frame, callbacks cbs);

  // Queues bytes to send, in order. Fails with errc::closed once closing, or errc::write_queue_full
  // (and aborts the connection) when pending bytes would pass write_limit_bytes.
  result<void> write(std::vector<uint8_t> data);
  result<void> write(std::string data);
  result<void> write(std::shared_ptr<const std::vector<uint8_t>> data);  // shared, e.g. fan-out

  // Stops/restarts frame delivery and socket reads (per-connection ordering across async work).
  void pause_reading();
  void resume_reading();

  void close(std::error_code reason = {});  // graceful
  void abort(std::error_code reason = {});  // now, with a TCP reset

  bool is_open() const { return phase_ == phase::open; }
  bool is_closed() const { return phase_ == phase::closed; }
  bool is_reading() const { return reading_; }  // the socket is being read
  bool is_paused() const { return paused_; }
  bool is_backpressured() const { return backpressured_; }
  size_t pending_write_bytes() const { return pending_write_bytes_; }
  size_t buffered_bytes() const { return end_ - begin_; }
  size_t read_buffer_capacity() const { return cap_; }
  const std::string& peer_address() const { return peer_; }
  const connection_stats& stats() const { return stats_; }
  const connection_options& options() const { return options_; }

 private:
  struct passkey {};
  friend class tcp_listener;

 public:
  tcp_connection(passkey, loop& l, const connection_options& options);
  ~tcp_connection();

 private:
  enum class phase : uint8_t { connecting, open, closing_gracefully, closing, closed };
  struct write_req;

  static std::shared_ptr<tcp_connection> make(loop& l, const connection_options& options);
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }
  void became_open();
  result<void> queue_write(write_req* req);
  bool can_deliver() const;
  void update_reading();
  void dispatch();
  uint8_t* read_base() const;  // where buffered bytes [begin_, end_) are
  void leave_shared_buffer();
  void schedule_dispatch();
  void framing_error(std::error_code ec);
  void close_handles(bool reset);
  void finish();
  void touch();
  void arm_idle_timer(uint64_t delay_ms);
  void close_for_loop_shutdown() noexcept override { abort(errc::loop_closing); }

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf) noexcept;
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) noexcept;
  static void on_write(uv_write_t* req, int status) noexcept;
  static void on_shutdown(uv_shutdown_t* req, int status) noexcept;
  static void on_connect(uv_connect_t* req, int status) noexcept;
  static void on_timer(uv_timer_t* t) noexcept;
  static void on_idle(uv_idle_t* i) noexcept;
  static void on_handle_closed(uv_handle_t* h) noexcept;

  loop* loop_;
  connection_options options_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};  // connect timeout, idle timeout, close linger (by phase)
  uv_idle_t idle_{};    // deferred delivery of frames buffered while paused
  uv_shutdown_t shutdown_req_{};
  uv_connect_t connect_req_{};
  int handles_open_ = 0;

  phase phase_ = phase::connecting;
  bool started_ = false;
  bool paused_ = false;
  bool backpressured_ = false;
  bool framing_failed_ = false;
  bool reading_ = false;
  bool shutdown_requested_ = false;
  bool shutdown_done_ = false;
  bool eof_seen_ = false;
  bool in_dispatch_ = false;
  bool dispatch_scheduled_ = false;
  bool reading_shared_ = false;  // the current read went into the loop thread's shared buffer
  std::error_code reason_;

  std::unique_ptr<uint8_t[]> buf_;
  size_t cap_ = 0;
  size_t begin_ = 0;  // first byte of the current frame
  size_t end_ = 0;    // end of buffered bytes

  size_t pending_write_bytes_ = 0;
  uint64_t last_activity_ms_ = 0;
  connection_stats stats_;
  std::string peer_;

  frame_fn frame_;
  callbacks cb_;
  connect_fn connect_done_;
  std::shared_ptr<size_t> listener_count_;  // the accepting listener's live-connection count
  std::shared_ptr<tcp_connection> self_;
};

struct listener_options {
  int backlog = 511;
  size_t max_connections = 1024;  // over the limit: accept, close at once, count as rejected
  connection_options connection;  // for every accepted connection
};

struct listener_stats {
  uint64_t accepted = 0;
  uint64_t rejected = 0;       // over max_connections
  uint64_t accept_errors = 0;  // the kernel failed an accept (e.g. EMFILE)
};

class tcp_listener {
 public:
  // Called for each accepted connection (open, not started): the owner calls start() on it.
  using accept_fn = std::function<void(std::shared_ptr<tcp_connection>)>;

  // Binds and listens on a numeric "host:port" (IPv4 or [IPv6]; port 0 = ephemeral).
  static result<tcp_listener> listen(loop& l, std::string_view address, const listener_options& options,
                                     accept_fn on_accept);
  tcp_listener(tcp_listener&&) noexcept = default;
  tcp_listener& operator=(tcp_listener&& other) noexcept;
  ~tcp_listener();  // stops accepting; accepted connections live on

  uint16_t port() const;               // the bound port (the ephemeral one for port 0)
  const std::string& address() const;  // the bound address, "127.0.0.1:40123"
  size_t connection_count() const;     // accepted and not yet closed
  const listener_stats& stats() const;
  void close();

  struct state;

 private:
  explicit tcp_listener(std::shared_ptr<state> s) : s_(std::move(s)) {}
  static void on_connection(uv_stream_t* server, int status) noexcept;
  std::shared_ptr<state> s_;
};

}  // namespace tributary::uv
