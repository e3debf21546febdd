#include "cluster/broker/partition_manager.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/file.h"
#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary {
const char* errc_info<cluster::broker::append_errc>::message(cluster::broker::append_errc e) noexcept {
  using cluster::broker::append_errc;
  switch (e) {
    case append_errc::corrupt_message: return "corrupt batch";
    case append_errc::message_too_large: return "batch larger than max.message.bytes";
    case append_errc::out_of_order: return "out of order sequence number";
    case append_errc::fenced_epoch: return "producer epoch is older than the current one";
    case append_errc::storage_error: return "storage error";
    case append_errc::not_leader: return "not the leader of this partition";
    case append_errc::not_enough_replicas: return "too much is waiting for a majority of replicas";
  }
  return "unknown append error";
}
}  // namespace tributary

namespace tributary::cluster::broker {
namespace {

constexpr int64_t producer_id_block = 1000;

storage::log_config effective_log_config(const log_defaults& d, const topic_config& c) {
  storage::log_config l = d.log;
  if (c.retention_ms) l.retention_ms = *c.retention_ms;
  if (c.retention_bytes) l.retention_bytes = *c.retention_bytes;
  if (c.segment_bytes) l.segment_bytes = static_cast<uint64_t>(*c.segment_bytes);
  if (c.segment_ms) l.segment_ms = *c.segment_ms;
  return l;
}

}  // namespace

partition::partition(std::string topic, int32_t id, std::unique_ptr<storage::partition_log> log,
                     const log_defaults& d, const topic_config& cfg)
    : topic_(std::move(topic)),
      id_(id),
      log_(std::move(log)),
      producers_(d.producers_per_partition_max),
      max_message_bytes_(cfg.max_message_bytes.value_or(d.max_message_bytes)),
      log_append_time_(cfg.log_append_time.value_or(d.log_append_time)),
      hw_at_log_end_(d.high_watermark_at_log_end) {}

result<std::unique_ptr<partition_manager>> partition_manager::open(const std::filesystem::path& data_dir,
                                                                   const log_defaults& defaults,
                                                                   int64_t now_ms) {
  std::unique_ptr<partition_manager> pm(new partition_manager());
  pm->dir_ = data_dir;
  pm->defaults_ = defaults;
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    TRIB_LOG_ERROR("broker", "data_dir_unusable", {"path", data_dir.string()}, {"error", ec.message()});
    return fail(append_errc::storage_error);
  }
  auto lock_path = data_dir / ".lock";
  pm->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (pm->lock_fd_ < 0 || ::flock(pm->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    TRIB_LOG_ERROR("broker", "data_dir_locked", {"path", data_dir.string()},
                   {"error", "another process uses this data directory"});
    return fail(append_errc::storage_error);
  }
  pm->topics_ = TRIB_TRY(topic_table::open(data_dir));

  // Producer ids: start after the last reserved block, so no id is ever handed out twice.
  {
    std::ifstream in(data_dir / "producer_ids");
    int64_t reserved = 0;
    if (in >> reserved && reserved > 0) pm->next_producer_id_ = reserved;
    pm->producer_id_block_end_ = pm->next_producer_id_;
  }

  for (const auto& [name, info] : pm->topics_.all()) {
    auto& parts = pm->partitions_[name];
    for (int32_t i = 0; i < info.partitions; ++i)
      parts.push_back(info.hosts(i) ? TRIB_TRY(pm->open_partition(info, i, now_ms)) : nullptr);
  }
  return pm;
}

partition_manager::~partition_manager() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::filesystem::path partition_manager::partition_dir(std::string_view topic, int32_t id) const {
  return dir_ / fmt::format("{}-{}", topic, id);
}

result<std::unique_ptr<partition>> partition_manager::open_partition(const topic_info& t, int32_t id,
                                                                     int64_t now_ms) {
  auto dir = partition_dir(t.name, id);
  auto log = storage::partition_log::open(dir, effective_log_config(defaults_, t.config), now_ms);
  if (!log) {
    TRIB_LOG_ERROR("broker", "partition_open_failed", {"topic", t.name}, {"partition", id},
                   {"error", log.error().message()});
    return fail(append_errc::storage_error);
  }
  for (const auto& problem : (*log)->recovery().problems)
    TRIB_LOG_WARN("broker", "partition_recovered", {"topic", t.name}, {"partition", id}, {"detail", problem});
  auto p = std::make_unique<partition>(t.name, id, std::move(*log), defaults_, t.config);
  TRIB_TRY_VOID(rebuild_producer_state(*p));
  return p;
}

result<void> partition_manager::rebuild_producer_state(partition& p) {
  p.producers() = producer_table(defaults_.producers_per_partition_max);
  auto& log = p.log();
  uint64_t size = log.size_bytes();
  if (size == 0) return {};
  // Find a start offset roughly `producer_state_rebuild_bytes` before the end: walk from the log
  // start in big reads (cheap relative to recovery, which already read everything once).
  storage::offset from = log.start_offset();
  uint64_t skip =
      size > defaults_.producer_state_rebuild_bytes ? size - defaults_.producer_state_rebuild_bytes : 0;
  uint64_t walked = 0;
  const storage::offset end = log.end_offset();
  while (from < end) {
    auto chunk = log.read(from, 4 << 20, end);
    if (!chunk || chunk->data.empty()) break;
    kafka::batch_splitter split(chunk->data);
    while (true) {
      auto next = split.next();
      if (!next || !*next) break;
      const auto& b = **next;
      if (walked >= skip && b.producer_id() >= 0 && b.base_sequence() >= 0 && b.record_count() > 0) {
        p.producers().record(
            b.producer_id(), b.producer_epoch(),
            {b.base_sequence(), producer_table::last_sequence(b.base_sequence(), b.record_count()),
             b.base_offset(), b.last_offset()});
      }
      walked += b.bytes().size();
    }
    from = chunk->next;
  }
  return {};
}

result<const topic_info*> partition_manager::create_topic(std::string_view name, int32_t partitions,
                                                          const topic_config& cfg, int64_t now_ms,
                                                          std::string topic_id,
                                                          std::optional<std::vector<int32_t>> hosted) {
  TRIB_TRY_VOID(topic_table::validate_name(name));
  if (topics_.find(name)) return fail(topic_errc::already_exists);
  if (partitions < 1) return fail(topic_errc::invalid_partitions);
  // Leftover directories of an earlier topic with this name (its deletion was interrupted) go first.
  for (int32_t i = 0; i < partitions; ++i) {
    std::error_code ec;
    std::filesystem::remove_all(partition_dir(name, i), ec);
  }
  const topic_info* info =
      TRIB_TRY(topics_.create(name, partitions, cfg, now_ms, std::move(topic_id), std::move(hosted)));
  auto& parts = partitions_[info->name];
  parts.clear();
  for (int32_t i = 0; i < partitions; ++i) {
    if (!info->hosts(i)) {
      parts.push_back(nullptr);
      continue;
    }
    auto p = open_partition(*info, i, now_ms);
    if (!p) {
      partitions_.erase(info->name);
      (void)topics_.remove(name);
      return fail(p.error());
    }
    parts.push_back(std::move(*p));
  }
  TRIB_LOG_INFO("broker", "topic_created", {"topic", name}, {"partitions", partitions});
  return info;
}

result<void> partition_manager::delete_topic(std::string_view name) {
  const topic_info* info = topics_.find(name);
  if (!info) return fail(topic_errc::unknown_topic);
  int32_t n = info->partitions;
  std::string topic(name);
  TRIB_TRY_VOID(topics_.remove(name));
  partitions_.erase(topic);
  for (int32_t i = 0; i < n; ++i) {
    std::error_code ec;
    std::filesystem::remove_all(partition_dir(topic, i), ec);
    if (ec) TRIB_LOG_WARN("broker", "topic_dir_not_removed", {"path", partition_dir(topic, i).string()});
  }
  TRIB_LOG_INFO("broker", "topic_deleted", {"topic", topic});
  return {};
}

result<partition*> partition_manager::add_replica(std::string_view topic, int32_t id, int64_t now_ms) {
  const topic_info* t = topics_.find(topic);
  if (t == nullptr || id < 0 || id >= t->partitions) return fail(topic_errc::unknown_topic);
  if (partition* p = find(topic, id)) return p;
  std::error_code ec;
  std::filesystem::remove_all(partition_dir(topic, id), ec);  // what an interrupted removal left
  TRIB_TRY_VOID(topics_.set_hosted(topic, id, true));
  auto p = open_partition(*t, id, now_ms);
  if (!p) {
    (void)topics_.set_hosted(topic, id, false);
    return fail(p.error());
  }
  auto& slot = partitions_[t->name][static_cast<size_t>(id)];
  slot = std::move(*p);
  TRIB_LOG_INFO("broker", "replica_added", {"topic", topic}, {"partition", id});
  return slot.get();
}

result<void> partition_manager::remove_replica(std::string_view topic, int32_t id) {
  const topic_info* t = topics_.find(topic);
  if (t == nullptr || id < 0 || id >= t->partitions) return fail(topic_errc::unknown_topic);
  TRIB_TRY_VOID(topics_.set_hosted(topic, id, false));
  auto it = partitions_.find(topic);
  if (it != partitions_.end()) it->second[static_cast<size_t>(id)].reset();
  std::error_code ec;
  std::filesystem::remove_all(partition_dir(topic, id), ec);
  if (ec) TRIB_LOG_WARN("broker", "replica_dir_not_removed", {"path", partition_dir(topic, id).string()});
  TRIB_LOG_INFO("broker", "replica_removed", {"topic", topic}, {"partition", id});
  return {};
}

partition* partition_manager::find(std::string_view topic, int32_t id) {
  auto it = partitions_.find(topic);
  if (it == partitions_.end() || id < 0 || static_cast<size_t>(id) >= it->second.size()) return nullptr;
  return it->second[static_cast<size_t>(id)].get();
}

std::vector<partition*> partition_manager::all_partitions() {
  std::vector<partition*> out;
  for (auto& [_, parts] : partitions_)
    for (auto& p : parts)
      if (p) out.push_back(p.get());
  return out;
}

result<partition_manager::prepared_append> partition_manager::prepare_append(partition& p,
                                                                             std::span<uint8_t> batch,
                                                                             int64_t now_ms) {
  if (batch.size() > static_cast<size_t>(p.max_message_bytes()) + kafka::batch_log_overhead_bytes)
    return fail(append_errc::message_too_large);
  auto view = kafka::record_batch_view::parse(batch);
  if (!view) return fail(append_errc::corrupt_message);
  if (!view->validate({.producer_batch = true})) return fail(append_errc::corrupt_message);

  prepared_append a;
  a.producer_id = view->producer_id();
  a.producer_epoch = view->producer_epoch();
  a.first_seq = view->base_sequence();
  a.record_count = view->record_count();
  auto check = p.producers().check(a.producer_id, a.producer_epoch, a.first_seq, a.record_count);
  switch (check.verdict) {
    case sequence_verdict::append: break;
    case sequence_verdict::duplicate:
      a.duplicate = append_outcome{storage::offset(check.duplicate_of.base_offset),
                                   storage::offset(check.duplicate_of.last_offset), -1, true};
      return a;
    case sequence_verdict::out_of_order: return fail(append_errc::out_of_order);
    case sequence_verdict::fenced_epoch: return fail(append_errc::fenced_epoch);
  }
  if (p.log_append_time()) {
    kafka::set_log_append_time(batch, now_ms);
    a.log_append_time_ms = now_ms;
  }
  return a;
}

append_outcome partition_manager::appended(partition& p, const prepared_append& a, storage::offset base,
                                           storage::offset last, size_t bytes) {
  if (a.producer_id >= 0) {
    p.producers().record(
        a.producer_id, a.producer_epoch,
        {a.first_seq, producer_table::last_sequence(a.first_seq, a.record_count), base.value, last.value});
  }
  p.bytes_in += bytes;
  p.records_in += static_cast<uint64_t>(a.record_count);
  return append_outcome{base, last, a.log_append_time_ms, false};
}

result<append_outcome> partition_manager::append(partition& p, std::span<uint8_t> batch, int64_t now_ms) {
  auto a = TRIB_TRY(prepare_append(p, batch, now_ms));
  if (a.duplicate) return *a.duplicate;
  auto r = p.log().append(batch, storage::leader_epoch(0), now_ms);
  if (!r) return fail(append_errc::storage_error);
  return appended(p, a, r->base, r->last, batch.size());
}

result<int64_t> partition_manager::next_producer_id() {
  if (next_producer_id_ >= producer_id_block_end_) {
    int64_t end = next_producer_id_ + producer_id_block;
    if (auto r = write_file_durably(dir_ / "producer_ids", as_bytes(fmt::format("{}\n", end))); !r) {
      TRIB_LOG_ERROR("broker", "producer_ids_write_failed", {"error", r.error().message()});
      return fail(append_errc::storage_error);
    }
    producer_id_block_end_ = end;
  }
  return producer_id_base_ + next_producer_id_++;
}

result<void> partition_manager::close() {
  result<void> out;
  for (auto* p : all_partitions()) {
    if (auto r = p->log().close(); !r) {
      TRIB_LOG_ERROR("broker", "partition_close_failed", {"topic", p->topic()}, {"partition", p->id()});
      out = fail(append_errc::storage_error);
    }
  }
  return out;
}

}  // namespace tributary::cluster::broker
