#include "cluster/broker/broker_service.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <fstream>
#include <random>

#include <fmt/format.h>

#include "cluster/broker/group_service.h"
#include "common/assert.h"
#include "common/log.h"

namespace tributary::cluster::broker {

namespace {

std::string counters_key(std::string_view topic, int32_t id) { return fmt::format("{}/{}", topic, id); }

std::array<uint8_t, 16> random_16() {
  std::random_device rd;
  std::array<uint8_t, 16> out{};
  for (size_t i = 0; i < out.size(); i += 4) {
    uint32_t v = rd();
    for (size_t j = 0; j < 4; ++j) out[i + j] = static_cast<uint8_t>(v >> (8 * j));
  }
  return out;
}

}  // namespace

std::string random_topic_id() {
  auto b = random_16();
  std::string out;
  out.reserve(32);
  for (uint8_t v : b) out += fmt::format("{:02x}", v);
  return out;
}

result<std::string> load_or_create_cluster_id(const std::filesystem::path& data_dir) {
  const auto file = data_dir / "cluster_id";
  {
    std::ifstream in(file);
    std::string id;
    if (in && std::getline(in, id) && !id.empty() && id.size() <= 64) return id;
  }
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  auto b = random_16();
  std::string id;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t v : b) {
    acc = (acc << 8) | v;
    bits += 8;
    while (bits >= 6) {
      id += alphabet[(acc >> (bits - 6)) & 0x3f];
      bits -= 6;
    }
  }
  if (bits > 0) id += alphabet[(acc << (6 - bits)) & 0x3f];
  TRIB_ASSERT(id.size() == 22);
  // Written once, durably (temp file, fsync, rename, fsync of the directory): at start-up, before the
  // loop serves anyone.
  auto tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail(append_errc::storage_error);
  std::string text = id + "\n";
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), file.c_str()) != 0) return fail(append_errc::storage_error);
  int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return fail(append_errc::storage_error);
  ok = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!ok) return fail(append_errc::storage_error);
  TRIB_LOG_INFO("broker", "cluster_id_created", {"cluster_id", id});
  return id;
}

broker_service::broker_service(uv::loop& l, const broker_config& cfg, partition_manager& pm, flusher& f,
                               metrics::registry& registry, std::string cluster_id,
                               advertised_address advertised)
    : loop_(l),
      cfg_(cfg),
      pm_(pm),
      flusher_(f),
      registry_(registry),
      cluster_id_(std::move(cluster_id)),
      advertised_(std::move(advertised)),
      deadline_timer_(l),
      wake_timer_(l) {
  waiting_gauge_ = &registry_.add_gauge(
      "tributary_waiting_requests",
      "Requests parked until a high watermark moves (acks=-1 produce, fetch long polls).");
  topics_created_ =
      &registry_.add_counter("tributary_topics_created_total", "Topics created (also auto-created).");
}

broker_service::~broker_service() = default;

int64_t broker_service::wall_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t broker_service::mono_now_ms() const { return static_cast<int64_t>(loop_.now_ms()); }

const topic_info* broker_service::find_topic_by_id(std::string_view topic_id_hex) const {
  for (const auto& [_, t] : pm_.topics().all()) {
    if (t.topic_id == topic_id_hex) return &t;
  }
  return nullptr;
}

result<const topic_info*> broker_service::get_or_create(std::string_view name, bool allow) {
  if (const topic_info* t = find_topic(name)) return t;
  TRIB_TRY_VOID(topic_table::validate_name(name));
  if (!allow || !cfg_.auto_create_topics) return fail(topic_errc::unknown_topic);
  if (cluster_) {
    // Created through the controller: the topic exists here once committed and reconciled; until
    // then the client sees a retriable unknown topic and asks again.
    TRIB_TRY_VOID(cluster_->create_topic(name, cfg_.default_partitions, -1, {}));
    return fail(topic_errc::unknown_topic);
  }
  auto created = create_topic(name, cfg_.default_partitions, {}, false);
  if (created)
    TRIB_LOG_INFO("broker", "topic_auto_created", {"topic", name}, {"partitions", cfg_.default_partitions});
  return created;
}

result<const topic_info*> broker_service::create_topic(std::string_view name, int32_t partitions,
                                                       const topic_config& cfg, bool validate_only,
                                                       int32_t replication_factor) {
  TRIB_TRY_VOID(topic_table::validate_name(name));
  if (find_topic(name)) return fail(topic_errc::already_exists);
  if (partitions < 1 || partitions > topic_table::partitions_max) return fail(topic_errc::invalid_partitions);
  if (validate_only) return nullptr;
  if (cluster_) {
    TRIB_TRY_VOID(cluster_->create_topic(name, partitions, replication_factor, cfg));
    return nullptr;  // submitted to the controller (CreateTopics with timeout 0 semantics)
  }
  auto t = TRIB_TRY(pm_.create_topic(name, partitions, cfg, wall_now_ms(), random_topic_id()));
  topics_created_->inc();
  return t;
}

result<void> broker_service::delete_topic(std::string_view name) {
  const topic_info* t = find_topic(name);
  if (!t) return fail(topic_errc::unknown_topic);
  const std::string topic(name);
  std::vector<partition*> parts;
  for (int32_t i = 0; i < t->partitions; ++i) {
    if (partition* p = pm_.find(topic, i)) parts.push_back(p);
  }
  // The flusher must never touch them again; a round in flight skips them.
  for (partition* p : parts) flusher_.forget(*p);
  for (partition* p : parts) pending_wake_.erase(p);
  if (auto r = pm_.delete_topic(topic); !r) {
    for (partition* p : parts) flusher_.appended(*p);  // still there: keep syncing them
    return r;
  }
  // The partitions are destroyed; their addresses are only keys now. Waiters answer without them.
  for (partition* p : parts) waiters_.gone(p);
  for (int32_t i = 0; i < static_cast<int32_t>(parts.size()); ++i) {
    auto it = counters_.find(counters_key(topic, i));
    if (it != counters_.end()) it->second.log_bytes->set(0);
  }
  waiters_changed();
  return {};
}

size_t broker_service::partition_count() {
  size_t n = 0;
  for (const auto& [_, t] : pm_.topics().all()) n += static_cast<size_t>(t.partitions);
  return n;
}

partition_counters& broker_service::counters(const partition& p) {
  auto key = counters_key(p.topic(), p.id());
  auto it = counters_.find(key);
  if (it != counters_.end()) return it->second;
  metrics::labels labels{{"topic", p.topic()}, {"partition", std::to_string(p.id())}};
  partition_counters c;
  c.bytes_in = &registry_.add_counter("tributary_partition_bytes_in_total",
                                      "Batch bytes appended by producers.", labels);
  c.records_in = &registry_.add_counter("tributary_partition_records_in_total",
                                        "Records appended by producers.", labels);
  c.bytes_out =
      &registry_.add_counter("tributary_partition_bytes_out_total", "Batch bytes served by Fetch.", labels);
  c.records_out = &registry_.add_counter("tributary_partition_records_out_total",
                                         "Records served by Fetch (whole batches).", labels);
  c.log_bytes =
      &registry_.add_gauge("tributary_partition_log_bytes", "Size of the partition's segments.", labels);
  return counters_.emplace(std::move(key), c).first->second;
}

result<append_outcome> broker_service::append(partition& p, std::span<uint8_t> batch) {
  if (p.replicated()) return append_replicated(p, batch);
  if (flusher_.failed(p)) return fail(append_errc::storage_error);
  auto r = TRIB_TRY(pm_.append(p, batch, wall_now_ms()));
  if (r.duplicate) return r;
  auto& c = counters(p);
  c.bytes_in->inc(batch.size());
  c.records_in->inc(static_cast<uint64_t>(r.last.value - r.base.value + 1));
  flusher_.appended(p);
  if (cfg_.flush.mode == flush_mode::interval) {
    // The high watermark is the log end: wake this partition's waiters, on the next loop iteration
    // (never from inside the handler that appended).
    pending_wake_.insert(&p);
    if (!wake_timer_.active()) {
      wake_timer_.start(0, [this] {
        auto parts = std::move(pending_wake_);
        pending_wake_.clear();
        for (partition* q : parts) waiters_.advanced(q, q->high_watermark().value);
        waiters_changed();
      });
    }
  }
  return r;
}

// A Raft partition's log is written by its group only: the leader checks the batch as a single
// node would (size, CRC, the idempotent producer's sequence, against a producer state rebuilt when
// it became leader and kept for its own proposals), then proposes it; its offsets are final once
// the group commits it (the high watermark passes them), or it is cut with a deposed leader's
// suffix, and the producer, told NOT_LEADER_OR_FOLLOWER, resends it to the new leader.
result<append_outcome> broker_service::append_replicated(partition& p, std::span<uint8_t> batch) {
  if (cluster_ == nullptr || !p.serving()) return fail(append_errc::not_leader);
  auto a = TRIB_TRY(pm_.prepare_append(p, batch, wall_now_ms()));
  if (a.duplicate) return *a.duplicate;
  auto [base, last] = TRIB_TRY(cluster_->propose(p, batch));
  auto r = pm_.appended(p, a, base, last, batch.size());
  auto& c = counters(p);
  c.bytes_in->inc(batch.size());
  c.records_in->inc(static_cast<uint64_t>(a.record_count));
  return r;
}

void broker_service::leadership_changed(partition& p) {
  // The group coordinator loads or unloads the groups of an offsets partition.
  if (groups_ != nullptr) groups_->partition_leadership(p);
  // The waiters re-check the partition (serving, epoch, high watermark) when they wake.
  waiters_.gone(&p);
  waiters_changed();
}

void broker_service::forget_partition(partition& p) {
  pending_wake_.erase(&p);
  waiters_.gone(&p);
  waiters_changed();
}

void broker_service::note_fetched(const partition& p, uint64_t bytes, uint64_t records) {
  auto& c = counters(p);
  c.bytes_out->inc(bytes);
  c.records_out->inc(records);
}

size_t broker_service::apply_retention() {
  size_t deleted = 0;
  const int64_t now = wall_now_ms();
  for (partition* p : pm_.all_partitions()) {
    auto r = p->replicated() ? (cluster_ ? cluster_->apply_retention(*p, now) : result<size_t>(0))
                             : p->log().apply_retention(now, p->high_watermark());
    if (!r) {
      TRIB_LOG_ERROR("broker", "retention_failed", {"topic", p->topic()}, {"partition", p->id()},
                     {"error", r.error().message()});
      continue;
    }
    if (*r > 0 && !p->replicated()) flusher_.appended(*p);  // the directory changed: the next round syncs it
    deleted += *r;
  }
  return deleted;
}

void broker_service::durable_advanced(partition& p) {
  waiters_.advanced(&p, p.high_watermark().value);
  waiters_changed();
}

void broker_service::storage_failure(partition& p) {
  TRIB_LOG_ERROR("broker", "partition_storage_failed", {"topic", p.topic()}, {"partition", p.id()},
                 {"effect", "appends answer KAFKA_STORAGE_ERROR; restart the broker to recover the log"});
  waiters_.gone(&p);
  waiters_changed();
}

hw_waiters::id broker_service::wait(std::vector<hw_waiters::condition> conditions, int64_t deadline_ms,
                                    hw_waiters::callback cb) {
  auto id = waiters_.add(std::move(conditions), deadline_ms, std::move(cb));
  waiting_gauge_->set(static_cast<int64_t>(waiters_.size()));
  if (deadline_ms >= 0) arm_deadline_timer();
  return id;
}

bool broker_service::cancel_wait(hw_waiters::id w) {
  bool r = waiters_.cancel(w);
  waiting_gauge_->set(static_cast<int64_t>(waiters_.size()));
  return r;
}

void broker_service::wake_all_waiters() {
  waiters_.wake_all(wake_reason::shutdown);
  waiters_changed();
}

// After waiters were woken or removed: the gauge follows, and the deadline timer is re-armed for
// the earliest deadline left.
void broker_service::waiters_changed() {
  waiting_gauge_->set(static_cast<int64_t>(waiters_.size()));
  arm_deadline_timer();
}

void broker_service::arm_deadline_timer() {
  auto next = waiters_.next_deadline();
  if (!next) {
    deadline_timer_.cancel();
    timer_armed_for_.reset();
    return;
  }
  if (timer_armed_for_ == next && deadline_timer_.active()) return;
  timer_armed_for_ = next;
  const int64_t delay = std::max<int64_t>(0, *next - mono_now_ms());
  deadline_timer_.start(static_cast<uint64_t>(delay), [this] {
    timer_armed_for_.reset();
    waiters_.expire(mono_now_ms());
    waiters_changed();
  });
}

void broker_service::refresh_gauges() {
  for (partition* p : pm_.all_partitions())
    counters(*p).log_bytes->set(static_cast<int64_t>(p->log().size_bytes()));
  if (groups_) groups_->refresh_metrics();
}

std::vector<config_entry> broker_service::topic_configs(const topic_info& t) const {
  const log_defaults& d = pm_.defaults();
  const topic_config& c = t.config;
  std::vector<config_entry> out;
  auto add = [&](std::string name, config_type type, std::optional<std::string> override_value,
                 std::string default_value) {
    config_entry e;
    e.name = std::move(name);
    e.type = type;
    if (override_value) {
      e.value = *override_value;
      e.source = config_source::dynamic_topic;
      e.default_value = std::move(default_value);
    } else {
      e.value = std::move(default_value);
      e.source = config_source::default_config;
    }
    out.push_back(std::move(e));
  };
  auto str = [](const auto& opt) -> std::optional<std::string> {
    if (!opt) return std::nullopt;
    return fmt::format("{}", *opt);
  };
  auto ts_type = [](bool log_append) { return std::string(log_append ? "LogAppendTime" : "CreateTime"); };
  add("cleanup.policy", config_type::list, std::nullopt, "delete");
  add("max.message.bytes", config_type::int_type, str(c.max_message_bytes),
      std::to_string(d.max_message_bytes));
  add("message.timestamp.type", config_type::string,
      c.log_append_time ? std::optional<std::string>(ts_type(*c.log_append_time)) : std::nullopt,
      ts_type(d.log_append_time));
  add("retention.bytes", config_type::long_type, str(c.retention_bytes),
      std::to_string(d.log.retention_bytes));
  add("retention.ms", config_type::long_type, str(c.retention_ms), std::to_string(d.log.retention_ms));
  add("segment.bytes", config_type::int_type, str(c.segment_bytes), std::to_string(d.log.segment_bytes));
  add("segment.ms", config_type::long_type, str(c.segment_ms), std::to_string(d.log.segment_ms));
  return out;
}

std::vector<config_entry> broker_service::broker_configs() const {
  const log_defaults& d = pm_.defaults();
  auto e = [](std::string name, std::string value, config_type type) {
    return config_entry{std::move(name), std::move(value), config_source::static_broker, type, true,
                        std::nullopt};
  };
  return {
      e("auto.create.topics.enable", cfg_.auto_create_topics ? "true" : "false", config_type::boolean),
      e("broker.id", std::to_string(cfg_.node_id), config_type::int_type),
      e("log.dirs", cfg_.data_dir, config_type::string),
      e("log.message.timestamp.type", d.log_append_time ? "LogAppendTime" : "CreateTime",
        config_type::string),
      e("log.retention.bytes", std::to_string(d.log.retention_bytes), config_type::long_type),
      e("log.retention.ms", std::to_string(d.log.retention_ms), config_type::long_type),
      e("log.segment.bytes", std::to_string(d.log.segment_bytes), config_type::int_type),
      e("message.max.bytes", std::to_string(d.max_message_bytes), config_type::int_type),
      e("num.partitions", std::to_string(cfg_.default_partitions), config_type::int_type),
      e("socket.request.max.bytes", std::to_string(cfg_.kafka.max_request_bytes), config_type::int_type),
  };
}

}  // namespace tributary::cluster::broker
