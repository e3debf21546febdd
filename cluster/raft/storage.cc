#include "cluster/raft/storage.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::raft {

result<std::vector<entry>> log_storage::config_entries(log_index lo, log_index hi) const {
  constexpr size_t chunk_bytes = 1 << 20;
  std::vector<entry> out;
  log_index at = lo;
  // Each round reads at least one entry, so this ends after at most hi - lo rounds.
  while (at < hi) {
    std::vector<entry> chunk = TRIB_TRY(entries(at, hi, chunk_bytes));
    TRIB_ASSERT(!chunk.empty(), "storage returned no entries for a non-empty range");
    for (entry& e : chunk) {
      if (e.type == entry_type::config) out.push_back(std::move(e));
    }
    at = next_index(chunk.back().index);
  }
  return out;
}

memory_storage::memory_storage(membership bootstrap) { snapshot_.metadata.config = std::move(bootstrap); }

result<raft::term> memory_storage::term_at(log_index i) const {
  if (i < offset_) return fail(errc::compacted);
  if (i > last_index()) return fail(errc::unavailable);
  if (i == offset_) return offset_term_;
  return at(i).term;
}

result<std::vector<entry>> memory_storage::entries(log_index lo, log_index hi, size_t max_bytes) const {
  if (lo <= offset_) return fail(errc::compacted);
  if (hi > next_index(last_index())) return fail(errc::unavailable);
  std::vector<entry> out;
  size_t bytes = 0;
  for (log_index i = lo; i < hi; i = next_index(i)) {
    const entry& e = at(i);
    if (!out.empty() && bytes + e.byte_size() > max_bytes) break;
    bytes += e.byte_size();
    out.push_back(e);
  }
  return out;
}

result<void> memory_storage::append(std::span<const entry> batch) {
  if (batch.empty()) return {};
  log_index first = batch.front().index;
  if (first <= offset_) return fail(errc::compacted);
  if (first > next_index(last_index())) return fail(errc::unavailable);
  for (size_t i = 1; i < batch.size(); ++i) {
    TRIB_ASSERT(batch[i].index == next_index(batch[i - 1].index), "entries to append are not contiguous");
  }
  entries_.resize(static_cast<size_t>(first.value - offset_.value - 1));  // drop the overwritten suffix
  entries_.insert(entries_.end(), batch.begin(), batch.end());
  return {};
}

result<void> memory_storage::apply_snapshot(raft::snapshot s) {
  if (s.metadata.index <= snapshot_.metadata.index) return fail(errc::snapshot_out_of_date);
  offset_ = s.metadata.index;
  offset_term_ = s.metadata.term;
  entries_.clear();
  snapshot_ = std::move(s);
  return {};
}

result<void> memory_storage::create_snapshot(log_index index, membership config, raft::payload data) {
  if (index < snapshot_.metadata.index) return fail(errc::snapshot_out_of_date);
  if (index > last_index()) return fail(errc::unavailable);
  raft::term t = TRIB_TRY(term_at(index));
  snapshot_.metadata = snapshot_metadata{index, t, std::move(config)};
  snapshot_.data = std::move(data);
  return {};
}

result<void> memory_storage::compact(log_index through) {
  if (through <= offset_) return {};
  if (through > snapshot_.metadata.index || through > last_index()) return fail(errc::unavailable);
  raft::term t = at(through).term;
  entries_.erase(entries_.begin(), entries_.begin() + (through.value - offset_.value));
  offset_ = through;
  offset_term_ = t;
  return {};
}

}  // namespace tributary::cluster::raft
