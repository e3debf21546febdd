// OffsetFetch (key 9), v0-v7. A partition without a commit answers offset -1 with no error. v2+: null
// topics = every committed partition of the group, and a top-level error code.
// Known gap: librdkafka 2.0.2's admin ListConsumerGroupOffsets (all topics) writes its null topics
// array into a 4-byte slot of a flexible OffsetFetch, leaving 3 bytes after the body; Kafka ignores
// them, our decoder rejects the request (connection closed). Consumers (explicit partitions) are fine,
// and `tributary group` asks for explicit partitions.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void offset_fetch(request_context& ctx, protocol::offset_fetch_request& req) {
  namespace p = protocol;
  p::offset_fetch_response r;
  auto* groups = ctx.broker().groups();
  // In a cluster: NOT_COORDINATOR on a node that does not coordinate the group (the client asks
  // FindCoordinator again).
  const p::error_code error =
      groups ? groups->check_coordinator(req.group_id) : p::error_code::coordinator_not_available;
  const auto* offsets = error == p::error_code::none ? groups->offsets(req.group_id) : nullptr;
  auto fill = [&](p::offset_fetch_response::partition& out, const std::string& topic) {
    out.committed_offset = -1;
    out.committed_leader_epoch = -1;
    out.metadata = "";
    if (!offsets) return;
    auto it = offsets->find({topic, out.partition_index});
    if (it == offsets->end()) return;
    out.committed_offset = it->second.offset;
    out.committed_leader_epoch = it->second.leader_epoch;
    out.metadata = it->second.metadata.value_or("");
  };
  r.error_code = error;
  if (req.topics) {
    for (const auto& t : *req.topics) {
      auto& tr = r.topics.emplace_back();
      tr.name = t.name;
      for (int32_t idx : t.partition_indexes) {
        auto& pr = tr.partitions.emplace_back();
        pr.partition_index = idx;
        fill(pr, t.name);
        pr.error_code = error;
      }
    }
  } else if (offsets) {
    for (const auto& [tp, _] : *offsets) {
      if (r.topics.empty() || r.topics.back().name != tp.first) r.topics.push_back({tp.first, {}});
      auto& pr = r.topics.back().partitions.emplace_back();
      pr.partition_index = tp.second;
      fill(pr, tp.first);
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
