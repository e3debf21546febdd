#include "common/uv/error.h"

#include <string>

#include <uv.h>

namespace tributary {

const char* errc_info<uv::errc>::message(uv::errc e) noexcept {
  switch (e) {
    case uv::errc::bad_address: return "bad address (want numeric host:port or [ipv6]:port)";
    case uv::errc::frame_too_large: return "frame larger than the configured maximum";
    case uv::errc::bad_frame: return "malformed frame";
    case uv::errc::write_queue_full: return "write queue beyond its hard limit";
    case uv::errc::closed: return "closed";
    case uv::errc::queue_full: return "worker queue full";
    case uv::errc::idle_timeout: return "idle timeout";
    case uv::errc::connect_timeout: return "connect timeout";
    case uv::errc::peer_closed: return "peer closed the connection";
    case uv::errc::job_failed: return "worker job threw an exception";
    case uv::errc::cancelled: return "cancelled";
    case uv::errc::loop_closing: return "event loop closing";
  }
  return "unknown uv error";
}

namespace uv {

const std::error_category& uv_category() noexcept {
  struct category final : std::error_category {
    const char* name() const noexcept override { return "libuv"; }
    std::string message(int v) const override { return uv_strerror(v); }
  };
  static const category instance;
  return instance;
}

std::error_code uv_error(int status) noexcept { return {status, uv_category()}; }

}  // namespace uv
}  // namespace tributary
