#include "cluster/broker/replica_manager.h"

#include <algorithm>

#include "cluster/broker/broker_service.h"
#include "common/log.h"

namespace tributary::cluster::broker {

replica_manager::replica_manager(uv::loop& l, partition_manager& pm, replication::raft_host& host,
                                 controller::service& ctl, int32_t default_replication_factor,
                                 uint64_t balance_interval_ms)
    : loop_(l),
      pm_(pm),
      host_(host),
      ctl_(ctl),
      default_replication_factor_(default_replication_factor),
      balance_timer_(l) {
  balance_timer_.start_repeating(balance_interval_ms, [this] { balance_leaders(); });
}

replica_manager::~replica_manager() = default;

void replica_manager::reconcile() {
  const auto self = host_.options().self;
  const int64_t now = broker_service::wall_now_ms();
  for (const auto& [name, t] : ctl_.state().topics()) {
    std::vector<int32_t> hosted;
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const auto& r = t.partitions[i].replicas;
      if (std::find(r.begin(), r.end(), self) != r.end()) hosted.push_back(static_cast<int32_t>(i));
    }
    if (pm_.topics().find(name) == nullptr) {
      topic_config cfg;
      for (const auto& [k, v] : t.configs)
        if (!cfg.set(k, v)) TRIB_LOG_WARN("broker", "topic_config_ignored", {"topic", name}, {"config", k});
      auto created =
          pm_.create_topic(name, static_cast<int32_t>(t.partitions.size()), cfg, now, t.id, hosted);
      if (!created) {
        TRIB_LOG_ERROR("broker", "replica_create_failed", {"topic", name},
                       {"error", created.error().message()});
        continue;
      }
    }
    for (int32_t i : hosted) {
      const auto& pr = t.partitions[static_cast<size_t>(i)];
      if (replicas_.contains(pr.group)) continue;
      partition* p = pm_.find(name, i);
      if (p == nullptr) continue;  // created before this node hosted it (a move: a later step)
      raft::membership boot;
      boot.voters = pr.replicas;
      std::sort(boot.voters.begin(), boot.voters.end());
      auto g = host_.open_group(rpc::group_id{pr.group}, p->log(), boot);
      if (!g) {
        TRIB_LOG_ERROR("broker", "replica_open_failed", {"topic", name}, {"partition", i},
                       {"error", g.error().message()});
        continue;
      }
      p->replicated = true;
      replicas_[pr.group] = replica{name, i, pr.replicas, *g};
      TRIB_LOG_INFO("broker", "replica_opened", {"topic", name}, {"partition", i}, {"group", pr.group},
                    {"replicas", raft::to_string(boot)});
    }
  }
  host_.kick();
}

result<void> replica_manager::create_topic(std::string_view name, int32_t partitions,
                                           int32_t replication_factor, const topic_config& cfg) {
  TRIB_TRY_VOID(topic_table::validate_name(name));
  if (ctl_.state().find_topic(name) != nullptr || pm_.topics().find(name) != nullptr)
    return fail(topic_errc::already_exists);
  const auto live = ctl_.state().live_nodes().size();
  if (replication_factor == -1)
    replication_factor =
        static_cast<int32_t>(std::min<size_t>(static_cast<size_t>(default_replication_factor_), live));
  auto placed = controller::place(ctl_.state(), partitions, replication_factor);
  if (!placed) {
    return fail(placed.error() == controller::errc::invalid_partitions ? topic_errc::invalid_partitions
                                                                       : topic_errc::invalid_replication);
  }
  controller::create_topic c{
      std::string(name), random_topic_id(), broker_service::wall_now_ms(), {}, std::move(*placed)};
  for (const auto& [k, v] : cfg.entries()) c.configs[k] = v;
  std::string topic(name);
  ctl_.submit(c, [topic](result<void> r) {
    if (r) {
      TRIB_LOG_INFO("broker", "topic_created_in_cluster", {"topic", topic});
    } else {
      TRIB_LOG_WARN("broker", "topic_create_failed", {"topic", topic}, {"error", r.error().message()});
    }
  });
  return {};
}

void replica_manager::balance_leaders() {
  const auto self = host_.options().self;
  for (auto& [group, r] : replicas_) {
    auto& node = *r.group->node;
    if (node.role() != raft::role::leader || r.replicas.empty() || r.replicas.front() == self) continue;
    const auto preferred = r.replicas.front();
    if (node.transfer_target() != raft::no_node) continue;
    auto peer = node.peer(preferred);
    if (!peer || !peer->recent_active || peer->match < node.last_index()) continue;
    if (node.transfer_leadership(preferred)) {
      TRIB_LOG_INFO("broker", "leadership_to_preferred", {"topic", r.topic}, {"partition", r.partition},
                    {"to", preferred.value});
      host_.kick();
    }
  }
}

nlohmann::json replica_manager::status() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [group, r] : replicas_) {
    const auto& node = *r.group->node;
    nlohmann::json replicas = nlohmann::json::array();
    for (auto id : r.replicas) replicas.push_back(id.value);
    out.push_back({{"topic", r.topic},
                   {"partition", r.partition},
                   {"group", group},
                   {"replicas", std::move(replicas)},
                   {"leader", node.leader().value},
                   {"role", raft::to_string(node.role())},
                   {"term", node.term().value},
                   {"high_watermark", node.commit_index().value + 1},
                   {"log_end", node.last_index().value + 1}});
  }
  return out;
}

}  // namespace tributary::cluster::broker
