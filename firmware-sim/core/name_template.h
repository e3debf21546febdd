#pragma once
// Templates for per-device names, client ids, credentials and MQTT topics, e.g. "dev-{index}" or
// "sensors/{device}/telemetry". Placeholders:
//   {index}   the device's 1-based index in the whole fleet, zero-padded to 6 digits (000042)
//   {n}       the same index without padding (42)
//   {group}   the device's group name
//   {device}  the device name (not inside the device-name template itself)
// "{{" and "}}" stand for literal braces.
#include <cstdint>
#include <string>
#include <string_view>

#include "firmware-sim/core/errc.h"

namespace tributary::sim {

struct template_vars {
  uint32_t index = 0;
  std::string_view group;
  std::string_view device;  // empty while expanding the device name itself
};

// Checks a template; `allow_device` is false for the device-name template.
detailed_result<void> check_template(std::string_view tmpl, bool allow_device);
// Expands a template that check_template accepted (TRIB_ASSERT otherwise).
std::string expand_template(std::string_view tmpl, const template_vars& vars);

}  // namespace tributary::sim
