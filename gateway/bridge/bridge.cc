#include "gateway/bridge/bridge.h"

#include <deque>
#include <optional>
#include <string>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/tcp.h"
#include "common/uv/timer.h"
#include "gateway/buffer/group_committer.h"
#include "gateway/mqtt/commit_result_of.h"

namespace tributary::gateway::bridge {
namespace {

constexpr std::string_view component = "bridge";

}  // namespace

struct bridge::state : std::enable_shared_from_this<state> {
  uv::loop* loop = nullptr;
  bridge_options options;
  std::unique_ptr<client_core> core;
  buffer::group_committer* committer = nullptr;
  std::shared_ptr<uv::tcp_connection> conn;
  std::optional<uv::timer> tick_timer;
  std::optional<uv::timer> retry_timer;       // held readings
  std::optional<uv::timer> completion_timer;  // 0 ms: the next loop turn
  std::optional<uv::timer> linger_timer;
  bool core_paused = false;
  bool held_paused = false;
  bool shutdown_paused = false;
  std::deque<submit_action> held;
  std::deque<action> work;
  std::deque<std::pair<commit_token, commit_result>> completions;
  std::vector<uint8_t> out;
  bool in_run = false;
  std::function<void()> on_drained;
  std::function<void()> on_closed;
  uint64_t held_total = 0;  // readings that waited for room in the commit queue

  instant now() const { return instant{loop->now_ms(), options.wall_clock_ms()}; }

  void update_reading() {
    if (!conn || !conn->is_open()) return;
    const bool pause = core_paused || held_paused || shutdown_paused;
    if (pause && !conn->is_paused()) conn->pause_reading();
    if (!pause && conn->is_paused()) conn->resume_reading();
  }

  // Carries out actions and the completions they cause, in order; one write at the end.
  void run(actions a) {
    for (auto& x : a) work.push_back(std::move(x));
    if (in_run) return;
    in_run = true;
    auto keep = shared_from_this();
    while (!work.empty() || !completions.empty()) {
      if (!work.empty()) {
        action next = std::move(work.front());
        work.pop_front();
        std::visit([this](auto& act) { execute(act); }, next);
        continue;
      }
      auto [token, result] = completions.front();
      completions.pop_front();
      for (auto& x : core->on_committed(token, result, now())) work.push_back(std::move(x));
    }
    flush();
    in_run = false;
  }

  void flush() {
    if (out.empty()) return;
    std::vector<uint8_t> bytes;
    bytes.swap(out);
    if (conn && conn->is_open())
      (void)conn->write(std::move(bytes));  // a full queue aborts: on_close follows
  }

  void execute(connect_action&) {
    uv::connection_options co;
    co.max_frame_bytes = core->config().max_packet_bytes;
    co.connect_timeout_ms = core->config().connect_timeout_ms;
    co.close_linger_ms = options.close_linger_ms;
    co.read_chunk_bytes = 16 << 10;
    co.no_delay = true;
    std::weak_ptr<state> w = weak_from_this();
    auto started = uv::tcp_connection::connect(*loop, core->config().broker, co,
                                               [w](result<std::shared_ptr<uv::tcp_connection>> r) {
                                                 auto self = w.lock();
                                                 if (!self) {
                                                   if (r) (*r)->abort();
                                                   return;
                                                 }
                                                 self->connect_done(std::move(r));
                                               });
    if (!started) {  // the address was validated with the config; a failure here is transient
      TRIB_LOG_WARN(component, "connect_failed", {"broker", core->config().broker},
                    {"error", started.error().message()});
      for (auto& x : core->on_connect_failed(now())) work.push_back(std::move(x));
    }
  }

  void connect_done(result<std::shared_ptr<uv::tcp_connection>> r) {
    if (!r) {
      TRIB_LOG_WARN(component, "connect_failed", {"broker", core->config().broker},
                    {"error", r.error().message()},
                    {"retry_in_ms", core->backoff_ms() == 0
                                        ? core->config().reconnect_min_ms
                                        : std::min(core->backoff_ms() * 2, core->config().reconnect_max_ms)});
      run(core->on_connect_failed(now()));
      return;
    }
    conn = std::move(*r);
    core_paused = false;
    held_paused = !held.empty();
    uv::tcp_connection::callbacks cbs;
    std::weak_ptr<state> w = weak_from_this();
    cbs.on_frame = [w](uv::tcp_connection&, byte_span frame) {
      if (auto self = w.lock()) self->run(self->core->on_frame(frame, self->now()));
    };
    cbs.on_frame_error = [w](uv::tcp_connection&, std::error_code ec) {
      if (auto self = w.lock())
        self->run(self->core->on_frame_error(ec == uv::errc::frame_too_large, self->now()));
    };
    cbs.on_close = [w](uv::tcp_connection&, std::error_code ec) {
      if (auto self = w.lock()) self->closed(ec);
    };
    conn->start(uv::frame_mqtt, std::move(cbs));
    update_reading();
    run(core->on_connected(now()));
  }

  void closed(std::error_code ec) {
    conn.reset();
    out.clear();
    if (ec && ec != uv::errc::peer_closed)
      TRIB_LOG_DEBUG(component, "connection_closed", {"error", ec.message()});
    run(core->on_closed(now()));
    if (on_closed) {
      auto fn = std::move(on_closed);
      on_closed = nullptr;
      linger_timer->cancel();
      fn();
    }
  }

  void execute(send_action& a) {
    if (out.empty()) {
      out = std::move(a.bytes);
    } else {
      out.insert(out.end(), a.bytes.begin(), a.bytes.end());
    }
  }

  void execute(close_action& a) {
    if (!conn) return;
    TRIB_LOG_DEBUG(component, "closing", {"why", a.why});
    if (a.abort) {
      out.clear();
      conn->abort();
    } else {
      flush();
      conn->close();
    }
  }

  void execute(pause_action& a) {
    core_paused = a.pause;
    update_reading();
  }

  void execute(note_action& a) {
    if (a.warning) {
      TRIB_LOG_WARN(component, a.event, {"broker", core->config().broker}, {"detail", a.detail});
    } else {
      TRIB_LOG_INFO(component, a.event, {"broker", core->config().broker}, {"detail", a.detail});
    }
  }

  bool committer_has_room(const buffer::reading& r) const {
    const auto& st = committer->stats();
    return st.queued_rows + st.committing_rows < options.committer_rows_max &&
           st.held_bytes + buffer::accounted_bytes(r) <= options.committer_bytes_max;
  }

  buffer::group_committer::completion_fn completion(commit_token token) {
    return [w = weak_from_this(), token](result<buffer::gateway_seq> res) {
      auto self = w.lock();
      if (!self) return;
      self->completions.emplace_back(token,
                                     res ? commit_result::committed : mqtt::commit_result_of(res.error()));
      if (!self->completion_timer->active()) {
        self->completion_timer->start(0, [w] {
          auto s = w.lock();
          if (!s) return;
          // A commit of ours completed, so the queue has room now: held readings need not wait for
          // the retry timer.
          if (!s->held.empty()) {
            s->retry_held();
          } else {
            s->run({});
          }
        });
      }
    };
  }

  // True when the committer took the reading (or refused it for good: its completion is queued).
  bool try_submit(submit_action& a) {
    if (!committer_has_room(a.row)) return false;
    auto ok = committer->submit(std::move(a.row), completion(a.token));
    if (!ok) completions.emplace_back(a.token, mqtt::commit_result_of(ok.error()));
    return true;
  }

  void execute(submit_action& a) {
    if (held.empty() && try_submit(a)) return;
    if (a.qos == 0) {
      completions.emplace_back(a.token, commit_result::queue_full);
      return;
    }
    held.push_back(std::move(a));
    held_total++;
    held_paused = true;
    update_reading();
    if (!retry_timer->active()) start_retry();
  }

  void start_retry() {
    retry_timer->start(options.retry_ms, [w = weak_from_this()] {
      if (auto self = w.lock()) self->retry_held();
    });
  }

  void retry_held() {
    while (!held.empty() && try_submit(held.front())) held.pop_front();
    if (!held.empty()) {
      start_retry();
      return;
    }
    held_paused = false;
    update_reading();
    if (on_drained) {
      auto fn = std::move(on_drained);
      on_drained = nullptr;
      fn();
    }
    run({});
  }

  void register_metrics(metrics::registry& reg) {
    const client_core* c = core.get();
    reg.add_callback_gauge("tributary_gateway_bridge_connected",
                           "1 while the bridge has an accepted connection to the local broker.",
                           [c] { return c->connected() ? 1.0 : 0.0; });
    reg.add_callback_gauge(
        "tributary_gateway_bridge_awaiting_commit",
        "QoS 1/2 messages from the broker not yet acknowledged (waiting for their commit).",
        [c] { return static_cast<double>(c->awaiting_commit()); });
    for (uint8_t q = 0; q < 3; ++q) {
      reg.add_callback_counter("tributary_gateway_bridge_messages_total",
                               "PUBLISH packets received from the local broker, by QoS.",
                               [c, q] { return c->stats().messages[q]; }, {{"qos", std::to_string(q)}});
    }
    reg.add_callback_counter(
        "tributary_gateway_bridge_redelivered_total",
        "PUBLISH packets with the DUP flag (sent before; mosquitto also sets it on messages it "
        "queued while the gateway was away).",
        [c] { return c->stats().redelivered; });
    reg.add_callback_counter("tributary_gateway_bridge_connects_total", "Connections the broker accepted.",
                             [c] { return c->stats().connects; });
    reg.add_callback_counter("tributary_gateway_bridge_reconnects_total",
                             "Connections the broker accepted after an earlier one was lost.",
                             [c] { return c->stats().reconnects; });
    reg.add_callback_counter("tributary_gateway_bridge_connect_failures_total",
                             "Connection attempts that failed (TCP, CONNACK refused, no CONNACK in time).",
                             [c] { return c->stats().connect_failures; });
    reg.add_callback_counter("tributary_gateway_bridge_connections_lost_total",
                             "Accepted connections that ended (broker gone, keep alive, errors).",
                             [c] { return c->stats().connections_lost; });
    const std::pair<const char*, uint64_t client_stats::*> drops[] = {
        {"no_route", &client_stats::no_route},
        {"bad_target_topic", &client_stats::bad_target_topic},
        {"commit_failed", &client_stats::commit_failures}};
    for (const auto& [reason, field] : drops) {
      reg.add_callback_counter("tributary_gateway_bridge_dropped_total",
                               "Messages from the broker not stored, by reason (commit_failed QoS 1/2 are "
                               "not acknowledged: the broker re-sends them).",
                               [c, f = field] { return c->stats().*f; }, {{"reason", reason}});
    }
    reg.add_callback_counter("tributary_gateway_bridge_unacknowledged_commits_total",
                             "Readings committed after their connection ended: stored, not acknowledged, "
                             "so the broker re-sends them (duplicates).",
                             [c] { return c->stats().stale_commits; });
    reg.add_callback_counter("tributary_gateway_bridge_held_total",
                             "Readings that waited for room in the commit queue (the broker was not read).",
                             [this] { return held_total; });
    reg.add_callback_counter("tributary_gateway_bridge_qos2_duplicates_total",
                             "QoS 2 PUBLISH for an id already stored: acknowledged, stored once.",
                             [c] { return c->stats().qos2_duplicates; });
    reg.add_callback_counter("tributary_gateway_bridge_subscribe_failures_total",
                             "Topic filters SUBACK refused.", [c] { return c->stats().subscribe_failures; });
    reg.add_callback_counter("tributary_gateway_bridge_protocol_errors_total",
                             "Connections closed on a packet from the broker we could not accept.",
                             [c] { return c->stats().protocol_errors; });
    reg.add_callback_counter("tributary_gateway_bridge_keep_alive_timeouts_total",
                             "Connections closed after 1.5 x keep alive without a packet from the broker.",
                             [c] { return c->stats().keep_alive_timeouts; });
  }
};

result<std::unique_ptr<bridge>> bridge::start(uv::loop& l, const bridge_config& cfg,
                                              const bridge_options& options, mqtt::core_config mqtt_config,
                                              const routes::route_table& routes,
                                              buffer::group_committer& committer,
                                              metrics::registry* metrics) {
  TRIB_ASSERT(l.on_loop_thread());
  TRIB_ASSERT(options.wall_clock_ms != nullptr, "the bridge needs a wall clock");
  auto s = std::make_shared<state>();
  s->loop = &l;
  s->options = options;
  s->committer = &committer;
  s->core = std::make_unique<client_core>(cfg, std::move(mqtt_config), routes);
  s->tick_timer.emplace(l);
  s->retry_timer.emplace(l);
  s->completion_timer.emplace(l);
  s->linger_timer.emplace(l);
  std::weak_ptr<state> w = s;
  s->tick_timer->start_repeating(cfg.tick_ms, [w] {
    if (auto self = w.lock()) self->run(self->core->tick(self->now()));
  });
  if (metrics) s->register_metrics(*metrics);
  TRIB_LOG_INFO(component, "starting", {"broker", cfg.broker}, {"client_id", cfg.client_id},
                {"clean_session", cfg.clean_session}, {"subscriptions", cfg.subscriptions.size()},
                {"mode", cfg.mode == bridge_mode::instead ? "instead" : "also"});
  s->run(s->core->tick(s->now()));  // the first attempt at once
  return std::unique_ptr<bridge>(new bridge(std::move(s)));
}

bridge::~bridge() {
  if (!s_) return;
  s_->tick_timer.reset();
  s_->retry_timer.reset();
  s_->completion_timer.reset();
  s_->linger_timer.reset();
  if (s_->conn) s_->conn->abort();
}

void bridge::stop_reading() {
  state& s = *s_;
  s.tick_timer->cancel();  // no new connection attempts, no keep alive while draining
  s.shutdown_paused = true;
  s.update_reading();
}

void bridge::drain(std::function<void()> on_drained) {
  if (s_->held.empty()) {
    on_drained();
    return;
  }
  s_->on_drained = std::move(on_drained);
}

void bridge::disconnect(std::function<void()> on_closed) {
  state& s = *s_;
  s.retry_timer->cancel();
  s.completion_timer->cancel();
  s.run({});  // completions the committer delivered last: their acknowledgements go out first
  s.run(s.core->shutdown(s.now()));
  if (!s.conn) {
    on_closed();
    return;
  }
  s.on_closed = std::move(on_closed);
  std::weak_ptr<state> w = s_;
  s.linger_timer->start(s.options.close_linger_ms + 1000, [w] {
    if (auto self = w.lock(); self && self->conn) self->conn->abort();
  });
}

bool bridge::connected() const { return s_->core->connected(); }
const client_core& bridge::core() const { return *s_->core; }

}  // namespace tributary::gateway::bridge
