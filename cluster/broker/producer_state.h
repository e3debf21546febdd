#pragma once
// Idempotent-producer bookkeeping for one partition (a pure core: no I/O, no clock).
//
// Kafka's idempotence contract (KIP-98): a producer (id, epoch) numbers its batches per partition with
// consecutive sequence numbers. The broker
//   - appends a batch whose first sequence follows the producer's last one;
//   - answers a re-sent batch it already has (one of the last `batches_kept` of that producer) with
//     the original offsets and does not append it again;
//   - rejects a gap or a reordering with OUT_OF_ORDER_SEQUENCE_NUMBER, and an older epoch with
//     INVALID_PRODUCER_EPOCH; a newer epoch must start again at sequence 0.
// Sequences wrap from INT32_MAX to 0. A producer this partition knows nothing about (first batch ever,
// or state evicted) is accepted at any sequence, as Kafka does since KIP-360.
//
// The table is rebuilt on start by replaying the batch headers of the log (record() in offset order),
// so it needs no file of its own.
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

namespace tributary::cluster::broker {

struct producer_batch {
  int32_t first_seq = 0;
  int32_t last_seq = 0;
  int64_t base_offset = 0;
  int64_t last_offset = 0;
};

enum class sequence_verdict {
  append,        // new data in sequence: append it, then record()
  duplicate,     // already in the log: answer with duplicate_of, append nothing
  out_of_order,  // OUT_OF_ORDER_SEQUENCE_NUMBER
  fenced_epoch,  // INVALID_PRODUCER_EPOCH: an older epoch than the one in use
};

struct sequence_check {
  sequence_verdict verdict = sequence_verdict::append;
  producer_batch duplicate_of{};  // set for duplicate
};

class producer_table {
 public:
  static constexpr size_t batches_kept = 5;  // what Kafka keeps and what clients assume (max in-flight 5)

  // `producers_max`: a limit on tracked producers; the one with the oldest last append is evicted.
  explicit producer_table(size_t producers_max = 10000) : producers_max_(producers_max) {}

  // producer_id < 0 means a non-idempotent batch: always append.
  sequence_check check(int64_t producer_id, int16_t epoch, int32_t first_seq, int32_t record_count) const;
  // Notes an appended batch (also used to replay the log on start).
  void record(int64_t producer_id, int16_t epoch, const producer_batch& batch);
  // Forgets batches at or above `from` (log truncation); producers left with nothing are dropped.
  void truncate(int64_t from);
  size_t size() const { return producers_.size(); }

  static int32_t last_sequence(int32_t first_seq, int32_t record_count);

 private:
  struct producer {
    int16_t epoch = 0;
    std::deque<producer_batch> batches;  // oldest first, at most batches_kept
  };
  void evict_if_full();

  size_t producers_max_;
  std::unordered_map<int64_t, producer> producers_;
};

}  // namespace tributary::cluster::broker
