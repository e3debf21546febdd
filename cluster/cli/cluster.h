#pragma once
// `tributary cluster status`: the controller and the nodes of a Tributary cluster, from a node's admin
// HTTP endpoint (/v1/cluster on the node's http.listen address; the Kafka protocol has no such view
// in the librdkafka this CLI is built with). The rendering is pure and unit-tested.
#include <string>

#include <nlohmann/json.hpp>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

inline constexpr const char* k_admin_default = "127.0.0.1:9644";

// The status as a table (or the JSON as it came, for --json). Errors name what was missing.
outcome<std::string> render_cluster_status(const nlohmann::json& status, bool json);
// GET /v1/cluster from a node's admin HTTP address ("host:port").
outcome<nlohmann::json> fetch_cluster_status(const std::string& admin, int timeout_ms);

void add_cluster_commands(CLI::App& root, command_fn& chosen);

}  // namespace tributary::cluster::cli
