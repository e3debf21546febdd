#pragma once
// What the Kafka handlers call: topics (create, delete, auto-create), appends that feed the group
// commit, high-watermark waits (acks=-1, Fetch long polls), producer ids, describe-configs data and
// per-partition metrics. Handlers never reach the partition_manager's storage through anything else.
//
// Runs on the event-loop thread. It owns the hw_waiters and the timer that expires their deadlines;
// the partition_manager and the flusher are the caller's (main.cc), and must outlive it.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cluster/broker/broker_config.h"
#include "cluster/broker/flusher.h"
#include "cluster/broker/hw_waiters.h"
#include "cluster/broker/partition_manager.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/uv/loop.h"
#include "common/uv/timer.h"

namespace tributary::cluster::broker {

// Where clients reach this node (Metadata).
struct advertised_address {
  std::string host;
  int32_t port = 0;
};

// Kafka's ConfigSource values (DescribeConfigs v1+).
enum class config_source : int8_t {
  dynamic_topic = 1,
  static_broker = 4,
  default_config = 5,
};
// Kafka's ConfigType values (DescribeConfigs v3+).
enum class config_type : int8_t { boolean = 1, string = 2, int_type = 3, long_type = 5, list = 7 };

struct config_entry {
  std::string name;
  std::string value;
  config_source source = config_source::default_config;
  config_type type = config_type::string;
  bool read_only = false;
  // The broker-level default this value overrides (synonyms), when source is dynamic_topic.
  std::optional<std::string> default_value;
};

// Counters of one partition for /metrics (registered on first use, never removed).
struct partition_counters {
  metrics::counter* bytes_in = nullptr;
  metrics::counter* records_in = nullptr;
  metrics::counter* bytes_out = nullptr;
  metrics::counter* records_out = nullptr;
  metrics::gauge* log_bytes = nullptr;
};

class group_service;

// What a cluster node's replica_manager provides to the Kafka side.
struct broker_address {
  int32_t id = 0;
  std::string host;
  int32_t port = 0;
};
struct partition_placement {
  int32_t leader = -1;  // -1: no leader known (LEADER_NOT_AVAILABLE)
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;  // replicas the leader knows to be caught up (all replicas when unknown)
};
class cluster_hooks {
 public:
  virtual ~cluster_hooks() = default;
  // Validates and submits a topic to the controller; it exists once committed (timeout 0).
  virtual result<void> create_topic(std::string_view name, int32_t partitions, int32_t replication_factor,
                                    const topic_config& cfg) = 0;
  // Proposes one checked producer batch to p's Raft group (p.serving()): rewrites its base offset
  // and leader epoch and returns the offsets it will have once committed.
  virtual result<std::pair<storage::offset, storage::offset>> propose(partition& p,
                                                                      std::span<uint8_t> batch) = 0;
  virtual std::vector<broker_address> brokers() const = 0;
  virtual int32_t controller_id() const = 0;  // -1 when no controller leader is known
  virtual partition_placement placement(std::string_view topic, int32_t partition) const = 0;
  // Retention on a Raft partition's replica: below what it has applied, the cut recorded in the
  // group's state first. Segments deleted.
  virtual result<size_t> apply_retention(partition& p, int64_t now_ms) = 0;
};

class broker_service {
 public:
  broker_service(uv::loop& l, const broker_config& cfg, partition_manager& pm, flusher& f,
                 metrics::registry& registry, std::string cluster_id, advertised_address advertised);
  ~broker_service();
  broker_service(const broker_service&) = delete;
  broker_service& operator=(const broker_service&) = delete;

  const broker_config& config() const { return cfg_; }
  int32_t node_id() const { return cfg_.node_id; }
  const std::string& cluster_id() const { return cluster_id_; }
  const advertised_address& advertised() const { return advertised_; }
  void set_advertised(advertised_address a) { advertised_ = std::move(a); }
  // The leader epoch of every partition on a single node (the Raft term later).
  static constexpr int32_t leader_epoch = 0;

  // Clocks: wall time for record timestamps and retention, the loop's monotonic time for waits.
  static int64_t wall_now_ms();
  int64_t mono_now_ms() const;

  // ---- topics
  const topic_table& topics() const { return pm_.topics(); }
  const topic_info* find_topic(std::string_view name) const { return pm_.topics().find(name); }
  const topic_info* find_topic_by_id(std::string_view topic_id_hex) const;
  partition* find(std::string_view topic, int32_t id) { return pm_.find(topic, id); }
  // The topic, auto-created with default_partitions when auto_create_topics is on and `allow`.
  // Errors: topic_errc::unknown_topic (not created), invalid_name, and create_topic's.
  result<const topic_info*> get_or_create(std::string_view name, bool allow);
  // validate_only: every check, nothing created (nullptr). In cluster mode a topic is submitted to
  // the controller and nullptr is returned: it exists once committed.
  result<const topic_info*> create_topic(std::string_view name, int32_t partitions, const topic_config& cfg,
                                         bool validate_only, int32_t replication_factor = -1);
  result<void> delete_topic(std::string_view name);
  size_t partition_count();

  // ---- data
  // Appends one producer batch (partition_manager::append), then hands the partition to the group
  // commit and, when the high watermark is the log end (flush.mode = interval), wakes its waiters.
  result<append_outcome> append(partition& p, std::span<uint8_t> batch);
  // Bytes and records served by Fetch (metrics).
  void note_fetched(const partition& p, uint64_t bytes, uint64_t records);
  bool storage_failed(const partition& p) const { return flusher_.failed(p); }
  // Retention on every partition (below the high watermark); returns segments deleted.
  size_t apply_retention();

  // ---- waits (see hw_waiters.h). deadline_ms is on mono_now_ms()'s clock; < 0 = none.
  hw_waiters::id wait(std::vector<hw_waiters::condition> conditions, int64_t deadline_ms,
                      hw_waiters::callback cb);
  bool cancel_wait(hw_waiters::id w);
  size_t waiting() const { return waiters_.size(); }
  // Shutdown: wakes every waiter now.
  void wake_all_waiters();

  // ---- producers
  result<int64_t> next_producer_id() { return pm_.next_producer_id(); }

  // ---- configs
  std::vector<config_entry> topic_configs(const topic_info& t) const;
  std::vector<config_entry> broker_configs() const;

  // ---- cluster mode (nullptr on a single node): topics (__consumer_offsets too) are created through
  // the controller, Raft partitions are written through their group, Metadata describes every node
  // (cluster_hooks).
  bool clustered() const { return cluster_ != nullptr; }
  void set_cluster(cluster_hooks* c) { cluster_ = c; }
  const cluster_hooks* cluster() const { return cluster_; }
  // A Raft partition's leadership or term changed: its waiters wake and answer (a produce that
  // waited on a deposed leader gets NOT_LEADER_OR_FOLLOWER), and the high watermark is re-read.
  void leadership_changed(partition& p);
  // A Raft partition's replica is about to leave this node (moved away): its waiters answer now.
  void forget_partition(partition& p);

  // ---- groups (group_service.h; set once by main before serving, nullptr in tests without groups)
  void set_groups(group_service* g) { groups_ = g; }
  group_service* groups() { return groups_; }

  // Updates log-size gauges (before a /metrics render).
  void refresh_gauges();

  // From the flusher: p's durable offset advanced (wakes waiters in sync mode), or its fdatasync
  // failed (wakes its waiters, which answer KAFKA_STORAGE_ERROR).
  void durable_advanced(partition& p);
  void storage_failure(partition& p);

 private:
  partition_counters& counters(const partition& p);
  result<append_outcome> append_replicated(partition& p, std::span<uint8_t> batch);
  void arm_deadline_timer();
  void waiters_changed();

  uv::loop& loop_;
  const broker_config& cfg_;
  partition_manager& pm_;
  flusher& flusher_;
  metrics::registry& registry_;
  std::string cluster_id_;
  advertised_address advertised_;
  hw_waiters waiters_;
  uv::timer deadline_timer_;
  std::optional<int64_t> timer_armed_for_;
  uv::timer wake_timer_;  // interval mode: wakes waiters of appended partitions on the next iteration
  std::unordered_set<partition*> pending_wake_;
  std::unordered_map<std::string, partition_counters> counters_;
  metrics::gauge* waiting_gauge_ = nullptr;
  metrics::counter* topics_created_ = nullptr;
  group_service* groups_ = nullptr;
  cluster_hooks* cluster_ = nullptr;
};

// `<data_dir>/cluster_id`: read it, or create it (22 characters of URL-safe base64 of 16 random
// bytes, as Kafka's cluster ids) on first start.
result<std::string> load_or_create_cluster_id(const std::filesystem::path& data_dir);
// 32 random hex digits (a topic id).
std::string random_topic_id();

}  // namespace tributary::cluster::broker
