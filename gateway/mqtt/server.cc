#include "gateway/mqtt/server.h"

#include <deque>
#include <optional>
#include <unordered_map>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/tcp.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"
#include "gateway/auth/password_file.h"
#include "gateway/buffer/group_committer.h"
#include "gateway/mqtt/commit_result_of.h"

namespace tributary::gateway::mqtt {
namespace {

constexpr std::string_view component = "mqtt";

}  // namespace

struct server::state : std::enable_shared_from_this<state> {
  struct conn_entry {
    std::shared_ptr<uv::tcp_connection> conn;
    bool core_paused = false;      // the core asked (authentication, 3.1.1 flow control)
    bool space_paused = false;     // a reading of this connection waits for committer room
    bool shutdown_paused = false;  // shutting down: nothing new is read
    std::vector<uint8_t> out;      // bytes to write at the end of the current run
  };
  struct held_reading {
    connection_id conn;
    commit_token token;
    buffer::reading row;
  };

  uv::loop* loop = nullptr;
  server_options options;
  std::unique_ptr<server_core> core;
  buffer::group_committer* committer = nullptr;
  size_t committer_rows_max = 0;
  uint64_t committer_bytes_max = 0;
  std::shared_ptr<const auth::password_db> passwords;
  std::optional<uv::tcp_listener> listener;
  std::optional<uv::worker> auth_worker;
  std::optional<uv::timer> tick_timer;
  std::optional<uv::timer> linger_timer;
  bool completions_scheduled = false;  // run({}) will follow the committer's completions
  std::vector<uint64_t> dirty;         // connections with bytes in `out`

  std::unordered_map<uint64_t, conn_entry> conns;
  uint64_t next_conn = 1;
  std::deque<held_reading> held;
  std::deque<action> work;
  std::deque<std::pair<commit_token, commit_result>> completions;
  bool in_run = false;
  bool stopping = false;
  std::function<void()> on_drained;
  std::function<void()> on_all_closed;
  uint64_t held_total = 0;

  instant now() const { return instant{loop->now_ms(), options.wall_clock_ms()}; }

  conn_entry* find(connection_id id) {
    auto it = conns.find(id.value);
    return it == conns.end() ? nullptr : &it->second;
  }

  void update_reading(conn_entry& e) {
    if (!e.conn->is_open()) return;
    const bool pause = e.core_paused || e.space_paused || e.shutdown_paused;
    if (pause && !e.conn->is_paused()) e.conn->pause_reading();
    if (!pause && e.conn->is_paused()) e.conn->resume_reading();
  }

  // Carries out actions, and the completions they cause, in order. Re-entrant calls queue.
  void run(actions a) {
    if (in_run) {  // from inside an action (not expected: libuv calls back later): queue, in order
      for (auto& x : a) work.push_back(std::move(x));
      return;
    }
    in_run = true;
    auto keep = shared_from_this();
    execute_all(a);
    // Bounded: every completion was produced by a submit, and handling one produces at most the
    // sends and closes of one session plus will readings (never dropped into completions).
    while (!completions.empty() || !work.empty()) {
      if (!work.empty()) {
        action next = std::move(work.front());
        work.pop_front();
        std::visit([this](auto& act) { execute(act); }, next);
        continue;
      }
      auto [token, result] = completions.front();
      completions.pop_front();
      actions more = core->on_committed(token, result, now());
      execute_all(more);
    }
    flush_writes();
    in_run = false;
  }

  void execute_all(actions& a) {
    for (auto& x : a) std::visit([this](auto& act) { execute(act); }, x);
  }

  // One write per connection per run: the acknowledgements of a whole commit go out together.
  void flush_writes() {
    for (uint64_t id : dirty) {
      auto it = conns.find(id);
      if (it == conns.end() || it->second.out.empty()) continue;
      std::vector<uint8_t> bytes;
      bytes.swap(it->second.out);
      // A full write queue aborts the connection: on_close follows.
      if (it->second.conn->is_open()) (void)it->second.conn->write(std::move(bytes));
    }
    dirty.clear();
  }

  void execute(send_action& a) {
    conn_entry* e = find(a.conn);
    if (e == nullptr || !e->conn->is_open()) return;
    if (e->out.empty()) {
      dirty.push_back(a.conn.value);
      if (e->out.capacity() == 0) {
        e->out = std::move(a.bytes);
        return;
      }
    }
    e->out.insert(e->out.end(), a.bytes.begin(), a.bytes.end());
  }

  // Commit completions arrive one by one, all of a transaction in the same loop callback; they are
  // handled together once the last has arrived, so each connection gets one write for all its
  // answers, and the acknowledgements go out before the loop reads anything else.
  void schedule_completions() {
    if (completions_scheduled) return;
    completions_scheduled = true;
    committer->after_completions([w = weak_from_this()] {
      if (auto self = w.lock()) {
        self->completions_scheduled = false;
        self->run({});
      }
    });
  }

  void execute(close_action& a) {
    conn_entry* e = find(a.conn);
    if (e == nullptr) return;
    TRIB_LOG_DEBUG(component, "closing", {"conn", a.conn.value}, {"why", a.why});
    if (a.abort) {
      e->out.clear();
      e->conn->abort();
    } else {
      // What the core sent before closing (a DISCONNECT, a CONNACK) goes out first.
      if (!e->out.empty() && e->conn->is_open()) {
        std::vector<uint8_t> bytes;
        bytes.swap(e->out);
        (void)e->conn->write(std::move(bytes));
      }
      e->conn->close();
    }
  }

  void execute(pause_action& a) {
    conn_entry* e = find(a.conn);
    if (e == nullptr) return;
    e->core_paused = a.pause;
    update_reading(*e);
  }

  void execute(verify_action& a) {
    if (!passwords) {  // the core asks only when a password file is configured
      run_auth(a.conn, auth_outcome::refused);
      return;
    }
    auto verdict = std::make_shared<bool>(false);
    auto submitted = auth_worker->submit(
        [db = passwords, user = std::move(a.username), pw = std::move(a.password), verdict] {
          *verdict = db->verify(user, pw);
        },
        [w = weak_from_this(), conn = a.conn, verdict](std::error_code ec) {
          if (auto self = w.lock()) {
            self->run_auth(
                conn, ec ? auth_outcome::busy : (*verdict ? auth_outcome::accepted : auth_outcome::refused));
          }
        });
    if (!submitted) run_auth(a.conn, auth_outcome::busy);
  }

  void run_auth(connection_id conn, auth_outcome outcome) {
    run(core->on_authenticated(conn, outcome, now()));
  }

  // The committer takes the reading now (true), or it must wait (false).
  bool committer_has_room(const buffer::reading& r) const {
    const auto& st = committer->stats();
    return st.queued_rows + st.committing_rows < committer_rows_max &&
           st.held_bytes + buffer::accounted_bytes(r) <= committer_bytes_max;
  }

  // Submits: true when the reading was taken or failed for good (its completion is queued), false
  // when the committer is full (the reading is still in `r`).
  buffer::group_committer::completion_fn completion(commit_token token) {
    return [w = weak_from_this(), token](result<buffer::gateway_seq> res) {
      if (auto self = w.lock()) {
        self->completions.emplace_back(token,
                                       res ? commit_result::committed : mqtt::commit_result_of(res.error()));
        self->schedule_completions();
      }
    };
  }

  bool try_submit(commit_token token, buffer::reading& r) {
    auto done = completion(token);
    if (committer_has_room(r)) {
      auto ok = committer->submit(std::move(r), std::move(done));
      if (!ok) completions.emplace_back(token, mqtt::commit_result_of(ok.error()));
      return true;
    }
    // Full as far as we can tell: try with a copy, so a refusal keeps the reading and the committer
    // knows someone waits for room (it then calls on_space).
    auto ok = committer->submit(r, done);
    if (ok) return true;
    if (ok.error() == buffer::errc::queue_full) return false;
    completions.emplace_back(token, mqtt::commit_result_of(ok.error()));
    return true;
  }

  void execute(submit_action& a) {
    const bool droppable = a.qos == 0 && !a.will;
    if (!held.empty()) {
      if (droppable) {
        completions.emplace_back(a.token, commit_result::queue_full);
      } else {
        hold(a);
      }
      return;
    }
    if (droppable) {
      if (committer_has_room(a.row)) {
        auto ok = committer->submit(std::move(a.row), completion(a.token));
        if (!ok) completions.emplace_back(a.token, mqtt::commit_result_of(ok.error()));
      } else {
        completions.emplace_back(a.token, commit_result::queue_full);
      }
      return;
    }
    if (!try_submit(a.token, a.row)) hold(a);
  }

  void hold(submit_action& a) {
    if (held.size() >= options.held_rows_max) {
      completions.emplace_back(a.token, commit_result::failed);
      return;
    }
    held_total++;
    if (conn_entry* e = find(a.conn)) {
      e->space_paused = true;
      update_reading(*e);
    }
    held.push_back(held_reading{a.conn, a.token, std::move(a.row)});
  }

  // The committer has room: held readings go in order; when none is left, reading resumes.
  void on_space() {
    while (!held.empty()) {
      if (!try_submit(held.front().token, held.front().row)) break;
      held.pop_front();
    }
    if (held.empty()) {
      for (auto& [id, e] : conns) {
        if (!e.space_paused) continue;
        e.space_paused = false;
        update_reading(e);
      }
      if (on_drained) {
        auto fn = std::move(on_drained);
        on_drained = nullptr;
        fn();
      }
    }
    run({});
  }

  void accept(std::shared_ptr<uv::tcp_connection> c) {
    const uint64_t id = next_conn++;
    conns.emplace(id, conn_entry{c});
    uv::tcp_connection::callbacks cbs;
    std::weak_ptr<state> w = weak_from_this();
    cbs.on_frame = [w, id](uv::tcp_connection&, byte_span frame) {
      if (auto self = w.lock()) self->run(self->core->on_frame(connection_id(id), frame, self->now()));
    };
    cbs.on_frame_error = [w, id](uv::tcp_connection&, std::error_code ec) {
      if (auto self = w.lock()) {
        const bool too_large = ec == uv::errc::frame_too_large;
        self->run(self->core->on_frame_error(connection_id(id), too_large, self->now()));
      }
    };
    cbs.on_close = [w, id](uv::tcp_connection&, std::error_code) {
      if (auto self = w.lock()) self->closed(id);
    };
    c->start(uv::frame_mqtt, std::move(cbs));
    if (stopping) {
      conns[id].shutdown_paused = true;
      update_reading(conns[id]);
    }
    run(core->on_open(connection_id(id), now()));
  }

  void closed(uint64_t id) {
    conns.erase(id);
    run(core->on_closed(connection_id(id), now()));
    if (conns.empty() && on_all_closed) {
      auto fn = std::move(on_all_closed);
      on_all_closed = nullptr;
      linger_timer->cancel();
      fn();
    }
  }

  void register_metrics(metrics::registry& reg) {
    const server_core* c = core.get();
    reg.add_callback_gauge("tributary_gateway_mqtt_connections", "Open MQTT connections (TCP).",
                           [this] { return static_cast<double>(conns.size()); });
    reg.add_callback_gauge("tributary_gateway_mqtt_sessions", "MQTT sessions kept (connected or persistent).",
                           [c] { return static_cast<double>(c->session_count()); });
    reg.add_callback_gauge("tributary_gateway_mqtt_sessions_detached",
                           "Persistent sessions kept without a connection.",
                           [c] { return static_cast<double>(c->detached_session_count()); });
    reg.add_callback_gauge("tributary_gateway_mqtt_pending_commits",
                           "Readings handed to the buffer and not yet committed.",
                           [c] { return static_cast<double>(c->pending_commits()); });
    reg.add_callback_gauge("tributary_gateway_mqtt_held_readings",
                           "Readings waiting for room in the commit queue (their clients are not read).",
                           [this] { return static_cast<double>(held.size()); });
    reg.add_callback_counter("tributary_gateway_mqtt_accepted_total", "TCP connections accepted.",
                             [this] { return listener ? listener->stats().accepted : 0; });
    reg.add_callback_counter("tributary_gateway_mqtt_rejected_total",
                             "TCP connections closed at once: over mqtt.max_connections.",
                             [this] { return listener ? listener->stats().rejected : 0; });
    reg.add_callback_counter("tributary_gateway_mqtt_connects_total", "CONNECT packets accepted (CONNACK 0).",
                             [c] { return c->stats().connects_accepted; });
    for (auto rc :
         {proto::reason_code::malformed_packet, proto::reason_code::protocol_error,
          proto::reason_code::unsupported_protocol_version, proto::reason_code::client_identifier_not_valid,
          proto::reason_code::bad_username_or_password, proto::reason_code::not_authorized,
          proto::reason_code::server_busy, proto::reason_code::bad_authentication_method,
          proto::reason_code::packet_too_large, proto::reason_code::maximum_connect_time,
          proto::reason_code::topic_name_invalid, proto::reason_code::payload_format_invalid}) {
      reg.add_callback_counter("tributary_gateway_mqtt_connects_refused_total",
                               "CONNECT refused (or never completed), by reason.",
                               [c, rc] { return c->stats().connects_refused[static_cast<uint8_t>(rc)]; },
                               {{"reason", std::string(proto::reason_code_name(rc))}});
    }
    for (auto rc : {proto::reason_code::malformed_packet, proto::reason_code::protocol_error,
                    proto::reason_code::packet_too_large, proto::reason_code::keep_alive_timeout,
                    proto::reason_code::session_taken_over, proto::reason_code::topic_name_invalid,
                    proto::reason_code::topic_filter_invalid, proto::reason_code::topic_alias_invalid,
                    proto::reason_code::receive_maximum_exceeded, proto::reason_code::payload_format_invalid,
                    proto::reason_code::quota_exceeded, proto::reason_code::server_shutting_down,
                    proto::reason_code::unspecified_error}) {
      reg.add_callback_counter(
          "tributary_gateway_mqtt_disconnects_total",
          "Connections the gateway ended, by reason (5.0 clients got DISCONNECT with it; 3.1.1 a close).",
          [c, rc] { return c->stats().disconnects[static_cast<uint8_t>(rc)]; },
          {{"reason", std::string(proto::reason_code_name(rc))}});
    }
    for (uint8_t q = 0; q < 3; ++q) {
      reg.add_callback_counter("tributary_gateway_mqtt_publishes_total", "PUBLISH packets received, by QoS.",
                               [c, q] { return c->stats().publishes[q]; }, {{"qos", std::to_string(q)}});
    }
    reg.add_callback_counter("tributary_gateway_mqtt_publish_payload_bytes_total",
                             "PUBLISH payload bytes received.",
                             [c] { return c->stats().publish_payload_bytes; });
    for (size_t r = 0; r < drop_reason_count; ++r) {
      reg.add_callback_counter("tributary_gateway_mqtt_dropped_total",
                               "Readings that did not reach the buffer, by reason.",
                               [c, r] { return c->stats().dropped[r]; },
                               {{"reason", std::string(drop_reason_name(static_cast<drop_reason>(r)))}});
    }
    reg.add_callback_counter("tributary_gateway_mqtt_qos2_duplicates_total",
                             "QoS 2 PUBLISH re-sent before PUBREL: acknowledged again, stored once.",
                             [c] { return c->stats().qos2_duplicates; });
    reg.add_callback_counter("tributary_gateway_mqtt_wills_total", "Will messages published into the stream.",
                             [c] { return c->stats().wills_published; });
    reg.add_callback_counter("tributary_gateway_mqtt_takeovers_total",
                             "Connections taken over by a new CONNECT with the same client id.",
                             [c] { return c->stats().takeovers; });
    reg.add_callback_counter("tributary_gateway_mqtt_keep_alive_timeouts_total",
                             "Connections closed after 1.5 x keep alive without a packet.",
                             [c] { return c->stats().keep_alive_timeouts; });
    reg.add_callback_counter("tributary_gateway_mqtt_auth_failures_total", "Bad user name or password.",
                             [c] { return c->stats().auth_failures; });
    reg.add_callback_counter("tributary_gateway_mqtt_sessions_expired_total", "Persistent sessions expired.",
                             [c] { return c->stats().sessions_expired; });
    reg.add_callback_counter("tributary_gateway_mqtt_sessions_evicted_total",
                             "Persistent sessions discarded to stay within mqtt.sessions_max.",
                             [c] { return c->stats().sessions_evicted; });
    reg.add_callback_counter("tributary_gateway_mqtt_held_total",
                             "Readings held because the commit queue was full (backpressure).",
                             [this] { return held_total; });
  }
};

result<std::unique_ptr<server>> server::start(uv::loop& l, const server_options& options, core_config config,
                                              const routes::route_table& routes,
                                              buffer::group_committer& committer,
                                              std::shared_ptr<const auth::password_db> passwords,
                                              metrics::registry* metrics) {
  TRIB_ASSERT(l.on_loop_thread());
  TRIB_ASSERT(options.wall_clock_ms != nullptr, "the server needs a wall clock");
  auto s = std::make_shared<state>();
  s->loop = &l;
  s->options = options;
  s->committer = &committer;
  s->passwords = std::move(passwords);
  config.passwords = s->passwords != nullptr;
  s->core = std::make_unique<server_core>(std::move(config), routes);
  s->tick_timer.emplace(l);
  s->linger_timer.emplace(l);
  s->committer_rows_max = options.committer_rows_max;
  s->committer_bytes_max = options.committer_bytes_max;
  uv::worker_options wo;
  wo.max_in_flight_jobs = options.auth_queue_max;
  wo.name = "gw-auth";
  s->auth_worker.emplace(TRIB_TRY(uv::worker::start(l, wo)));

  uv::listener_options lo;
  lo.backlog = options.backlog;
  lo.max_connections = options.max_connections;
  lo.connection.max_frame_bytes = s->core->config().max_packet_bytes;
  lo.connection.read_chunk_bytes = options.read_chunk_bytes;
  lo.connection.write_limit_bytes = options.write_limit_bytes;
  lo.connection.write_high_watermark_bytes = std::min<size_t>(64 << 10, options.write_limit_bytes);
  lo.connection.write_low_watermark_bytes = lo.connection.write_high_watermark_bytes / 4;
  lo.connection.close_linger_ms = options.close_linger_ms;
  lo.connection.no_delay = true;
  TRIB_TRY_VOID(lo.connection.validate());
  std::weak_ptr<state> w = s;
  s->listener.emplace(
      TRIB_TRY(uv::tcp_listener::listen(l, options.listen, lo, [w](std::shared_ptr<uv::tcp_connection> c) {
        if (auto self = w.lock()) self->accept(std::move(c));
      })));
  committer.set_on_space([w] {
    if (auto self = w.lock()) self->on_space();
  });
  s->tick_timer->start_repeating(options.tick_ms, [w] {
    if (auto self = w.lock()) self->run(self->core->tick(self->now()));
  });
  if (metrics) s->register_metrics(*metrics);
  TRIB_LOG_INFO(component, "listening", {"addr", s->listener->address()},
                {"max_connections", options.max_connections}, {"passwords", s->passwords != nullptr},
                {"anonymous", s->core->config().anonymous});
  return std::unique_ptr<server>(new server(std::move(s)));
}

server::~server() {
  if (!s_) return;
  s_->committer->set_on_space(nullptr);
  s_->tick_timer.reset();
  s_->linger_timer.reset();
  if (s_->listener) s_->listener->close();
  for (auto& [id, e] : s_->conns) e.conn->abort();
  s_->auth_worker.reset();
}

uint16_t server::port() const { return s_->listener->port(); }
std::string server::address() const { return s_->listener->address(); }

void server::stop_accepting() {
  state& s = *s_;
  s.stopping = true;
  if (s.listener) s.listener->close();
  for (auto& [id, e] : s.conns) {
    e.shutdown_paused = true;
    s.update_reading(e);
  }
}

void server::drain(std::function<void()> on_drained) {
  if (s_->held.empty()) {
    on_drained();
    return;
  }
  s_->on_drained = std::move(on_drained);
}

void server::disconnect_all(std::function<void()> on_closed) {
  state& s = *s_;
  s.tick_timer->cancel();
  s.run({});  // completions the committer delivered last: their acknowledgements go out first
  s.run(s.core->shutdown(s.now()));
  if (s.conns.empty()) {
    on_closed();
    return;
  }
  s.on_all_closed = std::move(on_closed);
  std::weak_ptr<state> w = s_;
  s.linger_timer->start(s.options.close_linger_ms + 1000, [w] {
    auto self = w.lock();
    if (!self) return;
    for (auto& [id, e] : self->conns) e.conn->abort();
  });
}

size_t server::connection_count() const { return s_->conns.size(); }
size_t server::held_rows() const { return s_->held.size(); }
const server_core& server::core() const { return *s_->core; }

}  // namespace tributary::gateway::mqtt
