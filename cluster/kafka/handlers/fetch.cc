// Fetch (key 1), v4-v12, for consumers (no follower fetching yet, no fetch sessions).
//
// Each partition answers whole stored batches from fetch_offset (the batch holding it may start
// before it) up to partition_max_bytes, below the high watermark; the response stops at
// min(max_bytes, kafka.fetch_max_bytes), except that the first batch of the response is returned
// whole whatever its size (Kafka's rule, so a consumer can always make progress). Bytes are served as
// stored, never re-encoded (partition_log::read copies them into a buffer; sendfile would save that
// copy, see the report). high_watermark = last_stable_offset (no transactions), log_start_offset;
// fetch_offset outside [log start, log end] is OFFSET_OUT_OF_RANGE.
//
// Long poll: when fewer than min_bytes are ready and no partition failed, the request parks on the
// high watermark of every partition it reads, until enough arrived or max_wait_ms (capped by
// kafka.fetch_max_wait_ms) passed; then it is answered with what there is.
//
// Sessions (v7+): session_id 0 with epoch 0 or -1 asks for a full fetch and gets session_id 0 ("no
// session", which the protocol allows); a non-zero session_id is FETCH_SESSION_ID_NOT_FOUND and a
// session epoch > 0 without a session INVALID_FETCH_SESSION_EPOCH. current_leader_epoch (v9+) other
// than -1 or ours is FENCED_LEADER_EPOCH (older) or UNKNOWN_LEADER_EPOCH (newer).
//
// In a cluster only the serving leader of a Raft partition answers (others: NOT_LEADER_OR_FOLLOWER,
// the client refreshes its metadata); the high watermark is the commit index + 1, so consumers read
// committed data only. A leadership change wakes a parked fetch, which then answers the error.
#include <algorithm>
#include <memory>
#include <vector>

#include "cluster/kafka/errors.h"
#include "cluster/kafka/handlers/handlers.h"
#include "common/kafka/record_batch.h"

namespace tributary::cluster::kafka::handlers {

namespace {

namespace p = protocol;

struct served {
  const broker::partition* p;
  uint64_t bytes;
  uint64_t records;
};

struct fetch_answer {
  p::fetch_response response;
  std::vector<std::vector<uint8_t>> buffers;  // the records views of `response` point into these
  std::vector<served> served_parts;
  size_t bytes = 0;
  bool has_error = false;
  std::vector<broker::hw_waiters::condition> watch;
};

uint64_t count_records(byte_span data) {
  uint64_t n = 0;
  tributary::kafka::batch_splitter split(data, data.size());
  while (true) {
    auto b = split.next();
    if (!b || !*b) break;
    n += static_cast<uint64_t>((*b)->last_offset_delta()) + 1;
  }
  return n;
}

fetch_answer read_all(request_context& ctx, const p::fetch_request& req) {
  auto& b = ctx.broker();
  fetch_answer a;
  const int64_t response_max =
      std::min<int64_t>(std::max<int32_t>(req.max_bytes, 0), ctx.config().kafka.fetch_max_bytes);
  int64_t budget = response_max;
  size_t partitions = 0;
  for (const auto& t : req.topics) partitions += t.partitions.size();
  a.buffers.reserve(partitions);
  a.response.responses.reserve(req.topics.size());
  for (const auto& t : req.topics) {
    auto& tr = a.response.responses.emplace_back();
    tr.topic = t.topic;
    tr.partitions.reserve(t.partitions.size());
    for (const auto& fp : t.partitions) {
      auto& pd = tr.partitions.emplace_back();
      pd.partition_index = fp.partition;
      pd.high_watermark = -1;
      pd.last_stable_offset = -1;
      pd.log_start_offset = -1;
      pd.records = p::records_view{};  // empty, not null: every client reads that as "no records"
      if (req.isolation_level == 1) pd.aborted_transactions.emplace();
      broker::partition* part = b.find(t.topic, fp.partition);
      if (part == nullptr) {
        pd.error_code = p::error_code::unknown_topic_or_partition;
        a.has_error = true;
        continue;
      }
      if (auto e = leader_error(*part, fp.current_leader_epoch); e != p::error_code::none) {
        pd.error_code = e;
        a.has_error = true;
        continue;
      }
      const auto& log = part->log();
      const int64_t hw = part->high_watermark().value;
      pd.high_watermark = hw;
      pd.last_stable_offset = hw;
      pd.log_start_offset = log.start_offset().value;
      if (fp.fetch_offset < log.start_offset().value || fp.fetch_offset > log.end_offset().value) {
        pd.error_code = p::error_code::offset_out_of_range;
        a.has_error = true;
        continue;
      }
      a.watch.push_back({part, hw + 1});
      if (fp.fetch_offset >= hw) continue;
      const bool first = a.bytes == 0;  // the response's first batch goes out whole
      const int64_t limit = std::min<int64_t>(std::max<int32_t>(fp.partition_max_bytes, 0), budget);
      if (!first && limit <= 0) continue;
      auto data = log.read(storage::offset(fp.fetch_offset), static_cast<size_t>(std::max<int64_t>(limit, 0)),
                           part->high_watermark());
      if (!data) {
        pd.error_code = to_kafka_error(data.error());
        a.has_error = true;
        continue;
      }
      if (data->data.empty()) continue;
      if (!first && static_cast<int64_t>(data->data.size()) > limit) continue;  // does not fit any more
      const size_t n = data->data.size();
      a.buffers.push_back(std::move(data->data));
      pd.records = p::records_view{a.buffers.back()};
      a.served_parts.push_back({part, n, count_records(a.buffers.back())});
      a.bytes += n;
      budget -= static_cast<int64_t>(n);
    }
  }
  return a;
}

struct parked_fetch {
  std::shared_ptr<request_context> ctx;
  int64_t deadline_ms;
};

void answer(request_context& ctx, const fetch_answer& a) {
  for (const auto& s : a.served_parts) ctx.broker().note_fetched(*s.p, s.bytes, s.records);
  ctx.respond(a.response);
}

void attempt(const std::shared_ptr<parked_fetch>& st, bool final) {
  auto& ctx = *st->ctx;
  const auto& req = std::get<p::fetch_request>(ctx.request().body);
  fetch_answer a = read_all(ctx, req);
  const bool enough = static_cast<int64_t>(a.bytes) >= req.min_bytes;
  if (final || enough || a.has_error || a.watch.empty() || ctx.broker().mono_now_ms() >= st->deadline_ms ||
      !ctx.connection_open()) {
    answer(ctx, a);
    return;
  }
  ctx.broker().wait(std::move(a.watch), st->deadline_ms, [st](broker::wake_reason why) {
    attempt(st, why == broker::wake_reason::deadline || why == broker::wake_reason::shutdown);
  });
}

void answer_error(request_context& ctx, const p::fetch_request& req, p::error_code top, p::error_code each) {
  p::fetch_response r;
  r.error_code = top;
  if (each != p::error_code::none) {
    for (const auto& t : req.topics) {
      auto& tr = r.responses.emplace_back();
      tr.topic = t.topic;
      for (const auto& fp : t.partitions) {
        auto& pd = tr.partitions.emplace_back();
        pd.partition_index = fp.partition;
        pd.error_code = each;
        pd.high_watermark = -1;
        pd.records = p::records_view{};
      }
    }
  }
  ctx.respond(r);
}

}  // namespace

void fetch(request_context& ctx, protocol::fetch_request& req) {
  if (ctx.version() >= 7) {
    if (req.session_id != 0) {
      answer_error(ctx, req, p::error_code::fetch_session_id_not_found, p::error_code::none);
      return;
    }
    if (req.session_epoch != 0 && req.session_epoch != -1) {
      answer_error(ctx, req, p::error_code::invalid_fetch_session_epoch, p::error_code::none);
      return;
    }
  }
  const int64_t wait_ms = std::clamp<int64_t>(req.max_wait_ms, 0, ctx.config().kafka.fetch_max_wait_ms);
  auto st = std::make_shared<parked_fetch>(
      parked_fetch{ctx.shared_from_this(), ctx.broker().mono_now_ms() + wait_ms});
  attempt(st, wait_ms == 0);
}

void fetch_reject(request_context& ctx, protocol::error_code error) {
  answer_error(ctx, std::get<p::fetch_request>(ctx.request().body), p::error_code::none, error);
}

}  // namespace tributary::cluster::kafka::handlers
