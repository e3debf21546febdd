#pragma once
// One MQTT client connection as the pure core sees it (what every handler works on), and the
// session state that may outlive it.
//
// A `session` lives from the TCP accept to the socket's close. Its phases:
//   awaiting_connect  the first packet must be a CONNECT (within connect_timeout_ms)
//   authenticating    the password is being checked off the loop; reading is paused
//   connected         CONNACK sent; packets are handled by handle_packet (handlers/handlers.h)
//   ended             the gateway or the peer ended it; the will (if due) went out; waiting for
//                     the socket to close. Nothing more is read or sent except what is queued.
//
// A `session_state` is what MQTT calls the session: the subscriptions and the QoS 2 packet ids
// received and not yet released. With clean start 0 (3.1.1: clean session 0) and, in 5.0, a session
// expiry interval above 0, it stays in memory (never on disk) after the connection ends, for the
// session expiry interval, and a reconnect with the same client id resumes it (session present 1).
//
// Acknowledgements: a QoS 1/2 PUBLISH is acknowledged (PUBACK, PUBREC) only after its reading is
// committed to the buffer. Every answer to a PUBLISH or PUBREL goes through one queue, `acks`, in
// the order the packets arrived, and leaves from its front once ready: the order of acknowledgements
// is the order of the publishes, whatever the order of commits.
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "gateway/mqtt/action.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/types.h"

namespace tributary::gateway::mqtt {

class server_core;

// A will message, copied out of the CONNECT (decoded packets only borrow their bytes).
struct owned_will {
  std::string client_id;
  std::string topic;
  std::vector<uint8_t> payload;
  proto::qos_level qos = proto::qos_level::at_most_once;
  bool retain = false;
  uint32_t delay_s = 0;  // 5.0 Will Delay Interval
  std::optional<uint32_t> message_expiry_s;
  std::optional<std::string> content_type;
  bool payload_utf8 = false;
  std::vector<std::pair<std::string, std::string>> user_properties;
};

// Why a connection ended: decides whether the will is published.
enum class end_cause : uint8_t {
  peer_closed,           // the socket closed without DISCONNECT: will
  normal_disconnect,     // DISCONNECT 0x00: no will
  disconnect_with_will,  // DISCONNECT 0x04 or any other 5.0 reason: will
  keep_alive_timeout,    // nothing received for 1.5 x keep alive: will
  protocol_error,        // malformed packet, protocol violation: will
  taken_over,            // a new connection with the same client id: will (unless it resumes a delayed one)
  quota_backoff,         // 3.1.1 client refused by a full buffer: no will (it reconnects)
  server_shutdown,       // SIGTERM: no will
  refused,               // CONNECT refused or never completed: no session, no will
};
std::string_view end_cause_name(end_cause c) noexcept;
bool sends_will(end_cause c) noexcept;

struct qos2_entry {
  commit_token token;
  bool stored = false;    // committed: PUBREC went (or goes) out
  bool released = false;  // PUBREL arrived before the commit finished
};

struct session_state {
  std::string client_id;
  std::map<std::string, proto::qos_level, std::less<>> subscriptions;
  size_t subscription_bytes = 0;                  // bytes of the filters in `subscriptions`
  std::unordered_map<uint16_t, qos2_entry> qos2;  // received QoS 2 ids until PUBREL
  std::optional<connection_id> attached;          // the connection using it
  bool persistent = false;                        // kept after the connection ends
  uint32_t expiry_s = 0;                          // session expiry interval (clamped)
  uint64_t expires_at_ms = 0;                     // monotonic, while detached
  std::unique_ptr<owned_will> delayed_will;       // 5.0 will delay: published at will_at_ms
  uint64_t will_at_ms = 0;
};

enum class phase : uint8_t { awaiting_connect, authenticating, connected, ended };

struct ack_entry {
  proto::packet_type type = proto::packet_type::puback;  // PUBACK, PUBREC or PUBCOMP
  uint16_t id = 0;
  commit_token token{0};  // the commit this answer waits for; 0 = none
  bool ready = false;
  bool send = true;       // false: a 3.1.1 refusal, never acknowledged (the connection backs off)
  bool inflight = false;  // a QoS 1 PUBLISH counted against the receive maximum until sent
  proto::reason_code reason = proto::reason_code::success;
};

// The answers waiting to go out, first in first out. A vector with a moving head rather than a
// std::deque, which allocates half a kilobyte up front: 10,000 idle sessions must stay small.
class ack_queue {
 public:
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  ack_entry& front() { return items_[head_]; }
  void push_back(const ack_entry& e) { items_.push_back(e); }
  void pop_front() {
    if (++head_ < items_.size()) return;
    items_.clear();
    head_ = 0;
    if (items_.capacity() > shrink_above) items_.shrink_to_fit();
  }
  auto begin() { return items_.begin() + static_cast<ptrdiff_t>(head_); }
  auto end() { return items_.end(); }

 private:
  static constexpr size_t shrink_above = 64;
  std::vector<ack_entry> items_;
  size_t head_ = 0;
};

// What a CONNECT asked for, kept while the password is checked.
struct connect_request {
  bool clean_start = true;
  uint32_t session_expiry_s = 0;
  uint16_t keep_alive_s = 0;
  bool client_id_assigned = false;
};

class session {
 public:
  session(server_core& core, connection_id id, uint64_t now_ms);

  server_core& core;
  const connection_id id;
  phase ph = phase::awaiting_connect;
  proto::protocol_version version = proto::protocol_version::v311;
  std::string client_id;
  std::optional<std::string> username;
  connect_request request;

  uint16_t keep_alive_s = 0;  // as enforced (after keep_alive_max_s)
  uint64_t deadline_ms = 0;   // connect timeout, then keep alive x 1.5 (0 = none)
  uint64_t close_at_ms = 0;   // 3.1.1 quota back-off: close then (0 = not scheduled)
  uint16_t client_receive_maximum = 65535;
  uint32_t client_max_packet_bytes = 0;  // 0 = no limit
  std::vector<std::string> aliases;      // topic alias i+1 -> topic ("" = unset); grown on first use
  size_t alias_bytes = 0;                // bytes of the topics in `aliases`

  ack_queue acks;
  size_t qos1_inflight = 0;    // QoS 1 PUBLISH packets not yet acknowledged
  size_t awaiting_commit = 0;  // acks entries waiting for a commit
  bool paused = false;         // the core asked the adapter to stop reading
  bool acks_blocked = false;   // 3.1.1: a refusal was met; nothing further is acknowledged

  std::unique_ptr<owned_will> will;  // a pointer: most sessions have none, and it is large
  std::shared_ptr<session_state> state;

  bool ended() const { return ph == phase::ended; }
  bool v5() const { return version == proto::protocol_version::v5; }
  const core_config& config() const;

  // Encodes `p` for this client and appends it to `out`, unless it is larger than the client's
  // Maximum Packet Size (5.0 says: then do not send it); reason strings and user properties are
  // never added, so only a client limit below our small packets drops one. Returns false if dropped.
  bool send(const proto::packet& p, actions& out) const;
  // Appends the encoding to `bytes` (for several packets in one write); false if over the limit.
  bool encode_into(const proto::packet& p, std::vector<uint8_t>& bytes) const;

  // Counts QoS 1 and 2 PUBLISH packets not yet completed (the receive maximum's count).
  size_t inflight() const;

  // Sends every ready answer at the front of `acks` (in one write) and updates pausing.
  void flush_acks(instant now, actions& out);
  // Marks the answers waiting for `token` ready with `reason`, then flushes.
  void complete(commit_token token, proto::reason_code reason, bool send, instant now, actions& out);

  // Refreshes the keep-alive deadline (every packet received).
  void touch(uint64_t now_ms);

  // 5.0: DISCONNECT with `reason`, then close; 3.1.1: close. Ends the session with `cause`.
  void disconnect(proto::reason_code reason, end_cause cause, instant now, actions& out);
  // Ends the session (will, session state) and closes without a word.
  void close(end_cause cause, std::string_view why, bool abort, instant now, actions& out);
  // Pauses or resumes reading, if that changes anything.
  void set_paused(bool pause, actions& out);
};

}  // namespace tributary::gateway::mqtt
