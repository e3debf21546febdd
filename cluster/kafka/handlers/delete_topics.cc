// DeleteTopics (key 20), v0-v4: removes each topic and its partition logs. Requests parked on its
// partitions (acks=-1 produce, fetch long polls) are answered UNKNOWN_TOPIC_OR_PARTITION.
#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void delete_topics(request_context& ctx, protocol::delete_topics_request& req) {
  auto& b = ctx.broker();
  protocol::delete_topics_response r;
  r.responses.reserve(req.topic_names.size());
  for (const auto& name : req.topic_names) {
    auto deleted = b.delete_topic(name);
    r.responses.push_back({name, deleted ? protocol::error_code::none : to_kafka_error(deleted.error())});
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
