#include "gateway/gateway_config.h"

#include <optional>
#include <vector>

#include <fmt/format.h>

#include "common/mqtt/errc.h"
#include "common/mqtt/topic.h"
#include "common/uv/address.h"
#include "gateway/auth/password_file.h"

namespace tributary::gateway {
namespace {

using config::config_error;
using config::errc;
using config::json;

config_error make_error(errc code, std::string message) {
  return {config::make_error_code(code), std::move(message)};
}

std::string describe(const json& j) {
  switch (j.type()) {
    case json::value_t::string: return "string \"" + j.get<std::string>() + "\"";
    case json::value_t::boolean: return j.get<bool>() ? "true" : "false";
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    default: return "number " + j.dump();
  }
}

// The rules array: each element an object with filter, topic, key (optional), priority (optional,
// 0..255), ttl_ms (optional, >= 0). Unknown fields are errors.
config::config_result<std::vector<routes::route_spec>> parse_rules(const json& rules,
                                                                   std::string_view origin) {
  const std::string base = "routes.rules";
  if (!rules.is_array()) {
    return tl::unexpected(
        make_error(errc::wrong_type,
                   fmt::format("{}: key \"{}\": expected an array, got {}", origin, base, describe(rules))));
  }
  if (rules.size() > routes::routes_max) {
    return tl::unexpected(
        make_error(errc::out_of_range, fmt::format("{}: key \"{}\": {} routes, more than {}", origin, base,
                                                   rules.size(), routes::routes_max)));
  }
  std::vector<routes::route_spec> out;
  for (size_t i = 0; i < rules.size(); ++i) {
    const json& r = rules[i];
    const std::string at = fmt::format("{}[{}]", base, i);
    auto err = [&](errc code, std::string_view field, std::string message) {
      return tl::unexpected(make_error(
          code, fmt::format("{}: key \"{}{}{}\": {}", origin, at, field.empty() ? "" : ".", field, message)));
    };
    if (!r.is_object()) return err(errc::wrong_type, "", "expected an object, got " + describe(r));
    routes::route_spec spec;
    bool has_filter = false;
    bool has_topic = false;
    for (auto it = r.begin(); it != r.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      if (k == "filter" || k == "topic" || k == "key") {
        if (!v.is_string()) return err(errc::wrong_type, k, "expected a string, got " + describe(v));
        std::string s = v.get<std::string>();
        if (k == "filter") {
          spec.filter = std::move(s);
          has_filter = true;
        } else if (k == "topic") {
          spec.topic = std::move(s);
          has_topic = true;
        } else {
          spec.key = std::move(s);
        }
      } else if (k == "priority") {
        if (!v.is_number_integer())
          return err(errc::wrong_type, k, "expected an integer, got " + describe(v));
        auto p = v.get<int64_t>();
        if (p < 0 || p > 255) return err(errc::out_of_range, k, fmt::format("{} is outside [0, 255]", p));
        spec.priority = static_cast<uint8_t>(p);
      } else if (k == "ttl_ms") {
        if (!v.is_number_integer())
          return err(errc::wrong_type, k, "expected an integer, got " + describe(v));
        if (v.is_number_unsigned()) {
          spec.ttl_ms = v.get<uint64_t>();
        } else {
          auto t = v.get<int64_t>();
          if (t < 0) return err(errc::out_of_range, k, fmt::format("{} is negative", t));
          spec.ttl_ms = static_cast<uint64_t>(t);
        }
      } else {
        return tl::unexpected(make_error(
            errc::unknown_key, fmt::format("{}: unknown key \"{}.{}\" (a route has filter, topic, key, "
                                           "priority, ttl_ms)",
                                           origin, at, k)));
      }
    }
    if (!has_filter) return err(errc::wrong_type, "filter", "missing");
    if (!has_topic) return err(errc::wrong_type, "topic", "missing");
    out.push_back(std::move(spec));
  }
  return out;
}

// bridge.subscriptions: an array of {filter (string), qos (0..2, default 1)}.
config::config_result<std::vector<bridge::subscription_spec>> parse_subscriptions(const json& subs,
                                                                                  std::string_view origin) {
  const std::string base = "bridge.subscriptions";
  if (!subs.is_array()) {
    return tl::unexpected(
        make_error(errc::wrong_type,
                   fmt::format("{}: key \"{}\": expected an array, got {}", origin, base, describe(subs))));
  }
  if (subs.size() > bridge::subscriptions_max) {
    return tl::unexpected(
        make_error(errc::out_of_range, fmt::format("{}: key \"{}\": {} entries, more than {}", origin, base,
                                                   subs.size(), bridge::subscriptions_max)));
  }
  std::vector<bridge::subscription_spec> out;
  for (size_t i = 0; i < subs.size(); ++i) {
    const json& e = subs[i];
    const std::string at = fmt::format("{}[{}]", base, i);
    auto err = [&](errc code, std::string_view field, std::string message) {
      return tl::unexpected(make_error(
          code, fmt::format("{}: key \"{}{}{}\": {}", origin, at, field.empty() ? "" : ".", field, message)));
    };
    if (!e.is_object()) return err(errc::wrong_type, "", "expected an object, got " + describe(e));
    bridge::subscription_spec spec;
    bool has_filter = false;
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& k = it.key();
      const json& v = it.value();
      if (k == "filter") {
        if (!v.is_string()) return err(errc::wrong_type, k, "expected a string, got " + describe(v));
        spec.filter = v.get<std::string>();
        if (auto ok = ::tributary::mqtt::validate_topic_filter(spec.filter); !ok)
          return err(errc::bad_value, k,
                     fmt::format("\"{}\" is not a topic filter: {}", spec.filter, ok.error().message()));
        has_filter = true;
      } else if (k == "qos") {
        if (!v.is_number_integer())
          return err(errc::wrong_type, k, "expected an integer, got " + describe(v));
        auto q = v.get<int64_t>();
        if (q < 0 || q > 2) return err(errc::out_of_range, k, fmt::format("{} is outside [0, 2]", q));
        spec.qos = static_cast<uint8_t>(q);
      } else {
        return tl::unexpected(make_error(
            errc::unknown_key,
            fmt::format("{}: unknown key \"{}.{}\" (a subscription has filter, qos)", origin, at, k)));
      }
    }
    if (!has_filter) return err(errc::wrong_type, "filter", "missing");
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace

void declare(config::schema& s, gateway_config& c) {
  s.add("gateway.id", c.core.gateway_id,
        "This gateway's name: the tributary.gateway header of every reading (unique per site).");
  s.add("gateway.data_dir", c.data_dir, "Directory of the buffer (--data-dir).");
  s.add("log.level", c.log_level, "trace, debug, info, warn, error.");
  s.add("http.listen", c.http_listen, "Address of /metrics and /health (--http).");

  s.add("mqtt.listen", c.server.listen, "MQTT address, numeric host:port (--listen).");
  s.add("mqtt.max_connections", c.server.max_connections,
        "Open MQTT connections; more are accepted and closed at once.", {.min = 1, .max = 1000000});
  s.add("mqtt.max_packet_bytes", c.core.max_packet_bytes,
        "Largest MQTT packet a client may send; larger closes the connection (5.0: DISCONNECT 0x95). "
        "Advertised as Maximum Packet Size.",
        {.min = 64, .max = 16u << 20});
  s.add("mqtt.receive_maximum", c.core.receive_maximum,
        "QoS 1/2 PUBLISH a client may have unacknowledged (5.0: advertised, one more is DISCONNECT 0x93; "
        "3.1.1: reading pauses at this many readings waiting for their commit).",
        {.min = 1, .max = 65535});
  s.add("mqtt.topic_alias_maximum", c.core.topic_alias_maximum,
        "Topic aliases a 5.0 client may set (0 = none).", {.min = 0, .max = 1024});
  s.add("mqtt.keep_alive_max_s", c.core.keep_alive_max_s,
        "Longest keep alive accepted (0 = any); 5.0 clients asking more or 0 are told this value. Enforced "
        "at 1.5x.");
  s.add("mqtt.session_expiry_max_s", c.core.session_expiry_max_s,
        "Longest a persistent session (clean start 0) is kept in memory after its connection ends.");
  s.add("mqtt.sessions_max", c.core.sessions_max,
        "Persistent sessions kept without a connection; beyond it the one closest to expiry is discarded.",
        {.min = 0, .max = 10000000});
  s.add("mqtt.subscriptions_max", c.core.subscriptions_max,
        "Topic filters recorded per session (SUBSCRIBE beyond it: 0x97). Nothing is delivered to them.",
        {.min = 0, .max = 100000});
  s.add("mqtt.subscription_bytes_max", c.core.subscription_bytes_max,
        "Bytes of topic filters recorded per session (SUBSCRIBE beyond it: 0x97).",
        {.min = 0, .max = 1 << 24});
  s.add("mqtt.topic_alias_bytes_max", c.core.topic_alias_bytes_max,
        "Bytes of topics held by one session's topic aliases; setting more is DISCONNECT 0x94.",
        {.min = 0, .max = 1 << 24});
  s.add("mqtt.will_bytes_max", c.core.will_bytes_max,
        "Will topic + payload kept per session; a larger will is refused (CONNACK 0x95, 3.1.1: 0x03).",
        {.min = 0, .max = 16u << 20});
  s.add("mqtt.connect_timeout_ms", c.core.connect_timeout_ms,
        "Time a new connection has to complete CONNECT and authentication.", {.min = 100, .max = 3600000});
  s.add("mqtt.quota_backoff_ms", c.core.quota_backoff_ms,
        "3.1.1 client whose QoS 1/2 PUBLISH the buffer refused: nothing more is acknowledged and the "
        "connection closes this much later (the client re-sends on reconnect).",
        {.min = 0, .max = 3600000});
  s.add("mqtt.client_id_bytes_max", c.core.client_id_bytes_max,
        "Longer client identifiers are refused (0x85).", {.min = 23, .max = 65535});
  s.add("mqtt.user_properties_max", c.core.user_properties_max,
        "5.0 user properties copied into a reading's headers; more are dropped.", {.min = 0, .max = 48});
  s.add("mqtt.tick_ms", c.server.tick_ms,
        "How often keep alive, connect timeouts and session expiry are checked.", {.min = 10, .max = 10000});
  s.add("mqtt.read_chunk_bytes", c.server.read_chunk_bytes, "Bytes asked from the kernel per socket read.",
        {.min = 512, .max = 1 << 20});
  s.add("mqtt.write_limit_bytes", c.server.write_limit_bytes,
        "Replies a client may leave unread before its connection is aborted.", {.min = 4096, .max = 1 << 30});
  s.add("mqtt.close_linger_ms", c.server.close_linger_ms,
        "Bound on a graceful close (flush, then wait for EOF).", {.min = 0, .max = 60000});

  s.add("auth.anonymous", c.core.anonymous,
        "Accept clients without a user name. With a password file, clients giving a user name are still "
        "checked.");
  s.add("auth.password_file", c.password_file,
        "Password file (user:$pbkdf2-sha256$..., or mosquitto_passwd's format); \"\" = none: user names are "
        "not checked. `tributary-gateway passwd FILE USER` adds users.");
  s.add("auth.queue_max", c.server.auth_queue_max,
        "Password checks waiting for the auth thread; more CONNECTs get 0x89 server busy.",
        {.min = 1, .max = 1000000});

  s.add("buffer.path", c.buffer_path, "The SQLite buffer file; \"\" = <data_dir>/buffer.db.");
  s.add_enum("buffer.synchronous", c.store.synchronous,
             {{"off", buffer::synchronous_mode::off},
              {"normal", buffer::synchronous_mode::normal},
              {"full", buffer::synchronous_mode::full},
              {"extra", buffer::synchronous_mode::extra}},
             "SQLite PRAGMA synchronous. full: a PUBACK means the reading survives power loss.");
  s.add("buffer.quota_bytes", c.store.quota_bytes,
        "Accounted bytes of buffered readings before the overflow policy.",
        {.min = 1 << 20, .max = 1ull << 50});
  s.add_enum(
      "buffer.overflow", c.store.overflow,
      {{"reject", buffer::overflow_policy::reject}, {"drop-oldest", buffer::overflow_policy::drop_oldest}},
      "Quota full: reject new readings (5.0 PUBACK 0x97; 3.1.1 not acknowledged, connection backs off; "
      "QoS 0 dropped) or evict the oldest lowest-priority readings (counted).");
  s.add("buffer.dead_letter_quota_bytes", c.store.dead_letter_quota_bytes, "Accounted bytes of dead letters.",
        {.min = 1 << 20, .max = 1ull << 50});
  s.add("buffer.cache_bytes", c.store.cache_bytes, "SQLite page cache.",
        {.min = 256 << 10, .max = 1ull << 34});
  s.add("buffer.commit_queue_rows_max", c.committer.queue_rows_max,
        "Readings waiting for or in a commit; beyond it clients are not read (backpressure).",
        {.min = 1, .max = 10000000});
  s.add("buffer.commit_queue_bytes_max", c.committer.queue_bytes_max,
        "Accounted bytes waiting for or in a commit; beyond it clients are not read.",
        {.min = 1 << 20, .max = 1ull << 34});
  s.add("buffer.commit_batch_rows_max", c.committer.batch_rows_max, "Readings per transaction.",
        {.min = 1, .max = 10000});
  s.add("buffer.commit_batch_bytes_max", c.committer.batch_bytes_max, "Accounted bytes per transaction.",
        {.min = 4096, .max = 1ull << 34});
  s.add("buffer.expire_interval_ms", c.expire_interval_ms,
        "How often readings past their route's ttl_ms are deleted (counted as expired).",
        {.min = 100, .max = 86400000});

  s.add_enum(
      "routes.unmatched", c.routes.unmatched,
      {{"refuse", routes::unmatched_policy::refuse}, {"default", routes::unmatched_policy::default_topic}},
      "A PUBLISH no rule matches: refuse (counted; 5.0 PUBACK 0x90; 3.1.1 acknowledged and dropped) or "
      "send to routes.default_topic keyed by the MQTT topic.");
  s.add("routes.default_topic", c.routes.default_topic,
        "Topic of unmatched readings (routes.unmatched = default).");
  s.add("routes.default_priority", c.routes.default_priority, "Priority of unmatched readings.");
  s.add("routes.default_ttl_ms", c.routes.default_ttl_ms, "Time-to-live of unmatched readings (0 = none).");

  auto& b = c.bridge;
  s.add("bridge.enabled", b.enabled,
        "Subscribe to an MQTT broker already running on the device (e.g. mosquitto); its messages go "
        "through the same routes and buffer. QoS 1/2 are acknowledged to it only once committed.");
  s.add_enum("bridge.mode", b.mode,
             {{"also", bridge::bridge_mode::also}, {"instead", bridge::bridge_mode::instead}},
             "also: the gateway's own MQTT listener stays on; instead: no listener (only the bridge).");
  s.add("bridge.broker", b.broker, "The broker's numeric host:port.");
  s.add("bridge.client_id", b.client_id,
        "The bridge's client identifier: the broker keeps its persistent session by this name.");
  s.add("bridge.clean_session", b.clean_session,
        "false: persistent session, the broker keeps what the gateway has not acknowledged across a "
        "gateway crash or restart (needed for no loss); true: a new session each connection.");
  s.add("bridge.username", b.username, "User name for the broker (\"\" = none).");
  s.add("bridge.password", b.password, "Password for the broker (sent only with a user name).");
  s.add_enum("bridge.protocol", b.version,
             {{"3.1.1", ::tributary::mqtt::protocol_version::v311},
              {"5.0", ::tributary::mqtt::protocol_version::v5}},
             "MQTT version spoken to the broker.");
  s.add("bridge.session_expiry_s", b.session_expiry_s,
        "5.0 with clean_session false: how long the broker keeps the session while the gateway is away.",
        {.min = 1, .max = 0xFFFFFFFFu});
  s.add("bridge.keep_alive_s", b.keep_alive_s,
        "Keep alive asked of the broker (0 = none); 1.5x without a packet from it closes and reconnects.");
  s.add("bridge.connect_timeout_ms", b.connect_timeout_ms, "TCP connect, then CONNACK, each within this.",
        {.min = 100, .max = 600000});
  s.add("bridge.reconnect_min_ms", b.reconnect_min_ms,
        "Delay before the first reconnect attempt; it doubles after each failure up to reconnect_max_ms.",
        {.min = 10, .max = 3600000});
  s.add("bridge.reconnect_max_ms", b.reconnect_max_ms, "Longest delay between reconnect attempts.",
        {.min = 10, .max = 3600000});
  s.add("bridge.inflight_max", b.inflight_max,
        "QoS 1/2 messages from the broker waiting for their commit; at this many the socket is not read "
        "(5.0: advertised as Receive Maximum).",
        {.min = 1, .max = 65535});
  s.add("bridge.max_packet_bytes", b.max_packet_bytes,
        "Largest packet accepted from the broker (5.0: advertised); a larger one closes the connection.",
        {.min = 64, .max = 16u << 20});
  s.add("bridge.tick_ms", b.tick_ms, "How often reconnects, keep alive and the CONNACK timeout are checked.",
        {.min = 10, .max = 10000});
}

config::config_result<> load_config_text(config::schema& s, gateway_config& c, std::string_view text,
                                         std::string_view origin) {
  json root = TRIB_TRY(config::parse_json(text, origin));
  if (!root.is_object()) return s.load_string(text, origin);  // reports what the top level must be
  std::optional<std::vector<routes::route_spec>> rules;
  if (auto r = root.find("routes"); r != root.end() && r->is_object()) {
    if (auto rr = r->find("rules"); rr != r->end()) {
      rules = TRIB_TRY(parse_rules(*rr, origin));
      r->erase(rr);
    }
  }
  std::optional<std::vector<bridge::subscription_spec>> subs;
  if (auto b = root.find("bridge"); b != root.end() && b->is_object()) {
    if (auto bs = b->find("subscriptions"); bs != b->end()) {
      subs = TRIB_TRY(parse_subscriptions(*bs, origin));
      b->erase(bs);
    }
  }
  TRIB_TRY_VOID(s.load_string(root.dump(), origin));
  if (rules) c.routes.routes = std::move(*rules);
  if (subs) c.bridge.subscriptions = std::move(*subs);
  return {};
}

config::config_result<> load_config_file(config::schema& s, gateway_config& c, const std::string& path) {
  auto text = auth::read_text_file(path, false);
  if (!text) {
    return tl::unexpected(make_error(
        text.error().find("cannot open") != std::string::npos ? errc::file_not_found : errc::read_failed,
        text.error()));
  }
  return load_config_text(s, c, *text, path);
}

namespace {

config::config_result<> validate_bridge(const gateway_config& c) {
  const auto& b = c.bridge;
  auto bad = [](std::string key, std::string message) {
    return tl::unexpected(make_error(errc::bad_value, fmt::format("key \"{}\": {}", key, message)));
  };
  if (!b.enabled) {
    if (b.mode == bridge::bridge_mode::instead)
      return bad("bridge.mode",
                 "\"instead\" turns the MQTT listener off, but bridge.enabled is false: "
                 "no reading could come in");
    return {};
  }
  if (auto a = uv::parse_address(b.broker); !a)
    return bad("bridge.broker",
               fmt::format("\"{}\" is not a numeric host:port ({})", b.broker, a.error().message()));
  if (b.client_id.empty() && !b.clean_session)
    return bad("bridge.client_id", "empty, but a persistent session (clean_session false) needs a client id");
  if (b.client_id.size() > ::tributary::mqtt::max_string_bytes)
    return bad("bridge.client_id", fmt::format("longer than {} bytes", ::tributary::mqtt::max_string_bytes));
  if (b.username.size() > ::tributary::mqtt::max_string_bytes)
    return bad("bridge.username", "longer than 65535 bytes");
  if (b.password.size() > ::tributary::mqtt::max_string_bytes)
    return bad("bridge.password", "longer than 65535 bytes");
  if (!b.password.empty() && b.username.empty())
    return bad("bridge.password",
               "set without bridge.username (MQTT sends a password only with a user name)");
  if (b.subscriptions.empty())
    return bad("bridge.subscriptions", "empty: the bridge would receive nothing (add {\"filter\": \"#\"})");
  if (b.reconnect_min_ms > b.reconnect_max_ms)
    return bad("bridge.reconnect_min_ms", fmt::format("{} is more than bridge.reconnect_max_ms ({})",
                                                      b.reconnect_min_ms, b.reconnect_max_ms));
  if (uint64_t{b.max_packet_bytes} + 64 * 1024 > c.store.row_bytes_max)
    return bad("bridge.max_packet_bytes",
               fmt::format("must be at most {} (the buffer's largest reading, less room for topic, key and "
                           "headers)",
                           c.store.row_bytes_max - 64 * 1024));
  return {};
}

}  // namespace

config::config_result<routes::route_table> validate(const gateway_config& c) {
  if (!c.core.anonymous && c.password_file.empty()) {
    return tl::unexpected(make_error(
        errc::bad_value, "auth.anonymous is false but auth.password_file is empty: no client could connect"));
  }
  if (c.committer.batch_rows_max > c.store.batch_rows_max) {
    return tl::unexpected(
        make_error(errc::out_of_range,
                   fmt::format("buffer.commit_batch_rows_max must be at most {}", c.store.batch_rows_max)));
  }
  if (c.committer.queue_bytes_max < c.store.row_bytes_max) {
    return tl::unexpected(make_error(
        errc::out_of_range, fmt::format("buffer.commit_queue_bytes_max must be at least {} (one reading)",
                                        c.store.row_bytes_max)));
  }
  // A reading is the payload plus its topic, key and headers: keep the largest packet storable.
  if (uint64_t{c.core.max_packet_bytes} + 64 * 1024 > c.store.row_bytes_max) {
    return tl::unexpected(make_error(
        errc::out_of_range, fmt::format("mqtt.max_packet_bytes must be at most {} (the buffer's largest "
                                        "reading, less room for topic, key and headers)",
                                        c.store.row_bytes_max - 64 * 1024)));
  }
  if (c.core.gateway_id.empty()) return tl::unexpected(make_error(errc::bad_value, "gateway.id is empty"));
  TRIB_TRY_VOID(validate_bridge(c));
  auto table = routes::route_table::build(c.routes);
  if (!table) {
    const auto& e = table.error();
    std::string key = e.route ? fmt::format("routes.rules[{}].{}", *e.route, e.field) : "routes." + e.field;
    return tl::unexpected(make_error(errc::bad_value, fmt::format("key \"{}\": {}", key, e.message)));
  }
  return std::move(*table);
}

config::json effective_json(const config::schema& s, const gateway_config& c) {
  json out = s.effective_json();
  json rules = json::array();
  for (const auto& r : c.routes.routes) {
    json j = json::object();
    j["filter"] = r.filter;
    j["topic"] = r.topic;
    j["key"] = r.key;
    j["priority"] = r.priority;
    j["ttl_ms"] = r.ttl_ms;
    rules.push_back(std::move(j));
  }
  out["routes"]["rules"] = std::move(rules);
  json subs = json::array();
  for (const auto& b : c.bridge.subscriptions) {
    json j = json::object();
    j["filter"] = b.filter;
    j["qos"] = b.qos;
    subs.push_back(std::move(j));
  }
  out["bridge"]["subscriptions"] = std::move(subs);
  return out;
}

}  // namespace tributary::gateway
