#pragma once
// Vocabulary of the gateway's MQTT session core: connection ids, commit tokens, time.
#include <cstdint>

#include "common/mqtt/packet.h"
#include "common/strong_type.h"

namespace tributary::gateway::mqtt {

// The packet codec (common/mqtt), under a short name: `proto::publish_packet`.
namespace proto = ::tributary::mqtt;

// One network connection, assigned by the adapter, never reused within a process.
using connection_id = strong<uint64_t, struct connection_id_tag>;
// One reading handed to the buffer; its completion comes back with the same token.
using commit_token = strong<uint64_t, struct commit_token_tag>;

// Time as the core sees it, always passed in (the core never reads a clock): a monotonic clock for
// deadlines (keep alive, session expiry) and the wall clock for the readings' receive time.
struct instant {
  uint64_t mono_ms = 0;
  int64_t unix_ms = 0;
};

// How the buffer answered a submitted reading.
enum class commit_result : uint8_t {
  committed,       // on disk: acknowledge
  quota_exceeded,  // the buffer is full and its overflow policy is reject
  rejected,        // the buffer refuses this reading for good (too large, invalid)
  queue_full,      // QoS 0 only: the commit queue was full, the reading was dropped
  failed,          // the transaction failed (I/O error, disk full, shutting down)
};

// How a password check (verify_action) ended.
enum class auth_outcome : uint8_t {
  accepted,
  refused,  // unknown user or wrong password: CONNACK 0x86 (3.1.1: 0x04)
  busy,     // too many checks queued: CONNACK 0x89 server busy (3.1.1: 0x03 server unavailable)
};

}  // namespace tributary::gateway::mqtt
