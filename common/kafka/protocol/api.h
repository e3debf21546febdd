#pragma once
// Kafka API keys, the version range and flexible threshold of each API this codec describes, and
// the header-version rules that follow from them.
#include <cstdint>
#include <limits>
#include <string_view>

namespace tributary::kafka::protocol {

// Any int16 is a valid api_key value; the named ones are those described in messages/.
enum class api_key : int16_t {
  produce = 0,
  fetch = 1,
  list_offsets = 2,
  metadata = 3,
  offset_commit = 8,
  offset_fetch = 9,
  find_coordinator = 10,
  join_group = 11,
  heartbeat = 12,
  leave_group = 13,
  sync_group = 14,
  describe_groups = 15,
  list_groups = 16,
  sasl_handshake = 17,
  api_versions = 18,
  create_topics = 19,
  delete_topics = 20,
  init_producer_id = 22,
  describe_configs = 32,
  sasl_authenticate = 36,
  delete_groups = 42,
};

inline constexpr int16_t k_never_flexible = std::numeric_limits<int16_t>::max();

// What this codec knows of one API: the versions it can decode and encode, and the first flexible
// version (KIP-482: compact lengths and tagged fields from there on).
struct api_info {
  api_key key;
  std::string_view name;  // "Metadata", as in the protocol guide
  int16_t min_version;
  int16_t max_version;
  int16_t first_flexible;  // k_never_flexible if no described version is flexible

  constexpr bool supports(int16_t v) const { return v >= min_version && v <= max_version; }
  constexpr bool flexible(int16_t v) const { return v >= first_flexible; }
};

// Request header v1 (api_key, api_version, correlation_id, client_id) for classic versions, v2 (v1 +
// tagged fields) for flexible ones. (v0, without client_id, is used only by ControlledShutdown v0,
// which this codec does not describe.)
constexpr int16_t request_header_version(const api_info& api, int16_t version) {
  return api.flexible(version) ? 2 : 1;
}

// Response header v0 (correlation_id) for classic versions, v1 (v0 + tagged fields) for flexible
// ones, except ApiVersions: always v0, so that a client can read the reply of a version it sent
// before it knows what the broker supports.
constexpr int16_t response_header_version(const api_info& api, int16_t version) {
  if (api.key == api_key::api_versions) return 0;
  return api.flexible(version) ? 1 : 0;
}

}  // namespace tributary::kafka::protocol
