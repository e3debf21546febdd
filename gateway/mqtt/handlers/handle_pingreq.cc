#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// PINGREQ: PINGRESP. (The keep-alive deadline moved when the packet arrived.)
actions handle_pingreq(session& s, const proto::pingreq_packet&, instant) {
  actions out;
  s.send(proto::pingresp_packet{}, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
