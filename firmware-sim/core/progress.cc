#include "firmware-sim/core/progress.h"

#include <fmt/format.h>

namespace tributary::sim {
namespace {

uint32_t in(const fleet_totals& t, device_state s) { return t.in_state[static_cast<size_t>(s)]; }

double per_second(uint64_t delta, int64_t ms) {
  return ms > 0 ? static_cast<double>(delta) * 1000.0 / ms : 0.0;
}

}  // namespace

uint64_t error_count(const fleet_totals& t) {
  return t.connect_failures + t.connection_losses + t.publish_failures + t.dropped;
}

std::string format_progress(const progress_sample& previous, const progress_sample& current, size_t devices,
                            fleet_phase phase) {
  const fleet_totals& t = current.totals;
  const int64_t dt = current.now_ms - previous.now_ms;
  return fmt::format(
      "[{:5}s] {} connected={}/{} connecting={} waiting={} sent={} acked={} errors={} rate={:.0f}/s "
      "acked_rate={:.0f}/s queued={} inflight={}\n",
      current.now_ms / 1000, phase_name(phase), in(t, device_state::online), devices,
      in(t, device_state::connecting), in(t, device_state::waiting), t.sent, t.acked, error_count(t),
      per_second(t.sent - previous.totals.sent, dt), per_second(t.acked - previous.totals.acked, dt),
      t.queued, t.inflight);
}

std::string format_summary(const fleet_totals& t, size_t devices, int64_t run_ms, int64_t total_ms) {
  return fmt::format(
      "summary: devices={} run={:.1f}s total={:.1f}s generated={} sent={} resent={} acked={} unsent={} "
      "dropped={} acked_rate={:.0f}/s\n"
      "summary: connects={} reconnects={} connect_failures={} connection_losses={} publish_failures={} "
      "leaves={} rejoins={} backoff_ms_max={} queue_depth_max={} never_started={} readings_skipped={}\n",
      devices, run_ms / 1000.0, total_ms / 1000.0, t.generated, t.sent, t.resent, t.acked,
      t.queued + t.inflight, t.dropped, per_second(t.acked, run_ms), t.connects, t.reconnects,
      t.connect_failures, t.connection_losses, t.publish_failures, t.leaves, t.rejoins, t.backoff_ms_max,
      t.queue_depth_max, in(t, device_state::unborn), t.readings_skipped);
}

}  // namespace tributary::sim
