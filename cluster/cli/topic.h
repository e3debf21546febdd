#pragma once
// `tributary topic create|list|describe|delete`: the Admin API (CreateTopics, DeleteTopics,
// DescribeConfigs), metadata and watermark offsets. The requests, the results and their rendering
// are pure and unit-tested; topic.cc's run_* functions are the librdkafka side.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

inline constexpr int32_t k_replication_factor_max = 32'767;  // an int16 on the wire
inline constexpr size_t k_topics_per_delete_max = 1'000;

struct topic_create_request {
  std::string name;
  int32_t partitions = -1;          // -1: the broker's default
  int32_t replication_factor = -1;  // -1: the broker's default
  std::vector<property> configs;    // --config k=v
};

struct topic_describe_request {
  std::string name;
  std::string admin;  // a cluster node's admin HTTP address: adds each replica's lag ("" = none)
};

struct topic_delete_request {
  std::vector<std::string> names;
};

// What the `topic` subcommands parse into.
struct topic_requests {
  topic_create_request create;
  topic_describe_request describe;
  topic_delete_request remove;
};

// Adds `topic` and its subcommands to `root`, binding their options to `parsed`; the parsed
// subcommand sets `chosen` to its runner. The app's callbacks share ownership of `parsed`.
void bind_topic_commands(CLI::App& root, std::shared_ptr<topic_requests> parsed, command_fn& chosen);
// The group as main.cc lists it.
void add_topic_commands(CLI::App& root, command_fn& chosen);

// ---- results and their rendering (pure) -----------------------------------------------------------
struct topic_summary {
  std::string name;
  int32_t partitions = 0;
  int32_t replication_factor = 0;  // the most replicas of any partition
  std::string error;               // "" when the topic's metadata has no error
};

struct partition_description {
  int32_t partition = 0;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::string error;  // metadata error of the partition, "" if none
  std::optional<int64_t> log_start_offset;
  std::optional<int64_t> high_watermark;
  std::string offsets_error;  // why the watermarks are missing, "" if present
  // Offsets each follower is behind the leader's log end (-1 unknown), from a cluster node's admin
  // endpoint (describe --admin); empty otherwise.
  std::map<int32_t, int64_t> lag;
};

struct config_description {
  std::string name;
  std::optional<std::string> value;  // null for sensitive values
  std::string source;                // "DEFAULT_CONFIG", "DYNAMIC_TOPIC_CONFIG", ...
  bool is_default = false;
  bool read_only = false;
  bool sensitive = false;
};

struct topic_description {
  std::string name;
  std::vector<partition_description> partitions;  // by partition id
  std::vector<config_description> configs;        // by name
  std::string configs_error;                      // why configs are missing, "" if present
};

// Rows of cells as left-aligned columns two spaces apart (no trailing spaces), one line per row.
std::string render_table(const std::vector<std::vector<std::string>>& rows);

std::string render_topic_list(const std::vector<topic_summary>& topics, bool json);
std::string render_topic_description(const topic_description& topic, bool json);
std::string render_topic_created(const topic_create_request& request, bool json);
std::string render_topics_deleted(const std::vector<std::string>& names, bool json);

// The first problem of a description (a partition or offsets error, a configs error), or "".
std::string first_problem(const topic_description& topic);

}  // namespace tributary::cluster::cli
