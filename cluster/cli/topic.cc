#include "cluster/cli/topic.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cluster/cli/cluster.h"
#include "cluster/cli/kafka.h"
#include "common/assert.h"

namespace tributary::cluster::cli {
namespace {

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json null_if_empty(const std::string& s) {
  if (s.empty()) return nullptr;
  return s;
}

std::string join_ids(const std::vector<int32_t>& ids) { return fmt::format("{}", fmt::join(ids, ",")); }

std::string check_name(const std::string& name) {
  if (auto ok = check_topic_name(name); !ok) return ok.error().message();
  return {};
}

std::string check_partitions(const std::string& text) {
  const long v = std::strtol(text.c_str(), nullptr, 10);
  if (v == -1 || (v >= 1 && v <= k_partitions_max)) return {};
  return fmt::format("partitions must be -1 (the broker's default) or 1..{}", k_partitions_max);
}

std::string check_replication_factor(const std::string& text) {
  const long v = std::strtol(text.c_str(), nullptr, 10);
  if (v == -1 || (v >= 1 && v <= k_replication_factor_max)) return {};
  return fmt::format("replication factor must be -1 (the broker's default) or 1..{}",
                     k_replication_factor_max);
}

// ---- topic create -----------------------------------------------------------------------------------
outcome<void> run_topic_create(const global_options& global, const topic_create_request& request) {
  const std::string context = fmt::format("topic create {}", request.name);
  client c = TRIB_TRY(client::create(global, client_kind::admin));

  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(request.name.c_str(), request.partitions,
                                                         request.replication_factor, errstr, sizeof errstr);
  if (new_topic == nullptr) return fail_with(errc::bad_arguments, fmt::format("{}: {}", context, errstr));
  std::unique_ptr<rd_kafka_NewTopic_t, decltype(&rd_kafka_NewTopic_destroy)> guard(new_topic,
                                                                                   rd_kafka_NewTopic_destroy);
  for (const property& p : request.configs) {
    const rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(new_topic, p.key.c_str(), p.value.c_str());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return fail_with(errc::bad_arguments,
                       fmt::format("{}: --config {}={}: {}", context, p.key, p.value, rd_kafka_err2str(err)));
  }

  admin_call call(c, RD_KAFKA_ADMIN_OP_CREATETOPICS, global.timeout_ms);
  rd_kafka_CreateTopics(c.handle(), &new_topic, 1, call.options(), call.queue());
  event_ptr ev = TRIB_TRY(call.wait(RD_KAFKA_EVENT_CREATETOPICS_RESULT, context));
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev.get()), &n);
  if (n != 1)
    return fail_with(errc::partial, fmt::format("{}: the cluster answered for {} topics", context, n));
  const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[0]);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* text = rd_kafka_topic_result_error_string(results[0]);
    return tl::unexpected(kafka_failure(err, context, text == nullptr ? "" : text));
  }
  write_stdout(render_topic_created(request, global.json));
  return {};
}

// ---- topic list ---------------------------------------------------------------------------------------
outcome<void> run_topic_list(const global_options& global) {
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  metadata_ptr md = TRIB_TRY(fetch_metadata(c, nullptr, global.timeout_ms, "topic list"));
  std::vector<topic_summary> topics;
  topics.reserve(static_cast<size_t>(md->topic_cnt));
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    topic_summary s;
    s.name = t.topic == nullptr ? "" : t.topic;
    s.partitions = t.partition_cnt;
    for (int p = 0; p < t.partition_cnt; ++p)
      s.replication_factor = std::max(s.replication_factor, t.partitions[p].replica_cnt);
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) s.error = rd_kafka_err2name(t.err);
    topics.push_back(std::move(s));
  }
  std::sort(topics.begin(), topics.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  write_stdout(render_topic_list(topics, global.json));
  return {};
}

// ---- topic describe -----------------------------------------------------------------------------------
std::vector<config_description> describe_configs(client& c, const std::string& topic, int timeout_ms,
                                                 std::string& error) {
  const std::string context = "DescribeConfigs";
  std::vector<config_description> out;
  rd_kafka_ConfigResource_t* resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  TRIB_ASSERT(resource != nullptr);
  std::unique_ptr<rd_kafka_ConfigResource_t, decltype(&rd_kafka_ConfigResource_destroy)> guard(
      resource, rd_kafka_ConfigResource_destroy);
  admin_call call(c, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
  rd_kafka_DescribeConfigs(c.handle(), &resource, 1, call.options(), call.queue());
  auto ev = call.wait(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, context);
  if (!ev) {
    error = ev.error().message;  // "DescribeConfigs: ..."
    return out;
  }
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  if (n != 1) {
    error = fmt::format("the cluster answered for {} resources", n);
    return out;
  }
  const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[0]);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* text = rd_kafka_ConfigResource_error_string(resources[0]);
    error = kafka_error_text(err, text == nullptr ? "" : text);
    return out;
  }
  size_t entry_cnt = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[0], &entry_cnt);
  out.reserve(entry_cnt);
  for (size_t i = 0; i < entry_cnt; ++i) {
    const rd_kafka_ConfigEntry_t* e = entries[i];
    config_description d;
    d.name = rd_kafka_ConfigEntry_name(e);
    if (const char* v = rd_kafka_ConfigEntry_value(e)) d.value = v;
    d.source = rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e));
    d.is_default = rd_kafka_ConfigEntry_is_default(e) != 0;
    d.read_only = rd_kafka_ConfigEntry_is_read_only(e) != 0;
    d.sensitive = rd_kafka_ConfigEntry_is_sensitive(e) != 0;
    out.push_back(std::move(d));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

outcome<void> run_topic_describe(const global_options& global, const topic_describe_request& request) {
  const std::string context = fmt::format("topic describe {}", request.name);
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  metadata_ptr md = TRIB_TRY(fetch_metadata(c, &request.name, global.timeout_ms, context));
  const rd_kafka_metadata_topic_t* t = find_topic(*md, request.name);
  TRIB_ASSERT(t != nullptr, "fetch_metadata returns the topic or fails");

  topic_description d;
  d.name = request.name;
  for (int i = 0; i < t->partition_cnt; ++i) {
    const rd_kafka_metadata_partition_t& p = t->partitions[i];
    partition_description pd;
    pd.partition = p.id;
    pd.leader = p.leader;
    pd.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
    pd.isr.assign(p.isrs, p.isrs + p.isr_cnt);
    if (p.err != RD_KAFKA_RESP_ERR_NO_ERROR) pd.error = rd_kafka_err2name(p.err);
    int64_t low = 0;
    int64_t high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(c.handle(), request.name.c_str(), p.id,
                                                                     &low, &high, global.timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      pd.log_start_offset = low;
      pd.high_watermark = high;
    } else {
      pd.offsets_error = kafka_error_text(err);
    }
    d.partitions.push_back(std::move(pd));
  }
  std::sort(d.partitions.begin(), d.partitions.end(),
            [](const auto& a, const auto& b) { return a.partition < b.partition; });
  d.configs = describe_configs(c, request.name, global.timeout_ms, d.configs_error);
  if (!request.admin.empty()) {
    // Every partition's lag as the node knows it (its own leaderships and the other nodes' reports).
    auto status = TRIB_TRY(fetch_cluster_status(request.admin, global.timeout_ms));
    auto leaders = status.find("leaders");
    if (leaders == status.end() || !leaders->is_array())
      return fail_with(errc::partial,
                       fmt::format("{}: {}/v1/cluster has no leaders", context, request.admin));
    for (const auto& l : *leaders) {
      if (l.value("topic", "") != request.name) continue;
      const auto id = l.value("partition", -1);
      for (auto& pd : d.partitions) {
        if (pd.partition != id || !l.contains("lag") || !l["lag"].is_object()) continue;
        for (const auto& [replica, behind] : l["lag"].items())
          if (behind.is_number_integer()) pd.lag[std::stoi(replica)] = behind.get<int64_t>();
      }
    }
  }

  write_stdout(render_topic_description(d, global.json));
  if (const std::string problem = first_problem(d); !problem.empty())
    return fail_with(errc::partial, fmt::format("{}: incomplete: {}", context, problem));
  return {};
}

// ---- topic delete -------------------------------------------------------------------------------------
outcome<void> run_topic_delete(const global_options& global, const topic_delete_request& request) {
  TRIB_ASSERT(!request.names.empty() && request.names.size() <= k_topics_per_delete_max);
  const std::string context = fmt::format("topic delete {}", fmt::join(request.names, " "));
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  std::vector<rd_kafka_DeleteTopic_t*> topics;
  topics.reserve(request.names.size());
  for (const std::string& name : request.names) topics.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  admin_call call(c, RD_KAFKA_ADMIN_OP_DELETETOPICS, global.timeout_ms);
  rd_kafka_DeleteTopics(c.handle(), topics.data(), topics.size(), call.options(), call.queue());
  rd_kafka_DeleteTopic_destroy_array(topics.data(), topics.size());
  event_ptr ev = TRIB_TRY(call.wait(RD_KAFKA_EVENT_DELETETOPICS_RESULT, context));

  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev.get()), &n);
  std::vector<std::string> deleted;
  std::vector<std::string> problems;
  std::error_code first_code;
  for (size_t i = 0; i < n; ++i) {
    const char* name = rd_kafka_topic_result_name(results[i]);
    const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      deleted.emplace_back(name == nullptr ? "" : name);
      continue;
    }
    const char* text = rd_kafka_topic_result_error_string(results[i]);
    failure f = kafka_failure(err, name == nullptr ? "?" : name, text == nullptr ? "" : text);
    if (!first_code) first_code = f.code;
    problems.push_back(std::move(f.message));
  }
  write_stdout(render_topics_deleted(deleted, global.json));
  if (!problems.empty())
    return fail_with(first_code, fmt::format("topic delete: {}", fmt::join(problems, "; ")));
  if (n != request.names.size())
    return fail_with(errc::partial, fmt::format("{}: the cluster answered for {} of {} topics", context, n,
                                                request.names.size()));
  return {};
}

}  // namespace

void bind_topic_commands(CLI::App& root, std::shared_ptr<topic_requests> parsed, command_fn& chosen) {
  CLI::App* topic = root.add_subcommand("topic", "Create, list, describe and delete topics");
  topic->require_subcommand(1);

  CLI::App* create = topic->add_subcommand("create", "Create a topic (Admin API CreateTopics)");
  create->add_option("name", parsed->create.name, "Topic name")->required()->check(check_name);
  create
      ->add_option("-p,--partitions", parsed->create.partitions, "Partition count (-1: the broker's default)")
      ->type_name("N")
      ->check(check_partitions)
      ->capture_default_str();
  create
      ->add_option("-r,--replication-factor", parsed->create.replication_factor,
                   "Replicas per partition (-1: the broker's default)")
      ->type_name("R")
      ->check(check_replication_factor)
      ->capture_default_str();
  create
      ->add_option_function<std::vector<std::string>>(
          "-c,--config",
          [parsed](const std::vector<std::string>& texts) {
            for (const std::string& text : texts) {
              auto p = parse_property(text);
              TRIB_ASSERT(p.has_value(), "checked by check_property");
              parsed->create.configs.push_back(std::move(*p));
            }
          },
          "Topic config key=value (repeatable), e.g. retention.ms=86400000")
      ->type_name("KEY=VALUE")
      ->check(check_property);
  create->callback([parsed, &chosen] {
    chosen = [parsed](const global_options& g) { return run_topic_create(g, parsed->create); };
  });

  CLI::App* list = topic->add_subcommand("list", "List topic names (metadata)");
  list->callback([&chosen] { chosen = [](const global_options& g) { return run_topic_list(g); }; });

  CLI::App* describe = topic->add_subcommand(
      "describe",
      "Partitions (leader, replicas, isr, log start, high watermark, replica lag) and configs of a topic");
  describe->add_option("name", parsed->describe.name, "Topic name")->required();
  describe->add_option("--admin", parsed->describe.admin,
                       "A cluster node's admin HTTP address: also show how far each follower is behind");
  describe->callback([parsed, &chosen] {
    chosen = [parsed](const global_options& g) { return run_topic_describe(g, parsed->describe); };
  });

  CLI::App* remove = topic->add_subcommand("delete", "Delete topics (Admin API DeleteTopics)");
  remove->add_option("names", parsed->remove.names, "Topic names")
      ->required()
      ->expected(1, static_cast<int>(k_topics_per_delete_max));
  remove->callback([parsed, &chosen] {
    chosen = [parsed](const global_options& g) { return run_topic_delete(g, parsed->remove); };
  });
}

void add_topic_commands(CLI::App& root, command_fn& chosen) {
  bind_topic_commands(root, std::make_shared<topic_requests>(), chosen);
}

// ---- rendering ------------------------------------------------------------------------------------------
std::string render_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line;
    out += '\n';
  }
  return out;
}

std::string render_topic_list(const std::vector<topic_summary>& topics, bool json) {
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const topic_summary& t : topics) {
      j.push_back({{"topic", t.name},
                   {"partitions", t.partitions},
                   {"replication_factor", t.replication_factor},
                   {"error", null_if_empty(t.error)}});
    }
    return dump(j);
  }
  std::string out;
  for (const topic_summary& t : topics) {
    out += t.name;
    if (!t.error.empty()) out += fmt::format("  (error: {})", t.error);
    out += '\n';
  }
  return out;
}

namespace {
nlohmann::json lag_json(const std::map<int32_t, int64_t>& lag) {
  if (lag.empty()) return nullptr;
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [r, behind] : lag) j[std::to_string(r)] = behind;
  return j;
}
}  // namespace

std::string render_topic_description(const topic_description& topic, bool json) {
  int32_t replication_factor = 0;
  for (const auto& p : topic.partitions)
    replication_factor = std::max(replication_factor, static_cast<int32_t>(p.replicas.size()));
  if (json) {
    nlohmann::json partitions = nlohmann::json::array();
    for (const partition_description& p : topic.partitions) {
      partitions.push_back(
          {{"partition", p.partition},
           {"leader", p.leader},
           {"replicas", p.replicas},
           {"isr", p.isr},
           {"error", null_if_empty(p.error)},
           {"log_start_offset", p.log_start_offset ? nlohmann::json(*p.log_start_offset) : nullptr},
           {"high_watermark", p.high_watermark ? nlohmann::json(*p.high_watermark) : nullptr},
           {"offsets_error", null_if_empty(p.offsets_error)},
           {"lag", lag_json(p.lag)}});
    }
    nlohmann::json configs = nlohmann::json::array();
    for (const config_description& c : topic.configs) {
      configs.push_back({{"name", c.name},
                         {"value", c.value ? nlohmann::json(*c.value) : nullptr},
                         {"source", c.source},
                         {"is_default", c.is_default},
                         {"read_only", c.read_only},
                         {"sensitive", c.sensitive}});
    }
    return dump({{"topic", topic.name},
                 {"partition_count", topic.partitions.size()},
                 {"replication_factor", replication_factor},
                 {"partitions", std::move(partitions)},
                 {"configs", std::move(configs)},
                 {"configs_error", null_if_empty(topic.configs_error)}});
  }
  std::string out = fmt::format("topic: {}  partitions: {}  replication factor: {}\n\n", topic.name,
                                topic.partitions.size(), replication_factor);
  const bool with_lag = std::any_of(topic.partitions.begin(), topic.partitions.end(),
                                    [](const auto& p) { return !p.lag.empty(); });
  std::vector<std::vector<std::string>> rows = {
      {"PARTITION", "LEADER", "REPLICAS", "ISR", "LOG-START", "HIGH-WATERMARK", "ERROR"}};
  if (with_lag) rows[0].insert(rows[0].end() - 1, "LAG");
  for (const partition_description& p : topic.partitions) {
    std::string error = p.error;
    if (!p.offsets_error.empty()) error += (error.empty() ? "" : "; ") + ("offsets: " + p.offsets_error);
    rows.push_back({std::to_string(p.partition), std::to_string(p.leader), join_ids(p.replicas),
                    join_ids(p.isr), p.log_start_offset ? std::to_string(*p.log_start_offset) : "-",
                    p.high_watermark ? std::to_string(*p.high_watermark) : "-", error});
    if (with_lag) {
      std::string lag;  // replica:offsets behind, e.g. "2:0,3:15" (? = unknown)
      for (const auto& [r, behind] : p.lag)
        lag += fmt::format("{}{}:{}", lag.empty() ? "" : ",", r, behind < 0 ? "?" : std::to_string(behind));
      rows.back().insert(rows.back().end() - 1, lag.empty() ? "-" : lag);
    }
  }
  out += render_table(rows);
  out += '\n';
  if (!topic.configs_error.empty()) {
    out += fmt::format("configs unavailable: {}\n", topic.configs_error);
    return out;
  }
  std::vector<std::vector<std::string>> config_rows = {{"CONFIG", "VALUE", "SOURCE"}};
  for (const config_description& c : topic.configs)
    config_rows.push_back({c.name, c.value ? *c.value : (c.sensitive ? "(sensitive)" : "(null)"), c.source});
  out += render_table(config_rows);
  return out;
}

std::string render_topic_created(const topic_create_request& request, bool json) {
  auto opt = [](int32_t v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
  if (json) {
    nlohmann::json configs = nlohmann::json::object();
    for (const property& p : request.configs) configs[p.key] = p.value;
    return dump({{"topic", request.name},
                 {"created", true},
                 {"partitions", opt(request.partitions)},
                 {"replication_factor", opt(request.replication_factor)},
                 {"configs", std::move(configs)}});
  }
  auto text = [](int32_t v) { return v < 0 ? std::string("broker default") : std::to_string(v); };
  return fmt::format("created topic {} (partitions: {}, replication factor: {})\n", request.name,
                     text(request.partitions), text(request.replication_factor));
}

std::string render_topics_deleted(const std::vector<std::string>& names, bool json) {
  if (json) {
    std::string out;
    for (const std::string& name : names) out += dump({{"topic", name}, {"deleted", true}});
    return out;
  }
  std::string out;
  for (const std::string& name : names) out += fmt::format("deleted topic {}\n", name);
  return out;
}

std::string first_problem(const topic_description& topic) {
  for (const partition_description& p : topic.partitions) {
    if (!p.error.empty()) return fmt::format("partition {}: {}", p.partition, p.error);
    if (!p.offsets_error.empty())
      return fmt::format("partition {}: offsets: {}", p.partition, p.offsets_error);
  }
  if (!topic.configs_error.empty()) return "configs: " + topic.configs_error;
  return {};
}

}  // namespace tributary::cluster::cli
