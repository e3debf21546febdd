#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "firmware-sim/core/report.h"

using namespace tributary::sim;

namespace {

scenario small() {
  scenario s;
  s.duration_s = 1;
  s.connect_rate = 0;
  group_spec g;
  g.devices = 3;
  g.rate_hz = 10;
  g.skew_min_ms = -50;
  g.skew_max_ms = 50;
  s.groups.push_back(g);
  return s;
}

// Runs a fleet where every publish except those in `drop` is acknowledged.
run_report run(const scenario& s, std::vector<uint64_t> never_acked_of_device0 = {}) {
  fleet f(s, 1'000'000);
  std::vector<action> out;
  for (int64_t now = 0; now <= 3000 && !f.finished(); ++now) {
    f.tick(now, out);
    while (!out.empty()) {
      std::vector<action> batch;
      batch.swap(out);
      for (const action& a : batch) {
        if (a.what == action::kind::connect) f.on_connected(a.device, now, out);
        if (a.what == action::kind::disconnect) f.on_disconnected(a.device, now, out);
        if (a.what == action::kind::publish) {
          bool skip = false;
          for (uint64_t s0 : never_acked_of_device0) skip |= a.device == 0 && a.r.seq == s0;
          if (!skip) f.on_published(a.device, a.r.seq, now, out);
        }
      }
    }
  }
  return make_report(f, 1'000'000, 1'003'000);
}

}  // namespace

TEST_CASE("report: round trip through JSON, in both layouts") {
  const run_report r = run(small(), {4, 5});
  REQUIRE(r.devices.size() == 3);
  CHECK(r.devices[0].acked_seqs.ranges() == std::vector<seq_range>{{1, 3}, {6, 10}});
  CHECK(r.devices[0].counters.generated == 10);
  CHECK(r.devices[0].counters.acked == 8);
  CHECK(r.totals.at("acked") == 28);
  for (int indent : {-1, 1, 2}) {
    const std::string text = report_to_json(r, indent);
    CHECK(nlohmann::json::accept(text));
    auto back = parse_report(text);
    REQUIRE_MESSAGE(back, (back ? "" : back.error().message));
    REQUIRE(back->devices.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
      CHECK(back->devices[i].device == r.devices[i].device);
      CHECK(back->devices[i].index == r.devices[i].index);
      CHECK(back->devices[i].skew_ms == r.devices[i].skew_ms);
      CHECK(back->devices[i].counters.generated == r.devices[i].counters.generated);
      CHECK(back->devices[i].acked_seqs.ranges() == r.devices[i].acked_seqs.ranges());
    }
    CHECK(back->started_ms == 1'000'000);
    CHECK(back->run_ms == 1000);
    CHECK(back->totals == r.totals);
    CHECK(back->groups.size() == 1);
  }
  // The readable layout keeps one line per device.
  const std::string pretty = report_to_json(r, 1);
  CHECK(pretty.find("\n  {\"device\":\"dev-000001\"") != std::string::npos);
}

TEST_CASE("report: parse errors") {
  const std::string good = report_to_json(run(small()));
  auto with = [&](const std::string& from, const std::string& to, const std::string& from2 = {},
                  const std::string& to2 = {}) {
    std::string t = good;
    size_t at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    if (!from2.empty()) {
      at = t.find(from2);
      REQUIRE(at != std::string::npos);
      t.replace(at, from2.size(), to2);
    }
    auto r = parse_report(t);
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK(parse_report("nope").error().code == errc::bad_json);
  CHECK(with("tributary-sim-report", "other").find("format") != std::string::npos);
  CHECK(with("\"version\":1", "\"version\":9").find("version 9") != std::string::npos);
  CHECK(with("\"devices\":[", "\"devixes\":[").find("no \"devices\"") != std::string::npos);
  CHECK(with("\"device\":\"dev-000002\"", "\"device\":\"dev-000001\"").find("twice") != std::string::npos);
  CHECK(with("\"index\":2", "\"index\":1").find("index 1 twice") != std::string::npos);
  CHECK(with("\"index\":2", "\"index\":0").find("index 0") != std::string::npos);
  CHECK(with("\"acked_seqs\":[[1,10]]", "\"acked_seqs\":[[1,9]]").find("ranges hold 9") != std::string::npos);
  CHECK(with("\"acked_seqs\":[[1,10]]", "\"acked_seqs\":[[1,11]]", "\"acked\":10,", "\"acked\":11,")
            .find("beyond generated") != std::string::npos);
  CHECK(with("\"acked_seqs\":[[1,10]]", "\"acked_seqs\":[[5,1]]").find("reversed") != std::string::npos);
  CHECK(with("\"acked_seqs\":[[1,10]]", "\"acked_seqs\":[1,10]").find("not [lo, hi]") != std::string::npos);
  CHECK(with("\"device\":\"dev-000002\"", "\"device\":\"bad name\"").find("bad device name") !=
        std::string::npos);
  CHECK(with("\"started_ms\":", "\"startedms\":").find("missing \"started_ms\"") != std::string::npos);
}
