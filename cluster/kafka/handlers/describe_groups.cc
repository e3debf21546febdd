// DescribeGroups (key 15), v0-v5. An unknown group is described as "Dead" with no members (as Kafka
// does before v6). protocol_data is the selected assignor. In a cluster a node that does not
// coordinate the group answers NOT_COORDINATOR.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void describe_groups(request_context& ctx, protocol::describe_groups_request& req) {
  protocol::describe_groups_response r;
  auto* groups = ctx.broker().groups();
  for (const auto& id : req.groups) {
    auto& d = r.groups.emplace_back();
    d.group_id = id;
    const auto error =
        groups ? groups->check_coordinator(id) : protocol::error_code::coordinator_not_available;
    const group::group* g = error == protocol::error_code::none ? groups->find(id) : nullptr;
    if (!g) {
      d.group_state = std::string(group::state_name(group::group_state::dead));
      d.error_code = error;
      continue;
    }
    d.group_state = std::string(group::state_name(g->state));
    d.protocol_type = g->protocol_type;
    d.protocol_data = g->protocol_name;
    for (const auto& [mid, m] : g->members) {
      protocol::describe_groups_response::member dm;
      dm.member_id = mid;
      dm.group_instance_id = m.instance_id;
      dm.client_id = m.client_id;
      dm.client_host = m.client_host;
      for (const auto& p : m.protocols)
        if (p.name == g->protocol_name) dm.member_metadata = p.metadata;
      dm.member_assignment = m.assignment;
      d.members.push_back(std::move(dm));
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
