// The one switch: a decoded packet goes to the handler of its type.
#include "common/log.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

actions protocol_violation(session& s, std::string_view what, instant now) {
  TRIB_LOG_DEBUG("mqtt", "protocol violation", {"client", s.client_id}, {"what", what});
  actions out;
  s.disconnect(proto::reason_code::protocol_error, end_cause::protocol_error, now, out);
  return out;
}

actions handle_packet(session& s, const proto::packet& p, instant now) {
  using proto::packet_type;
  switch (proto::type_of(p)) {
    case packet_type::connect: return handle_connect(s, std::get<proto::connect_packet>(p), now);
    case packet_type::publish: return handle_publish(s, std::get<proto::publish_packet>(p), now);
    case packet_type::puback: return handle_puback(s, std::get<proto::puback_packet>(p), now);
    case packet_type::pubrec: return handle_pubrec(s, std::get<proto::pubrec_packet>(p), now);
    case packet_type::pubrel: return handle_pubrel(s, std::get<proto::pubrel_packet>(p), now);
    case packet_type::pubcomp: return handle_pubcomp(s, std::get<proto::pubcomp_packet>(p), now);
    case packet_type::subscribe: return handle_subscribe(s, std::get<proto::subscribe_packet>(p), now);
    case packet_type::unsubscribe: return handle_unsubscribe(s, std::get<proto::unsubscribe_packet>(p), now);
    case packet_type::pingreq: return handle_pingreq(s, std::get<proto::pingreq_packet>(p), now);
    case packet_type::disconnect: return handle_disconnect(s, std::get<proto::disconnect_packet>(p), now);
    case packet_type::auth: return handle_auth(s, std::get<proto::auth_packet>(p), now);
    case packet_type::connack:
    case packet_type::suback:
    case packet_type::unsuback:
    case packet_type::pingresp: return protocol_violation(s, proto::packet_type_name(proto::type_of(p)), now);
  }
  return protocol_violation(s, "unknown packet type", now);
}

}  // namespace tributary::gateway::mqtt::handlers
