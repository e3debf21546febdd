#include "cluster/broker/topic_table.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/log.h"

namespace tributary {
const char* errc_info<cluster::broker::topic_errc>::message(cluster::broker::topic_errc e) noexcept {
  using cluster::broker::topic_errc;
  switch (e) {
    case topic_errc::invalid_name: return "invalid topic name";
    case topic_errc::already_exists: return "topic already exists";
    case topic_errc::unknown_topic: return "unknown topic";
    case topic_errc::invalid_partitions: return "invalid number of partitions";
    case topic_errc::invalid_config: return "invalid topic config";
    case topic_errc::invalid_replication: return "invalid replication factor";
    case topic_errc::io_error: return "cannot write the topic table";
    case topic_errc::bad_file: return "topic table file is malformed";
  }
  return "unknown topic error";
}
}  // namespace tributary

namespace tributary::cluster::broker {
namespace {

constexpr int32_t partitions_max = topic_table::partitions_max;

result<int64_t> parse_i64(std::string_view v) {
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) return fail(topic_errc::invalid_config);
  return out;
}

}  // namespace

const std::vector<std::string>& topic_config::names() {
  static const std::vector<std::string> n = {"retention.ms",  "retention.bytes",   "segment.bytes",
                                             "segment.ms",    "max.message.bytes", "message.timestamp.type",
                                             "cleanup.policy"};
  return n;
}

result<void> topic_config::set(std::string_view name, std::string_view value) {
  if (name == "retention.ms") {
    auto v = TRIB_TRY(parse_i64(value));
    if (v < -1) return fail(topic_errc::invalid_config);
    retention_ms = v;
  } else if (name == "retention.bytes") {
    auto v = TRIB_TRY(parse_i64(value));
    if (v < -1) return fail(topic_errc::invalid_config);
    retention_bytes = v;
  } else if (name == "segment.bytes") {
    auto v = TRIB_TRY(parse_i64(value));
    // The floor of log.segment_bytes: a segment must hold at least a batch header (partition_log
    // asserts it), so a smaller value would stop the broker at every start.
    if (v < 1024 || v > (int64_t{1} << 31) - 1) return fail(topic_errc::invalid_config);
    segment_bytes = v;
  } else if (name == "segment.ms") {
    auto v = TRIB_TRY(parse_i64(value));
    if (v < 1) return fail(topic_errc::invalid_config);
    segment_ms = v;
  } else if (name == "max.message.bytes") {
    auto v = TRIB_TRY(parse_i64(value));
    if (v < 0 || v > (int64_t{1} << 30)) return fail(topic_errc::invalid_config);
    max_message_bytes = static_cast<int32_t>(v);
  } else if (name == "message.timestamp.type") {
    if (value == "CreateTime") {
      log_append_time = false;
    } else if (value == "LogAppendTime") {
      log_append_time = true;
    } else {
      return fail(topic_errc::invalid_config);
    }
  } else if (name == "cleanup.policy") {
    // Only deletion by retention is implemented; accept the default so admin tools that send it work.
    if (value != "delete") return fail(topic_errc::invalid_config);
  } else {
    return fail(topic_errc::invalid_config);
  }
  return {};
}

std::vector<std::pair<std::string, std::string>> topic_config::entries() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (retention_ms) out.emplace_back("retention.ms", std::to_string(*retention_ms));
  if (retention_bytes) out.emplace_back("retention.bytes", std::to_string(*retention_bytes));
  if (segment_bytes) out.emplace_back("segment.bytes", std::to_string(*segment_bytes));
  if (segment_ms) out.emplace_back("segment.ms", std::to_string(*segment_ms));
  if (max_message_bytes) out.emplace_back("max.message.bytes", std::to_string(*max_message_bytes));
  if (log_append_time)
    out.emplace_back("message.timestamp.type", *log_append_time ? "LogAppendTime" : "CreateTime");
  return out;
}

result<void> topic_table::validate_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return fail(topic_errc::invalid_name);
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return fail(topic_errc::invalid_name);
  }
  return {};
}

result<topic_table> topic_table::open(const std::filesystem::path& dir) {
  topic_table t;
  t.file_ = dir / "topics.json";
  std::ifstream in(t.file_);
  if (!in) return t;  // a new data directory
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
    for (const auto& [name, v] : j.at("topics").items()) {
      TRIB_TRY_VOID(validate_name(name));
      topic_info info;
      info.name = name;
      info.partitions = v.at("partitions").get<int32_t>();
      info.created_ms = v.value("created_ms", int64_t{0});
      info.topic_id = v.value("topic_id", std::string(32, '0'));
      if (info.partitions < 1 || info.partitions > partitions_max) return fail(topic_errc::bad_file);
      if (v.contains("hosted")) {
        info.hosted = v.at("hosted").get<std::vector<int32_t>>();
        for (int32_t h : *info.hosted)
          if (h < 0 || h >= info.partitions) return fail(topic_errc::bad_file);
      }
      const nlohmann::json configs = v.value("configs", nlohmann::json::object());
      for (const auto& [k, cv] : configs.items()) {
        if (!info.config.set(k, cv.get<std::string>())) return fail(topic_errc::bad_file);
      }
      t.topics_.emplace(name, std::move(info));
    }
  } catch (const nlohmann::json::exception& e) {
    TRIB_LOG_ERROR("broker", "topic_table_unreadable", {"path", t.file_.string()}, {"error", e.what()});
    return fail(topic_errc::bad_file);
  }
  return t;
}

const topic_info* topic_table::find(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

result<const topic_info*> topic_table::create(std::string_view name, int32_t partitions,
                                              const topic_config& config, int64_t now_ms,
                                              std::string topic_id,
                                              std::optional<std::vector<int32_t>> hosted) {
  TRIB_TRY_VOID(validate_name(name));
  if (topics_.contains(name)) return fail(topic_errc::already_exists);
  if (partitions < 1 || partitions > partitions_max) return fail(topic_errc::invalid_partitions);
  topic_info info{std::string(name), partitions, config, now_ms, std::move(topic_id), std::move(hosted)};
  auto [it, _] = topics_.emplace(std::string(name), std::move(info));
  if (auto r = save(); !r) {
    topics_.erase(it);
    return fail(r.error());
  }
  return &it->second;
}

result<void> topic_table::remove(std::string_view name) {
  auto it = topics_.find(name);
  if (it == topics_.end()) return fail(topic_errc::unknown_topic);
  auto saved = std::move(it->second);
  topics_.erase(it);
  if (auto r = save(); !r) {
    topics_.emplace(saved.name, std::move(saved));
    return r;
  }
  return {};
}

result<void> topic_table::set_hosted(std::string_view name, int32_t partition, bool hosted) {
  auto it = topics_.find(name);
  if (it == topics_.end() || partition < 0 || partition >= it->second.partitions)
    return fail(topic_errc::unknown_topic);
  auto& t = it->second;
  if (t.hosts(partition) == hosted) return {};
  const auto before = t.hosted;
  if (!t.hosted) {  // every partition so far
    t.hosted.emplace();
    for (int32_t i = 0; i < t.partitions; ++i) t.hosted->push_back(i);
  }
  if (hosted) {
    t.hosted->push_back(partition);
    std::sort(t.hosted->begin(), t.hosted->end());
  } else {
    std::erase(*t.hosted, partition);
  }
  if (auto r = save(); !r) {
    t.hosted = before;
    return fail(r.error());
  }
  return {};
}

result<void> topic_table::save() const {
  nlohmann::json j;
  j["version"] = 1;
  j["topics"] = nlohmann::json::object();
  for (const auto& [name, t] : topics_) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [k, v] : t.config.entries()) c[k] = v;
    j["topics"][name] = {
        {"partitions", t.partitions}, {"configs", c}, {"created_ms", t.created_ms}, {"topic_id", t.topic_id}};
    if (t.hosted) j["topics"][name]["hosted"] = *t.hosted;
  }
  if (auto r = write_file_durably(file_, as_bytes(j.dump(2) + "\n")); !r) {
    TRIB_LOG_ERROR("broker", "topics_write_failed", {"path", file_.string()}, {"error", r.error().message()});
    return fail(topic_errc::io_error);
  }
  return {};
}

}  // namespace tributary::cluster::broker
