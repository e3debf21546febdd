#include "cluster/broker/producer_state.h"

#include <doctest/doctest.h>

#include <limits>

using namespace tributary::cluster::broker;

namespace {
// Appends through the table the way the broker does: check, then record at the next offsets.
struct partition_model {
  producer_table table{3};
  int64_t end = 0;
  sequence_check produce(int64_t pid, int16_t epoch, int32_t seq, int32_t n) {
    auto c = table.check(pid, epoch, seq, n);
    if (c.verdict == sequence_verdict::append) {
      if (pid >= 0) table.record(pid, epoch, {seq, producer_table::last_sequence(seq, n), end, end + n - 1});
      end += n;
    }
    return c;
  }
};
}  // namespace

TEST_CASE("non-idempotent batches are always appended") {
  partition_model p;
  CHECK(p.produce(-1, -1, -1, 5).verdict == sequence_verdict::append);
  CHECK(p.produce(-1, -1, -1, 5).verdict == sequence_verdict::append);
  CHECK(p.table.size() == 0);
}

TEST_CASE("in-sequence batches append; a resend of any of the last five is a duplicate") {
  partition_model p;
  for (int i = 0; i < 7; ++i) CHECK(p.produce(1000, 0, i * 10, 10).verdict == sequence_verdict::append);
  CHECK(p.end == 70);
  // Batches 2..6 (seq 20..69) are remembered; 0 and 1 have been forgotten.
  auto dup = p.produce(1000, 0, 30, 10);
  CHECK(dup.verdict == sequence_verdict::duplicate);
  CHECK(dup.duplicate_of.base_offset == 30);
  CHECK(dup.duplicate_of.last_offset == 39);
  CHECK(p.produce(1000, 0, 60, 10).verdict == sequence_verdict::duplicate);
  CHECK(p.produce(1000, 0, 0, 10).verdict == sequence_verdict::out_of_order);
  CHECK(p.end == 70);
}

TEST_CASE("gaps and overlaps are out of order") {
  partition_model p;
  CHECK(p.produce(7, 0, 0, 5).verdict == sequence_verdict::append);
  CHECK(p.produce(7, 0, 6, 5).verdict == sequence_verdict::out_of_order);  // gap: 5 missing
  CHECK(p.produce(7, 0, 3, 5).verdict == sequence_verdict::out_of_order);  // overlap, not a resend
  CHECK(p.produce(7, 0, 5, 5).verdict == sequence_verdict::append);
  CHECK(p.produce(7, 0, -1, 1).verdict == sequence_verdict::out_of_order);
}

TEST_CASE("epochs: older is fenced, newer restarts at sequence 0") {
  partition_model p;
  CHECK(p.produce(9, 3, 0, 2).verdict == sequence_verdict::append);
  CHECK(p.produce(9, 2, 2, 2).verdict == sequence_verdict::fenced_epoch);
  CHECK(p.produce(9, 4, 2, 2).verdict == sequence_verdict::out_of_order);
  CHECK(p.produce(9, 4, 0, 2).verdict == sequence_verdict::append);
  CHECK(p.produce(9, 3, 2, 2).verdict == sequence_verdict::fenced_epoch);
}

TEST_CASE("an unknown producer is accepted at any sequence") {
  partition_model p;
  CHECK(p.produce(11, 0, 500, 1).verdict == sequence_verdict::append);
  CHECK(p.produce(11, 0, 501, 1).verdict == sequence_verdict::append);
}

TEST_CASE("sequences wrap from INT32_MAX to 0") {
  constexpr int32_t max = std::numeric_limits<int32_t>::max();
  CHECK(producer_table::last_sequence(max - 1, 3) == 0);
  partition_model p;
  CHECK(p.produce(5, 0, max - 4, 5).verdict == sequence_verdict::append);
  CHECK(p.produce(5, 0, 0, 5).verdict == sequence_verdict::append);
  CHECK(p.produce(5, 0, max - 4, 5).verdict == sequence_verdict::duplicate);
}

TEST_CASE("truncation forgets batches above the cut; the producer resumes from what is left") {
  partition_model p;
  CHECK(p.produce(1, 0, 0, 10).verdict == sequence_verdict::append);   // offsets 0..9
  CHECK(p.produce(1, 0, 10, 10).verdict == sequence_verdict::append);  // 10..19
  p.table.truncate(10);
  p.end = 10;
  CHECK(p.produce(1, 0, 10, 10).verdict == sequence_verdict::append);  // not a duplicate any more
  p.table.truncate(0);
  CHECK(p.table.size() == 0);
}

TEST_CASE("the producer limit evicts the least recently appended producer") {
  partition_model p;  // at most 3
  CHECK(p.produce(1, 0, 0, 1).verdict == sequence_verdict::append);
  CHECK(p.produce(2, 0, 0, 1).verdict == sequence_verdict::append);
  CHECK(p.produce(3, 0, 0, 1).verdict == sequence_verdict::append);
  CHECK(p.produce(1, 0, 1, 1).verdict == sequence_verdict::append);  // 1 is now the most recent
  CHECK(p.produce(4, 0, 0, 1).verdict == sequence_verdict::append);  // evicts 2
  CHECK(p.table.size() == 3);
  // Producer 2 is unknown again, so any sequence is accepted; producer 1 is still checked.
  CHECK(p.produce(2, 0, 77, 1).verdict == sequence_verdict::append);
  CHECK(p.produce(1, 0, 5, 1).verdict == sequence_verdict::out_of_order);
}
