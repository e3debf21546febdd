// uv::worker: jobs on a dedicated thread, completions back on the loop thread, bounded queue.
#include <doctest/doctest.h>

#include <future>
#include <thread>

#include "common/uv/worker.h"
#include "test_support.h"

using namespace tributary;

namespace {
// A job that blocks until released, and says when it started.
struct gate {
  std::promise<void> started;
  std::promise<void> release;
  std::shared_future<void> released{release.get_future().share()};
  std::future<void> started_future{started.get_future()};
};
}  // namespace

TEST_CASE("worker: jobs run off the loop thread, completions run on it, both in submission order") {
  auto l = test::make_loop();
  uv::worker_options o;
  o.name = "test-worker";
  auto w = uv::worker::start(*l, o);
  REQUIRE(w);
  const auto loop_thread = std::this_thread::get_id();
  constexpr int n = 200;
  auto ran = std::make_shared<std::vector<int>>();  // touched by the worker thread only, in order
  std::vector<int> completed;
  bool all_off_loop = true;
  for (int i = 0; i < n; ++i) {
    REQUIRE(w->submit(
        [ran, i, loop_thread, &all_off_loop] {
          if (std::this_thread::get_id() == loop_thread) all_off_loop = false;
          ran->push_back(i);
        },
        [&, i](std::error_code ec) {
          CHECK_FALSE(ec);
          CHECK(std::this_thread::get_id() == loop_thread);
          completed.push_back(i);
          if (completed.size() == n) l->stop();
        }));
  }
  CHECK(w->in_flight() == n);
  REQUIRE(test::run(*l));
  CHECK(all_off_loop);
  REQUIRE(completed.size() == n);
  for (int i = 0; i < n; ++i) CHECK(completed[static_cast<size_t>(i)] == i);
  CHECK(*ran == completed);
  CHECK(w->in_flight() == 0);
}

TEST_CASE("worker: submit fails with queue_full at the in-flight limit, and works again after") {
  auto l = test::make_loop();
  uv::worker_options o;
  o.max_in_flight_jobs = 3;
  auto w = uv::worker::start(*l, o);
  REQUIRE(w);
  gate g;
  int done = 0;
  auto count = [&](std::error_code ec) {
    CHECK_FALSE(ec);
    ++done;
    if (done == 3) l->stop();
  };
  REQUIRE(w->submit([f = g.released] { f.wait(); }, count));
  REQUIRE(w->submit([] {}, count));
  REQUIRE(w->submit([] {}, count));
  auto full = w->submit([] {}, count);
  REQUIRE_FALSE(full);
  CHECK(full.error() == uv::errc::queue_full);
  g.release.set_value();
  REQUIRE(test::run(*l));
  CHECK(done == 3);
  REQUIRE(w->submit([] {},
                    [&](std::error_code ec) {
                      CHECK_FALSE(ec);
                      l->stop();
                    }));
  REQUIRE(test::run(*l));
}

TEST_CASE("worker: stop(drain) runs every queued job; submit after stop is refused") {
  auto l = test::make_loop();
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  gate g;
  std::vector<std::error_code> results;
  REQUIRE(w->submit([f = g.released] { f.wait(); }, [&](std::error_code ec) { results.push_back(ec); }));
  for (int i = 0; i < 5; ++i) REQUIRE(w->submit([] {}, [&](std::error_code ec) { results.push_back(ec); }));
  bool stopped = false;
  w->stop(uv::worker::stop_mode::drain, [&] {
    stopped = true;
    l->stop();
  });
  CHECK(w->stopping());
  auto late = w->submit([] {}, [](std::error_code) {});
  REQUIRE_FALSE(late);
  CHECK(late.error() == uv::errc::closed);
  g.release.set_value();
  REQUIRE(test::run(*l));
  CHECK(stopped);
  REQUIRE(results.size() == 6);
  for (auto ec : results) CHECK_FALSE(ec);
}

TEST_CASE("worker: stop(cancel) finishes the running job and cancels the queued ones, in order") {
  auto l = test::make_loop();
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  gate g;
  std::vector<std::pair<int, std::error_code>> results;
  auto ran = std::make_shared<std::atomic<int>>(0);
  REQUIRE(w->submit(
      [&g, ran] {
        g.started.set_value();
        g.released.wait();
        ++*ran;
      },
      [&](std::error_code ec) { results.emplace_back(0, ec); }));
  for (int i = 1; i <= 3; ++i) {
    REQUIRE(w->submit([ran] { ++*ran; }, [&, i](std::error_code ec) { results.emplace_back(i, ec); }));
  }
  g.started_future.wait();  // the first job is running; the other three are queued
  bool stopped = false;
  w->stop(uv::worker::stop_mode::cancel, [&] {
    stopped = true;
    l->stop();
  });
  g.release.set_value();
  REQUIRE(test::run(*l));
  CHECK(stopped);
  CHECK(*ran == 1);
  REQUIRE(results.size() == 4);
  CHECK(results[0] == std::pair<int, std::error_code>{0, {}});
  for (int i = 1; i <= 3; ++i) {
    CHECK(results[static_cast<size_t>(i)].first == i);
    CHECK(results[static_cast<size_t>(i)].second == uv::errc::cancelled);
  }
  CHECK(w->in_flight() == 0);
}

TEST_CASE("worker: a job that throws completes with job_failed; the worker goes on") {
  auto l = test::make_loop();
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  std::vector<std::error_code> results;
  auto record = [&](std::error_code ec) {
    results.push_back(ec);
    if (results.size() == 3) l->stop();
  };
  REQUIRE(w->submit([] { throw std::runtime_error("disk on fire"); }, record));
  REQUIRE(w->submit([] { throw 42; }, record));
  REQUIRE(w->submit([] {}, record));
  REQUIRE(test::run(*l));
  REQUIRE(results.size() == 3);
  CHECK(results[0] == uv::errc::job_failed);
  CHECK(results[1] == uv::errc::job_failed);
  CHECK_FALSE(results[2]);
}

TEST_CASE("worker: destroying it calls no completion; the running job still finishes") {
  auto l = test::make_loop();
  auto w = std::make_unique<uv::worker>(*uv::worker::start(*l, {}));
  gate g;
  int completions = 0;
  auto finished = std::make_shared<std::atomic<bool>>(false);
  auto witness = std::make_shared<int>(7);  // captured by a queued completion: must be released
  std::weak_ptr<int> weak = witness;
  REQUIRE(w->submit(
      [&g, finished] {
        g.started.set_value();
        g.released.wait();
        *finished = true;
      },
      [&](std::error_code) { ++completions; }));
  REQUIRE(w->submit([] {}, [&, witness](std::error_code) { ++completions; }));
  witness.reset();
  g.started_future.wait();
  w.reset();
  g.release.set_value();
  // The loop keeps running until the thread has exited and the handle closed.
  REQUIRE(test::run_until_idle(*l));
  CHECK(*finished);
  CHECK(completions == 0);
  CHECK(weak.expired());
}

TEST_CASE("worker: a moved-from worker is inert; the moved-to one works") {
  auto l = test::make_loop();
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  uv::worker moved = std::move(*w);
  CHECK(w->stopping());  // moved-from
  CHECK(w->in_flight() == 0);
  REQUIRE(moved.submit([] {},
                       [&](std::error_code ec) {
                         CHECK_FALSE(ec);
                         l->stop();
                       }));
  REQUIRE(test::run(*l));
}
