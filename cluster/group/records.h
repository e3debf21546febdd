#pragma once
// The records of the internal topic __consumer_offsets: what the coordinator persists, as Kafka
// records (key, value) in the group's partition. Pure encode/decode; the adapter appends and replays.
//
// Key (big-endian, Kafka's string = int16 length + bytes):
//   version i16 = 1: offset commit   group string | topic string | partition i32   (Kafka's layout)
//   version i16 = 2: group metadata  group string
// Value (null = tombstone: the offset was deleted / the group is gone):
//   offset v1: version i16 = 1 | offset i64 | leader_epoch i32 | metadata nullable string |
//              commit_time_ms i64
//   group  v1: version i16 = 1 | state i8 (0 Empty, 3 Stable) | generation i32 | protocol_type string |
//              protocol_name string | leader string | members i32, each: member_id string |
//              instance_id nullable string | client_id string | client_host string |
//              session_timeout_ms i32 | rebalance_timeout_ms i32 | metadata bytes | assignment bytes
// The values are our own (Kafka's value schemas differ); a reader skips keys of other versions.
//
// Replay is in log order and the last record of a key wins, so the log can be compacted by writing
// the live state again (see group_service: snapshots of a partition's groups) and dropping what lies
// before it.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cluster/group/coordinator.h"
#include "common/bytes.h"
#include "common/result.h"

namespace tributary::cluster::group {

inline constexpr int16_t offset_key_version = 1;
inline constexpr int16_t group_key_version = 2;

struct offset_key {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const offset_key&) const = default;
};
struct group_key {
  std::string group;
  bool operator==(const group_key&) const = default;
};
using record_key = std::variant<offset_key, group_key>;

std::vector<uint8_t> encode_key(const record_key& k);
std::vector<uint8_t> encode_offset_value(const committed_offset& c);
std::vector<uint8_t> encode_group_value(const group_snapshot& s);

// nullopt: a key of a version this code does not know (skipped). Errors: malformed bytes.
result<std::optional<record_key>> decode_key(byte_span key);
result<committed_offset> decode_offset_value(byte_span value);
// The snapshot's id is the key's group; the caller sets it.
result<group_snapshot> decode_group_value(byte_span value);

// The __consumer_offsets partition of a group: a stable hash (FNV-1a 32 of the id) modulo the
// partition count. (Kafka uses Java's String.hashCode; the exact function only has to stay fixed.)
int32_t partition_for(std::string_view group_id, int32_t partitions);

}  // namespace tributary::cluster::group
