// tributary-broker: one node that serves Kafka clients on a durable segment log.
//
//   tributary-broker --config /etc/tributary/broker.json
//   tributary-broker --data-dir /tmp/b1 --listen 127.0.0.1:9092 --http 127.0.0.1:9644
//   tributary-broker --print-config            the effective configuration (every key) as JSON
//   tributary-broker --config-keys             every key with its type, default and description
//
// Defaults: Kafka on 0.0.0.0:9092 (what Kafka users expect; set `listen` to 127.0.0.1:9092 to keep it
// local), advertised as this host's name when bound to a wildcard address (set advertised_listener
// when clients reach the node by another name), HTTP /metrics and /health on 0.0.0.0:9644.
//
// Start-up: HTTP first (/health answers 503 "starting" during recovery), then the partition logs are
// recovered (each partition's recovery is logged), then the Kafka listener opens and /health turns 200.
// SIGHUP: reload the config file (the command line's flags and --set applied over it again). The log
// level applies live; any other changed key is logged by name as needing a restart
// (event=reload_needs_restart). A file that does not load or validate changes nothing.
// SIGTERM/SIGINT: stop accepting and reading requests, one last group commit (acks=-1 waiters get their
// answer), long polls answered at once, connections closed once their answers are written (bounded by
// shutdown.timeout_ms), then every partition is synced and its indexes written (on a worker thread)
// and the process exits 0. A second signal exits at once with status 1. An fdatasync failure shuts the
// node down with status 1 (restart recovers the log).
#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <algorithm>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cluster/broker/broker_config.h"
#include "cluster/broker/broker_service.h"
#include "cluster/broker/flusher.h"
#include "cluster/broker/group_service.h"
#include "cluster/broker/partition_manager.h"
#include "cluster/broker/replica_manager.h"
#include "cluster/controller/service.h"
#include "cluster/kafka/handlers/handlers.h"
#include "cluster/kafka/server.h"
#include "cluster/replication/raft_host.h"
#include "cluster/rpc/transport.h"
#include "common/assert.h"
#include "common/http/server.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/address.h"
#include "common/uv/loop.h"
#include "common/uv/signal_set.h"
#include "common/uv/timer.h"
#include "common/uv/worker.h"

#ifndef TRIB_VERSION
#define TRIB_VERSION "dev"
#endif

namespace {

using namespace tributary;
namespace broker = cluster::broker;
namespace ks = cluster::kafka;

constexpr uint64_t shutdown_poll_ms = 10;
constexpr uint64_t close_linger_bound_ms = 5000;  // after shutdown.timeout_ms, for graceful closes

enum class phase { starting, serving, stopping };

// Where the configuration comes from: the file, then these flags over it. Kept for SIGHUP, which
// reads the file again and applies the same flags, so a flag keeps overriding the file.
struct config_source {
  std::string file;  // "" = the defaults
  std::string data_dir;
  std::string node_id;
  std::string listen;
  std::string http_listen;
  std::vector<std::string> sets;
};

// One complete configuration. The schema binds references to cfg: it never moves.
struct loaded_config {
  broker::broker_config cfg;
  config::schema schema;
  loaded_config() { broker::declare(schema, cfg); }
  loaded_config(const loaded_config&) = delete;
  loaded_config& operator=(const loaded_config&) = delete;
};

// The file, the flags, --set, then the checks across keys. The error is the operator's message.
config::config_result<std::unique_ptr<loaded_config>> load_configuration(const config_source& src) {
  auto lc = std::make_unique<loaded_config>();
  if (!src.file.empty()) {
    if (auto r = lc->schema.load_file(src.file); !r) return tl::unexpected(r.error());
  }
  const std::pair<const char*, const std::string*> flags[] = {{"data_dir", &src.data_dir},
                                                              {"node_id", &src.node_id},
                                                              {"listen", &src.listen},
                                                              {"http.listen", &src.http_listen}};
  const char* flag_names[] = {"--data-dir", "--node-id", "--listen", "--http"};
  for (size_t i = 0; i < std::size(flags); ++i) {
    if (flags[i].second->empty()) continue;
    if (auto r = lc->schema.set(flags[i].first, *flags[i].second, flag_names[i]); !r)
      return tl::unexpected(r.error());
  }
  for (const auto& a : src.sets) {
    if (auto r = lc->schema.set_assignment(a); !r) return tl::unexpected(r.error());
  }
  if (auto r = broker::validate(lc->cfg); !r) return tl::unexpected(r.error());
  return lc;
}

// "host:port" split at the last colon; IPv6 brackets removed.
std::pair<std::string, int32_t> split_host_port(const std::string& s) {
  auto colon = s.rfind(':');
  std::string host = s.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return {host, static_cast<int32_t>(std::stoi(s.substr(colon + 1)))};
}

// The address peers or clients are told: `advertised` when set, else `listen` with this machine's
// host name for a wildcard host and the bound port for port 0.
broker::advertised_address advertised_address_of(const std::string& advertised, const std::string& listen,
                                                 uint16_t bound_port, const char* key) {
  if (!advertised.empty()) {
    auto [host, port] = split_host_port(advertised);
    return {host, port};
  }
  auto [host, port] = split_host_port(listen);
  if (host == "0.0.0.0" || host == "::") {
    char name[256] = {};
    if (::gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') {
      host = name;
    } else {
      host = "127.0.0.1";
    }
    TRIB_LOG_WARN(
        "broker", "advertised_host_guessed", {"host", host},
        {"hint", fmt::format("listening on a wildcard address: set {} to the name others use", key)});
  }
  return {host, port == 0 ? bound_port : port};
}

// The running node: owns every service and drives the shutdown sequence.
class node {
 public:
  node(const loaded_config& lc, config_source source)
      : cfg_(lc.cfg), source_(std::move(source)), running_(lc.schema.effective_json()) {}

  int run();

 private:
  result<void> start_cluster(const std::string& kafka_address);
  void reload();
  void begin_shutdown(int exit_code, std::string_view why);
  void wait_for_answers();
  void wait_for_closes();
  void final_close();

  const broker::broker_config& cfg_;
  config_source source_;
  config::json running_;  // the effective configuration in force (a reload updates what it applies)
  metrics::counter* reloads_ok_ = nullptr;
  metrics::counter* reloads_failed_ = nullptr;
  metrics::gauge* restart_pending_ = nullptr;
  std::unique_ptr<uv::loop> loop_;
  metrics::registry registry_;
  phase phase_ = phase::starting;
  size_t partitions_at_start_ = 0;
  int exit_code_ = 0;
  std::unique_ptr<http::server> http_;
  std::unique_ptr<broker::partition_manager> pm_;
  std::unique_ptr<broker::flusher> flusher_;
  std::unique_ptr<broker::broker_service> svc_;
  std::unique_ptr<broker::group_service> groups_;
  std::unique_ptr<ks::server> kafka_;
  // Cluster mode (cluster.seeds set): the RPC transport, the Raft groups, the controller.
  std::unique_ptr<cluster::rpc::transport> transport_;
  std::unique_ptr<cluster::replication::raft_host> raft_;
  std::unique_ptr<cluster::controller::service> controller_;
  std::unique_ptr<broker::replica_manager> replicas_;
  bool raft_stopped_ = false;
  std::optional<uv::timer> retention_timer_;
  std::optional<uv::timer> shutdown_timer_;
  std::optional<uv::signal_set> signals_;
  std::optional<uv::worker> closer_;
  int64_t shutdown_deadline_ms_ = 0;
};

result<void> node::start_cluster(const std::string& kafka_address) {
  namespace rpc = cluster::rpc;
  auto seeds = broker::parse_seeds(cfg_.cluster.seeds);
  TRIB_ASSERT(seeds.has_value(), "validated at start");
  const cluster::raft::node_id self{static_cast<uint64_t>(cfg_.node_id)};
  rpc::transport_options to;
  to.self = self;
  to.cluster_id = cfg_.cluster.id;
  to.seed = static_cast<uint64_t>(cfg_.node_id) * 7919 + static_cast<uint64_t>(::getpid());
  rpc::transport::callbacks cb;
  cb.on_raft = [this](cluster::raft::node_id, rpc::raft_batch&& b) {
    if (raft_) raft_->receive(std::move(b));
  };
  cb.on_request = [this](cluster::raft::node_id, rpc::request&& q, rpc::transport::reply_fn reply) {
    if (q.api == rpc::api::controller_command && controller_)
      return controller_->handle_request(std::move(q), reply);
    if (q.api == rpc::api::leader_report && replicas_) return replicas_->handle_report(std::move(q), reply);
    reply(rpc::response{0, -1, "unknown api", {}});
  };
  transport_ = std::make_unique<rpc::transport>(*loop_, to, std::move(cb));
  TRIB_TRY_VOID(transport_->listen(cfg_.cluster.listen));
  const auto rpc_advertised = advertised_address_of(cfg_.cluster.advertised_listener, cfg_.cluster.listen,
                                                    transport_->port(), "cluster.advertised_listener");
  cluster::replication::host_options ho;
  ho.self = self;
  ho.tick_ms = cfg_.cluster.tick_ms;
  ho.election_ticks = static_cast<int>(cfg_.cluster.election_ticks);
  ho.random_seed = to.seed;
  ho.wall_now_ms = [] { return broker::broker_service::wall_now_ms(); };
  raft_ = TRIB_TRY(cluster::replication::raft_host::create(
      *loop_, *transport_, ho, [this](std::error_code) { begin_shutdown(1, "raft log write failed"); }));
  cluster::controller::service_options co;
  co.self = self;
  co.kafka_address = kafka_address;
  co.rpc_address = fmt::format("{}:{}", rpc_advertised.host, rpc_advertised.port);
  for (const auto& sd : *seeds)
    co.seeds.push_back({cluster::raft::node_id{static_cast<uint64_t>(sd.node_id)}, sd.address});
  co.dir = std::filesystem::path(cfg_.data_dir) / "__cluster_metadata-0";
  co.wall_now_ms = ho.wall_now_ms;
  controller_ = TRIB_TRY(cluster::controller::service::open(*loop_, *transport_, *raft_, co,
                                                            broker::broker_service::wall_now_ms()));
  pm_->set_producer_id_node(cfg_.node_id);
  replicas_ = std::make_unique<broker::replica_manager>(*loop_, *pm_, *svc_, *raft_, *controller_,
                                                        *transport_, broker::replica_manager_options{});
  controller_->set_on_change([this] { replicas_->reconcile(); });
  replicas_->reconcile();
  svc_->set_cluster(replicas_.get());
  http_->get("/v1/cluster", [this](const http::request&) {
    auto j = controller_->status();
    j["partitions"] = replicas_->status();
    j["leaders"] = replicas_->leaders();
    return http::response{200, std::string(http::json_content_type), j.dump()};
  });
  // Operator requests: POST /v1/cluster/add-node?node=N and /v1/cluster/remove-node?node=N.
  auto node_request = [this](const http::request& req, bool add) {
    uint64_t id = 0;
    const std::string_view q = req.query;
    const bool ok = q.starts_with("node=") &&
                    std::from_chars(q.data() + 5, q.data() + q.size(), id).ptr == q.data() + q.size() &&
                    id > 0;
    if (!ok) {
      return http::response{400, std::string(http::json_content_type),
                            nlohmann::json{{"error", "expected ?node=<id>"}}.dump()};
    }
    auto r = add ? replicas_->add_node(cluster::raft::node_id{id})
                 : replicas_->remove_node(cluster::raft::node_id{id});
    if (!r) {
      return http::response{409, std::string(http::json_content_type),
                            nlohmann::json{{"error", r.error().message()}}.dump()};
    }
    return http::response{202, std::string(http::json_content_type), r->dump()};
  };
  http_->post("/v1/cluster/add-node",
              [node_request](const http::request& req) { return node_request(req, true); });
  http_->post("/v1/cluster/remove-node",
              [node_request](const http::request& req) { return node_request(req, false); });
  TRIB_LOG_INFO(
      "broker", "cluster_started", {"node_id", cfg_.node_id}, {"cluster", cfg_.cluster.id},
      {"rpc", transport_->address()}, {"rpc_advertised", co.rpc_address}, {"seeds", cfg_.cluster.seeds},
      {"controller_voter",
       std::any_of(co.seeds.begin(), co.seeds.end(), [&](const auto& sd) { return sd.id == self; })});
  return {};
}

int node::run() {
  auto l = uv::loop::create();
  if (!l) {
    TRIB_LOG_ERROR("broker", "loop_failed", {"error", l.error().message()});
    return 1;
  }
  loop_ = std::move(*l);

  // Signals first, so that a SIGTERM during recovery is not lost (handled once the loop runs).
  constexpr std::string_view reloads_help = "Configuration reloads (SIGHUP), by result.";
  reloads_ok_ =
      &registry_.add_counter("tributary_broker_config_reloads_total", reloads_help, {{"result", "ok"}});
  reloads_failed_ =
      &registry_.add_counter("tributary_broker_config_reloads_total", reloads_help, {{"result", "failed"}});
  restart_pending_ = &registry_.add_gauge(
      "tributary_broker_config_restart_pending_keys",
      "Keys whose value in the config file differs from the running one and needs a restart (last reload).");
  auto sigs = uv::signal_set::create(*loop_, {SIGTERM, SIGINT, SIGHUP}, [this](int signum) {
    if (signum == SIGHUP) {
      if (phase_ == phase::serving) reload();
      return;
    }
    if (phase_ == phase::stopping) {
      TRIB_LOG_WARN("broker", "second_signal", {"signal", signum}, {"effect", "exit now"});
      std::_Exit(1);
    }
    begin_shutdown(0, signum == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  if (!sigs) {
    TRIB_LOG_ERROR("broker", "signals_failed", {"error", sigs.error().message()});
    return 1;
  }
  signals_.emplace(std::move(*sigs));

  http_ = std::make_unique<http::server>(*loop_);
  http_->get("/health", [this](const http::request&) {
    nlohmann::json j;
    j["status"] = phase_ == phase::serving ? "ok" : phase_ == phase::starting ? "starting" : "stopping";
    j["node_id"] = cfg_.node_id;
    j["partitions"] = phase_ == phase::serving && svc_ ? svc_->partition_count() : partitions_at_start_;
    return http::response{phase_ == phase::serving ? 200 : 503, std::string(http::json_content_type),
                          j.dump()};
  });
  http_->get("/metrics", [this](const http::request&) {
    if (phase_ == phase::serving && svc_) svc_->refresh_gauges();
    return http::response{200, std::string(http::prometheus_content_type), registry_.render_prometheus()};
  });
  if (auto r = http_->listen(cfg_.http_listen); !r) {
    TRIB_LOG_ERROR("broker", "http_listen_failed", {"address", cfg_.http_listen},
                   {"error", r.error().message()});
    return 1;
  }

  TRIB_LOG_INFO("broker", "recovering", {"data_dir", cfg_.data_dir},
                {"verify_on_start", cfg_.log.verify_on_start});
  auto pm = broker::partition_manager::open(cfg_.data_dir, broker::to_log_defaults(cfg_),
                                            broker::broker_service::wall_now_ms());
  if (!pm) {
    TRIB_LOG_ERROR("broker", "data_dir_failed", {"data_dir", cfg_.data_dir}, {"error", pm.error().message()});
    return 1;
  }
  pm_ = std::move(*pm);
  for (auto* p : pm_->all_partitions()) {
    const auto& rec = p->log().recovery();
    TRIB_LOG_INFO("broker", "partition_recovered", {"topic", p->topic()}, {"partition", p->id()},
                  {"segments", rec.segments}, {"bytes", rec.bytes}, {"bytes_cut", rec.bytes_cut},
                  {"damaged_segments", rec.problems.size()}, {"log_start", p->log().start_offset().value},
                  {"log_end", p->log().end_offset().value});
  }
  partitions_at_start_ = pm_->all_partitions().size();
  auto cluster_id = broker::load_or_create_cluster_id(cfg_.data_dir);
  if (!cluster_id) {
    TRIB_LOG_ERROR("broker", "cluster_id_failed", {"error", cluster_id.error().message()});
    return 1;
  }

  auto fl = broker::flusher::start(
      *loop_, {cfg_.flush.mode, cfg_.flush.interval_ms}, &registry_,
      [this](broker::partition& p) {
        if (svc_) svc_->durable_advanced(p);
      },
      [this](broker::partition& p, std::error_code) {
        if (svc_) svc_->storage_failure(p);
        begin_shutdown(1, "fdatasync failed");
      });
  if (!fl) {
    TRIB_LOG_ERROR("broker", "flusher_failed", {"error", fl.error().message()});
    return 1;
  }
  flusher_ = std::move(*fl);

  // The advertised address is set once the listener is bound (listening on port 0 needs the port
  // the kernel gave); nothing is served before that.
  // A cluster's nodes name the cluster alike in Metadata: its configured id.
  if (!cfg_.cluster.seeds.empty()) *cluster_id = cfg_.cluster.id;
  svc_ = std::make_unique<broker::broker_service>(*loop_, cfg_, *pm_, *flusher_, registry_, *cluster_id,
                                                  broker::advertised_address{});
  // The group coordinator: replays __consumer_offsets before anything is served.
  groups_ = std::make_unique<broker::group_service>(*loop_, cfg_, *svc_, registry_,
                                                    broker::random_topic_id().substr(0, 8));
  if (auto r = groups_->load(); !r) {
    TRIB_LOG_ERROR("broker", "groups_load_failed", {"error", r.error().message()});
    return 1;
  }
  svc_->set_groups(groups_.get());
  kafka_ = std::make_unique<ks::server>(*loop_, *svc_, registry_);
  if (auto r = kafka_->listen(cfg_.listen); !r) {
    TRIB_LOG_ERROR("broker", "kafka_listen_failed", {"address", cfg_.listen}, {"error", r.error().message()});
    return 1;
  }
  const auto advertised =
      advertised_address_of(cfg_.advertised_listener, cfg_.listen, kafka_->port(), "advertised_listener");
  svc_->set_advertised(advertised);
  if (!cfg_.cluster.seeds.empty()) {
    if (auto r = start_cluster(fmt::format("{}:{}", advertised.host, advertised.port)); !r) {
      TRIB_LOG_ERROR("broker", "cluster_start_failed", {"error", r.error().message()});
      return 1;
    }
  }

  retention_timer_.emplace(*loop_);
  retention_timer_->start_repeating(cfg_.retention_check_interval_ms, [this] {
    if (phase_ != phase::serving) return;
    if (size_t n = svc_->apply_retention(); n > 0)
      TRIB_LOG_INFO("broker", "retention", {"segments_deleted", n});
  });

  std::string apis;
  for (const auto& h : ks::handler_list()) {
    const auto* api = tributary::kafka::protocol::find_api(h.key);
    apis += fmt::format("{}{}:{}-{}", apis.empty() ? "" : ",", api ? api->name : "?", h.min_version,
                        h.max_version);
  }
  TRIB_LOG_INFO("broker", "listening", {"kafka", kafka_->address()}, {"http", http_->address()},
                {"advertised", fmt::format("{}:{}", advertised.host, advertised.port)},
                {"node_id", cfg_.node_id}, {"cluster_id", *cluster_id}, {"partitions", partitions_at_start_},
                {"flush_mode", cfg_.flush.mode == broker::flush_mode::sync ? "sync" : "interval"},
                {"apis", apis});
  phase_ = phase::serving;

  loop_->run();

  // The loop stopped (final_close): tear down in dependency order, then close the loop's handles.
  if (svc_) svc_->set_cluster(nullptr);
  replicas_.reset();
  controller_.reset();
  raft_.reset();
  transport_.reset();
  kafka_.reset();
  if (svc_) svc_->set_groups(nullptr);
  groups_.reset();
  svc_.reset();
  flusher_.reset();
  retention_timer_.reset();
  shutdown_timer_.reset();
  closer_.reset();
  signals_.reset();
  // From here a reload signal (a late SIGHUP) must not end the process with SIGHUP's default action.
  std::signal(SIGHUP, SIG_IGN);
  if (http_) http_->close();
  http_.reset();
  pm_.reset();
  if (auto r = loop_->close(); !r)
    TRIB_LOG_WARN("broker", "loop_close_failed", {"error", r.error().message()});
  TRIB_LOG_INFO("broker", "stopped", {"exit_code", exit_code_});
  return exit_code_;
}

// SIGHUP, on the loop thread: the log level applies at once; any other changed key is named as
// needing a restart. A configuration that fails to load changes nothing.
void node::reload() {
  if (source_.file.empty()) {
    TRIB_LOG_WARN("broker", "reload_skipped", {"why", "started without --config: nothing to read again"});
    reloads_failed_->inc();
    return;
  }
  auto next = load_configuration(source_);
  if (!next) {
    TRIB_LOG_ERROR("broker", "reload_failed", {"file", source_.file}, {"error", next.error().message},
                   {"effect", "the running configuration stays"});
    reloads_failed_->inc();
    return;
  }
  const config::json now = (*next)->schema.effective_json();
  size_t applied = 0;
  size_t restart = 0;
  for (const auto& key : config::changed_keys(running_, now)) {
    if (key == "log_level") {
      log::set_level(*log::parse_level((*next)->cfg.log_level));
      running_["log_level"] = now["log_level"];
      TRIB_LOG_INFO("broker", "reload_applied", {"key", key}, {"value", (*next)->cfg.log_level});
      ++applied;
    } else {
      TRIB_LOG_WARN("broker", "reload_needs_restart", {"key", key},
                    {"message", fmt::format("key {} changed; restart to apply", key)});
      ++restart;
    }
  }
  reloads_ok_->inc();
  restart_pending_->set(static_cast<int64_t>(restart));
  TRIB_LOG_INFO("broker", "reloaded", {"file", source_.file}, {"applied", applied},
                {"needs_restart", restart}, {"log_level", log::level_name(log::current_level())});
}

void node::begin_shutdown(int exit_code, std::string_view why) {
  if (phase_ == phase::stopping) {
    exit_code_ = std::max(exit_code_, exit_code);
    return;
  }
  const bool serving = phase_ == phase::serving;
  phase_ = phase::stopping;
  exit_code_ = exit_code;
  TRIB_LOG_INFO("broker", "shutting_down", {"reason", why}, {"in_flight", kafka_ ? kafka_->in_flight() : 0});
  if (!serving || !kafka_) {  // a signal during start-up: nothing is served yet
    loop_->stop();
    return;
  }
  if (retention_timer_) retention_timer_->cancel();
  kafka_->stop_accepting();
  kafka_->stop_reading();
  if (groups_) groups_->shutdown();  // parked JoinGroup/SyncGroup answer now
  shutdown_deadline_ms_ = static_cast<int64_t>(loop_->now_ms() + cfg_.shutdown_timeout_ms);
  // One last group commit for whatever was appended, then every parked request answers now (produce
  // waiters find their batches durable, long polls answer with what there is).
  flusher_->flush([this] {
    svc_->wake_all_waiters();
    wait_for_answers();
  });
}

void node::wait_for_answers() {
  if (kafka_->in_flight() == 0 || static_cast<int64_t>(loop_->now_ms()) >= shutdown_deadline_ms_) {
    if (kafka_->in_flight() > 0)
      TRIB_LOG_WARN("broker", "shutdown_unanswered", {"requests", kafka_->in_flight()});
    kafka_->close_all();
    shutdown_deadline_ms_ = static_cast<int64_t>(loop_->now_ms() + close_linger_bound_ms);
    wait_for_closes();
    return;
  }
  svc_->wake_all_waiters();  // requests parked since (none are read any more, but be sure)
  if (!shutdown_timer_) shutdown_timer_.emplace(*loop_);
  shutdown_timer_->start(shutdown_poll_ms, [this] { wait_for_answers(); });
}

void node::wait_for_closes() {
  if (kafka_->connection_count() == 0 || static_cast<int64_t>(loop_->now_ms()) >= shutdown_deadline_ms_) {
    final_close();
    return;
  }
  if (!shutdown_timer_) shutdown_timer_.emplace(*loop_);
  shutdown_timer_->start(shutdown_poll_ms, [this] { wait_for_closes(); });
}

// Every partition synced and its indexes written, on a worker thread (never fsync on the loop); the
// loop touches no partition meanwhile (no connections, no timers, /metrics does not read them).
void node::final_close() {
  if (controller_) controller_->shutdown();
  if (raft_ && !raft_stopped_) {
    // No Raft round may be in flight on its worker when the logs close.
    raft_stopped_ = true;
    raft_->stop([this] {
      if (transport_) transport_->close();
      final_close();
    });
    return;
  }
  flusher_->stop([this] {
    auto w = uv::worker::start(*loop_, {.max_in_flight_jobs = 1, .name = "trib-close"});
    if (!w) {
      TRIB_LOG_ERROR("broker", "close_worker_failed", {"error", w.error().message()});
      exit_code_ = 1;
      loop_->stop();
      return;
    }
    closer_.emplace(std::move(*w));
    auto ok = std::make_shared<bool>(false);
    broker::partition_manager* pm = pm_.get();
    auto submitted =
        closer_->submit([pm, ok] { *ok = pm->close().has_value(); },
                        [this, ok](std::error_code ec) {
                          if (ec || !*ok) {
                            TRIB_LOG_ERROR("broker", "close_failed", {"error", ec ? ec.message() : "sync"});
                            exit_code_ = 1;
                          } else {
                            TRIB_LOG_INFO("broker", "partitions_closed");
                          }
                          loop_->stop();
                        });
    if (!submitted) {
      exit_code_ = 1;
      loop_->stop();
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tributary-broker " TRIB_VERSION ": one node of the Tributary cluster, serving Kafka clients"};
  config_source src;
  bool print_config = false;
  bool config_keys = false;
  app.add_option("--config", src.file,
                 "JSON config file (// comments allowed; see packaging/config/broker.json)");
  app.add_option("--data-dir", src.data_dir, "Overrides data_dir");
  app.add_option("--node-id", src.node_id, "Overrides node_id");
  app.add_option("--listen", src.listen, "Overrides listen (Kafka, numeric host:port)");
  app.add_option("--http", src.http_listen, "Overrides http.listen (/metrics, /health)");
  app.add_option("--set", src.sets,
                 "key=value for any config key (repeatable), e.g. --set flush.mode=interval");
  app.add_flag("--print-config", print_config, "Print the effective configuration as JSON and exit");
  app.add_flag("--config-keys", config_keys, "Print every config key (type, default, description) and exit");
  app.footer("SIGHUP reloads the config file: log_level applies live, other keys need a restart.");
  CLI11_PARSE(app, argc, argv);

  if (config_keys) {
    const loaded_config defaults;
    std::fputs(defaults.schema.describe().c_str(), stdout);
    return 0;
  }
  auto loaded = load_configuration(src);
  if (!loaded) {
    std::fprintf(stderr, "tributary-broker: %s\n", loaded.error().message.c_str());
    return 2;
  }
  const broker::broker_config& cfg = (*loaded)->cfg;
  if (print_config) {
    std::printf("%s\n", (*loaded)->schema.effective_json().dump(2).c_str());
    return 0;
  }
  log::set_level(*log::parse_level(cfg.log_level));
  TRIB_LOG_INFO("broker", "starting", {"version", TRIB_VERSION},
                {"config", src.file.empty() ? "(defaults)" : src.file}, {"data_dir", cfg.data_dir},
                {"node_id", cfg.node_id});
  std::signal(SIGPIPE, SIG_IGN);
  node n(**loaded, std::move(src));
  return n.run();
}
