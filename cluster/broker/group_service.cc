#include "cluster/broker/group_service.h"

#include <algorithm>

#include "cluster/broker/broker_service.h"
#include "common/assert.h"
#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary::cluster::broker {

namespace {

using tributary::kafka::protocol::error_code;

// One batch of our records stays well below max.message.bytes (the default 1 MiB).
constexpr size_t batch_records_bytes_max = 512 * 1024;
// Replay reads a partition in chunks of this size.
constexpr size_t replay_chunk_bytes = 1 << 20;

group::config core_config(const broker_config& cfg, std::string salt) {
  group::config c;
  c.min_session_timeout_ms = cfg.groups.min_session_timeout_ms;
  c.max_session_timeout_ms = cfg.groups.max_session_timeout_ms;
  c.initial_rebalance_delay_ms = cfg.groups.initial_rebalance_delay_ms;
  c.max_group_size = cfg.groups.max_size;
  c.offset_metadata_max_bytes = cfg.groups.offset_metadata_max_bytes;
  c.offsets_retention_ms = cfg.groups.offsets_retention_ms;
  c.member_id_salt = std::move(salt);
  return c;
}

}  // namespace

group_service::group_service(uv::loop& l, const broker_config& cfg, broker_service& svc,
                             metrics::registry& registry, std::string member_id_salt)
    : loop_(l),
      cfg_(cfg),
      svc_(svc),
      registry_(registry),
      core_(core_config(cfg, std::move(member_id_salt))),
      timer_(l) {
  commits_ = &registry_.add_counter("tributary_group_offset_commits_total",
                                    "Offsets committed (one per partition) and made durable.");
  groups_gauge_ = &registry_.add_gauge("tributary_groups", "Consumer groups known to this coordinator.");
}

group_service::~group_service() = default;

int64_t group_service::now() const { return svc_.mono_now_ms(); }

// ---- the internal topic -------------------------------------------------------------------------

error_code group_service::ensure_topic() {
  if (const topic_info* t = svc_.find_topic(offsets_topic)) {
    partition_count_ = t->partitions;
    return error_code::none;
  }
  topic_config tc;
  tc.retention_ms = -1;
  tc.retention_bytes = -1;
  tc.segment_bytes = static_cast<int64_t>(cfg_.groups.offsets_segment_bytes);
  auto created = svc_.create_topic(offsets_topic, cfg_.groups.offsets_partitions, tc, false);
  if (!created) {
    TRIB_LOG_ERROR("groups", "offsets_topic_create_failed", {"error", created.error().message()});
    return error_code::coordinator_not_available;
  }
  partition_count_ = cfg_.groups.offsets_partitions;
  TRIB_LOG_INFO("groups", "offsets_topic_created", {"topic", offsets_topic},
                {"partitions", partition_count_});
  return error_code::none;
}

error_code group_service::coordinator_for(std::string_view group_id, int32_t& node_id) {
  if (stopped_) return error_code::coordinator_not_available;
  if (auto e = ensure_topic(); e != error_code::none) return e;
  // The leader of the group's partition. A single node leads every partition.
  const int32_t index = group::partition_for(group_id, partition_count_);
  if (const auto* c = svc_.cluster()) {
    node_id = c->placement(offsets_topic, index).leader;
    return node_id < 0 ? error_code::coordinator_not_available : error_code::none;
  }
  node_id = svc_.node_id();
  return error_code::none;
}

error_code group_service::check_coordinator(std::string_view group_id) {
  if (stopped_) return error_code::coordinator_not_available;
  if (!svc_.clustered()) return error_code::none;
  if (ensure_topic() != error_code::none) return error_code::coordinator_not_available;
  const int32_t index = group::partition_for(group_id, partition_count_);
  const partition* p = svc_.find(offsets_topic, index);
  if (p == nullptr || !p->serving()) return error_code::not_coordinator;
  return loaded_.contains(index) ? error_code::none : error_code::coordinator_load_in_progress;
}

void group_service::partition_leadership(partition& p) {
  if (stopped_ || p.topic() != offsets_topic) return;
  if (auto e = ensure_topic(); e != error_code::none) return;
  const int32_t index = p.id();
  // Whatever the core holds for this partition is stale now (serving again after another leader,
  // or not serving any more): forget it, answering parked requests.
  group::outputs out;
  std::vector<std::string> ids;
  for (const auto& [id, _] : core_.groups())
    if (group::partition_for(id, partition_count_) == index) ids.push_back(id);
  for (const auto& id : ids) core_.unload(id, out);
  loaded_.erase(index);
  if (p.serving()) {
    if (auto r = replay(p); !r) {
      TRIB_LOG_ERROR("groups", "partition_replay_failed", {"partition", index},
                     {"error", r.error().message()});
    } else {
      loaded_.insert(index);
    }
  }
  TRIB_LOG_INFO("groups", p.serving() ? "coordinating" : "not_coordinating", {"partition", index},
                {"groups_unloaded", ids.size()});
  dispatch(out);
}

partition* group_service::offsets_partition(std::string_view group_id) {
  if (ensure_topic() != error_code::none) return nullptr;
  return svc_.find(offsets_topic, group::partition_for(group_id, partition_count_));
}

result<int64_t> group_service::append(partition& p, const std::vector<record>& records) {
  const int64_t ts = broker_service::wall_now_ms();
  int64_t next = -1;
  size_t i = 0;
  while (i < records.size()) {
    std::vector<std::vector<uint8_t>> keys;
    keys.reserve(records.size() - i);
    tributary::kafka::record_batch_builder b;
    for (; i < records.size(); ++i) {
      if (b.record_count() > 0 && b.records_bytes() > batch_records_bytes_max) break;
      keys.push_back(group::encode_key(records[i].key));
      tributary::kafka::record_input in;
      in.timestamp_ms = ts;
      in.key = byte_span(keys.back());
      if (records[i].value) in.value = byte_span(*records[i].value);
      b.add(in);
    }
    auto batch = TRIB_TRY(b.build());
    auto r = TRIB_TRY(svc_.append(p, batch));
    next = r.last.value + 1;
  }
  return next;
}

// ---- load and compaction ------------------------------------------------------------------------

// A record that is not ours (a client produced to the internal topic) or does not decode is skipped and
// counted, never fatal: the broker must start whatever the topic holds.
bool group_service::replay_record(const tributary::kafka::record_view& rec) {
  if (!rec.key()) return false;
  auto key = group::decode_key(*rec.key());
  if (!key || !*key) return false;
  if (const auto* ok = std::get_if<group::offset_key>(&**key)) {
    if (!rec.value()) {
      core_.remove_offset(ok->group, {ok->topic, ok->partition});
      return true;
    }
    auto v = group::decode_offset_value(*rec.value());
    if (!v) return false;
    core_.apply_commit(ok->group, {ok->topic, ok->partition}, *v);
    return true;
  }
  const auto& gk = std::get<group::group_key>(**key);
  if (!rec.value()) {
    core_.erase(gk.group);
    return true;
  }
  auto s = group::decode_group_value(*rec.value());
  if (!s) return false;
  s->id = gk.group;
  core_.restore(*s, now());
  return true;
}

result<void> group_service::replay(partition& p) {
  auto& log = p.log();
  storage::offset from = log.start_offset();
  const storage::offset end = log.end_offset();
  std::vector<uint8_t> scratch;
  size_t records = 0;
  size_t skipped = 0;
  while (from < end) {
    auto chunk = TRIB_TRY(log.read(from, replay_chunk_bytes, end));
    if (chunk.data.empty()) break;
    tributary::kafka::batch_splitter split(chunk.data);
    while (true) {
      auto b = split.next();
      if (!b || !*b) break;  // the log's batches were checked on recovery; a torn read ends the chunk
      if ((*b)->is_control()) continue;
      auto recs = tributary::kafka::read_records(**b, scratch, 64u << 20);
      if (!recs) {
        ++skipped;
        continue;
      }
      for (const auto& rec : *recs) (replay_record(rec) ? records : skipped)++;
      if (recs->error()) ++skipped;
    }
    if (chunk.next <= from) break;
    from = chunk.next;
  }
  if (records > 0 || skipped > 0)
    TRIB_LOG_INFO("groups", "partition_replayed", {"partition", p.id()}, {"records", records},
                  {"skipped", skipped}, {"log_start", log.start_offset().value}, {"log_end", end.value});
  return {};
}

result<void> group_service::load() {
  if (svc_.clustered()) return {};  // each partition is replayed when its replica here starts serving
  const topic_info* t = svc_.find_topic(offsets_topic);
  if (!t) return {};
  partition_count_ = t->partitions;
  for (int32_t i = 0; i < t->partitions; ++i) {
    partition* p = svc_.find(offsets_topic, i);
    if (!p) continue;
    TRIB_TRY_VOID(replay(*p));
  }
  groups_gauge_->set(static_cast<int64_t>(core_.groups().size()));
  TRIB_LOG_INFO("groups", "loaded", {"groups", core_.groups().size()}, {"partitions", partition_count_});
  arm_timer();
  return {};
}

size_t group_service::compact_if_needed() {
  if (!svc_.find_topic(offsets_topic)) return 0;
  size_t n = 0;
  for (int32_t i = 0; i < partition_count_; ++i) {
    partition* p = svc_.find(offsets_topic, i);
    if (!p || p->replicated()) continue;  // a Raft log is cut by Raft only (not yet: see issue 9)
    auto& st = partitions_[i];
    const uint64_t size = p->log().size_bytes();
    if (st.compacting || size <= cfg_.groups.offsets_compact_bytes || size <= 4 * st.live_bytes) continue;
    compact(*p, i);
    ++n;
  }
  return n;
}

void group_service::compact(partition& p, int32_t index) {
  std::vector<record> live;
  for (const auto& [id, g] : core_.groups()) {
    if (group::partition_for(id, partition_count_) != index) continue;
    if (auto s = core_.snapshot(id)) live.push_back({group::group_key{id}, group::encode_group_value(*s)});
    for (const auto& [tp, c] : g.offsets)
      live.push_back({group::offset_key{id, tp.first, tp.second}, group::encode_offset_value(c)});
  }
  const storage::offset keep_from = p.log().end_offset();
  const uint64_t before = p.log().size_bytes();
  auto next = append(p, live);
  if (!next) {
    TRIB_LOG_ERROR("groups", "compaction_failed", {"partition", index}, {"error", next.error().message()});
    return;
  }
  auto& st = partitions_[index];
  st.live_bytes = std::max<uint64_t>(p.log().size_bytes() - before, 1);
  st.compacting = true;
  // Old segments go once the live state is durable.
  partition* pp = &p;
  auto done = [this, pp, index, keep_from, target = *next](wake_reason) {
    partitions_[index].compacting = false;
    if (pp->high_watermark().value < target) return;  // storage failed or shutdown: keep everything
    auto deleted = pp->log().delete_before(keep_from);
    if (!deleted) {
      TRIB_LOG_ERROR("groups", "compaction_delete_failed", {"partition", index},
                     {"error", deleted.error().message()});
      return;
    }
    TRIB_LOG_INFO("groups", "compacted", {"partition", index}, {"segments_deleted", *deleted},
                  {"log_start", pp->log().start_offset().value}, {"bytes", pp->log().size_bytes()});
  };
  if (p.high_watermark().value >= *next) {
    done(wake_reason::reached);
  } else {
    svc_.wait({{&p, *next}}, -1, done);
  }
}

// ---- requests -----------------------------------------------------------------------------------

void group_service::dispatch(group::outputs& out) {
  for (auto& [id, r] : out.joins) {
    auto it = joins_.find(id);
    TRIB_ASSERT(it != joins_.end(), "a join answer for no parked request");
    auto cb = std::move(it->second);
    joins_.erase(it);
    cb(r);
  }
  for (auto& [id, r] : out.syncs) {
    auto it = syncs_.find(id);
    TRIB_ASSERT(it != syncs_.end(), "a sync answer for no parked request");
    auto cb = std::move(it->second);
    syncs_.erase(it);
    cb(r);
  }
  expire(out.expired_offsets);
  persist_groups(out.changed_groups);
  groups_gauge_->set(static_cast<int64_t>(core_.groups().size()));
  arm_timer();
}

void group_service::expire(const std::vector<std::pair<std::string, group::topic_partition>>& expired) {
  if (expired.empty()) return;
  std::map<partition*, std::vector<record>> by_partition;
  for (const auto& [id, tp] : expired) {
    if (partition* p = offsets_partition(id))
      by_partition[p].push_back({group::offset_key{id, tp.first, tp.second}, std::nullopt});
  }
  for (auto& [p, recs] : by_partition) {
    if (auto r = append(*p, recs); !r)
      TRIB_LOG_WARN("groups", "offset_expiry_write_failed", {"partition", p->id()},
                    {"error", r.error().message()});
  }
  TRIB_LOG_INFO("groups", "offsets_expired", {"offsets", expired.size()}, {"group", expired.front().first});
}

void group_service::persist_groups(const std::vector<std::string>& ids) {
  for (const auto& id : ids) {
    partition* p = offsets_partition(id);
    if (!p) continue;
    std::vector<record> recs;
    auto s = core_.snapshot(id);
    recs.push_back({group::group_key{id}, s ? std::optional(group::encode_group_value(*s)) : std::nullopt});
    if (auto r = append(*p, recs); !r)
      TRIB_LOG_WARN("groups", "group_metadata_write_failed", {"group", id}, {"error", r.error().message()});
  }
  if (!ids.empty()) compact_if_needed();
}

void group_service::join(group::join_request req, join_callback cb) {
  if (auto e = check_coordinator(req.group_id); e != error_code::none) {
    group::join_result r;
    r.error = e;
    r.member_id = req.member_id;
    cb(r);
    return;
  }
  const auto id = next_request_++;
  joins_.emplace(id, std::move(cb));
  group::outputs out;
  core_.join(req, id, now(), out);
  dispatch(out);
}

void group_service::sync(group::sync_request req, sync_callback cb) {
  if (auto e = check_coordinator(req.group_id); e != error_code::none) {
    cb(group::sync_result{e, {}});
    return;
  }
  const auto id = next_request_++;
  syncs_.emplace(id, std::move(cb));
  group::outputs out;
  core_.sync(req, id, now(), out);
  dispatch(out);
}

error_code group_service::heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                                    const std::optional<std::string>& instance_id) {
  if (auto e = check_coordinator(group_id); e != error_code::none) return e;
  group::outputs out;
  auto e = core_.heartbeat(group_id, generation, member_id, instance_id, now(), out);
  dispatch(out);
  return e;
}

std::vector<error_code> group_service::leave(std::string_view group_id,
                                             const std::vector<group::member_ref>& members,
                                             error_code& group_error) {
  if (auto e = check_coordinator(group_id); e != error_code::none) {
    group_error = e;
    return std::vector<error_code>(members.size(), e);
  }
  group::outputs out;
  auto r = core_.leave(group_id, members, now(), out, group_error);
  dispatch(out);
  return r;
}

void group_service::commit(std::string_view group_id, int32_t generation, std::string_view member_id,
                           const std::optional<std::string>& instance_id, std::vector<commit_entry> entries,
                           commit_callback cb) {
  auto fail_all = [&](error_code e) {
    for (auto& en : entries) en.error = e;
    cb(std::move(entries));
  };
  if (group_id.empty()) return fail_all(error_code::invalid_group_id);
  if (auto ce = check_coordinator(group_id); ce != error_code::none) return fail_all(ce);
  partition* p = offsets_partition(group_id);
  if (!p) return fail_all(error_code::coordinator_not_available);
  const auto e = core_.validate_commit(group_id, generation, member_id, instance_id, now());
  arm_timer();
  if (e != error_code::none) return fail_all(e);
  const int64_t wall = broker_service::wall_now_ms();
  std::vector<record> recs;
  std::vector<size_t> accepted;
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& en = entries[i];
    const topic_info* t = svc_.find_topic(en.topic);
    if (!t || en.partition < 0 || en.partition >= t->partitions) {
      en.error = error_code::unknown_topic_or_partition;
      continue;
    }
    if (en.value.metadata && en.value.metadata->size() > core_.offset_metadata_max_bytes()) {
      en.error = error_code::offset_metadata_too_large;
      continue;
    }
    en.value.commit_time_ms = wall;
    recs.push_back({group::offset_key{std::string(group_id), en.topic, en.partition},
                    group::encode_offset_value(en.value)});
    accepted.push_back(i);
  }
  if (recs.empty()) {
    cb(std::move(entries));
    return;
  }
  auto next = append(*p, recs);
  if (!next) {
    TRIB_LOG_WARN("groups", "offset_commit_write_failed", {"group", group_id},
                  {"error", next.error().message()});
    for (size_t i : accepted) entries[i].error = error_code::coordinator_not_available;
    cb(std::move(entries));
    return;
  }
  // Applied now (so that a compaction snapshot taken meanwhile includes them), answered when durable.
  for (size_t i : accepted)
    core_.apply_commit(group_id, {entries[i].topic, entries[i].partition}, entries[i].value);
  commits_->inc(accepted.size());
  struct parked {
    std::vector<commit_entry> entries;
    std::vector<size_t> accepted;
    commit_callback cb;
  };
  auto st = std::make_shared<parked>(parked{std::move(entries), std::move(accepted), std::move(cb)});
  const int64_t target = *next;
  auto finish = [st, p, target](wake_reason) {
    if (p->high_watermark().value < target) {
      // Storage failed, or shutdown before the sync: the client retries with another coordinator.
      for (size_t i : st->accepted) st->entries[i].error = error_code::coordinator_not_available;
    }
    st->cb(std::move(st->entries));
  };
  if (p->high_watermark().value >= target) {
    finish(wake_reason::reached);
  } else {
    svc_.wait({{p, target}}, -1, finish);
  }
  compact_if_needed();
}

error_code group_service::delete_group(std::string_view group_id) {
  if (auto e = check_coordinator(group_id); e != error_code::none) return e;
  if (auto e = core_.can_delete(group_id); e != error_code::none) return e;
  partition* p = offsets_partition(group_id);
  if (!p) return error_code::coordinator_not_available;
  std::vector<record> recs;
  if (const auto* offs = core_.offsets(group_id)) {
    for (const auto& [tp, _] : *offs)
      recs.push_back({group::offset_key{std::string(group_id), tp.first, tp.second}, std::nullopt});
  }
  recs.push_back({group::group_key{std::string(group_id)}, std::nullopt});
  if (auto r = append(*p, recs); !r) {
    TRIB_LOG_WARN("groups", "group_delete_write_failed", {"group", group_id}, {"error", r.error().message()});
    return error_code::coordinator_not_available;
  }
  core_.erase(group_id);
  groups_gauge_->set(static_cast<int64_t>(core_.groups().size()));
  TRIB_LOG_INFO("groups", "group_deleted", {"group", group_id});
  return error_code::none;
}

// ---- time ---------------------------------------------------------------------------------------

void group_service::arm_timer() {
  if (stopped_) return;
  auto next = core_.next_deadline();
  if (!next) {
    timer_.cancel();
    timer_armed_for_.reset();
    return;
  }
  if (timer_armed_for_ == next && timer_.active()) return;
  timer_armed_for_ = next;
  const int64_t delay = std::max<int64_t>(0, *next - now());
  timer_.start(static_cast<uint64_t>(delay), [this] {
    timer_armed_for_.reset();
    group::outputs out;
    core_.tick(now(), out);
    dispatch(out);
  });
}

void group_service::shutdown() {
  stopped_ = true;
  timer_.cancel();
  timer_armed_for_.reset();
  auto joins = std::move(joins_);
  auto syncs = std::move(syncs_);
  joins_.clear();
  syncs_.clear();
  for (auto& [_, cb] : joins) {
    group::join_result r;
    r.error = error_code::coordinator_not_available;
    cb(r);
  }
  for (auto& [_, cb] : syncs) cb(group::sync_result{error_code::coordinator_not_available, {}});
}

// ---- metrics ------------------------------------------------------------------------------------

void group_service::refresh_metrics() {
  for (auto& [_, g] : lag_gauges_) {
    g.lag->set(0);
    g.committed->set(-1);
  }
  for (auto& [_, g] : member_gauges_) g->set(0);
  for (const auto& [id, g] : core_.groups()) {
    auto mg = member_gauges_.find(id);
    if (mg == member_gauges_.end()) {
      mg = member_gauges_
               .emplace(id, &registry_.add_gauge("tributary_group_members", "Members of a consumer group.",
                                                 {{"group", id}}))
               .first;
    }
    mg->second->set(static_cast<int64_t>(g.members.size()));
    for (const auto& [tp, c] : g.offsets) {
      auto key = std::make_tuple(id, tp.first, tp.second);
      auto it = lag_gauges_.find(key);
      if (it == lag_gauges_.end()) {
        metrics::labels labels{{"group", id}, {"topic", tp.first}, {"partition", std::to_string(tp.second)}};
        lag_gauges g2;
        g2.lag = &registry_.add_gauge("tributary_group_lag",
                                      "Records between a group's committed offset and the high watermark.",
                                      labels);
        g2.committed =
            &registry_.add_gauge("tributary_group_committed_offset", "A group's committed offset.", labels);
        it = lag_gauges_.emplace(key, g2).first;
      }
      const partition* p = svc_.find(tp.first, tp.second);
      const int64_t hw = p ? p->high_watermark().value : 0;
      it->second.committed->set(c.offset);
      it->second.lag->set(c.offset >= 0 ? std::max<int64_t>(0, hw - c.offset) : hw);
    }
  }
  groups_gauge_->set(static_cast<int64_t>(core_.groups().size()));
}

}  // namespace tributary::cluster::broker
