#pragma once
// Turns a PUBLISH (or a will) and its route into the buffer's reading: topic and key from the
// route, the payload untouched, headers (core.h, namespace header) saying where it came from,
// priority from the route, and an expiry: the earlier of the route's ttl_ms and the 5.0 Message
// Expiry Interval, counted from the receive time.
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "gateway/buffer/reading.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/types.h"
#include "gateway/routes/route_table.h"

namespace tributary::gateway::mqtt {

struct reading_source {
  std::string_view client_id;
  std::string_view topic;
  byte_span payload;
  uint8_t qos = 0;
  bool retain = false;
  std::optional<uint32_t> message_expiry_s;
  std::optional<std::string_view> content_type;
  bool payload_utf8 = false;
  std::vector<std::pair<std::string_view, std::string_view>> user_properties;
  std::string_view will_reason;  // non-empty for a will
};

// The reading fields of a PUBLISH received from `client_id`; `topic` is the packet's own or the one its
// topic alias stands for. The listener's sessions and the bridge both receive PUBLISH packets.
reading_source source_of(const ::tributary::mqtt::publish_packet& p, std::string_view client_id,
                         std::string_view topic);

buffer::reading make_reading(const core_config& config, routes::route_target target,
                             const reading_source& src, instant now);

}  // namespace tributary::gateway::mqtt
