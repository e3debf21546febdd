#include "cluster/cli/group.h"

#include <algorithm>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cluster/cli/kafka.h"
#include "cluster/cli/topic.h"
#include "common/assert.h"

namespace tributary::cluster::cli {

std::optional<int64_t> group_partition_lag::lag() const {
  if (!high_watermark) return std::nullopt;
  if (!committed || *committed < 0) return *high_watermark;
  return std::max<int64_t>(0, *high_watermark - *committed);
}

std::optional<int64_t> group_description::total_lag() const {
  std::optional<int64_t> sum;
  for (const auto& p : partitions) {
    if (auto l = p.lag()) sum = sum.value_or(0) + *l;
  }
  return sum;
}

namespace {

std::string dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  if (!v) return nullptr;
  return *v;
}

template <class T>
std::string opt_text(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "-";
}

nlohmann::json group_json(const group_description& g, bool with_partitions) {
  nlohmann::json j{{"group", g.group},
                   {"state", g.state},
                   {"assignor", g.assignor},
                   {"members", g.members.size()},
                   {"lag", opt(g.total_lag())},
                   {"error", g.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(g.error)}};
  if (!with_partitions) return j;
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : g.members) {
    nlohmann::json a = nlohmann::json::array();
    for (const auto& [t, p] : m.assignment) a.push_back({{"topic", t}, {"partition", p}});
    members.push_back(
        {{"member_id", m.member_id},
         {"instance_id", m.instance_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(m.instance_id)},
         {"client_id", m.client_id},
         {"host", m.host},
         {"assignment", a}});
  }
  j["members"] = members;
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : g.partitions) {
    parts.push_back({{"topic", p.topic},
                     {"partition", p.partition},
                     {"committed", opt(p.committed)},
                     {"high_watermark", opt(p.high_watermark)},
                     {"lag", opt(p.lag())},
                     {"member", p.member.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.member)},
                     {"error", p.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.error)}});
  }
  j["partitions"] = parts;
  return j;
}

}  // namespace

std::string render_group_list(const std::vector<group_description>& groups, bool json) {
  if (json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& g : groups) j.push_back(group_json(g, false));
    return dump(j);
  }
  std::vector<std::vector<std::string>> rows{{"GROUP", "STATE", "MEMBERS", "LAG"}};
  for (const auto& g : groups) {
    rows.push_back({g.group, g.state, std::to_string(g.members.size()), opt_text(g.total_lag())});
    if (!g.error.empty()) rows.back().push_back(fmt::format("(error: {})", g.error));
  }
  return render_table(rows);
}

std::string render_group_description(const group_description& g, bool json) {
  if (json) return dump(group_json(g, true));
  std::string out =
      fmt::format("group {}  state {}  assignor {}  members {}  lag {}\n", g.group, g.state,
                  g.assignor.empty() ? "-" : g.assignor, g.members.size(), opt_text(g.total_lag()));
  if (!g.error.empty()) out += fmt::format("error: {}\n", g.error);
  std::vector<std::vector<std::string>> rows{
      {"TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "MEMBER"}};
  for (const auto& p : g.partitions) {
    rows.push_back({p.topic, std::to_string(p.partition), opt_text(p.committed), opt_text(p.high_watermark),
                    opt_text(p.lag()), p.member.empty() ? "-" : p.member});
    if (!p.error.empty()) rows.back().push_back(fmt::format("(error: {})", p.error));
  }
  out += render_table(rows);
  if (!g.members.empty()) {
    std::vector<std::vector<std::string>> mrows{{"MEMBER", "INSTANCE", "CLIENT", "HOST", "PARTITIONS"}};
    for (const auto& m : g.members)
      mrows.push_back({m.member_id, m.instance_id.empty() ? "-" : m.instance_id, m.client_id, m.host,
                       std::to_string(m.assignment.size())});
    out += render_table(mrows);
  }
  return out;
}

std::string render_groups_deleted(const std::vector<std::string>& names, bool json) {
  if (json) return dump(nlohmann::json{{"deleted", names}});
  std::string out;
  for (const auto& n : names) out += fmt::format("deleted group {}\n", n);
  return out;
}

namespace {

// ---- librdkafka side --------------------------------------------------------------------------------

outcome<std::vector<std::string>> list_group_ids(client& c, int timeout_ms) {
  admin_call call(c, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms);
  rd_kafka_ListConsumerGroups(c.handle(), call.options(), call.queue());
  event_ptr ev = TRIB_TRY(call.wait(RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "group list"));
  const auto* res = rd_kafka_event_ListConsumerGroups_result(ev.get());
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** valid = rd_kafka_ListConsumerGroups_result_valid(res, &n);
  std::vector<std::string> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.emplace_back(rd_kafka_ConsumerGroupListing_group_id(valid[i]));
  size_t errs = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(res, &errs);
  if (errs > 0 && n == 0) {
    return tl::unexpected(
        kafka_failure(rd_kafka_error_code(errors[0]), "group list", rd_kafka_error_string(errors[0])));
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

void fill_descriptions(client& c, std::vector<group_description>& groups, int timeout_ms) {
  if (groups.empty()) return;
  std::vector<const char*> names;
  for (const auto& g : groups) names.push_back(g.group.c_str());
  admin_call call(c, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms);
  rd_kafka_DescribeConsumerGroups(c.handle(), names.data(), names.size(), call.options(), call.queue());
  auto ev = call.wait(RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, "DescribeConsumerGroups");
  if (!ev) {
    for (auto& g : groups) g.error = ev.error().message;
    return;
  }
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** descs = rd_kafka_DescribeConsumerGroups_result_groups(
      rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  for (size_t i = 0; i < n; ++i) {
    const auto* d = descs[i];
    auto it = std::find_if(groups.begin(), groups.end(), [&](const group_description& g) {
      return g.group == rd_kafka_ConsumerGroupDescription_group_id(d);
    });
    if (it == groups.end()) continue;
    if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(d)) {
      it->error = kafka_error_text(rd_kafka_error_code(e), rd_kafka_error_string(e));
      continue;
    }
    it->state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(d));
    const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    it->assignor = assignor ? assignor : "";
    const size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
    for (size_t m = 0; m < members; ++m) {
      const auto* md = rd_kafka_ConsumerGroupDescription_member(d, m);
      group_member_description gm;
      gm.member_id = rd_kafka_MemberDescription_consumer_id(md);
      if (const char* inst = rd_kafka_MemberDescription_group_instance_id(md)) gm.instance_id = inst;
      gm.client_id = rd_kafka_MemberDescription_client_id(md);
      gm.host = rd_kafka_MemberDescription_host(md);
      if (const auto* a = rd_kafka_MemberDescription_assignment(md)) {
        if (const auto* parts = rd_kafka_MemberAssignment_partitions(a)) {
          for (int k = 0; k < parts->cnt; ++k)
            gm.assignment.emplace_back(parts->elems[k].topic, parts->elems[k].partition);
        }
      }
      it->members.push_back(std::move(gm));
    }
  }
}

// Committed offsets through a consumer handle of the group (OffsetFetch for explicit partitions: every
// partition of every non-internal topic), which never joins the group. (librdkafka 2.0.2's admin
// ListConsumerGroupOffsets sends a malformed flexible OffsetFetch for "all topics", see
// cluster/kafka/handlers/offset_fetch.cc.) Then the high watermark of each partition that has a
// commit or a member.
void fill_offsets(const global_options& global, group_description& g) {
  const property overrides[] = {{"group.id", g.group}};
  auto c = client::create(global, client_kind::consumer, overrides);
  if (!c) {
    if (g.error.empty()) g.error = c.error().message;
    return;
  }
  std::map<std::pair<std::string, int32_t>, group_partition_lag> parts;
  auto md = fetch_metadata(*c, nullptr, global.timeout_ms, "group offsets");
  if (!md) {
    if (g.error.empty()) g.error = md.error().message;
  } else {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(16);
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)> guard(
        list, rd_kafka_topic_partition_list_destroy);
    for (int i = 0; i < (*md)->topic_cnt; ++i) {
      const auto& t = (*md)->topics[i];
      if (t.topic == nullptr || std::string_view(t.topic).starts_with("__")) continue;
      for (int p = 0; p < t.partition_cnt; ++p)
        rd_kafka_topic_partition_list_add(list, t.topic, t.partitions[p].id);
    }
    const rd_kafka_resp_err_t err =
        list->cnt > 0 ? rd_kafka_committed(c->handle(), list, global.timeout_ms) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (g.error.empty()) g.error = kafka_error_text(err);
    } else {
      for (int k = 0; k < list->cnt; ++k) {
        const auto& tp = list->elems[k];
        if (tp.offset < 0 && tp.err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;  // nothing committed
        group_partition_lag p;
        p.topic = tp.topic;
        p.partition = tp.partition;
        if (tp.offset >= 0) p.committed = tp.offset;
        if (tp.err != RD_KAFKA_RESP_ERR_NO_ERROR) p.error = rd_kafka_err2name(tp.err);
        parts[{p.topic, p.partition}] = std::move(p);
      }
    }
  }
  for (const auto& m : g.members) {
    for (const auto& tp : m.assignment) {
      auto& p = parts[tp];
      p.topic = tp.first;
      p.partition = tp.second;
      p.member = m.member_id;
    }
  }
  for (auto& [key, p] : parts) {
    int64_t low = 0, high = 0;
    const rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        c->handle(), p.topic.c_str(), p.partition, &low, &high, global.timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      p.high_watermark = high;
    } else if (p.error.empty()) {
      p.error = rd_kafka_err2name(err);
    }
    g.partitions.push_back(std::move(p));
  }
}

outcome<void> run_group_list(const global_options& global) {
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  auto ids = TRIB_TRY(list_group_ids(c, global.timeout_ms));
  std::vector<group_description> groups;
  for (auto& id : ids) groups.push_back({id, "", "", {}, {}, ""});
  fill_descriptions(c, groups, global.timeout_ms);
  for (auto& g : groups) fill_offsets(global, g);
  write_stdout(render_group_list(groups, global.json));
  return {};
}

outcome<void> run_group_describe(const global_options& global, const std::string& name) {
  const std::string context = fmt::format("group describe {}", name);
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  std::vector<group_description> groups{{name, "", "", {}, {}, ""}};
  fill_descriptions(c, groups, global.timeout_ms);
  fill_offsets(global, groups[0]);
  write_stdout(render_group_description(groups[0], global.json));
  if (!groups[0].error.empty())
    return fail_with(errc::partial, fmt::format("{}: {}", context, groups[0].error));
  return {};
}

outcome<void> run_group_delete(const global_options& global, const std::vector<std::string>& names) {
  const std::string context = fmt::format("group delete {}", fmt::join(names, " "));
  client c = TRIB_TRY(client::create(global, client_kind::admin));
  std::vector<rd_kafka_DeleteGroup_t*> dels;
  for (const auto& n : names) dels.push_back(rd_kafka_DeleteGroup_new(n.c_str()));
  admin_call call(c, RD_KAFKA_ADMIN_OP_DELETEGROUPS, global.timeout_ms);
  rd_kafka_DeleteGroups(c.handle(), dels.data(), dels.size(), call.options(), call.queue());
  rd_kafka_DeleteGroup_destroy_array(dels.data(), dels.size());
  event_ptr ev = TRIB_TRY(call.wait(RD_KAFKA_EVENT_DELETEGROUPS_RESULT, context));
  size_t n = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev.get()), &n);
  std::vector<std::string> deleted;
  std::optional<failure> first;
  for (size_t i = 0; i < n; ++i) {
    const char* name = rd_kafka_group_result_name(results[i]);
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(results[i])) {
      if (!first)
        first = kafka_failure(rd_kafka_error_code(e), fmt::format("group delete {}", name),
                              rd_kafka_error_string(e));
      continue;
    }
    deleted.emplace_back(name);
  }
  write_stdout(render_groups_deleted(deleted, global.json));
  if (first) return tl::unexpected(*first);
  return {};
}

}  // namespace

void bind_group_commands(CLI::App& root, std::shared_ptr<group_requests> parsed, command_fn& chosen) {
  CLI::App* group =
      root.add_subcommand("group", "List, describe and delete consumer groups (with their lag)");
  group->require_subcommand(1);
  CLI::App* list = group->add_subcommand("list", "Every consumer group: state, members, total lag");
  list->callback([&chosen] { chosen = [](const global_options& g) { return run_group_list(g); }; });
  CLI::App* describe = group->add_subcommand(
      "describe", "A group's members and, per partition, committed offset, high watermark and lag");
  describe->add_option("name", parsed->describe_group, "Group id")->required();
  describe->callback([parsed, &chosen] {
    chosen = [parsed](const global_options& g) { return run_group_describe(g, parsed->describe_group); };
  });
  CLI::App* remove = group->add_subcommand("delete", "Delete empty groups and their committed offsets");
  remove->add_option("names", parsed->delete_groups, "Group ids")
      ->required()
      ->expected(1, static_cast<int>(k_groups_per_delete_max));
  remove->callback([parsed, &chosen] {
    chosen = [parsed](const global_options& g) { return run_group_delete(g, parsed->delete_groups); };
  });
}

void add_group_commands(CLI::App& root, command_fn& chosen) {
  bind_group_commands(root, std::make_shared<group_requests>(), chosen);
}

}  // namespace tributary::cluster::cli
