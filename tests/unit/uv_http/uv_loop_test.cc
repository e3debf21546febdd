// loop, timer, async and signal_set on a real libuv loop.
#include <doctest/doctest.h>

#include <csignal>
#include <thread>

#include "common/uv/async.h"
#include "common/uv/signal_set.h"
#include "common/uv/tcp.h"
#include "common/uv/worker.h"
#include "test_support.h"

using namespace tributary;

TEST_CASE("timer: one-shot fires once, repeating fires until cancelled, cancelled never fires") {
  auto l = test::make_loop();
  int once = 0;
  int repeats = 0;
  int cancelled = 0;
  uv::timer t1(*l);
  uv::timer t2(*l);
  uv::timer t3(*l);
  uv::timer end(*l);
  t1.start(1, [&] { ++once; });
  t2.start_repeating(1, [&] {
    if (++repeats == 5) t2.cancel();
  });
  t3.start(5, [&] { ++cancelled; });
  t3.cancel();
  CHECK_FALSE(t3.active());
  CHECK(t2.active());
  end.start(30, [&] { l->stop(); });
  REQUIRE(test::run(*l));
  CHECK(once == 1);
  CHECK(repeats == 5);
  CHECK(cancelled == 0);
  CHECK_FALSE(t1.active());
  CHECK_FALSE(t2.active());
}

TEST_CASE("timer: a callback may restart or destroy its own timer") {
  auto l = test::make_loop();
  int restarts = 0;
  bool destroyed_ran = false;
  uv::timer t(*l);
  std::function<void()> again = [&] {
    if (++restarts < 3) {
      t.start(0, again);  // replaces the running callback while it runs
    }
  };
  t.start(0, again);
  auto doomed = std::make_unique<uv::timer>(*l);
  doomed->start_repeating(1, [&] {
    destroyed_ran = true;
    doomed.reset();  // destroys the timer (and this callback's owner) from inside the callback
  });
  uv::timer end(*l);
  end.start(20, [&] { l->stop(); });
  REQUIRE(test::run(*l));
  CHECK(restarts == 3);
  CHECK(destroyed_ran);
  CHECK(doomed == nullptr);
}

TEST_CASE("timer: an unreferenced timer does not keep the loop running") {
  auto l = test::make_loop();
  int fired = 0;
  uv::timer background(*l);
  background.set_ref(false);
  background.start_repeating(1000, [&] { ++fired; });
  uv::timer work(*l);
  work.start(1, [] {});
  REQUIRE(test::run_until_idle(*l));  // returns after `work`, without waiting for `background`
  CHECK(fired == 0);
  CHECK(background.active());
  background.set_ref(true);
  background.cancel();
}

TEST_CASE("timer: moving keeps the schedule; move-assigning over a timer cancels the old one") {
  auto l = test::make_loop();
  int a = 0;
  int b = 0;
  uv::timer t1(*l);
  t1.start(1, [&] { ++a; });
  uv::timer moved(std::move(t1));
  uv::timer t2(*l);
  t2.start(1, [&] { ++b; });
  t2 = uv::timer(*l);  // the old t2 is cancelled
  uv::timer end(*l);
  end.start(20, [&] { l->stop(); });
  REQUIRE(test::run(*l));
  CHECK(a == 1);
  CHECK(b == 0);
}

TEST_CASE("async: other threads wake the loop; sends coalesce; send after close is refused") {
  auto l = test::make_loop();
  std::atomic<int> produced{0};
  int seen = 0;
  int calls = 0;
  constexpr int n = 1000;
  auto a = uv::async::create(*l, [&] {
    ++calls;
    seen = produced.load();
    if (seen == n) l->stop();
  });
  REQUIRE(a);
  auto sender = a->get_sender();
  std::thread producer([&, sender] {
    for (int i = 0; i < n; ++i) {
      produced.fetch_add(1);
      CHECK(sender.send());
    }
  });
  REQUIRE(test::run(*l));
  producer.join();
  CHECK(seen == n);
  CHECK(calls >= 1);
  CHECK(calls <= n);
  a->close();
  CHECK_FALSE(sender.send());
  CHECK_FALSE(a->send());
}

TEST_CASE("signal_set: SIGTERM raised to ourselves calls the shutdown callback") {
  auto l = test::make_loop();
  std::vector<int> got;
  auto set = uv::signal_set::create(*l, {SIGINT, SIGTERM, SIGHUP}, [&](int signum) {
    got.push_back(signum);
    if (signum == SIGTERM) l->stop();  // the daemon's clean shutdown starts here
  });
  REQUIRE(set);
  uv::timer later(*l);
  later.start(0, [] {
    raise(SIGHUP);
    raise(SIGTERM);
  });
  REQUIRE(test::run(*l));
  REQUIRE(got.size() == 2);
  CHECK(got[0] == SIGHUP);
  CHECK(got[1] == SIGTERM);
}

TEST_CASE("signal_set: an uncatchable signal is an error, and the partial set is cleaned up") {
  auto l = test::make_loop();
  auto set = uv::signal_set::create(*l, {SIGUSR1, SIGKILL}, [](int) {});
  REQUIRE_FALSE(set);
  CHECK(set.error().category() == uv::uv_category());
  REQUIRE(l->close());  // nothing left open (the half-made set closed itself)
}

TEST_CASE("loop::close closes every handle still open, through its owner") {
  auto l = test::make_loop();
  int timer_fired = 0;
  uv::timer t(*l);
  t.start_repeating(1000, [&] { ++timer_fired; });
  auto a = uv::async::create(*l, [] {});
  REQUIRE(a);
  auto sig = uv::signal_set::create(*l, {SIGUSR2}, [](int) {});
  REQUIRE(sig);
  std::shared_ptr<uv::tcp_connection> server_side;
  std::error_code server_reason;
  int server_closes = 0;
  auto listener = uv::tcp_listener::listen(*l, "127.0.0.1:0", {}, [&](std::shared_ptr<uv::tcp_connection> c) {
    server_side = c;
    uv::tcp_connection::callbacks cbs;
    cbs.on_frame = [](uv::tcp_connection&, byte_span) {};
    cbs.on_close = [&](uv::tcp_connection&, std::error_code r) {
      ++server_closes;
      server_reason = r;
    };
    c->start(uv::frame_stream, std::move(cbs));
    l->stop();
  });
  REQUIRE(listener);
  std::shared_ptr<uv::tcp_connection> client;
  REQUIRE(uv::tcp_connection::connect(*l, listener->address(), {}, [&](auto r) {
    CHECK(r);
    if (r) client = *r;
  }));
  auto w = uv::worker::start(*l, {});
  REQUIRE(w);
  std::error_code job_result = uv::errc::bad_frame;  // overwritten by the completion
  REQUIRE(w->submit([] {}, [&](std::error_code ec) { job_result = ec; }));
  REQUIRE(test::run(*l));  // until the server accepted
  REQUIRE(server_side);
  // A bare libuv handle (data == nullptr, not one of ours) is closed too.
  auto bare = std::make_unique<uv_timer_t>();
  REQUIRE(uv_timer_init(l->raw(), bare.get()) == 0);
  bare->data = nullptr;
  REQUIRE(uv_timer_start(
              bare.get(), [](uv_timer_t*) {}, 100000, 0) == 0);

  REQUIRE(l->close());
  CHECK(l->closed());
  CHECK(server_closes == 1);
  CHECK(server_reason == uv::errc::loop_closing);
  CHECK(server_side->is_closed());
  CHECK_FALSE(server_side->write(std::string("x")));
  CHECK(uv_is_closing(reinterpret_cast<uv_handle_t*>(bare.get())));
  CHECK_FALSE(w->submit([] {}, [](std::error_code) {}));      // stopped by the close
  CHECK((!job_result || job_result == uv::errc::cancelled));  // ran, or dropped by the stop
  CHECK(timer_fired == 0);
  // The public objects outlive the loop: destroying them now must not touch it.
  CHECK_FALSE(a->send());
  CHECK_FALSE(t.active());
  REQUIRE(l->close());  // idempotent
}
