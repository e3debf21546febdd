#include "cluster/raft/storage.h"

#include <algorithm>

#include "common/assert.h"

namespace tributary::cluster::raft {

result<std::vector<entry>> log_storage::config_entries(log_index lo, log_index hi) const {
  constexpr size_t chunk_bytes = 1 << 20;
  std::vector<entry> out;
  log_index at = lo;
  // Each round reads at least one entry, so this ends after at most as many rounds as entries.
  while (at < hi) {
    std::vector<entry> chunk = TRIB_TRY(entries(at, hi, chunk_bytes));
    TRIB_ASSERT(!chunk.empty() && chunk.front().index == at, "storage returned the wrong entries");
    at = next_index(chunk.back().last());
    for (entry& e : chunk) {
      if (e.type == entry_type::config) out.push_back(std::move(e));
    }
  }
  return out;
}

memory_storage::memory_storage(membership bootstrap, log_index start) : offset_(prev_index(start)) {
  snapshot_.metadata.index = offset_;
  snapshot_.metadata.config = std::move(bootstrap);
}

size_t position_covering(const std::deque<entry>& ents, log_index i) {
  TRIB_ASSERT(!ents.empty() && ents.front().index <= i && i <= ents.back().last(), "offset not held");
  const size_t n = ents.size();
  if (ents.back().index <= i) return n - 1;  // the common case: the last entry
  // Interpolate: offsets grow by the average width per entry (only a guess, checked below).
  const double span = static_cast<double>(ents.back().last().value - ents.front().index.value + 1);
  const double into = static_cast<double>(i.value - ents.front().index.value);
  const auto guess = static_cast<size_t>(into / span * static_cast<double>(n));
  if (guess < n && ents[guess].covers(i)) return guess;
  // The last entry starting at or before i; entries are sorted by index.
  auto it =
      std::upper_bound(ents.begin(), ents.end(), i, [](log_index v, const entry& e) { return v < e.index; });
  return static_cast<size_t>(it - ents.begin()) - 1;
}

size_t memory_storage::position_of(log_index i) const { return position_covering(entries_, i); }

bool memory_storage::is_entry_end(log_index i) const {
  if (i == offset_) return true;
  if (i < offset_ || i > last_index()) return false;
  return entries_[position_of(i)].last() == i;
}

result<raft::term> memory_storage::term_at(log_index i) const {
  if (i < offset_) return fail(errc::compacted);
  if (i > last_index()) return fail(errc::unavailable);
  if (i == offset_) return offset_term_;
  return entries_[position_of(i)].term;
}

result<std::vector<entry>> memory_storage::entries(log_index lo, log_index hi, size_t max_bytes) const {
  if (lo <= offset_) return fail(errc::compacted);
  if (hi > next_index(last_index())) return fail(errc::unavailable);
  std::vector<entry> out;
  if (lo >= hi) return out;
  size_t bytes = 0;
  for (size_t k = position_of(lo); k < entries_.size() && entries_[k].index < hi; ++k) {
    const entry& e = entries_[k];
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
  if (!is_entry_end(prev_index(first))) return fail(errc::not_entry_boundary);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!valid_width(batch[i].index, batch[i].width)) return fail(errc::invalid_width);
    TRIB_ASSERT(i == 0 || batch[i].index == next_index(batch[i - 1].last()),
                "entries to append are not contiguous");
  }
  // Drop the overwritten suffix: every entry from `first` on.
  size_t keep = first > last_index() ? entries_.size() : position_of(first);
  entries_.resize(keep);
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
  if (!is_entry_end(index)) return fail(errc::not_entry_boundary);
  snapshot_.metadata = snapshot_metadata{index, t, std::move(config)};
  snapshot_.data = std::move(data);
  return {};
}

result<void> memory_storage::compact(log_index through) {
  if (through <= offset_) return {};
  if (through > snapshot_.metadata.index || through > last_index()) return fail(errc::unavailable);
  if (!is_entry_end(through)) return fail(errc::not_entry_boundary);
  size_t drop = position_of(through) + 1;
  raft::term t = entries_[drop - 1].term;
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<ptrdiff_t>(drop));
  offset_ = through;
  offset_term_ = t;
  return {};
}

}  // namespace tributary::cluster::raft
