#pragma once
// A strict, incremental HTTP/1.1 request parser (RFC 9110/9112), pure: no I/O, no clock, no
// allocation beyond a header index bounded by max_header_count.
//
// What it accepts:
//  - request line `method SP origin-form SP HTTP/1.0|HTTP/1.1 CRLF`; up to 4 empty lines before it
//    are skipped (RFC 9112 §2.2). Methods: GET HEAD POST PUT DELETE CONNECT OPTIONS TRACE PATCH;
//    the server decides which a resource allows (405). Only origin-form targets ("/path?query"):
//    absolute-form, authority-form (CONNECT) and asterisk-form (OPTIONS *) are 400.
//  - header fields `token ":" OWS value OWS CRLF`; no whitespace before the colon, no obs-fold, no
//    control characters in values; CRLF line endings only (a bare CR or LF is 400).
//  - bodies only by Content-Length (1*DIGIT, at most once, at most max_body_bytes). Any
//    Transfer-Encoding (chunked included) is 501: the embedded endpoints never need streamed bodies,
//    and refusing them removes the request-smuggling ambiguities of TE + CL.
//  - HTTP/1.1 needs exactly one Host (400 otherwise); Expect is ignored (clients send the body after
//    their timeout).
//  - keep-alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with "Connection: keep-alive".
//  - pipelining: after complete, the caller drops the message's bytes, calls reset() and parses the
//    next request from the following byte.
//
// Use (the contract of a uv::frame_fn): call parse() with every byte of the current message
// received so far, starting at its first byte; call again with more bytes appended (the storage may
// move; the earlier bytes must not change). Scanning resumes where it stopped, so total work is
// linear. On complete, get(message) returns views into `message`.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/http/status.h"

namespace tributary::http {

enum class method : uint8_t { get, head, post, put, delete_, connect, options, trace, patch };
std::string_view method_name(method m) noexcept;

// Limits (config values, each with a test at its edge).
struct parser_limits {
  size_t max_method_bytes = 16;         // a longer method is not one we implement: 501
  size_t max_target_bytes = 2048;       // 414
  size_t max_header_line_bytes = 8192;  // one field line without its CRLF: 431
  size_t max_header_count = 64;         // 431
  size_t max_header_bytes = 16384;      // the whole header section incl. the final CRLF: 431
  size_t max_body_bytes = 1 << 20;      // Content-Length above this: 413

  // The largest complete request these limits allow (for the connection's max frame size).
  size_t max_message_bytes() const;
};

struct header_field {
  std::string_view name;
  std::string_view value;  // without surrounding whitespace
};

struct request {
  http::method method = method::get;
  std::string_view target;  // "/metrics?x=1"
  std::string_view path;    // "/metrics"
  std::string_view query;   // "x=1" (empty without '?')
  int version_minor = 1;    // HTTP/1.<minor>
  std::vector<header_field> headers;
  std::string_view body;
  bool keep_alive = true;

  // The first field with this name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

struct parse_status {
  enum class kind : uint8_t { need_more, complete, error };
  kind k = kind::need_more;
  size_t length = 0;  // complete: the message length; need_more: known total length (body), else 0
  errc error{};       // kind::error
};

class request_parser {
 public:
  static constexpr size_t max_leading_empty_lines = 4;

  explicit request_parser(const parser_limits& limits = {});

  parse_status parse(byte_span buffered);
  // Views of the complete message (the bytes given to parse(), at least status().length of them).
  request get(byte_span message) const;
  // Ready for the next message (after complete, or to start over after an error).
  void reset();

  parse_status status() const;
  const parser_limits& limits() const { return limits_; }

 private:
  enum class state : uint8_t {
    start,
    start_lf,
    method,
    target_start,
    target,
    target_pct1,
    target_pct2,
    version,
    request_line_lf,
    header_start,
    header_name,
    value_ows,
    value,
    header_lf,
    end_lf,
    body,
    complete,
    error,
  };
  struct header_index {
    uint32_t name_begin, name_end, value_begin, value_end;
  };

  parse_status fail_with(errc e);
  parse_status scan(byte_span b);
  bool finish_header(byte_span b, errc* e);
  bool finish_headers(size_t end, errc* e);

  parser_limits limits_;
  state state_ = state::start;
  size_t pos_ = 0;  // next byte to scan
  size_t empty_lines_ = 0;
  size_t method_begin_ = 0;
  http::method method_ = method::get;
  size_t target_begin_ = 0;
  size_t target_end_ = 0;
  size_t query_begin_ = 0;  // 0 = no '?'
  size_t version_begin_ = 0;
  int version_minor_ = 1;
  size_t headers_begin_ = 0;
  size_t line_begin_ = 0;
  size_t name_end_ = 0;
  size_t value_begin_ = 0;
  size_t value_end_ = 0;
  std::vector<header_index> headers_;
  bool has_host_ = false;
  bool has_content_length_ = false;
  bool connection_close_ = false;
  bool connection_keep_alive_ = false;
  uint64_t content_length_ = 0;
  size_t body_begin_ = 0;
  size_t length_ = 0;
  errc error_{};
};

}  // namespace tributary::http
