#pragma once
// Numeric socket addresses: "127.0.0.1:9092", "0.0.0.0:0", "[::1]:9644", "[::]:1883". No name
// resolution (that would block the loop): a host name is errc::bad_address. Port 0 asks the kernel
// for an ephemeral port (listeners report the one they got).
#include <string>
#include <string_view>

#include <sys/socket.h>

#include "common/result.h"
#include "common/uv/error.h"

namespace tributary::uv {

result<sockaddr_storage> parse_address(std::string_view host_port);
// "a.b.c.d:port" or "[v6]:port"; "?" for an unknown family.
std::string format_address(const sockaddr* sa);
uint16_t address_port(const sockaddr* sa);

}  // namespace tributary::uv
