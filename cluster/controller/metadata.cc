#include "cluster/controller/metadata.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace tributary {

const char* errc_info<cluster::controller::errc>::message(cluster::controller::errc e) noexcept {
  using cluster::controller::errc;
  switch (e) {
    case errc::malformed_command: return "malformed controller command";
    case errc::unknown_node: return "unknown or removed node";
    case errc::topic_exists: return "topic already exists";
    case errc::unknown_topic: return "unknown topic or partition";
    case errc::invalid_assignment: return "invalid replica assignment";
    case errc::invalid_replication: return "invalid replication factor";
    case errc::invalid_partitions: return "invalid partition count";
    case errc::node_has_replicas: return "the node still holds replicas";
    case errc::malformed_snapshot: return "malformed controller snapshot";
  }
  return "unknown controller error";
}

}  // namespace tributary

namespace tributary::cluster::controller {

namespace {

using json = nlohmann::json;
constexpr int command_version = 1;
constexpr int32_t partitions_max = 10000;

json ids_json(const std::vector<node_id>& ids) {
  json a = json::array();
  for (auto id : ids) a.push_back(id.value);
  return a;
}

// Typed field access that never throws: nullopt when missing or of the wrong type.
template <class T>
std::optional<T> field(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end()) return std::nullopt;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return std::nullopt;
    return it->template get<std::string>();
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return std::nullopt;
    return it->template get<bool>();
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned()) return std::nullopt;
    return it->template get<T>();
  } else {
    if (!it->is_number_integer()) return std::nullopt;
    const auto v = it->template get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) return std::nullopt;
    return static_cast<T>(v);
  }
}

std::optional<std::vector<node_id>> ids_field(const json& j) {
  if (!j.is_array()) return std::nullopt;
  std::vector<node_id> ids;
  for (const auto& v : j) {
    if (!v.is_number_unsigned() || v.get<uint64_t>() == 0) return std::nullopt;
    ids.push_back(node_id{v.get<uint64_t>()});
  }
  return ids;
}

std::optional<std::map<std::string, std::string>> configs_field(const json& j) {
  auto it = j.find("configs");
  if (it == j.end()) return std::map<std::string, std::string>{};
  if (!it->is_object()) return std::nullopt;
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return std::nullopt;
    out[k] = v.get<std::string>();
  }
  return out;
}

// Replicas: non-empty, distinct.
bool valid_replicas(const std::vector<node_id>& r) {
  if (r.empty()) return false;
  std::set<node_id> seen(r.begin(), r.end());
  return seen.size() == r.size();
}

}  // namespace

std::vector<uint8_t> encode(const command& c) {
  json j;
  j["v"] = command_version;
  std::visit(
      [&j](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, register_node>) {
          j["op"] = "register_node";
          j["node"] = v.node.value;
          j["kafka"] = v.kafka_address;
          j["rpc"] = v.rpc_address;
        } else if constexpr (std::is_same_v<T, remove_node>) {
          j["op"] = "remove_node";
          j["node"] = v.node.value;
        } else if constexpr (std::is_same_v<T, create_topic>) {
          j["op"] = "create_topic";
          j["name"] = v.name;
          j["id"] = v.id;
          j["created_ms"] = v.created_ms;
          j["configs"] = v.configs;
          json parts = json::array();
          for (const auto& r : v.replicas) parts.push_back(ids_json(r));
          j["replicas"] = std::move(parts);
        } else if constexpr (std::is_same_v<T, delete_topic>) {
          j["op"] = "delete_topic";
          j["name"] = v.name;
        } else if constexpr (std::is_same_v<T, set_replicas>) {
          j["op"] = "set_replicas";
          j["topic"] = v.topic;
          j["partition"] = v.partition;
          j["replicas"] = ids_json(v.replicas);
        }
      },
      c);
  const std::string s = j.dump();
  return {s.begin(), s.end()};
}

result<command> decode(std::span<const uint8_t> bytes) {
  json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail(errc::malformed_command);
  if (field<int>(j, "v") != command_version) return fail(errc::malformed_command);
  const auto op = field<std::string>(j, "op");
  if (!op) return fail(errc::malformed_command);
  auto node = field<uint64_t>(j, "node");
  if (*op == "register_node") {
    auto kafka = field<std::string>(j, "kafka");
    auto rpc = field<std::string>(j, "rpc");
    if (!node || *node == 0 || !kafka || !rpc) return fail(errc::malformed_command);
    return command(register_node{node_id{*node}, *kafka, *rpc});
  }
  if (*op == "remove_node") {
    if (!node || *node == 0) return fail(errc::malformed_command);
    return command(remove_node{node_id{*node}});
  }
  if (*op == "create_topic") {
    create_topic c;
    auto name = field<std::string>(j, "name");
    auto id = field<std::string>(j, "id");
    auto created = field<int64_t>(j, "created_ms");
    auto configs = configs_field(j);
    auto parts = j.find("replicas");
    if (!name || !id || !created || !configs || parts == j.end() || !parts->is_array())
      return fail(errc::malformed_command);
    c.name = *name;
    c.id = *id;
    c.created_ms = *created;
    c.configs = std::move(*configs);
    for (const auto& p : *parts) {
      auto r = ids_field(p);
      if (!r) return fail(errc::malformed_command);
      c.replicas.push_back(std::move(*r));
    }
    return command(std::move(c));
  }
  if (*op == "delete_topic") {
    auto name = field<std::string>(j, "name");
    if (!name) return fail(errc::malformed_command);
    return command(delete_topic{*name});
  }
  if (*op == "set_replicas") {
    auto topic = field<std::string>(j, "topic");
    auto partition = field<int32_t>(j, "partition");
    auto it = j.find("replicas");
    if (!topic || !partition || it == j.end()) return fail(errc::malformed_command);
    auto r = ids_field(*it);
    if (!r) return fail(errc::malformed_command);
    return command(set_replicas{*topic, *partition, std::move(*r)});
  }
  return fail(errc::malformed_command);
}

const node_record* metadata::find_node(node_id id) const {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : &it->second;
}

const topic_record* metadata::find_topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

std::vector<node_id> metadata::live_nodes() const {
  std::vector<node_id> out;
  for (const auto& [id, n] : nodes_)
    if (!n.removed) out.push_back(id);
  return out;
}

std::map<node_id, metadata::load> metadata::loads() const {
  std::map<node_id, load> out;
  for (auto id : live_nodes()) out[id];
  for (const auto& [name, t] : topics_) {
    for (const auto& p : t.partitions) {
      for (size_t i = 0; i < p.replicas.size(); ++i) {
        auto& l = out[p.replicas[i]];
        ++l.replicas;
        if (i == 0) ++l.leaders;
      }
    }
  }
  return out;
}

result<void> metadata::apply(const command& c) {
  auto live = [this](node_id id) {
    const auto* n = find_node(id);
    return n != nullptr && !n->removed;
  };
  return std::visit(
      [&](const auto& v) -> result<void> {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, register_node>) {
          // A node registers at every start (its addresses may change); a removed node that comes
          // back is live again.
          nodes_[v.node] = node_record{v.node, v.kafka_address, v.rpc_address, false};
          return {};
        } else if constexpr (std::is_same_v<T, remove_node>) {
          if (!live(v.node)) return fail(errc::unknown_node);
          if (loads()[v.node].replicas > 0) return fail(errc::node_has_replicas);
          nodes_[v.node].removed = true;
          return {};
        } else if constexpr (std::is_same_v<T, create_topic>) {
          if (topics_.contains(v.name)) return fail(errc::topic_exists);
          if (v.replicas.empty() || v.replicas.size() > static_cast<size_t>(partitions_max))
            return fail(errc::invalid_partitions);
          for (const auto& r : v.replicas) {
            if (!valid_replicas(r)) return fail(errc::invalid_assignment);
            for (auto id : r)
              if (!live(id)) return fail(errc::unknown_node);
          }
          topic_record t{v.name, v.id, v.created_ms, v.configs, {}};
          for (const auto& r : v.replicas) t.partitions.push_back({r, next_group_++});
          topics_.emplace(v.name, std::move(t));
          return {};
        } else if constexpr (std::is_same_v<T, delete_topic>) {
          if (topics_.erase(v.name) == 0) return fail(errc::unknown_topic);
          return {};
        } else if constexpr (std::is_same_v<T, set_replicas>) {
          auto it = topics_.find(v.topic);
          if (it == topics_.end() || v.partition < 0 ||
              static_cast<size_t>(v.partition) >= it->second.partitions.size())
            return fail(errc::unknown_topic);
          if (!valid_replicas(v.replicas)) return fail(errc::invalid_assignment);
          for (auto id : v.replicas)
            if (!live(id)) return fail(errc::unknown_node);
          it->second.partitions[static_cast<size_t>(v.partition)].replicas = v.replicas;
          return {};
        }
      },
      c);
}

nlohmann::json metadata::to_json() const {
  json j;
  j["v"] = command_version;
  j["next_group"] = next_group_;
  json nodes = json::array();
  for (const auto& [id, n] : nodes_)
    nodes.push_back(
        {{"node", id.value}, {"kafka", n.kafka_address}, {"rpc", n.rpc_address}, {"removed", n.removed}});
  j["nodes"] = std::move(nodes);
  json topics = json::array();
  for (const auto& [name, t] : topics_) {
    json parts = json::array();
    for (const auto& p : t.partitions)
      parts.push_back({{"replicas", ids_json(p.replicas)}, {"group", p.group}});
    topics.push_back({{"name", t.name},
                      {"id", t.id},
                      {"created_ms", t.created_ms},
                      {"configs", t.configs},
                      {"partitions", std::move(parts)}});
  }
  j["topics"] = std::move(topics);
  return j;
}

result<metadata> metadata::from_json(const nlohmann::json& j) {
  metadata m;
  if (!j.is_object() || field<int>(j, "v") != command_version) return fail(errc::malformed_snapshot);
  auto next = field<uint64_t>(j, "next_group");
  auto nodes = j.find("nodes");
  auto topics = j.find("topics");
  if (!next || nodes == j.end() || !nodes->is_array() || topics == j.end() || !topics->is_array())
    return fail(errc::malformed_snapshot);
  m.next_group_ = *next;
  for (const auto& n : *nodes) {
    auto id = field<uint64_t>(n, "node");
    auto kafka = field<std::string>(n, "kafka");
    auto rpc = field<std::string>(n, "rpc");
    auto removed = field<bool>(n, "removed");
    if (!id || *id == 0 || !kafka || !rpc || !removed) return fail(errc::malformed_snapshot);
    m.nodes_[node_id{*id}] = node_record{node_id{*id}, *kafka, *rpc, *removed};
  }
  for (const auto& t : *topics) {
    auto name = field<std::string>(t, "name");
    auto id = field<std::string>(t, "id");
    auto created = field<int64_t>(t, "created_ms");
    auto configs = configs_field(t);
    auto parts = t.find("partitions");
    if (!name || !id || !created || !configs || parts == t.end() || !parts->is_array())
      return fail(errc::malformed_snapshot);
    topic_record rec{*name, *id, *created, std::move(*configs), {}};
    for (const auto& p : *parts) {
      auto group = field<uint64_t>(p, "group");
      auto it = p.find("replicas");
      if (!group || it == p.end()) return fail(errc::malformed_snapshot);
      auto r = ids_field(*it);
      if (!r || !valid_replicas(*r) || *group == 0 || *group >= m.next_group_)
        return fail(errc::malformed_snapshot);
      rec.partitions.push_back({std::move(*r), *group});
    }
    m.topics_.emplace(rec.name, std::move(rec));
  }
  return m;
}

result<std::vector<std::vector<node_id>>> place(const metadata& m, int32_t partitions,
                                                int32_t replication_factor) {
  if (partitions < 1 || partitions > partitions_max) return fail(errc::invalid_partitions);
  const auto nodes = m.live_nodes();
  if (replication_factor < 1 || static_cast<size_t>(replication_factor) > nodes.size())
    return fail(errc::invalid_replication);
  auto loads = m.loads();
  // How many partitions each (leader, follower) pair shares: a leader's partitions should have
  // different followers, so that when it fails its load spreads over several nodes.
  std::map<std::pair<node_id, node_id>, size_t> pairs;
  for (const auto& [name, t] : m.topics())
    for (const auto& p : t.partitions)
      for (size_t i = 1; i < p.replicas.size(); ++i) ++pairs[{p.replicas[0], p.replicas[i]}];
  const size_t n = nodes.size();
  std::vector<std::vector<node_id>> out;
  out.reserve(static_cast<size_t>(partitions));
  for (int32_t p = 0; p < partitions; ++p) {
    // Ties rotate with the partition so that equal nodes take turns.
    auto rank = [&](size_t i) { return (i + n - static_cast<size_t>(p) % n) % n; };
    std::vector<node_id> replicas;
    size_t leader = 0;
    for (size_t i = 1; i < n; ++i) {
      const auto& a = loads[nodes[i]];
      const auto& b = loads[nodes[leader]];
      if (std::tie(a.leaders, a.replicas) < std::tie(b.leaders, b.replicas) ||
          (std::tie(a.leaders, a.replicas) == std::tie(b.leaders, b.replicas) && rank(i) < rank(leader)))
        leader = i;
    }
    const node_id lead = nodes[leader];
    replicas.push_back(lead);
    ++loads[lead].leaders;
    ++loads[lead].replicas;
    while (replicas.size() < static_cast<size_t>(replication_factor)) {
      // Followers: the fewest replicas, then the fewest partitions shared with this leader, then
      // the nodes right after the leader in id order.
      std::optional<size_t> best;
      auto key = [&](size_t i) {
        return std::tuple{loads[nodes[i]].replicas, pairs[{lead, nodes[i]}], (i + n - leader) % n};
      };
      for (size_t i = 0; i < n; ++i) {
        if (std::find(replicas.begin(), replicas.end(), nodes[i]) != replicas.end()) continue;
        if (!best || key(i) < key(*best)) best = i;
      }
      replicas.push_back(nodes[*best]);
      ++loads[nodes[*best]].replicas;
      ++pairs[{lead, nodes[*best]}];
    }
    out.push_back(std::move(replicas));
  }
  return out;
}

std::vector<set_replicas> plan_add_node(const metadata& m, node_id added) {
  std::vector<set_replicas> moves;
  auto loads = m.loads();
  if (!loads.contains(added)) return moves;
  size_t total = 0, leaders = 0;
  for (const auto& [id, l] : loads) {
    total += l.replicas;
    leaders += l.leaders;
  }
  const size_t share = total / loads.size();
  const size_t leader_share = leaders / loads.size();
  for (const auto& [name, t] : m.topics()) {
    for (size_t p = 0; p < t.partitions.size(); ++p) {
      if (loads[added].replicas >= share) return moves;
      auto replicas = t.partitions[p].replicas;
      if (std::find(replicas.begin(), replicas.end(), added) != replicas.end()) continue;
      // The preferred (first) slot while the new node leads less than its share and this
      // partition's leader leads more than its own; otherwise the most loaded follower's slot.
      std::optional<size_t> slot;
      if (loads[added].leaders < leader_share && loads[replicas[0]].leaders > leader_share &&
          loads[replicas[0]].replicas > share) {
        slot = 0;
      } else {
        for (size_t i = 1; i < replicas.size(); ++i)
          if (loads[replicas[i]].replicas > share &&
              (!slot || loads[replicas[i]].replicas > loads[replicas[*slot]].replicas))
            slot = i;
      }
      if (!slot) continue;
      const node_id from = replicas[*slot];
      replicas[*slot] = added;
      --loads[from].replicas;
      ++loads[added].replicas;
      if (*slot == 0) {
        --loads[from].leaders;
        ++loads[added].leaders;
      }
      moves.push_back({name, static_cast<int32_t>(p), std::move(replicas)});
    }
  }
  return moves;
}

result<std::vector<set_replicas>> plan_remove_node(const metadata& m, node_id removed) {
  std::vector<set_replicas> moves;
  auto loads = m.loads();
  loads.erase(removed);
  for (const auto& [name, t] : m.topics()) {
    for (size_t p = 0; p < t.partitions.size(); ++p) {
      auto replicas = t.partitions[p].replicas;
      auto it = std::find(replicas.begin(), replicas.end(), removed);
      if (it == replicas.end()) continue;
      std::optional<node_id> best;
      for (const auto& [id, l] : loads) {
        if (std::find(replicas.begin(), replicas.end(), id) != replicas.end()) continue;
        if (!best || l.replicas < loads[*best].replicas) best = id;
      }
      if (!best) return fail(errc::invalid_replication);
      *it = *best;
      ++loads[*best].replicas;
      moves.push_back({name, static_cast<int32_t>(p), std::move(replicas)});
    }
  }
  return moves;
}

}  // namespace tributary::cluster::controller
