// Heartbeat (key 12), v0-v4: keeps a member's session; REBALANCE_IN_PROGRESS asks it to rejoin.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void heartbeat(request_context& ctx, protocol::heartbeat_request& req) {
  protocol::heartbeat_response r;
  auto* groups = ctx.broker().groups();
  r.error_code =
      groups ? groups->heartbeat(req.group_id, req.generation_id, req.member_id, req.group_instance_id)
             : protocol::error_code::coordinator_not_available;
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
