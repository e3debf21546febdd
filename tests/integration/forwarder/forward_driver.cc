// forward_driver: the forwarder without the MQTT server, for the integration, fault and bench tests.
// It holds a buffer file like the gateway does (one worker thread, the group committer), appends
// simulated readings at a steady rate through the committer, runs the forwarder against a real
// broker, and reports what was acknowledged.
//
//   forward_driver --buffer /tmp/b.db --bootstrap 127.0.0.1:9092 --rows 5000 --rate 1000 --devices 10
//                  --ack-log /tmp/acked.txt --exit-when-drained
//
// Readings: topic --topic, key = device name ("dev-000003"), payload the simulator's JSON
// ({"device":"dev-000003","seq":17,"ts_ms":...,"pad":"..."}, firmware-sim/core/reading.h), header
// "driver.run" = --run. Device sequence numbers start at --seq-start + 1 (a restarted run continues
// above the previous one, so order per device can be checked across kill -9).
// Ack log: one line "device seq gateway_seq" per reading whose commit completed (the moment a
// gateway would send PUBACK), written with write(2) so it survives kill -9 of this process.
// Status: with --status-interval-ms, one JSON line per interval on stdout:
//   {"t_ms":..,"appended":..,"forwarded":..,"backlog_rows":..,"window":..,"mode":"running","uplink":1}
// The last line (at exit) has "final":true. Exit 0 after a clean stop (SIGTERM, or drained with
// --exit-when-drained, or --duration-s elapsed); 1 on a start-up failure; 2 on a bad command line.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/config.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/loop.h"
#include "common/uv/signal_set.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"
#include "gateway/buffer/buffer_metrics.h"
#include "gateway/buffer/buffer_store.h"
#include "gateway/buffer/group_committer.h"
#include "gateway/forwarder/forwarder.h"

using namespace tributary;
namespace gw = tributary::gateway;

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct options {
  std::string buffer;
  std::string topic = "telemetry";
  uint32_t devices = 10;
  uint64_t rows = 0;           // 0 = until stopped
  double rate = 1000;          // rows per second; 0 = as fast as the committer takes them
  uint32_t payload_bytes = 0;  // pad up to this
  uint64_t seq_start = 0;
  std::string run = "1";
  std::string ack_log;
  std::string http;
  bool exit_when_drained = false;
  bool drain_only = false;  // no ingest; exit once the buffer is empty
  double duration_s = 0;
  uint64_t status_interval_ms = 0;
  bool forward = true;
  std::string synchronous = "full";
  uint64_t big_every_n = 0;  // every Nth reading gets --big-bytes of payload
  uint32_t big_bytes = 0;
  std::string big_topic;
};

constexpr uint64_t tick_ms = 10;
constexpr size_t submit_per_tick_max = 20000;

class driver {
 public:
  driver(const options& o, gw::forwarder::forwarder_config fc) : o_(o), fc_(std::move(fc)) {}

  int run() {
    auto l = uv::loop::create();
    if (!l) return fail("loop", l.error().message());
    loop_ = std::move(*l);
    auto sigs = uv::signal_set::create(*loop_, {SIGTERM, SIGINT}, [this](int) { shutdown("signal"); });
    if (!sigs) return fail("signals", sigs.error().message());
    signals_.emplace(std::move(*sigs));
    gw::buffer::store_options so;
    so.synchronous = *gw::buffer::parse_synchronous_mode(o_.synchronous);
    auto store = gw::buffer::buffer_store::open(o_.buffer, so);
    if (!store) return fail("buffer", store.error().message());
    store_ = std::move(*store);
    auto w = uv::worker::start(*loop_, {64, "drv-buffer"});
    if (!w) return fail("worker", w.error().message());
    worker_.emplace(std::move(*w));
    gw::buffer::committer_options co;
    co.metrics = &registry_;
    auto c = gw::buffer::group_committer::create(*loop_, *worker_, *store_, co);
    if (!c) return fail("committer", c.error().message());
    committer_ = std::move(*c);
    gw::buffer::register_store_metrics(registry_, *store_, wall_ms);
    if (!o_.ack_log.empty()) {
      ack_fd_ = ::open(o_.ack_log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (ack_fd_ < 0) return fail("ack_log", o_.ack_log);
    }
    if (!o_.http.empty()) {
      http_ = std::make_unique<http::server>(*loop_);
      http_->get("/metrics", [this](const http::request&) {
        return http::response{200, std::string(metrics::prometheus_content_type),
                              registry_.render_prometheus()};
      });
      if (auto r = http_->listen(o_.http); !r) return fail("http", r.error().message());
    }
    if (o_.forward) {
      auto f = gw::forwarder::forwarder::create(*loop_, *worker_, *store_, fc_, &registry_, wall_ms);
      if (!f) return fail("forwarder", f.error().message());
      fwd_ = std::move(*f);
      fwd_->start();
    }
    seq_.assign(o_.devices, o_.seq_start);
    start_ms_ = loop_->now_ms();
    tick_.emplace(*loop_);
    tick_->start_repeating(tick_ms, [this] { on_tick(); });
    if (o_.status_interval_ms) {
      status_.emplace(*loop_);
      status_->start_repeating(o_.status_interval_ms, [this] { print_status(false); });
    }
    loop_->run();

    // Teardown (the loop stopped after the committer, forwarder and worker finished).
    print_status(true);
    committer_.reset();
    fwd_.reset();
    worker_.reset();
    http_.reset();
    tick_.reset();
    status_.reset();
    signals_.reset();
    store_.reset();
    if (ack_fd_ >= 0) ::close(ack_fd_);
    (void)loop_->close();
    return 0;
  }

 private:
  int fail(const char* what, const std::string& why) {
    std::fprintf(stderr, "forward_driver: %s: %s\n", what, why.c_str());
    return 1;
  }

  void on_tick() {
    if (stopping_) return;
    const uint64_t elapsed = loop_->now_ms() - start_ms_;
    if (o_.duration_s > 0 && static_cast<double>(elapsed) >= o_.duration_s * 1000) {
      shutdown("duration");
      return;
    }
    if (o_.drain_only) {
      if (committer_->idle() && store_->backlog().rows == 0 && (!fwd_ || fwd_->core().window_rows() == 0)) {
        shutdown("drained");
      }
      return;
    }
    // Readings due by now at the rate, bounded per tick.
    uint64_t due = o_.rate > 0 ? static_cast<uint64_t>(o_.rate * static_cast<double>(elapsed) / 1000.0)
                               : submitted_ + submit_per_tick_max;
    if (o_.rows) due = std::min(due, o_.rows);
    size_t n = 0;
    while (submitted_ < due && n < submit_per_tick_max) {
      if (!submit_one()) break;
      n++;
    }
    const bool ingest_done = o_.rows && committed_ + failed_ >= o_.rows;
    if (ingest_done && !o_.forward && committer_->idle()) {
      shutdown("ingested");
      return;
    }
    if (ingest_done && o_.exit_when_drained && committer_->idle() && store_->backlog().rows == 0 &&
        (!fwd_ || fwd_->core().window_rows() == 0)) {
      shutdown("drained");
    }
  }

  bool submit_one() {
    const uint32_t d = static_cast<uint32_t>(submitted_ % o_.devices);
    const uint64_t s = seq_[d] + 1;
    const std::string device = fmt::format("dev-{:06d}", d + 1);
    gw::buffer::reading r;
    r.receive_ms = wall_ms();
    r.topic = o_.topic;
    r.key.emplace(device.begin(), device.end());
    std::string payload = fmt::format(R"({{"device":"{}","seq":{},"ts_ms":{})", device, s, r.receive_ms);
    size_t want = o_.payload_bytes;
    const bool big = o_.big_every_n && (submitted_ + 1) % o_.big_every_n == 0;
    if (big) {
      want = o_.big_bytes;
      if (!o_.big_topic.empty()) r.topic = o_.big_topic;
    }
    if (want > payload.size() + 10) {
      payload += R"(,"pad":")";
      payload.append(want - payload.size() - 2, 'x');
      payload += "\"";
    }
    payload += "}";
    r.payload.assign(payload.begin(), payload.end());
    r.headers.push_back({"driver.run", std::vector<uint8_t>(o_.run.begin(), o_.run.end())});
    auto submitted = committer_->submit(std::move(r), [this, device, s](result<gw::buffer::gateway_seq> seq) {
      if (!seq) {
        failed_++;
        return;
      }
      committed_++;
      if (ack_fd_ >= 0) {
        const std::string line = fmt::format("{} {} {}\n", device, s, seq->value);
        (void)!::write(ack_fd_, line.data(), line.size());
      }
    });
    if (!submitted) return false;  // queue full: the next tick tries again
    seq_[d] = s;
    submitted_++;
    return true;
  }

  void print_status(bool final) {
    const auto b = store_ ? store_->backlog() : gw::buffer::backlog_info{};
    std::string mode = "off";
    uint64_t forwarded = 0, window = 0, settles = 0, dead = 0;
    bool uplink = false;
    if (fwd_) {
      const auto& st = fwd_->core().stats();
      mode = std::string(to_string(fwd_->core().mode()));
      forwarded = st.delivered_rows;
      window = fwd_->core().window_rows();
      settles = st.settles;
      dead = st.dead_lettered_rows;
      uplink = fwd_->uplink_up();
    }
    std::printf(
        "{\"t_ms\":%llu,\"appended\":%llu,\"forwarded\":%llu,\"backlog_rows\":%llu,\"dead_letter_rows\":%llu,"
        "\"window\":%llu,\"settles\":%llu,\"dead_lettered\":%llu,\"mode\":\"%s\",\"uplink\":%d%s}\n",
        static_cast<unsigned long long>(loop_ ? loop_->now_ms() - start_ms_ : 0),
        static_cast<unsigned long long>(committed_), static_cast<unsigned long long>(forwarded),
        static_cast<unsigned long long>(b.rows), static_cast<unsigned long long>(b.dead_letter_rows),
        static_cast<unsigned long long>(window), static_cast<unsigned long long>(settles),
        static_cast<unsigned long long>(dead), mode.c_str(), uplink ? 1 : 0, final ? ",\"final\":true" : "");
    std::fflush(stdout);
  }

  void shutdown(const char* why) {
    if (stopping_) return;
    stopping_ = true;
    TRIB_LOG_INFO("driver", "stopping", {"why", why});
    if (tick_) tick_->cancel();
    if (status_) status_->cancel();
    committer_->close([this] {
      auto finish = [this] {
        if (http_) http_->close();
        worker_->stop(uv::worker::stop_mode::drain, [this] { loop_->stop(); });
      };
      if (fwd_) {
        fwd_->stop(finish);
      } else {
        finish();
      }
    });
  }

  options o_;
  gw::forwarder::forwarder_config fc_;
  std::unique_ptr<uv::loop> loop_;
  metrics::registry registry_;
  std::optional<uv::signal_set> signals_;
  std::unique_ptr<gw::buffer::buffer_store> store_;
  std::optional<uv::worker> worker_;
  std::unique_ptr<gw::buffer::group_committer> committer_;
  std::unique_ptr<gw::forwarder::forwarder> fwd_;
  std::unique_ptr<http::server> http_;
  std::optional<uv::timer> tick_;
  std::optional<uv::timer> status_;
  std::vector<uint64_t> seq_;
  uint64_t start_ms_ = 0;
  uint64_t submitted_ = 0;
  uint64_t committed_ = 0;
  uint64_t failed_ = 0;
  int ack_fd_ = -1;
  bool stopping_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"forward_driver: buffer + forwarder without MQTT (tests and benchmarks)"};
  options o;
  gw::forwarder::forwarder_config fc;
  config::schema schema;
  gw::forwarder::add_forwarder_config(schema, fc);
  std::string bootstrap;
  std::vector<std::string> sets;
  std::string log_level = "info";
  app.add_option("--buffer", o.buffer, "Buffer file")->required();
  app.add_option("--bootstrap", bootstrap, "Bootstrap servers (omit with --no-forward)");
  app.add_option("--topic", o.topic, "Kafka topic");
  app.add_option("--devices", o.devices, "Devices (keys)")->check(CLI::Range(1u, 1000000u));
  app.add_option("--rows", o.rows, "Readings to append (0 = until stopped)");
  app.add_option("--rate", o.rate, "Readings per second (0 = as fast as possible)");
  app.add_option("--payload-bytes", o.payload_bytes, "Pad payloads up to this size");
  app.add_option("--seq-start", o.seq_start, "Device sequences start above this");
  app.add_option("--run", o.run, "Value of the driver.run header");
  app.add_option("--ack-log", o.ack_log, "Append 'device seq gateway_seq' per committed reading");
  app.add_option("--http", o.http, "Serve /metrics here (host:port)");
  app.add_flag("--exit-when-drained", o.exit_when_drained,
               "Stop once every reading is appended and forwarded");
  app.add_flag("--drain-only", o.drain_only, "Append nothing; stop once the buffer is empty");
  app.add_option("--duration-s", o.duration_s, "Stop after this long");
  app.add_option("--status-interval-ms", o.status_interval_ms, "Print a status line this often");
  app.add_flag("!--no-forward", o.forward, "Only append (fill a backlog)");
  app.add_option("--synchronous", o.synchronous, "Buffer PRAGMA synchronous: off, normal, full, extra");
  app.add_option("--big-every", o.big_every_n, "Every Nth reading is big (--big-bytes)");
  app.add_option("--big-bytes", o.big_bytes, "Payload bytes of a big reading");
  app.add_option("--big-topic", o.big_topic, "Topic of big readings (default --topic)");
  app.add_option("--gateway-id", fc.gateway_id, "tributary.gateway header");
  app.add_option("--set", sets, "forwarder.key=value (repeatable)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (!gw::buffer::parse_synchronous_mode(o.synchronous)) {
    std::fprintf(stderr, "forward_driver: bad --synchronous\n");
    return 2;
  }
  if (auto lvl = log::parse_level(log_level)) log::set_level(*lvl);
  if (o.drain_only) {
    o.rows = 0;
    o.rate = 0;
    o.exit_when_drained = true;
  }
  fc.bootstrap_servers = bootstrap;
  for (const auto& s : sets) {
    if (auto r = schema.set_assignment(s); !r) {
      std::fprintf(stderr, "forward_driver: %s\n", r.error().message.c_str());
      return 2;
    }
  }
  if (o.forward) {
    if (auto bad = gw::forwarder::check_config(fc)) {
      std::fprintf(stderr, "forward_driver: %s\n", bad->c_str());
      return 2;
    }
  }
  driver d(o, fc);
  return d.run();
}
