#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// AUTH: the gateway offers no enhanced authentication (a CONNECT asking for it is refused with
// 0x8C), so an AUTH can only be a protocol error.
actions handle_auth(session& s, const proto::auth_packet&, instant now) {
  return protocol_violation(s, "AUTH without enhanced authentication", now);
}

}  // namespace tributary::gateway::mqtt::handlers
