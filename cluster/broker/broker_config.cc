#include "cluster/broker/broker_config.h"

#include <charconv>

#include <fmt/format.h>

#include "common/log.h"
#include "common/uv/address.h"

namespace tributary::cluster::broker {

namespace {
constexpr int32_t k_cluster_node_id_max = (1 << 22) - 1;  // producer ids carry it above bit 40
}  // namespace

void declare(config::schema& s, broker_config& c) {
  s.add("node_id", c.node_id, "Broker id in Metadata answers (and the Raft node id later).", {.min = 0});
  s.add("data_dir", c.data_dir, "Directory of topics.json, the partition logs and the cluster id.");
  s.add("listen", c.listen, "Kafka listener, numeric host:port (0.0.0.0 = every interface).");
  s.add("advertised_listener", c.advertised_listener,
        "host:port given to clients in Metadata. Empty: the listen address, or this machine's host "
        "name when listening on a wildcard address.");
  s.add("http.listen", c.http_listen, "HTTP listener for /metrics and /health.");
  s.add("log_level", c.log_level, "trace, debug, info, warn, error.");

  s.add("auto_create_topics", c.auto_create_topics,
        "Create an unknown topic when a client asks for it in Metadata (allow_auto_topic_creation) or "
        "produces to it.");
  s.add("default_partitions", c.default_partitions,
        "Partitions of an auto-created topic, and of CreateTopics with num_partitions = -1.",
        {.min = 1, .max = 10000});

  s.add("kafka.max_request_bytes", c.kafka.max_request_bytes,
        "Largest request frame (socket.request.max.bytes); a larger one closes that connection.",
        {.min = 1024, .max = 1u << 30});
  s.add("kafka.max_connections", c.kafka.max_connections,
        "Client connections; more are accepted and closed at once.", {.min = 1, .max = 1000000});
  s.add("kafka.max_in_flight_requests", c.kafka.max_in_flight_requests,
        "Requests of one connection being handled or waiting to be answered; beyond it the broker "
        "stops reading that connection until answers drain.",
        {.min = 1, .max = 10000});
  s.add("kafka.idle_timeout_ms", c.kafka.idle_timeout_ms,
        "Close a connection idle this long (connections.max.idle.ms); 0 = never.");
  s.add("kafka.write_buffer_bytes", c.kafka.write_buffer_bytes,
        "Answers queued for a client that does not read them; beyond it the connection is aborted. "
        "Must exceed kafka.fetch_max_bytes.",
        {.min = 1u << 20, .max = 4ull << 30});
  s.add("kafka.fetch_max_bytes", c.kafka.fetch_max_bytes,
        "Cap on the record bytes of one Fetch answer (fetch.max.bytes); the first batch is always "
        "returned whole.",
        {.min = 1024});
  s.add("kafka.fetch_max_wait_ms", c.kafka.fetch_max_wait_ms,
        "Cap on how long a Fetch waits for data (the client's max_wait_ms).", {.min = 0, .max = 300000});

  s.add_enum("flush.mode", c.flush.mode, {{"sync", flush_mode::sync}, {"interval", flush_mode::interval}},
             "sync: acks=-1 is answered after the fdatasync covering it (group commit) and consumers "
             "read only durable data. interval: acks=-1 is answered after the append, fdatasync runs "
             "every flush.interval_ms, consumers read up to the log end (a power cut can lose up to "
             "an interval of acknowledged data).");
  s.add("flush.interval_ms", c.flush.interval_ms, "fdatasync period in interval mode.",
        {.min = 1, .max = 3600000});

  s.add("log.segment_bytes", c.log.segment_bytes, "Roll a segment at this size (segment.bytes).",
        {.min = 1024, .max = (1ull << 31) - 1});
  s.add("log.segment_ms", c.log.segment_ms, "Roll a segment older than this (segment.ms).", {.min = 1});
  s.add("log.retention_ms", c.log.retention_ms,
        "Delete segments whose newest record is older (retention.ms); -1 keeps them.", {.min = -1});
  s.add("log.retention_bytes", c.log.retention_bytes,
        "Delete the oldest segments of a partition above this size (retention.bytes); -1 = no limit.",
        {.min = -1});
  s.add("log.index_interval_bytes", c.log.index_interval_bytes, "One sparse index entry per this many bytes.",
        {.min = 1, .max = 1u << 30});
  s.add("log.verify_on_start", c.log.verify_on_start,
        "CRC-check every segment at start (else only the last one).");
  s.add("log.max_message_bytes", c.log.max_message_bytes,
        "Largest batch a producer may send (max.message.bytes).", {.min = 64, .max = 1 << 30});
  s.add("log.log_append_time", c.log.log_append_time,
        "Default message.timestamp.type: true = LogAppendTime, false = CreateTime.");
  s.add("log.producer_state_rebuild_bytes", c.log.producer_state_rebuild_bytes,
        "Idempotent-producer state is rebuilt at start from this many bytes at the end of each log.");
  s.add("log.producers_per_partition_max", c.log.producers_per_partition_max,
        "Idempotent producers remembered per partition (the oldest is forgotten).", {.min = 1});

  s.add("groups.offsets_partitions", c.groups.offsets_partitions,
        "Partitions of the internal topic __consumer_offsets (offsets.topic.num.partitions), created "
        "on first use; a group lives in partition hash(group id) mod this count. Fixed once created.",
        {.min = 1, .max = 1000});
  s.add("groups.offsets_segment_bytes", c.groups.offsets_segment_bytes,
        "Segment size of __consumer_offsets (small, so that compaction can drop old segments).",
        {.min = 4096, .max = 1ull << 30});
  s.add("groups.offsets_compact_bytes", c.groups.offsets_compact_bytes,
        "When a __consumer_offsets partition grows beyond this (and beyond 4x its live state), its "
        "live state is written again and the segments before it are deleted.",
        {.min = 16384});
  s.add("groups.min_session_timeout_ms", c.groups.min_session_timeout_ms,
        "Smallest session timeout a member may ask for (group.min.session.timeout.ms).",
        {.min = 1, .max = 3600000});
  s.add("groups.max_session_timeout_ms", c.groups.max_session_timeout_ms,
        "Largest session timeout a member may ask for (group.max.session.timeout.ms).",
        {.min = 1, .max = 3600000});
  s.add("groups.initial_rebalance_delay_ms", c.groups.initial_rebalance_delay_ms,
        "The first rebalance of an empty group waits this long for more members "
        "(group.initial.rebalance.delay.ms); 0 = none.",
        {.min = 0, .max = 300000});
  s.add("groups.max_size", c.groups.max_size, "Members of one group; more get GROUP_MAX_SIZE_REACHED.",
        {.min = 1, .max = 100000});
  s.add("groups.offset_metadata_max_bytes", c.groups.offset_metadata_max_bytes,
        "Largest metadata string of a committed offset (offset.metadata.max.bytes).", {.max = 1u << 20});
  s.add("groups.offsets_retention_ms", c.groups.offsets_retention_ms,
        "Committed offsets of a group without members expire this long after it emptied or after its "
        "last commit (offsets.retention.minutes, KIP-211); -1 keeps them.",
        {.min = -1});

  s.add("cluster.seeds", c.cluster.seeds,
        "The controller quorum: \"id@host:port,...\" (1, 3 or 5 nodes; cluster RPC addresses). Empty: "
        "this node runs alone, without cluster RPC. A node not in the list joins the cluster through "
        "them.");
  s.add("cluster.id", c.cluster.id, "Cluster name; nodes with another one are refused.");
  s.add("cluster.listen", c.cluster.listen,
        "Cluster RPC listener (Raft and node-to-node calls), numeric host:port.");
  s.add("cluster.advertised_listener", c.cluster.advertised_listener,
        "host:port other nodes use to reach this node's cluster RPC. Empty: cluster.listen (the host "
        "name when it is a wildcard address).");
  s.add("cluster.tick_ms", c.cluster.tick_ms, "One Raft tick: the heartbeat interval.",
        {.min = 10, .max = 10000});
  s.add("cluster.election_ticks", c.cluster.election_ticks,
        "Election timeout in ticks: a follower that hears no leader for [1x, 2x) this many ticks campaigns.",
        {.min = 3, .max = 1000});

  s.add("retention.check_interval_ms", c.retention_check_interval_ms,
        "How often retention runs (log.retention.check.interval.ms).", {.min = 100});
  s.add("shutdown.timeout_ms", c.shutdown_timeout_ms,
        "On SIGTERM, how long in-flight requests may take to finish before connections close.",
        {.min = 0, .max = 600000});
}

config::config_result<> validate(const broker_config& c) {
  auto bad = [](std::string msg) {
    return tl::unexpected(config::config_error{config::errc::bad_value, std::move(msg)});
  };
  if (!uv::parse_address(c.listen))
    return bad(fmt::format("listen: \"{}\" is not a numeric host:port", c.listen));
  if (!uv::parse_address(c.http_listen))
    return bad(fmt::format("http.listen: \"{}\" is not a numeric host:port", c.http_listen));
  if (!c.advertised_listener.empty()) {
    auto colon = c.advertised_listener.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == c.advertised_listener.size())
      return bad(fmt::format("advertised_listener: \"{}\" is not host:port", c.advertised_listener));
  }
  if (!log::parse_level(c.log_level)) return bad(fmt::format("log_level: unknown level \"{}\"", c.log_level));
  if (c.kafka.write_buffer_bytes <= static_cast<uint64_t>(c.kafka.fetch_max_bytes) + (1u << 20))
    return bad("kafka.write_buffer_bytes must exceed kafka.fetch_max_bytes by at least 1 MiB");
  if (c.data_dir.empty()) return bad("data_dir: empty");
  if (c.groups.min_session_timeout_ms > c.groups.max_session_timeout_ms)
    return bad("groups.min_session_timeout_ms must not exceed groups.max_session_timeout_ms");
  if (!c.cluster.seeds.empty()) {
    auto seeds = parse_seeds(c.cluster.seeds);
    if (!seeds) return tl::unexpected(seeds.error());
    if (c.node_id < 1) return bad("node_id: a cluster node needs an id of 1 or more (cluster.seeds is set)");
    // Producer ids carry the node id above bit 40 (partition_manager::set_producer_id_node).
    if (c.node_id > k_cluster_node_id_max)
      return bad(fmt::format("node_id: a cluster node's id must be at most {}", k_cluster_node_id_max));
    if (!uv::parse_address(c.cluster.listen))
      return bad(fmt::format("cluster.listen: \"{}\" is not a numeric host:port", c.cluster.listen));
    if (c.cluster.id.empty()) return bad("cluster.id: empty");
  }
  return {};
}

config::config_result<std::vector<seed_address>> parse_seeds(const std::string& seeds) {
  auto bad = [](std::string msg) {
    return tl::unexpected(config::config_error{config::errc::bad_value, std::move(msg)});
  };
  std::vector<seed_address> out;
  size_t at = 0;
  while (at <= seeds.size()) {
    size_t comma = seeds.find(',', at);
    if (comma == std::string::npos) comma = seeds.size();
    const std::string item = seeds.substr(at, comma - at);
    const auto sep = item.find('@');
    int32_t id = 0;
    if (sep == std::string::npos || sep == 0 ||
        std::from_chars(item.data(), item.data() + sep, id).ptr != item.data() + sep || id < 1)
      return bad(fmt::format("cluster.seeds: \"{}\" is not id@host:port with an id of 1 or more", item));
    const std::string addr = item.substr(sep + 1);
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size())
      return bad(fmt::format("cluster.seeds: \"{}\" has no host:port after the @", item));
    for (const auto& s : out)
      if (s.node_id == id) return bad(fmt::format("cluster.seeds: node id {} appears twice", id));
    out.push_back({id, addr});
    at = comma + 1;
  }
  if (out.size() != 1 && out.size() != 3 && out.size() != 5)
    return bad(fmt::format("cluster.seeds: {} seeds; a controller quorum has 1, 3 or 5", out.size()));
  return out;
}

log_defaults to_log_defaults(const broker_config& c) {
  log_defaults d;
  d.log.segment_bytes = c.log.segment_bytes;
  d.log.segment_ms = c.log.segment_ms;
  d.log.retention_ms = c.log.retention_ms;
  d.log.retention_bytes = c.log.retention_bytes;
  d.log.index_interval_bytes = c.log.index_interval_bytes;
  d.log.verify_on_start = c.log.verify_on_start;
  d.max_message_bytes = c.log.max_message_bytes;
  d.log_append_time = c.log.log_append_time;
  d.producer_state_rebuild_bytes = c.log.producer_state_rebuild_bytes;
  d.producers_per_partition_max = c.log.producers_per_partition_max;
  d.high_watermark_at_log_end = c.flush.mode == flush_mode::interval;
  return d;
}

}  // namespace tributary::cluster::broker
