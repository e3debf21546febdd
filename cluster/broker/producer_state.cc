#include "cluster/broker/producer_state.h"

#include <limits>

#include "common/assert.h"

namespace tributary::cluster::broker {

int32_t producer_table::last_sequence(int32_t first_seq, int32_t record_count) {
  TRIB_ASSERT(record_count > 0 && first_seq >= 0);
  int64_t last = int64_t{first_seq} + record_count - 1;
  if (last > std::numeric_limits<int32_t>::max()) last -= int64_t{std::numeric_limits<int32_t>::max()} + 1;
  return static_cast<int32_t>(last);
}

namespace {
int32_t next_sequence(int32_t seq) { return seq == std::numeric_limits<int32_t>::max() ? 0 : seq + 1; }
}  // namespace

sequence_check producer_table::check(int64_t producer_id, int16_t epoch, int32_t first_seq,
                                     int32_t record_count) const {
  if (producer_id < 0) return {};
  if (first_seq < 0 || record_count <= 0) return {sequence_verdict::out_of_order, {}};
  auto it = producers_.find(producer_id);
  if (it == producers_.end() || it->second.batches.empty()) return {};
  const producer& p = it->second;
  if (epoch < p.epoch) return {sequence_verdict::fenced_epoch, {}};
  if (epoch > p.epoch) {
    if (first_seq != 0) return {sequence_verdict::out_of_order, {}};
    return {};
  }
  int32_t last_seq = last_sequence(first_seq, record_count);
  for (const auto& b : p.batches) {
    if (b.first_seq == first_seq && b.last_seq == last_seq) return {sequence_verdict::duplicate, b};
  }
  if (first_seq == next_sequence(p.batches.back().last_seq)) return {};
  return {sequence_verdict::out_of_order, {}};
}

void producer_table::record(int64_t producer_id, int16_t epoch, const producer_batch& batch) {
  if (producer_id < 0) return;
  auto [it, inserted] = producers_.try_emplace(producer_id);
  producer& p = it->second;
  if (inserted || epoch != p.epoch) {
    p.epoch = epoch;
    p.batches.clear();
  }
  p.batches.push_back(batch);
  while (p.batches.size() > batches_kept) p.batches.pop_front();
  if (inserted) evict_if_full();
}

void producer_table::truncate(int64_t from) {
  for (auto it = producers_.begin(); it != producers_.end();) {
    auto& b = it->second.batches;
    while (!b.empty() && b.back().base_offset >= from) b.pop_back();
    if (b.empty()) {
      it = producers_.erase(it);
    } else {
      ++it;
    }
  }
}

void producer_table::evict_if_full() {
  while (producers_.size() > producers_max_) {
    auto oldest = producers_.begin();
    for (auto it = producers_.begin(); it != producers_.end(); ++it) {
      if (it->second.batches.back().last_offset < oldest->second.batches.back().last_offset) oldest = it;
    }
    producers_.erase(oldest);
  }
}

}  // namespace tributary::cluster::broker
