#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "firmware-sim/core/verifier.h"

using namespace tributary;
using namespace tributary::sim;

namespace {

constexpr int64_t start = 1'700'000'000'000;

device_report dev(std::string name, uint32_t index, uint64_t generated, std::vector<seq_range> acked,
                  int32_t skew = 0) {
  device_report d;
  d.device = std::move(name);
  d.index = index;
  d.skew_ms = skew;
  d.counters.generated = generated;
  auto set = seq_ranges::from_ranges(acked, 100);
  REQUIRE(set);
  d.acked_seqs = *set;
  d.counters.acked = set->count();
  return d;
}

run_report report_of(std::vector<device_report> devices) {
  run_report r;
  r.started_ms = start;
  r.run_ms = 10'000;
  r.ended_ms = start + 12'000;
  r.devices = std::move(devices);
  return r;
}

// A reading of device `name` taken at start + at_ms on the device's clock.
std::string json_reading(const std::string& name, uint64_t seq, int64_t at_ms) {
  reading r;
  r.seq = seq;
  r.ts_ms = start + at_ms;
  std::string out;
  encode_json(r, name, 0, out);
  return out;
}

std::string binary_reading(uint32_t index, uint64_t seq, int64_t at_ms) {
  reading r;
  r.device_index = index;
  r.seq = seq;
  r.ts_ms = start + at_ms;
  std::string out;
  encode_binary(r, 64, out);
  return out;
}

void feed(verifier& v, const std::string& payload, int64_t record_ts, int64_t consumed = -1) {
  v.add(as_bytes(payload), record_ts, consumed < 0 ? record_ts : consumed);
}

}  // namespace

TEST_CASE("verifier: everything arrives once, in order") {
  verifier v(report_of({dev("a", 1, 3, {{1, 3}}), dev("b", 2, 2, {{1, 2}})}));
  CHECK_FALSE(v.complete());
  for (uint64_t s = 1; s <= 3; ++s) feed(v, json_reading("a", s, s * 100), start + s * 100 + 7);
  for (uint64_t s = 1; s <= 2; ++s) feed(v, json_reading("b", s, s * 100), start + s * 100 + 20);
  CHECK(v.complete());
  const verify_result r = v.result();
  CHECK(r.ok());
  CHECK(r.records == 5);
  CHECK(r.expected == 5);
  CHECK(r.arrived == 5);
  CHECK(r.arrived_acked == 5);
  CHECK(r.lost == 0);
  CHECK(r.duplicated == 0);
  CHECK(r.reordered == 0);
  CHECK(r.latency_count == 5);
  CHECK(r.latency_ms_p50 == 7);
  CHECK(r.latency_ms_max == 20);
  CHECK(r.latency_ms_min == 7);
}

TEST_CASE("verifier: a removed reading is lost, a duplicated one is counted, order is checked") {
  verifier v(report_of({dev("a", 1, 5, {{1, 5}})}));
  feed(v, json_reading("a", 1, 0), start + 5);
  feed(v, json_reading("a", 2, 0), start + 5);
  feed(v, json_reading("a", 2, 0), start + 5);  // duplicate
  feed(v, json_reading("a", 5, 0), start + 5);
  feed(v, json_reading("a", 3, 0), start + 5);  // after 5: reordered
  // seq 4 never arrives
  const verify_result r = v.result();
  CHECK_FALSE(r.ok());
  CHECK(r.lost == 1);
  CHECK(r.lost_samples == std::vector<reading_ref>{{"a", 4}});
  CHECK(r.duplicated == 1);
  CHECK(r.duplicate_samples == std::vector<reading_ref>{{"a", 2}});
  CHECK(r.reordered == 1);
  CHECK(r.reorder_samples == std::vector<reading_ref>{{"a", 3}});
  CHECK(r.arrived == 4);
  CHECK(r.latency_count == 4);  // first copies only
  CHECK_FALSE(v.complete());
}

TEST_CASE("verifier: never-acknowledged readings are not lost; arriving ones are counted as unacked") {
  verifier v(report_of({dev("a", 1, 6, {{1, 2}, {5, 5}})}));  // 3, 4, 6 were never acknowledged
  feed(v, json_reading("a", 1, 0), start);
  feed(v, json_reading("a", 2, 0), start);
  feed(v, json_reading("a", 3, 0), start);
  feed(v, json_reading("a", 5, 0), start);
  const verify_result r = v.result();
  CHECK(r.ok());
  CHECK(r.expected == 3);
  CHECK(r.unacked == 1);
  CHECK(r.lost == 0);
}

TEST_CASE("verifier: binary readings are matched by device index") {
  verifier v(report_of({dev("a", 7, 2, {{1, 2}}), dev("b", 9, 1, {{1, 1}})}));
  feed(v, binary_reading(7, 1, 0), start);
  feed(v, binary_reading(7, 2, 0), start);
  feed(v, binary_reading(9, 1, 0), start);
  feed(v, binary_reading(8, 1, 0), start);  // not in the report
  const verify_result r = v.result();
  CHECK(r.ok());
  CHECK(r.arrived == 3);
  CHECK(r.foreign == 1);
}

TEST_CASE("verifier: foreign, malformed and other runs' readings are set aside") {
  verifier v(report_of({dev("a", 1, 2, {{1, 2}})}));
  feed(v, json_reading("zzz", 1, 0), start);         // unknown device
  feed(v, "not a reading", start);                   // malformed
  feed(v, json_reading("a", 3, 0), start);           // seq beyond the run
  feed(v, json_reading("a", 0, 0), start);           // seq 0 is never produced
  feed(v, json_reading("a", 1, -3'600'000), start);  // an hour before the run: a previous run
  feed(v, json_reading("a", 1, 3'600'000), start);   // after it
  const verify_result r = v.result();
  CHECK(r.records == 6);
  CHECK(r.foreign == 1);
  CHECK(r.malformed == 1);
  CHECK(r.outside_run == 4);
  CHECK(r.arrived == 0);
  CHECK(r.lost == 2);
}

TEST_CASE("verifier: latency takes out the device's simulated clock skew") {
  verifier v(report_of({dev("fast", 1, 1, {{1, 1}}, +2000), dev("slow", 2, 1, {{1, 1}}, -2000)}));
  // Both readings were taken at start + 100 ms true time; their clocks say otherwise.
  feed(v, json_reading("fast", 1, 100 + 2000), start + 150);
  feed(v, json_reading("slow", 1, 100 - 2000), start + 130);
  const verify_result r = v.result();
  CHECK(r.latency_ms_min == 30);
  CHECK(r.latency_ms_max == 50);
  CHECK(r.latency_negative == 0);
}

TEST_CASE("verifier: latency from consume time when asked, or when a record has no timestamp") {
  {
    verifier v(report_of({dev("a", 1, 2, {{1, 2}})}));
    feed(v, json_reading("a", 1, 0), -1, start + 40);  // no record timestamp
    feed(v, json_reading("a", 2, 0), start + 10, start + 60);
    const verify_result r = v.result();
    CHECK(r.latency_ms_min == 10);
    CHECK(r.latency_ms_max == 40);
  }
  {
    verify_options o;
    o.latency = latency_source::consume_time;
    verifier v(report_of({dev("a", 1, 1, {{1, 1}})}), o);
    feed(v, json_reading("a", 1, 0), start + 10, start + 60);
    CHECK(v.result().latency_ms_max == 60);
  }
  {
    verifier v(report_of({dev("a", 1, 1, {{1, 1}})}));
    feed(v, json_reading("a", 1, 500), start + 100);  // arrives "before" it was taken
    const verify_result r = v.result();
    CHECK(r.latency_negative == 1);
    CHECK(r.latency_ms_max == 0);
  }
}

TEST_CASE("verifier: samples are bounded, counts are not") {
  verify_options o;
  o.samples_max = 3;
  verifier v(report_of({dev("a", 1, 100, {{1, 100}})}), o);
  for (uint64_t s = 1; s <= 100; s += 2) feed(v, json_reading("a", s, 0), start);
  const verify_result r = v.result();
  CHECK(r.lost == 50);
  CHECK(r.lost_samples.size() == 3);
  CHECK(r.lost_samples[0] == reading_ref{"a", 2});
}

TEST_CASE("verifier: an empty report expects nothing") {
  verifier v(report_of({dev("a", 1, 0, {})}));
  CHECK(v.complete());
  CHECK(v.result().ok());
}
