#include "common/uv/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include <fmt/format.h>

namespace tributary::uv {

namespace {
constexpr size_t max_host_chars = 64;  // a longer numeric host is not an address

result<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return fail(errc::bad_address);
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return fail(errc::bad_address);
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return fail(errc::bad_address);
  return static_cast<uint16_t>(v);
}
}  // namespace

result<sockaddr_storage> parse_address(std::string_view host_port) {
  sockaddr_storage out{};
  std::string_view host;
  std::string_view port;
  bool v6 = false;
  if (host_port.starts_with('[')) {
    auto close = host_port.find(']');
    if (close == std::string_view::npos || close + 1 >= host_port.size() || host_port[close + 1] != ':')
      return fail(errc::bad_address);
    host = host_port.substr(1, close - 1);
    port = host_port.substr(close + 2);
    v6 = true;
  } else {
    auto colon = host_port.rfind(':');
    if (colon == std::string_view::npos) return fail(errc::bad_address);
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) return fail(errc::bad_address);  // v6 needs [..]
  }
  if (host.empty() || host.size() >= max_host_chars) return fail(errc::bad_address);
  auto p = TRIB_TRY(parse_port(port));
  char buf[max_host_chars];
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&out);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(p);
    if (inet_pton(AF_INET6, buf, &a->sin6_addr) != 1) return fail(errc::bad_address);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    a->sin_port = htons(p);
    if (inet_pton(AF_INET, buf, &a->sin_addr) != 1) return fail(errc::bad_address);
  }
  return out;
}

std::string format_address(const sockaddr* sa) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    return fmt::format("{}:{}", buf, ntohs(a->sin_port));
  }
  if (sa->sa_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    return fmt::format("[{}]:{}", buf, ntohs(a->sin6_port));
  }
  return "?";
}

uint16_t address_port(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

}  // namespace tributary::uv
