#pragma once
// The configuration of tributary-gateway: one struct, every key declared once with its description
// (common/config.h), loaded from JSON (`--config`), overridden by flags and `--set key=value`.
// packaging/config/gateway.json is the documented default.
//
// Routes are an array of objects, which common/config's schema has no type for; this loader takes
// `routes.rules` (and `bridge.subscriptions`, an array of {filter, qos}) out of the document, parses it
// itself with the same kind of messages (origin and key path: `gateway.json: key "routes.rules[2].filter":
// expected a string, got number 3`), and hands the rest to the schema. Routes therefore come only from the
// file (not from --set).
//
//   "routes": {
//     "unmatched": "refuse",          // or "default": unmatched topics go to default_topic
//     "default_topic": "unrouted",
//     "rules": [
//       {"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"},
//       {"filter": "alarms/+device/#", "topic": "alarms", "key": "{device}", "priority": 9, "ttl_ms": 0}
//     ]
//   }
#include <string>

#include "common/config.h"
#include "gateway/bridge/bridge_config.h"
#include "gateway/buffer/buffer_store.h"
#include "gateway/buffer/group_committer.h"
#include "gateway/mqtt/config.h"
#include "gateway/mqtt/server.h"
#include "gateway/routes/route_table.h"

namespace tributary::gateway {

struct gateway_config {
  std::string data_dir = "/var/lib/tributary/gateway";
  std::string log_level = "info";
  std::string http_listen = "0.0.0.0:9645";
  mqtt::core_config core;
  mqtt::server_options server;
  std::string password_file;
  std::string buffer_path;  // "" = <data_dir>/buffer.db
  buffer::store_options store;
  buffer::committer_options committer;
  uint64_t expire_interval_ms = 10000;
  routes::table_spec routes;
  bridge::bridge_config bridge;  // bridge.* (bridge.subscriptions parsed like routes.rules)

  std::string effective_buffer_path() const {
    return buffer_path.empty() ? data_dir + "/buffer.db" : buffer_path;
  }
};

// Binds every key of `c` to `s` (c must outlive s and must not move).
void declare(config::schema& s, gateway_config& c);

// Loads a config file: the schema's keys, routes.rules and bridge.subscriptions.
config::config_result<> load_config_file(config::schema& s, gateway_config& c, const std::string& path);
// The same from text (tests).
config::config_result<> load_config_text(config::schema& s, gateway_config& c, std::string_view text,
                                         std::string_view origin);

// Checks what single keys cannot: combinations, and that the route table builds. Messages name keys.
config::config_result<routes::route_table> validate(const gateway_config& c);

// effective_json() with routes.rules and bridge.subscriptions added.
config::json effective_json(const config::schema& s, const gateway_config& c);

}  // namespace tributary::gateway
