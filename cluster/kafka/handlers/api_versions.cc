// ApiVersions (key 18): the version ranges of handler_list(), so what is advertised is what exists.
// A version we cannot decode never reaches this handler: the connection answers it with the v0
// fallback (connection.cc).
#include <string_view>

#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {
// KIP-511: client software name and version, when present (v3+), match
// [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
bool valid_software_field(std::string_view s) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (s.empty() || !alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}
}  // namespace

void api_versions(request_context& ctx, protocol::api_versions_request& req) {
  protocol::api_versions_response r;
  for (const handler& h : handler_list())
    r.api_keys.push_back({static_cast<int16_t>(h.key), h.min_version, h.max_version});
  if (ctx.version() >= 3 && (!valid_software_field(req.client_software_name) ||
                             !valid_software_field(req.client_software_version))) {
    // As Kafka: INVALID_REQUEST, with our ranges (librdkafka then retries with v0).
    r.error_code = protocol::error_code::invalid_request;
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
