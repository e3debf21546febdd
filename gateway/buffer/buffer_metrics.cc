#include "gateway/buffer/buffer_metrics.h"

#include <algorithm>

namespace tributary::gateway::buffer {

void register_store_metrics(metrics::registry& reg, const buffer_store& store,
                            std::function<int64_t()> now_ms) {
  const buffer_store* s = &store;
  reg.add_callback_gauge("tributary_gateway_buffer_backlog_rows", "Readings buffered, not yet delivered.",
                         [s] { return static_cast<double>(s->backlog().rows); });
  reg.add_callback_gauge("tributary_gateway_buffer_backlog_bytes", "Accounted bytes of buffered readings.",
                         [s] { return static_cast<double>(s->backlog().bytes); });
  reg.add_callback_gauge("tributary_gateway_buffer_oldest_age_seconds",
                         "Age of the oldest buffered reading (0 when the buffer is empty).", [s, now_ms] {
                           auto oldest = s->backlog().oldest_receive_ms;
                           if (!oldest) return 0.0;
                           return static_cast<double>(std::max<int64_t>(0, now_ms() - *oldest)) / 1000.0;
                         });
  reg.add_callback_gauge("tributary_gateway_buffer_dead_letter_rows", "Readings in the dead-letter table.",
                         [s] { return static_cast<double>(s->backlog().dead_letter_rows); });
  reg.add_callback_gauge("tributary_gateway_buffer_dead_letter_bytes", "Accounted bytes of dead letters.",
                         [s] { return static_cast<double>(s->backlog().dead_letter_bytes); });
  reg.add_callback_gauge("tributary_gateway_buffer_file_bytes", "Size of the buffer's main database file.",
                         [s] { return static_cast<double>(s->backlog().file_bytes); });
  auto counter = [&](const char* name, const char* help, uint64_t store_counters::*field) {
    reg.add_callback_counter(name, help, [s, field] { return s->counters().*field; });
  };
  counter("tributary_gateway_buffer_appended_rows_total", "Readings committed to the buffer.",
          &store_counters::appended_rows);
  counter("tributary_gateway_buffer_rejected_rows_total", "Readings refused by the quota (policy reject).",
          &store_counters::rejected_rows);
  counter("tributary_gateway_buffer_invalid_rows_total", "Readings refused as invalid or too large.",
          &store_counters::invalid_rows);
  counter("tributary_gateway_buffer_evicted_rows_total",
          "Readings evicted by the quota (policy drop-oldest).", &store_counters::evicted_rows);
  counter("tributary_gateway_buffer_delivered_rows_total",
          "Readings deleted after the cluster acknowledged them.", &store_counters::delivered_rows);
  counter("tributary_gateway_buffer_expired_rows_total", "Readings expired by their time-to-live.",
          &store_counters::expired_rows);
  counter("tributary_gateway_buffer_dead_lettered_rows_total", "Readings moved to the dead-letter table.",
          &store_counters::dead_lettered_rows);
}

}  // namespace tributary::gateway::buffer
