#pragma once
// HTTP responses: what a handler returns, and its serialisation (pure). Every response carries
// Content-Length (except 1xx/204/304, which have no body) and Connection.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tributary::http {

inline constexpr std::string_view text_content_type = "text/plain; charset=utf-8";
inline constexpr std::string_view json_content_type = "application/json";
// The Prometheus text exposition format, version 0.0.4.
inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";

struct response {
  int status = 200;  // 200..599
  std::string content_type{text_content_type};
  std::string body;
  // Extra header fields (e.g. Retry-After). Names are tokens, values have no CR/LF; Content-Length,
  // Connection and Content-Type are set by the server.
  std::vector<std::pair<std::string, std::string>> headers;
};

// A plain-text response "<status> <reason>\n".
response status_response(int status);

// The bytes on the wire. head_only: the headers of the response to HEAD (Content-Length of the body
// that GET would send, no body).
std::string serialize(const response& r, bool keep_alive, bool head_only = false);

}  // namespace tributary::http
