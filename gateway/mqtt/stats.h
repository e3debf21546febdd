#pragma once
// What the session core counts. Plain integers, updated and read on the loop thread (the adapter
// exports them as callback metrics; /metrics is rendered on the loop thread).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace tributary::gateway::mqtt {

// Why a reading did not reach the buffer.
enum class drop_reason : uint8_t {
  no_route,          // no route matched and routes.unmatched is refuse
  bad_target_topic,  // the route's topic template expanded to an invalid topic name
  quota_exceeded,    // the buffer is full (overflow policy reject)
  rejected,          // the buffer refused the reading (too large, invalid)
  queue_full,        // QoS 0: the commit queue was full
  commit_failed,     // the transaction failed
  count_,
};
inline constexpr size_t drop_reason_count = static_cast<size_t>(drop_reason::count_);
std::string_view drop_reason_name(drop_reason r) noexcept;

struct core_stats {
  uint64_t connects_accepted = 0;
  std::array<uint64_t, 256> connects_refused{};  // by 5.0 reason code (3.1.1 refusals mapped)
  std::array<uint64_t, 256> disconnects{};       // connections the gateway ended, by 5.0 reason code
  std::array<uint64_t, 3> publishes{};           // PUBLISH packets received, by QoS
  uint64_t publish_payload_bytes = 0;
  uint64_t qos2_duplicates = 0;  // QoS 2 PUBLISH re-sent before PUBREL: acknowledged, stored once
  std::array<uint64_t, drop_reason_count> dropped{};
  uint64_t wills_published = 0;
  uint64_t wills_cancelled = 0;  // delayed wills cancelled by a reconnect
  uint64_t keep_alive_timeouts = 0;
  uint64_t takeovers = 0;
  uint64_t sessions_resumed = 0;
  uint64_t sessions_expired = 0;
  uint64_t sessions_evicted = 0;  // mqtt.sessions_max reached
  uint64_t auth_failures = 0;
  uint64_t subscriptions = 0;    // topic filters accepted (never delivered to: see server.h)
  uint64_t ignored_packets = 0;  // PUBACK, PUBREC, PUBCOMP from a client (the gateway sends no PUBLISH)

  uint64_t dropped_total() const {
    uint64_t n = 0;
    for (auto d : dropped) n += d;
    return n;
  }
};

}  // namespace tributary::gateway::mqtt
