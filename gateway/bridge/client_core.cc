#include "gateway/bridge/client_core.h"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/mqtt/codec.h"
#include "gateway/mqtt/reading_builder.h"

namespace tributary::gateway::bridge {

client_core::client_core(bridge_config cfg, mqtt::core_config mqtt_config, const routes::route_table& routes)
    : cfg_(std::move(cfg)), mqtt_cfg_(std::move(mqtt_config)), routes_(routes) {
  TRIB_ASSERT(cfg_.inflight_max > 0);
  TRIB_ASSERT(cfg_.reconnect_min_ms > 0 && cfg_.reconnect_min_ms <= cfg_.reconnect_max_ms);
  keep_alive_s_ = cfg_.keep_alive_s;
}

template <class P>
void client_core::send(const P& p, actions& out) {
  byte_writer w;
  proto::encode(p, cfg_.version, w);
  out.push_back(send_action{w.take()});
}

void client_core::start_connect(instant now, actions& out) {
  state_ = link_state::connecting;
  stats_.connect_attempts++;
  phase_started_ms_ = now.mono_ms;
  out.push_back(connect_action{});
}

void client_core::schedule_retry(instant now) {
  backoff_ms_ = backoff_ms_ == 0 ? cfg_.reconnect_min_ms : std::min(backoff_ms_ * 2, cfg_.reconnect_max_ms);
  next_attempt_ms_ = now.mono_ms + backoff_ms_;
}

void client_core::close(bool abort, std::string_view why, actions& out) {
  if (state_ != link_state::awaiting_connack && state_ != link_state::connected) return;
  state_ = link_state::closing;
  out.push_back(close_action{abort, why});
}

void client_core::protocol_error(std::string detail, actions& out) {
  stats_.protocol_errors++;
  out.push_back(note_action{"protocol_error", std::move(detail), true});
  close(true, "protocol error", out);
}

actions client_core::tick(instant now) {
  actions out;
  switch (state_) {
    case link_state::idle:
      if (now.mono_ms >= next_attempt_ms_) start_connect(now, out);
      break;
    case link_state::awaiting_connack:
      if (now.mono_ms - phase_started_ms_ >= cfg_.connect_timeout_ms) {
        out.push_back(note_action{"connect_timeout", "no CONNACK", true});
        close(true, "no CONNACK in time", out);
      }
      break;
    case link_state::connected: {
      if (keep_alive_s_ == 0) break;
      const uint64_t keep_alive_ms = uint64_t{keep_alive_s_} * 1000;
      // Not reading (waiting for commits) is not the broker's silence.
      if (paused_) last_received_ms_ = now.mono_ms;
      if (now.mono_ms - last_received_ms_ >= keep_alive_ms + keep_alive_ms / 2) {
        stats_.keep_alive_timeouts++;
        out.push_back(note_action{
            "keep_alive_timeout",
            fmt::format("nothing from the broker for {} ms", now.mono_ms - last_received_ms_), true});
        close(true, "keep alive timeout", out);
        break;
      }
      if (!ping_outstanding_ && now.mono_ms - last_sent_ms_ >= keep_alive_ms) {
        send(proto::pingreq_packet{}, out);
        ping_outstanding_ = true;
        last_sent_ms_ = now.mono_ms;
      }
      break;
    }
    case link_state::connecting:  // the adapter's connect timeout ends it
    case link_state::closing:
    case link_state::stopped: break;
  }
  return out;
}

actions client_core::on_connected(instant now) {
  actions out;
  if (state_ == link_state::stopped) {
    out.push_back(close_action{true, "shutting down"});
    return out;
  }
  TRIB_ASSERT(state_ == link_state::connecting);
  state_ = link_state::awaiting_connack;
  ++epoch_;
  session_up_ = false;
  phase_started_ms_ = now.mono_ms;
  last_sent_ms_ = now.mono_ms;
  last_received_ms_ = now.mono_ms;
  ping_outstanding_ = false;
  paused_ = false;
  keep_alive_s_ = cfg_.keep_alive_s;

  proto::connect_packet c;
  c.version = cfg_.version;
  c.clean_start = cfg_.clean_session;
  c.keep_alive_s = cfg_.keep_alive_s;
  c.client_id = cfg_.client_id;
  if (!cfg_.username.empty()) {
    c.username = cfg_.username;
    c.password =
        proto::bytes_view(reinterpret_cast<const uint8_t*>(cfg_.password.data()), cfg_.password.size());
  }
  if (cfg_.version == proto::protocol_version::v5) {
    if (!cfg_.clean_session) c.props.session_expiry_interval_s = cfg_.session_expiry_s;
    c.props.receive_maximum = cfg_.inflight_max;
    c.props.maximum_packet_size = cfg_.max_packet_bytes;
  }
  send(c, out);
  return out;
}

actions client_core::on_connect_failed(instant now) {
  actions out;
  if (state_ == link_state::stopped) return out;
  TRIB_ASSERT(state_ == link_state::connecting);
  stats_.connect_failures++;
  state_ = link_state::idle;
  schedule_retry(now);
  return out;
}

actions client_core::on_closed(instant now) {
  actions out;
  if (state_ == link_state::stopped) return out;
  if (session_up_) {
    stats_.connections_lost++;
  } else {
    stats_.connect_failures++;
  }
  session_up_ = false;
  // What waits for a commit is not acknowledged on the next connection (the epoch changes there).
  acks_.clear();
  awaiting_commit_ = 0;
  paused_ = false;
  ping_outstanding_ = false;
  state_ = link_state::idle;
  schedule_retry(now);
  out.push_back(note_action{"disconnected", fmt::format("retry in {} ms", backoff_ms_), false});
  return out;
}

actions client_core::on_frame_error(bool too_large, instant) {
  actions out;
  protocol_error(too_large ? fmt::format("a packet over bridge.max_packet_bytes ({})", cfg_.max_packet_bytes)
                           : std::string("a bad remaining length"),
                 out);
  return out;
}

actions client_core::on_frame(byte_span frame, instant now) {
  actions out;
  if (state_ != link_state::awaiting_connack && state_ != link_state::connected) return out;
  last_received_ms_ = now.mono_ms;
  auto decoded = proto::decode(frame, cfg_.version);
  if (!decoded) {
    protocol_error(fmt::format("undecodable packet: {}", decoded.error().message()), out);
    return out;
  }
  const proto::packet& p = *decoded;
  const auto type = proto::type_of(p);
  if (state_ == link_state::awaiting_connack) {
    if (type != proto::packet_type::connack) {
      protocol_error(fmt::format("{} before CONNACK", proto::packet_type_name(type)), out);
      return out;
    }
    on_connack(std::get<proto::connack_packet>(p), now, out);
    return out;
  }
  switch (type) {
    case proto::packet_type::publish: on_publish(std::get<proto::publish_packet>(p), now, out); break;
    case proto::packet_type::pubrel: on_pubrel(std::get<proto::pubrel_packet>(p), out); break;
    case proto::packet_type::suback: on_suback(std::get<proto::suback_packet>(p), out); break;
    case proto::packet_type::pingresp: ping_outstanding_ = false; break;
    case proto::packet_type::disconnect: {
      const auto& d = std::get<proto::disconnect_packet>(p);
      out.push_back(note_action{"broker_disconnect", std::string(proto::reason_code_name(d.reason)), true});
      close(false, "DISCONNECT from the broker", out);
      break;
    }
    default: protocol_error(fmt::format("unexpected {}", proto::packet_type_name(type)), out); break;
  }
  return out;
}

void client_core::on_connack(const proto::connack_packet& p, instant now, actions& out) {
  if (p.reason != proto::reason_code::success) {
    out.push_back(note_action{"connect_refused", std::string(proto::reason_code_name(p.reason)), true});
    close(false, "CONNACK refused", out);
    return;
  }
  state_ = link_state::connected;
  session_up_ = true;
  stats_.connects++;
  if (ever_connected_) stats_.reconnects++;
  ever_connected_ = true;
  backoff_ms_ = 0;
  if (p.props.server_keep_alive_s) keep_alive_s_ = *p.props.server_keep_alive_s;
  last_received_ms_ = now.mono_ms;
  out.push_back(note_action{"connected", fmt::format("session_present={}", p.session_present), false});
  // A new session on the broker: the QoS 2 ids of the old one mean nothing any more.
  if (!p.session_present) qos2_.clear();
  if (!p.session_present || !subscribed_) {
    proto::subscribe_packet s;
    s.id = proto::packet_id(1);
    for (const auto& sub : cfg_.subscriptions) {
      proto::subscription x;
      x.filter = sub.filter;
      x.max_qos = static_cast<proto::qos_level>(sub.qos);
      s.subscriptions.push_back(x);
    }
    send(s, out);
    last_sent_ms_ = now.mono_ms;
    subscribed_ = true;
  }
}

void client_core::on_suback(const proto::suback_packet& p, actions& out) {
  for (size_t i = 0; i < p.reasons.size() && i < cfg_.subscriptions.size(); ++i) {
    const auto& sub = cfg_.subscriptions[i];
    const uint8_t r = static_cast<uint8_t>(p.reasons[i]);
    if (proto::is_failure(p.reasons[i])) {
      stats_.subscribe_failures++;
      out.push_back(note_action{
          "subscribe_refused",
          fmt::format("filter \"{}\": {}", sub.filter, proto::reason_code_name(p.reasons[i])), true});
    } else if (r < sub.qos) {
      out.push_back(note_action{"subscribe_downgraded",
                                fmt::format("filter \"{}\": granted QoS {} of {}", sub.filter, r, sub.qos),
                                true});
    }
  }
  out.push_back(note_action{"subscribed", fmt::format("{} filters", cfg_.subscriptions.size()), false});
}

void client_core::on_publish(const proto::publish_packet& p, instant now, actions& out) {
  const uint8_t q = static_cast<uint8_t>(p.qos);
  const uint16_t id = p.id.value;
  stats_.messages[q]++;
  if (p.dup) stats_.redelivered++;
  if (p.topic.empty() || p.props.topic_alias) {  // we allow no topic aliases (none advertised)
    protocol_error("PUBLISH with a topic alias", out);
    return;
  }
  const auto ack_type =
      p.qos == proto::qos_level::exactly_once ? proto::packet_type::pubrec : proto::packet_type::puback;
  if (p.qos == proto::qos_level::exactly_once) {
    if (auto it = qos2_.find(id); it != qos2_.end()) {
      stats_.qos2_duplicates++;
      ack_entry e{ack_type, id, it->second.token, it->second.stored};
      if (!e.ready) ++awaiting_commit_;
      acks_.push_back(e);
      flush_acks(out);
      update_pause(out);
      return;
    }
  }
  auto target = routes_.match(p.topic);
  if (!target) {
    if (target.error() == routes::match_error::no_route) {
      stats_.no_route++;
    } else {
      stats_.bad_target_topic++;
    }
    if (p.qos == proto::qos_level::at_most_once) return;
    // Nothing will ever store it: acknowledged and dropped, as the listener does for 3.1.1.
    if (p.qos == proto::qos_level::exactly_once) qos2_[id] = qos2_entry{0, true};
    acks_.push_back(ack_entry{ack_type, id, 0, true});
    flush_acks(out);
    return;
  }
  const mqtt::reading_source src = mqtt::source_of(p, cfg_.client_id, p.topic);

  const uint64_t token = next_token_++;
  pending_.emplace(token, pending_commit{epoch_, q, id});
  if (p.qos != proto::qos_level::at_most_once) {
    if (p.qos == proto::qos_level::exactly_once) qos2_[id] = qos2_entry{token, false};
    acks_.push_back(ack_entry{ack_type, id, token, false});
    ++awaiting_commit_;
  }
  out.push_back(
      submit_action{commit_token(token), q, mqtt::make_reading(mqtt_cfg_, std::move(*target), src, now)});
  update_pause(out);
}

void client_core::on_pubrel(const proto::pubrel_packet& p, actions& out) {
  const uint16_t id = p.id.value;
  if (auto it = qos2_.find(id); it != qos2_.end()) {
    if (!it->second.stored) {  // PUBREL answers our PUBREC, which waits for the commit
      protocol_error(fmt::format("PUBREL for id {} before its PUBREC", id), out);
      return;
    }
    qos2_.erase(it);
  }
  // An unknown id (released before a restart of ours): completing it is what the broker waits for.
  acks_.push_back(ack_entry{proto::packet_type::pubcomp, id, 0, true});
  flush_acks(out);
}

actions client_core::on_committed(commit_token token, commit_result result, instant) {
  actions out;
  auto it = pending_.find(token.value);
  TRIB_ASSERT(it != pending_.end(), "a completion for a reading never submitted");
  const pending_commit pc = it->second;
  pending_.erase(it);
  const bool ok = result == commit_result::committed;
  if (!ok) stats_.commit_failures++;
  if (pc.qos == 2) {
    if (auto q = qos2_.find(pc.id); q != qos2_.end() && q->second.token == token.value) {
      if (ok) {
        q->second.stored = true;
      } else {
        qos2_.erase(q);  // stored nowhere: a re-sent PUBLISH must be stored
      }
    }
  }
  if (pc.qos == 0) return out;
  if (pc.epoch != epoch_ || state_ != link_state::connected) {
    if (ok) stats_.stale_commits++;
    return out;
  }
  bool failed = false;
  for (auto& e : acks_) {
    if (e.token != token.value || e.ready) continue;
    --awaiting_commit_;
    if (ok) {
      e.ready = true;
    } else {
      failed = true;
    }
  }
  flush_acks(out);
  if (failed) {
    // Never acknowledged: the broker re-sends it on the next connection, after the backoff.
    out.push_back(note_action{"commit_failed",
                              "a reading was not stored; reconnecting so the broker re-sends it", true});
    close(false, "the buffer did not store a reading", out);
    return out;
  }
  update_pause(out);
  return out;
}

void client_core::flush_acks(actions& out) {
  if (state_ != link_state::connected) return;
  byte_writer w;
  while (!acks_.empty() && acks_.front().ready) {
    const ack_entry& e = acks_.front();
    const proto::packet_id id(e.id);
    switch (e.type) {
      case proto::packet_type::puback:
        proto::encode(proto::puback_packet{id, {}, {}}, cfg_.version, w);
        break;
      case proto::packet_type::pubrec:
        proto::encode(proto::pubrec_packet{id, {}, {}}, cfg_.version, w);
        break;
      default: proto::encode(proto::pubcomp_packet{id, {}, {}}, cfg_.version, w); break;
    }
    acks_.pop_front();
  }
  if (w.size() > 0) out.push_back(send_action{w.take()});
}

void client_core::update_pause(actions& out) {
  const bool want = state_ == link_state::connected && awaiting_commit_ >= cfg_.inflight_max;
  if (want == paused_) return;
  paused_ = want;
  out.push_back(pause_action{want});
}

actions client_core::shutdown(instant) {
  actions out;
  const bool open = state_ == link_state::awaiting_connack || state_ == link_state::connected;
  if (state_ == link_state::connected) {
    flush_acks(out);
    send(proto::disconnect_packet{}, out);
  }
  if (open) out.push_back(close_action{false, "shutting down"});
  state_ = link_state::stopped;
  return out;
}

}  // namespace tributary::gateway::bridge
