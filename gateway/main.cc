// tributary-gateway: the edge gateway. Accepts sensor readings over MQTT (3.1.1 and 5.0, QoS 0/1/2)
// and keeps them in a durable SQLite buffer until they are forwarded.
//
//   tributary-gateway --config /etc/tributary/gateway.json
//   tributary-gateway --data-dir /tmp/gw --listen 127.0.0.1:1883 --http 127.0.0.1:9645
//   tributary-gateway --print-config            the effective configuration (every key) as JSON
//   tributary-gateway --config-keys             every key with its type, default and description
//   tributary-gateway passwd FILE USER          add or update a user; the password is read from stdin
//
// A QoS 1/2 PUBLISH is acknowledged only once its reading is committed to the buffer: a PUBACK means
// "on this gateway's disk". Defaults: MQTT on 0.0.0.0:1883, /metrics and /health on 0.0.0.0:9645.
//
// Bridge mode (bridge.enabled): the gateway also (or, with bridge.mode "instead", only) subscribes to
// a broker already running on the device; its QoS 1/2 messages are acknowledged upstream only once
// committed, so the broker keeps (persistent session) and re-sends what a killed gateway had not stored.
//
// Start-up: the buffer is opened (its backlog is logged: readings kept from before a restart), then
// HTTP, then the MQTT listener; /health answers 200 once MQTT listens.
// SIGHUP: reload the config file (with the command line's flags and --set applied over it again).
// Applied live: log.level and routes.* (the next PUBLISH is routed by the new table). Any other
// changed key is logged by name as needing a restart (event=reload_needs_restart). A file that does
// not load or validate is refused with the error naming the key, and the running config stays.
// SIGTERM/SIGINT: stop accepting and reading, hand every held reading to the committer, let it
// finish its transactions (every acknowledgement is written), DISCONNECT 0x8B to 5.0 clients, close
// connections (bounded by mqtt.close_linger_ms), stop the buffer thread, exit 0. A second signal
// exits at once with status 1. Exit status 2: bad command line or configuration; 1: start-up failed.
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/loop.h"
#include "common/uv/signal_set.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"
#include "gateway/auth/password_file.h"
#include "gateway/bridge/bridge.h"
#include "gateway/buffer/buffer_metrics.h"
#include "gateway/buffer/buffer_store.h"
#include "gateway/buffer/group_committer.h"
#include "gateway/forwarder/dlq_command.h"  // forwarder wiring (gateway/forwarder)
#include "gateway/forwarder/forwarder.h"    // forwarder wiring (gateway/forwarder)
#include "gateway/gateway_config.h"
#include "gateway/mqtt/server.h"

#ifndef TRIB_VERSION
#define TRIB_VERSION "dev"
#endif

namespace {

using namespace tributary;
namespace gw = tributary::gateway;

constexpr std::string_view component = "gateway";
constexpr size_t buffer_worker_jobs_max = 64;

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

enum class phase { starting, serving, stopping };

// Where the configuration comes from: the file, then these flags over it. Kept for SIGHUP, which
// reads the file again and applies the same flags, so a flag keeps overriding the file.
struct config_source {
  std::string file;  // "" = the defaults
  std::optional<std::string> data_dir;
  std::optional<std::string> listen;
  std::optional<std::string> http_listen;
  std::vector<std::string> sets;
};

// One complete configuration. The schema binds references to cfg and fwd: it never moves.
struct loaded_config {
  gw::gateway_config cfg;
  gw::forwarder::forwarder_config fwd;  // forwarder wiring: the forwarder.* keys
  config::schema schema;
  gw::routes::route_table routes;

  loaded_config() {
    gw::declare(schema, cfg);
    gw::forwarder::add_forwarder_config(schema, fwd);
  }
  loaded_config(const loaded_config&) = delete;
  loaded_config& operator=(const loaded_config&) = delete;
  config::json effective() const { return gw::effective_json(schema, cfg); }
};

// The file, the flags, --set, then the checks across keys (routes build, forwarder combinations and
// librdkafka's own check, the log level). The error is the operator's message, naming file and key.
tl::expected<std::unique_ptr<loaded_config>, std::string> load_configuration(const config_source& src) {
  auto lc = std::make_unique<loaded_config>();
  if (!src.file.empty()) {
    if (auto r = gw::load_config_file(lc->schema, lc->cfg, src.file); !r)
      return tl::unexpected(r.error().message);
  }
  const std::pair<const char*, const std::optional<std::string>*> flags[] = {
      {"gateway.data_dir", &src.data_dir}, {"mqtt.listen", &src.listen}, {"http.listen", &src.http_listen}};
  const char* flag_names[] = {"--data-dir", "--listen", "--http"};
  for (size_t i = 0; i < std::size(flags); ++i) {
    if (!*flags[i].second) continue;
    if (auto r = lc->schema.set(flags[i].first, **flags[i].second, flag_names[i]); !r)
      return tl::unexpected(r.error().message);
  }
  for (const auto& a : src.sets) {
    if (auto r = lc->schema.set_assignment(a); !r) return tl::unexpected(r.error().message);
  }
  auto table = gw::validate(lc->cfg);
  if (!table) return tl::unexpected(table.error().message);
  lc->routes = std::move(*table);
  // forwarder wiring: combinations, the passthrough list, and librdkafka's own check of the settings.
  if (auto bad = lc->fwd.active() ? gw::forwarder::check_config(lc->fwd) : gw::forwarder::validate(lc->fwd))
    return tl::unexpected(*bad);
  if (!log::parse_level(lc->cfg.log_level))
    return tl::unexpected(fmt::format("key \"log.level\": unknown level \"{}\"", lc->cfg.log_level));
  return lc;
}

class gateway_daemon {
 public:
  gateway_daemon(std::unique_ptr<loaded_config> lc, config_source source,
                 std::shared_ptr<const gw::auth::password_db> passwords)
      : loaded_(std::move(lc)),
        source_(std::move(source)),
        cfg_(loaded_->cfg),
        routes_(std::move(loaded_->routes)),
        passwords_(std::move(passwords)),
        fwd_cfg_(loaded_->fwd),
        running_(loaded_->effective()) {}
  int run();

 private:
  void begin_shutdown(std::string_view why);
  void expire_round();
  void reload();

  // The configuration the process started with; a reload replaces only what it applies live
  // (routes_, the log level) and records it in running_.
  std::unique_ptr<loaded_config> loaded_;
  config_source source_;
  const gw::gateway_config& cfg_;
  gw::routes::route_table routes_;
  std::shared_ptr<const gw::auth::password_db> passwords_;
  std::unique_ptr<uv::loop> loop_;
  metrics::registry registry_;
  phase phase_ = phase::starting;
  std::unique_ptr<gw::buffer::buffer_store> store_;
  std::optional<uv::worker> worker_;
  std::unique_ptr<gw::buffer::group_committer> committer_;
  std::unique_ptr<http::server> http_;
  std::unique_ptr<gw::mqtt::server> mqtt_;      // null in bridge mode "instead"
  std::unique_ptr<gw::bridge::bridge> bridge_;  // bridge.enabled
  std::optional<uv::signal_set> signals_;
  std::optional<uv::timer> expire_timer_;
  bool expire_running_ = false;
  // --- forwarder wiring (gateway/forwarder): drains the buffer into the cluster ---
  gw::forwarder::forwarder_config fwd_cfg_;
  std::unique_ptr<gw::forwarder::forwarder> forwarder_;
  // --- reload (SIGHUP) ---
  config::json running_;  // the effective configuration in force, as effective_json() prints it
  metrics::counter* reloads_ok_ = nullptr;
  metrics::counter* reloads_failed_ = nullptr;
  metrics::gauge* restart_pending_ = nullptr;
};

int gateway_daemon::run() {
  auto l = uv::loop::create();
  if (!l) {
    TRIB_LOG_ERROR(component, "loop_failed", {"error", l.error().message()});
    return 1;
  }
  loop_ = std::move(*l);
  auto sigs = uv::signal_set::create(*loop_, {SIGTERM, SIGINT, SIGHUP}, [this](int signum) {
    if (signum == SIGHUP) {
      if (phase_ == phase::serving) reload();
      return;
    }
    if (phase_ == phase::stopping) {
      TRIB_LOG_WARN(component, "second_signal", {"signal", signum}, {"effect", "exit now"});
      std::_Exit(1);
    }
    begin_shutdown(signum == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  if (!sigs) {
    TRIB_LOG_ERROR(component, "signals_failed", {"error", sigs.error().message()});
    return 1;
  }
  signals_.emplace(std::move(*sigs));

  // The buffer: its open logs the backlog kept from before a restart.
  std::error_code ec;
  std::filesystem::create_directories(cfg_.data_dir, ec);
  const std::string path = cfg_.effective_buffer_path();
  auto store = gw::buffer::buffer_store::open(path, cfg_.store);
  if (!store) {
    TRIB_LOG_ERROR(component, "buffer_open_failed", {"path", path}, {"error", store.error().message()});
    return 1;
  }
  store_ = std::move(*store);
  const auto backlog = store_->backlog();
  TRIB_LOG_INFO(component, "buffer_ready", {"path", path}, {"backlog_rows", backlog.rows},
                {"backlog_bytes", backlog.bytes}, {"dead_letter_rows", backlog.dead_letter_rows},
                {"next_seq", backlog.next_seq.value},
                {"overflow", gw::buffer::to_string(cfg_.store.overflow)},
                {"synchronous", gw::buffer::to_string(cfg_.store.synchronous)});
  auto w = uv::worker::start(*loop_, {buffer_worker_jobs_max, "gw-buffer"});
  if (!w) {
    TRIB_LOG_ERROR(component, "worker_failed", {"error", w.error().message()});
    return 1;
  }
  worker_.emplace(std::move(*w));
  auto co = cfg_.committer;
  co.metrics = &registry_;
  auto committer = gw::buffer::group_committer::create(*loop_, *worker_, *store_, co);
  if (!committer) {
    TRIB_LOG_ERROR(component, "committer_failed", {"error", committer.error().message()});
    return 1;
  }
  committer_ = std::move(*committer);
  gw::buffer::register_store_metrics(registry_, *store_, unix_now_ms);
  constexpr std::string_view reloads_help = "Configuration reloads (SIGHUP), by result.";
  reloads_ok_ =
      &registry_.add_counter("tributary_gateway_config_reloads_total", reloads_help, {{"result", "ok"}});
  reloads_failed_ =
      &registry_.add_counter("tributary_gateway_config_reloads_total", reloads_help, {{"result", "failed"}});
  restart_pending_ = &registry_.add_gauge(
      "tributary_gateway_config_restart_pending_keys",
      "Keys whose value in the config file differs from the running one and needs a restart (last reload).");

  // --- forwarder wiring (gateway/forwarder): buffer -> cluster, its SQLite work on the buffer's worker ---
  if (fwd_cfg_.active()) {
    auto fc = fwd_cfg_;
    fc.gateway_id = cfg_.core.gateway_id;
    auto fwd = gw::forwarder::forwarder::create(*loop_, *worker_, *store_, fc, &registry_, unix_now_ms);
    if (!fwd) {
      TRIB_LOG_ERROR(component, "forwarder_failed", {"error", fwd.error().message()});
      return 1;
    }
    forwarder_ = std::move(*fwd);
  } else {
    TRIB_LOG_WARN(component, "forwarder_off",
                  {"why", "forwarder.enabled is false or forwarder.bootstrap_servers is empty"},
                  {"effect", "readings stay in the buffer"});
  }
  // --- end of forwarder wiring ---

  http_ = std::make_unique<http::server>(*loop_);
  http_->get("/metrics", [this](const http::request&) {
    return http::response{200, std::string(metrics::prometheus_content_type), registry_.render_prometheus()};
  });
  http_->get("/health", [this](const http::request&) {
    config::json j;
    j["status"] = phase_ == phase::serving ? "ok" : (phase_ == phase::starting ? "starting" : "stopping");
    j["gateway"] = cfg_.core.gateway_id;
    j["connections"] = mqtt_ ? mqtt_->connection_count() : 0;
    if (bridge_) j["bridge_connected"] = bridge_->connected();
    const auto b = store_->backlog();
    j["buffer_rows"] = b.rows;
    j["buffer_bytes"] = b.bytes;
    return http::response{phase_ == phase::serving ? 200 : 503, std::string(http::json_content_type),
                          j.dump()};
  });
  if (auto r = http_->listen(cfg_.http_listen); !r) {
    TRIB_LOG_ERROR(component, "http_listen_failed", {"addr", cfg_.http_listen},
                   {"error", r.error().message()});
    return 1;
  }
  TRIB_LOG_INFO(component, "http_listening", {"addr", http_->address()});

  const bool listener = !cfg_.bridge.enabled || cfg_.bridge.mode == gw::bridge::bridge_mode::also;
  if (listener) {
    auto so = cfg_.server;
    so.committer_rows_max = cfg_.committer.queue_rows_max;
    so.committer_bytes_max = cfg_.committer.queue_bytes_max;
    so.wall_clock_ms = unix_now_ms;
    auto srv = gw::mqtt::server::start(*loop_, so, cfg_.core, routes_, *committer_, passwords_, &registry_);
    if (!srv) {
      TRIB_LOG_ERROR(component, "mqtt_listen_failed", {"addr", so.listen}, {"error", srv.error().message()});
      return 1;
    }
    mqtt_ = std::move(*srv);
  } else {
    TRIB_LOG_INFO(component, "mqtt_listener_off", {"why", "bridge.mode is instead"});
  }
  if (cfg_.bridge.enabled) {
    gw::bridge::bridge_options bo;
    bo.committer_rows_max = cfg_.committer.queue_rows_max;
    bo.committer_bytes_max = cfg_.committer.queue_bytes_max;
    bo.close_linger_ms = cfg_.server.close_linger_ms;
    bo.wall_clock_ms = unix_now_ms;
    auto br = gw::bridge::bridge::start(*loop_, cfg_.bridge, bo, cfg_.core, routes_, *committer_, &registry_);
    if (!br) {
      TRIB_LOG_ERROR(component, "bridge_failed", {"error", br.error().message()});
      return 1;
    }
    bridge_ = std::move(*br);
  }
  expire_timer_.emplace(*loop_);
  expire_timer_->start_repeating(cfg_.expire_interval_ms, [this] { expire_round(); });
  phase_ = phase::serving;
  if (forwarder_) forwarder_->start();  // forwarder wiring
  TRIB_LOG_INFO(component, "serving", {"gateway", cfg_.core.gateway_id},
                {"mqtt", mqtt_ ? mqtt_->address() : std::string("off")},
                {"bridge", bridge_ ? cfg_.bridge.broker : std::string("off")}, {"routes", routes_.size()},
                {"version", TRIB_VERSION});

  loop_->run();

  // Teardown, in dependency order: MQTT and bridge (use the committer), committer, worker (drained), store.
  mqtt_.reset();
  bridge_.reset();
  committer_.reset();
  forwarder_.reset();  // forwarder wiring: uses the worker; already stopped unless start-up failed
  if (worker_ && !worker_->stopping()) {
    bool stopped = false;
    worker_->stop(uv::worker::stop_mode::drain, [&] { stopped = true; });
    for (int i = 0; i < 1000 && !stopped; ++i) loop_->run_once();
  }
  worker_.reset();
  http_.reset();
  expire_timer_.reset();
  signals_.reset();
  // From here a reload signal (a late SIGHUP) must not end the process with SIGHUP's default action.
  std::signal(SIGHUP, SIG_IGN);
  store_.reset();
  if (auto r = loop_->close(); !r)
    TRIB_LOG_WARN(component, "loop_close_failed", {"error", r.error().message()});
  TRIB_LOG_INFO(component, "stopped", {"exit_code", 0});
  return 0;
}

// Readings past their time-to-live are deleted on the buffer thread (counted as expired).
void gateway_daemon::expire_round() {
  if (expire_running_ || phase_ != phase::serving) return;
  expire_running_ = true;
  auto* store = store_.get();
  auto more = std::make_shared<bool>(false);
  auto submitted = worker_->submit(
      [store, more] {
        auto r = store->expire(unix_now_ms());
        if (r) *more = r->more;
      },
      [this, more](std::error_code) {
        expire_running_ = false;
        if (*more) expire_round();
      });
  if (!submitted) expire_running_ = false;
}

// SIGHUP, on the loop thread: the routes and the log level are replaced at once (the MQTT core reads
// routes_ by reference, so the next PUBLISH uses the new table); anything else that changed waits for
// a restart, named in the log. A configuration that fails to load changes nothing.
void gateway_daemon::reload() {
  if (source_.file.empty()) {
    TRIB_LOG_WARN(component, "reload_skipped", {"why", "started without --config: nothing to read again"});
    reloads_failed_->inc();
    return;
  }
  auto next = load_configuration(source_);
  if (!next) {
    TRIB_LOG_ERROR(component, "reload_failed", {"file", source_.file}, {"error", next.error()},
                   {"effect", "the running configuration stays"});
    reloads_failed_->inc();
    return;
  }
  const config::json now = (*next)->effective();
  size_t applied = 0;
  size_t restart = 0;
  bool routes_changed = false;
  for (const auto& key : config::changed_keys(running_, now)) {
    if (key == "log.level") {
      log::set_level(*log::parse_level((*next)->cfg.log_level));
      running_["log"]["level"] = now["log"]["level"];
      TRIB_LOG_INFO(component, "reload_applied", {"key", key}, {"value", (*next)->cfg.log_level});
      ++applied;
    } else if (key.starts_with("routes.")) {
      routes_changed = true;
      TRIB_LOG_INFO(component, "reload_applied", {"key", key});
      ++applied;
    } else {
      TRIB_LOG_WARN(component, "reload_needs_restart", {"key", key},
                    {"message", fmt::format("key {} changed; restart to apply", key)});
      ++restart;
    }
  }
  if (routes_changed) {
    routes_ = std::move((*next)->routes);
    running_["routes"] = now["routes"];
  }
  reloads_ok_->inc();
  restart_pending_->set(static_cast<int64_t>(restart));
  TRIB_LOG_INFO(component, "reloaded", {"file", source_.file}, {"applied", applied},
                {"needs_restart", restart}, {"routes", routes_.size()},
                {"log_level", log::level_name(log::current_level())});
}

void gateway_daemon::begin_shutdown(std::string_view why) {
  if (phase_ == phase::stopping) return;
  phase_ = phase::stopping;
  TRIB_LOG_INFO(component, "stopping", {"why", why}, {"connections", mqtt_ ? mqtt_->connection_count() : 0});
  if (expire_timer_) expire_timer_->cancel();
  if (!mqtt_ && !bridge_) {  // still starting: nothing to drain
    loop_->stop();
    return;
  }
  // Nothing new comes in; what is held goes to the committer; every commit completes and is
  // acknowledged (PUBACK to clients, and upstream to the bridge's broker); then connections close.
  if (mqtt_) mqtt_->stop_accepting();
  if (bridge_) bridge_->stop_reading();
  auto finish = [this] {
    http_->close();
    // forwarder wiring: the forwarder's jobs run on the worker, so it stops first.
    auto stop_worker = [this] { worker_->stop(uv::worker::stop_mode::drain, [this] { loop_->stop(); }); };
    if (forwarder_) {
      forwarder_->stop(stop_worker);
    } else {
      stop_worker();
    }
  };
  auto disconnect_bridge = [this, finish] {
    if (bridge_) {
      bridge_->disconnect(finish);
    } else {
      finish();
    }
  };
  auto committed = [this, disconnect_bridge] {
    committer_->close([this, disconnect_bridge] {
      TRIB_LOG_INFO(component, "buffer_committed", {"rows", committer_->stats().committed_rows});
      if (mqtt_) {
        mqtt_->disconnect_all(disconnect_bridge);
      } else {
        disconnect_bridge();
      }
    });
  };
  auto drain_bridge = [this, committed] {
    if (bridge_) {
      bridge_->drain(committed);
    } else {
      committed();
    }
  };
  if (mqtt_) {
    mqtt_->drain(drain_bridge);
  } else {
    drain_bridge();
  }
}

// `passwd FILE USER [--iterations N]`: the password comes from stdin (one line; no echo on a tty).
int run_passwd(int argc, char** argv) {
  CLI::App app{"Add or update a user of a tributary-gateway password file (the password is read from stdin).",
               "tributary-gateway passwd"};
  std::string file;
  std::string user;
  uint32_t iterations = gw::auth::default_iterations;
  app.add_option("FILE", file, "Password file (created with mode 0600 if missing)")->required();
  app.add_option("USER", user, "User name")->required();
  app.add_option("--iterations", iterations, "PBKDF2 iterations")
      ->check(CLI::Range(gw::auth::iterations_min, gw::auth::iterations_max))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (auto bad = gw::auth::check_user_name(user)) {
    std::fprintf(stderr, "tributary-gateway passwd: %s\n", bad->c_str());
    return 2;
  }
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::fprintf(stderr, "Password for %s: ", user.c_str());
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  const bool got = static_cast<bool>(std::getline(std::cin, password)) || !password.empty();
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::fputc('\n', stderr);
  }
  if (!got) {
    std::fprintf(stderr, "tributary-gateway passwd: no password on stdin\n");
    return 2;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() > gw::auth::password_bytes_max) {
    std::fprintf(stderr, "tributary-gateway passwd: the password is longer than %zu bytes\n",
                 gw::auth::password_bytes_max);
    return 2;
  }
  auto text = gw::auth::read_text_file(file, true);
  if (!text) {
    std::fprintf(stderr, "tributary-gateway passwd: %s\n", text.error().c_str());
    return 1;
  }
  if (!text->empty()) {  // refuse to rewrite a file we cannot read back
    if (auto db = gw::auth::password_db::parse(*text, file); !db) {
      std::fprintf(stderr, "tributary-gateway passwd: %s\n", db.error().c_str());
      return 1;
    }
  }
  auto hash = gw::auth::make_hash(password, iterations);
  if (!hash) {
    std::fprintf(stderr, "tributary-gateway passwd: %s\n", hash.error().c_str());
    return 1;
  }
  auto updated = gw::auth::set_user(*text, user, *hash);
  if (!updated) {
    std::fprintf(stderr, "tributary-gateway passwd: %s\n", updated.error().c_str());
    return 2;
  }
  if (auto r = gw::auth::write_file_atomically(file, *updated); !r) {
    std::fprintf(stderr, "tributary-gateway passwd: %s\n", r.error().c_str());
    return 1;
  }
  return 0;
}

// --- forwarder wiring: `dlq list|retry|purge` (gateway/forwarder/dlq_command.h) on the buffer this
// configuration names (--config, --data-dir, --set read as the daemon reads them; or --buffer FILE). ---
int run_dlq(int argc, char** argv) {
  using target = tl::expected<gw::forwarder::dlq_target, std::string>;
  return gw::forwarder::run_dlq_command(argc, argv, [](const gw::forwarder::dlq_location& where) -> target {
    gw::gateway_config cfg;
    gw::forwarder::forwarder_config fwd_cfg;
    config::schema schema;
    gw::declare(schema, cfg);
    gw::forwarder::add_forwarder_config(schema, fwd_cfg);
    if (!where.config_file.empty()) {
      if (auto r = gw::load_config_file(schema, cfg, where.config_file); !r)
        return tl::unexpected(r.error().message);
    }
    if (where.data_dir) {
      if (auto r = schema.set("gateway.data_dir", *where.data_dir, "--data-dir"); !r) {
        return tl::unexpected(r.error().message);
      }
    }
    for (const auto& a : where.sets) {
      if (auto r = schema.set_assignment(a); !r) return tl::unexpected(r.error().message);
    }
    return gw::forwarder::dlq_target{where.buffer_path.value_or(cfg.effective_buffer_path()), cfg.store};
  });
}

}  // namespace

int main(int argc, char** argv) {
  // A client that resets its connection must not kill the gateway: writes fail with EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc >= 2 && std::string_view(argv[1]) == "passwd") return run_passwd(argc - 1, argv + 1);
  if (argc >= 2 && std::string_view(argv[1]) == "dlq")
    return run_dlq(argc - 1, argv + 1);  // forwarder wiring

  CLI::App app{"tributary-gateway: MQTT edge gateway with a durable SQLite buffer (" TRIB_VERSION ")",
               "tributary-gateway"};
  app.footer(
      "Subcommand: tributary-gateway passwd FILE USER [--iterations N]   add or update a user (password on "
      "stdin).\nSubcommand: tributary-gateway dlq list|retry|purge ...   the dead-letter table (see dlq "
      "--help).\n"
      "Every config key: --config-keys. Documented defaults: packaging/config/gateway.json.\n"
      "SIGHUP reloads the config file: routes.* and log.level apply live, other keys need a restart.");
  config_source src;
  bool print_config = false;
  bool config_keys = false;
  app.add_option("--config", src.file,
                 "JSON config file (// comments allowed; see packaging/config/gateway.json)");
  app.add_option("--data-dir", src.data_dir, "Overrides gateway.data_dir (the buffer lives there)");
  app.add_option("--listen", src.listen, "Overrides mqtt.listen (MQTT, numeric host:port)");
  app.add_option("--http", src.http_listen, "Overrides http.listen (/metrics, /health)");
  app.add_option("--set", src.sets,
                 "key=value for any config key (repeatable), e.g. --set buffer.overflow=drop-oldest");
  app.add_flag("--print-config", print_config, "Print the effective configuration as JSON and exit");
  app.add_flag("--config-keys", config_keys, "Print every config key (type, default, description) and exit");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (config_keys) {
    const loaded_config defaults;
    std::fputs(defaults.schema.describe().c_str(), stdout);
    std::fputs(
        "| `routes.rules` | array of {filter, topic, key, priority, ttl_ms} | `[]` | Route rules, tried in "
        "order (file only). |\n"
        "| `bridge.subscriptions` | array of {filter, qos} | `[]` | Topic filters the bridge subscribes to, "
        "with the QoS asked (default 1; file only). |\n",
        stdout);
    return 0;
  }
  auto loaded = load_configuration(src);
  if (!loaded) {
    std::fprintf(stderr, "tributary-gateway: %s\n", loaded.error().c_str());
    return 2;
  }
  const gw::gateway_config& cfg = (*loaded)->cfg;
  if (print_config) {
    std::printf("%s\n", (*loaded)->effective().dump(2).c_str());
    return 0;
  }
  log::set_level(*log::parse_level(cfg.log_level));
  std::shared_ptr<const gw::auth::password_db> passwords;
  if (!cfg.password_file.empty()) {
    auto db = gw::auth::password_db::load(cfg.password_file);
    if (!db) {
      std::fprintf(stderr, "tributary-gateway: auth.password_file: %s\n", db.error().c_str());
      return 2;
    }
    TRIB_LOG_INFO(component, "passwords_loaded", {"file", cfg.password_file}, {"users", db->size()});
    passwords = std::make_shared<const gw::auth::password_db>(std::move(*db));
  }
  // One descriptor per MQTT connection: raise the soft limit towards the hard one if it is short.
  if (rlimit nofile{}; ::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    const rlim_t want = static_cast<rlim_t>(cfg.server.max_connections) + 256;
    if (nofile.rlim_cur < want) {
      nofile.rlim_cur = std::min(want, nofile.rlim_max);
      ::setrlimit(RLIMIT_NOFILE, &nofile);
      if (nofile.rlim_cur < want) {
        TRIB_LOG_WARN(component, "fd_limit_low", {"limit", nofile.rlim_cur},
                      {"max_connections", cfg.server.max_connections},
                      {"hint", "raise the hard RLIMIT_NOFILE (LimitNOFILE= in systemd)"});
      }
    }
  }
  gateway_daemon d(std::move(*loaded), std::move(src), std::move(passwords));
  return d.run();
}
