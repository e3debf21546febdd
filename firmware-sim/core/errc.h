#pragma once
// Errors of the simulator and verifier cores (scenario parsing, reading decoding, report parsing).
#include <system_error>

#include "common/result.h"

namespace tributary::sim {

enum class errc {
  bad_scenario = 1,     // a scenario file or flag combination that does not make sense
  bad_template,         // a name/topic template with an unknown or unbalanced placeholder
  payload_too_large,    // an encoded or received payload larger than payload_bytes_max
  bad_magic,            // a binary reading whose magic number is not ours
  unsupported_version,  // a binary reading of a version we do not know
  truncated,            // a reading shorter than its header says
  bad_json,             // a JSON reading or report that does not parse
  missing_field,        // a JSON reading or report without a required field
  bad_field,            // a field of the wrong type or out of range
  bad_report,           // a run report that is inconsistent (duplicate devices, overlapping ranges)
  limit_exceeded,       // more devices, groups or ranges than the configured limits allow
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::sim

template <>
struct tributary::errc_info<tributary::sim::errc> {
  static constexpr const char* name = "sim";
  static const char* message(tributary::sim::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::sim::errc> : std::true_type {};

namespace tributary::sim {

// An error with a human message for the operator (file name, key, value).
struct error {
  std::error_code code;
  std::string message;
};

template <class T = void>
using detailed_result = tl::expected<T, error>;

inline tl::unexpected<error> fail_with(errc e, std::string message) {
  return tl::unexpected(error{make_error_code(e), std::move(message)});
}

}  // namespace tributary::sim
