#pragma once
// The settings of one tributary-broker node: a plain struct whose initial values are the defaults,
// bound to dotted keys by declare() (common/config.h). packaging/config/broker.json documents every
// key; `tributary-broker --print-config` prints the effective values.
//
// Every limit of the Kafka listener is here, named: frame size, connections, in-flight requests per
// connection, write buffer, fetch response size and wait.
#include <cstdint>
#include <string>
#include <vector>

#include "cluster/broker/partition_manager.h"
#include "common/config.h"

namespace tributary::cluster::broker {

// When acks=-1 (all) produce requests are answered, and what consumers may read:
//  - sync: after the fdatasync that covers the batch (group commit: one fsync round for every
//    producer that appended meanwhile, on a worker thread). The high watermark is the durable offset,
//    so a consumer never sees data that a power cut could take back.
//  - interval: right after the append (page cache); fdatasync runs every flush.interval_ms. The high
//    watermark is the log end. Faster, but a power cut (not a process crash) loses up to an interval
//    of acknowledged data that consumers may already have read.
enum class flush_mode { sync, interval };

struct broker_config {
  int32_t node_id = 0;
  std::string data_dir = "/var/lib/tributary/broker";
  std::string listen = "0.0.0.0:9092";
  std::string advertised_listener;  // "" = the listen address (the host name when it is a wildcard)
  std::string http_listen = "0.0.0.0:9644";
  std::string log_level = "info";

  bool auto_create_topics = true;
  int32_t default_partitions = 1;

  struct {
    uint32_t max_request_bytes = 100u << 20;  // socket.request.max.bytes
    uint32_t max_connections = 1024;
    uint32_t max_in_flight_requests = 100;  // per connection: beyond it, stop reading that client
    uint64_t idle_timeout_ms = 600000;      // connections.max.idle.ms
    uint64_t write_buffer_bytes = 256u << 20;
    int32_t fetch_max_bytes = 57671680;  // fetch.max.bytes: cap on one Fetch response
    int32_t fetch_max_wait_ms = 30000;   // cap on a Fetch's max_wait_ms (long poll)
  } kafka;

  struct {
    flush_mode mode = flush_mode::sync;
    uint32_t interval_ms = 1000;
  } flush;

  struct {
    uint64_t segment_bytes = 128ull << 20;
    int64_t segment_ms = 7LL * 24 * 3600 * 1000;
    int64_t retention_ms = 7LL * 24 * 3600 * 1000;
    int64_t retention_bytes = -1;
    uint32_t index_interval_bytes = 4096;
    bool verify_on_start = true;
    int32_t max_message_bytes = 1048588;
    bool log_append_time = false;
    uint64_t producer_state_rebuild_bytes = 64ull << 20;
    uint32_t producers_per_partition_max = 10000;
  } log;

  // Consumer groups (cluster/group, group_service.h). Offsets and group metadata are records of the
  // internal topic __consumer_offsets (created on first use with offsets_partitions partitions).
  struct {
    int32_t offsets_partitions = 50;              // offsets.topic.num.partitions
    uint64_t offsets_segment_bytes = 1ull << 20;  // segment size of __consumer_offsets
    uint64_t offsets_compact_bytes = 8ull << 20;  // rewrite a partition's live state beyond this size
    int32_t min_session_timeout_ms = 6000;        // group.min.session.timeout.ms
    int32_t max_session_timeout_ms = 1800000;     // group.max.session.timeout.ms
    int32_t initial_rebalance_delay_ms = 3000;    // group.initial.rebalance.delay.ms
    uint32_t max_size = 1000;                     // group.max.size
    uint32_t offset_metadata_max_bytes = 4096;    // offset.metadata.max.bytes
    int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;  // offsets.retention.minutes (as ms)
  } groups;

  // The cluster (cluster/controller, cluster/replication). Empty seeds: one node on its own (the
  // embedded default), no cluster RPC. With seeds: the controller's Raft group 0 runs over them.
  struct {
    std::string seeds;             // "1@host:9093,2@host:9093,3@host:9093": node id @ cluster RPC address
    std::string id = "tributary";  // every node of one cluster has the same; others are refused
    std::string listen = "0.0.0.0:9093";  // cluster RPC listener
    std::string advertised_listener;      // "" = listen (the host name for a wildcard address)
    uint32_t tick_ms = 100;               // one Raft tick
    uint32_t election_ticks = 10;         // election timeout in ticks ([1x, 2x) at random)
  } cluster;

  uint64_t retention_check_interval_ms = 300000;
  uint64_t shutdown_timeout_ms = 10000;
};

// Binds every key of `c` into `s` (c must outlive s and stay in place).
void declare(config::schema& s, broker_config& c);

// Cross-key checks the schema cannot express (e.g. addresses parse). An operator-facing message.
config::config_result<> validate(const broker_config& c);

// cluster.seeds parsed: (node id, cluster RPC address) pairs. An operator-facing error naming the key.
struct seed_address {
  int32_t node_id = 0;
  std::string address;
};
config::config_result<std::vector<seed_address>> parse_seeds(const std::string& seeds);

// The partition manager's defaults from the config.
log_defaults to_log_defaults(const broker_config& c);

}  // namespace tributary::cluster::broker
