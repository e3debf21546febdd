// ListOffsets (key 2), v0-v6. timestamp -2: the log start offset; -1: the high watermark (also the
// last stable offset: no transactions, so both isolation levels agree); any other timestamp: the first
// offset whose record timestamp is >= it, below the high watermark (the batch found by the time index,
// refined to the record inside it), or offset -1 / timestamp -1 when there is none. v0 answers the
// same single offset in old_style_offsets (empty when there is none). current_leader_epoch (v4+) is
// checked as in Fetch; leader_epoch in the answer is the epoch of the batch found.
#include <vector>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"
#include "common/kafka/record_batch.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

constexpr int64_t k_latest = -1;
constexpr int64_t k_earliest = -2;
// A compressed batch is decompressed to find the record by timestamp only up to this size; beyond
// it the answer is the batch's base offset (still correct: consumers skip records below it).
constexpr size_t k_refine_decompressed_bytes_max = 16 << 20;

struct found {
  int64_t offset = -1;
  int64_t timestamp = -1;
  int32_t epoch = -1;
};

result<found> by_timestamp(const broker::partition& part, int64_t ts) {
  const auto& log = part.log();
  auto hit = TRIB_TRY(log.offset_for_timestamp(ts));
  const storage::offset hw = part.high_watermark();
  if (!hit || *hit >= hw) return found{};
  // Refine inside the batch: the first record whose timestamp is >= ts.
  auto data = TRIB_TRY(log.read(*hit, 1, hw));
  found out{hit->value, -1, -1};
  auto view = tributary::kafka::record_batch_view::parse(data.data);
  if (!view) {
    tributary::kafka::batch_splitter split(data.data, data.data.size());
    auto first = split.next();
    if (!first || !*first) return out;
    view = **first;
  }
  out.epoch = view->partition_leader_epoch();
  out.timestamp = view->max_timestamp();
  if (view->ts_type() == tributary::kafka::timestamp_type::log_append_time) return out;
  std::vector<uint8_t> scratch;
  auto records = tributary::kafka::read_records(*view, scratch, k_refine_decompressed_bytes_max);
  if (!records) return out;
  for (const auto& r : *records) {
    if (r.timestamp() >= ts) {
      out.offset = r.offset();
      out.timestamp = r.timestamp();
      return out;
    }
  }
  return out;
}

}  // namespace

void list_offsets(request_context& ctx, protocol::list_offsets_request& req) {
  auto& b = ctx.broker();
  const int16_t v = ctx.version();
  p::list_offsets_response r;
  r.topics.reserve(req.topics.size());
  for (const auto& t : req.topics) {
    auto& tr = r.topics.emplace_back();
    tr.name = t.name;
    for (const auto& rp : t.partitions) {
      auto& pr = tr.partitions.emplace_back();
      pr.partition_index = rp.partition_index;
      const broker::partition* part = b.find(t.name, rp.partition_index);
      if (part == nullptr) {
        pr.error_code = p::error_code::unknown_topic_or_partition;
        continue;
      }
      if (auto e = leader_error(*part, rp.current_leader_epoch); e != p::error_code::none) {
        pr.error_code = e;
        continue;
      }
      found f;
      if (rp.timestamp == k_earliest) {
        f.offset = part->log().start_offset().value;
      } else if (rp.timestamp == k_latest) {
        f.offset = part->high_watermark().value;
      } else {
        auto hit = by_timestamp(*part, rp.timestamp);
        if (!hit) {
          pr.error_code = to_kafka_error(hit.error());
          continue;
        }
        f = *hit;
      }
      if (rp.timestamp == k_earliest || rp.timestamp == k_latest) f.epoch = part->leader_epoch();
      if (v == 0) {
        if (f.offset >= 0 && rp.max_num_offsets > 0) pr.old_style_offsets.push_back(f.offset);
      } else {
        pr.offset = f.offset;
        pr.timestamp = f.timestamp;
        pr.leader_epoch = f.epoch;
      }
    }
  }
  ctx.respond(r);
}

}  // namespace tributary::cluster::kafka::handlers
