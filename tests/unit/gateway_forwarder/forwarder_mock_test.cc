// The forwarder adapter against librdkafka's in-process mock cluster: a real buffer file, a real
// producer, errors injected into Produce responses. (The real broker is tested in
// tests/integration/forwarder; the mock reaches error paths a healthy broker never takes.)
#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "common/metrics.h"
#include "common/uv/loop.h"
#include "common/uv/worker.h"
#include "gateway/buffer/buffer_store.h"
#include "gateway/forwarder/forwarder.h"

using namespace tributary;
using namespace tributary::gateway;
using namespace std::chrono_literals;

namespace {

constexpr int16_t api_produce = 0;

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "trib-fwd-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A mock cluster of one broker, owned by a handle of its own.
struct mock_cluster {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mc = nullptr;
  mock_cluster() {
    char err[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    REQUIRE(rk);
    mc = rd_kafka_mock_cluster_new(rk, 1);
    REQUIRE(mc);
  }
  ~mock_cluster() {
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
  }
  std::string bootstraps() const { return rd_kafka_mock_cluster_bootstraps(mc); }
};

buffer::reading make_reading(const std::string& topic, const std::string& key, size_t payload_bytes, int i) {
  buffer::reading r;
  r.receive_ms = 1700000000000 + i;
  r.topic = topic;
  r.key.emplace(key.begin(), key.end());
  r.payload.assign(payload_bytes, static_cast<uint8_t>('a' + i % 26));
  r.headers.push_back({"h", std::vector<uint8_t>{'1'}});
  return r;
}

struct fixture {
  temp_dir dir;
  mock_cluster mock;
  std::unique_ptr<uv::loop> loop;
  std::optional<uv::worker> worker;
  std::unique_ptr<buffer::buffer_store> store;
  metrics::registry registry;
  std::unique_ptr<forwarder::forwarder> fwd;

  fixture() {
    auto l = uv::loop::create();
    REQUIRE(l);
    loop = std::move(*l);
    auto s = buffer::buffer_store::open(dir.file("buffer.db"), {});
    REQUIRE(s);
    store = std::move(*s);
    auto w = uv::worker::start(*loop, {64, "fwd-test"});
    REQUIRE(w);
    worker.emplace(std::move(*w));
  }

  forwarder::forwarder_config config() {
    forwarder::forwarder_config c;
    c.bootstrap_servers = mock.bootstraps();
    c.gateway_id = "gw-test";
    c.linger_ms = 1;
    c.delivery_timeout_ms = 3000;
    c.request_timeout_ms = 1000;
    c.retry_backoff_min_ms = 50;
    c.retry_backoff_max_ms = 200;
    c.seed = 1;
    c.stop_timeout_ms = 2000;
    return c;
  }

  void append(const std::vector<buffer::reading>& rows) {
    auto r = store->append_batch(rows);  // before the forwarder starts: no job runs concurrently
    REQUIRE(r);
    REQUIRE(r->accepted == rows.size());
  }

  void start(const forwarder::forwarder_config& c) {
    auto f = forwarder::forwarder::create(*loop, *worker, *store, c, &registry);
    REQUIRE_MESSAGE(f, (f ? "" : f.error().message()));
    fwd = std::move(*f);
    fwd->start();
  }

  // Runs the loop until pred() holds or the time is up (returns pred()).
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred() && std::chrono::steady_clock::now() < deadline) {
      loop->run_nowait();
      std::this_thread::sleep_for(2ms);
    }
    return pred();
  }

  void stop() {
    bool stopped = !fwd;
    if (fwd) fwd->stop([&] { stopped = true; });
    CHECK(run_until([&] { return stopped; }, 15s));
    fwd.reset();
    bool worker_stopped = false;
    worker->stop(uv::worker::stop_mode::drain, [&] { worker_stopped = true; });
    CHECK(run_until([&] { return worker_stopped; }, 5s));
    worker.reset();
    store.reset();
    CHECK(loop->close());
  }
};

}  // namespace

TEST_CASE("mock: the backlog drains and leaves the buffer only when acknowledged") {
  fixture f;
  std::vector<buffer::reading> rows;
  for (int i = 0; i < 300; ++i)
    rows.push_back(make_reading("telemetry", "dev-" + std::to_string(i % 7), 100, i));
  f.append(rows);
  f.start(f.config());
  CHECK(f.run_until([&] { return f.fwd->core().stats().removed_rows == 300; }, 20s));
  CHECK(f.store->backlog().rows == 0);
  CHECK(f.fwd->core().stats().delivered_rows == 300);
  CHECK(f.fwd->core().stats().removed_rows == 300);
  CHECK(f.fwd->uplink_up());
  const std::string text = f.registry.render_prometheus();
  CHECK(text.find("tributary_gateway_forwarder_forwarded_rows_total 300") != std::string::npos);
  CHECK(text.find("tributary_gateway_forwarder_uplink_up 1") != std::string::npos);
  f.stop();
}

TEST_CASE("mock: a batch refused as too large — the row fails alone and is dead-lettered with the reason") {
  fixture f;
  f.append({make_reading("big", "k", 100, 1)});
  // The first produce (the batch) and the second (the row alone) are refused.
  rd_kafka_mock_push_request_errors(f.mock.mc, api_produce, 2, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  f.start(f.config());
  CHECK(f.run_until([&] { return f.store->backlog().dead_letter_rows == 1; }, 20s));
  CHECK(f.store->backlog().rows == 0);
  f.stop();
  auto s = buffer::buffer_store::open(f.dir.file("buffer.db"), {});
  REQUIRE(s);
  auto dl = (*s)->dead_letter_list(buffer::gateway_seq(0), 10);
  REQUIRE(dl);
  REQUIRE(dl->size() == 1);
  CHECK((*dl)[0].reason.find("MSG_SIZE_TOO_LARGE") != std::string::npos);
  CHECK((*dl)[0].row.r.topic == "big");
}

TEST_CASE("mock: an innocent neighbour of a refused batch is delivered, not dead-lettered") {
  fixture f;
  f.append({make_reading("t", "k", 10, 1), make_reading("t", "k", 10, 2)});
  rd_kafka_mock_push_request_errors(f.mock.mc, api_produce, 1, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  f.start(f.config());
  CHECK(f.run_until([&] { return f.store->backlog().rows == 0; }, 20s));
  CHECK(f.store->backlog().dead_letter_rows == 0);
  CHECK(f.fwd->core().stats().delivered_rows == 2);
  f.stop();
}

TEST_CASE("mock: not authorized for the topic — dead-lettered at once") {
  fixture f;
  f.append({make_reading("secret", "k", 10, 1)});
  rd_kafka_mock_push_request_errors(f.mock.mc, api_produce, 1, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  f.start(f.config());
  CHECK(f.run_until([&] { return f.store->backlog().dead_letter_rows == 1; }, 20s));
  CHECK(f.fwd->core().stats().failures[static_cast<size_t>(forwarder::error_class::topic)] == 1);
  const std::string text = f.registry.render_prometheus();
  CHECK(text.find("tributary_gateway_forwarder_errors_total{class=\"topic\"} 1") != std::string::npos);
  f.stop();
}

TEST_CASE("mock: the broker down past the delivery timeout — rows stay, come back, nothing lost") {
  fixture f;
  std::vector<buffer::reading> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(make_reading("t", "k", 10, i));
  f.append(rows);
  rd_kafka_mock_broker_set_down(f.mock.mc, 1);
  auto c = f.config();
  c.delivery_timeout_ms = 1500;
  c.request_timeout_ms = 500;
  f.start(c);
  // The rows time out, the forwarder settles and backs off; the buffer keeps them.
  CHECK(f.run_until([&] { return f.fwd->core().stats().backoffs >= 1; }, 20s));
  CHECK(f.store->backlog().rows == 20);
  CHECK_FALSE(f.fwd->uplink_up());
  rd_kafka_mock_broker_set_up(f.mock.mc, 1);
  CHECK(f.run_until([&] { return f.store->backlog().rows == 0; }, 30s));
  CHECK(f.store->backlog().dead_letter_rows == 0);
  CHECK(f.fwd->core().stats().settles >= 1);
  f.stop();
}

TEST_CASE("mock: create refuses a bad configuration; check_config names the setting") {
  fixture f;
  auto c = f.config();
  c.librdkafka = {"no.such.setting=1"};
  auto e = forwarder::check_config(c);
  REQUIRE(e);
  CHECK(e->find("no.such.setting") != std::string::npos);
  auto r = forwarder::forwarder::create(*f.loop, *f.worker, *f.store, c, nullptr);
  REQUIRE_FALSE(r);
  CHECK(r.error() == forwarder::errc::producer_failed);
  c.librdkafka = {"acks=1"};
  CHECK(forwarder::check_config(c));
  c.librdkafka.clear();
  c.bootstrap_servers.clear();
  auto off = forwarder::forwarder::create(*f.loop, *f.worker, *f.store, c, nullptr);
  REQUIRE_FALSE(off);
  CHECK(off.error() == forwarder::errc::not_active);
  CHECK_FALSE(forwarder::check_config(f.config()));
  f.stop();
}
