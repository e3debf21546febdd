#pragma once
// `tributary group list|describe|delete`: consumer groups through the Admin API (ListConsumerGroups,
// DescribeConsumerGroups, DeleteGroups), committed offsets (OffsetFetch of a group consumer that never
// joins) plus each partition's high watermark, so that list and describe show the lag (high watermark
// - committed offset) per group and per partition. Works against any Kafka-protocol cluster. The results and
// their rendering are pure and unit-tested; group.cc's run_* functions are the librdkafka side.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

struct group_partition_lag {
  std::string topic;
  int32_t partition = 0;
  std::optional<int64_t> committed;       // nullopt: nothing committed
  std::optional<int64_t> high_watermark;  // nullopt: not known (offsets_error)
  std::string member;                     // the member it is assigned to ("" if none)
  std::string error;
  // high watermark - committed (or the whole partition when nothing is committed); nullopt when the
  // high watermark is unknown.
  std::optional<int64_t> lag() const;
};

struct group_member_description {
  std::string member_id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  std::vector<std::pair<std::string, int32_t>> assignment;
};

struct group_description {
  std::string group;
  std::string state;
  std::string assignor;
  std::vector<group_member_description> members;
  std::vector<group_partition_lag> partitions;  // committed or assigned partitions, by topic/partition
  std::string error;                            // "" when fully described
  // The sum of the partitions' lags (nullopt when none is known).
  std::optional<int64_t> total_lag() const;
};

std::string render_group_list(const std::vector<group_description>& groups, bool json);
std::string render_group_description(const group_description& group, bool json);

inline constexpr size_t k_groups_per_delete_max = 1'000;

struct group_requests {
  std::string describe_group;
  std::vector<std::string> delete_groups;
};

std::string render_groups_deleted(const std::vector<std::string>& names, bool json);

void bind_group_commands(CLI::App& root, std::shared_ptr<group_requests> parsed, command_fn& chosen);
// The group as app.cc lists it.
void add_group_commands(CLI::App& root, command_fn& chosen);

}  // namespace tributary::cluster::cli
