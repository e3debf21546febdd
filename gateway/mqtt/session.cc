#include "gateway/mqtt/session.h"

#include <algorithm>

#include "common/assert.h"
#include "common/mqtt/codec.h"
#include "gateway/mqtt/core.h"

namespace tributary::gateway::mqtt {

std::string_view end_cause_name(end_cause c) noexcept {
  switch (c) {
    case end_cause::peer_closed: return "connection_lost";
    case end_cause::normal_disconnect: return "normal_disconnect";
    case end_cause::disconnect_with_will: return "disconnect_with_will";
    case end_cause::keep_alive_timeout: return "keep_alive_timeout";
    case end_cause::protocol_error: return "protocol_error";
    case end_cause::taken_over: return "session_taken_over";
    case end_cause::quota_backoff: return "quota_backoff";
    case end_cause::server_shutdown: return "server_shutdown";
    case end_cause::refused: return "refused";
  }
  return "unknown";
}

bool sends_will(end_cause c) noexcept {
  switch (c) {
    case end_cause::peer_closed:
    case end_cause::disconnect_with_will:
    case end_cause::keep_alive_timeout:
    case end_cause::protocol_error:
    case end_cause::taken_over: return true;
    case end_cause::normal_disconnect:
    case end_cause::quota_backoff:
    case end_cause::server_shutdown:
    case end_cause::refused: return false;
  }
  return false;
}

session::session(server_core& c, connection_id conn, uint64_t now_ms) : core(c), id(conn) {
  deadline_ms = now_ms + c.config().connect_timeout_ms;
}

const core_config& session::config() const { return core.config(); }

bool session::encode_into(const proto::packet& p, std::vector<uint8_t>& bytes) const {
  const size_t size = proto::encoded_size(p, version);
  if (client_max_packet_bytes != 0 && size > client_max_packet_bytes) return false;
  // One allocation per packet at most (the encoder appends field by field).
  if (bytes.capacity() - bytes.size() < size)
    bytes.reserve(std::max(bytes.size() + size, 2 * bytes.capacity()));
  byte_writer w(std::move(bytes));
  proto::encode(p, version, w);
  bytes = w.take();
  return true;
}

bool session::send(const proto::packet& p, actions& out) const {
  std::vector<uint8_t> bytes;
  if (!encode_into(p, bytes)) return false;
  out.push_back(send_action{id, std::move(bytes)});
  return true;
}

size_t session::inflight() const { return qos1_inflight + (state ? state->qos2.size() : 0); }

void session::set_paused(bool pause, actions& out) {
  if (paused == pause || ended()) return;
  paused = pause;
  out.push_back(pause_action{id, pause});
}

void session::touch(uint64_t now_ms) {
  if (ph == phase::connected) deadline_ms = keep_alive_s == 0 ? 0 : now_ms + uint64_t{keep_alive_s} * 1500;
}

void session::flush_acks(instant now, actions& out) {
  std::vector<uint8_t> bytes;
  while (!acks.empty() && acks.front().ready) {
    ack_entry e = acks.front();
    acks.pop_front();
    if (e.inflight) {
      TRIB_ASSERT(qos1_inflight > 0);
      --qos1_inflight;
    }
    if (ended() || acks_blocked) continue;
    if (!e.send) {
      // 3.1.1 cannot say "refused": nothing from here on is acknowledged, and the connection closes
      // after a back-off so the client reconnects and re-sends what it has not seen acknowledged.
      acks_blocked = true;
      close_at_ms = now.mono_ms + config().quota_backoff_ms;
      continue;
    }
    switch (e.type) {
      case proto::packet_type::puback:
        encode_into(proto::puback_packet{proto::packet_id(e.id), e.reason, {}}, bytes);
        break;
      case proto::packet_type::pubrec:
        encode_into(proto::pubrec_packet{proto::packet_id(e.id), e.reason, {}}, bytes);
        break;
      case proto::packet_type::pubcomp:
        encode_into(proto::pubcomp_packet{proto::packet_id(e.id), e.reason, {}}, bytes);
        break;
      default: TRIB_ASSERT(false, "only PUBACK, PUBREC and PUBCOMP are queued");
    }
  }
  if (!bytes.empty()) out.push_back(send_action{id, std::move(bytes)});
  if (ended()) return;
  // 3.1.1 has no receive maximum: the TCP window is the flow control. Reading pauses while
  // receive_maximum readings wait for their commit, and stays paused once acknowledgements stopped.
  if (!v5() && ph == phase::connected)
    set_paused(acks_blocked || awaiting_commit >= config().receive_maximum, out);
}

void session::complete(commit_token token, proto::reason_code reason, bool send_it, instant now,
                       actions& out) {
  for (auto& e : acks) {
    if (e.token != token || e.ready) continue;
    e.ready = true;
    e.reason = reason;
    e.send = send_it;
    TRIB_ASSERT(awaiting_commit > 0);
    --awaiting_commit;
  }
  flush_acks(now, out);
}

void session::disconnect(proto::reason_code reason, end_cause cause, instant now, actions& out) {
  if (ended()) return;
  if (v5() && ph == phase::connected) {
    // With a Reason String ("session taken over"): some clients (python paho 1.6) read the reason
    // code only from a DISCONNECT that carries properties. Without it if the client's limit says so.
    std::string text(proto::reason_code_name(reason));
    std::replace(text.begin(), text.end(), '_', ' ');
    proto::disconnect_packet d{reason, {}};
    d.props.reason_string = text;
    if (!send(d, out)) send(proto::disconnect_packet{reason, {}}, out);
  }
  core.mutable_stats().disconnects[static_cast<uint8_t>(reason)]++;
  close(cause, proto::reason_code_name(reason), false, now, out);
}

void session::close(end_cause cause, std::string_view why, bool abort, instant now, actions& out) {
  if (ended()) return;
  core.end_session(*this, cause, now, out);
  out.push_back(close_action{id, abort, why});
}

}  // namespace tributary::gateway::mqtt
