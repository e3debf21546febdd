#pragma once
// ApiVersions (key 18). Flexible from v3, but its response header stays v0 (see api.h).
// v1 adds throttle_time_ms; v3 adds the client software name/version and the feature tags.
#include "common/kafka/protocol/schema.h"

namespace tributary::kafka::protocol {

inline constexpr api_info api_versions_api{api_key::api_versions, "ApiVersions", 0, 3, 3};

struct api_versions_request {
  static constexpr const api_info& api = api_versions_api;
  std::string client_software_name;
  std::string client_software_version;

  static void fields(auto& s, auto& v) {
    v(s.client_software_name, "client_software_name", {.min = 3});
    v(s.client_software_version, "client_software_version", {.min = 3});
  }
  bool operator==(const api_versions_request&) const = default;
};

struct api_versions_response {
  static constexpr const api_info& api = api_versions_api;
  struct api_version {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    static void fields(auto& s, auto& v) {
      v(s.api_key, "api_key");
      v(s.min_version, "min_version");
      v(s.max_version, "max_version");
    }
    bool operator==(const api_version&) const = default;
  };
  struct supported_feature {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.min_version, "min_version");
      v(s.max_version, "max_version");
    }
    bool operator==(const supported_feature&) const = default;
  };
  struct finalized_feature {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    static void fields(auto& s, auto& v) {
      v(s.name, "name");
      v(s.max_version_level, "max_version_level");
      v(s.min_version_level, "min_version_level");
    }
    bool operator==(const finalized_feature&) const = default;
  };

  protocol::error_code error_code = protocol::error_code::none;
  std::vector<api_version> api_keys;
  int32_t throttle_time_ms = 0;
  std::vector<supported_feature> supported_features;
  int64_t finalized_features_epoch = -1;
  std::vector<finalized_feature> finalized_features;
  bool zk_migration_ready = false;

  static void fields(auto& s, auto& v) {
    v(s.error_code, "error_code");
    v(s.api_keys, "api_keys");
    v(s.throttle_time_ms, "throttle_time_ms", {.min = 1});
    v(s.supported_features, "supported_features", {.min = 3, .tag = 0});
    v(s.finalized_features_epoch, "finalized_features_epoch", {.min = 3, .tag = 1, .tag_default = -1});
    v(s.finalized_features, "finalized_features", {.min = 3, .tag = 2});
    v(s.zk_migration_ready, "zk_migration_ready", {.min = 3, .tag = 3});
  }
  bool operator==(const api_versions_response&) const = default;
};

}  // namespace tributary::kafka::protocol
