#include "firmware-sim/core/errc.h"

namespace tributary {

const char* errc_info<sim::errc>::message(sim::errc e) noexcept {
  switch (e) {
    case sim::errc::bad_scenario: return "bad scenario";
    case sim::errc::bad_template: return "bad template";
    case sim::errc::payload_too_large: return "payload too large";
    case sim::errc::bad_magic: return "not a tributary-sim binary reading (bad magic)";
    case sim::errc::unsupported_version: return "unsupported reading version";
    case sim::errc::truncated: return "truncated reading";
    case sim::errc::bad_json: return "malformed JSON";
    case sim::errc::missing_field: return "missing field";
    case sim::errc::bad_field: return "bad field";
    case sim::errc::bad_report: return "inconsistent run report";
    case sim::errc::limit_exceeded: return "limit exceeded";
  }
  return "unknown sim error";
}

}  // namespace tributary
