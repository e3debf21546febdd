#pragma once
// Errors of the libuv helpers. Two kinds travel as std::error_code:
//  - tributary::uv::errc: our own conditions (frame too large, write queue full, queue full, ...);
//  - libuv status codes (negative errno values such as UV_ECONNRESET), wrapped by uv_error() in the
//    "libuv" category whose message is uv_strerror().
#include <system_error>

#include "common/result.h"

namespace tributary::uv {

enum class errc {
  bad_address = 1,   // "host:port" is not a numeric IPv4/IPv6 address with a port
  frame_too_large,   // a frame announces (or reaches) more than max_frame_bytes
  bad_frame,         // the frame function rejected the bytes
  write_queue_full,  // a write would take pending bytes beyond write_limit_bytes
  closed,            // the connection, listener or worker is closing or closed
  queue_full,        // the worker has max_in_flight_jobs jobs in flight
  idle_timeout,      // nothing received or sent for idle_timeout_ms
  connect_timeout,   // an outbound connect took longer than connect_timeout_ms
  peer_closed,       // the peer sent EOF
  job_failed,        // a worker job threw an exception
  cancelled,         // a worker job was dropped by stop(cancel) before it ran
  loop_closing,      // the loop closed the handle while shutting down
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

// A libuv status (< 0) as an error code in the "libuv" category.
std::error_code uv_error(int status) noexcept;
const std::error_category& uv_category() noexcept;

// result<void> from a libuv return code.
inline result<void> check(int status) noexcept {
  if (status < 0) return fail(uv_error(status));
  return {};
}

}  // namespace tributary::uv

template <>
struct tributary::errc_info<tributary::uv::errc> {
  static constexpr const char* name = "uv";
  static const char* message(tributary::uv::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::uv::errc> : std::true_type {};
