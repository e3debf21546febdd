#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// UNSUBSCRIBE: forgets the filters; UNSUBACK (5.0: success or 0x11 per filter).
actions handle_unsubscribe(session& s, const proto::unsubscribe_packet& p, instant) {
  actions out;
  proto::unsuback_packet ack;
  ack.id = p.id;
  auto& subs = s.state->subscriptions;
  for (std::string_view filter : p.filters) {
    auto it = subs.find(filter);
    if (it == subs.end()) {
      if (s.v5()) ack.reasons.push_back(proto::reason_code::no_subscription_existed);
      continue;
    }
    s.state->subscription_bytes -= it->first.size();
    subs.erase(it);
    if (s.v5()) ack.reasons.push_back(proto::reason_code::success);
  }
  s.send(ack, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
