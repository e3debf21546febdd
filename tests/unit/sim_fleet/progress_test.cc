#include <doctest/doctest.h>

#include "firmware-sim/core/progress.h"

using namespace tributary::sim;

TEST_CASE("progress line: connected, sent, acknowledged, errors, rates") {
  progress_sample a;
  a.now_ms = 1000;
  a.totals.sent = 100;
  a.totals.acked = 90;
  progress_sample b = a;
  b.now_ms = 2000;
  b.totals.sent = 1100;
  b.totals.acked = 1090;
  b.totals.connect_failures = 2;
  b.totals.dropped = 3;
  b.totals.queued = 4;
  b.totals.inflight = 10;
  b.totals.in_state[size_t(device_state::online)] = 98;
  b.totals.in_state[size_t(device_state::waiting)] = 2;
  CHECK(format_progress(a, b, 100, fleet_phase::running) ==
        "[    2s] running connected=98/100 connecting=0 waiting=2 sent=1100 acked=1090 errors=5 rate=1000/s "
        "acked_rate=1000/s queued=4 inflight=10\n");
  CHECK(error_count(b.totals) == 5);
  const std::string s = format_summary(b.totals, 100, 10'000, 12'000);
  CHECK(s.find("devices=100 run=10.0s total=12.0s") != std::string::npos);
  CHECK(s.find("acked_rate=109/s") != std::string::npos);
  CHECK(s.find("connect_failures=2") != std::string::npos);
}
