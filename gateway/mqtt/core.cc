#include "gateway/mqtt/core.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/log.h"
#include "common/mqtt/codec.h"
#include "gateway/mqtt/handlers/handlers.h"
#include "gateway/mqtt/reading_builder.h"

namespace tributary::gateway::mqtt {
namespace {

constexpr std::string_view component = "mqtt";

}  // namespace

std::string_view drop_reason_name(drop_reason r) noexcept {
  switch (r) {
    case drop_reason::no_route: return "no_route";
    case drop_reason::bad_target_topic: return "bad_target_topic";
    case drop_reason::quota_exceeded: return "quota_exceeded";
    case drop_reason::rejected: return "rejected";
    case drop_reason::queue_full: return "queue_full";
    case drop_reason::commit_failed: return "commit_failed";
    case drop_reason::count_: break;
  }
  return "unknown";
}

server_core::server_core(core_config config, const routes::route_table& routes)
    : config_(std::move(config)), routes_(routes), registry_(config_.sessions_max) {
  TRIB_ASSERT(config_.receive_maximum > 0);
  TRIB_ASSERT(config_.max_packet_bytes > 0);
}

server_core::~server_core() = default;

size_t server_core::connected_count() const {
  size_t n = 0;
  for (const auto& [id, s] : sessions_) n += s->ph == phase::connected;
  return n;
}

session* server_core::find(connection_id conn) {
  auto it = sessions_.find(conn);
  return it == sessions_.end() ? nullptr : it->second.get();
}

commit_token server_core::register_commit(connection_id conn, std::shared_ptr<session_state> qos2_state,
                                          uint16_t id, uint8_t qos) {
  commit_token t(next_token_++);
  TRIB_ASSERT(t.value == pending_base_ + pending_.size());
  pending_.push_back(pending_slot{pending_commit{conn, std::move(qos2_state), id, qos}, false});
  ++pending_live_;
  return t;
}

std::string server_core::assign_client_id() {
  // Deterministic and unique within the process (sessions are not kept across restarts).
  while (true) {
    std::string id = fmt::format("tributary-auto-{}", next_client_id_++);
    if (!registry_.find(id)) return id;
  }
}

actions server_core::on_open(connection_id conn, instant now) {
  auto [it, inserted] = sessions_.emplace(conn, std::make_unique<session>(*this, conn, now.mono_ms));
  TRIB_ASSERT(inserted, "connection ids are never reused");
  return {};
}

void server_core::connect_decode_failed(session& s, byte_span frame, std::error_code ec, instant now,
                                        actions& out) {
  const auto version = proto::peek_connect_version(frame);
  const proto::reason_code reason = proto::to_reason_code(ec);
  stats_.connects_refused[static_cast<uint8_t>(reason)]++;
  TRIB_LOG_DEBUG(component, "bad CONNECT", {"conn", s.id.value}, {"error", ec.message()});
  if (version == proto::protocol_version::v5) {
    s.version = proto::protocol_version::v5;
    proto::reason_code r = reason;
    if (!proto::reason_code_allowed(proto::packet_type::connack, r))
      r = proto::reason_code::unspecified_error;
    s.send(proto::connack_packet{false, r, {}}, out);
  } else {
    // 3.1.1, or a protocol level we do not speak (3.1's "MQIsdp"): a 3.1.1 CONNACK where 3.1.1 has
    // a return code for the error ([MQTT-3.1.2-2]: unsupported level gets 0x01), else just close.
    std::optional<proto::connect_return_code> rc;
    if (ec.category() == errc_category<proto::errc>())
      rc = proto::to_connect_return_code(static_cast<proto::errc>(ec.value()));
    if (rc && (version || *rc == proto::connect_return_code::unacceptable_protocol_version)) {
      s.version = proto::protocol_version::v311;
      s.send(proto::connack_packet{false, *proto::from_connect_return_code(static_cast<uint8_t>(*rc)), {}},
             out);
    }
  }
  s.close(end_cause::refused, "bad CONNECT", false, now, out);
}

actions server_core::on_frame(connection_id conn, byte_span frame, instant now) {
  actions out;
  session* s = find(conn);
  if (s == nullptr || s->ended()) return out;
  TRIB_ASSERT(!frame.empty());
  const auto type = static_cast<proto::packet_type>(frame[0] >> 4);
  if (s->ph == phase::awaiting_connect) {
    if (type != proto::packet_type::connect) {
      // [MQTT-3.1.0-1]: the first packet must be a CONNECT; anything else closes the connection.
      stats_.connects_refused[static_cast<uint8_t>(proto::reason_code::protocol_error)]++;
      s->close(end_cause::refused, "first packet is not CONNECT", true, now, out);
      return out;
    }
    auto p = proto::decode(frame, proto::protocol_version::v5);
    if (!p) {
      connect_decode_failed(*s, frame, p.error(), now, out);
      return out;
    }
    return handlers::handle_packet(*s, *p, now);
  }
  if (s->ph != phase::connected) return out;  // authenticating: reading is paused; late frames are dropped
  s->touch(now.mono_ms);
  auto p = proto::decode(frame, s->version);
  if (!p) {
    TRIB_LOG_DEBUG(component, "bad packet", {"client", s->client_id}, {"error", p.error().message()});
    s->disconnect(proto::to_reason_code(p.error()), end_cause::protocol_error, now, out);
    return out;
  }
  return handlers::handle_packet(*s, *p, now);
}

actions server_core::on_frame_error(connection_id conn, bool too_large, instant now) {
  actions out;
  session* s = find(conn);
  if (s == nullptr || s->ended()) return out;
  const auto reason = too_large ? proto::reason_code::packet_too_large : proto::reason_code::malformed_packet;
  if (s->ph == phase::connected) {
    s->disconnect(reason, end_cause::protocol_error, now, out);
  } else {
    stats_.connects_refused[static_cast<uint8_t>(reason)]++;
    s->close(end_cause::refused, proto::reason_code_name(reason), false, now, out);
  }
  return out;
}

actions server_core::on_closed(connection_id conn, instant now) {
  actions out;
  auto it = sessions_.find(conn);
  if (it == sessions_.end()) return out;
  session& s = *it->second;
  if (!s.ended()) {
    end_session(s, s.ph == phase::connected ? end_cause::peer_closed : end_cause::refused, now, out);
  }
  // Whatever the session still sends goes nowhere now.
  std::erase_if(out, [conn](const action& a) {
    return std::holds_alternative<send_action>(a) && std::get<send_action>(a).conn == conn;
  });
  sessions_.erase(it);
  return out;
}

actions server_core::on_authenticated(connection_id conn, auth_outcome outcome, instant now) {
  actions out;
  session* s = find(conn);
  if (s == nullptr || s->ph != phase::authenticating) return out;  // closed meanwhile
  if (outcome == auth_outcome::busy) {
    refuse_connect(*s, proto::reason_code::server_busy, now, out);
    return out;
  }
  if (outcome == auth_outcome::refused) {
    stats_.auth_failures++;
    TRIB_LOG_INFO(component, "bad user name or password", {"client", s->client_id},
                  {"user", s->username.value_or("")});
    refuse_connect(*s, proto::reason_code::bad_username_or_password, now, out);
    return out;
  }
  accept_connect(*s, now, out);
  return out;
}

void server_core::refuse_connect(session& s, proto::reason_code reason, instant now, actions& out) {
  TRIB_ASSERT(proto::reason_code_allowed(proto::packet_type::connack, reason));
  stats_.connects_refused[static_cast<uint8_t>(reason)]++;
  s.send(proto::connack_packet{false, reason, {}}, out);
  s.close(end_cause::refused, proto::reason_code_name(reason), false, now, out);
}

void server_core::accept_connect(session& s, instant now, actions& out) {
  // Takeover: the client id is connected elsewhere. The old connection gets DISCONNECT 0x8E (5.0)
  // and closes; its will goes out as on any abrupt end (a delayed will waits, and this connection
  // cancels it below if it resumes the session).
  std::shared_ptr<session_state> st = registry_.find(s.client_id);
  if (st && st->attached) {
    session* old = find(*st->attached);
    TRIB_ASSERT(old != nullptr && old != &s, "an attached state belongs to a live session");
    stats_.takeovers++;
    TRIB_LOG_INFO(component, "session taken over", {"client", s.client_id}, {"old_conn", old->id.value},
                  {"new_conn", s.id.value});
    old->disconnect(proto::reason_code::session_taken_over, end_cause::taken_over, now, out);
    st = registry_.find(s.client_id);  // the old connection's end may have discarded it
  }
  bool session_present = false;
  if (st && s.request.clean_start) {
    discard_state(st, now, out);
    st = nullptr;
  }
  if (st) {
    session_present = true;
    stats_.sessions_resumed++;
    if (st->delayed_will) {
      st->delayed_will.reset();
      stats_.wills_cancelled++;
    }
    registry_.attach(st, s.id);
  } else {
    st = registry_.create(s.client_id, s.id);
  }
  // Session lifetime: 5.0 asks with Session Expiry Interval (0 = ends with the connection);
  // 3.1.1 clean session 0 means "keep it", which we bound by session_expiry_max_s.
  uint32_t expiry =
      s.v5() ? s.request.session_expiry_s : (s.request.clean_start ? 0 : config_.session_expiry_max_s);
  expiry = std::min(expiry, config_.session_expiry_max_s);
  st->expiry_s = expiry;
  st->persistent = expiry > 0;
  s.state = st;
  s.ph = phase::connected;
  s.touch(now.mono_ms);
  stats_.connects_accepted++;

  proto::connack_packet ack;
  ack.session_present = session_present;
  ack.reason = proto::reason_code::success;
  if (s.v5()) {
    auto& p = ack.props;
    if (config_.receive_maximum != 65535) p.receive_maximum = config_.receive_maximum;
    if (config_.topic_alias_maximum > 0) p.topic_alias_maximum = config_.topic_alias_maximum;
    p.maximum_packet_size = config_.max_packet_bytes;
    if (s.request.session_expiry_s != expiry) p.session_expiry_interval_s = expiry;
    if (s.request.client_id_assigned) p.assigned_client_identifier = s.client_id;
    if (s.keep_alive_s != s.request.keep_alive_s) p.server_keep_alive_s = s.keep_alive_s;
  }
  s.send(ack, out);
  s.set_paused(false, out);
  s.username.reset();  // needed no more: not kept for the session's life
  TRIB_LOG_DEBUG(component, "connected", {"client", s.client_id}, {"conn", s.id.value},
                 {"version", proto::protocol_version_name(s.version)}, {"session_present", session_present});
}

void server_core::discard_state(const std::shared_ptr<session_state>& st, instant now, actions& out) {
  // A session that ends publishes its delayed will now (5.0: at the earlier of the delay and the
  // session's end).
  if (st->delayed_will) {
    publish_will(*st->delayed_will, "session_ended", now, out);
    st->delayed_will.reset();
  }
  registry_.erase(st);
}

void server_core::end_session(session& s, end_cause cause, instant now, actions& out) {
  if (s.ended()) return;
  const bool was_connected = s.ph == phase::connected;
  s.ph = phase::ended;
  s.paused = false;
  if (!was_connected) return;
  TRIB_LOG_DEBUG(component, "disconnected", {"client", s.client_id}, {"conn", s.id.value},
                 {"cause", end_cause_name(cause)});
  if (cause == end_cause::keep_alive_timeout) stats_.keep_alive_timeouts++;
  std::shared_ptr<session_state> st = s.state;
  TRIB_ASSERT(st && st->attached == s.id, "a connected session is attached to its state");
  if (s.will && sends_will(cause)) {
    if (s.will->delay_s > 0 && st->persistent) {
      st->delayed_will = std::move(s.will);
      st->will_at_ms = now.mono_ms + uint64_t{std::min(st->delayed_will->delay_s, st->expiry_s)} * 1000;
    } else {
      publish_will(*s.will, end_cause_name(cause), now, out);
    }
  }
  s.will.reset();
  if (st->persistent) {
    for (auto& evicted : registry_.detach(st, now.mono_ms)) {
      stats_.sessions_evicted++;
      if (evicted->delayed_will) publish_will(*evicted->delayed_will, "session_ended", now, out);
    }
  } else {
    registry_.erase(st);  // while attached: a state that was never detached
    st->attached.reset();
  }
}

void server_core::publish_will(const owned_will& w, std::string_view reason, instant now, actions& out) {
  auto target = routes_.match(w.topic);
  if (!target) {
    stats_.dropped[static_cast<size_t>(target.error() == routes::match_error::no_route
                                           ? drop_reason::no_route
                                           : drop_reason::bad_target_topic)]++;
    return;
  }
  reading_source src;
  src.client_id = w.client_id;
  src.topic = w.topic;
  src.payload = w.payload;
  src.qos = static_cast<uint8_t>(w.qos);
  src.retain = w.retain;
  src.message_expiry_s = w.message_expiry_s;
  if (w.content_type) src.content_type = *w.content_type;
  src.payload_utf8 = w.payload_utf8;
  for (const auto& [k, v] : w.user_properties) src.user_properties.emplace_back(k, v);
  src.will_reason = reason;
  stats_.wills_published++;
  commit_token t = register_commit(connection_id(0), nullptr, 0, 0);
  out.push_back(
      submit_action{connection_id(0), t, 0, true, make_reading(config_, std::move(*target), src, now)});
}

actions server_core::on_committed(commit_token token, commit_result result, instant now) {
  actions out;
  TRIB_ASSERT(token.value >= pending_base_ && token.value - pending_base_ < pending_.size(),
              "a completion for a reading never submitted");
  pending_slot& slot = pending_[token.value - pending_base_];
  TRIB_ASSERT(!slot.done, "a reading completed twice");
  pending_commit pc = std::move(slot.pc);
  slot.done = true;
  --pending_live_;
  while (!pending_.empty() && pending_.front().done) {
    pending_.pop_front();
    ++pending_base_;
  }

  proto::reason_code reason = proto::reason_code::success;
  switch (result) {
    case commit_result::committed: break;
    case commit_result::quota_exceeded:
      stats_.dropped[static_cast<size_t>(drop_reason::quota_exceeded)]++;
      reason = proto::reason_code::quota_exceeded;
      break;
    case commit_result::rejected:
      stats_.dropped[static_cast<size_t>(drop_reason::rejected)]++;
      reason = proto::reason_code::implementation_specific_error;
      break;
    case commit_result::queue_full:
      stats_.dropped[static_cast<size_t>(drop_reason::queue_full)]++;
      reason = proto::reason_code::quota_exceeded;
      break;
    case commit_result::failed:
      stats_.dropped[static_cast<size_t>(drop_reason::commit_failed)]++;
      reason = proto::reason_code::unspecified_error;
      break;
  }
  const bool ok = result == commit_result::committed;
  if (pc.qos == 2 && pc.qos2_state) {
    auto q = pc.qos2_state->qos2.find(pc.id);
    if (q != pc.qos2_state->qos2.end() && q->second.token == token) {
      // Stored: a re-send of the id is answered without storing again, until PUBREL. Failed: the
      // id is forgotten, so a re-send is stored. Released early: the exchange is over.
      if (ok && !q->second.released) {
        q->second.stored = true;
      } else {
        pc.qos2_state->qos2.erase(q);
      }
    }
  }
  if (pc.qos == 0) return out;
  session* s = find(pc.conn);
  if (s == nullptr || s->ph != phase::connected) return out;
  // 3.1.1 has no way to say "refused": a reading that a retry may save (quota, failed commit) is
  // not acknowledged; one that no retry can save (rejected) is acknowledged and counted as dropped,
  // as 3.1.1 allows for publishes the server will not take [MQTT-3.3.5-2].
  bool send = true;
  if (!s->v5() && !ok && result != commit_result::rejected) send = false;
  if (!s->v5() && result == commit_result::rejected) reason = proto::reason_code::success;
  s->complete(token, reason, send, now, out);
  return out;
}

actions server_core::tick(instant now) {
  actions out;
  for (auto& [id, sp] : sessions_) {
    session& s = *sp;
    if (s.ended()) continue;
    if (s.ph == phase::connected && s.close_at_ms != 0 && now.mono_ms >= s.close_at_ms) {
      s.disconnect(proto::reason_code::quota_exceeded, end_cause::quota_backoff, now, out);
      continue;
    }
    if (s.deadline_ms == 0 || now.mono_ms < s.deadline_ms) continue;
    if (s.ph == phase::connected && (s.awaiting_commit > 0 || s.paused)) {
      // The gateway owes this client acknowledgements, or does not read it: its silence (or its
      // PINGREQ waiting in the socket) is ours, not the client's. The keep alive restarts.
      s.touch(now.mono_ms);
      continue;
    }
    if (s.ph == phase::connected) {
      TRIB_LOG_INFO(component, "keep alive expired", {"client", s.client_id},
                    {"keep_alive_s", s.keep_alive_s});
      s.disconnect(proto::reason_code::keep_alive_timeout, end_cause::keep_alive_timeout, now, out);
    } else {
      stats_.connects_refused[static_cast<uint8_t>(proto::reason_code::maximum_connect_time)]++;
      s.close(end_cause::refused, "no CONNECT in time", true, now, out);
    }
  }
  auto due = registry_.collect_due(now.mono_ms);
  for (auto& st : due.expired) {
    stats_.sessions_expired++;
    if (st->delayed_will) publish_will(*st->delayed_will, "session_expired", now, out);
  }
  for (auto& st : due.wills) {
    publish_will(*st->delayed_will, "will_delay_elapsed", now, out);
    st->delayed_will.reset();
  }
  return out;
}

actions server_core::shutdown(instant now) {
  actions out;
  for (auto& [id, sp] : sessions_) {
    session& s = *sp;
    if (s.ended()) continue;
    if (s.ph == phase::connected) {
      s.flush_acks(now, out);
      s.disconnect(proto::reason_code::server_shutting_down, end_cause::server_shutdown, now, out);
    } else {
      s.close(end_cause::refused, "shutting down", false, now, out);
    }
  }
  return out;
}

}  // namespace tributary::gateway::mqtt
