// CreateTopics (key 19), v0-v5. On one node: replication_factor -1 or 1 (else
// INVALID_REPLICATION_FACTOR); in a cluster the controller places replication_factor replicas (-1:
// min(3, nodes)) and the topic exists once committed (timeout-0 semantics); num_partitions -1 means
// default_partitions; a manual assignment must place partitions 0..n-1 on this node alone (else
// INVALID_REPLICA_ASSIGNMENT); configs use Kafka's names (topic_table.h; unknown names or bad values:
// INVALID_CONFIG); validate_only checks everything and creates nothing. A name twice in one request:
// INVALID_REQUEST for it. v5 answers the created topic's partitions, replication factor and configs.
#include <map>
#include <string>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

struct outcome {
  p::error_code error = p::error_code::none;
  std::string message;
};

outcome create_one(broker::broker_service& b, const p::create_topics_request::topic& t, bool validate_only,
                   int32_t& partitions_out) {
  // A cluster places replication_factor replicas (the controller checks it against the live nodes).
  if (!b.clustered() && t.replication_factor != -1 && t.replication_factor != 1)
    return {p::error_code::invalid_replication_factor, "this node stores each partition once: use 1 or -1"};
  int32_t partitions = t.num_partitions;
  if (!t.assignments.empty()) {
    if (t.num_partitions != -1 || t.replication_factor != -1)
      return {p::error_code::invalid_request,
              "num_partitions and replication_factor must be -1 with assignments"};
    std::vector<bool> seen(t.assignments.size(), false);
    for (const auto& a : t.assignments) {
      if (a.partition_index < 0 || static_cast<size_t>(a.partition_index) >= seen.size() ||
          seen[static_cast<size_t>(a.partition_index)] || a.broker_ids.size() != 1 ||
          a.broker_ids[0] != b.node_id())
        return {p::error_code::invalid_replica_assignment, "partitions 0..n-1, each on this node alone"};
      seen[static_cast<size_t>(a.partition_index)] = true;
    }
    partitions = static_cast<int32_t>(t.assignments.size());
  } else if (partitions == -1) {
    partitions = b.config().default_partitions;
  }
  broker::topic_config cfg;
  for (const auto& c : t.configs) {
    if (!c.value) continue;  // null: the broker default
    if (auto r = cfg.set(c.name, *c.value); !r)
      return {p::error_code::invalid_config, "config " + c.name + "=" + *c.value + " is not supported"};
  }
  auto created = b.create_topic(t.name, partitions, cfg, validate_only, t.replication_factor);
  if (!created) return {to_kafka_error(created.error()), created.error().message()};
  partitions_out = partitions;
  return {};
}

}  // namespace

void create_topics(request_context& ctx, protocol::create_topics_request& req) {
  auto& b = ctx.broker();
  std::map<std::string, int> seen;
  for (const auto& t : req.topics) ++seen[t.name];
  p::create_topics_response r;
  r.topics.reserve(req.topics.size());
  for (const auto& t : req.topics) {
    auto& tr = r.topics.emplace_back();
    tr.name = t.name;
    outcome o;
    int32_t partitions = -1;
    if (seen[t.name] > 1) {
      o = {p::error_code::invalid_request, "topic named more than once in the request"};
    } else {
      o = create_one(b, t, req.validate_only, partitions);
    }
    tr.error_code = o.error;
    if (o.error != p::error_code::none) {
      tr.error_message = o.message;
      tr.configs = std::nullopt;
      continue;
    }
    tr.num_partitions = partitions;
    tr.replication_factor = 1;
    if (ctx.version() >= 5) {
      std::vector<broker::config_entry> entries;
      if (const broker::topic_info* info = b.find_topic(t.name)) {
        entries = b.topic_configs(*info);
      } else {  // validate_only: what the topic would have
        broker::topic_info would;
        would.name = t.name;
        for (const auto& c : t.configs) {
          if (c.value) (void)would.config.set(c.name, *c.value);
        }
        entries = b.topic_configs(would);
      }
      tr.configs.emplace();
      for (const auto& e : entries)
        tr.configs->push_back({e.name, e.value, e.read_only, static_cast<int8_t>(e.source), false});
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
