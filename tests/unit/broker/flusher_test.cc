// The group commit on a real loop and worker thread, over real partition logs in a temp dir.
// Assertions are on rounds and offsets, never on elapsed time; every run is bounded by a watchdog.
#include "cluster/broker/flusher.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <functional>
#include <string>

#include "common/kafka/record_batch.h"
#include "common/uv/timer.h"
#include "tests/unit/temp_dir.h"

using namespace tributary;
using namespace tributary::cluster::broker;
namespace fs = std::filesystem;

namespace {

constexpr uint64_t watchdog_ms = 20000;

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-flusher-test") {}
};

std::vector<uint8_t> batch(int n) {
  kafka::record_batch_builder b;
  std::string value = "reading";
  for (int i = 0; i < n; ++i)
    b.add({.timestamp_ms = 1000 + i, .key = std::nullopt, .value = as_bytes(value)});
  return *b.build();
}

// Runs the loop until done() holds, checked every millisecond; false if the watchdog fired.
bool run_until(uv::loop& l, const std::function<bool()>& done) {
  bool fired = false;
  uv::timer probe(l);
  probe.start_repeating(1, [&] {
    if (done()) l.stop();
  });
  uv::timer watchdog(l);
  watchdog.start(watchdog_ms, [&] {
    fired = true;
    l.stop();
  });
  l.run();
  return !fired;
}

struct fixture {
  temp_dir dir;
  std::unique_ptr<uv::loop> loop;
  std::unique_ptr<partition_manager> pm;
  std::unique_ptr<flusher> fl;
  std::vector<std::string> durable;  // "topic/partition" per on_durable call

  explicit fixture(flush_mode mode, uint32_t interval_ms = 1000) {
    loop = std::move(*uv::loop::create());
    pm = std::move(*partition_manager::open(dir.path, {}, 1000));
    REQUIRE(pm->create_topic("t", 2, {}, 1000, std::string(32, 'a')));
    auto f = flusher::start(
        *loop, {mode, interval_ms}, nullptr,
        [this](partition& p) { durable.push_back(p.topic() + "/" + std::to_string(p.id())); },
        [](partition&, std::error_code) { FAIL_CHECK("no fsync should fail here"); });
    REQUIRE(f);
    fl = std::move(*f);
  }
  ~fixture() {
    fl.reset();
    pm.reset();
    (void)loop->close();
  }
  partition& part(int id) { return *pm->find("t", id); }
  void append(int id, int records) {
    auto b = batch(records);
    REQUIRE(pm->append(part(id), b, 1000));
    fl->appended(part(id));
  }
};

}  // namespace

TEST_CASE("sync mode: an append starts a round; appends during a round share the next one") {
  fixture f(flush_mode::sync);
  f.append(0, 3);
  CHECK(f.fl->round_in_flight());
  CHECK(f.part(0).high_watermark().value == 0);  // not durable yet: consumers do not see it
  // While round 1 runs, three more appends over both partitions: they wait for round 2 together.
  f.append(0, 2);
  f.append(1, 4);
  f.append(0, 1);
  CHECK(f.fl->dirty_partitions() == 2);
  REQUIRE(run_until(*f.loop, [&] { return !f.fl->round_in_flight() && f.fl->dirty_partitions() == 0; }));
  CHECK(f.fl->rounds() == 2);
  CHECK(f.part(0).high_watermark().value == 6);
  CHECK(f.part(1).high_watermark().value == 4);
  CHECK(f.durable == std::vector<std::string>{"t/0", "t/0", "t/1"});
}

TEST_CASE("a partition forgotten during a round is skipped") {
  fixture f(flush_mode::sync);
  f.append(0, 1);
  f.append(1, 1);  // joins the dirty set for the next round
  f.fl->forget(f.part(0));
  f.fl->forget(f.part(1));
  CHECK(f.fl->dirty_partitions() == 0);
  REQUIRE(run_until(*f.loop, [&] { return !f.fl->round_in_flight(); }));
  CHECK(f.durable.empty());
  CHECK(f.fl->rounds() == 1);
}

TEST_CASE("interval mode: rounds come from the timer or flush(), whose callback waits for them") {
  fixture f(flush_mode::interval, 60000);
  f.append(0, 2);
  CHECK_FALSE(f.fl->round_in_flight());  // no round per append
  bool flushed = false;
  f.fl->flush([&] { flushed = true; });
  CHECK(f.fl->round_in_flight());
  bool second = false;
  f.append(1, 1);
  f.fl->flush([&] { second = true; });  // a round in flight: waits for the one after it
  REQUIRE(run_until(*f.loop, [&] { return flushed && second; }));
  CHECK(f.fl->rounds() == 2);
  CHECK(f.part(1).log().durable_offset().value == 1);
  bool nothing = false;
  f.fl->flush([&] { nothing = true; });  // nothing dirty: at once
  CHECK(nothing);

  fixture g(flush_mode::interval, 5);
  g.append(0, 1);
  REQUIRE(run_until(*g.loop, [&] { return g.fl->rounds() == 1; }));
  CHECK(g.part(0).log().durable_offset().value == 1);
}

TEST_CASE("callbacks may append and flush while a round completes") {
  fixture f(flush_mode::sync);
  int durable_calls = 0;
  bool flushed = false;
  f.fl.reset();
  auto fl = flusher::start(
      *f.loop, {flush_mode::sync, 1000}, nullptr,
      [&](partition& p) {
        if (++durable_calls == 1) {
          // As a shutdown does from a callback: more data, and a flush that must wait for it.
          auto b = batch(2);
          REQUIRE(f.pm->append(p, b, 1000));
          f.fl->appended(p);
          f.fl->flush([&] { flushed = true; });
        }
      },
      [](partition&, std::error_code) {});
  REQUIRE(fl);
  f.fl = std::move(*fl);
  f.append(0, 1);
  REQUIRE(run_until(*f.loop, [&] { return flushed; }));
  CHECK(f.fl->rounds() == 2);
  CHECK(durable_calls == 2);
  CHECK(f.part(0).high_watermark().value == 3);
}
