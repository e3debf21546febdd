#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// DISCONNECT: 0x00 ends the connection without the will; any other 5.0 reason (0x04 "disconnect
// with will message", or an error) publishes it. 5.0 may change the session expiry interval, but
// not from 0 to more [MQTT-3.14.2-2]: that is a protocol error.
actions handle_disconnect(session& s, const proto::disconnect_packet& p, instant now) {
  actions out;
  if (auto expiry = p.props.session_expiry_interval_s) {
    if (s.request.session_expiry_s == 0 && *expiry != 0) {
      s.disconnect(proto::reason_code::protocol_error, end_cause::protocol_error, now, out);
      return out;
    }
    const uint32_t clamped = std::min(*expiry, s.config().session_expiry_max_s);
    s.state->expiry_s = clamped;
    s.state->persistent = clamped > 0;
  }
  const bool with_will = s.v5() && p.reason != proto::reason_code::normal_disconnection;
  s.close(with_will ? end_cause::disconnect_with_will : end_cause::normal_disconnect, "DISCONNECT", false,
          now, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
