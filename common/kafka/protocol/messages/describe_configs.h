#pragma once
// DescribeConfigs (key 32). Flexible from v4.
// v1: include_synonyms, config_source and synonyms (is_default is v0 only); v3:
// include_documentation, config_type, documentation.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info describe_configs_api{api_key::describe_configs, "DescribeConfigs", 0, 4, 4};

struct describe_configs_request {
  static constexpr const api_info& api = describe_configs_api;
  struct resource {
    int8_t resource_type = 0;  // 2 topic, 4 broker, 8 broker logger
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null: all keys
    static void fields(auto& s, auto& v) {
      v(s.resource_type, "resource_type");
      v(s.resource_name, "resource_name");
      v(s.configuration_keys, "configuration_keys");
    }
    bool operator==(const resource&) const = default;
  };

  std::vector<resource> resources;
  bool include_synonyms = false;
  bool include_documentation = false;

  static void fields(auto& s, auto& v) {
    v(s.resources, "resources");
    v(s.include_synonyms, "include_synonyms", {.min = 1});
    v(s.include_documentation, "include_documentation", {.min = 3});
  }
  bool operator==(const describe_configs_request&) const = default;
};

struct describe_configs_response {
  static constexpr const api_info& api = describe_configs_api;
  struct synonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.value, "value");
      v(s.source, "source");
    }
    bool operator==(const synonym&) const = default;
  };
  struct config {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    std::vector<synonym> synonyms;
    int8_t config_type = 0;
    std::optional<std::string> documentation;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.value, "value");
      v(s.read_only, "read_only");
      v(s.is_default, "is_default", {.max = 0});
      v(s.config_source, "config_source", {.min = 1});
      v(s.is_sensitive, "is_sensitive");
      v(s.synonyms, "synonyms", {.min = 1});
      v(s.config_type, "config_type", {.min = 3});
      v(s.documentation, "documentation", {.min = 3});
    }
    bool operator==(const config&) const = default;
  };
  struct resource_result {
    protocol::error_code error_code = protocol::error_code::none;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<config> configs;
    static void fields(auto& s, auto& v) {
      v(s.error_code, "error_code");
      v(s.error_message, "error_message");
      v(s.resource_type, "resource_type");
      v(s.resource_name, "resource_name");
      v(s.configs, "configs");
    }
    bool operator==(const resource_result&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<resource_result> results;

  static void fields(auto& s, auto& v) {
    v(s.throttle_time_ms, "throttle_time_ms");
    v(s.results, "results");
  }
  bool operator==(const describe_configs_response&) const = default;
};

}  // namespace tributary::kafka::protocol
