// SyncGroup (key 14), v0-v4. Followers wait for the leader's assignments; the answer may come later.
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void sync_group(request_context& ctx, protocol::sync_group_request& req) {
  auto* groups = ctx.broker().groups();
  if (!groups) {
    protocol::sync_group_response r;
    r.error_code = protocol::error_code::coordinator_not_available;
    ctx.respond(r);
    return;
  }
  group::sync_request s;
  s.group_id = req.group_id;
  s.generation = req.generation_id;
  s.member_id = req.member_id;
  s.instance_id = req.group_instance_id;
  s.assignments.reserve(req.assignments.size());
  for (auto& a : req.assignments) s.assignments.emplace_back(a.member_id, std::move(a.assignment));
  groups->sync(std::move(s), [c = ctx.shared_from_this()](const group::sync_result& res) {
    protocol::sync_group_response r;
    r.error_code = res.error;
    r.assignment = res.assignment;
    c->respond(r);
  });
}

}  // namespace tributary::cluster::kafka::handlers
