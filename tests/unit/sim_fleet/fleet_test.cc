#include <doctest/doctest.h>

#include <deque>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "firmware-sim/core/fleet.h"

using namespace tributary::sim;

namespace {

constexpr int64_t wall_base = 1'700'000'000'000;

scenario one_group(uint32_t devices, double rate_hz, double duration_s = 10) {
  scenario s;
  s.duration_s = duration_s;
  s.connect_rate = 0;
  s.drain_ms = 1000;
  s.close_ms = 1000;
  group_spec g;
  g.devices = devices;
  g.rate_hz = rate_hz;
  g.backoff.jitter = 0;
  s.groups.push_back(g);
  return s;
}

// A scripted MQTT server: answers the fleet's actions at once (or not), and logs what it saw.
struct harness {
  explicit harness(const scenario& s) : f(s, wall_base) {}

  fleet f;
  int64_t now = 0;
  bool up = true;                                        // connects succeed
  bool auto_ack = true;                                  // publishes are acknowledged at once
  std::vector<action> log;                               // every action, in order
  std::deque<std::pair<device_slot, uint64_t>> unacked;  // publishes not yet answered (auto_ack off)
  std::vector<action> pending;

  void handle() {
    while (!pending.empty()) {
      std::vector<action> batch;
      batch.swap(pending);
      for (const action& a : batch) {
        log.push_back(a);
        switch (a.what) {
          case action::kind::connect:
            if (up) {
              f.on_connected(a.device, now, pending);
            } else {
              f.on_connect_failed(a.device, now, pending);
            }
            break;
          case action::kind::publish:
            if (auto_ack) {
              f.on_published(a.device, a.r.seq, now, pending);
            } else {
              unacked.emplace_back(a.device, a.r.seq);
            }
            break;
          case action::kind::disconnect: f.on_disconnected(a.device, now, pending); break;
        }
      }
    }
  }
  void run_until(int64_t t) {
    for (; now <= t; ++now) {
      f.tick(now, pending);
      handle();
    }
    now = t;
  }
  // Ticks until `n` publishes have been seen (readings start at a random phase).
  void run_until_published(size_t n) {
    while (count(action::kind::publish) < n) {
      REQUIRE(now < 100'000);
      f.tick(now, pending);
      handle();
      if (count(action::kind::publish) < n) ++now;
    }
  }
  void ack_all() {
    while (!unacked.empty()) {
      auto [d, seq] = unacked.front();
      unacked.pop_front();
      f.on_published(d, seq, now, pending);
      handle();
    }
  }
  void lose(device_slot d) {
    f.on_connection_lost(d, now, pending);
    unacked.clear();
    handle();
  }
  std::vector<uint64_t> published_seqs(device_slot d, size_t from = 0) const {
    std::vector<uint64_t> v;
    for (size_t i = from; i < log.size(); ++i) {
      if (log[i].what == action::kind::publish && log[i].device == d) v.push_back(log[i].r.seq);
    }
    return v;
  }
  size_t count(action::kind k) const {
    size_t n = 0;
    for (const action& a : log) n += a.what == k;
    return n;
  }
};

}  // namespace

TEST_CASE("ramp-up: devices power on at the connect rate") {
  scenario s = one_group(5, 1);
  s.connect_rate = 10;  // one every 100 ms
  harness h(s);
  std::vector<int64_t> at;
  for (; h.now <= 1000; ++h.now) {
    const size_t before = h.log.size();
    h.f.tick(h.now, h.pending);
    h.handle();
    for (size_t i = before; i < h.log.size(); ++i) {
      if (h.log[i].what == action::kind::connect) at.push_back(h.now);
    }
  }
  CHECK(at == std::vector<int64_t>{0, 100, 200, 300, 400});
}

TEST_CASE("ramp-up: a connect rate of 0 is the thundering herd") {
  harness h(one_group(50, 1));
  h.run_until(0);
  CHECK(h.count(action::kind::connect) == 50);
  CHECK(h.f.totals().in_state[size_t(device_state::online)] == 50);
}

TEST_CASE("readings: at the rate, consecutive seqs, device time") {
  harness h(one_group(1, 10));
  h.run_until(999);
  const auto seqs = h.published_seqs(0);
  REQUIRE(seqs.size() == 10);
  for (size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == i + 1);
  int64_t last_ts = 0;
  for (const action& a : h.log) {
    if (a.what != action::kind::publish) continue;
    CHECK(a.r.device_index == 1);
    CHECK(a.r.ts_ms >= wall_base);
    CHECK(a.r.ts_ms < wall_base + 1000);
    if (last_ts) CHECK(a.r.ts_ms - last_ts == doctest::Approx(100).epsilon(0.02));
    last_ts = a.r.ts_ms;
    CHECK(a.r.values.mask == model_temperature);
  }
  CHECK(h.f.totals().generated == 10);
  CHECK(h.f.totals().acked == 10);
  CHECK(h.f.acked(0).ranges() == std::vector<seq_range>{{1, 10}});
}

TEST_CASE("readings: a fleet's readings are spread over the period") {
  harness h(one_group(100, 1));
  h.run_until(999);
  std::vector<int> per_100ms(10);
  for (const action& a : h.log) {
    if (a.what == action::kind::publish) ++per_100ms[(a.r.ts_ms - wall_base) / 100];
  }
  for (int n : per_100ms) CHECK(n > 2);  // not all at once
}

TEST_CASE("in flight: at most inflight_max unacknowledged publishes") {
  scenario s = one_group(1, 100);
  s.groups[0].inflight_max = 3;
  harness h(s);
  h.auto_ack = false;
  h.run_until(100);
  CHECK(h.published_seqs(0) == std::vector<uint64_t>{1, 2, 3});
  CHECK(h.f.totals().inflight == 3);
  CHECK(h.f.totals().queued == h.f.totals().generated - 3);
  h.f.on_published(0, 2, h.now, h.pending);  // out of order ack frees one slot
  h.handle();
  CHECK(h.published_seqs(0) == std::vector<uint64_t>{1, 2, 3, 4});
  CHECK(h.f.acked(0).count() == 1);
}

TEST_CASE("connection loss: unacknowledged readings go back and are sent again in order after backoff") {
  scenario s = one_group(1, 100);
  s.groups[0].inflight_max = 3;
  s.groups[0].backoff = {.initial_ms = 200, .max_ms = 1000, .multiplier = 2, .jitter = 0};
  harness h(s);
  h.auto_ack = false;
  h.run_until(50);
  REQUIRE(h.published_seqs(0) == std::vector<uint64_t>{1, 2, 3});
  h.lose(0);
  CHECK(h.f.state(0) == device_state::waiting);
  CHECK(h.f.totals().inflight == 0);
  CHECK(h.f.counters(0).connection_losses == 1);
  const size_t mark = h.log.size();
  h.run_until(249);  // backoff 200 ms from t=50
  CHECK(h.f.state(0) == device_state::waiting);
  h.auto_ack = true;
  h.run_until(250);
  CHECK(h.f.state(0) == device_state::online);
  const auto again = h.published_seqs(0, mark);
  REQUIRE(again.size() >= 3);
  for (size_t i = 0; i < again.size(); ++i) CHECK(again[i] == i + 1);  // 1, 2, 3 again, then the queue
  CHECK(h.f.counters(0).resent == 3);
  CHECK(h.f.counters(0).connects == 2);
  CHECK(h.f.totals().reconnects == 1);
  CHECK(h.f.counters(0).dropped == 0);
  CHECK(h.f.acked(0).ranges().front().lo == 1);
}

TEST_CASE("backoff: exponential, capped, jittered within bounds") {
  backoff_policy p{.initial_ms = 100, .max_ms = 800, .multiplier = 2, .jitter = 0};
  rng g(1);
  CHECK(backoff_delay_ms(p, 1, g) == 100);
  CHECK(backoff_delay_ms(p, 2, g) == 200);
  CHECK(backoff_delay_ms(p, 3, g) == 400);
  CHECK(backoff_delay_ms(p, 4, g) == 800);
  CHECK(backoff_delay_ms(p, 40, g) == 800);
  p.jitter = 0.5;
  for (int i = 0; i < 1000; ++i) {
    const uint32_t d = backoff_delay_ms(p, 3, g);
    CHECK(d >= 200);  // (0.5, 1] of 400, rounded
    CHECK(d <= 400);
  }
  p.jitter = 1;
  for (int i = 0; i < 1000; ++i) CHECK(backoff_delay_ms(p, 1, g) >= 1);
}

TEST_CASE("backoff: a fleet retrying a dead server waits longer each time") {
  scenario s = one_group(1, 1);
  s.groups[0].backoff = {.initial_ms = 100, .max_ms = 400, .multiplier = 2, .jitter = 0};
  harness h(s);
  h.up = false;
  std::vector<int64_t> attempts;
  for (; h.now <= 2000; ++h.now) {
    const size_t before = h.log.size();
    h.f.tick(h.now, h.pending);
    h.handle();
    for (size_t i = before; i < h.log.size(); ++i) {
      if (h.log[i].what == action::kind::connect) attempts.push_back(h.now);
    }
  }
  CHECK(attempts == std::vector<int64_t>{0, 100, 300, 700, 1100, 1500, 1900});
  CHECK(h.f.counters(0).connect_failures == 7);
  CHECK(h.f.counters(0).backoff_ms_max == 400);
  // Readings were taken all along and wait in the queue.
  CHECK(h.f.totals().queued == 2);
  h.up = true;
  h.run_until(2400);
  CHECK(h.f.state(0) == device_state::online);
  CHECK(h.f.totals().queued == 0);
  CHECK(h.f.acked(0).ranges() == std::vector<seq_range>{{1, h.f.counters(0).generated}});
}

TEST_CASE("offline queue: bounded, drop oldest or newest") {
  for (overflow_policy policy : {overflow_policy::drop_oldest, overflow_policy::drop_newest}) {
    CAPTURE(int(policy));
    scenario s = one_group(1, 10);
    s.groups[0].queue_max = 5;
    s.groups[0].overflow = policy;
    s.groups[0].backoff = {.initial_ms = 2000, .max_ms = 2000, .multiplier = 1, .jitter = 0};
    harness h(s);
    h.up = false;
    h.run_until(1999);  // 20 readings while offline
    CHECK(h.f.counters(0).generated == 20);
    CHECK(h.f.totals().queued == 5);
    CHECK(h.f.counters(0).dropped == 15);
    CHECK(h.f.counters(0).queue_depth_max == 6);  // momentarily, before trimming
    h.up = true;
    const size_t mark = h.log.size();
    h.run_until(2000);
    const auto sent = h.published_seqs(0, mark);
    if (policy == overflow_policy::drop_oldest) {
      CHECK(sent == std::vector<uint64_t>{16, 17, 18, 19, 20});
    } else {
      CHECK(sent == std::vector<uint64_t>{1, 2, 3, 4, 5});
    }
  }
}

TEST_CASE("offline queue of 0: online readings still go out, offline ones are dropped") {
  scenario s = one_group(1, 10);
  s.groups[0].queue_max = 0;
  harness h(s);
  h.run_until(999);
  CHECK(h.f.counters(0).acked == 10);
  CHECK(h.f.counters(0).dropped == 0);
}

TEST_CASE("a late acknowledgement after re-queueing is not sent again") {
  scenario s = one_group(1, 10);
  s.groups[0].backoff = {.initial_ms = 500, .max_ms = 500, .multiplier = 1, .jitter = 0};
  harness h(s);
  h.auto_ack = false;
  h.run_until_published(2);
  REQUIRE(h.published_seqs(0) == std::vector<uint64_t>{1, 2});
  h.f.on_connection_lost(0, h.now, h.pending);
  h.handle();
  CHECK(h.f.totals().queued == 2);
  h.f.on_published(0, 1, h.now, h.pending);  // the server did get it
  h.handle();
  CHECK(h.f.totals().queued == 1);
  CHECK(h.f.counters(0).acked == 1);
  h.auto_ack = true;
  const size_t mark = h.log.size();
  h.run_until(h.now + 600);
  const auto sent = h.published_seqs(0, mark);
  REQUIRE(!sent.empty());
  CHECK(sent.front() == 2);
  h.f.on_published(0, 2, h.now, h.pending);  // a duplicate acknowledgement
  CHECK(h.f.totals().duplicate_acks == 1);
}

TEST_CASE("publish failure: back to the queue, retried with the next reading") {
  harness h(one_group(1, 10));
  h.auto_ack = false;
  h.run_until_published(1);
  h.f.on_publish_failed(0, 1, h.now, h.pending);
  h.handle();
  CHECK(h.f.counters(0).publish_failures == 1);
  CHECK(h.f.totals().queued == 1);
  CHECK(h.published_seqs(0).size() == 1);  // not at once
  h.run_until_published(3);
  CHECK(h.published_seqs(0) == std::vector<uint64_t>{1, 1, 2});
  h.f.on_publish_failed(0, 99, h.now, h.pending);  // unknown: stale, ignored
  CHECK(h.f.totals().stale_events == 1);
}

TEST_CASE("stale events are ignored and counted") {
  harness h(one_group(1, 1));
  h.run_until(10);
  REQUIRE(h.f.state(0) == device_state::online);
  h.f.on_connected(0, h.now, h.pending);
  h.f.on_connect_failed(0, h.now, h.pending);
  h.f.on_disconnected(0, h.now, h.pending);
  h.f.on_published(0, 1000, h.now, h.pending);
  CHECK(h.f.totals().stale_events == 4);
  CHECK(h.f.state(0) == device_state::online);
}

TEST_CASE("churn: devices leave, stop measuring, and rejoin") {
  scenario s = one_group(20, 10, 30);
  s.groups[0].churn = {
      .leave_per_hour = 3600.0 / 2, .absent_min_ms = 500, .absent_max_ms = 1000};  // mean 2 s
  harness h(s);
  bool saw_off = false;
  for (; h.now <= 20'000; ++h.now) {
    h.f.tick(h.now, h.pending);
    h.handle();
    saw_off |= h.f.totals().in_state[size_t(device_state::off)] > 0;
  }
  CHECK(saw_off);
  CHECK(h.f.totals().leaves > 50);
  CHECK(h.f.totals().rejoins > 40);
  CHECK(h.count(action::kind::disconnect) == h.f.totals().leaves);
  // Readings stop while a device is away: fewer than 20 devices * 10 Hz * 20 s.
  CHECK(h.f.totals().generated < 20 * 10 * 20);
  CHECK(h.f.totals().generated > 20 * 10 * 10);
  // Sequences stay gap-free per device and everything taken was acknowledged.
  for (device_slot d = 0; d < 20; ++d) {
    CHECK(h.f.acked(d).ranges().size() == 1);
    CHECK(h.f.acked(d).count() == h.f.counters(d).generated);
  }
}

TEST_CASE("clock skew: per device, within the range, in every reading") {
  scenario s = one_group(50, 1);
  s.groups[0].skew_min_ms = -2000;
  s.groups[0].skew_max_ms = 3000;
  harness h(s);
  bool negative = false;
  bool positive = false;
  for (device_slot d = 0; d < 50; ++d) {
    CHECK(h.f.skew_ms(d) >= -2000);
    CHECK(h.f.skew_ms(d) <= 3000);
    negative |= h.f.skew_ms(d) < 0;
    positive |= h.f.skew_ms(d) > 0;
  }
  CHECK(negative);
  CHECK(positive);
  h.run_until(999);
  for (const action& a : h.log) {
    if (a.what != action::kind::publish) continue;
    const int64_t true_ts = a.r.ts_ms - h.f.skew_ms(a.r.device_index - 1);
    CHECK(true_ts >= wall_base);
    CHECK(true_ts < wall_base + 1000);
  }
}

TEST_CASE("end of run: stop measuring, drain the queue, disconnect, finish") {
  scenario s = one_group(3, 10, 1);
  s.drain_ms = 500;
  harness h(s);
  h.auto_ack = false;
  h.run_until(999);
  CHECK(h.f.phase() == fleet_phase::running);
  h.run_until(1000);
  CHECK(h.f.phase() == fleet_phase::draining);
  CHECK(h.f.run_ended_ms() == 1000);
  const uint64_t generated = h.f.totals().generated;
  CHECK(generated == 30);
  h.auto_ack = true;
  h.ack_all();
  h.run_until(1001);
  CHECK(h.f.totals().generated == generated);  // no new readings
  CHECK(h.f.totals().acked == generated);
  CHECK(h.f.phase() == fleet_phase::finished);  // drained early, then all disconnected at once
  CHECK(h.count(action::kind::disconnect) == 3);
  for (device_slot d = 0; d < 3; ++d) CHECK(h.f.state(d) == device_state::done);
  CHECK(h.f.next_due_ms() == INT64_MAX);
}

TEST_CASE("end of run: a server that never comes back bounds the drain") {
  scenario s = one_group(2, 10, 1);
  s.drain_ms = 300;
  s.close_ms = 200;
  harness h(s);
  h.run_until(500);
  h.up = false;
  h.lose(0);
  h.lose(1);
  h.run_until(1299);
  CHECK(h.f.phase() == fleet_phase::draining);
  h.run_until(1300);
  CHECK(h.f.phase() == fleet_phase::finished);  // nobody online: closing has nothing to wait for
  CHECK(h.f.unsent(0) > 0);
  CHECK(h.f.totals().queued == h.f.unsent(0) + h.f.unsent(1));
}

TEST_CASE("request_stop: drains by default, immediately on the second signal") {
  harness h(one_group(2, 10, 100));
  h.auto_ack = false;
  h.run_until(300);
  h.f.request_stop(h.now, false);
  h.run_until(301);
  CHECK(h.f.phase() == fleet_phase::draining);
  h.f.request_stop(h.now, true);
  h.run_until(302);
  CHECK(h.f.phase() == fleet_phase::finished);
}

TEST_CASE("catching up after a stall is bounded") {
  harness h(one_group(1, 100, 100));
  h.run_until(0);
  h.f.tick(10'000, h.pending);  // the driver stalled for 10 s
  h.handle();
  CHECK(h.f.totals().generated <= fleet::catch_up_readings_max + 1);
  CHECK(h.f.totals().readings_skipped > 900);
  h.now = 10'000;
  h.run_until(10'100);
  CHECK(h.f.totals().generated >= 20);
}

TEST_CASE("determinism: the same seed and events give the same actions") {
  auto script = [](uint64_t seed) {
    scenario s = one_group(10, 5, 3);
    s.seed = seed;
    s.connect_rate = 20;
    s.groups[0].models.mask = model_all;
    s.groups[0].skew_min_ms = -100;
    s.groups[0].skew_max_ms = 100;
    s.groups[0].backoff.jitter = 0.5;
    s.groups[0].churn.leave_per_hour = 600;
    harness h(s);
    h.run_until(1000);
    for (device_slot d = 0; d < 10; d += 3) {
      if (h.f.state(d) == device_state::online) h.lose(d);
    }
    h.run_until(5000);
    std::string trace;
    for (const action& a : h.log) {
      trace += fmt::format("{}:{}:{}:{}:{:.6f}:{:.6f};", int(a.what), a.device, a.r.seq, a.r.ts_ms,
                           a.r.values.temp_c, a.r.values.lat);
    }
    return trace;
  };
  const std::string a = script(11);
  CHECK(a == script(11));
  CHECK(a != script(12));
}

TEST_CASE("names, client ids, credentials and topics come from the templates") {
  scenario s = one_group(2, 1);
  s.groups[0].name = "thermo";
  s.groups[0].name_template = "{group}-{n}";
  s.groups[0].client_id_template = "cid-{device}";
  s.groups[0].username_template = "user-{index}";
  s.groups[0].password_template = "pw-{device}";
  s.groups[0].topic_template = "plant/{group}/{device}";
  fleet f(s, wall_base);
  CHECK(f.device_name(1) == "thermo-2");
  CHECK(f.client_id(1) == "cid-thermo-2");
  CHECK(f.username(1) == "user-000002");
  CHECK(f.password(1) == "pw-thermo-2");
  CHECK(f.topic(1) == "plant/thermo/thermo-2");
}
