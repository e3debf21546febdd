#include "firmware-sim/core/verifier.h"

#include <algorithm>

#include "common/assert.h"
#include "firmware-sim/core/reading.h"

namespace tributary::sim {

verifier::verifier(run_report report, verify_options options)
    : report_(std::move(report)), options_(options), tracks_(report_.devices.size()) {
  by_name_.reserve(report_.devices.size());
  by_index_.reserve(report_.devices.size());
  for (uint32_t i = 0; i < report_.devices.size(); ++i) {
    const device_report& d = report_.devices[i];
    const bool fresh_name = by_name_.emplace(d.device, i).second;
    const bool fresh_index = by_index_.emplace(d.index, i).second;
    TRIB_ASSERT(fresh_name && fresh_index, "parse_report guarantees unique names and indexes");
    expected_ += d.acked_seqs.count();
  }
  result_.expected = expected_;
}

void verifier::note_sample(std::vector<reading_ref>& v, uint32_t slot, uint64_t seq) {
  if (v.size() < options_.samples_max) v.push_back({report_.devices[slot].device, seq});
}

void verifier::add(byte_span payload, int64_t record_ts_ms, int64_t consumed_ms) {
  ++result_.records;
  auto decoded = decode_reading(payload);
  if (!decoded) {
    ++result_.malformed;
    return;
  }
  uint32_t slot = 0;
  if (decoded->format == payload_format::json) {
    const auto it = by_name_.find(decoded->device);
    if (it == by_name_.end()) {
      ++result_.foreign;
      return;
    }
    slot = it->second;
  } else {
    const auto it = by_index_.find(decoded->device_index);
    if (it == by_index_.end()) {
      ++result_.foreign;
      return;
    }
    slot = it->second;
  }
  const device_report& dev = report_.devices[slot];
  const uint64_t seq = decoded->seq;
  const int64_t true_ts = decoded->ts_ms - dev.skew_ms;
  if (seq == 0 || seq > dev.counters.generated ||
      true_ts < report_.started_ms - options_.run_window_slack_ms ||
      true_ts > report_.ended_ms + options_.run_window_slack_ms) {
    ++result_.outside_run;
    return;
  }
  device_track& t = tracks_[slot];
  if (t.seen.empty()) t.seen.assign(dev.counters.generated / 64 + 1, 0);
  uint64_t& word = t.seen[seq / 64];
  const uint64_t bit = uint64_t{1} << (seq % 64);
  if (word & bit) {
    ++result_.duplicated;
    note_sample(result_.duplicate_samples, slot, seq);
    return;
  }
  word |= bit;
  ++result_.arrived;
  if (dev.acked_seqs.contains(seq)) {
    ++arrived_acked_;
  } else {
    ++result_.unacked;
  }
  if (seq < t.highest) {
    ++result_.reordered;
    note_sample(result_.reorder_samples, slot, seq);
  } else {
    t.highest = seq;
  }
  const int64_t arrival =
      options_.latency == latency_source::record_timestamp && record_ts_ms >= 0 ? record_ts_ms : consumed_ms;
  latency_.record(arrival - true_ts);
}

verify_result verifier::result() const {
  verify_result r = result_;
  r.arrived_acked = arrived_acked_;
  r.lost = 0;
  r.lost_samples.clear();
  for (uint32_t slot = 0; slot < report_.devices.size(); ++slot) {
    const device_report& dev = report_.devices[slot];
    const device_track& t = tracks_[slot];
    for (const seq_range& range : dev.acked_seqs.ranges()) {
      for (uint64_t seq = range.lo; seq <= range.hi; ++seq) {
        const bool seen = !t.seen.empty() && (t.seen[seq / 64] >> (seq % 64) & 1) != 0;
        if (seen) continue;
        ++r.lost;
        if (r.lost_samples.size() < options_.samples_max) r.lost_samples.push_back({dev.device, seq});
      }
    }
  }
  TRIB_ASSERT(r.lost == expected_ - arrived_acked_);
  r.latency_count = latency_.count();
  r.latency_negative = latency_.negative();
  r.latency_ms_min = latency_.min();
  r.latency_ms_p50 = latency_.quantile(0.50);
  r.latency_ms_p95 = latency_.quantile(0.95);
  r.latency_ms_p99 = latency_.quantile(0.99);
  r.latency_ms_max = latency_.max();
  return r;
}

}  // namespace tributary::sim
