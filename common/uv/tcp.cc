#include "common/uv/tcp.h"

#include <algorithm>
#include <cstring>

#include "common/assert.h"
#include "common/log.h"
#include "common/uv/address.h"

namespace tributary::uv {

namespace {
constexpr size_t initial_buffer_bytes = 4096;     // first allocation of a read buffer
constexpr size_t discard_buffer_bytes = 16384;    // reads after close() are discarded into this much
constexpr size_t shrink_above_bytes = 256 << 10;  // an empty buffer larger than this is released
// A buffer of ordinary size (at most this, or two read chunks) is released as soon as every byte in it
// was delivered: an idle connection then holds no read buffer (10,000 idle MQTT clients cost ~4 KiB of
// resident memory each with one), and a busy one gets a fresh buffer from malloc's free list at its
// next read. A buffer grown for large frames is kept for the next one (up to shrink_above_bytes).
constexpr size_t release_idle_bytes = 64 << 10;

// The loop thread's shared read buffer. A connection with nothing buffered reads into it; the
// complete frames are delivered straight from it, and only what is left (a partial frame, or frames
// held while the owner paused) is copied into the connection's own buffer. A busy connection then
// allocates nothing per read (a 16-64 KiB malloc and free per read showed as ~5% of the gateway's
// event loop), and an idle one still holds no buffer. One per thread: every loop runs on its own.
struct shared_read_buffer {
  std::unique_ptr<uint8_t[]> bytes;
  size_t cap = 0;
  bool in_use = false;  // a connection's read is being delivered from it
};
thread_local shared_read_buffer shared_read;

template <class T>
T* owner_of(const void* data) {
  return static_cast<T*>(static_cast<detail::closable*>(const_cast<void*>(data)));
}
}  // namespace

result<void> connection_options::validate() const {
  bool ok = max_frame_bytes > 0 && read_chunk_bytes > 0 && write_low_watermark_bytes > 0 &&
            write_low_watermark_bytes <= write_high_watermark_bytes &&
            write_high_watermark_bytes <= write_limit_bytes;
  if (!ok) return fail(std::make_error_code(std::errc::invalid_argument));
  return {};
}

// ---------------------------------------------------------------------------------------------
// tcp_connection
// ---------------------------------------------------------------------------------------------

struct tcp_connection::write_req {
  uv_write_t req{};  // req.data points back to this write_req
  tcp_connection* conn = nullptr;
  uv_buf_t buf{};
  size_t bytes = 0;
  std::vector<uint8_t> vec;
  std::string str;
  std::shared_ptr<const std::vector<uint8_t>> shared;
};

tcp_connection::tcp_connection(passkey, loop& l, const connection_options& options)
    : loop_(&l), options_(options) {
  TRIB_ASSERT(options.validate(), "invalid connection_options");
}

tcp_connection::~tcp_connection() {
  TRIB_ASSERT(handles_open_ == 0, "a connection is freed only after its handles closed");
}

std::shared_ptr<tcp_connection> tcp_connection::make(loop& l, const connection_options& options) {
  TRIB_ASSERT(!l.closed());
  auto c = std::make_shared<tcp_connection>(passkey{}, l, options);
  // None of these can fail: they only initialise structures (no socket is created yet).
  TRIB_ASSERT(uv_tcp_init(l.raw(), &c->tcp_) == 0);
  TRIB_ASSERT(uv_timer_init(l.raw(), &c->timer_) == 0);
  TRIB_ASSERT(uv_idle_init(l.raw(), &c->idle_) == 0);
  for (auto* h : {reinterpret_cast<uv_handle_t*>(&c->tcp_), reinterpret_cast<uv_handle_t*>(&c->timer_),
                  reinterpret_cast<uv_handle_t*>(&c->idle_)}) {
    h->data = static_cast<detail::closable*>(c.get());
  }
  c->handles_open_ = 3;
  c->self_ = c;
  return c;
}

result<void> tcp_connection::connect(loop& l, std::string_view address, const connection_options& options,
                                     connect_fn done) {
  TRIB_ASSERT(done);
  auto addr = TRIB_TRY(parse_address(address));
  auto c = make(l, options);
  c->connect_req_.data = c.get();
  int rc = uv_tcp_connect(&c->connect_req_, &c->tcp_, reinterpret_cast<const sockaddr*>(&addr), on_connect);
  if (rc < 0) {
    c->close_handles(false);
    return fail(uv_error(rc));
  }
  c->connect_done_ = std::move(done);
  uv_timer_start(&c->timer_, on_timer, options.connect_timeout_ms, 0);
  return {};
}

void tcp_connection::on_connect(uv_connect_t* req, int status) noexcept {
  auto* c = static_cast<tcp_connection*>(req->data);
  auto keep = c->self_;
  auto done = std::move(c->connect_done_);
  c->connect_done_ = nullptr;
  if (status < 0 || c->phase_ != phase::connecting) {
    // A timeout or loop shutdown already closed the handles and recorded why.
    std::error_code ec = c->reason_ ? c->reason_ : uv_error(status);
    if (!c->reason_) c->reason_ = ec;
    c->close_handles(false);
    if (done) done(fail(ec));
    return;
  }
  uv_timer_stop(&c->timer_);
  c->became_open();
  if (done) done(c->shared_from_this());
}

void tcp_connection::became_open() {
  TRIB_ASSERT(phase_ == phase::connecting);
  phase_ = phase::open;
  sockaddr_storage peer{};
  int len = sizeof peer;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&peer), &len) == 0) {
    peer_ = format_address(reinterpret_cast<const sockaddr*>(&peer));
  } else {
    peer_ = "?";
  }
  if (options_.no_delay) uv_tcp_nodelay(&tcp_, 1);
  touch();
  if (options_.idle_timeout_ms > 0) arm_idle_timer(options_.idle_timeout_ms);
}

void tcp_connection::start(frame_fn frame, callbacks cbs) {
  TRIB_ASSERT(!started_, "start() once per connection");
  TRIB_ASSERT(frame && cbs.on_frame);
  started_ = true;
  frame_ = std::move(frame);
  cb_ = std::move(cbs);
  update_reading();
}

void tcp_connection::touch() { last_activity_ms_ = uv_now(loop_->raw()); }

void tcp_connection::arm_idle_timer(uint64_t delay_ms) { uv_timer_start(&timer_, on_timer, delay_ms, 0); }

void tcp_connection::on_timer(uv_timer_t* t) noexcept {
  auto* c = owner_of<tcp_connection>(t->data);
  auto keep = c->self_;
  switch (c->phase_) {
    case phase::connecting:
      c->reason_ = errc::connect_timeout;
      c->close_handles(false);  // on_connect runs with UV_ECANCELED and reports reason_
      return;
    case phase::open: {
      uint64_t idle = uv_now(c->loop_->raw()) - c->last_activity_ms_;
      if (idle >= c->options_.idle_timeout_ms) {
        c->abort(errc::idle_timeout);
      } else {
        c->arm_idle_timer(c->options_.idle_timeout_ms - idle);
      }
      return;
    }
    case phase::closing_gracefully:
      // The peer did not take our data or did not close its side in time.
      TRIB_LOG_DEBUG("uv", "close linger expired", {"peer", c->peer_});
      c->close_handles(true);
      return;
    case phase::closing:
    case phase::closed: return;
  }
}

bool tcp_connection::can_deliver() const {
  return phase_ == phase::open && started_ && !paused_ &&
         !(backpressured_ && options_.pause_reading_when_backpressured) && !framing_failed_;
}

void tcp_connection::update_reading() {
  bool want = false;
  if (phase_ == phase::open) {
    want = can_deliver() && !eof_seen_;
  } else if (phase_ == phase::closing_gracefully) {
    want = !eof_seen_;  // discard until the peer's EOF
  }
  if (want == reading_) return;
  if (want) {
    int rc = uv_read_start(stream(), on_alloc, on_read);
    if (rc < 0) {
      abort(uv_error(rc));
      return;
    }
    reading_ = true;
  } else {
    uv_read_stop(stream());
    reading_ = false;
  }
}

void tcp_connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* out) noexcept {
  auto* c = owner_of<tcp_connection>(h->data);
  if (c->phase_ != phase::open) {
    // Discarding (graceful close): anything read is dropped.
    if (c->cap_ < discard_buffer_bytes) {
      c->buf_.reset(new uint8_t[discard_buffer_bytes]);
      c->cap_ = discard_buffer_bytes;
    }
    c->begin_ = c->end_ = 0;
    *out = uv_buf_init(reinterpret_cast<char*>(c->buf_.get()), static_cast<unsigned>(discard_buffer_bytes));
    return;
  }
  const size_t limit = std::max(c->options_.max_frame_bytes, c->options_.read_chunk_bytes);
  if (c->begin_ == c->end_) {
    c->begin_ = c->end_ = 0;
    if (c->cap_ > shrink_above_bytes) {  // a large frame went by: give the memory back
      c->buf_.reset();
      c->cap_ = 0;
    }
    if (c->cap_ == 0 && !shared_read.in_use) {
      const size_t want = std::min(c->options_.read_chunk_bytes, limit);
      if (shared_read.cap < want) {
        shared_read.bytes.reset(new uint8_t[want]);
        shared_read.cap = want;
      }
      shared_read.in_use = true;
      c->reading_shared_ = true;
      *out = uv_buf_init(reinterpret_cast<char*>(shared_read.bytes.get()), static_cast<unsigned>(want));
      return;
    }
  }
  const size_t buffered = c->end_ - c->begin_;
  // Reading only happens while frames are delivered, so what is buffered is part of one frame,
  // smaller than max_frame_bytes (dispatch() refuses it otherwise).
  TRIB_ASSERT(buffered < limit);
  const size_t want_tail = std::min(c->options_.read_chunk_bytes, limit - buffered);
  if (c->cap_ - c->end_ < want_tail) {
    if (c->begin_ > 0) {
      std::memmove(c->buf_.get(), c->buf_.get() + c->begin_, buffered);
      c->begin_ = 0;
      c->end_ = buffered;
    }
    if (c->cap_ - c->end_ < want_tail) {
      size_t cap = std::min(limit, std::max({c->cap_ * 2, c->end_ + want_tail, initial_buffer_bytes}));
      std::unique_ptr<uint8_t[]> grown(new uint8_t[cap]);
      if (buffered > 0) std::memcpy(grown.get(), c->buf_.get(), buffered);
      c->buf_ = std::move(grown);
      c->cap_ = cap;
    }
  }
  size_t tail = std::min(c->cap_ - c->end_, size_t{UINT32_MAX});
  *out = uv_buf_init(reinterpret_cast<char*>(c->buf_.get() + c->end_), static_cast<unsigned>(tail));
}

void tcp_connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) noexcept {
  auto* c = owner_of<tcp_connection>(s->data);
  auto keep = c->self_;
  if (nread > 0) {
    c->stats_.bytes_read += static_cast<uint64_t>(nread);
    c->touch();
    if (c->phase_ != phase::open) {
      c->begin_ = c->end_ = 0;  // discarding
      if (c->reading_shared_) c->leave_shared_buffer();
      return;
    }
    c->end_ += static_cast<size_t>(nread);
    TRIB_ASSERT(c->end_ <= (c->reading_shared_ ? shared_read.cap : c->cap_));
    c->dispatch();
    if (c->reading_shared_) c->leave_shared_buffer();
    return;
  }
  if (c->reading_shared_) c->leave_shared_buffer();  // nothing was read into it
  if (nread == 0) return;                            // EAGAIN
  // EOF or an error: libuv stopped reading.
  uv_read_stop(s);
  c->reading_ = false;
  if (nread == UV_EOF) {
    c->eof_seen_ = true;
    if (c->phase_ == phase::open) {
      // Frames already buffered are still delivered (dispatch() closes once none is left; if the
      // owner pauses meanwhile, the close waits for resume_reading()).
      c->dispatch();
    } else if (c->phase_ == phase::closing_gracefully && c->shutdown_done_) {
      c->close_handles(false);
    }
    return;
  }
  c->abort(uv_error(static_cast<int>(nread)));
}

uint8_t* tcp_connection::read_base() const { return reading_shared_ ? shared_read.bytes.get() : buf_.get(); }

// After a read into the shared buffer was delivered: what is left moves into the connection's own
// buffer, sized for it and the next read.
void tcp_connection::leave_shared_buffer() {
  TRIB_ASSERT(reading_shared_ && shared_read.in_use && cap_ == 0);
  reading_shared_ = false;
  shared_read.in_use = false;
  if (begin_ == end_ || phase_ != phase::open) {
    begin_ = end_ = 0;
    return;
  }
  const size_t left = end_ - begin_;
  const size_t limit = std::max(options_.max_frame_bytes, options_.read_chunk_bytes);
  const size_t want_tail = left < limit ? std::min(options_.read_chunk_bytes, limit - left) : 0;
  const size_t cap = std::max(left, std::min(limit, std::max(left + want_tail, initial_buffer_bytes)));
  buf_.reset(new uint8_t[cap]);
  cap_ = cap;
  std::memcpy(buf_.get(), shared_read.bytes.get() + begin_, left);
  begin_ = 0;
  end_ = left;
}

void tcp_connection::dispatch() {
  if (in_dispatch_) return;  // resume_reading() from inside on_frame: the loop below continues
  in_dispatch_ = true;
  auto keep = self_;
  while (can_deliver() && begin_ < end_) {
    byte_span buffered(read_base() + begin_, end_ - begin_);
    frame_status st = frame_(buffered);
    if (st.k == frame_status::kind::invalid) {
      framing_error(st.error ? st.error : std::error_code(errc::bad_frame));
      break;
    }
    if (st.k == frame_status::kind::need_more) {
      if (st.length > options_.max_frame_bytes || buffered.size() >= options_.max_frame_bytes) {
        framing_error(errc::frame_too_large);
      }
      break;
    }
    TRIB_ASSERT(st.length > 0 && st.length <= buffered.size(), "frame function returned a bad length");
    if (st.length > options_.max_frame_bytes) {
      framing_error(errc::frame_too_large);
      break;
    }
    begin_ += st.length;
    ++stats_.frames;
    cb_.on_frame(*this, buffered.first(st.length));
  }
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (cap_ <= std::max(release_idle_bytes, 2 * options_.read_chunk_bytes) && phase_ == phase::open) {
      buf_.reset();
      cap_ = 0;
    }
  }
  in_dispatch_ = false;
  // After the peer's EOF, once every complete frame went out (what is left is a truncated frame),
  // flush what we owe and close.
  if (eof_seen_ && can_deliver()) close(errc::peer_closed);
}

void tcp_connection::schedule_dispatch() {
  if (dispatch_scheduled_ || (begin_ == end_ && !eof_seen_) || !can_deliver()) return;
  dispatch_scheduled_ = true;
  uv_idle_start(&idle_, on_idle);
}

void tcp_connection::on_idle(uv_idle_t* i) noexcept {
  auto* c = owner_of<tcp_connection>(i->data);
  uv_idle_stop(i);
  c->dispatch_scheduled_ = false;
  c->dispatch();
}

void tcp_connection::framing_error(std::error_code ec) {
  framing_failed_ = true;
  update_reading();
  TRIB_LOG_DEBUG("uv", "framing error", {"peer", peer_}, {"error", ec.message()});
  if (cb_.on_frame_error) cb_.on_frame_error(*this, ec);
  close(ec);  // no-op if the owner closed already
}

void tcp_connection::pause_reading() {
  paused_ = true;
  update_reading();
}

void tcp_connection::resume_reading() {
  paused_ = false;
  update_reading();
  schedule_dispatch();
}

result<void> tcp_connection::write(std::vector<uint8_t> data) {
  auto* req = new write_req;
  req->vec = std::move(data);
  req->bytes = req->vec.size();
  req->buf = uv_buf_init(reinterpret_cast<char*>(req->vec.data()), static_cast<unsigned>(req->bytes));
  return queue_write(req);
}

result<void> tcp_connection::write(std::string data) {
  auto* req = new write_req;
  req->str = std::move(data);
  req->bytes = req->str.size();
  req->buf = uv_buf_init(req->str.data(), static_cast<unsigned>(req->bytes));
  return queue_write(req);
}

result<void> tcp_connection::write(std::shared_ptr<const std::vector<uint8_t>> data) {
  TRIB_ASSERT(data);
  auto* req = new write_req;
  req->shared = std::move(data);
  req->bytes = req->shared->size();
  // libuv never writes into the buffer; the const_cast only satisfies uv_buf_t.
  req->buf = uv_buf_init(reinterpret_cast<char*>(const_cast<uint8_t*>(req->shared->data())),
                         static_cast<unsigned>(req->bytes));
  return queue_write(req);
}

result<void> tcp_connection::queue_write(write_req* req) {
  std::unique_ptr<write_req> owned(req);
  if (phase_ != phase::open) return fail(errc::closed);
  TRIB_ASSERT(req->bytes <= UINT32_MAX);
  if (req->bytes == 0) return {};
  if (pending_write_bytes_ + req->bytes > options_.write_limit_bytes) {
    TRIB_LOG_WARN("uv", "write queue full", {"peer", peer_}, {"pending", pending_write_bytes_},
                  {"write", req->bytes});
    abort(errc::write_queue_full);
    return fail(errc::write_queue_full);
  }
  req->req.data = req;
  req->conn = this;
  int rc = uv_write(&req->req, stream(), &req->buf, 1, on_write);
  if (rc < 0) {
    abort(uv_error(rc));
    return fail(uv_error(rc));
  }
  owned.release();  // freed in on_write, which libuv always calls (UV_ECANCELED on close)
  pending_write_bytes_ += req->bytes;
  if (!backpressured_ && pending_write_bytes_ > options_.write_high_watermark_bytes) {
    backpressured_ = true;
    ++stats_.backpressure_pauses;
    update_reading();
    if (cb_.on_backpressure) cb_.on_backpressure(*this, true);
  }
  return {};
}

void tcp_connection::on_write(uv_write_t* r, int status) noexcept {
  std::unique_ptr<write_req> req(static_cast<write_req*>(r->data));
  auto* c = req->conn;
  auto keep = c->self_;
  TRIB_ASSERT(c->pending_write_bytes_ >= req->bytes);
  c->pending_write_bytes_ -= req->bytes;
  if (status < 0) {
    if (status != UV_ECANCELED) c->abort(uv_error(status));
    return;
  }
  c->stats_.bytes_written += req->bytes;
  c->touch();
  if (c->backpressured_ && c->pending_write_bytes_ <= c->options_.write_low_watermark_bytes) {
    c->backpressured_ = false;
    if (c->phase_ != phase::open) return;
    c->update_reading();
    c->schedule_dispatch();
    if (c->cb_.on_backpressure) c->cb_.on_backpressure(*c, false);
  }
}

void tcp_connection::close(std::error_code reason) {
  if (phase_ != phase::open) return;
  phase_ = phase::closing_gracefully;
  if (!reason_) reason_ = reason;
  uv_idle_stop(&idle_);
  dispatch_scheduled_ = false;
  begin_ = end_ = 0;  // frames not yet delivered are dropped
  uv_timer_start(&timer_, on_timer, options_.close_linger_ms, 0);
  // uv_shutdown waits for the pending writes, then shuts the write side down.
  shutdown_req_.data = this;
  int rc = uv_shutdown(&shutdown_req_, stream(), on_shutdown);
  if (rc < 0) {  // e.g. the socket is already unusable
    close_handles(false);
    return;
  }
  shutdown_requested_ = true;
  update_reading();
}

void tcp_connection::on_shutdown(uv_shutdown_t* req, int status) noexcept {
  auto* c = static_cast<tcp_connection*>(req->data);
  auto keep = c->self_;
  c->shutdown_done_ = true;
  if (c->phase_ != phase::closing_gracefully) return;  // closed meanwhile (UV_ECANCELED)
  if (status < 0 || c->eof_seen_) c->close_handles(false);
  // Otherwise wait (reading and discarding) for the peer's EOF, bounded by close_linger_ms.
}

void tcp_connection::abort(std::error_code reason) {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  if (!reason_) reason_ = reason;
  close_handles(true);
}

void tcp_connection::close_handles(bool reset) {
  if (phase_ == phase::closing || phase_ == phase::closed) return;
  bool connected = phase_ != phase::connecting;
  phase_ = phase::closing;
  reading_ = false;
  uv_timer_stop(&timer_);
  uv_idle_stop(&idle_);
  auto* tcp = reinterpret_cast<uv_handle_t*>(&tcp_);
  // A reset (SO_LINGER 0) may not follow uv_shutdown (libuv refuses it).
  if (!(reset && connected && !shutdown_requested_ && uv_tcp_close_reset(&tcp_, on_handle_closed) == 0)) {
    uv_close(tcp, on_handle_closed);
  }
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_), on_handle_closed);
}

void tcp_connection::on_handle_closed(uv_handle_t* h) noexcept {
  auto* c = owner_of<tcp_connection>(h->data);
  TRIB_ASSERT(c->handles_open_ > 0);
  if (--c->handles_open_ == 0) c->finish();
}

void tcp_connection::finish() {
  TRIB_ASSERT(phase_ == phase::closing);
  TRIB_ASSERT(pending_write_bytes_ == 0, "libuv calls every write callback before the close callback");
  phase_ = phase::closed;
  auto keep = std::move(self_);  // may free *this when this function returns
  if (listener_count_) {
    TRIB_ASSERT(*listener_count_ > 0);
    --*listener_count_;
    listener_count_.reset();
  }
  auto on_close = std::move(cb_.on_close);
  cb_ = {};
  frame_ = nullptr;
  buf_.reset();
  cap_ = begin_ = end_ = 0;
  if (reason_ && reason_ != std::error_code(errc::peer_closed)) {
    TRIB_LOG_DEBUG("uv", "connection closed", {"peer", peer_}, {"reason", reason_.message()});
  }
  if (on_close) on_close(*this, reason_);
}

// ---------------------------------------------------------------------------------------------
// tcp_listener
// ---------------------------------------------------------------------------------------------

struct tcp_listener::state final : detail::closable {
  loop* l = nullptr;
  uv_tcp_t handle{};
  listener_options options;
  accept_fn on_accept;
  std::shared_ptr<size_t> count = std::make_shared<size_t>(0);
  listener_stats stats;
  uint16_t port = 0;
  std::string address;
  bool closing = false;
  std::shared_ptr<state> self;

  void close() noexcept {
    if (closing) return;
    closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&handle), [](uv_handle_t* h) noexcept {
      auto* s = owner_of<state>(h->data);
      auto keep = std::move(s->self);
      s->on_accept = nullptr;
    });
  }
  void close_for_loop_shutdown() noexcept override { close(); }
};

result<tcp_listener> tcp_listener::listen(loop& l, std::string_view address, const listener_options& options,
                                          accept_fn on_accept) {
  TRIB_ASSERT(!l.closed());
  TRIB_ASSERT(on_accept);
  TRIB_ASSERT(options.backlog > 0 && options.max_connections > 0);
  TRIB_ASSERT(options.connection.validate(), "invalid connection_options");
  auto addr = TRIB_TRY(parse_address(address));
  auto s = std::make_shared<state>();
  s->l = &l;
  s->options = options;
  s->on_accept = std::move(on_accept);
  TRIB_ASSERT(uv_tcp_init(l.raw(), &s->handle) == 0);
  s->handle.data = static_cast<detail::closable*>(s.get());
  s->self = s;
  tcp_listener out(s);  // closes the handle if we return early
  TRIB_TRY_VOID(check(uv_tcp_bind(&s->handle, reinterpret_cast<const sockaddr*>(&addr), 0)));
  TRIB_TRY_VOID(check(
      uv_listen(reinterpret_cast<uv_stream_t*>(&s->handle), options.backlog, &tcp_listener::on_connection)));
  sockaddr_storage bound{};
  int len = sizeof bound;
  TRIB_TRY_VOID(check(uv_tcp_getsockname(&s->handle, reinterpret_cast<sockaddr*>(&bound), &len)));
  s->port = address_port(reinterpret_cast<const sockaddr*>(&bound));
  s->address = format_address(reinterpret_cast<const sockaddr*>(&bound));
  return out;
}

void tcp_listener::on_connection(uv_stream_t* server, int status) noexcept {
  auto* s = owner_of<state>(server->data);
  if (s->closing) return;
  auto keep = s->self;
  if (status < 0) {
    ++s->stats.accept_errors;
    TRIB_LOG_WARN("uv", "accept failed", {"listener", s->address}, {"error", uv_strerror(status)});
    return;
  }
  if (*s->count >= s->options.max_connections) {
    // Accept and close at once: leaving it in the backlog would stall libuv's accept loop.
    auto* t = new uv_tcp_t{};
    TRIB_ASSERT(uv_tcp_init(s->l->raw(), t) == 0);
    t->data = nullptr;
    if (uv_accept(server, reinterpret_cast<uv_stream_t*>(t)) == 0) {
      ++s->stats.rejected;
      TRIB_LOG_DEBUG("uv", "connection rejected", {"listener", s->address},
                     {"limit", s->options.max_connections});
    } else {
      ++s->stats.accept_errors;
    }
    uv_close(reinterpret_cast<uv_handle_t*>(t),
             [](uv_handle_t* h) noexcept { delete reinterpret_cast<uv_tcp_t*>(h); });
    return;
  }
  auto c = tcp_connection::make(*s->l, s->options.connection);
  int rc = uv_accept(server, c->stream());
  if (rc < 0) {
    ++s->stats.accept_errors;
    c->close_handles(false);
    return;
  }
  c->became_open();
  ++*s->count;
  c->listener_count_ = s->count;
  ++s->stats.accepted;
  s->on_accept(std::move(c));
}

tcp_listener& tcp_listener::operator=(tcp_listener&& other) noexcept {
  if (this != &other) {
    if (s_) s_->close();
    s_ = std::move(other.s_);
  }
  return *this;
}

tcp_listener::~tcp_listener() {
  if (s_) s_->close();
}

uint16_t tcp_listener::port() const { return s_->port; }
const std::string& tcp_listener::address() const { return s_->address; }
size_t tcp_listener::connection_count() const { return *s_->count; }
const listener_stats& tcp_listener::stats() const { return s_->stats; }
void tcp_listener::close() {
  if (s_) s_->close();
}

}  // namespace tributary::uv
