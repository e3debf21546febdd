#include "common/http/response.h"

#include <fmt/format.h>

#include "common/assert.h"
#include "common/http/status.h"

namespace tributary::http {

namespace {
bool has_body(int status) { return status >= 200 && status != 204 && status != 304; }

bool valid_field(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}
}  // namespace

response status_response(int status) {
  response r;
  r.status = status;
  r.body = fmt::format("{} {}\n", status, reason_phrase(status));
  return r;
}

std::string serialize(const response& r, bool keep_alive, bool head_only) {
  TRIB_ASSERT(r.status >= 200 && r.status <= 599, "handlers answer with a final status");
  std::string out;
  out.reserve(128 + r.body.size());
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\n", r.status, reason_phrase(r.status));
  const bool body = has_body(r.status);
  if (body) {
    TRIB_ASSERT(valid_field("Content-Type", r.content_type));
    fmt::format_to(std::back_inserter(out), "Content-Type: {}\r\nContent-Length: {}\r\n", r.content_type,
                   r.body.size());
  }
  for (const auto& [name, value] : r.headers) {
    TRIB_ASSERT(valid_field(name, value), "invalid response header");
    fmt::format_to(std::back_inserter(out), "{}: {}\r\n", name, value);
  }
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  if (body && !head_only) out += r.body;
  return out;
}

}  // namespace tributary::http
