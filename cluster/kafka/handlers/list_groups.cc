// ListGroups (key 16), v0-v2: every group this node coordinates. (The codec knows v3-v4, flexible, with
// v4's state filter, but librdkafka 2.0.2 sends its flexible ListGroups with a second, extra tagged-
// field section, which Kafka ignores and our decoder rightly rejects as bytes left after the body; so
// this broker advertises v2 and librdkafka uses it. The filter below serves v4 once advertised.)
#include <algorithm>

#include "cluster/broker/group_service.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void list_groups(request_context& ctx, protocol::list_groups_request& req) {
  protocol::list_groups_response r;
  if (auto* groups = ctx.broker().groups()) {
    for (const auto& g : groups->list()) {
      std::string state(group::state_name(g.state));
      if (!req.states_filter.empty() &&
          std::find(req.states_filter.begin(), req.states_filter.end(), state) == req.states_filter.end())
        continue;
      r.groups.push_back({g.id, g.protocol_type, state});
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
