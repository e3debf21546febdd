// Produce (key 0), v3-v9 (RecordBatch v2 only).
//
// Per partition: exactly one batch, magic 2, not a control batch, not transactional (Kafka's rule for
// v3+; anything else is INVALID_RECORD), then broker_service::append, which checks the CRC and the
// records (CORRUPT_MESSAGE), the size (MESSAGE_TOO_LARGE) and the idempotent producer's sequence
// (a resent batch is answered with its original offsets; a gap is OUT_OF_ORDER_SEQUENCE_NUMBER).
// An unknown topic is auto-created (auto_create_topics) before the append; an unknown partition is
// UNKNOWN_TOPIC_OR_PARTITION. A transactional_id is TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
// transactions are not supported.
//
// acks: 1 answers after the append (page cache), as Kafka does; -1 in flush.mode=sync answers once
// the group commit has fdatasync'ed every batch of the request (the high watermark passed it); -1 in
// interval mode answers after the append; 0 never answers, and, as Kafka does, closes the connection
// when a partition failed, so that the client refreshes its metadata.
//
// A Raft partition (cluster mode) takes batches on its serving leader only (NOT_LEADER_OR_FOLLOWER
// elsewhere). acks=-1 answers once the group committed the batch (a majority has it on disk: the
// high watermark passed it), whatever flush.mode says; acks=1 once the leader proposed it (it may
// be lost with the leader, as Kafka's acks=1). A leader deposed while a batch waits answers
// NOT_LEADER_OR_FOLLOWER: the batch may or may not survive, and the producer resends it to the new
// leader (an idempotent producer's resend is recognised there and not written twice).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"
#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

struct batch_or_error {
  byte_span batch;
  p::error_code error = p::error_code::none;
  const char* message = nullptr;
};

// The one RecordBatch v2 of a partition's records.
batch_or_error single_batch(const std::optional<p::records_view>& records) {
  if (!records || records->data.empty()) return {{}, p::error_code::invalid_record, "no record batch"};
  // The frame bounds the size; max.message.bytes is checked by the append.
  tributary::kafka::batch_splitter split(records->data, records->data.size());
  auto first = split.next();
  if (!first) {
    if (first.error() == tributary::kafka::record_errc::bad_magic)
      return {{}, p::error_code::invalid_record, "only RecordBatch v2 (magic 2) is accepted"};
    return {{}, p::error_code::corrupt_message, "malformed record batch"};
  }
  if (!*first) return {{}, p::error_code::invalid_record, "no record batch"};
  auto second = split.next();
  if (!second) return {{}, p::error_code::corrupt_message, "bytes after the record batch"};
  if (*second) return {{}, p::error_code::invalid_record, "exactly one record batch per partition"};
  const auto& view = **first;
  if (view.is_control()) return {{}, p::error_code::invalid_record, "clients may not write control batches"};
  if (view.is_transactional())
    return {{}, p::error_code::invalid_record, "transactional batches are not supported"};
  return {view.bytes()};
}

// A partition whose answer waits for the high watermark (acks=-1, flush.mode=sync).
struct waiting_partition {
  size_t topic_index;
  size_t partition_index;
  const broker::partition* p;
  std::string topic;
  int32_t id;
  int64_t target;  // durable once the high watermark reaches this (last offset + 1)
  int32_t epoch;   // the leader epoch it was appended in (a Raft partition's term)
};

struct parked_produce {
  std::shared_ptr<request_context> ctx;
  p::produce_response response;
  std::vector<waiting_partition> waiting;
};

void park(const std::shared_ptr<parked_produce>& st);

void on_wake(const std::shared_ptr<parked_produce>& st, broker::wake_reason why) {
  auto& b = st->ctx->broker();
  std::vector<waiting_partition> still;
  for (auto& w : st->waiting) {
    auto& pr = st->response.responses[w.topic_index].partition_responses[w.partition_index];
    const broker::partition* now = b.find(w.topic, w.id);
    if (now != w.p) {  // deleted meanwhile (its address is only compared, never used)
      pr.error_code = p::error_code::unknown_topic_or_partition;
      pr.base_offset = -1;
      continue;
    }
    if (b.storage_failed(*now)) {
      pr.error_code = p::error_code::kafka_storage_error;
      pr.base_offset = -1;
      continue;
    }
    if (!now->serving() || now->leader_epoch() != w.epoch) {  // deposed (or re-elected) meanwhile
      pr.error_code = p::error_code::not_leader_or_follower;
      pr.base_offset = -1;
      continue;
    }
    if (now->high_watermark().value >= w.target) continue;
    if (why == broker::wake_reason::shutdown || why == broker::wake_reason::deadline) {
      pr.error_code = p::error_code::request_timed_out;
      continue;
    }
    still.push_back(w);
  }
  if (still.empty()) {
    st->ctx->respond(st->response);
    return;
  }
  st->waiting = std::move(still);
  park(st);
}

void park(const std::shared_ptr<parked_produce>& st) {
  std::vector<broker::hw_waiters::condition> conditions;
  conditions.reserve(st->waiting.size());
  for (const auto& w : st->waiting) conditions.push_back({w.p, w.target});
  st->ctx->broker().wait(std::move(conditions), -1, [st](broker::wake_reason why) { on_wake(st, why); });
}

}  // namespace

void produce(request_context& ctx, protocol::produce_request& req) {
  auto& b = ctx.broker();
  const bool acks_valid = req.acks == -1 || req.acks == 0 || req.acks == 1;
  const bool wait_durable = req.acks == -1 && ctx.config().flush.mode == broker::flush_mode::sync;
  p::produce_response r;
  r.responses.reserve(req.topic_data.size());
  std::vector<waiting_partition> waiting;
  bool any_error = false;

  for (auto& td : req.topic_data) {
    auto& tr = r.responses.emplace_back();
    tr.name = td.name;
    const size_t topic_index = r.responses.size() - 1;
    p::error_code topic_error = p::error_code::none;
    if (!acks_valid) {
      topic_error = p::error_code::invalid_required_acks;
    } else if (req.transactional_id) {
      topic_error = p::error_code::transactional_id_authorization_failed;
    } else if (auto t = b.get_or_create(td.name, true); !t) {
      topic_error = to_kafka_error(t.error());
    }
    tr.partition_responses.reserve(td.partition_data.size());
    for (auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      pr.base_offset = -1;
      if (topic_error != p::error_code::none) {
        pr.error_code = topic_error;
        any_error = true;
        continue;
      }
      broker::partition* part = b.find(td.name, pd.index);
      if (part == nullptr) {
        pr.error_code = p::error_code::unknown_topic_or_partition;
        any_error = true;
        continue;
      }
      auto batch = single_batch(pd.records);
      if (batch.error != p::error_code::none) {
        pr.error_code = batch.error;
        pr.error_message = batch.message;
        any_error = true;
        continue;
      }
      auto out = b.append(*part, ctx.writable(batch.batch));
      if (!out) {
        pr.error_code = to_kafka_error(out.error());
        pr.error_message = out.error().message();
        any_error = true;
        TRIB_LOG_DEBUG("kafka", "produce_refused", {"topic", td.name}, {"partition", pd.index},
                       {"error", out.error().message()});
        continue;
      }
      pr.base_offset = out->base.value;
      pr.log_append_time_ms = out->log_append_time_ms;
      pr.log_start_offset = part->log().start_offset().value;
      if ((wait_durable || (req.acks == -1 && part->replicated())) &&
          part->high_watermark().value <= out->last.value) {
        waiting.push_back({topic_index, tr.partition_responses.size() - 1, part, td.name, pd.index,
                           out->last.value + 1, part->leader_epoch()});
      }
    }
  }

  if (req.acks == 0) {
    if (any_error) {
      ctx.close_connection("a produce with acks=0 failed (the client learns it from the closed connection)");
    } else {
      ctx.respond_nothing();
    }
    return;
  }
  if (waiting.empty()) {
    ctx.respond(r);
    return;
  }
  park(std::make_shared<parked_produce>(
      parked_produce{ctx.shared_from_this(), std::move(r), std::move(waiting)}));
}

void produce_reject(request_context& ctx, protocol::error_code error) {
  auto& req = std::get<p::produce_request>(ctx.request().body);
  if (req.acks == 0) {
    ctx.close_connection("an acks=0 produce could not be handled");
    return;
  }
  p::produce_response r;
  for (const auto& td : req.topic_data) {
    auto& tr = r.responses.emplace_back();
    tr.name = td.name;
    for (const auto& pd : td.partition_data) {
      auto& pr = tr.partition_responses.emplace_back();
      pr.index = pd.index;
      pr.error_code = error;
      pr.base_offset = -1;
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
