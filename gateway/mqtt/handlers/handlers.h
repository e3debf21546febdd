#pragma once
// One handler per MQTT packet type (Mosquitto's layout: handle_<packet>.cc), each pure:
// (session&, const packet&, now) -> actions. handle_packet is the one switch that dispatches a
// decoded packet of a connected session (or the CONNECT of a new one) to its handler.
//
// Direction rules live here, not in the codec: a client may not send CONNACK, SUBACK, UNSUBACK,
// PINGRESP (protocol error), a second CONNECT (protocol error), or AUTH (we offer no enhanced
// authentication: protocol error). PUBACK, PUBREC and PUBCOMP from a client answer nothing the
// gateway sent (it never sends PUBLISH): they are counted and ignored.
#include "gateway/mqtt/action.h"
#include "gateway/mqtt/session.h"
#include "gateway/mqtt/types.h"

namespace tributary::gateway::mqtt::handlers {

actions handle_packet(session& s, const proto::packet& p, instant now);

actions handle_connect(session& s, const proto::connect_packet& p, instant now);
actions handle_publish(session& s, const proto::publish_packet& p, instant now);
actions handle_puback(session& s, const proto::puback_packet& p, instant now);
actions handle_pubrec(session& s, const proto::pubrec_packet& p, instant now);
actions handle_pubrel(session& s, const proto::pubrel_packet& p, instant now);
actions handle_pubcomp(session& s, const proto::pubcomp_packet& p, instant now);
actions handle_subscribe(session& s, const proto::subscribe_packet& p, instant now);
actions handle_unsubscribe(session& s, const proto::unsubscribe_packet& p, instant now);
actions handle_pingreq(session& s, const proto::pingreq_packet& p, instant now);
actions handle_disconnect(session& s, const proto::disconnect_packet& p, instant now);
actions handle_auth(session& s, const proto::auth_packet& p, instant now);

// A packet a client may not send (or not now): 5.0 DISCONNECT 0x82, then close.
actions protocol_violation(session& s, std::string_view what, instant now);

}  // namespace tributary::gateway::mqtt::handlers
