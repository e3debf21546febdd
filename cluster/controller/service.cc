#include "cluster/controller/service.h"

#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary {

const char* errc_info<cluster::controller::service_errc>::message(
    cluster::controller::service_errc e) noexcept {
  using cluster::controller::service_errc;
  switch (e) {
    case service_errc::no_leader: return "no controller leader right now";
    case service_errc::leadership_lost: return "controller leadership changed before the command committed";
    case service_errc::forward_failed: return "the call to the controller leader failed";
    case service_errc::shutting_down: return "the controller is shutting down";
  }
  return "unknown controller service error";
}

}  // namespace tributary

namespace tributary::cluster::controller {

namespace {

constexpr rpc::group_id controller_group{0};
// On the wire, a command's outcome: 0, a controller::errc, or service_error_base + a service_errc.
constexpr int16_t service_error_base = 100;

int16_t wire_error(std::error_code ec) {
  if (!ec) return 0;
  if (ec.category() == errc_category<errc>()) return static_cast<int16_t>(ec.value());
  if (ec.category() == errc_category<service_errc>())
    return static_cast<int16_t>(service_error_base + ec.value());
  return static_cast<int16_t>(service_error_base + static_cast<int>(service_errc::forward_failed));
}

std::error_code from_wire(int16_t e) {
  if (e >= service_error_base) return service_errc(e - service_error_base);
  return errc(e);
}

}  // namespace

service::service(uv::loop& l, rpc::transport& t, replication::raft_host& host, service_options options)
    : loop_(l), transport_(t), host_(host), opt_(std::move(options)), register_timer_(l) {}

service::~service() { shutdown(); }

result<std::unique_ptr<service>> service::open(uv::loop& l, rpc::transport& t, replication::raft_host& host,
                                               service_options options, int64_t now_ms) {
  std::unique_ptr<service> s(new service(l, t, host, std::move(options)));
  raft::membership boot;
  for (const auto& sd : s->opt_.seeds) boot.voters.push_back(sd.id);
  std::sort(boot.voters.begin(), boot.voters.end());
  // A node that is not a seed joins as a learner: it starts with no membership and learns it.
  if (!boot.is_voter(s->opt_.self)) boot = {};
  storage::log_config lc;
  lc.segment_bytes = 16u << 20;
  lc.retention_ms = -1;
  lc.retention_bytes = -1;
  s->group_ = TRIB_TRY(host.open_group(controller_group, s->opt_.dir, boot, lc, now_ms));
  auto* raw = s.get();
  s->group_->apply = [raw](const std::vector<raft::entry>& ents) { raw->apply(ents); };
  s->group_->on_round = [raw] { raw->after_round(); };
  for (const auto& sd : s->opt_.seeds)
    if (sd.id != s->opt_.self) t.set_peer(sd.id, sd.rpc_address);
  // Register as soon as a leader answers (a node outside group 0 sees no Raft rounds until then).
  s->register_timer_.start(s->opt_.register_retry_ms, [raw] { raw->try_register(); });
  return s;
}

node_id service::leader() const { return group_->node->leader(); }
bool service::is_leader() const { return group_->node->role() == raft::role::leader; }

void service::submit(const command& c, std::function<void(result<void>)> done) {
  if (shutting_down_) return done(fail(service_errc::shutting_down));
  auto& node = *group_->node;
  if (node.role() == raft::role::leader) {
    auto json = encode(c);
    kafka::record_batch_builder b({.base_offset = node.last_index().value + 1,
                                   .partition_leader_epoch = static_cast<int32_t>(node.term().value)});
    const int64_t now = opt_.wall_now_ms ? opt_.wall_now_ms() : 0;
    b.add({.timestamp_ms = now, .value = byte_span(json)});
    auto batch = b.build();
    if (!batch) return done(fail(batch.error()));
    raft::proposal p{raft::payload(std::move(*batch)), 1};
    auto range = node.propose(std::span<const raft::proposal>(&p, 1));
    if (!range) return done(fail(range.error()));
    pending_[range->first] = pending{node.term(), std::move(done)};
    host_.kick();
    return;
  }
  // A follower forwards to the leader. A node that knows no leader (a new node, not yet a member of
  // group 0, or during an election) asks the seeds in turn; one that is not the leader answers
  // no_leader with the leader it knows, which is asked next.
  node_id target = node.leader();
  if (target == raft::no_node || target == opt_.self) target = leader_hint_;
  if (target == raft::no_node || target == opt_.self) {
    if (opt_.seeds.empty()) return done(fail(service_errc::no_leader));
    target = opt_.seeds[next_seed_++ % opt_.seeds.size()].id;
    if (target == opt_.self) return done(fail(service_errc::no_leader));
  }
  std::weak_ptr<int> alive = alive_;
  transport_.call(target, rpc::api::controller_command, encode(c),
                  [this, alive, done = std::move(done)](result<rpc::response> r) {
                    if (alive.expired()) return done(fail(service_errc::shutting_down));
                    if (!r) {
                      leader_hint_ = raft::no_node;
                      return done(fail(service_errc::forward_failed));
                    }
                    if (r->error != 0) {
                      if (r->body.size() == 8) leader_hint_ = node_id{load_be64(r->body.data())};
                      return done(fail(from_wire(r->error)));
                    }
                    done({});
                  });
}

void service::handle_request(rpc::request&& req, rpc::transport::reply_fn reply) {
  auto c = decode(req.body);
  if (!c) return reply(rpc::response{0, wire_error(c.error()), c.error().message(), {}});
  // Only the leader proposes: a follower that got a forwarded command (leadership moved) says so.
  if (!is_leader()) {
    std::vector<uint8_t> hint(8);
    store_be64(hint.data(), leader().value);
    return reply(
        rpc::response{0, wire_error(service_errc::no_leader), "not the controller leader", std::move(hint)});
  }
  submit(*c, [reply = std::move(reply)](result<void> r) {
    std::error_code ec = r ? std::error_code() : r.error();
    reply(rpc::response{0, wire_error(ec), ec ? ec.message() : std::string(), {}});
  });
}

void service::apply(const std::vector<raft::entry>& entries) {
  bool changed = false;
  for (const auto& e : entries) {
    std::optional<result<void>> outcome;
    if (e.type == raft::entry_type::normal) {
      auto batch = kafka::record_batch_view::parse(e.data.bytes());
      std::optional<command> cmd;
      if (batch && !batch->is_compressed()) {
        for (const auto& rec : batch->records()) {
          if (!rec.value()) continue;
          auto c = decode(*rec.value());
          if (c) cmd = std::move(*c);
        }
      }
      if (!cmd) {
        TRIB_LOG_ERROR("controller", "bad_command", {"offset", e.index.value});
        outcome = fail(errc::malformed_command);
      } else {
        outcome = state_.apply(*cmd);
        changed = changed || outcome->has_value();
      }
    }
    auto it = pending_.find(e.index);
    if (it != pending_.end()) {
      auto p = std::move(it->second);
      pending_.erase(it);
      if (p.term != e.term || !outcome) {
        p.done(fail(service_errc::leadership_lost));
      } else {
        p.done(std::move(*outcome));
      }
    }
  }
  if (!changed) return;
  const auto* me = state_.find_node(opt_.self);
  // Removed by an operator (remove-node) while running: stay out; a restart registers again.
  if (me != nullptr && me->removed && registered_ && !removed_) {
    removed_ = true;
    TRIB_LOG_WARN("controller", "node_removed_from_cluster", {"node", opt_.self.value},
                  {"effect", "this node holds no replicas any more; stop it, or restart it to rejoin"});
  }
  registered_ = removed_ || (me != nullptr && !me->removed && me->kafka_address == opt_.kafka_address &&
                             me->rpc_address == opt_.rpc_address);
  for (const auto& [id, n] : state_.nodes())
    if (id != opt_.self && !n.removed) transport_.set_peer(id, n.rpc_address);
  if (on_change_) on_change_();
}

void service::after_round() {
  if (shutting_down_) return;
  const node_id lead = leader();
  if (lead != last_leader_) {
    if (last_leader_ == opt_.self) fail_pending(service_errc::leadership_lost);
    TRIB_LOG_INFO("controller", "leader_changed", {"leader", lead.value},
                  {"term", group_->node->term().value}, {"self", opt_.self.value});
    last_leader_ = lead;
  }
  try_register();
  if (is_leader()) add_learners();
}

void service::try_register() {
  if (registered_ || registering_ || shutting_down_ || register_timer_.active()) return;
  registering_ = true;
  std::weak_ptr<int> alive = alive_;
  submit(register_node{opt_.self, opt_.kafka_address, opt_.rpc_address}, [this, alive](result<void> r) {
    if (alive.expired()) return;
    registering_ = false;
    if (r) {
      TRIB_LOG_INFO("controller", "registered", {"node", opt_.self.value}, {"kafka", opt_.kafka_address},
                    {"rpc", opt_.rpc_address});
      return;
    }
    if (shutting_down_) return;
    TRIB_LOG_DEBUG("controller", "register_retry", {"error", r.error().message()});
    register_timer_.start(opt_.register_retry_ms, [this] { try_register(); });
  });
}

void service::add_learners() {
  auto& node = *group_->node;
  const auto& members = node.membership();
  for (const auto& [id, n] : state_.nodes()) {
    if (n.removed || members.contains(id)) continue;
    // One change at a time: the core refuses while another is uncommitted; the next round retries.
    if (node.propose_config_change({raft::config_change_type::add_learner, id})) {
      TRIB_LOG_INFO("controller", "learner_added", {"node", id.value});
      host_.kick();
    }
    return;
  }
}

void service::fail_pending(service_errc why) {
  auto pend = std::move(pending_);
  pending_.clear();
  for (auto& [idx, p] : pend) p.done(fail(why));
}

nlohmann::json service::status() const {
  const auto& node = *group_->node;
  nlohmann::json j;
  j["node_id"] = opt_.self.value;
  j["controller"] = {{"leader", node.leader().value},
                     {"term", node.term().value},
                     {"role", raft::to_string(node.role())},
                     {"commit_index", node.commit_index().value},
                     {"last_index", node.last_index().value}};
  nlohmann::json voters = nlohmann::json::array(), learners = nlohmann::json::array();
  for (auto v : node.membership().voters) voters.push_back(v.value);
  for (auto v : node.membership().learners) learners.push_back(v.value);
  j["controller"]["voters"] = std::move(voters);
  j["controller"]["learners"] = std::move(learners);
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& [id, n] : state_.nodes()) {
    nodes.push_back({{"node_id", id.value},
                     {"kafka", n.kafka_address},
                     {"rpc", n.rpc_address},
                     {"removed", n.removed},
                     {"connected", id == opt_.self || transport_.connected(id)}});
  }
  j["nodes"] = std::move(nodes);
  j["topics"] = state_.topics().size();
  j["registered"] = registered_;
  return j;
}

void service::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  register_timer_.cancel();
  fail_pending(service_errc::shutting_down);
}

}  // namespace tributary::cluster::controller
