// JoinGroup (key 11), v0-v7. The answer may come later: the coordinator holds it until every member
// rejoined or the rebalance timeout passed (group_service, cluster/group/coordinator.h). An empty
// member_id gets MEMBER_ID_REQUIRED with a new id from v4 on only (kafka-python's v2 never sees it).
#include <memory>

#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void join_group(request_context& ctx, protocol::join_group_request& req) {
  auto* groups = ctx.broker().groups();
  if (!groups) {
    protocol::join_group_response r;
    r.error_code = protocol::error_code::coordinator_not_available;
    r.member_id = req.member_id;
    ctx.respond(r);
    return;
  }
  group::join_request j;
  j.group_id = req.group_id;
  j.member_id = req.member_id;
  j.instance_id = ctx.version() >= 5 ? req.group_instance_id : std::nullopt;
  j.protocol_type = req.protocol_type;
  j.protocols.reserve(req.protocols.size());
  for (auto& p : req.protocols) j.protocols.push_back({p.name, std::move(p.metadata)});
  j.session_timeout_ms = req.session_timeout_ms;
  j.rebalance_timeout_ms = ctx.version() >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms;
  j.client_id = ctx.client_id();
  j.client_host = ctx.client_host();
  j.member_id_required = ctx.version() >= 4;
  groups->join(std::move(j), [c = ctx.shared_from_this()](const group::join_result& res) {
    protocol::join_group_response r;
    r.error_code = res.error;
    r.generation_id = res.generation;
    r.protocol_type = res.protocol_type;
    r.protocol_name = res.protocol_name;
    r.leader = res.leader;
    r.member_id = res.member_id;
    r.members.reserve(res.members.size());
    for (const auto& m : res.members) r.members.push_back({m.member_id, m.instance_id, m.metadata});
    c->respond(r);
  });
}

}  // namespace tributary::cluster::kafka::handlers
