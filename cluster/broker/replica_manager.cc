#include "cluster/broker/replica_manager.h"

#include <algorithm>

#include "common/assert.h"
#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary::cluster::broker {

namespace {
nlohmann::json voters_json(const std::vector<raft::node_id>& ids) {
  nlohmann::json a = nlohmann::json::array();
  for (auto id : ids) a.push_back(id.value);
  return a;
}
}  // namespace

replica_manager::replica_manager(uv::loop& l, partition_manager& pm, broker_service& svc,
                                 replication::raft_host& host, controller::service& ctl,
                                 rpc::transport& transport, replica_manager_options options)
    : loop_(l),
      pm_(pm),
      svc_(svc),
      host_(host),
      ctl_(ctl),
      transport_(transport),
      opt_(options),
      balance_timer_(l),
      report_timer_(l),
      report_soon_(l),
      moves_timer_(l) {
  balance_timer_.start_repeating(opt_.balance_interval_ms, [this] { balance_leaders(); });
  report_timer_.start_repeating(opt_.report_interval_ms, [this] { send_reports(); });
  moves_timer_.start_repeating(opt_.moves_interval_ms, [this] { drive_moves(); });
}

replica_manager::~replica_manager() {
  for (auto& [_, r] : replicas_) r.group->on_round = nullptr;
}

void replica_manager::reconcile() {
  const auto self = host_.options().self;
  const int64_t now = broker_service::wall_now_ms();
  placed_.clear();
  for (const auto& [name, t] : ctl_.state().topics()) {
    std::vector<int32_t> hosted;
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const auto& r = t.partitions[i].replicas;
      placed_[t.partitions[i].group] = placed{name, static_cast<int32_t>(i), r};
      // A replica held here follows its placement, also when it is placed elsewhere now (a leader
      // moving away still drives the change).
      if (auto held = replicas_.find(t.partitions[i].group); held != replicas_.end())
        held->second.replicas = r;
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
      if (auto it = replicas_.find(pr.group); it != replicas_.end()) {
        it->second.replicas = pr.replicas;  // a move changes the target; drive_moves follows it
        continue;
      }
      raft::membership boot;
      partition* p = pm_.find(name, i);
      if (p == nullptr) {
        // A replica moved onto this node: an empty log that joins the group (the leader adds it as
        // a learner and sends it the log).
        auto added = pm_.add_replica(name, i, now);
        if (!added) {
          TRIB_LOG_ERROR("broker", "replica_add_failed", {"topic", name}, {"partition", i},
                         {"error", added.error().message()});
          continue;
        }
        p = *added;
      } else {
        boot.voters = pr.replicas;  // the group's first members (ignored once it has raft.state)
        std::sort(boot.voters.begin(), boot.voters.end());
      }
      auto g = host_.open_group(rpc::group_id{pr.group}, p->log(), boot);
      if (!g) {
        TRIB_LOG_ERROR("broker", "replica_open_failed", {"topic", name}, {"partition", i},
                       {"error", g.error().message()});
        continue;
      }
      p->raft = partition::raft_binding{pr.group};
      auto& r = replicas_[pr.group];
      r = replica{name, i, pr.replicas, *g, p};
      (*g)->on_round = [this, &r] { after_round(r); };
      TRIB_LOG_INFO("broker", "replica_opened", {"topic", name}, {"partition", i}, {"group", pr.group},
                    {"replicas", raft::to_string(boot)});
    }
  }
  host_.kick();
}

void replica_manager::drive_moves() {
  const auto self = host_.options().self;
  for (auto& [group, r] : replicas_) {
    auto& node = *r.group->node;
    if (node.role() != raft::role::leader || r.replicas.empty()) continue;
    const auto& m = node.membership();
    auto placed_here = [&](raft::node_id id) {
      return std::find(r.replicas.begin(), r.replicas.end(), id) != r.replicas.end();
    };
    auto change = [&](raft::config_change_type type, raft::node_id id, const char* what) {
      // One change at a time: the core refuses while another is in flight; the next tick retries.
      if (node.propose_config_change({type, id})) {
        TRIB_LOG_INFO("broker", what, {"topic", r.topic}, {"partition", r.partition}, {"node", id.value});
        host_.kick();
      }
    };
    auto caught_up = [&](raft::node_id id) {
      auto peer = node.peer(id);
      return peer && peer->recent_active && peer->match >= node.commit_index();
    };
    // 1. A replica placed here that is not a member yet joins as a learner.
    auto missing =
        std::find_if(r.replicas.begin(), r.replicas.end(), [&](auto id) { return !m.contains(id); });
    if (missing != r.replicas.end()) {
      change(raft::config_change_type::add_learner, *missing, "replica_joining");
      continue;
    }
    // 2. A learner that is placed here becomes a voter once it has caught up.
    auto ready = std::find_if(m.learners.begin(), m.learners.end(),
                              [&](auto id) { return placed_here(id) && caught_up(id); });
    if (ready != m.learners.end()) {
      change(raft::config_change_type::promote_learner, *ready, "replica_promoted");
      continue;
    }
    if (std::any_of(m.learners.begin(), m.learners.end(), placed_here)) continue;  // still catching up
    // 3. A member no longer placed here leaves; a leader that leaves hands over first.
    auto leaving = std::find_if(m.voters.begin(), m.voters.end(), [&](auto id) { return !placed_here(id); });
    if (leaving == m.voters.end()) {
      leaving = std::find_if(m.learners.begin(), m.learners.end(), [&](auto id) { return !placed_here(id); });
      if (leaving == m.learners.end()) continue;
    }
    if (*leaving == self) {
      if (node.transfer_target() != raft::no_node) continue;
      for (auto id : r.replicas) {
        if (m.is_voter(id) && caught_up(id) && node.transfer_leadership(id)) {
          TRIB_LOG_INFO("broker", "leadership_handed_over", {"topic", r.topic}, {"partition", r.partition},
                        {"to", id.value}, {"reason", "this replica moves away"});
          host_.kick();
          break;
        }
      }
      continue;
    }
    change(raft::config_change_type::remove_node, *leaving, "replica_leaving");
  }
}

void replica_manager::remove_local(uint64_t group) {
  auto it = replicas_.find(group);
  if (it == replicas_.end() || removing_.contains(group)) return;
  removing_.insert(group);
  const std::string topic = it->second.topic;
  const int32_t partition = it->second.partition;
  TRIB_LOG_INFO("broker", "replica_moved_away", {"topic", topic}, {"partition", partition}, {"group", group});
  host_.close_group(rpc::group_id{group}, [this, group, topic, partition] {
    auto r = replicas_.find(group);
    if (r != replicas_.end()) {
      svc_.forget_partition(*r->second.part);
      replicas_.erase(r);
    }
    removing_.erase(group);
    if (auto removed = pm_.remove_replica(topic, partition); !removed)
      TRIB_LOG_ERROR("broker", "replica_remove_failed", {"topic", topic}, {"partition", partition},
                     {"error", removed.error().message()});
  });
}

void replica_manager::drop_replica_if_moved(uint64_t group, const std::vector<raft::node_id>& voters,
                                            int64_t term) {
  const auto self = host_.options().self;
  if (voters.empty() || std::find(voters.begin(), voters.end(), self) != voters.end()) return;
  auto pl = placed_.find(group);
  if (pl == placed_.end()) return;
  const auto& target = pl->second.replicas;
  if (std::find(target.begin(), target.end(), self) != target.end()) return;  // joining, not leaving
  if (auto it = replicas_.find(group); it != replicas_.end()) {
    if (it->second.group->node->term().value <= term) remove_local(group);
    return;
  }
  // A log left from before a restart, whose group was not opened again (not placed here any more).
  if (pm_.find(pl->second.topic, pl->second.partition) != nullptr) {
    if (auto removed = pm_.remove_replica(pl->second.topic, pl->second.partition); !removed)
      TRIB_LOG_ERROR("broker", "replica_remove_failed", {"topic", pl->second.topic},
                     {"partition", pl->second.partition}, {"error", removed.error().message()});
  }
}

void replica_manager::after_round(replica& r) {
  auto& node = *r.group->node;
  auto& b = *r.part->raft;
  bool serving = false;
  if (node.role() == raft::role::leader) {
    // An entry of this term committed: everything before it is committed and in the log here.
    auto t = node.log_term(node.commit_index());
    serving = t && *t == node.term();
  }
  const auto term = static_cast<int32_t>(node.term().value);
  if (serving && !b.serving) {
    if (auto rb = pm_.rebuild_producer_state(*r.part); !rb) {
      TRIB_LOG_ERROR("broker", "producer_state_rebuild_failed", {"topic", r.topic},
                     {"partition", r.partition}, {"error", rb.error().message()});
      serving = false;
    } else {
      TRIB_LOG_INFO("broker", "partition_leading", {"topic", r.topic}, {"partition", r.partition},
                    {"term", term}, {"high_watermark", node.commit_index().value + 1},
                    {"producers", r.part->producers().size()});
    }
  }
  const bool changed = serving != b.serving || term != b.term;
  const bool served_before = b.serving;
  b.serving = serving;
  b.term = term;
  const int64_t committed_end = std::max(b.committed_end, node.commit_index().value + 1);
  const bool advanced = committed_end > b.committed_end;
  b.committed_end = committed_end;
  if (changed && (serving || served_before)) {
    svc_.leadership_changed(*r.part);
    if (!report_soon_.active()) report_soon_.start(20, [this] { send_reports(); });
  } else if (advanced) {
    svc_.durable_advanced(*r.part);
  }
}

result<std::pair<storage::offset, storage::offset>> replica_manager::propose(partition& p,
                                                                             std::span<uint8_t> batch) {
  if (!p.raft) return fail(append_errc::not_leader);
  auto it = replicas_.find(p.raft->group);
  if (it == replicas_.end() || !p.serving()) return fail(append_errc::not_leader);
  auto& node = *it->second.group->node;
  if (node.role() != raft::role::leader) return fail(append_errc::not_leader);
  auto view = kafka::record_batch_view::parse(batch);
  if (!view) return fail(append_errc::corrupt_message);
  const int64_t base = node.last_index().value + 1;
  const auto width = static_cast<uint32_t>(view->last_offset_delta()) + 1;
  kafka::set_base_offset(batch, base);
  kafka::set_partition_leader_epoch(batch, static_cast<int32_t>(node.term().value));
  raft::proposal prop{raft::payload::copy_of(batch), width};
  auto range = node.propose(std::span<const raft::proposal>(&prop, 1));
  if (!range) {
    if (range.error() == raft::errc::too_many_uncommitted_bytes)
      return fail(append_errc::not_enough_replicas);
    return fail(append_errc::not_leader);
  }
  TRIB_ASSERT(range->first.value == base, "a proposal lands at the leader's next offset");
  host_.kick();
  return std::pair{storage::offset(base), storage::offset(range->last.value)};
}

result<void> replica_manager::create_topic(std::string_view name, int32_t partitions,
                                           int32_t replication_factor, const topic_config& cfg) {
  TRIB_TRY_VOID(topic_table::validate_name(name));
  if (ctl_.state().find_topic(name) != nullptr || pm_.topics().find(name) != nullptr)
    return fail(topic_errc::already_exists);
  if (creating_.contains(name)) return {};  // submitted already (auto-create asked again meanwhile)
  const auto live = ctl_.state().live_nodes().size();
  if (replication_factor == -1)
    replication_factor =
        static_cast<int32_t>(std::min<size_t>(static_cast<size_t>(opt_.default_replication_factor), live));
  auto placed = controller::place(ctl_.state(), partitions, replication_factor);
  if (!placed) {
    return fail(placed.error() == controller::errc::invalid_partitions ? topic_errc::invalid_partitions
                                                                       : topic_errc::invalid_replication);
  }
  controller::create_topic c{
      std::string(name), random_topic_id(), broker_service::wall_now_ms(), {}, std::move(*placed)};
  for (const auto& [k, v] : cfg.entries()) c.configs[k] = v;
  std::string topic(name);
  creating_.insert(topic);
  ctl_.submit(c, [this, topic, alive = std::weak_ptr<int>(alive_)](result<void> r) {
    if (alive.expired()) return;
    creating_.erase(topic);
    if (r) {
      TRIB_LOG_INFO("broker", "topic_created_in_cluster", {"topic", topic});
    } else {
      TRIB_LOG_WARN("broker", "topic_create_failed", {"topic", topic}, {"error", r.error().message()});
    }
  });
  return {};
}

std::vector<broker_address> replica_manager::brokers() const {
  std::vector<broker_address> out;
  for (const auto& [id, n] : ctl_.state().nodes()) {
    if (n.removed) continue;
    const auto colon = n.kafka_address.rfind(':');
    if (colon == std::string::npos) continue;
    broker_address a;
    a.id = static_cast<int32_t>(id.value);
    a.host = n.kafka_address.substr(0, colon);
    a.port = std::atoi(n.kafka_address.c_str() + colon + 1);
    out.push_back(std::move(a));
  }
  return out;
}

int32_t replica_manager::controller_id() const {
  const auto l = ctl_.leader();
  return l == raft::no_node ? -1 : static_cast<int32_t>(l.value);
}

std::vector<raft::node_id> replica_manager::in_sync(const replica& r) const {
  const auto& node = *r.group->node;
  std::vector<raft::node_id> out{node.id()};
  for (auto id : r.replicas) {
    if (id == node.id()) continue;
    auto peer = node.peer(id);
    if (peer && peer->recent_active && peer->state == raft::progress_state::replicate) out.push_back(id);
  }
  return out;
}

std::vector<controller::replica_lag> replica_manager::lag_of(const replica& r) const {
  const auto& node = *r.group->node;
  std::vector<controller::replica_lag> out;
  for (auto id : r.replicas) {
    if (id == node.id()) continue;
    auto peer = node.peer(id);
    out.push_back({id, peer ? std::max<int64_t>(0, node.last_index().value - peer->match.value) : -1});
  }
  return out;
}

nlohmann::json replica_manager::leaders() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [name, t] : ctl_.state().topics()) {
    for (size_t i = 0; i < t.partitions.size(); ++i) {
      const auto& pr = t.partitions[i];
      nlohmann::json j = {{"topic", name}, {"partition", i}, {"leader", 0}, {"term", 0}};
      j["replicas"] = nlohmann::json::array();
      for (auto id : pr.replicas) j["replicas"].push_back(id.value);
      std::vector<raft::node_id> isr;
      std::vector<controller::replica_lag> lag;
      std::vector<raft::node_id> voters;
      auto local = replicas_.find(pr.group);
      if (local != replicas_.end() && local->second.group->node->role() == raft::role::leader) {
        const auto& node = *local->second.group->node;
        j["leader"] = node.id().value;
        j["term"] = node.term().value;
        isr = in_sync(local->second);
        lag = lag_of(local->second);
        if (node.membership_committed()) voters = node.membership().voters;
      } else if (auto rep = reported_.find(pr.group); rep != reported_.end()) {
        j["leader"] = rep->second.leader.value;
        j["term"] = rep->second.term;
        isr = rep->second.isr;
        lag = rep->second.lag;
        voters = rep->second.voters;
      }
      j["isr"] = nlohmann::json::array();
      for (auto id : isr) j["isr"].push_back(id.value);
      j["voters"] = voters_json(voters);  // committed voters ([] while a change is in flight)
      j["lag"] = nlohmann::json::object();
      for (const auto& l : lag) j["lag"][std::to_string(l.replica.value)] = l.behind;
      out.push_back(std::move(j));
    }
  }
  return out;
}

partition_placement replica_manager::placement(std::string_view topic, int32_t partition) const {
  partition_placement out;
  const auto* t = ctl_.state().find_topic(topic);
  if (t == nullptr || partition < 0 || static_cast<size_t>(partition) >= t->partitions.size()) return out;
  const auto& pr = t->partitions[static_cast<size_t>(partition)];
  auto ids = [](const std::vector<raft::node_id>& v) {
    std::vector<int32_t> o;
    for (auto id : v) o.push_back(static_cast<int32_t>(id.value));
    return o;
  };
  out.replicas = ids(pr.replicas);
  out.isr = out.replicas;
  auto rep = reported_.find(pr.group);
  if (auto it = replicas_.find(pr.group); it != replicas_.end()) {
    const auto& node = *it->second.group->node;
    if (node.leader() != raft::no_node) {
      out.leader = static_cast<int32_t>(node.leader().value);
      out.leader_epoch = static_cast<int32_t>(node.term().value);
    }
    if (node.role() == raft::role::leader) {
      out.isr = ids(in_sync(it->second));
    } else if (rep != reported_.end() && rep->second.term == node.term().value) {
      out.isr = ids(rep->second.isr);
    }
    return out;
  }
  if (rep != reported_.end()) {
    out.leader = static_cast<int32_t>(rep->second.leader.value);
    out.leader_epoch = static_cast<int32_t>(rep->second.term);
    out.isr = ids(rep->second.isr);
  }
  return out;
}

result<size_t> replica_manager::apply_retention(partition& p, int64_t now_ms) {
  if (!p.raft) return 0;
  auto it = replicas_.find(p.raft->group);
  if (it == replicas_.end() || removing_.contains(p.raft->group)) return 0;
  auto& g = *it->second.group;
  const auto& node = *g.node;
  // The configuration recorded with the cut must be one no truncation can take back.
  if (!node.membership_committed() || node.applied_index() < raft::log_index{0}) return 0;
  auto point = p.log().retention_point(now_ms, storage::offset(node.applied_index().value + 1));
  if (!point || *point <= p.log().start_offset()) return 0;
  const raft::log_index through{point->value - 1};
  auto term = g.storage->term_at(through);
  if (!term) return 0;
  TRIB_TRY_VOID(g.storage->compacted(through, *term, node.membership()));
  auto deleted = TRIB_TRY(p.log().delete_before(*point));
  if (deleted > 0) {
    TRIB_LOG_INFO("broker", "replica_retention", {"topic", p.topic()}, {"partition", p.id()},
                  {"segments_deleted", deleted}, {"log_start", p.log().start_offset().value});
  }
  return deleted;
}

void replica_manager::send_reports() {
  const auto self = host_.options().self;
  controller::leader_report report{self, {}};
  for (const auto& [group, r] : replicas_) {
    const auto& node = *r.group->node;
    if (node.role() != raft::role::leader) continue;
    std::vector<raft::node_id> voters;
    if (node.membership_committed()) voters = node.membership().voters;
    report.led.push_back({group, node.term().value, in_sync(r), lag_of(r), std::move(voters)});
  }
  const auto body = controller::encode(report);
  for (const auto& [id, n] : ctl_.state().nodes()) {
    // Removed nodes too: they learn from the reports that their replicas are gone.
    if (id == self || !transport_.connected(id)) continue;
    transport_.call(id, rpc::api::leader_report, body, [](result<rpc::response>) {});
  }
}

void replica_manager::handle_report(rpc::request&& req, const rpc::transport::reply_fn& reply) {
  auto report = controller::decode_leader_report(req.body);
  if (!report) {
    reply(rpc::response{0, 1, "malformed leader report", {}});
    return;
  }
  // What the node no longer leads is forgotten; what it leads replaces older terms.
  std::erase_if(reported_, [&](const auto& kv) { return kv.second.leader == report->from; });
  for (auto& l : report->led) {
    auto& slot = reported_[l.group];
    if (slot.leader == raft::no_node || l.term >= slot.term)
      slot = reported{report->from, l.term, l.isr, l.lag, l.voters};
    drop_replica_if_moved(l.group, l.voters, l.term);
  }
  reply(rpc::response{0, 0, {}, {}});
}

namespace {
nlohmann::json moves_json(raft::node_id id, const std::vector<controller::set_replicas>& moves) {
  nlohmann::json out = {{"node", id.value}, {"moves", nlohmann::json::array()}};
  for (const auto& m : moves)
    out["moves"].push_back(
        {{"topic", m.topic}, {"partition", m.partition}, {"replicas", voters_json(m.replicas)}});
  return out;
}
}  // namespace

result<nlohmann::json> replica_manager::add_node(raft::node_id id) {
  const auto* n = ctl_.state().find_node(id);
  if (n == nullptr || n->removed) return fail(controller::errc::unknown_node);
  auto moves = controller::plan_add_node(ctl_.state(), id);
  for (const auto& m : moves) {
    ctl_.submit(m, [m](result<void> r) {
      if (!r)
        TRIB_LOG_WARN("broker", "replica_move_failed", {"topic", m.topic}, {"partition", m.partition},
                      {"error", r.error().message()});
    });
  }
  TRIB_LOG_INFO("broker", "node_adding", {"node", id.value}, {"moves", moves.size()});
  return moves_json(id, moves);
}

result<nlohmann::json> replica_manager::remove_node(raft::node_id id) {
  const auto* n = ctl_.state().find_node(id);
  if (n == nullptr || n->removed) return fail(controller::errc::unknown_node);
  auto moves = TRIB_TRY(controller::plan_remove_node(ctl_.state(), id));
  // The node is marked removed once no placement names it any more (after every move committed).
  struct pending {
    size_t left = 0;
    bool failed = false;
  };
  auto st = std::make_shared<pending>(pending{moves.size(), false});
  auto finish = [this, id, alive = std::weak_ptr<int>(alive_)] {
    if (alive.expired()) return;
    ctl_.submit(controller::remove_node{id}, [id](result<void> r) {
      if (r) {
        TRIB_LOG_INFO("broker", "node_removed", {"node", id.value});
      } else {
        TRIB_LOG_WARN("broker", "node_remove_failed", {"node", id.value}, {"error", r.error().message()});
      }
    });
  };
  for (const auto& m : moves) {
    ctl_.submit(m, [m, st, finish](result<void> r) {
      if (!r) {
        st->failed = true;
        TRIB_LOG_WARN("broker", "replica_move_failed", {"topic", m.topic}, {"partition", m.partition},
                      {"error", r.error().message()});
      }
      if (--st->left == 0 && !st->failed) finish();
    });
  }
  if (moves.empty()) finish();
  TRIB_LOG_INFO("broker", "node_removing", {"node", id.value}, {"moves", moves.size()});
  return moves_json(id, moves);
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
    nlohmann::json isr = nlohmann::json::array();
    if (node.role() == raft::role::leader)
      for (auto id : in_sync(r)) isr.push_back(id.value);
    out.push_back({{"topic", r.topic},
                   {"partition", r.partition},
                   {"group", group},
                   {"replicas", std::move(replicas)},
                   {"leader", node.leader().value},
                   {"role", raft::to_string(node.role())},
                   {"serving", r.part->serving()},
                   {"term", node.term().value},
                   {"isr", std::move(isr)},
                   {"voters", voters_json(node.membership().voters)},
                   {"learners", voters_json(node.membership().learners)},
                   {"high_watermark", node.commit_index().value + 1},
                   {"log_start", r.part->log().start_offset().value},
                   {"log_end", node.last_index().value + 1}});
  }
  return out;
}

}  // namespace tributary::cluster::broker
