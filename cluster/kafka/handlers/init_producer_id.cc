// InitProducerId (key 22), v0-v4, for idempotent producers: a new producer id (unique across
// restarts) with epoch 0. v3+: a producer that sends its current id and epoch (KIP-360, to recover
// from a sequence error) keeps its id with the epoch bumped; a new id when the epoch is exhausted.
// Transactions are not supported: a transactional_id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
#include <limits>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka::handlers {

void init_producer_id(request_context& ctx, protocol::init_producer_id_request& req) {
  protocol::init_producer_id_response r;
  r.producer_epoch = -1;
  if (req.transactional_id) {
    r.error_code = protocol::error_code::transactional_id_authorization_failed;
    ctx.respond(r);
    return;
  }
  if (req.producer_id >= 0 && req.producer_epoch >= 0 &&
      req.producer_epoch < std::numeric_limits<int16_t>::max() - 1) {
    r.producer_id = req.producer_id;
    r.producer_epoch = static_cast<int16_t>(req.producer_epoch + 1);
    ctx.respond(r);
    return;
  }
  auto id = ctx.broker().next_producer_id();
  if (!id) {
    r.error_code = to_kafka_error(id.error());
    ctx.respond(r);
    return;
  }
  r.producer_id = *id;
  r.producer_epoch = 0;
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
