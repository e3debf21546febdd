#pragma once
// The run report: what `tributary-sim run` sent and what the MQTT server acknowledged, per device, with
// the acknowledged sequences as compact ranges, so `verify` can tell a lost reading (acknowledged, never
// arrived) from one that was never acknowledged (still queued, dropped while offline, or unconfirmed).
//
//   {"format": "tributary-sim-report", "version": 1, "broker": "...", "started_ms": 1732350000000,
//    "run_ms": 60000, "ended_ms": ..., "seed": 1,
//    "groups": [{"name": "default", "devices": 100, "qos": 1, "payload": "json", "size": 0, "rate_hz": 1,
//                "topic_template": "sensors/{device}/telemetry"}],
//    "totals": {"generated": ..., "sent": ..., "acked": ..., ...},
//    "devices": [{"device": "dev-000001", "index": 1, "group": "default", "client_id": "dev-000001",
//                 "skew_ms": 0, "generated": 60, "sent": 60, "resent": 0, "acked": 60, "dropped": 0,
//                 "unsent": 0, "publish_failures": 0, "connects": 1, "connect_failures": 0,
//                 "connection_losses": 0, "leaves": 0, "backoff_ms_max": 0, "queue_depth_max": 1,
//                 "acked_seqs": [[1, 60]]}]}
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "firmware-sim/core/errc.h"
#include "firmware-sim/core/fleet.h"
#include "firmware-sim/core/seq_ranges.h"

namespace tributary::sim {

inline constexpr std::string_view report_format_name = "tributary-sim-report";
inline constexpr int report_version = 1;
inline constexpr size_t report_bytes_max = size_t{1} << 30;
inline constexpr size_t report_ranges_per_device_max = 1'000'000;

struct device_report {
  std::string device;
  uint32_t index = 0;  // 1-based; a binary reading carries it
  std::string group;
  std::string client_id;
  int32_t skew_ms = 0;
  std::string final_state;
  device_counters counters;
  uint64_t unsent = 0;
  seq_ranges acked_seqs;
};

struct group_report {
  std::string name;
  uint32_t devices = 0;
  uint8_t qos = 0;
  std::string payload;
  uint32_t size = 0;
  double rate_hz = 0;
  std::string topic_template;
};

struct run_report {
  std::string broker;
  int64_t started_ms = 0;  // epoch ms at the start of the run
  int64_t run_ms = 0;      // length of the measuring phase
  int64_t ended_ms = 0;    // epoch ms when the simulator stopped
  uint64_t seed = 0;
  std::vector<group_report> groups;
  std::map<std::string, uint64_t> totals;  // named counters (generated, sent, acked, ...)
  std::vector<device_report> devices;
};

// Builds the report from a fleet after (or during) a run. `ended_ms` is the epoch time now.
run_report make_report(const fleet& f, int64_t started_ms, int64_t ended_ms);
// Serialises; `indent` < 0 gives one line.
std::string report_to_json(const run_report& r, int indent = -1);
// Parses and checks a report (unique names and indexes, ranges sorted and disjoint, acked counts equal
// to the ranges' sizes).
detailed_result<run_report> parse_report(std::string_view text);

}  // namespace tributary::sim
