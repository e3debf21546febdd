#pragma once
// Errors of the gateway's forwarder (creating and running the producer).
#include <system_error>

#include "common/result.h"

namespace tributary::gateway::forwarder {

enum class errc {
  bad_config = 1,   // a forwarder.* key or combination is invalid (the log says which)
  producer_failed,  // librdkafka refused a setting or could not create the producer (the log has its message)
  not_active,       // forwarder.enabled is false or forwarder.bootstrap_servers is empty
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::gateway::forwarder

template <>
struct tributary::errc_info<tributary::gateway::forwarder::errc> {
  static constexpr const char* name = "gateway.forwarder";
  static const char* message(tributary::gateway::forwarder::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::gateway::forwarder::errc> : std::true_type {};
