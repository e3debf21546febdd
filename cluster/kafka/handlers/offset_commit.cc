// OffsetCommit (key 8), v0-v8. Checked by the coordinator (generation, member: ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS, FENCED_INSTANCE_ID; generation -1 without a member is a
// "simple" commit), written to __consumer_offsets and answered once durable, like an acks=all write.
// Per partition: UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

void answer(request_context& ctx, const std::vector<broker::group_service::commit_entry>& entries) {
  p::offset_commit_response r;
  for (const auto& e : entries) {
    if (r.topics.empty() || r.topics.back().name != e.topic) r.topics.push_back({e.topic, {}});
    r.topics.back().partitions.push_back({e.partition, e.error});
  }
  ctx.respond(r);
}

}  // namespace

void offset_commit(request_context& ctx, protocol::offset_commit_request& req) {
  std::vector<broker::group_service::commit_entry> entries;
  for (auto& t : req.topics) {
    for (auto& part : t.partitions) {
      broker::group_service::commit_entry e;
      e.topic = t.name;
      e.partition = part.partition_index;
      e.value.offset = part.committed_offset;
      e.value.leader_epoch = part.committed_leader_epoch;
      e.value.metadata = part.committed_metadata;
      entries.push_back(std::move(e));
    }
  }
  auto* groups = ctx.broker().groups();
  if (!groups) {
    for (auto& e : entries) e.error = p::error_code::coordinator_not_available;
    answer(ctx, entries);
    return;
  }
  const int32_t generation = ctx.version() >= 1 ? req.generation_id : -1;
  const std::optional<std::string> instance = ctx.version() >= 7 ? req.group_instance_id : std::nullopt;
  groups->commit(req.group_id, generation, req.member_id, instance, std::move(entries),
                 [c = ctx.shared_from_this()](std::vector<broker::group_service::commit_entry> done) {
                   answer(*c, done);
                 });
}

}  // namespace tributary::cluster::kafka::handlers
