#include "firmware-sim/io/paho_fleet.h"

#include <algorithm>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

#include "common/assert.h"
#include "common/log.h"
#include "firmware-sim/core/progress.h"
#include "firmware-sim/io/errc.h"

namespace tributary::sim::io {
namespace {

using clock = std::chrono::steady_clock;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct event {
  enum class kind : uint8_t { connected, connect_failed, lost, disconnected, published, publish_failed };
  kind what = kind::connected;
  device_slot device = 0;
  uint64_t seq = 0;
  int rc = 0;
};

// Paho threads push, the driver drains. Bounded by construction: every event answers an operation the
// driver issued (a device has at most inflight_max publishes, one connect and one disconnect
// outstanding, plus one connection loss; failures for a lost connection's publishes can overlap the next
// connection's, hence twice inflight_max). The bound is asserted, never silently exceeded.
class event_queue {
 public:
  explicit event_queue(size_t capacity) : capacity_(capacity) { pending_.reserve(capacity); }
  size_t capacity() const { return capacity_; }

  void push(const event& e) noexcept {
    std::lock_guard lock(mu_);
    TRIB_ASSERT(pending_.size() < capacity_, "simulator event queue over its bound");
    pending_.push_back(e);  // within the reserved capacity: never allocates
  }
  // Swaps the pending events into `out`, which must be empty and have the same reserved capacity.
  void drain(std::vector<event>& out) {
    TRIB_ASSERT(out.empty());
    std::lock_guard lock(mu_);
    out.swap(pending_);
  }

 private:
  std::mutex mu_;
  std::vector<event> pending_;
  size_t capacity_;
};

class connect_listener final : public mqtt::iaction_listener {
 public:
  connect_listener(event_queue* q, device_slot d) : q_(q), d_(d) {}
  void on_success(const mqtt::token&) noexcept override { q_->push({event::kind::connected, d_, 0, 0}); }
  void on_failure(const mqtt::token& t) noexcept override {
    q_->push({event::kind::connect_failed, d_, 0, t.get_return_code()});
  }

 private:
  event_queue* q_;
  device_slot d_;
};

class publish_listener final : public mqtt::iaction_listener {
 public:
  publish_listener(event_queue* q, device_slot d) : q_(q), d_(d) {}
  void on_success(const mqtt::token& t) noexcept override {
    q_->push({event::kind::published, d_, seq_of(t), 0});
  }
  void on_failure(const mqtt::token& t) noexcept override {
    q_->push({event::kind::publish_failed, d_, seq_of(t), t.get_return_code()});
  }

 private:
  static uint64_t seq_of(const mqtt::token& t) noexcept {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.get_user_context()));
  }
  event_queue* q_;
  device_slot d_;
};

class disconnect_listener final : public mqtt::iaction_listener {
 public:
  disconnect_listener(event_queue* q, device_slot d) : q_(q), d_(d) {}
  void on_success(const mqtt::token&) noexcept override { q_->push({event::kind::disconnected, d_, 0, 0}); }
  void on_failure(const mqtt::token& t) noexcept override {
    q_->push({event::kind::disconnected, d_, 0, t.get_return_code()});
  }

 private:
  event_queue* q_;
  device_slot d_;
};

// Everything the adapter keeps per device; the client is declared last so it is destroyed first, while
// the listeners its callbacks use still exist.
struct device_io {
  device_io(event_queue* q, device_slot d) : on_connect(q, d), on_publish(q, d), on_disconnect(q, d) {}
  connect_listener on_connect;
  publish_listener on_publish;
  disconnect_listener on_disconnect;
  mqtt::string_ref topic;
  std::unique_ptr<mqtt::async_client> client;
};

// Rate-limited warning: the first few, then every 1000th.
bool worth_logging(uint64_t n) { return n <= 5 || n % 1000 == 0; }

class driver {
 public:
  driver(fleet& f, const run_options& o, std::string uri)
      : f_(f), o_(o), uri_(std::move(uri)), q_(queue_capacity(f)) {
    events_.reserve(q_.capacity());
    for (device_slot d = 0; d < f_.size(); ++d) {
      ios_.emplace_back(&q_, d);
      ios_.back().topic = mqtt::string_ref(f_.topic(d));
    }
  }

  ~driver() {
    // Devices still connected after the close deadline: drop them without waiting.
    for (device_io& io : ios_) {
      if (!io.client) continue;
      try {
        if (io.client->is_connected()) io.client->disconnect(0);
      } catch (const std::exception&) {
        // Already going away; nothing to do.
      }
    }
    ios_.clear();
  }

  run_outcome run() {
    const clock::time_point t0 = clock::now();
    run_outcome out;
    out.started_ms = wall_ms();
    f_.set_wall_base_ms(out.started_ms);
    progress_sample previous{0, f_.totals()};
    int64_t next_progress = o_.progress_interval_ms;
    int handled_signals = 0;
    while (true) {
      const int64_t now = since(t0);
      if (o_.stop_signal) {
        const int s = o_.stop_signal->load(std::memory_order_relaxed);
        if (s > handled_signals) {
          handled_signals = s;
          TRIB_LOG_INFO("sim", "stop_requested", {"immediately", s >= 2});
          f_.request_stop(now, s >= 2);
        }
      }
      q_.drain(events_);
      for (const event& e : events_) dispatch(e, now);
      events_.clear();
      f_.tick(now, actions_);
      execute(now);
      if (o_.progress_interval_ms > 0 && now >= next_progress) {
        progress_sample current{now, f_.totals()};
        write_progress(format_progress(previous, current, f_.size(), f_.phase()));
        previous = current;
        next_progress += o_.progress_interval_ms;
        if (next_progress <= now) next_progress = now + o_.progress_interval_ms;
      }
      if (f_.finished()) break;
      const int64_t wake = std::min(f_.next_due_ms(), since(t0) + o_.tick_ms);
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(std::max(wake, since(t0))));
    }
    out.total_ms = since(t0);
    out.ended_ms = out.started_ms + out.total_ms;
    if (o_.progress_interval_ms > 0) {
      write_progress(format_progress(previous, {out.total_ms, f_.totals()}, f_.size(), f_.phase()));
    }
    return out;
  }

 private:
  static size_t queue_capacity(const fleet& f) {
    uint32_t inflight_max = 1;
    for (const group_spec& g : f.spec().groups) inflight_max = std::max(inflight_max, g.inflight_max);
    return f.size() * (2 * static_cast<size_t>(inflight_max) + 8);
  }

  static int64_t since(clock::time_point t0) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t0).count();
  }

  void write_progress(const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), o_.progress_out);
    std::fflush(o_.progress_out);
  }

  void dispatch(const event& e, int64_t now) {
    switch (e.what) {
      case event::kind::connected: f_.on_connected(e.device, now, actions_); break;
      case event::kind::connect_failed:
        if (worth_logging(++connect_failures_)) {
          TRIB_LOG_WARN("sim", "connect_failed", {"device", f_.device_name(e.device)}, {"rc", e.rc},
                        {"count", connect_failures_});
        }
        f_.on_connect_failed(e.device, now, actions_);
        break;
      case event::kind::lost:
        if (worth_logging(++losses_)) {
          TRIB_LOG_WARN("sim", "connection_lost", {"device", f_.device_name(e.device)}, {"count", losses_});
        }
        f_.on_connection_lost(e.device, now, actions_);
        break;
      case event::kind::disconnected: f_.on_disconnected(e.device, now, actions_); break;
      case event::kind::published: f_.on_published(e.device, e.seq, now, actions_); break;
      case event::kind::publish_failed: f_.on_publish_failed(e.device, e.seq, now, actions_); break;
    }
  }

  // Carries out the core's actions. A call that fails at once becomes the matching event, fed back
  // after the batch (its handler may ask for more actions).
  void execute(int64_t now) {
    while (!actions_.empty()) {
      batch_.swap(actions_);
      for (const action& a : batch_) {
        switch (a.what) {
          case action::kind::connect: connect(a.device); break;
          case action::kind::publish: publish(a.device, a.r); break;
          case action::kind::disconnect: disconnect(a.device); break;
        }
      }
      batch_.clear();
      for (const event& e : immediate_) dispatch(e, now);
      immediate_.clear();
    }
  }

  void connect(device_slot d) {
    device_io& io = ios_[d];
    const group_spec& g = f_.group_of(d);
    try {
      if (!io.client) {
        io.client = std::make_unique<mqtt::async_client>(uri_, f_.client_id(d),
                                                         mqtt::create_options(MQTTVERSION_3_1_1), nullptr);
        event_queue* q = &q_;
        io.client->set_connection_lost_handler([q, d](const std::string&) noexcept {
          q->push({event::kind::lost, d, 0, 0});
        });
      }
      mqtt::connect_options opts;
      opts.set_mqtt_version(MQTTVERSION_3_1_1);
      opts.set_clean_session(g.clean_session);
      opts.set_keep_alive_interval(static_cast<int>(g.keepalive_s));
      opts.set_connect_timeout(static_cast<int>(g.connect_timeout_s));
      opts.set_automatic_reconnect(false);
      opts.set_max_inflight(static_cast<int>(g.inflight_max));
      if (!g.username_template.empty()) opts.set_user_name(f_.username(d));
      if (!g.password_template.empty()) opts.set_password(f_.password(d));
      io.client->connect(opts, nullptr, io.on_connect);
    } catch (const std::exception& ex) {
      if (worth_logging(++connect_errors_)) {
        TRIB_LOG_WARN("sim", "connect_call_failed", {"device", f_.device_name(d)}, {"error", ex.what()});
      }
      immediate_.push_back({event::kind::connect_failed, d, 0, -1});
    }
  }

  void publish(device_slot d, const reading& r) {
    device_io& io = ios_[d];
    const group_spec& g = f_.group_of(d);
    encode(g.payload, r, f_.device_name(d), g.size_bytes, payload_);
    try {
      TRIB_ASSERT(io.client);
      io.client->publish(io.topic, payload_.data(), payload_.size(), g.qos, false,
                         reinterpret_cast<void*>(static_cast<uintptr_t>(r.seq)), io.on_publish);
    } catch (const std::exception& ex) {
      if (worth_logging(++publish_errors_)) {
        TRIB_LOG_DEBUG("sim", "publish_call_failed", {"device", f_.device_name(d)}, {"error", ex.what()});
      }
      immediate_.push_back({event::kind::publish_failed, d, r.seq, -1});
    }
  }

  void disconnect(device_slot d) {
    device_io& io = ios_[d];
    try {
      TRIB_ASSERT(io.client);
      io.client->disconnect(1000, nullptr, io.on_disconnect);
    } catch (const std::exception&) {
      immediate_.push_back({event::kind::disconnected, d, 0, -1});
    }
  }

  fleet& f_;
  const run_options& o_;
  std::string uri_;
  event_queue q_;  // outlives ios_ (declared before it)
  std::deque<device_io> ios_;
  std::vector<event> events_;
  std::vector<event> immediate_;
  std::vector<action> actions_;
  std::vector<action> batch_;
  std::string payload_;
  uint64_t connect_failures_ = 0, losses_ = 0, connect_errors_ = 0, publish_errors_ = 0;
};

}  // namespace

std::string paho_uri(std::string_view broker) {
  if (broker.starts_with("mqtt://")) return "tcp://" + std::string(broker.substr(7));
  if (broker.find("://") != std::string_view::npos) return std::string(broker);
  return "tcp://" + std::string(broker);
}

result<run_outcome> run_fleet(fleet& f, const run_options& options) {
  const std::string uri = paho_uri(f.spec().broker);
  try {  // a bad URI fails here, once, rather than for every device
    mqtt::async_client probe(uri, "tributary-sim-probe", mqtt::create_options(MQTTVERSION_3_1_1), nullptr);
  } catch (const std::exception& ex) {
    TRIB_LOG_ERROR("sim", "bad_broker_uri", {"uri", uri}, {"error", ex.what()});
    return fail(errc::mqtt_client);
  }
  driver d(f, options, uri);
  return d.run();
}

}  // namespace tributary::sim::io
