#pragma once
// Backlog and counter metrics of a buffer_store, computed at scrape time from its thread-safe
// snapshot (buffer_store::backlog() and counters()), so the scrape never touches SQLite:
//   tributary_gateway_buffer_backlog_rows / _backlog_bytes / _oldest_age_seconds (0 when empty)
//   tributary_gateway_buffer_dead_letter_rows / _dead_letter_bytes / _file_bytes
//   tributary_gateway_buffer_{appended,rejected,invalid,evicted,delivered,expired,dead_lettered}_rows_total
// The store must outlive the registry's scrapes. `now_ms` gives the wall clock (Unix ms) for the age.
#include <cstdint>
#include <functional>

#include "common/metrics.h"
#include "gateway/buffer/buffer_store.h"

namespace tributary::gateway::buffer {

void register_store_metrics(metrics::registry& reg, const buffer_store& store,
                            std::function<int64_t()> now_ms);

}  // namespace tributary::gateway::buffer
