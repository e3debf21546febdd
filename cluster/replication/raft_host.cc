#include "cluster/replication/raft_host.h"

#include "common/assert.h"
#include "common/log.h"

namespace tributary::cluster::replication {

result<std::unique_ptr<raft_host>> raft_host::create(uv::loop& l, rpc::transport& t, host_options options,
                                                     std::function<void(std::error_code)> on_fatal) {
  auto w = TRIB_TRY(uv::worker::start(l, {.max_in_flight_jobs = 4, .name = "trib-raft-sync"}));
  std::unique_ptr<raft_host> h(new raft_host(l, t, std::move(options), std::move(w), std::move(on_fatal)));
  return h;
}

raft_host::raft_host(uv::loop& l, rpc::transport& t, host_options options, uv::worker w,
                     std::function<void(std::error_code)> on_fatal)
    : loop_(l),
      transport_(t),
      opt_(std::move(options)),
      worker_(std::move(w)),
      on_fatal_(std::move(on_fatal)),
      tick_timer_(l),
      kick_timer_(l) {
  tick_timer_.start_repeating(opt_.tick_ms, [this] { tick(); });
}

raft_host::~raft_host() = default;

result<hosted_group*> raft_host::open_group(rpc::group_id id, const std::filesystem::path& dir,
                                            raft::membership bootstrap, const storage::log_config& log_config,
                                            int64_t now_ms) {
  auto log = TRIB_TRY(storage::partition_log::open(dir, log_config, now_ms));
  auto* raw = log.get();
  hosted_group* g = TRIB_TRY(open_group(id, *raw, std::move(bootstrap)));
  g->owned_log = std::move(log);
  return g;
}

result<hosted_group*> raft_host::open_group(rpc::group_id id, storage::partition_log& log,
                                            raft::membership bootstrap) {
  TRIB_ASSERT(!groups_.contains(id), "group opened twice");
  auto g = std::make_unique<hosted_group>();
  g->id = id;
  g->log = &log;
  g->storage = TRIB_TRY(segment_storage::open(log, std::move(bootstrap)));
  raft::config cfg;
  cfg.id = opt_.self;
  cfg.election_ticks = opt_.election_ticks;
  cfg.heartbeat_ticks = opt_.heartbeat_ticks;
  cfg.random_seed = opt_.random_seed * 1000003 + id.value;
  // Entries up to the saved commit index are handed out again: the application rebuilds its state
  // from them (the controller's metadata, a partition's producer state).
  cfg.applied = raft::no_index;
  g->node = TRIB_TRY(raft::node::create(cfg, *g->storage));
  auto* raw = g.get();
  groups_.emplace(id, std::move(g));
  return raw;
}

hosted_group* raft_host::find(rpc::group_id id) {
  auto it = groups_.find(id);
  return it == groups_.end() ? nullptr : it->second.get();
}

void raft_host::close_group(rpc::group_id id, std::function<void()> done) {
  if (in_round_ || finishing_) {
    closing_.emplace_back(id, std::move(done));
    return;
  }
  groups_.erase(id);
  if (done) done();
}

void raft_host::receive(rpc::raft_batch&& batch) {
  if (stopping_ || failed_) return;
  for (auto& gm : batch.messages) {
    auto* g = find(gm.group);
    if (g == nullptr) {
      ++stats_.unknown_group_messages;
      continue;
    }
    if (auto r = g->node->step(std::move(gm.message)); !r) {
      TRIB_LOG_DEBUG("raft", "message_refused", {"group", gm.group.value}, {"error", r.error().message()});
    }
  }
  kick();
}

void raft_host::kick() {
  if (stopping_ || failed_ || kick_timer_.active()) return;
  kick_timer_.start(0, [this] { process(); });
}

void raft_host::tick() {
  if (stopping_ || failed_) return;
  for (auto& [id, g] : groups_) g->node->tick();
  process();
}

void raft_host::send(const hosted_group& g, std::vector<raft::message>& msgs) {
  for (auto& m : msgs) {
    const auto to = m.to;
    transport_.send(to, g.id, std::move(m));
  }
}

void raft_host::process() {
  if (stopping_ || failed_) return;
  if (in_round_) {
    again_ = true;
    return;
  }
  std::vector<std::pair<hosted_group*, raft::ready>> readies;
  std::vector<std::pair<hosted_group*, storage::sync_job>> jobs;
  const int64_t now = opt_.wall_now_ms ? opt_.wall_now_ms() : 0;
  for (auto& [id, gp] : groups_) {
    hosted_group& g = *gp;
    if (!g.node->has_ready()) continue;
    raft::ready rd = g.node->ready();
    send(g, rd.early_messages);
    auto write = [&]() -> result<void> {
      if (rd.snapshot) TRIB_TRY_VOID(g.storage->apply_snapshot(*rd.snapshot, now));
      TRIB_TRY_VOID(g.storage->append(rd.entries, now));
      if (rd.hard_state) TRIB_TRY_VOID(g.storage->set_hard_state(*rd.hard_state));
      return {};
    };
    if (auto r = write(); !r) {
      TRIB_LOG_ERROR("raft", "persist_failed", {"group", id.value}, {"error", r.error().message()});
      failed_ = true;
      ++stats_.fsync_failures;
      if (on_fatal_) on_fatal_(r.error());
      return;
    }
    if (rd.snapshot || !rd.entries.empty()) jobs.emplace_back(&g, g.log->prepare_sync());
    readies.emplace_back(&g, std::move(rd));
  }
  transport_.flush();
  if (readies.empty()) return;
  ++stats_.rounds;
  in_round_ = true;
  if (jobs.empty()) {
    finish_round(std::move(readies), std::move(jobs), true);
    return;
  }
  ++stats_.fsync_rounds;
  auto shared_jobs =
      std::make_shared<std::vector<std::pair<hosted_group*, storage::sync_job>>>(std::move(jobs));
  auto shared_readies =
      std::make_shared<std::vector<std::pair<hosted_group*, raft::ready>>>(std::move(readies));
  auto ok = std::make_shared<bool>(true);
  auto submitted = worker_.submit(
      [shared_jobs, ok] {
        for (const auto& [g, job] : *shared_jobs) {
          if (!storage::partition_log::run_sync(job)) *ok = false;
        }
      },
      [this, shared_jobs, shared_readies, ok](std::error_code ec) {
        finish_round(std::move(*shared_readies), std::move(*shared_jobs), *ok && !ec);
      });
  if (!submitted) {
    in_round_ = false;
    failed_ = true;
    if (on_fatal_) on_fatal_(submitted.error());
  }
}

void raft_host::finish_round(std::vector<std::pair<hosted_group*, raft::ready>> readies,
                             std::vector<std::pair<hosted_group*, storage::sync_job>> jobs, bool ok) {
  in_round_ = false;
  if (!ok) {
    ++stats_.fsync_failures;
    failed_ = true;
    TRIB_LOG_ERROR("raft", "fsync_failed", {"logs", jobs.size()});
    if (on_fatal_) on_fatal_(std::make_error_code(std::errc::io_error));
    return;
  }
  for (auto& [g, job] : jobs) g->log->complete_sync(job);
  finishing_ = true;  // groups the round holds must outlive it (close_group waits)
  for (auto& [g, rd] : readies) {
    send(*g, rd.messages);
    if (!rd.committed_entries.empty() && g->apply) g->apply(rd.committed_entries);
    g->node->advance(rd);
    if (g->on_round) g->on_round();
  }
  transport_.flush();
  finishing_ = false;
  for (auto& [id, done] : std::exchange(closing_, {})) {
    groups_.erase(id);
    if (done) done();
  }
  if (stopping_) {
    if (on_stopped_) std::exchange(on_stopped_, nullptr)();
    return;
  }
  bool more = again_;
  again_ = false;
  for (auto& [id, g] : groups_) more = more || g->node->has_ready();
  if (more) process();
}

void raft_host::stop(std::function<void()> done) {
  stopping_ = true;
  tick_timer_.cancel();
  kick_timer_.cancel();
  if (in_round_) {
    on_stopped_ = std::move(done);
    return;
  }
  if (done) done();
}

}  // namespace tributary::cluster::replication
