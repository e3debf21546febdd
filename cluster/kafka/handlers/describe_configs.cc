// DescribeConfigs (key 32), v0-v4. Topic resources (type 2): every topic config this broker knows
// (topic_table.h), the topic's own value (source DYNAMIC_TOPIC_CONFIG) or the broker default
// (DEFAULT_CONFIG); synonyms (v1+, when asked) list the override and the default. Broker resources
// (type 4, named by this node's id or empty): a few read-only static settings. Other resource types
// (broker loggers, ...) get INVALID_REQUEST. configuration_keys filters by name (null: all).
#include <algorithm>
#include <string>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

constexpr int8_t k_resource_topic = 2;
constexpr int8_t k_resource_broker = 4;

void add_configs(p::describe_configs_response::resource_result& out,
                 const std::vector<broker::config_entry>& entries,
                 const p::describe_configs_request::resource& res, bool synonyms, int16_t version) {
  for (const auto& e : entries) {
    if (res.configuration_keys && std::find(res.configuration_keys->begin(), res.configuration_keys->end(),
                                            e.name) == res.configuration_keys->end())
      continue;
    p::describe_configs_response::config c;
    c.name = e.name;
    c.value = e.value;
    c.read_only = e.read_only;
    c.is_default = e.source == broker::config_source::default_config;
    c.config_source = static_cast<int8_t>(e.source);
    c.config_type = static_cast<int8_t>(e.type);
    if (synonyms && version >= 1) {
      c.synonyms.push_back({e.name, e.value, static_cast<int8_t>(e.source)});
      if (e.default_value)
        c.synonyms.push_back(
            {e.name, *e.default_value, static_cast<int8_t>(broker::config_source::default_config)});
    }
    out.configs.push_back(std::move(c));
  }
}

}  // namespace

void describe_configs(request_context& ctx, protocol::describe_configs_request& req) {
  auto& b = ctx.broker();
  p::describe_configs_response r;
  r.results.reserve(req.resources.size());
  for (const auto& res : req.resources) {
    auto& out = r.results.emplace_back();
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    if (res.resource_type == k_resource_topic) {
      const broker::topic_info* t = b.find_topic(res.resource_name);
      if (t == nullptr) {
        out.error_code = p::error_code::unknown_topic_or_partition;
        out.error_message = "unknown topic";
        continue;
      }
      add_configs(out, b.topic_configs(*t), res, req.include_synonyms, ctx.version());
    } else if (res.resource_type == k_resource_broker) {
      if (!res.resource_name.empty() && res.resource_name != std::to_string(b.node_id())) {
        out.error_code = p::error_code::invalid_request;
        out.error_message = "not this broker's id";
        continue;
      }
      add_configs(out, b.broker_configs(), res, req.include_synonyms, ctx.version());
    } else {
      out.error_code = p::error_code::invalid_request;
      out.error_message = "only topic (2) and broker (4) resources are supported";
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
