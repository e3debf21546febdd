#pragma once
// client_core: the bridge's MQTT client session as a pure state machine. No sockets, no clock, no
// disk: the adapter (bridge.h) feeds it connection events, frames, commit outcomes and time, and
// carries out the actions it returns. Tests drive it the same way.
//
//   core.tick(now)                  retry the connection when its backoff is over; keep alive
//   core.on_connected(now)          the TCP connection to the broker is up: CONNECT goes out
//   core.on_connect_failed(now)     the TCP connect failed: retry after the backoff
//   core.on_frame(frame, now)       one whole MQTT packet from the broker
//   core.on_closed(now)             the connection is gone (whoever closed it)
//   core.on_committed(token, r, now)  the buffer's answer to a submit_action
//   core.shutdown(now)              stop: DISCONNECT, close, never reconnect
//
// The point of the bridge: a QoS 1 PUBLISH is answered with PUBACK (QoS 2: PUBREC) only after its
// reading is committed to the buffer, so a gateway killed between receipt and commit has not
// acknowledged it and the broker redelivers it (persistent session, clean session false). That is
// why this is our own client: Paho acknowledges before the application has the message (see the
// notes of issue 7).
//
// Acknowledgements keep the order the PUBLISH packets arrived in ([MQTT-4.6.0-2]): they queue in
// arrival order and go out from the front as their commits complete. A commit that completes after
// its connection ended is not acknowledged on the next connection: the broker re-sends the message
// there (at least once; the duplicates are bounded by the in-flight window) and its packet id may
// already name another message. A commit that fails (quota full, I/O error) is never acknowledged:
// the connection is closed and the broker re-sends after the reconnect backoff.
//
// Flow control: at most inflight_max QoS 1/2 readings wait for their commit; at that many the
// adapter stops reading the socket (pause_action). 5.0 advertises it as Receive Maximum.
//
// Subscriptions: SUBSCRIBE goes out on the first connection of the process and whenever the broker
// reports no session (CONNACK session present 0); a resumed session keeps its subscriptions.
//
// Reconnects: after a failed connect or a lost connection the next attempt waits reconnect_min_ms,
// doubling up to reconnect_max_ms; an accepted CONNACK resets it.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "gateway/bridge/bridge_config.h"
#include "gateway/buffer/reading.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/types.h"
#include "gateway/routes/route_table.h"

namespace tributary::gateway::bridge {

namespace proto = ::tributary::mqtt;
using mqtt::commit_result;
using mqtt::commit_token;
using mqtt::instant;

// Open a TCP connection to the broker; report on_connected or on_connect_failed.
struct connect_action {};
// Write these bytes (one or more encoded packets).
struct send_action {
  std::vector<uint8_t> bytes;
};
// Hand the reading to the buffer; report with on_committed(token).
struct submit_action {
  commit_token token;
  uint8_t qos = 0;
  buffer::reading row;
};
// Close the connection: gracefully (pending writes first) or with a reset. on_closed follows.
struct close_action {
  bool abort = false;
  std::string_view why;  // static text, for the log
};
// Stop or restart reading frames from the connection.
struct pause_action {
  bool pause = true;
};
// Something the operator should read in the log (the adapter logs it).
struct note_action {
  std::string_view event;  // static text: "connected", "connect_refused", ...
  std::string detail;
  bool warning = false;
};

using action =
    std::variant<connect_action, send_action, submit_action, close_action, pause_action, note_action>;
using actions = std::vector<action>;

enum class link_state : uint8_t {
  idle,              // waiting for the next connect attempt
  connecting,        // TCP connect in progress
  awaiting_connack,  // CONNECT sent
  connected,         // CONNACK accepted
  closing,           // close asked, waiting for on_closed
  stopped,           // shut down: no more connects
};

struct client_stats {
  uint64_t connect_attempts = 0;    // TCP connects started
  uint64_t connects = 0;            // CONNACK accepted
  uint64_t reconnects = 0;          // CONNACK accepted after an earlier connection was lost
  uint64_t connect_failures = 0;    // TCP connect failed, CONNACK refused or timed out
  uint64_t connections_lost = 0;    // an accepted connection ended (not by shutdown)
  uint64_t messages[3] = {};        // PUBLISH received, by QoS
  uint64_t redelivered = 0;         // PUBLISH with the DUP flag
  uint64_t qos2_duplicates = 0;     // QoS 2 PUBLISH for an id already stored: not stored again
  uint64_t no_route = 0;            // no route matched: acknowledged and dropped
  uint64_t bad_target_topic = 0;    // the route expanded to an invalid Kafka topic: dropped
  uint64_t commit_failures = 0;     // the buffer refused or failed a reading (QoS 1/2: not acknowledged)
  uint64_t stale_commits = 0;       // committed after its connection ended: not acknowledged
  uint64_t subscribe_failures = 0;  // SUBACK refused a filter
  uint64_t keep_alive_timeouts = 0;
  uint64_t protocol_errors = 0;  // undecodable or unexpected packets from the broker
};

class client_core {
 public:
  // `mqtt_config` gives the gateway id, user property limit (make_reading); the routes must outlive
  // the core. Precondition: cfg passed validation (gateway_config.cc).
  client_core(bridge_config cfg, mqtt::core_config mqtt_config, const routes::route_table& routes);

  actions tick(instant now);
  actions on_connected(instant now);
  actions on_connect_failed(instant now);
  actions on_frame(byte_span frame, instant now);
  actions on_frame_error(bool too_large, instant now);
  actions on_closed(instant now);
  actions on_committed(commit_token token, commit_result result, instant now);
  actions shutdown(instant now);

  link_state state() const { return state_; }
  bool connected() const { return state_ == link_state::connected; }
  const client_stats& stats() const { return stats_; }
  size_t awaiting_commit() const { return awaiting_commit_; }
  size_t pending_commits() const { return pending_.size(); }
  uint64_t next_attempt_ms() const { return next_attempt_ms_; }
  uint64_t backoff_ms() const { return backoff_ms_; }
  const bridge_config& config() const { return cfg_; }

 private:
  struct pending_commit {
    uint64_t epoch = 0;  // the connection it arrived on
    uint8_t qos = 0;
    uint16_t id = 0;
  };
  struct ack_entry {
    proto::packet_type type = proto::packet_type::puback;
    uint16_t id = 0;
    uint64_t token = 0;  // 0: ready now
    bool ready = false;
  };
  struct qos2_entry {
    uint64_t token = 0;
    bool stored = false;
  };

  template <class P>
  void send(const P& p, actions& out);
  void start_connect(instant now, actions& out);
  void close(bool abort, std::string_view why, actions& out);
  void schedule_retry(instant now);
  void on_connack(const proto::connack_packet& p, instant now, actions& out);
  void on_publish(const proto::publish_packet& p, instant now, actions& out);
  void on_suback(const proto::suback_packet& p, actions& out);
  void on_pubrel(const proto::pubrel_packet& p, actions& out);
  void flush_acks(actions& out);
  void update_pause(actions& out);
  void protocol_error(std::string detail, actions& out);

  bridge_config cfg_;
  mqtt::core_config mqtt_cfg_;
  const routes::route_table& routes_;
  client_stats stats_;
  link_state state_ = link_state::idle;
  uint64_t epoch_ = 0;  // connection number; commits remember theirs
  uint64_t next_attempt_ms_ = 0;
  uint64_t backoff_ms_ = 0;
  uint64_t phase_started_ms_ = 0;  // connect or CONNECT sent: for connect_timeout_ms
  uint64_t last_sent_ms_ = 0;
  uint64_t last_received_ms_ = 0;
  uint16_t keep_alive_s_ = 0;  // bridge.keep_alive_s, or the 5.0 Server Keep Alive
  bool session_up_ = false;    // this connection got its CONNACK
  bool ever_connected_ = false;
  bool subscribed_ = false;  // this process has subscribed once
  bool ping_outstanding_ = false;
  bool paused_ = false;
  uint64_t next_token_ = 1;
  std::unordered_map<uint64_t, pending_commit> pending_;  // by token
  std::deque<ack_entry> acks_;                            // this connection's, in arrival order
  size_t awaiting_commit_ = 0;                            // QoS 1/2 acks not ready yet
  std::unordered_map<uint16_t, qos2_entry> qos2_;         // QoS 2 ids received, not yet released
};

}  // namespace tributary::gateway::bridge
