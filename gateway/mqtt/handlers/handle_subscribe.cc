#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {

// SUBSCRIBE: every valid filter is accepted with the QoS asked for and recorded in the session
// (bounded by mqtt.subscriptions_max and mqtt.subscription_bytes_max; beyond them 0x97, 3.1.1:
// 0x80), so a device subscribing to its
// command topic connects and runs normally. The gateway is an ingest point: nothing is delivered to
// subscriptions. (Invalid filters fail the packet's decoding: DISCONNECT 0x8F.)
actions handle_subscribe(session& s, const proto::subscribe_packet& p, instant) {
  actions out;
  proto::suback_packet ack;
  ack.id = p.id;
  ack.reasons.reserve(p.subscriptions.size());
  auto& subs = s.state->subscriptions;
  for (const auto& sub : p.subscriptions) {
    auto it = subs.find(sub.filter);
    if (it == subs.end() &&
        (subs.size() >= s.config().subscriptions_max ||
         s.state->subscription_bytes + sub.filter.size() > s.config().subscription_bytes_max)) {
      ack.reasons.push_back(proto::reason_code::quota_exceeded);
      continue;
    }
    if (it == subs.end()) {
      s.state->subscription_bytes += sub.filter.size();
      subs.emplace(std::string(sub.filter), sub.max_qos);
    } else {
      it->second = sub.max_qos;
    }
    s.core.mutable_stats().subscriptions++;
    ack.reasons.push_back(static_cast<proto::reason_code>(sub.max_qos));
  }
  s.send(ack, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
