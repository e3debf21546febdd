#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// PUBCOMP from a client: the gateway never sends PUBREL, so it answers nothing. Ignored, counted.
actions handle_pubcomp(session& s, const proto::pubcomp_packet&, instant) {
  s.core.mutable_stats().ignored_packets++;
  return {};
}

}  // namespace tributary::gateway::mqtt::handlers
