// LeaveGroup (key 13), v0-v4. v0-v2: one member (member_id), one error. v3+: a batch of members
// (member id and/or group.instance.id), one error each.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void leave_group(request_context& ctx, protocol::leave_group_request& req) {
  protocol::leave_group_response r;
  auto* groups = ctx.broker().groups();
  if (!groups) {
    r.error_code = protocol::error_code::coordinator_not_available;
    ctx.respond(r);
    return;
  }
  std::vector<group::member_ref> members;
  if (ctx.version() < 3) {
    members.push_back({req.member_id, std::nullopt});
  } else {
    for (const auto& m : req.members) members.push_back({m.member_id, m.group_instance_id});
  }
  auto errors = groups->leave(req.group_id, members, r.error_code);
  if (ctx.version() < 3) {
    if (r.error_code == protocol::error_code::none) r.error_code = errors.front();
  } else {
    for (size_t i = 0; i < members.size(); ++i)
      r.members.push_back({members[i].member_id, members[i].instance_id, errors[i]});
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
