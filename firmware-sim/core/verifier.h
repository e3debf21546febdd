#pragma once
// The verifier's matching logic, pure: a run report plus the stream of consumed records (payload and
// timestamps) in, counts out.
//   lost          acknowledged by the MQTT server (in the report) but never arrived
//   duplicated    arrived more than once (every extra copy counts)
//   reordered     arrived after a higher sequence of the same device had arrived (first copies only)
//   unacked       arrived although the simulator never saw its acknowledgement (not an error)
//   latency       record timestamp (or consume time) minus the reading's time with the device's simulated
//                 clock skew taken out; first copies only
// Only the payload's device, seq and ts_ms are used, so any forwarding path works. Records of other runs
// on the same topic (same device names, times outside this run) are counted as outside_run and ignored.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/bytes.h"
#include "firmware-sim/core/latency_histogram.h"
#include "firmware-sim/core/report.h"

namespace tributary::sim {

enum class latency_source : uint8_t { record_timestamp, consume_time };

struct verify_options {
  size_t samples_max = 20;              // examples listed per kind of problem
  int64_t run_window_slack_ms = 5'000;  // readings this far outside [started, ended] are another run's
  latency_source latency = latency_source::record_timestamp;
};

struct reading_ref {
  std::string device;
  uint64_t seq = 0;
  bool operator==(const reading_ref&) const = default;
};

struct verify_result {
  uint64_t records = 0;      // records consumed
  uint64_t malformed = 0;    // payloads that are not readings
  uint64_t foreign = 0;      // readings of devices (names or indexes) not in the report
  uint64_t outside_run = 0;  // readings of report devices, but timed outside this run or seq beyond it
  uint64_t expected = 0;     // acknowledged readings in the report
  uint64_t arrived = 0;      // distinct readings of this run that arrived
  uint64_t arrived_acked = 0;
  uint64_t unacked = 0;  // arrived but not acknowledged in the report
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  uint64_t reordered = 0;
  uint64_t latency_count = 0;
  uint64_t latency_negative = 0;  // clocks disagree: counted as 0 ms
  int64_t latency_ms_min = 0, latency_ms_p50 = 0, latency_ms_p95 = 0, latency_ms_p99 = 0, latency_ms_max = 0;
  std::vector<reading_ref> lost_samples, duplicate_samples, reorder_samples;

  bool ok() const { return lost == 0; }
};

class verifier {
 public:
  explicit verifier(run_report report, verify_options options = {});
  verifier(const verifier&) = delete;
  verifier& operator=(const verifier&) = delete;

  // One consumed record. record_ts_ms < 0 when the record has no timestamp; consumed_ms is when it was
  // read (epoch ms, the adapter's clock).
  void add(byte_span payload, int64_t record_ts_ms, int64_t consumed_ms);
  // True once every acknowledged reading has arrived (a consumer may stop early after a grace period).
  bool complete() const { return arrived_acked_ == expected_; }
  uint64_t records() const { return result_.records; }
  // The counts so far; lost is computed here (O(acknowledged readings)).
  verify_result result() const;
  const run_report& report() const { return report_; }

 private:
  struct device_track {
    std::vector<uint64_t> seen;  // bitmap by seq, allocated on first arrival
    uint64_t highest = 0;
  };
  void note_sample(std::vector<reading_ref>& v, uint32_t slot, uint64_t seq);

  run_report report_;
  verify_options options_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::unordered_map<uint32_t, uint32_t> by_index_;
  std::vector<device_track> tracks_;
  uint64_t expected_ = 0;
  uint64_t arrived_acked_ = 0;
  latency_histogram latency_;
  verify_result result_;
};

}  // namespace tributary::sim
