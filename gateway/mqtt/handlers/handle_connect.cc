#include <algorithm>

#include "gateway/mqtt/core.h"
#include "gateway/mqtt/handlers/handlers.h"

namespace tributary::gateway::mqtt::handlers {
namespace {

owned_will copy_will(const proto::will_message& w, std::string_view client_id) {
  owned_will o;
  o.client_id = std::string(client_id);
  o.topic = std::string(w.topic);
  o.payload.assign(w.payload.begin(), w.payload.end());
  o.qos = w.qos;
  o.retain = w.retain;
  o.delay_s = w.props.will_delay_interval_s.value_or(0);
  o.message_expiry_s = w.props.message_expiry_interval_s;
  if (w.props.content_type) o.content_type = std::string(*w.props.content_type);
  o.payload_utf8 = w.props.payload_format_indicator == 1;
  for (const auto& up : w.props.user_properties) o.user_properties.emplace_back(up.name, up.value);
  return o;
}

}  // namespace

// CONNECT: the first packet of a connection (a second one is a protocol error).
//  - Enhanced authentication (5.0 Authentication Method) is not offered: CONNACK 0x8C.
//  - The client id: at most client_id_bytes_max bytes (else 0x85 / return code 0x02); empty gets one
//    assigned (5.0 tells it in Assigned Client Identifier; 3.1.1 allows it with clean session only,
//    which the codec checked).
//  - A will larger than will_bytes_max (topic + payload) is refused: 0x95 / 0x03.
//  - Keep alive is capped by keep_alive_max_s (5.0: Server Keep Alive says so) and enforced at 1.5x.
//  - Credentials: no user name needs auth.anonymous (else 0x87 / 0x05); a user name with a password
//    file configured is verified off the loop (verify_action; reading pauses meanwhile); wrong
//    credentials get 0x86 / 0x04. Without a password file, user names are not checked.
//  - Then server_core::accept_connect: takeover, session state, CONNACK.
actions handle_connect(session& s, const proto::connect_packet& p, instant now) {
  actions out;
  if (s.ph != phase::awaiting_connect) return protocol_violation(s, "second CONNECT", now);
  server_core& core = s.core;
  const core_config& cfg = s.config();
  s.version = p.version;
  s.ph = phase::authenticating;  // past the first packet: no CONNECT is accepted any more
  if (p.props.authentication_method) {
    core.refuse_connect(s, proto::reason_code::bad_authentication_method, now, out);
    return out;
  }
  if (p.client_id.size() > cfg.client_id_bytes_max) {
    core.refuse_connect(s, proto::reason_code::client_identifier_not_valid, now, out);
    return out;
  }
  if (p.will && p.will->topic.size() + p.will->payload.size() > cfg.will_bytes_max) {
    core.refuse_connect(s, proto::reason_code::packet_too_large, now, out);
    return out;
  }
  if (p.client_id.empty()) {
    s.client_id = core.assign_client_id();
    s.request.client_id_assigned = true;
  } else {
    s.client_id = std::string(p.client_id);
  }
  s.request.clean_start = p.clean_start;
  s.request.session_expiry_s = p.props.session_expiry_interval_s.value_or(0);
  s.request.keep_alive_s = p.keep_alive_s;
  s.keep_alive_s = p.keep_alive_s;
  if (cfg.keep_alive_max_s != 0 && (s.keep_alive_s == 0 || s.keep_alive_s > cfg.keep_alive_max_s))
    s.keep_alive_s = cfg.keep_alive_max_s;
  s.client_receive_maximum = p.props.receive_maximum.value_or(65535);
  s.client_max_packet_bytes = p.props.maximum_packet_size.value_or(0);
  if (p.will) s.will = std::make_unique<owned_will>(copy_will(*p.will, s.client_id));
  if (p.username) s.username = std::string(*p.username);

  if (!p.username) {
    if (!cfg.anonymous) {
      core.refuse_connect(s, proto::reason_code::not_authorized, now, out);
      return out;
    }
  } else if (cfg.passwords) {
    std::vector<uint8_t> password;
    if (p.password) password.assign(p.password->begin(), p.password->end());
    s.set_paused(true, out);
    out.push_back(verify_action{s.id, *s.username, std::move(password)});
    return out;
  }
  core.accept_connect(s, now, out);
  return out;
}

}  // namespace tributary::gateway::mqtt::handlers
