// Metadata (key 3), v0-v12. One broker (this node, at the advertised address), which is the
// controller and leads every partition with replicas = isr = [node]. Topics a client asks for by name
// are auto-created when auto_create_topics is on and the request allows it (always before v4,
// allow_auto_topic_creation from v4), synchronously, so the answer already describes them. v10+:
// topic ids; a topic asked for by id alone that does not exist gets UNKNOWN_TOPIC_ID. The internal
// topic __consumer_offsets is left out of "every topic" and described (is_internal) when asked by name.
//
// In a cluster: every registered node is a broker, the controller is the leader of the controller
// quorum, and each Raft partition names its replicas and its current leader and epoch (known here
// for the partitions this node replicates, and from the other nodes' leader reports for the rest);
// a partition without a known leader is LEADER_NOT_AVAILABLE (retriable).
#include <charconv>

#include "cluster/broker/group_service.h"
#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

p::uuid to_uuid(const std::string& hex) {
  p::uuid u;
  if (hex.size() != 32) return u;
  for (size_t i = 0; i < 16; ++i) {
    uint8_t v = 0;
    auto [ptr, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || ptr != hex.data() + 2 * i + 2) return p::uuid{};
    u.value[i] = v;
  }
  return u;
}

std::string to_hex(const p::uuid& u) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (uint8_t v : u.value) {
    out += digits[v >> 4];
    out += digits[v & 0xf];
  }
  return out;
}

p::metadata_response::topic describe(broker::broker_service& b, const broker::topic_info& t) {
  p::metadata_response::topic out;
  out.name = t.name;
  out.is_internal = t.name == broker::group_service::offsets_topic;
  out.topic_id = to_uuid(t.topic_id);
  out.partitions.reserve(static_cast<size_t>(t.partitions));
  const bool replicated = b.clustered();
  for (int32_t i = 0; i < t.partitions; ++i) {
    p::metadata_response::partition part;
    part.partition_index = i;
    if (replicated) {
      auto placed = b.cluster()->placement(t.name, i);
      if (placed.leader < 0) part.error_code = p::error_code::leader_not_available;
      part.leader_id = placed.leader;
      part.leader_epoch = placed.leader_epoch;
      part.replica_nodes = std::move(placed.replicas);
      part.isr_nodes = std::move(placed.isr);
      out.partitions.push_back(std::move(part));
      continue;
    }
    part.leader_id = b.node_id();
    part.leader_epoch = broker::broker_service::leader_epoch;
    part.replica_nodes = {b.node_id()};
    part.isr_nodes = {b.node_id()};
    out.partitions.push_back(std::move(part));
  }
  return out;
}

}  // namespace

void metadata(request_context& ctx, protocol::metadata_request& req) {
  auto& b = ctx.broker();
  const int16_t v = ctx.version();
  p::metadata_response r;
  r.cluster_id = b.cluster_id();
  if (const auto* c = b.cluster()) {
    for (auto& n : c->brokers()) r.brokers.push_back({n.id, std::move(n.host), n.port, std::nullopt});
    r.controller_id = c->controller_id();
  } else {
    r.brokers.push_back({b.node_id(), b.advertised().host, b.advertised().port, std::nullopt});
    r.controller_id = b.node_id();
  }

  // v0: an empty list means every topic; v1+: null means every topic, empty means none.
  const bool all = !req.topics || (v == 0 && req.topics->empty());
  if (all) {
    for (const auto& [name, t] : b.topics().all()) {
      if (name == broker::group_service::offsets_topic) continue;  // internal: only when asked by name
      r.topics.push_back(describe(b, t));
    }
    ctx.respond(r);
    return;
  }
  const bool allow_create = v < 4 || req.allow_auto_topic_creation;
  for (const auto& wanted : *req.topics) {
    if (!wanted.name) {  // v10+: by topic id alone
      if (const broker::topic_info* t = b.find_topic_by_id(to_hex(wanted.topic_id))) {
        r.topics.push_back(describe(b, *t));
      } else {
        p::metadata_response::topic unknown;
        unknown.error_code = k_unknown_topic_id;
        unknown.topic_id = wanted.topic_id;
        if (v >= 12) unknown.name = std::nullopt;
        r.topics.push_back(std::move(unknown));
      }
      continue;
    }
    if (*wanted.name == broker::group_service::offsets_topic && b.groups()) b.groups()->ensure_topic();
    auto t = b.get_or_create(*wanted.name, allow_create);
    if (t) {
      r.topics.push_back(describe(b, **t));
    } else {
      p::metadata_response::topic failed;
      failed.name = *wanted.name;
      failed.error_code = to_kafka_error(t.error());
      r.topics.push_back(std::move(failed));
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
