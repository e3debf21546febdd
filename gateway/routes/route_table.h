#pragma once
// The route table: which upstream (Kafka) topic and key an MQTT PUBLISH goes to. Pure: no I/O.
//
// A route maps an MQTT topic filter with NAMED wildcards to a topic template and a key template:
//   {"filter": "sensors/+device/+kind", "topic": "telemetry.{kind}", "key": "{device}"}
// sends "sensors/dev-7/temp" to topic "telemetry.temp" with key "dev-7".
//
// Filters are MQTT topic filters (section 4.7) in which a wildcard level may carry a name:
//   +name   one level (possibly empty), captured as {name}
//   #name   the last level only: the rest of the topic, levels joined by '/', captured as {name};
//           like '#', it also matches the parent ("a/#rest" matches "a", with rest = "")
//   + and # without a name match as in MQTT and capture nothing.
// Names are [A-Za-z0-9_], 1 to name_bytes_max bytes, unique within a filter. As in MQTT, a topic
// starting with '$' does not match a filter whose first level is a wildcard.
//
// Templates are text with {name} placeholders naming captures of the filter; "{{" and "}}" stand
// for literal braces. The topic template must expand to a valid Kafka topic name ([A-Za-z0-9._-],
// 1 to topic_bytes_max bytes, not "." or ".."): its literal text is checked when the table is built,
// the expansion at every match (a capture with other characters makes the match fail with
// match_error::bad_target_topic: the PUBLISH is refused, never rewritten). The key template may
// produce any bytes; an empty key template means a null key.
//
// Routes are tried in the order given; the first whose filter matches wins. When none matches, the
// table's unmatched policy applies: refuse (match() says no_route) or send to the default topic,
// keyed by the MQTT topic (so readings of one MQTT topic keep their order upstream).
//
// Each route carries a priority (0..255, higher drains first after an outage) and a time-to-live
// (ttl_ms, 0 = none: a reading older than that when the forwarder reaches it is expired, counted,
// not forwarded).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

namespace tributary::gateway::routes {

inline constexpr size_t routes_max = 1024;      // routes in one table
inline constexpr size_t name_bytes_max = 64;    // a wildcard's name
inline constexpr size_t topic_bytes_max = 249;  // Kafka's limit on a topic name
inline constexpr size_t template_bytes_max = 1024;

enum class unmatched_policy : uint8_t { refuse, default_topic };

struct route_spec {
  std::string filter;
  std::string topic;  // template
  std::string key;    // template; "" = null key
  uint8_t priority = 0;
  uint64_t ttl_ms = 0;  // 0 = no expiry
};

struct table_spec {
  std::vector<route_spec> routes;
  unmatched_policy unmatched = unmatched_policy::refuse;
  std::string default_topic;  // required with unmatched_policy::default_topic
  uint8_t default_priority = 0;
  uint64_t default_ttl_ms = 0;
};

// Why a table cannot be built: which route (index into routes, or nullopt for the table's own
// settings), which field ("filter", "topic", "key", "default_topic", "routes") and a message.
struct build_error {
  std::optional<size_t> route;
  std::string field;
  std::string message;
};

// Where a topic goes.
struct route_target {
  std::string topic;
  std::optional<std::string> key;  // nullopt = null key
  uint8_t priority = 0;
  uint64_t ttl_ms = 0;
  std::optional<size_t> route;  // the matching route's index; nullopt = the default topic
};

enum class match_error : uint8_t {
  no_route = 1,      // no filter matched and the policy is refuse
  bad_target_topic,  // the matching route's topic template expanded to an invalid topic name
};

// True for a valid Kafka topic name.
bool is_valid_kafka_topic(std::string_view topic) noexcept;

class route_table {
 public:
  // An empty table refusing everything.
  route_table() = default;
  static tl::expected<route_table, build_error> build(const table_spec& spec);

  // `topic` is a valid MQTT topic name (the codec checked it).
  tl::expected<route_target, match_error> match(std::string_view topic) const;

  size_t size() const { return routes_.size(); }

  struct level {
    enum class kind : uint8_t { literal, single, multi };
    kind k = kind::literal;
    std::string text;  // literal: the level's text
    int capture = -1;  // single/multi: the capture slot, -1 if anonymous
  };
  struct piece {
    bool literal = true;
    std::string text;  // literal text
    int capture = -1;  // placeholder: the capture slot
  };
  struct compiled {
    std::vector<level> levels;
    std::vector<piece> topic;
    std::vector<piece> key;
    bool null_key = false;
    size_t captures = 0;
    uint8_t priority = 0;
    uint64_t ttl_ms = 0;
  };

 private:
  std::vector<compiled> routes_;
  unmatched_policy unmatched_ = unmatched_policy::refuse;
  std::string default_topic_;
  uint8_t default_priority_ = 0;
  uint64_t default_ttl_ms_ = 0;
};

}  // namespace tributary::gateway::routes
