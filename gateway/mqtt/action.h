#pragma once
// What the session core asks its adapter to do. Handlers return a list of actions; the adapter
// carries them out in order.
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "gateway/buffer/reading.h"
#include "gateway/mqtt/types.h"

namespace tributary::gateway::mqtt {

// Write these bytes (one or more encoded packets) to the connection.
struct send_action {
  connection_id conn;
  std::vector<uint8_t> bytes;
};

// Hand the reading to the buffer's group committer and report the outcome with on_committed(token).
// QoS 0 readings may be dropped when the commit queue is full (report queue_full); QoS 1/2 and will
// readings must wait for room.
struct submit_action {
  connection_id conn;
  commit_token token;
  uint8_t qos = 0;
  bool will = false;
  buffer::reading row;
};

// Check the user name and password (off the event loop: PBKDF2 is slow on purpose) and report with
// on_authenticated(conn, ok).
struct verify_action {
  connection_id conn;
  std::string username;
  std::vector<uint8_t> password;
};

// Close the connection: gracefully (pending writes are flushed first) or with a reset.
struct close_action {
  connection_id conn;
  bool abort = false;
  std::string_view why;  // a static string, for the log
};

// Stop or restart reading frames from the connection.
struct pause_action {
  connection_id conn;
  bool pause = true;
};

using action = std::variant<send_action, submit_action, verify_action, close_action, pause_action>;
using actions = std::vector<action>;

}  // namespace tributary::gateway::mqtt
