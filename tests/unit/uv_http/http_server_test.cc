// http::server end to end: a raw loopback client for exact bytes (pipelining, every error status),
// and the real curl binary for what a real client does (200/404/405/400, keep-alive, HTTP/1.0).
#include <doctest/doctest.h>

#include <optional>

#include "common/http/server.h"
#include "common/uv/tcp.h"
#include "common/uv/worker.h"
#include "test_support.h"

using namespace tributary;

namespace {

struct parsed_response {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// Splits a byte stream of responses (Content-Length framed; `head_only` for responses to HEAD).
std::vector<parsed_response> split_responses(std::string_view data, bool head_only = false) {
  std::vector<parsed_response> out;
  while (!data.empty()) {
    auto end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) break;
    parsed_response r;
    r.head = std::string(data.substr(0, end + 2));
    r.status = std::stoi(r.head.substr(9, 3));
    size_t length = 0;
    auto cl = r.head.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(r.head.substr(cl + 16));
    data.remove_prefix(end + 4);
    if (head_only) length = 0;
    if (data.size() < length) break;
    r.body = std::string(data.substr(0, length));
    data.remove_prefix(length);
    out.push_back(std::move(r));
  }
  return out;
}

// Sends raw bytes on a new connection; stops the loop once `expected` responses arrived or the
// server closed the connection. The callbacks share the state (not `this`): the connection may
// outlive the object (libuv's lifetime rule), e.g. a keep-alive connection closed by the loop later.
struct raw_exchange {
  struct data {
    std::shared_ptr<uv::tcp_connection> conn;
    std::string received;
    std::optional<std::error_code> closed;
    size_t expected = 0;
    bool head_only = false;
    bool detached = false;  // the test moved on: closing must not stop the loop
  };
  std::shared_ptr<data> d = std::make_shared<data>();

  ~raw_exchange() {
    d->detached = true;
    if (d->conn) d->conn->abort();
  }

  void run(uv::loop& l, uint16_t port, std::string request, size_t expected_responses, bool head = false) {
    d->expected = expected_responses;
    d->head_only = head;
    auto r = uv::tcp_connection::connect(
        l, "127.0.0.1:" + std::to_string(port), {}, [d = d, lp = &l, request](auto res) {
          CHECK(res);
          if (!res) {
            lp->stop();
            return;
          }
          d->conn = *res;
          uv::tcp_connection::callbacks cbs;
          cbs.on_frame = [d, lp](uv::tcp_connection&, byte_span b) {
            d->received.append(as_string_view(b));
            if (d->expected > 0 && split_responses(d->received, d->head_only).size() == d->expected)
              lp->stop();
          };
          cbs.on_close = [d, lp](uv::tcp_connection&, std::error_code reason) {
            d->closed = reason;
            if (!d->detached) lp->stop();
          };
          d->conn->start(uv::frame_stream, std::move(cbs));
          CHECK(d->conn->write(request));
        });
    REQUIRE(r);
    REQUIRE(test::run(l));
  }
  std::vector<parsed_response> responses() const { return split_responses(d->received, d->head_only); }
  const std::string& received() const { return d->received; }
  const std::optional<std::error_code>& closed() const { return d->closed; }
};

void add_routes(http::server& s) {
  s.get("/health", [](const http::request&) {
    return http::response{200, std::string(http::json_content_type), R"({"status":"ok"})", {}};
  });
  s.get("/metrics", [](const http::request&) {
    return http::response{200, std::string(http::prometheus_content_type), "# TYPE up gauge\nup 1\n", {}};
  });
  s.post("/echo", [](const http::request& r) {
    return http::response{200, std::string(http::text_content_type), std::string(r.body), {}};
  });
  s.get("/boom", [](const http::request&) -> http::response { throw std::runtime_error("handler bug"); });
}

const std::string host = "Host: 127.0.0.1\r\n";

}  // namespace

TEST_CASE("http server: pipelined requests are answered in order on one connection") {
  auto l = test::make_loop();
  http::server s(*l);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));
  REQUIRE(s.port() != 0);
  raw_exchange x;
  x.run(*l, s.port(),
        "GET /health HTTP/1.1\r\n" + host + "\r\n" +                               //
            "POST /echo HTTP/1.1\r\n" + host + "Content-Length: 5\r\n\r\nhello" +  //
            "GET /nope?x=1 HTTP/1.1\r\n" + host + "\r\n" +                         //
            "GET /metrics?name[]=x HTTP/1.1\r\n" + host + "\r\n",                  // bad target
        4);
  auto r = x.responses();
  REQUIRE(r.size() == 4);
  CHECK(r[0].status == 200);
  CHECK(r[0].body == R"({"status":"ok"})");
  CHECK(r[0].head.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(r[0].head.find("Connection: keep-alive\r\n") != std::string::npos);
  CHECK(r[1].status == 200);
  CHECK(r[1].body == "hello");
  CHECK(r[2].status == 404);
  CHECK(r[3].status == 400);  // '[' is not allowed in a target
  CHECK(r[3].head.find("Connection: close\r\n") != std::string::npos);
  CHECK(s.stats().requests == 3);
  CHECK(s.stats().bad_requests == 1);
}

TEST_CASE("http server: each malformed request gets its precise status, then the connection closes") {
  auto l = test::make_loop();
  http::server_options o;
  o.limits.max_body_bytes = 100;
  o.limits.max_target_bytes = 64;
  o.limits.max_header_count = 4;
  http::server s(*l, o);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));
  struct tcase {
    std::string request;
    int status;
  };
  const std::vector<tcase> cases = {
      {"GET /health HTTP/1.1\r\n\r\n", 400},                                        // no Host
      {"GET /health HTTP/1.1\r\nBad Header: x\r\n\r\n", 400},                       // bad field name
      {"POST /echo HTTP/1.1\r\n" + host + "Content-Length: 101\r\n\r\n", 413},      // body too large
      {"GET /" + std::string(64, 'a') + " HTTP/1.1\r\n" + host + "\r\n", 414},      // target too long
      {"GET / HTTP/1.1\r\n" + host + "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431},  // too many fields
      {"BREW /pot HTTP/1.1\r\n" + host + "\r\n", 501},                              // unknown method
      {"POST /echo HTTP/1.1\r\n" + host + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501},
      {"GET /health HTTP/2.0\r\n\r\n", 505},
  };
  for (const auto& c : cases) {
    INFO(c.request);
    raw_exchange x;
    x.run(*l, s.port(), c.request, 0);  // until the server closes
    auto r = x.responses();
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == c.status);
    CHECK(r[0].head.find("Connection: close\r\n") != std::string::npos);
    CHECK(r[0].head.find("Content-Length: ") != std::string::npos);
    REQUIRE(x.closed());
    CHECK(*x.closed() == uv::errc::peer_closed);
  }
  CHECK(s.stats().bad_requests == cases.size());
}

TEST_CASE("http server: 405 with Allow, HEAD without body, handler exceptions give 500") {
  auto l = test::make_loop();
  http::server s(*l);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));
  {
    raw_exchange x;
    x.run(*l, s.port(),
          "DELETE /metrics HTTP/1.1\r\n" + host + "\r\n" + "GET /echo HTTP/1.1\r\n" + host + "\r\n" +
              "GET /boom HTTP/1.1\r\n" + host + "\r\n" + "GET /health HTTP/1.1\r\n" + host + "\r\n",
          4);
    auto r = x.responses();
    REQUIRE(r.size() == 4);
    CHECK(r[0].status == 405);
    CHECK(r[0].head.find("Allow: GET, HEAD\r\n") != std::string::npos);
    CHECK(r[0].head.find("Connection: keep-alive\r\n") != std::string::npos);  // a valid request
    CHECK(r[1].status == 405);
    CHECK(r[1].head.find("Allow: POST\r\n") != std::string::npos);
    CHECK(r[2].status == 500);
    CHECK(r[3].status == 200);  // the connection survived the throwing handler
    CHECK(s.stats().handler_errors == 1);
  }
  {
    raw_exchange x;
    x.run(*l, s.port(), "HEAD /metrics HTTP/1.1\r\n" + host + "\r\n", 1, true);
    auto r = x.responses();
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 200);
    CHECK(r[0].head.find("Content-Length: 21\r\n") != std::string::npos);
    CHECK(x.received().size() == r[0].head.size() + 2);  // no body bytes
  }
}

TEST_CASE("http server: HTTP/1.0 closes unless keep-alive; Connection: close closes") {
  auto l = test::make_loop();
  http::server s(*l);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));
  {
    raw_exchange x;
    x.run(*l, s.port(), "GET /health HTTP/1.0\r\n\r\n", 0);
    auto r = x.responses();
    REQUIRE(r.size() == 1);
    CHECK(r[0].status == 200);
    CHECK(r[0].head.find("Connection: close\r\n") != std::string::npos);
    CHECK(x.closed());
  }
  {
    raw_exchange x;
    x.run(*l, s.port(), "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /health HTTP/1.0\r\n\r\n",
          0);
    auto r = x.responses();
    REQUIRE(r.size() == 2);
    CHECK(r[0].head.find("Connection: keep-alive\r\n") != std::string::npos);
    CHECK(r[1].head.find("Connection: close\r\n") != std::string::npos);
  }
  {
    // Requests after a "Connection: close" one are not answered.
    raw_exchange x;
    x.run(*l, s.port(),
          "GET /health HTTP/1.1\r\n" + host + "Connection: close\r\n\r\nGET /health HTTP/1.1\r\n" + host +
              "\r\n",
          0);
    CHECK(x.responses().size() == 1);
    CHECK(x.closed());
  }
}

TEST_CASE("http server: connection limit, idle timeout, close()") {
  auto l = test::make_loop();
  http::server_options o;
  o.max_connections = 1;
  o.idle_timeout_ms = 300;
  http::server s(*l, o);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));

  // The first connection stays open (keep-alive) until the idle timeout closes it.
  raw_exchange first;
  first.run(*l, s.port(), "GET /health HTTP/1.1\r\n" + host + "\r\n", 1);
  CHECK(s.connection_count() == 1);
  // A second one is over the limit: closed without an answer.
  raw_exchange second;
  second.run(*l, s.port(), "GET /health HTTP/1.1\r\n" + host + "\r\n", 0);
  CHECK(second.responses().empty());
  CHECK(second.closed());
  // The idle timeout ends the first.
  REQUIRE(test::run_until(*l, [&] { return first.closed() && s.connection_count() == 0; }));

  // close(): a keep-alive connection is closed, and nothing listens any more.
  http::server s2(*l);
  add_routes(s2);
  REQUIRE(s2.listen("127.0.0.1:0"));
  raw_exchange third;
  third.run(*l, s2.port(), "GET /health HTTP/1.1\r\n" + host + "\r\n", 1);
  CHECK(s2.connection_count() == 1);
  s2.close();
  REQUIRE(test::run_until(*l, [&] { return s2.connection_count() == 0; }));
  CHECK(third.closed());
  std::optional<std::error_code> refused;
  REQUIRE(uv::tcp_connection::connect(*l, "127.0.0.1:" + std::to_string(s2.port()), {}, [&](auto r) {
    refused = r ? std::error_code() : r.error();
    l->stop();
  }));
  REQUIRE(test::run(*l));
  REQUIRE(refused);
  CHECK(*refused == uv::uv_error(UV_ECONNREFUSED));
}

TEST_CASE("http server: listen errors") {
  auto l = test::make_loop();
  http::server s(*l);
  auto bad = s.listen("localhost:9644");
  REQUIRE_FALSE(bad);
  CHECK(bad.error() == uv::errc::bad_address);
  CHECK(s.port() == 0);
  http::server a(*l);
  REQUIRE(a.listen("127.0.0.1:0"));
  http::server b(*l);
  auto in_use = b.listen(a.address());
  REQUIRE_FALSE(in_use);
  CHECK(in_use.error() == uv::uv_error(UV_EADDRINUSE));
}

#ifdef TRIB_CURL
TEST_CASE("http server: the real curl gets 200, 404, 405, 400, keeps the connection alive") {
  auto l = test::make_loop();
  http::server s(*l);
  add_routes(s);
  REQUIRE(s.listen("127.0.0.1:0"));
  const std::string base = "http://127.0.0.1:" + std::to_string(s.port());
  const std::string curl = std::string(TRIB_CURL) + " -sS --noproxy '*' --max-time 5 ";
  const std::vector<std::string> commands = {
      curl + "-i " + base + "/health",                                                   // 0
      curl + "-i " + base + "/metrics",                                                  // 1
      curl + "-o /dev/null -w '%{http_code}' " + base + "/nope",                         // 2
      curl + "-i -X DELETE " + base + "/metrics",                                        // 3
      curl + "-o /dev/null -w '%{http_code}' --request-target bad " + base + "/health",  // 4
      curl + "-o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\\n' " + base + "/health " + base +
          "/metrics",                                         // 5: two requests, one connection
      curl + "--data-binary 'hello curl' " + base + "/echo",  // 6
      curl + "-i --http1.0 " + base + "/health",              // 7
      curl + "-I " + base + "/metrics",                       // 8: HEAD
  };
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  std::vector<test::command_result> results(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    // Blocking work (a child process) on the worker; the loop keeps serving meanwhile.
    REQUIRE(w->submit([&results, &commands, i] { results[i] = test::run_command(commands[i]); },
                      [&, i](std::error_code ec) {
                        CHECK_FALSE(ec);
                        if (i + 1 == commands.size()) l->stop();
                      }));
  }
  REQUIRE(test::run(*l, 60000));
  for (size_t i = 0; i < results.size(); ++i) {
    INFO(commands[i] << "\n" << results[i].output);
    CHECK(results[i].exit_code == 0);
  }
  CHECK(results[0].output.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(results[0].output.find("Content-Type: application/json\r\n") != std::string::npos);
  CHECK(results[0].output.ends_with("\r\n\r\n{\"status\":\"ok\"}"));
  CHECK(results[1].output.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") !=
        std::string::npos);
  CHECK(results[1].output.ends_with("up 1\n"));
  CHECK(results[2].output == "404");
  CHECK(results[3].output.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"));
  CHECK(results[3].output.find("Allow: GET, HEAD\r\n") != std::string::npos);
  CHECK(results[4].output == "400");
  CHECK(results[5].output == "200 1\n200 0\n");  // the second request reused the connection
  CHECK(results[6].output == "hello curl");
  CHECK(results[7].output.find("Connection: close\r\n") != std::string::npos);
  CHECK(results[8].output.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(results[8].output.find("Content-Length: 21\r\n") != std::string::npos);
  CHECK(results[8].output.ends_with("\r\n\r\n"));
}
#else
TEST_CASE("http server: curl end-to-end" * doctest::skip()) {}
#endif
