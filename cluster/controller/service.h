#pragma once
// The controller on one node: Raft group 0 over the seed nodes, hosted by the node's raft_host, with
// the metadata (metadata.h) as its state machine. Every node applies the committed commands, so
// every node knows the nodes, topics and replicas; the seeds vote, other nodes follow as learners.
//
// Group 0's log is a segment log like a partition's (`<data_dir>/__cluster_metadata-0/`): each
// command is one record of one batch, its value the command's JSON.
//
// Commands reach the leader from anywhere: submit() proposes on the leader, or forwards to it over
// RPC (api::controller_command); the callback gets the command's outcome once it is applied, or
// an error to retry (no leader, leadership lost, the call failed).
//
// A node registers itself (its Kafka and RPC addresses) once a leader is known, and again when its
// addresses change; the leader adds a registered node that is not in group 0 as a learner. A node
// an operator removed while it runs stays removed until it restarts.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cluster/controller/metadata.h"
#include "cluster/replication/raft_host.h"
#include "cluster/rpc/transport.h"
#include "common/uv/timer.h"

namespace tributary::cluster::controller {

enum class service_errc {
  no_leader = 1,    // no controller leader known right now (an election is under way)
  leadership_lost,  // the proposal may or may not commit: retry (commands are idempotent or fail clearly)
  forward_failed,   // the call to the leader failed
  shutting_down,
};
inline std::error_code make_error_code(service_errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::controller

template <>
struct tributary::errc_info<tributary::cluster::controller::service_errc> {
  static constexpr const char* name = "controller_service";
  static const char* message(tributary::cluster::controller::service_errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::controller::service_errc> : std::true_type {};

namespace tributary::cluster::controller {

struct seed {
  node_id id;
  std::string rpc_address;
};

struct service_options {
  node_id self;
  std::string kafka_address;  // advertised to clients
  std::string rpc_address;    // advertised to peers
  std::vector<seed> seeds;    // group 0's voters (this node among them or not)
  std::filesystem::path dir;  // group 0's log
  uint64_t register_retry_ms = 500;
  std::function<int64_t()> wall_now_ms;
};

class service {
 public:
  static result<std::unique_ptr<service>> open(uv::loop& l, rpc::transport& t, replication::raft_host& host,
                                               service_options options, int64_t now_ms);
  ~service();

  void submit(const command& c, std::function<void(result<void>)> done);
  // The transport's on_request for api::controller_command.
  void handle_request(rpc::request&& req, rpc::transport::reply_fn reply);

  const metadata& state() const { return state_; }
  node_id leader() const;
  bool is_leader() const;
  bool registered() const { return registered_; }
  // For /v1/cluster and `tributary cluster status`.
  nlohmann::json status() const;
  // Called after every applied command (e.g. to tell the transport new peer addresses).
  void set_on_change(std::function<void()> f) { on_change_ = std::move(f); }

  void shutdown();

 private:
  service(uv::loop& l, rpc::transport& t, replication::raft_host& host, service_options options);
  void apply(const std::vector<raft::entry>& entries);
  void after_round();
  void try_register();
  void add_learners();
  void fail_pending(service_errc why);

  struct pending {
    raft::term term;
    std::function<void(result<void>)> done;
  };

  uv::loop& loop_;
  rpc::transport& transport_;
  replication::raft_host& host_;
  service_options opt_;
  replication::hosted_group* group_ = nullptr;
  metadata state_;
  std::map<raft::log_index, pending> pending_;  // by entry index, on the leader
  uv::timer register_timer_;
  bool registered_ = false;
  bool removed_ = false;  // removed by an operator while this process runs
  bool registering_ = false;
  bool shutting_down_ = false;
  node_id last_leader_;
  node_id leader_hint_;   // the leader a seed named, for a node that knows none itself
  size_t next_seed_ = 0;  // the seed to ask next
  std::function<void()> on_change_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace tributary::cluster::controller
