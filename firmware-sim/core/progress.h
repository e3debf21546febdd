#pragma once
// The once-a-second progress line and the final summary of `tributary-sim run` (pure formatting).
//   [  12s] running connected=9998/10000 connecting=2 waiting=0 sent=119876 acked=119850 errors=3
//           rate=9998/s acked_rate=9990/s queued=0 inflight=26
#include <cstdint>
#include <string>

#include "firmware-sim/core/fleet.h"

namespace tributary::sim {

struct progress_sample {
  int64_t now_ms = 0;
  fleet_totals totals;
};

// errors = connect failures + connection losses + publish failures + readings dropped from full queues.
uint64_t error_count(const fleet_totals& t);
std::string format_progress(const progress_sample& previous, const progress_sample& current, size_t devices,
                            fleet_phase phase);
// Multi-line summary after the run; run_ms is the measuring phase, total_ms includes drain and close.
std::string format_summary(const fleet_totals& t, size_t devices, int64_t run_ms, int64_t total_ms);

}  // namespace tributary::sim
