#pragma once
// server_core: the gateway's MQTT server as a pure state machine. No sockets, no clock, no disk:
// the adapter (server.h) feeds it connection events, frames, commit outcomes, password checks and
// time, and carries out the actions it returns (action.h). Tests drive it the same way, packet by
// packet, with made-up times.
//
//   core.on_open(conn, now)                     a TCP connection was accepted
//   core.on_frame(conn, frame, now)             one whole MQTT packet (uv::frame_mqtt cut it)
//   core.on_frame_error(conn, too_large, now)   the stream cannot be framed
//   core.on_closed(conn, now)                   the socket is gone (whoever closed it)
//   core.on_authenticated(conn, outcome, now)   answer to a verify_action
//   core.on_committed(token, result, now)       answer to a submit_action
//   core.tick(now)                              keep-alive, connect timeouts, session expiry, wills
//   core.shutdown(now)                          SIGTERM: DISCONNECT 0x8B (5.0) and close everyone
//
// The gateway is an ingest point: SUBSCRIBE is accepted and recorded (so devices that subscribe to
// a command topic connect normally) but nothing is ever delivered to subscribers, and retained
// messages are not kept (a retained PUBLISH is stored like any other, with a header saying so).
//
// Will messages are published INTO THE STREAM: routed like a PUBLISH of the will topic and payload,
// with the header tributary.event=will (a device-offline event). They go out when the connection
// ends without DISCONNECT 0x00: abrupt close, keep-alive expiry, protocol error, takeover, or a 5.0
// DISCONNECT with another reason (0x04). A 5.0 will delay interval is honoured for persistent
// sessions (a reconnect within the delay cancels the will). Not on gateway shutdown.
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/bytes.h"
#include "gateway/mqtt/action.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/registry.h"
#include "gateway/mqtt/session.h"
#include "gateway/mqtt/stats.h"
#include "gateway/routes/route_table.h"

namespace tributary::gateway::mqtt {

// Header names of a reading (Kafka record headers).
namespace header {
inline constexpr std::string_view gateway = "tributary.gateway";        // gateway.id
inline constexpr std::string_view client_id = "tributary.client_id";    // MQTT client identifier
inline constexpr std::string_view mqtt_topic = "tributary.mqtt_topic";  // the PUBLISH topic (alias resolved)
inline constexpr std::string_view mqtt_qos = "tributary.mqtt_qos";      // "0", "1" or "2"
inline constexpr std::string_view receive_ms = "tributary.receive_ms";  // Unix ms, decimal
inline constexpr std::string_view mqtt_retain = "tributary.mqtt_retain";  // "1" when the retain flag was set
inline constexpr std::string_view content_type = "tributary.content_type";      // 5.0 Content Type
inline constexpr std::string_view payload_format = "tributary.payload_format";  // "utf-8" (5.0 indicator 1)
inline constexpr std::string_view event = "tributary.event";                    // "will" for a will message
inline constexpr std::string_view will_reason = "tributary.will_reason";        // why the will went out
// 5.0 user properties follow as headers of their own names (except names starting "tributary.").
inline constexpr std::string_view reserved_prefix = "tributary.";
}  // namespace header

class server_core {
 public:
  server_core(core_config config, const routes::route_table& routes);
  server_core(const server_core&) = delete;
  server_core& operator=(const server_core&) = delete;
  ~server_core();

  actions on_open(connection_id conn, instant now);
  actions on_frame(connection_id conn, byte_span frame, instant now);
  // The framing layer refused the stream: a packet over max_packet_bytes (`too_large`) or a bad
  // remaining length.
  actions on_frame_error(connection_id conn, bool too_large, instant now);
  actions on_closed(connection_id conn, instant now);
  actions on_authenticated(connection_id conn, auth_outcome outcome, instant now);
  actions on_committed(commit_token token, commit_result result, instant now);
  actions tick(instant now);
  actions shutdown(instant now);

  const core_stats& stats() const { return stats_; }
  size_t connection_count() const { return sessions_.size(); }
  size_t connected_count() const;
  size_t session_count() const { return registry_.size(); }
  size_t detached_session_count() const { return registry_.detached(); }
  size_t pending_commits() const { return pending_live_; }
  const core_config& config() const { return config_; }

  // --- for the handlers ------------------------------------------------------------------------
  const routes::route_table& routes() const { return routes_; }
  core_stats& mutable_stats() { return stats_; }
  session_registry& registry() { return registry_; }
  session* find(connection_id conn);
  // Registers a reading about to be submitted; its completion comes back through on_committed.
  commit_token register_commit(connection_id conn, std::shared_ptr<session_state> qos2_state, uint16_t id,
                               uint8_t qos);
  // A client identifier for a CONNECT that gave none, unused by any session.
  std::string assign_client_id();
  // CONNECT accepted (after the password check): takeover, session state, CONNACK.
  void accept_connect(session& s, instant now, actions& out);
  // Refuses a CONNECT with `reason` (mapped to a 3.1.1 return code) and closes.
  void refuse_connect(session& s, proto::reason_code reason, instant now, actions& out);
  // The session leaves the connected world: will, session state. Once per session.
  void end_session(session& s, end_cause cause, instant now, actions& out);
  // Routes the will into the buffer (no acknowledgement waits for it).
  void publish_will(const owned_will& w, std::string_view reason, instant now, actions& out);

 private:
  struct pending_commit {
    connection_id conn;
    std::shared_ptr<session_state> qos2_state;  // QoS 2: where the id's state lives
    uint16_t id = 0;
    uint8_t qos = 0;
  };
  void discard_state(const std::shared_ptr<session_state>& st, instant now, actions& out);
  void connect_decode_failed(session& s, byte_span frame, std::error_code ec, instant now, actions& out);

  core_config config_;
  const routes::route_table& routes_;
  core_stats stats_;
  session_registry registry_;
  std::unordered_map<connection_id, std::unique_ptr<session>> sessions_;
  // Readings submitted and not yet completed, by token: tokens are consecutive, so a queue whose front
  // is token pending_base_ (completions may come out of order: a slot is marked, and the front is
  // popped while done). No allocation per reading.
  struct pending_slot {
    pending_commit pc;
    bool done = false;
  };
  std::deque<pending_slot> pending_;
  uint64_t pending_base_ = 1;
  size_t pending_live_ = 0;
  uint64_t next_token_ = 1;
  uint64_t next_client_id_ = 1;
};

}  // namespace tributary::gateway::mqtt
