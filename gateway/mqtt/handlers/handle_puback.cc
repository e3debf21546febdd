#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// PUBACK from a client: the gateway never sends PUBLISH, so it answers nothing. Ignored, counted.
actions handle_puback(session& s, const proto::puback_packet&, instant) {
  s.core.mutable_stats().ignored_packets++;
  return {};
}

}  // namespace tributary::gateway::mqtt::handlers
