#pragma once
// The topics of a single node: names, partition counts and per-topic configs, kept in
// `<data-dir>/topics.json` (written atomically: temp file, fsync, rename, fsync of the directory).
// In a cluster the controller's Raft group holds the same table; this file is the embedded default.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tributary::cluster::broker {

enum class topic_errc {
  invalid_name = 1,     // INVALID_TOPIC_EXCEPTION
  already_exists,       // TOPIC_ALREADY_EXISTS
  unknown_topic,        // UNKNOWN_TOPIC_OR_PARTITION
  invalid_partitions,   // INVALID_PARTITIONS
  invalid_config,       // INVALID_CONFIG
  invalid_replication,  // INVALID_REPLICATION_FACTOR (cluster mode: more replicas than live nodes)
  io_error,             // the table could not be written
  bad_file,             // topics.json unreadable or malformed
};
inline std::error_code make_error_code(topic_errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::broker

template <>
struct tributary::errc_info<tributary::cluster::broker::topic_errc> {
  static constexpr const char* name = "topic";
  static const char* message(tributary::cluster::broker::topic_errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::broker::topic_errc> : std::true_type {};

namespace tributary::cluster::broker {

// Per-topic settings, with Kafka's config names. Unset values fall back to the broker's defaults.
struct topic_config {
  std::optional<int64_t> retention_ms;       // retention.ms (-1 = forever)
  std::optional<int64_t> retention_bytes;    // retention.bytes (-1 = no limit)
  std::optional<int64_t> segment_bytes;      // segment.bytes
  std::optional<int64_t> segment_ms;         // segment.ms
  std::optional<int32_t> max_message_bytes;  // max.message.bytes: largest batch accepted
  std::optional<bool> log_append_time;       // message.timestamp.type = LogAppendTime

  // Sets one config by its Kafka name from its string value; INVALID_CONFIG on unknown names or values.
  result<void> set(std::string_view name, std::string_view value);
  // The configs that are set, as (name, value) strings.
  std::vector<std::pair<std::string, std::string>> entries() const;
  static const std::vector<std::string>& names();
};

struct topic_info {
  std::string name;
  int32_t partitions = 0;
  topic_config config;
  int64_t created_ms = 0;
  std::string topic_id;  // 32 hex digits (a UUID), for Metadata v10+ and admin tools
  // In a cluster: the partitions this node holds a replica of (the controller's placement); the
  // others have no directory here. nullopt: every partition (a single node).
  std::optional<std::vector<int32_t>> hosted;
  bool hosts(int32_t partition) const {
    return !hosted || std::find(hosted->begin(), hosted->end(), partition) != hosted->end();
  }
};

class topic_table {
 public:
  // Largest partition count of one topic (create() answers invalid_partitions above it).
  static constexpr int32_t partitions_max = 10000;

  // Loads `<dir>/topics.json` if present.
  static result<topic_table> open(const std::filesystem::path& dir);

  static result<void> validate_name(std::string_view name);

  const topic_info* find(std::string_view name) const;
  const std::map<std::string, topic_info, std::less<>>& all() const { return topics_; }

  // Adds a topic and persists the table. `topic_id` is supplied by the caller (random, from its seeded
  // generator or the OS) so that this class stays deterministic.
  result<const topic_info*> create(std::string_view name, int32_t partitions, const topic_config& config,
                                   int64_t now_ms, std::string topic_id,
                                   std::optional<std::vector<int32_t>> hosted = std::nullopt);
  result<void> remove(std::string_view name);
  // Cluster mode: this node starts or stops holding a replica of one partition of the topic.
  result<void> set_hosted(std::string_view name, int32_t partition, bool hosted);

 private:
  result<void> save() const;

  std::filesystem::path file_;
  std::map<std::string, topic_info, std::less<>> topics_;
};

}  // namespace tributary::cluster::broker
