#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// PUBREL: the QoS 2 exchange ends; the id is forgotten (a later PUBLISH with it is a new message)
// and PUBCOMP answers, in order behind the answers already queued. An unknown id gets PUBCOMP
// 0x92 in 5.0 (3.1.1: PUBCOMP, as the id may be from a session the gateway no longer has).
// A PUBREL for an id whose reading is still being committed waits for that commit.
actions handle_pubrel(session& s, const proto::pubrel_packet& p, instant now) {
  actions out;
  const uint16_t id = p.id.value;
  ack_entry e;
  e.type = proto::packet_type::pubcomp;
  e.id = id;
  auto it = s.state->qos2.find(id);
  if (it == s.state->qos2.end()) {
    e.ready = true;
    e.reason = s.v5() ? proto::reason_code::packet_identifier_not_found : proto::reason_code::success;
  } else if (it->second.stored) {
    s.state->qos2.erase(it);
    e.ready = true;
  } else {
    it->second.released = true;
    e.token = it->second.token;
    ++s.awaiting_commit;
  }
  s.acks.push_back(e);
  s.flush_acks(now, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
