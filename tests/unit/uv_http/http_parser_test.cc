// The strict HTTP/1.1 request parser: every status branch, limits at their edges, pipelining, and
// delivery split at every byte boundary.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/http/request_parser.h"
#include "common/http/response.h"

using namespace tributary;
using namespace tributary::http;

namespace {

// One message's outcome, comparable across ways of feeding it.
struct outcome {
  parse_status::kind kind = parse_status::kind::need_more;
  size_t length = 0;
  errc error{};
  std::string summary;  // method, target, headers, body, keep-alive of a complete request

  bool operator==(const outcome&) const = default;
};

std::string summarize(const request& r) {
  std::string s = std::string(method_name(r.method)) + " " + std::string(r.target) + " 1." +
                  std::to_string(r.version_minor) + (r.keep_alive ? " ka" : " close");
  for (const auto& h : r.headers) s += "|" + std::string(h.name) + "=" + std::string(h.value);
  s += "|body=" + std::string(r.body);
  return s;
}

// Parses every request in `input` the way a connection does, making the bytes available in steps of
// `step` (0 = all at once). Stops at the first error or incomplete message.
std::vector<outcome> parse_all(std::string_view input, size_t step, const parser_limits& limits = {}) {
  std::vector<outcome> out;
  request_parser p(limits);
  size_t start = 0;
  size_t available = step == 0 ? input.size() : std::min(step, input.size());
  for (;;) {
    auto st = p.parse(as_bytes(input.substr(start, available - start)));
    if (st.k == parse_status::kind::need_more) {
      if (available < input.size()) {
        available = step == 0 ? input.size() : std::min(available + step, input.size());
        continue;
      }
      out.push_back({st.k, st.length, {}, {}});
      return out;
    }
    if (st.k == parse_status::kind::error) {
      out.push_back({st.k, 0, st.error, {}});
      return out;
    }
    auto r = p.get(as_bytes(input.substr(start, st.length)));
    out.push_back({st.k, st.length, {}, summarize(r)});
    start += st.length;
    p.reset();
    if (start == input.size()) return out;
    if (available < start) available = start;
  }
}

// The single error a malformed request produces.
errc error_of(std::string_view input, const parser_limits& limits = {}) {
  auto r = parse_all(input, 0, limits);
  REQUIRE(!r.empty());
  REQUIRE_MESSAGE(r.back().kind == parse_status::kind::error, input);
  return r.back().error;
}

bool accepted(std::string_view input, const parser_limits& limits = {}) {
  auto r = parse_all(input, 0, limits);
  return r.size() == 1 && r[0].kind == parse_status::kind::complete;
}

request parse_one(const std::string& input, request_parser& p) {
  auto st = p.parse(as_bytes(input));
  REQUIRE(st.k == parse_status::kind::complete);
  REQUIRE(st.length == input.size());
  return p.get(as_bytes(input));
}

}  // namespace

TEST_CASE("a GET with headers: fields, path and query, case-insensitive lookup") {
  request_parser p;
  std::string in =
      "GET /metrics?name=broker&x=%2F HTTP/1.1\r\nHost: localhost:9644\r\nUser-Agent:  curl/7.88 \t\r\n"
      "Accept: */*\r\nX-Empty:\r\nX-Obs: caf\xc3\xa9\r\n\r\n";
  auto r = parse_one(in, p);
  CHECK(r.method == method::get);
  CHECK(r.target == "/metrics?name=broker&x=%2F");
  CHECK(r.path == "/metrics");
  CHECK(r.query == "name=broker&x=%2F");
  CHECK(r.version_minor == 1);
  CHECK(r.keep_alive);
  REQUIRE(r.headers.size() == 5);
  CHECK(r.headers[1].name == "User-Agent");
  CHECK(r.headers[1].value == "curl/7.88");  // surrounding whitespace trimmed
  CHECK(r.header("host") == "localhost:9644");
  CHECK(r.header("HOST") == "localhost:9644");
  CHECK(r.header("x-empty") == "");
  CHECK(r.header("X-Obs") == "caf\xc3\xa9");  // obs-text is allowed in values
  CHECK_FALSE(r.header("Content-Length"));
  CHECK(r.body.empty());
}

TEST_CASE("a POST with a Content-Length body; need_more knows the total once headers are in") {
  request_parser p;
  std::string head = "POST /v1/topics HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  std::string in = head + "{\"a\": true}";
  auto st = p.parse(as_bytes(std::string_view(in).substr(0, head.size() + 3)));
  CHECK(st.k == parse_status::kind::need_more);
  CHECK(st.length == in.size());
  auto r = parse_one(in, p);
  CHECK(r.method == method::post);
  CHECK(r.body == "{\"a\": true}");
  CHECK(r.path == "/v1/topics");
  CHECK(r.query.empty());
}

TEST_CASE("keep-alive: HTTP/1.1 by default, HTTP/1.0 only when asked, Connection tokens") {
  request_parser p;
  CHECK(parse_one("GET / HTTP/1.1\r\nHost: a\r\n\r\n", p).keep_alive);
  p.reset();
  CHECK_FALSE(parse_one("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", p).keep_alive);
  p.reset();
  CHECK_FALSE(parse_one("GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade , CLOSE\r\n\r\n", p).keep_alive);
  p.reset();
  auto r10 = parse_one("GET / HTTP/1.0\r\n\r\n", p);  // no Host needed in 1.0
  CHECK(r10.version_minor == 0);
  CHECK_FALSE(r10.keep_alive);
  p.reset();
  CHECK(parse_one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", p).keep_alive);
  p.reset();
  CHECK_FALSE(parse_one("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", p).keep_alive);
}

TEST_CASE("methods: all standard ones parse; unknown, lowercase or overlong ones are 501") {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH"}) {
    CHECK(accepted(std::string(m) + " / HTTP/1.1\r\nHost: a\r\n\r\n"));
  }
  CHECK(error_of("FOO / HTTP/1.1\r\nHost: a\r\n\r\n") == errc::not_implemented);
  CHECK(error_of("get / HTTP/1.1\r\nHost: a\r\n\r\n") == errc::not_implemented);
  parser_limits lim;
  lim.max_method_bytes = 7;
  CHECK(accepted("OPTIONS / HTTP/1.1\r\nHost: a\r\n\r\n", lim));  // exactly at the limit
  CHECK(error_of("OPTIONSX / HTTP/1.1\r\n", lim) == errc::not_implemented);
  CHECK(error_of(std::string(100, 'G')) == errc::not_implemented);  // refused before the space
  CHECK(status_of(errc::not_implemented) == 501);
}

TEST_CASE("400: malformed request lines") {
  for (const char* in : {
           "GET  / HTTP/1.1\r\n",     // two spaces
           "GET\t/ HTTP/1.1\r\n",     // tab
           " GET / HTTP/1.1\r\n",     // leading space
           "GET / http/1.1\r\n",      // version is case-sensitive
           "GET / HTTP/1.x\r\n",      // not a digit
           "GET / HTTP/11\r\n",       // no dot
           "GET / HTTP/1.1 \r\n",     // trailing space
           "GET / HTTP/1.10\r\n",     // too long
           "GET / HTTP/1.1X\r\n",     // junk
           "GET /\r\n",               // HTTP/0.9 style
           "GET \r\n",                // no target
           "\x01GET / HTTP/1.1\r\n",  // control character
       }) {
    INFO(in);
    CHECK(error_of(in) == errc::bad_request_line);
  }
  CHECK(status_of(errc::bad_request_line) == 400);
}

TEST_CASE("400: targets other than a valid origin-form path") {
  for (const char* in : {
           "GET http://example.org/ HTTP/1.1\r\n",  // absolute-form
           "OPTIONS * HTTP/1.1\r\n",                // asterisk-form
           "CONNECT example.org:443 HTTP/1.1\r\n",  // authority-form
           "GET /a#frag HTTP/1.1\r\n",
           "GET /a%zz HTTP/1.1\r\n",
           "GET /a%4 HTTP/1.1\r\n",
           "GET /a%4 HTTP/1.1\r\n",
           "GET /a\"b HTTP/1.1\r\n",
           "GET /a<b> HTTP/1.1\r\n",
           "GET /caf\xc3\xa9 HTTP/1.1\r\n",
           "GET /a\\b HTTP/1.1\r\n",
           "GET /a{b} HTTP/1.1\r\n",
       }) {
    INFO(in);
    CHECK(error_of(in) == errc::bad_target);
  }
  CHECK(accepted("GET /a/b;c=d/%41%7e?q=1&r=/?@:$!'()*+,~ HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(status_of(errc::bad_target) == 400);
}

TEST_CASE("400: malformed header fields, obs-fold, bare CR or LF") {
  const std::string rl = "GET / HTTP/1.1\r\nHost: a\r\n";
  CHECK(error_of(rl + "Bad Header: x\r\n\r\n") == errc::bad_header);  // space inside the name
  CHECK(error_of(rl + "Name : x\r\n\r\n") == errc::bad_header);       // space before the colon
  CHECK(error_of(rl + "NoColon\r\n\r\n") == errc::bad_header);
  CHECK(error_of(rl + "(bad): x\r\n\r\n") == errc::bad_header);
  CHECK(error_of(rl + ": x\r\n\r\n") == errc::bad_header);  // empty name
  CHECK(error_of(rl + "X: a\x01z\r\n\r\n") == errc::bad_header);
  CHECK(error_of(rl + "X: a\x7fz\r\n\r\n") == errc::bad_header);
  CHECK(error_of(rl + std::string("X: a\0z\r\n\r\n", 10)) == errc::bad_header);
  CHECK(error_of(rl + "X: a\r\n b\r\n\r\n") == errc::obs_fold);
  CHECK(error_of("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n") == errc::obs_fold);
  CHECK(error_of("GET / HTTP/1.1\n") == errc::bad_line_ending);
  CHECK(error_of("GET / HTTP/1.1\r\r\n") == errc::bad_line_ending);
  CHECK(error_of(rl + "X: a\n\r\n") == errc::bad_line_ending);
  CHECK(error_of(rl + "X: a\rb\r\n\r\n") == errc::bad_line_ending);
  CHECK(error_of(rl + "X\n") == errc::bad_line_ending);
  CHECK(error_of(rl + "X\r\n") == errc::bad_header);
  CHECK(error_of(rl + "\n") == errc::bad_line_ending);
  CHECK(error_of(rl + "\rX") == errc::bad_line_ending);
  CHECK(error_of("\n") == errc::bad_line_ending);
  CHECK(error_of("\rGET") == errc::bad_line_ending);
  for (auto e : {errc::bad_header, errc::obs_fold, errc::bad_line_ending}) CHECK(status_of(e) == 400);
}

TEST_CASE("400: Host missing, repeated or invalid in HTTP/1.1") {
  CHECK(error_of("GET / HTTP/1.1\r\n\r\n") == errc::bad_host);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n") == errc::bad_host);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n") == errc::bad_host);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n") == errc::bad_host);
  CHECK(error_of("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n") == errc::bad_host);
  CHECK(accepted("GET / HTTP/1.1\r\nHost:\r\n\r\n"));  // empty Host is allowed (RFC 9112 §3.2)
  CHECK(accepted("GET / HTTP/1.1\r\nHost: [::1]:9644\r\n\r\n"));
  CHECK(status_of(errc::bad_host) == 400);
}

TEST_CASE("400: Content-Length not digits or given twice") {
  const std::string rl = "POST / HTTP/1.1\r\nHost: a\r\n";
  for (const char* v : {"abc", "-1", "+1", "1, 1", "1 1", "0x10", "1.0", ""}) {
    INFO(v);
    CHECK(error_of(rl + "Content-Length: " + v + "\r\n\r\n") == errc::bad_content_length);
  }
  CHECK(error_of(rl + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx") == errc::bad_content_length);
  CHECK(accepted(rl + "Content-Length: 0\r\n\r\n"));
  CHECK(accepted(rl + "Content-Length: 003\r\n\r\nabc"));
  CHECK(status_of(errc::bad_content_length) == 400);
}

TEST_CASE("413: a Content-Length over max_body_bytes, refused before the body arrives") {
  parser_limits lim;
  lim.max_body_bytes = 10;
  const std::string rl = "POST / HTTP/1.1\r\nHost: a\r\n";
  CHECK(accepted(rl + "Content-Length: 10\r\n\r\n0123456789", lim));
  CHECK(error_of(rl + "Content-Length: 11\r\n", lim) == errc::payload_too_large);
  CHECK(error_of(rl + "Content-Length: 99999999999999999999999999\r\n", lim) == errc::payload_too_large);
  CHECK(error_of(rl + "Content-Length: 99999999999999999999999999x\r\n", lim) == errc::bad_content_length);
  CHECK(status_of(errc::payload_too_large) == 413);
}

TEST_CASE("414: a target over max_target_bytes") {
  parser_limits lim;
  lim.max_target_bytes = 20;
  std::string at_limit = "/" + std::string(19, 'a');
  CHECK(accepted("GET " + at_limit + " HTTP/1.1\r\nHost: a\r\n\r\n", lim));
  CHECK(error_of("GET " + at_limit + "a HTTP/1.1\r\n", lim) == errc::uri_too_long);
  CHECK(error_of("GET /" + std::string(5000, 'a'), {}) == errc::uri_too_long);  // before the line ends
  CHECK(status_of(errc::uri_too_long) == 414);
}

TEST_CASE("431: header line, header count and header section limits, each at its edge") {
  const std::string rl = "GET / HTTP/1.1\r\nHost: a\r\n";
  parser_limits lim;
  lim.max_header_line_bytes = 20;
  CHECK(accepted(rl + "X: " + std::string(17, 'v') + "\r\n\r\n", lim));  // 20 bytes
  CHECK(error_of(rl + "X: " + std::string(18, 'v') + "\r\n\r\n", lim) == errc::header_fields_too_large);
  CHECK(error_of(rl + std::string(21, 'N'), lim) == errc::header_fields_too_large);  // in the name

  parser_limits count;
  count.max_header_count = 3;
  CHECK(accepted(rl + "A: 1\r\nB: 2\r\n\r\n", count));
  CHECK(error_of(rl + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", count) == errc::header_fields_too_large);

  parser_limits section;
  std::string headers = "Host: a\r\nX: 12345\r\n\r\n";  // 9 + 10 + 2 = 21 bytes
  section.max_header_bytes = headers.size();
  CHECK(accepted("GET / HTTP/1.1\r\n" + headers, section));
  section.max_header_bytes = headers.size() - 1;
  CHECK(error_of("GET / HTTP/1.1\r\n" + headers, section) == errc::header_fields_too_large);
  CHECK(status_of(errc::header_fields_too_large) == 431);
}

TEST_CASE("501: any Transfer-Encoding, chunked included") {
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") ==
        errc::transfer_encoding_not_implemented);
  CHECK(error_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ntransfer-encoding: gzip\r\n\r\n") ==
        errc::transfer_encoding_not_implemented);
  CHECK(status_of(errc::transfer_encoding_not_implemented) == 501);
}

TEST_CASE("505: HTTP versions other than 1.0 and 1.1") {
  for (const char* v : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/3.1"}) {
    INFO(v);
    CHECK(error_of(std::string("GET / ") + v + "\r\n") == errc::version_not_supported);
  }
  CHECK(status_of(errc::version_not_supported) == 505);
}

TEST_CASE("empty lines before a request are skipped, at most four") {
  CHECK(accepted("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(accepted("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(error_of("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n") == errc::bad_request_line);
}

TEST_CASE("pipelining: several requests in one buffer, one after another") {
  std::string in =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
      "\r\nGET /c?d HTTP/1.0\r\n\r\n"  // a stray CRLF between requests is tolerated
      "HEAD /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  auto r = parse_all(in, 0);
  REQUIRE(r.size() == 4);
  CHECK(r[0].summary == "GET /a 1.1 ka|Host=x|body=");
  CHECK(r[1].summary == "POST /b 1.1 ka|Host=x|Content-Length=5|body=hello");
  CHECK(r[2].summary == "GET /c?d 1.0 close|body=");
  CHECK(r[3].summary == "HEAD /e 1.1 close|Host=x|Connection=close|body=");
  // A bad request after good ones: the good ones complete, then the error.
  auto bad = parse_all("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/9.9\r\n", 0);
  REQUIRE(bad.size() == 2);
  CHECK(bad[0].kind == parse_status::kind::complete);
  CHECK(bad[1].error == errc::version_not_supported);
  // An incomplete last request waits for more.
  auto partial = parse_all("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTT", 0);
  REQUIRE(partial.size() == 2);
  CHECK(partial[1].kind == parse_status::kind::need_more);
}

TEST_CASE("split delivery: every split point and byte-at-a-time give the same result") {
  const std::vector<std::string> inputs = {
      "GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"
      "POST /v1/x?y=%20 HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\nX:  v  \r\n\r\n{\"k\":\"v\"}\r\n"
      "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "\r\nGET /a HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
      "GET /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
      "GET / HTTP/2.0\r\n",
      "GET /%4x HTTP/1.1\r\n",
  };
  for (const auto& in : inputs) {
    auto whole = parse_all(in, 0);
    REQUIRE(!whole.empty());
    for (size_t step = 1; step <= 3; ++step) {
      INFO("step " << step);
      CHECK(parse_all(in, step) == whole);
    }
    // Two pieces, split at every point: the parser sees the prefix first, then everything.
    for (size_t split = 0; split <= in.size(); ++split) {
      INFO("split " << split);
      std::vector<outcome> got;
      request_parser p;
      size_t start = 0;
      size_t available = split;
      for (;;) {
        auto st = p.parse(as_bytes(std::string_view(in).substr(start, std::max(available, start) - start)));
        if (st.k == parse_status::kind::need_more && available < in.size()) {
          available = in.size();
          continue;
        }
        if (st.k != parse_status::kind::complete) {
          got.push_back({st.k, st.k == parse_status::kind::need_more ? st.length : 0, st.error, {}});
          break;
        }
        got.push_back({st.k, st.length, {}, summarize(p.get(as_bytes(std::string_view(in).substr(start))))});
        start += st.length;
        p.reset();
        if (start == in.size()) break;
      }
      CHECK(got == whole);
    }
  }
}

TEST_CASE("the parser's state after complete and after an error; reset starts over") {
  request_parser p;
  std::string in = "GET / HTTP/1.1\r\nHost: a\r\n\r\nextra";
  auto st = p.parse(as_bytes(in));
  CHECK(st.k == parse_status::kind::complete);
  CHECK(p.parse(as_bytes(in)).k == parse_status::kind::complete);  // sticky until reset
  CHECK(p.status().length == in.size() - 5);
  p.reset();
  CHECK(p.parse(as_bytes(std::string_view("BAD\x01"))).k == parse_status::kind::error);
  CHECK(p.status().error == errc::bad_request_line);
  p.reset();
  CHECK(p.parse(as_bytes(std::string_view("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))).k ==
        parse_status::kind::complete);
}

TEST_CASE("max_message_bytes covers the largest request the limits allow") {
  parser_limits lim;
  lim.max_method_bytes = 7;
  lim.max_target_bytes = 50;
  lim.max_header_bytes = 300;
  lim.max_header_line_bytes = 300;
  lim.max_body_bytes = 100;
  std::string headers = "Host: a\r\nContent-Length: 100\r\n";
  headers += "X: " + std::string(300 - headers.size() - 2 - 5, 'v') + "\r\n\r\n";
  REQUIRE(headers.size() == 300);
  std::string in =
      "\r\n\r\n\r\n\r\nOPTIONS /" + std::string(49, 't') + " HTTP/1.1\r\n" + headers + std::string(100, 'b');
  CHECK(accepted(in, lim));
  CHECK(in.size() == lim.max_message_bytes());
}

TEST_CASE("error codes carry the http category") {
  std::error_code e = errc::uri_too_long;
  CHECK(std::string(e.category().name()) == "http");
  CHECK(e.message() == "request target longer than the limit");
  CHECK(reason_phrase(431) == "Request Header Fields Too Large");
  CHECK(reason_phrase(299) == "Unknown");
}

TEST_CASE("responses: status line, Content-Length, Connection, HEAD and bodiless statuses") {
  response r{200, std::string(prometheus_content_type), "up 1\n", {}};
  CHECK(serialize(r, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
        "Connection: keep-alive\r\n\r\nup 1\n");
  CHECK(serialize(r, false, true) ==
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 5\r\n"
        "Connection: close\r\n\r\n");
  response none{204, "text/plain", "ignored", {{"X-Id", "7"}}};
  CHECK(serialize(none, true) == "HTTP/1.1 204 No Content\r\nX-Id: 7\r\nConnection: keep-alive\r\n\r\n");
  auto s405 = status_response(405);
  s405.headers.emplace_back("Allow", "GET, HEAD");
  CHECK(serialize(s405, false) ==
        "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 23\r\n"
        "Allow: GET, HEAD\r\nConnection: close\r\n\r\n405 Method Not Allowed\n");
}
