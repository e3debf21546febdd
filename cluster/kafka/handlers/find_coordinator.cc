// FindCoordinator (key 10), v0-v4. key_type 0 (group): the leader of the group's __consumer_offsets
// partition (this node on a single node; in a cluster the node that leads it, at its address). key_type 1
// (transaction) is not supported: COORDINATOR_NOT_AVAILABLE. v4 answers a batch (coordinator_keys).
#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

p::find_coordinator_response::coordinator find_one(request_context& ctx, const std::string& key,
                                                   int8_t key_type) {
  p::find_coordinator_response::coordinator c;
  c.key = key;
  c.node_id = -1;
  c.port = -1;
  auto* groups = ctx.broker().groups();
  if (key_type != 0 || !groups) {
    c.error_code = p::error_code::coordinator_not_available;
    c.error_message = key_type != 0 ? "transactions are not supported" : "no group coordinator";
    return c;
  }
  int32_t node = -1;
  c.error_code = groups->coordinator_for(key, node);
  if (c.error_code != p::error_code::none) return c;
  c.node_id = node;
  c.host = ctx.broker().advertised().host;
  c.port = ctx.broker().advertised().port;
  if (const auto* cluster = ctx.broker().cluster(); cluster && node != ctx.broker().node_id()) {
    c.error_code = p::error_code::coordinator_not_available;  // unless its address is known
    for (const auto& b : cluster->brokers()) {
      if (b.id != node) continue;
      c.error_code = p::error_code::none;
      c.host = b.host;
      c.port = b.port;
    }
    if (c.error_code != p::error_code::none) c.node_id = -1;
  }
  return c;
}

}  // namespace

void find_coordinator(request_context& ctx, protocol::find_coordinator_request& req) {
  p::find_coordinator_response r;
  if (ctx.version() >= 4) {
    for (const auto& key : req.coordinator_keys) r.coordinators.push_back(find_one(ctx, key, req.key_type));
    ctx.respond(r);
    return;
  }
  auto c = find_one(ctx, req.key, req.key_type);
  r.error_code = c.error_code;
  r.error_message = c.error_message;
  r.node_id = c.node_id;
  r.host = c.host;
  r.port = c.port;
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
