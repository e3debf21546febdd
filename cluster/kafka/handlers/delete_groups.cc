// DeleteGroups (key 42), v0-v2: an empty group and its committed offsets are deleted (tombstones in
// __consumer_offsets). GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it has members.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void delete_groups(request_context& ctx, protocol::delete_groups_request& req) {
  protocol::delete_groups_response r;
  auto* groups = ctx.broker().groups();
  for (const auto& id : req.groups_names) {
    r.results.push_back(
        {id, groups ? groups->delete_group(id) : protocol::error_code::coordinator_not_available});
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
