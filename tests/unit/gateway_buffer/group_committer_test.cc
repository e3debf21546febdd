#include <doctest/doctest.h>

#include <future>
#include <thread>

#include "common/metrics.h"
#include "common/uv/worker.h"
#include "gateway/buffer/group_committer.h"
#include "test_support.h"

using namespace tributary;
using namespace tributary::gateway::buffer;
using tributary::test::err_of;
using tributary::test::make_reading;
using tributary::test::run_until;
using tributary::test::temp_dir;

namespace {

// A loop, a worker thread and a store, torn down in the right order: committer, worker (drained),
// store, loop.
struct env {
  temp_dir dir;
  std::unique_ptr<uv::loop> loop;
  std::optional<uv::worker> worker;
  std::unique_ptr<buffer_store> store;
  std::unique_ptr<group_committer> committer;

  explicit env(const store_options& so = {}, const committer_options& co = {}, size_t worker_jobs_max = 64) {
    auto l = uv::loop::create();
    REQUIRE(l);
    loop = std::move(*l);
    auto w = uv::worker::start(*loop, {worker_jobs_max, "buffer-test"});
    REQUIRE(w);
    worker.emplace(std::move(*w));
    auto s = buffer_store::open(dir.file("buffer.db"), so);
    REQUIRE(s);
    store = std::move(*s);
    auto c = group_committer::create(*loop, *worker, *store, co);
    REQUIRE(c);
    committer = std::move(*c);
  }
  ~env() {
    committer.reset();
    if (!worker->stopping()) {  // a test may have stopped it already (and waited for it)
      bool stopped = false;
      worker->stop(uv::worker::stop_mode::drain, [&] { stopped = true; });
      run_until(*loop, [&] { return stopped; });
    }
    worker.reset();
    store.reset();
    auto closed = loop->close();
    CHECK(closed);
  }

  // Occupies the worker thread until the returned function is called.
  std::function<void()> block_worker() {
    auto gate = std::make_shared<std::promise<void>>();
    std::shared_future<void> opened = gate->get_future().share();
    REQUIRE(worker->submit([opened] { opened.wait(); }, nullptr));
    return [gate] { gate->set_value(); };
  }
};

struct completion_log {
  std::vector<result<gateway_seq>> results;
  std::vector<uint64_t> commits_seen;  // committer's commit count when each completion ran
  bool all_on_loop_thread = true;
};

group_committer::completion_fn record(env& e, completion_log& log) {
  return [&e, &log](result<gateway_seq> r) {
    log.all_on_loop_thread = log.all_on_loop_thread && e.loop->on_loop_thread();
    log.commits_seen.push_back(e.committer->stats().commits);
    log.results.push_back(std::move(r));
  };
}

}  // namespace

TEST_CASE("committer: one reading is committed and completed on the loop thread") {
  env e;
  completion_log log;
  REQUIRE(e.committer->submit(make_reading("hello"), record(e, log)));
  CHECK(log.results.empty());  // never inside submit()
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 1; }));
  REQUIRE(log.results[0]);
  CHECK(*log.results[0] == gateway_seq(1));
  CHECK(log.all_on_loop_thread);
  CHECK(e.committer->stats().commits == 1);
  CHECK(e.committer->stats().committed_rows == 1);
  CHECK(e.committer->idle());
  auto row = e.store->find(gateway_seq(1));  // the worker is idle: the store may be read here
  REQUIRE((row && row->has_value()));
  CHECK(test::payload_of((*row)->r) == "hello");
}

TEST_CASE("committer: a job takes what the inbox holds when it starts, not when it was submitted") {
  env e;
  completion_log log;
  auto release = e.block_worker();
  // The first reading submits a job (queued behind the blocker); the next 99 join the inbox that
  // job will take: no further job is submitted.
  for (int i = 0; i < 100; ++i) REQUIRE(e.committer->submit(make_reading(std::to_string(i)), record(e, log)));
  CHECK(e.worker->in_flight() == 2);  // the blocker and one commit job
  CHECK(e.committer->stats().queued_rows == 100);
  CHECK(e.committer->stats().committing_rows == 0);
  CHECK(e.committer->stats().held_bytes == 100 * accounted_bytes(make_reading("0")) + 90);
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 100; }));
  const auto& st = e.committer->stats();
  CHECK(st.commits == 1);
  CHECK(st.max_batch_rows == 100);
  CHECK(st.committed_rows == 100);
  CHECK(st.held_bytes == 0);
  CHECK(e.store->counters().transactions == 1);
  CHECK(log.all_on_loop_thread);
  CHECK(e.committer->idle());
  // Seqs in submission order; the completions ran together, after the commit.
  for (int i = 0; i < 100; ++i) {
    REQUIRE(log.results[i]);
    CHECK(*log.results[i] == gateway_seq(i + 1));
    CHECK(log.commits_seen[i] == 1);
  }
}

TEST_CASE("committer: readings submitted while a transaction runs go into the next one") {
  env e;
  completion_log log;
  auto release = e.block_worker();
  for (int i = 0; i < 3; ++i) REQUIRE(e.committer->submit(make_reading("a"), record(e, log)));
  // A second blocker queues behind the first job: the first transaction has taken its 3 readings
  // by the time the next ones arrive.
  auto release2 = std::function<void()>();
  {
    auto gate = std::make_shared<std::promise<void>>();
    std::shared_future<void> opened = gate->get_future().share();
    REQUIRE(e.worker->submit([opened] { opened.wait(); }, nullptr));
    release2 = [gate] { gate->set_value(); };
  }
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 3; }));
  for (int i = 0; i < 5; ++i) REQUIRE(e.committer->submit(make_reading("b"), record(e, log)));
  CHECK(e.committer->stats().queued_rows == 5);
  release2();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 8; }));
  CHECK(e.committer->stats().commits == 2);
  CHECK(e.committer->stats().last_batch_rows == 5);
  CHECK(log.results[7] == gateway_seq(8));
}

TEST_CASE("committer: after_completions runs once, after the last completion of the transaction") {
  env e;
  std::vector<int> events;  // >= 0: the completion of reading i; -1: the after_completions callback
  int afters = 0;
  auto release = e.block_worker();
  for (int i = 0; i < 10; ++i) {
    REQUIRE(e.committer->submit(make_reading("r"), [&, i](result<gateway_seq> r) {
      CHECK(r);
      events.push_back(i);
      // Every completion asks; a caller that queues its answers asks once (see server.cc), but
      // asking again must not break the order either.
      if (i == 0 || i == 7) {
        e.committer->after_completions([&] {
          events.push_back(-1);
          ++afters;
        });
      }
    }));
  }
  release();
  REQUIRE(run_until(*e.loop, [&] { return afters == 2; }));
  CHECK(e.committer->stats().commits == 1);
  CHECK(events == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1});
}

TEST_CASE("committer: batch_rows_max and batch_bytes_max split the queue") {
  committer_options co;
  co.batch_rows_max = 20;
  env e({}, co);
  completion_log log;
  auto release = e.block_worker();
  for (int i = 0; i < 50; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 50; }));
  CHECK(e.committer->stats().commits == 3);  // 20, 20, 10
  CHECK(e.committer->stats().max_batch_rows == 20);
  CHECK(e.committer->stats().last_batch_rows == 10);
}

TEST_CASE("committer: batch_bytes_max splits by bytes") {
  committer_options co;
  co.batch_bytes_max = 3 * accounted_bytes(make_reading("x"));
  env e({}, co);
  completion_log log;
  auto release = e.block_worker();
  for (int i = 0; i < 7; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 7; }));
  CHECK(e.committer->stats().commits == 3);  // 3, 3, 1
  CHECK(e.committer->stats().max_batch_rows == 3);
  CHECK(e.committer->stats().last_batch_rows == 1);
}

TEST_CASE("committer: a full queue fails submit at once; on_space fires when room returns") {
  committer_options co;
  co.queue_rows_max = 10;
  env e({}, co);
  completion_log log;
  int spaces = 0;
  e.committer->set_on_space([&] { ++spaces; });
  auto release = e.block_worker();
  for (int i = 0; i < 10; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  auto refused = e.committer->submit(make_reading("x"), record(e, log));
  REQUIRE(!refused);
  CHECK(err_of(refused) == make_error_code(errc::queue_full));
  CHECK(e.committer->stats().queue_full_rejections == 1);
  CHECK(spaces == 0);
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 10; }));
  CHECK(spaces >= 1);
  CHECK(e.committer->submit(make_reading("x"), record(e, log)));
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 11; }));
}

TEST_CASE("committer: queue_bytes_max bounds bytes held") {
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options so;
  so.row_bytes_max = 2 * one;
  committer_options co;
  co.queue_bytes_max = 3 * one;
  env e(so, co);
  completion_log log;
  auto release = e.block_worker();
  REQUIRE(e.committer->submit(make_reading("0123456789"), record(e, log)));
  REQUIRE(e.committer->submit(make_reading("0123456789"), record(e, log)));
  REQUIRE(e.committer->submit(make_reading("0123456789"), record(e, log)));  // exactly at the limit
  CHECK(e.committer->stats().held_bytes == 3 * one);
  CHECK(err_of(e.committer->submit(make_reading("0"), record(e, log))) == make_error_code(errc::queue_full));
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 3; }));
  CHECK(e.committer->stats().held_bytes == 0);
}

TEST_CASE("committer: bad readings fail at submit, never queue") {
  store_options so;
  so.row_bytes_max = 200;
  env e(so);
  completion_log log;
  CHECK(err_of(e.committer->submit(make_reading(std::string(300, 'x')), record(e, log))) ==
        make_error_code(errc::row_too_large));
  auto no_topic = make_reading("x");
  no_topic.topic.clear();
  CHECK(err_of(e.committer->submit(no_topic, record(e, log))) == make_error_code(errc::invalid_row));
  CHECK(e.committer->stats().submitted_rows == 0);
  CHECK(e.committer->idle());
}

TEST_CASE("committer: the store's per-row errors reach the completions") {
  uint64_t one = accounted_bytes(make_reading("0123456789"));
  store_options so;
  so.quota_bytes = 2 * one;
  so.row_bytes_max = one;
  so.dead_letter_quota_bytes = one;
  env e(so);
  completion_log log;
  for (int i = 0; i < 3; ++i) REQUIRE(e.committer->submit(make_reading("0123456789"), record(e, log)));
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 3; }));
  CHECK(log.results[0]);
  CHECK(log.results[1]);
  REQUIRE(!log.results[2]);
  CHECK(err_of(log.results[2]) == make_error_code(errc::buffer_full));
  CHECK(e.committer->stats().failed_rows == 1);
  CHECK(e.committer->stats().commit_errors == 0);
}

TEST_CASE("committer: a transaction that fails as a whole fails all its readings") {
  store_options so;
  so.busy_timeout_ms = 10;
  env e(so);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(e.store->path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  completion_log log;
  for (int i = 0; i < 3; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 3; }));
  for (auto& r : log.results) {
    REQUIRE(!r);
    CHECK(err_of(r) == make_error_code(errc::busy));
  }
  CHECK(e.committer->stats().commit_errors >= 1);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 4; }));
  CHECK(log.results[3] == gateway_seq(1));
}

TEST_CASE("committer: when the worker's queue is full it retries after retry_delay_ms") {
  committer_options co;
  co.retry_delay_ms = 1;
  env e({}, co, /*worker_jobs_max=*/1);
  completion_log log;
  auto release = e.block_worker();  // takes the worker's only slot
  REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  CHECK(e.committer->stats().worker_busy_retries == 1);
  REQUIRE(run_until(*e.loop, [&] { return e.committer->stats().worker_busy_retries >= 3; }));
  CHECK(log.results.empty());
  release();
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 1; }));
  CHECK(log.results[0] == gateway_seq(1));
}

TEST_CASE("committer: close commits what is queued, then refuses submits") {
  env e;
  completion_log log;
  auto release = e.block_worker();
  for (int i = 0; i < 5; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  bool closed = false;
  e.committer->close([&] {
    closed = true;
    CHECK(log.results.size() == 5);
  });
  CHECK(!closed);
  CHECK(err_of(e.committer->submit(make_reading("x"), record(e, log))) == make_error_code(errc::closed));
  release();
  REQUIRE(run_until(*e.loop, [&] { return closed; }));
  for (auto& r : log.results) CHECK(r);
  bool again = false;
  e.committer->close([&] { again = true; });  // idle: runs at once
  CHECK(again);
}

TEST_CASE("committer: a stopped worker fails queued readings with closed") {
  env e;
  completion_log log;
  bool stopped = false;
  e.worker->stop(uv::worker::stop_mode::drain, [&] { stopped = true; });
  REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  CHECK(log.results.empty());
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 1 && stopped; }));
  CHECK(err_of(log.results[0]) == make_error_code(errc::closed));
  CHECK(err_of(e.committer->submit(make_reading("x"), record(e, log))) == make_error_code(errc::closed));
}

TEST_CASE("committer: destroyed with a commit job queued, it calls nothing and frees everything") {
  env e;
  int called = 0;
  auto release = e.block_worker();
  for (int i = 0; i < 5; ++i)
    REQUIRE(e.committer->submit(make_reading("x"), [&](result<gateway_seq>) { ++called; }));
  e.committer.reset();
  release();
  bool done = false;
  REQUIRE(e.worker->submit([] {}, [&](std::error_code) { done = true; }));
  REQUIRE(run_until(*e.loop, [&] { return done; }));
  CHECK(called == 0);
  CHECK(e.store->backlog().rows == 0);  // the job ran after the inbox was dropped: it took nothing
}

TEST_CASE("committer: a completion may destroy the committer; the rest are not called") {
  env e;
  int called = 0;
  auto release = e.block_worker();
  for (int i = 0; i < 5; ++i) {
    REQUIRE(e.committer->submit(make_reading("x"), [&](result<gateway_seq>) {
      ++called;
      if (called == 2) e.committer.reset();
    }));
  }
  release();
  REQUIRE(run_until(*e.loop, [&] { return called >= 2 && e.worker->in_flight() == 0; }));
  CHECK(called == 2);
}

TEST_CASE("committer: exports metrics") {
  metrics::registry reg;
  committer_options co;
  co.metrics = &reg;
  env e({}, co);
  completion_log log;
  for (int i = 0; i < 3; ++i) REQUIRE(e.committer->submit(make_reading("x"), record(e, log)));
  REQUIRE(run_until(*e.loop, [&] { return log.results.size() == 3; }));
  auto text = reg.render_prometheus();
  CHECK(text.find("tributary_gateway_buffer_commits_total") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_committed_rows_total 3") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_commit_rows_bucket") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_commit_seconds_count") != std::string::npos);
  CHECK(text.find("tributary_gateway_buffer_queued_rows 0") != std::string::npos);
}

TEST_CASE("committer: options out of range are refused") {
  temp_dir dir;
  auto l = uv::loop::create();
  REQUIRE(l);
  auto w = uv::worker::start(**l, {});
  REQUIRE(w);
  auto s = buffer_store::open(dir.file("b.db"), {});
  REQUIRE(s);
  auto bad = [&](auto mutate) {
    committer_options o;
    mutate(o);
    auto c = group_committer::create(**l, *w, **s, o);
    REQUIRE(!c);
    CHECK(err_of(c) == make_error_code(errc::bad_option));
  };
  bad([](committer_options& o) { o.queue_rows_max = 0; });
  bad([](committer_options& o) { o.batch_rows_max = 0; });
  bad([](committer_options& o) { o.batch_rows_max = 100000; });  // above the store's batch_rows_max
  bad([](committer_options& o) { o.batch_bytes_max = 0; });
  bad([](committer_options& o) { o.queue_bytes_max = 1000; });  // below one row_bytes_max
  bool stopped = false;
  w->stop(uv::worker::stop_mode::drain, [&] { stopped = true; });
  run_until(**l, [&] { return stopped; });
}
