// tcp_listener and tcp_connection over real loopback sockets (127.0.0.1, ephemeral ports).
// Assertions are on counters and state, never on elapsed time; every run is bounded by a watchdog.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>

#include "common/uv/tcp.h"
#include "test_support.h"

using namespace tributary;

namespace {

std::vector<uint8_t> i32_frame(size_t payload, uint8_t seed) {
  std::vector<uint8_t> f(4 + payload);
  store_be32(f.data(), static_cast<uint32_t>(payload));
  for (size_t i = 0; i < payload; ++i) f[4 + i] = static_cast<uint8_t>(seed + i * 7);
  return f;
}

// A client that collects everything it reads and records how it closed.
struct client {
  std::shared_ptr<uv::tcp_connection> conn;
  std::string received;
  std::optional<std::error_code> closed;
  std::function<void()> on_data;
  std::function<void()> on_closed;

  void start_reading() {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [this](uv::tcp_connection&, byte_span b) {
      received.append(as_string_view(b));
      if (on_data) on_data();
    };
    cbs.on_close = [this](uv::tcp_connection&, std::error_code r) {
      closed = r;
      if (on_closed) on_closed();
    };
    conn->start(uv::frame_stream, std::move(cbs));
  }
};

// Connects `c` to `address`; `then` runs once connected (on the loop).
void connect(uv::loop& l, const std::string& address, client& c, std::function<void()> then,
             const uv::connection_options& o = {}) {
  auto r = uv::tcp_connection::connect(l, address, o, [&c, then](auto res) {
    CHECK(res);
    if (!res) return;
    c.conn = *res;
    then();
  });
  REQUIRE(r);
}

bool closed_with_error(const std::optional<std::error_code>& r) {
  return r && *r && *r != uv::errc::peer_closed;
}

}  // namespace

TEST_CASE("framed reads: frames split at arbitrary points arrive whole, in order, with bounded buffers") {
  auto l = test::make_loop();
  std::mt19937 rng(20240611);
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> stream;
  for (size_t size :
       {size_t{0}, size_t{1}, size_t{3}, size_t{100}, size_t{5000}, size_t{70000}, size_t{300000}}) {
    frames.push_back(i32_frame(size, static_cast<uint8_t>(frames.size())));
  }
  for (int i = 0; i < 40; ++i) frames.push_back(i32_frame(rng() % 20000, static_cast<uint8_t>(i)));
  for (const auto& f : frames) stream.insert(stream.end(), f.begin(), f.end());

  uv::listener_options lo;
  lo.connection.max_frame_bytes = 512 << 10;
  lo.connection.read_chunk_bytes = 8 << 10;
  std::vector<std::vector<uint8_t>> got;
  size_t max_capacity = 0;
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection& conn, byte_span f) {
      got.emplace_back(f.begin(), f.end());
      max_capacity = std::max(max_capacity, conn.read_buffer_capacity());
      if (got.size() == frames.size()) conn.close();
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      l->stop();
    };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);
  CHECK(listener->port() != 0);

  client cl;
  size_t sent = 0;
  uv::timer pacer(*l);
  std::function<void()> send_next = [&] {
    size_t n = std::min<size_t>(stream.size() - sent, 1 + rng() % 20000);
    CHECK(cl.conn->write(std::vector<uint8_t>(stream.begin() + static_cast<ptrdiff_t>(sent),
                                              stream.begin() + static_cast<ptrdiff_t>(sent + n))));
    sent += n;
    if (sent < stream.size()) pacer.start(rng() % 2, send_next);  // separate loop iterations
  };
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    send_next();
  });
  REQUIRE(test::run(*l));
  REQUIRE(got.size() == frames.size());
  for (size_t i = 0; i < frames.size(); ++i) CHECK(got[i] == frames[i]);
  CHECK(max_capacity <= lo.connection.max_frame_bytes);
  REQUIRE(server_closed);
  CHECK_FALSE(*server_closed);  // close() without a reason
}

TEST_CASE("framed reads: many frames coalesced in one write (MQTT framing)") {
  auto l = test::make_loop();
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint8_t> stream;
  for (size_t size : {0, 1, 127, 128, 16383, 16384, 5, 200000}) {
    std::vector<uint8_t> f{0x30};
    size_t v = size;
    do {
      uint8_t b = v & 0x7f;
      v >>= 7;
      f.push_back(static_cast<uint8_t>(b | (v ? 0x80 : 0)));
    } while (v);
    for (size_t i = 0; i < size; ++i) f.push_back(static_cast<uint8_t>(i));
    stream.insert(stream.end(), f.begin(), f.end());
    frames.push_back(std::move(f));
  }
  std::vector<std::vector<uint8_t>> got;
  uv::listener_options lo;
  lo.connection.max_frame_bytes = 256 << 10;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection&, byte_span f) {
      got.emplace_back(f.begin(), f.end());
      if (got.size() == frames.size()) l->stop();
    };
    c->start(uv::frame_mqtt, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  connect(*l, listener->address(), cl, [&] { CHECK(cl.conn->write(stream)); });
  REQUIRE(test::run(*l));
  CHECK(got == frames);
}

TEST_CASE("an idle connection holds no read buffer; a partial frame keeps one") {
  auto l = test::make_loop();
  const std::vector<uint8_t> whole = i32_frame(100, 1);
  const std::vector<uint8_t> next = i32_frame(3000, 2);
  std::shared_ptr<uv::tcp_connection> server_conn;
  std::vector<std::vector<uint8_t>> got;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    server_conn = c;
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection&, byte_span f) {
      got.emplace_back(f.begin(), f.end());
      if (got.size() == 2) l->stop();
    };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  uv::timer step(*l);
  size_t capacity_idle = 1, capacity_partial = 0, buffered_partial = 0;
  connect(*l, listener->address(), cl, [&] {
    CHECK(cl.conn->write(whole));
    step.start(50, [&] {  // the whole frame was delivered: nothing is buffered, no buffer is held
      REQUIRE(server_conn);
      REQUIRE(got.size() == 1);
      capacity_idle = server_conn->read_buffer_capacity();
      CHECK(cl.conn->write(std::vector<uint8_t>(next.begin(), next.begin() + 1000)));
      step.start(50, [&] {  // a third of the next frame: held in a buffer until the rest arrives
        capacity_partial = server_conn->read_buffer_capacity();
        buffered_partial = server_conn->buffered_bytes();
        CHECK(cl.conn->write(std::vector<uint8_t>(next.begin() + 1000, next.end())));
      });
    });
  });
  REQUIRE(test::run(*l));
  CHECK(capacity_idle == 0);
  CHECK(buffered_partial == 1000);
  CHECK(capacity_partial >= 1000);
  REQUIRE(got.size() == 2);
  CHECK(got[0] == whole);
  CHECK(got[1] == next);
  CHECK(server_conn->read_buffer_capacity() == 0);
}

TEST_CASE("a frame over max_frame_bytes is refused from its header, before it is buffered") {
  auto l = test::make_loop();
  uv::listener_options lo;
  lo.connection.max_frame_bytes = 64 << 10;
  std::optional<std::error_code> frame_error;
  size_t buffered_at_error = 0;
  std::optional<std::error_code> server_closed;
  int frames = 0;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection&, byte_span) { ++frames; };
    cbs.on_frame_error = [&](uv::tcp_connection& conn, std::error_code ec) {
      frame_error = ec;
      buffered_at_error = conn.buffered_bytes();
      CHECK_FALSE(conn.is_reading());
      CHECK(conn.write(std::string("ERR")));  // the owner's error reply, then a graceful close
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) { server_closed = r; };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  cl.on_closed = [&] { l->stop(); };
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    // One good frame, then only the header of a 10 MiB frame: the error cannot wait for the body.
    auto good = i32_frame(10, 1);
    good.insert(good.end(), {0x00, 0xa0, 0x00, 0x00});
    CHECK(cl.conn->write(good));
  });
  REQUIRE(test::run(*l));
  CHECK(frames == 1);
  REQUIRE(frame_error);
  CHECK(*frame_error == uv::errc::frame_too_large);
  CHECK(buffered_at_error == 4);
  CHECK(cl.received == "ERR");
  REQUIRE(cl.closed);
  CHECK(*cl.closed == uv::errc::peer_closed);
  // The server closes after the client's EOF; let that finish.
  uv::timer t(*l);
  t.start_repeating(1, [&] {
    if (server_closed) l->stop();
  });
  REQUIRE(test::run(*l));
  CHECK(*server_closed == uv::errc::frame_too_large);
}

TEST_CASE("a frame function without a length hint: the buffer stops at max_frame_bytes") {
  auto l = test::make_loop();
  uv::listener_options lo;
  lo.connection.max_frame_bytes = 1000;
  lo.connection.read_chunk_bytes = 256;
  auto line = [](byte_span b) {
    auto nl = std::find(b.begin(), b.end(), '\n');
    if (nl == b.end()) return uv::frame_status::need_more();
    return uv::frame_status::complete(static_cast<size_t>(nl - b.begin()) + 1);
  };
  std::vector<std::string> lines;
  std::optional<std::error_code> server_closed;
  size_t max_capacity = 0;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection& conn, byte_span f) {
      lines.emplace_back(as_string_view(f));
      max_capacity = std::max(max_capacity, conn.read_buffer_capacity());
    };
    // No on_frame_error: the connection closes with the error as its reason.
    cbs.on_close = [&](uv::tcp_connection& conn, std::error_code r) {
      server_closed = r;
      max_capacity = std::max(max_capacity, conn.read_buffer_capacity());
      l->stop();
    };
    c->start(line, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    // A line of exactly max_frame_bytes is fine; one byte more is refused once 1000 are buffered.
    CHECK(cl.conn->write("hello\n" + std::string(999, 'x') + "\n" + std::string(1000, 'y') + "\n"));
  });
  REQUIRE(test::run(*l));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "hello\n");
  CHECK(lines[1].size() == 1000);
  REQUIRE(server_closed);
  CHECK(*server_closed == uv::errc::frame_too_large);
  CHECK(max_capacity <= 1000);
}

TEST_CASE("a malformed frame closes the connection with the frame function's error") {
  auto l = test::make_loop();
  std::vector<std::error_code> reasons;
  int accepted = 0;
  auto custom = [](byte_span) {
    return uv::frame_status::invalid(std::make_error_code(std::errc::protocol_error));
  };
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) { CHECK(false); };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      reasons.push_back(r);
      if (reasons.size() == 2) l->stop();
    };
    // First connection: MQTT framing; second: a frame function with its own error code.
    if (accepted++ == 0) {
      c->start(uv::frame_mqtt, std::move(cbs));
    } else {
      c->start(custom, std::move(cbs));
    }
  });
  REQUIRE(listener);
  client c1;
  client c2;
  connect(*l, listener->address(), c1, [&] {
    c1.start_reading();
    CHECK(c1.conn->write(std::vector<uint8_t>{0x30, 0xff, 0xff, 0xff, 0xff, 0x01}));  // 5 length bytes
    connect(*l, listener->address(), c2, [&] {
      c2.start_reading();
      CHECK(c2.conn->write(std::string("anything")));
    });
  });
  REQUIRE(test::run(*l));
  REQUIRE(reasons.size() == 2);
  CHECK(reasons[0] == uv::errc::bad_frame);
  CHECK(reasons[1] == std::errc::protocol_error);
}

TEST_CASE("backpressure: a peer that sends requests but never reads replies is no longer read") {
  auto l = test::make_loop();
  constexpr size_t requests = 64;
  constexpr size_t request_payload = 64 << 10;
  constexpr size_t reply_bytes = 1 << 20;  // 64 MiB of replies in all: far beyond kernel buffers
  auto reply = std::make_shared<const std::vector<uint8_t>>(reply_bytes, 'r');

  uv::listener_options lo;
  lo.connection.max_frame_bytes = 128 << 10;
  lo.connection.read_chunk_bytes = 64 << 10;
  lo.connection.write_high_watermark_bytes = 1 << 20;
  lo.connection.write_low_watermark_bytes = 256 << 10;
  lo.connection.write_limit_bytes = 128 << 20;
  std::shared_ptr<uv::tcp_connection> server;
  size_t frames = 0;
  int pauses = 0;
  int resumes = 0;
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    server = c;
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection& conn, byte_span f) {
      CHECK_FALSE(conn.is_backpressured());  // never delivered while over the watermark
      CHECK(f.size() == 4 + request_payload);
      ++frames;
      CHECK(conn.write(reply));
    };
    cbs.on_backpressure = [&](uv::tcp_connection& conn, bool on) {
      if (on) {
        ++pauses;
        CHECK_FALSE(conn.is_reading());
        CHECK(conn.pending_write_bytes() > lo.connection.write_high_watermark_bytes);
      } else {
        ++resumes;
        CHECK(conn.pending_write_bytes() <= lo.connection.write_low_watermark_bytes);
      }
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      l->stop();
    };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);

  uv::connection_options co;  // the client queues all its requests at once
  co.write_high_watermark_bytes = 16 << 20;
  co.write_limit_bytes = 32 << 20;
  client cl;
  connect(
      *l, listener->address(), cl,
      [&] {
        std::vector<uint8_t> all;
        for (size_t i = 0; i < requests; ++i) {
          auto f = i32_frame(request_payload, static_cast<uint8_t>(i));
          all.insert(all.end(), f.begin(), f.end());
        }
        CHECK(cl.conn->write(std::move(all)));
      },
      co);

  // Once the server is stuck over its watermark (its pending bytes stop moving), check that it has
  // stopped reading with requests left unread, then let the client read: everything completes.
  struct snapshot {
    size_t frames;
    uint64_t bytes_read;
    bool reading;
    bool backpressured;
  };
  std::optional<snapshot> stuck;
  size_t last_pending = 0;
  int still = 0;
  uv::timer probe(*l);
  probe.start_repeating(20, [&] {
    if (!server || stuck) return;
    size_t pending = server->pending_write_bytes();
    still = (server->is_backpressured() && pending == last_pending) ? still + 1 : 0;
    last_pending = pending;
    if (still < 3) return;
    stuck = snapshot{frames, server->stats().bytes_read, server->is_reading(), server->is_backpressured()};
    probe.cancel();
    cl.on_data = [&] {
      if (cl.received.size() == requests * reply_bytes) cl.conn->close();
    };
    cl.start_reading();
  });
  REQUIRE(test::run(*l, 60000));
  REQUIRE(stuck);
  CHECK(stuck->backpressured);
  CHECK_FALSE(stuck->reading);
  CHECK(stuck->frames < requests);
  CHECK(stuck->bytes_read < requests * (4 + request_payload));  // requests left in the socket
  CHECK(frames == requests);
  CHECK(cl.received.size() == requests * reply_bytes);
  CHECK(pauses >= 1);
  CHECK(resumes >= 1);
  CHECK(server->stats().backpressure_pauses == static_cast<uint64_t>(pauses));
  REQUIRE(server_closed);
  CHECK(*server_closed == uv::errc::peer_closed);
}

TEST_CASE("pause_reading holds frames back in order; resume delivers the buffered ones first") {
  auto l = test::make_loop();
  std::vector<int> order;
  bool paused = false;
  std::optional<std::error_code> server_closed;
  uv::timer resume_later(*l);
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&, c](uv::tcp_connection& conn, byte_span f) {
      CHECK_FALSE(paused);
      order.push_back(f[4]);
      if (f[4] == 1) {  // e.g. wait for an fsync before the next request
        conn.pause_reading();
        paused = true;
        CHECK_FALSE(conn.is_reading());
        resume_later.start(10, [&, c] {
          paused = false;
          c->resume_reading();
        });
      }
      if (f[4] == 5) {  // pause and resume inside the callback: delivery just goes on
        conn.pause_reading();
        conn.resume_reading();
      }
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      l->stop();
    };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  connect(*l, listener->address(), cl, [&] {
    std::vector<uint8_t> all;
    for (int i = 0; i < 10; ++i) {
      std::vector<uint8_t> f = {0, 0, 0, 1, static_cast<uint8_t>(i)};
      all.insert(all.end(), f.begin(), f.end());
    }
    CHECK(cl.conn->write(std::move(all)));
    cl.start_reading();
    cl.conn->close();  // EOF right behind the frames: they are still all delivered
  });
  REQUIRE(test::run(*l));
  CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  REQUIRE(server_closed);
  CHECK(*server_closed == uv::errc::peer_closed);
}

// Reads land in a buffer the loop thread shares between connections; what one connection holds
// back (frames read while it is paused) must survive other connections' reads into that buffer.
TEST_CASE("frames held back by a paused connection survive other connections' reads") {
  auto l = test::make_loop();
  std::vector<std::vector<uint8_t>> sent_a, sent_b, got_a, got_b;
  for (int i = 0; i < 8; ++i) sent_a.push_back(i32_frame(300 + i, static_cast<uint8_t>(10 + i)));
  for (int i = 0; i < 50; ++i) sent_b.push_back(i32_frame(2000 + i * 97, static_cast<uint8_t>(100 + i)));
  auto joined = [](const std::vector<std::vector<uint8_t>>& frames) {
    std::vector<uint8_t> all;
    for (const auto& f : frames) all.insert(all.end(), f.begin(), f.end());
    return all;
  };
  std::shared_ptr<uv::tcp_connection> server_a;
  size_t held_while_paused = 0;
  size_t server_closed = 0;
  client ca, cb;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&, c](uv::tcp_connection& conn, byte_span f) {
      if (f[4] < 100) {  // client A: pause after its first frame until B's frames are all read
        got_a.emplace_back(f.begin(), f.end());
        if (got_a.size() == 1) {
          server_a = c;
          conn.pause_reading();
        }
        if (got_a.size() == sent_a.size()) {
          ca.conn->close();
          cb.conn->close();
        }
        return;
      }
      got_b.emplace_back(f.begin(), f.end());
      if (got_b.size() == sent_b.size()) {
        held_while_paused = server_a->buffered_bytes();
        server_a->resume_reading();
      }
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code) {
      if (++server_closed == 2) l->stop();
    };
    c->start(uv::frame_i32_length_prefix, std::move(cbs));
  });
  REQUIRE(listener);
  connect(*l, listener->address(), ca, [&] {
    CHECK(ca.conn->write(joined(sent_a)));
    ca.start_reading();
  });
  // B connects once A's first frame paused it (checked on the loop until then).
  uv::timer poll(*l);
  std::function<void()> wait_for_pause = [&] {
    if (!server_a) {
      poll.start(1, wait_for_pause);
      return;
    }
    connect(*l, listener->address(), cb, [&] {
      CHECK(cb.conn->write(joined(sent_b)));
      cb.start_reading();
    });
  };
  poll.start(1, wait_for_pause);
  REQUIRE(test::run(*l));
  CHECK(held_while_paused > 0);  // A's later frames really waited in its buffer
  CHECK(got_a == sent_a);
  CHECK(got_b == sent_b);
}

TEST_CASE("max connections: the connection over the limit is accepted and closed at once") {
  auto l = test::make_loop();
  uv::listener_options lo;
  lo.max_connections = 2;
  std::vector<std::shared_ptr<uv::tcp_connection>> accepted;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    cbs.on_close = [&](uv::tcp_connection&, std::error_code) { l->stop(); };
    c->start(uv::frame_stream, std::move(cbs));
    accepted.push_back(std::move(c));
    if (accepted.size() == 2) l->stop();
  });
  REQUIRE(listener);
  client c1, c2, c3, c4;
  connect(*l, listener->address(), c1, [&] { c1.start_reading(); });
  connect(*l, listener->address(), c2, [&] { c2.start_reading(); });
  REQUIRE(test::run(*l));  // both accepted
  CHECK(listener->connection_count() == 2);

  c3.on_closed = [&] { l->stop(); };
  connect(*l, listener->address(), c3, [&] { c3.start_reading(); });
  REQUIRE(test::run(*l));  // the third is closed by the server
  REQUIRE(c3.closed);
  CHECK(listener->stats().rejected == 1);
  CHECK(listener->stats().accepted == 2);
  CHECK(listener->connection_count() == 2);

  c1.conn->close();  // frees a slot once the server side has closed too
  REQUIRE(test::run(*l));
  CHECK(listener->connection_count() == 1);
  connect(*l, listener->address(), c4, [&] { c4.start_reading(); });
  accepted.clear();
  uv::timer t(*l);
  t.start_repeating(1, [&] {
    if (listener->stats().accepted == 3) l->stop();
  });
  REQUIRE(test::run(*l));
  CHECK(listener->connection_count() == 2);
  CHECK(listener->stats().rejected == 1);
}

TEST_CASE("idle timeout: a silent connection is closed; traffic keeps it open") {
  auto l = test::make_loop();
  uv::listener_options lo;
  lo.connection.idle_timeout_ms = 200;
  int frames_at_close = -1;
  int frames = 0;
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection&, byte_span) { ++frames; };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      frames_at_close = frames;
    };
    c->start(uv::frame_stream, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  int pings = 0;
  uv::timer pinger(*l);
  cl.on_closed = [&] { l->stop(); };
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    pinger.start_repeating(20, [&] {
      CHECK(cl.conn->write(std::string("p")));
      if (++pings == 5) pinger.cancel();  // 100 ms of traffic, then silence
    });
  });
  REQUIRE(test::run(*l));
  REQUIRE(server_closed);
  CHECK(*server_closed == uv::errc::idle_timeout);
  CHECK(frames_at_close >= 1);
  CHECK(pings == 5);
  CHECK(closed_with_error(cl.closed));  // idle timeout aborts: the client sees a reset
}

TEST_CASE("graceful close sends every pending byte before the FIN") {
  auto l = test::make_loop();
  constexpr size_t total = 4 << 20;
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      l->stop();
    };
    c->start(uv::frame_stream, std::move(cbs));
    for (int i = 0; i < 4; ++i)
      CHECK(c->write(std::vector<uint8_t>(total / 4, static_cast<uint8_t>('a' + i))));
    c->close();
    CHECK_FALSE(c->is_open());
    CHECK(c->write(std::string("late")).error() == uv::errc::closed);
  });
  REQUIRE(listener);
  client cl;
  connect(*l, listener->address(), cl, [&] { cl.start_reading(); });
  REQUIRE(test::run(*l));
  CHECK(cl.received.size() == total);
  CHECK(cl.received[0] == 'a');
  CHECK(cl.received[total - 1] == 'd');
  REQUIRE(cl.closed);
  CHECK(*cl.closed == uv::errc::peer_closed);
  REQUIRE(server_closed);
  CHECK_FALSE(*server_closed);
}

TEST_CASE("graceful close is bounded by close_linger_ms when the peer never reads") {
  auto l = test::make_loop();
  constexpr size_t total = 32 << 20;
  uv::listener_options lo;
  lo.connection.close_linger_ms = 100;
  lo.connection.write_limit_bytes = 64 << 20;
  lo.connection.write_high_watermark_bytes = 48 << 20;
  std::shared_ptr<uv::tcp_connection> server;
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    server = c;
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      l->stop();
    };
    c->start(uv::frame_stream, std::move(cbs));
    CHECK(c->write(std::vector<uint8_t>(total, 'z')));
    c->close();
  });
  REQUIRE(listener);
  client cl;  // connects and never reads
  connect(*l, listener->address(), cl, [] {});
  REQUIRE(test::run(*l));
  REQUIRE(server_closed);
  CHECK_FALSE(*server_closed);
  CHECK(server->stats().bytes_written < total);
  CHECK(server->is_closed());
}

TEST_CASE("abort resets the connection: the peer sees ECONNRESET") {
  auto l = test::make_loop();
  std::optional<std::error_code> server_closed;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection& conn, byte_span) {
      conn.abort(std::make_error_code(std::errc::operation_canceled));
      CHECK(conn.write(std::string("too late")).error() == uv::errc::closed);
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) { server_closed = r; };
    c->start(uv::frame_stream, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  cl.on_closed = [&] { l->stop(); };
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    CHECK(cl.conn->write(std::string("hello")));
  });
  REQUIRE(test::run(*l));
  REQUIRE(cl.closed);
  CHECK(*cl.closed == uv::uv_error(UV_ECONNRESET));
  REQUIRE(server_closed);
  CHECK(*server_closed == std::errc::operation_canceled);
}

TEST_CASE("write limit: a write past write_limit_bytes fails and aborts the connection") {
  auto l = test::make_loop();
  uv::listener_options lo;
  lo.connection.write_limit_bytes = 1 << 20;
  lo.connection.write_high_watermark_bytes = 512 << 10;
  lo.connection.write_low_watermark_bytes = 256 << 10;
  std::optional<std::error_code> server_closed;
  std::optional<std::error_code> write_result;
  std::optional<std::error_code> after_close;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", lo, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [&](uv::tcp_connection& conn, byte_span) {
      // Write callbacks run on a later loop iteration: within this callback every byte stays pending.
      CHECK(conn.write(std::vector<uint8_t>(100, 'a')));
      CHECK(conn.write(std::vector<uint8_t>((1 << 20) - 100, 'b')));  // exactly at the limit
      CHECK(conn.pending_write_bytes() == (1 << 20));
      CHECK(conn.is_backpressured());
      auto r = conn.write(std::string("c"));  // one byte over
      write_result = r ? std::error_code() : r.error();
      auto again = conn.write(std::string("x"));
      after_close = again ? std::error_code() : again.error();
    };
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) { server_closed = r; };
    c->start(uv::frame_stream, std::move(cbs));
  });
  REQUIRE(listener);
  client cl;
  cl.on_closed = [&] { l->stop(); };
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    CHECK(cl.conn->write(std::string("go")));
  });
  REQUIRE(test::run(*l));
  REQUIRE(write_result);
  CHECK(*write_result == uv::errc::write_queue_full);
  CHECK(*after_close == uv::errc::closed);
  REQUIRE(server_closed);
  CHECK(*server_closed == uv::errc::write_queue_full);
  // The client saw the connection end (EOF or reset: the 100 bytes sent before the reset may make
  // Linux report EOF once they are read).
  CHECK(cl.closed);
}

TEST_CASE("a write to a peer that reset the connection closes it with the write error") {
  auto l = test::make_loop();
  std::shared_ptr<uv::tcp_connection> server;
  std::optional<std::error_code> server_closed;
  uv::timer writer(*l);
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    server = c;
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      server_closed = r;
      writer.cancel();
      l->stop();
    };
    c->start(uv::frame_stream, std::move(cbs));
    c->pause_reading();  // it learns about the reset only by writing
  });
  REQUIRE(listener);
  client cl;
  connect(*l, listener->address(), cl, [&] {
    cl.start_reading();
    cl.conn->abort();  // RST
    writer.start_repeating(2, [&] {
      if (server && server->is_open()) (void)server->write(std::vector<uint8_t>(64 << 10, 'w'));
    });
  });
  REQUIRE(test::run(*l));
  REQUIRE(server_closed);
  CHECK(server_closed->category() == uv::uv_category());  // EPIPE or ECONNRESET
}

TEST_CASE("connect: bad address fails at once; a closed port is refused") {
  auto l = test::make_loop();
  bool called = false;
  auto bad = uv::tcp_connection::connect(*l, "example.org:80", {}, [&](auto) { called = true; });
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == uv::errc::bad_address);

  std::string address;
  {
    auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [](auto) {});
    REQUIRE(listener);
    address = listener->address();
  }  // closed: nothing listens there any more
  std::optional<std::error_code> result;
  REQUIRE(uv::tcp_connection::connect(*l, address, {}, [&](auto r) {
    CHECK_FALSE(r);
    if (!r) result = r.error();
    l->stop();
  }));
  REQUIRE(test::run(*l));
  CHECK_FALSE(called);
  REQUIRE(result);
  CHECK(*result == uv::uv_error(UV_ECONNREFUSED));
}

TEST_CASE("connect: a listener whose accept queue is full times out the connect") {
  // A raw socket listening with backlog 0 and never accepting: once its accept queue is full the
  // kernel drops further SYNs, so the handshake cannot complete.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 0) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  std::string address = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  auto l = test::make_loop();
  std::vector<std::shared_ptr<uv::tcp_connection>> fillers;
  std::optional<std::error_code> result;
  uv::connection_options o;
  o.connect_timeout_ms = 100;
  // Fill the queue (connections that complete), then the one that must time out.
  std::function<void()> next = [&] {
    auto r = uv::tcp_connection::connect(*l, address, o, [&](auto res) {
      if (res) {
        fillers.push_back(*res);
        if (fillers.size() < 4) {
          next();
        } else {
          result = std::error_code();  // never timed out: the test fails below
          l->stop();
        }
        return;
      }
      result = res.error();
      l->stop();
    });
    CHECK(r);
  };
  next();
  REQUIRE(test::run(*l));
  ::close(fd);
  REQUIRE(result);
  CHECK(*result == uv::errc::connect_timeout);
}

TEST_CASE("listen: bad address, address in use, IPv6 loopback") {
  auto l = test::make_loop();
  auto bad = uv::tcp_listener::listen(*l, "nowhere:1", {}, [](auto) {});
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == uv::errc::bad_address);

  auto first = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [](auto) {});
  REQUIRE(first);
  auto second = uv::tcp_listener::listen(*l, first->address(), {}, [](auto) {});
  REQUIRE_FALSE(second);
  CHECK(second.error() == uv::uv_error(UV_EADDRINUSE));

  auto v6 = uv::tcp_listener::listen(*l, "[::1]:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    c->start(uv::frame_stream, std::move(cbs));
    CHECK(c->peer_address().starts_with("[::1]:"));
    l->stop();
  });
  if (!v6) {
    MESSAGE("IPv6 loopback unavailable here: " << v6.error().message());
    return;
  }
  CHECK(v6->address().starts_with("[::1]:"));
  CHECK(v6->port() != 0);
  client cl;
  connect(*l, v6->address(), cl, [] {});
  REQUIRE(test::run(*l));
}
