#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"
#include "gateway/mqtt/reading_builder.h"

namespace tributary::gateway::mqtt::handlers {
namespace {

proto::packet_type ack_type(proto::qos_level q) {
  return q == proto::qos_level::exactly_once ? proto::packet_type::pubrec : proto::packet_type::puback;
}

}  // namespace

// PUBLISH: validate, resolve the topic alias, route, hand the reading to the buffer.
//  - 5.0: a Subscription Identifier is for server-to-client PUBLISH only (protocol error); a topic
//    alias must be 1..topic_alias_maximum and the aliased topics within topic_alias_bytes_max (else
//    DISCONNECT 0x94); an empty topic needs a known alias (else protocol error).
//  - QoS 2 with an id already received and not released: stored once; PUBREC again (after the
//    first commit, if it is still running).
//  - 5.0: more than receive_maximum QoS 1/2 in flight: DISCONNECT 0x93. 3.1.1: more than
//    receive_maximum QoS 2 ids awaiting PUBREL closes the connection.
//  - No route: counted; QoS 1/2 answered 0x90 "Topic Name invalid" in 5.0 (the name is not accepted
//    by this server); 3.1.1 has no way to refuse: acknowledged and dropped, as [MQTT-3.3.5-2] allows.
//  - QoS 0: submitted, never answered. QoS 1/2: answered (PUBACK/PUBREC) when the commit completes.
actions handle_publish(session& s, const proto::publish_packet& p, instant now) {
  actions out;
  server_core& core = s.core;
  const core_config& cfg = s.config();
  core_stats& stats = core.mutable_stats();
  if (!p.props.subscription_identifiers.empty())
    return protocol_violation(s, "Subscription Identifier in a client PUBLISH", now);

  std::string_view topic = p.topic;
  if (auto alias = p.props.topic_alias) {
    if (*alias == 0 || *alias > cfg.topic_alias_maximum) {
      s.disconnect(proto::reason_code::topic_alias_invalid, end_cause::protocol_error, now, out);
      return out;
    }
    if (s.aliases.size() < *alias) s.aliases.resize(*alias);
    std::string& slot = s.aliases[*alias - 1];
    if (!p.topic.empty()) {
      const size_t bytes = s.alias_bytes - slot.size() + p.topic.size();
      if (bytes > cfg.topic_alias_bytes_max) {
        s.disconnect(proto::reason_code::topic_alias_invalid, end_cause::protocol_error, now, out);
        return out;
      }
      s.alias_bytes = bytes;
      slot.assign(p.topic);
    } else if (slot.empty()) {
      return protocol_violation(s, "unknown topic alias", now);
    }
    topic = slot;
  }

  const auto qos = p.qos;
  const uint8_t q = static_cast<uint8_t>(qos);
  const uint16_t id = p.id.value;
  stats.publishes[q]++;
  stats.publish_payload_bytes += p.payload.size();

  if (qos == proto::qos_level::exactly_once) {
    if (auto it = s.state->qos2.find(id); it != s.state->qos2.end()) {
      stats.qos2_duplicates++;
      ack_entry e;
      e.type = proto::packet_type::pubrec;
      e.id = id;
      e.token = it->second.token;
      e.ready = it->second.stored;
      if (!e.ready) ++s.awaiting_commit;
      s.acks.push_back(e);
      s.flush_acks(now, out);
      return out;
    }
  }
  if (qos != proto::qos_level::at_most_once) {
    if (s.v5() && s.inflight() >= cfg.receive_maximum) {
      s.disconnect(proto::reason_code::receive_maximum_exceeded, end_cause::protocol_error, now, out);
      return out;
    }
    if (!s.v5() && qos == proto::qos_level::exactly_once && s.state->qos2.size() >= cfg.receive_maximum) {
      s.disconnect(proto::reason_code::receive_maximum_exceeded, end_cause::protocol_error, now, out);
      return out;
    }
  }

  auto target = core.routes().match(topic);
  if (!target) {
    const bool no_route = target.error() == routes::match_error::no_route;
    stats.dropped[static_cast<size_t>(no_route ? drop_reason::no_route : drop_reason::bad_target_topic)]++;
    if (qos == proto::qos_level::at_most_once) return out;
    ack_entry e;
    e.type = ack_type(qos);
    e.id = id;
    e.ready = true;
    e.reason = s.v5() ? proto::reason_code::topic_name_invalid : proto::reason_code::success;
    // A 3.1.1 QoS 2 "accepted" id still needs its PUBREL/PUBCOMP exchange.
    if (!s.v5() && qos == proto::qos_level::exactly_once)
      s.state->qos2[id] = qos2_entry{commit_token(0), true};
    s.acks.push_back(e);
    s.flush_acks(now, out);
    return out;
  }

  const reading_source src = source_of(p, s.client_id, topic);

  const bool qos2 = qos == proto::qos_level::exactly_once;
  commit_token token = core.register_commit(s.id, qos2 ? s.state : nullptr, id, q);
  if (qos2) s.state->qos2[id] = qos2_entry{token, false, false};
  if (qos != proto::qos_level::at_most_once) {
    ack_entry e;
    e.type = ack_type(qos);
    e.id = id;
    e.token = token;
    e.inflight = qos == proto::qos_level::at_least_once;
    if (e.inflight) ++s.qos1_inflight;
    ++s.awaiting_commit;
    s.acks.push_back(e);
  }
  out.push_back(submit_action{s.id, token, q, false, make_reading(cfg, std::move(*target), src, now)});
  if (!s.v5() && s.awaiting_commit >= cfg.receive_maximum) s.set_paused(true, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
