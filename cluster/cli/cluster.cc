#include "cluster/cli/cluster.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace tributary::cluster::cli {

namespace {

constexpr size_t k_response_bytes_max = 4u << 20;

// A blocking HTTP/1.0 request (GET, or POST without a body) of `path` to "host:port" within
// timeout_ms: the body of a 2xx answer.
outcome<std::string> http_call(const std::string& method, const std::string& address, const std::string& path,
                               int timeout_ms) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size())
    return fail_with(errc::bad_arguments, fmt::format("--admin: \"{}\" is not host:port", address));
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return fail_with(errc::timed_out, fmt::format("{}: {}", address, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(res, ::freeaddrinfo);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto left_ms = [&] {
    auto d =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(0, d.count()));
  };
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail_with(errc::timed_out, fmt::format("{}: socket failed", address));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  auto wait = [&](short events) {
    pollfd p{fd, events, 0};
    return ::poll(&p, 1, left_ms()) == 1;
  };
  if (::connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
    int err = 0;
    socklen_t len = sizeof(err);
    if (errno != EINPROGRESS || !wait(POLLOUT) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0)
      return fail_with(errc::timed_out,
                       fmt::format("{}: cannot connect to the node's admin endpoint", address));
  }
  const std::string req = fmt::format(
      "{} {} HTTP/1.0\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", method, path, address);
  size_t sent = 0;
  while (sent < req.size()) {
    if (!wait(POLLOUT)) return fail_with(errc::timed_out, fmt::format("{}: no answer in time", address));
    ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0 && errno != EAGAIN)
      return fail_with(errc::timed_out, fmt::format("{}: connection lost", address));
    if (n > 0) sent += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[16384];
  for (;;) {
    if (!wait(POLLIN)) return fail_with(errc::timed_out, fmt::format("{}: no answer in time", address));
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EAGAIN) continue;
    if (n <= 0) break;
    resp.append(buf, static_cast<size_t>(n));
    if (resp.size() > k_response_bytes_max)
      return fail_with(errc::partial, fmt::format("{}: answer too large", address));
  }
  const auto head_end = resp.find("\r\n\r\n");
  if (resp.compare(0, 5, "HTTP/") != 0 || head_end == std::string::npos)
    return fail_with(errc::partial, fmt::format("{}: not an HTTP answer", address));
  const auto sp = resp.find(' ');
  const std::string code = resp.substr(sp + 1, 3);
  std::string body = resp.substr(head_end + 4);
  if (code == "404")
    return fail_with(errc::partial,
                     fmt::format("{}{}: not found (is this node part of a cluster? cluster.seeds "
                                 "must be set)",
                                 address, path));
  if (code.front() != '2') {
    auto j = nlohmann::json::parse(body, nullptr, false);
    const std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                                ? j["error"].get<std::string>()
                                : std::string("HTTP ") + code;
    return fail_with(errc::partial, fmt::format("{}{}: {}", address, path, why));
  }
  return body;
}

outcome<void> run_cluster_status(const global_options& global, const std::string& admin) {
  auto j = fetch_cluster_status(admin, global.timeout_ms);
  if (!j) return tl::unexpected(j.error());
  auto text = render_cluster_status(*j, global.json);
  if (!text) return tl::unexpected(text.error());
  write_stdout(*text);
  return {};
}

// Whether the moves for `node` are done: the placement shows every planned move, every partition's
// committed voters are its placed replicas, and (removing) no partition names the node and the node
// is marked removed.
bool moves_done(const nlohmann::json& s, const nlohmann::json& plan, uint64_t node, bool removing) {
  if (!s.contains("leaders") || !s["leaders"].is_array()) return false;
  for (const auto& m : plan.value("moves", nlohmann::json::array())) {
    bool placed = false;
    for (const auto& p : s["leaders"]) {
      if (p.value("topic", "") == m.value("topic", "") &&
          p.value("partition", -1) == m.value("partition", -2))
        placed = p.value("replicas", nlohmann::json::array()) == m.value("replicas", nlohmann::json::array());
    }
    if (!placed) return false;
  }
  for (const auto& p : s["leaders"]) {
    auto replicas = p.value("replicas", nlohmann::json::array()).get<std::vector<uint64_t>>();
    auto voters = p.value("voters", nlohmann::json::array()).get<std::vector<uint64_t>>();
    std::sort(replicas.begin(), replicas.end());
    std::sort(voters.begin(), voters.end());
    if (voters != replicas) return false;
    if (removing && std::find(replicas.begin(), replicas.end(), node) != replicas.end()) return false;
  }
  if (!removing) return true;
  for (const auto& n : s.value("nodes", nlohmann::json::array()))
    if (n.value("node_id", uint64_t{0}) == node) return n.value("removed", false);
  return true;
}

outcome<void> run_node_change(const global_options& global, const std::string& admin, uint64_t node, bool add,
                              int wait_s) {
  const std::string path = fmt::format("/v1/cluster/{}?node={}", add ? "add-node" : "remove-node", node);
  auto body = TRIB_TRY(http_call("POST", admin, path, global.timeout_ms));
  auto plan = nlohmann::json::parse(body, nullptr, false);
  if (plan.is_discarded()) return fail_with(errc::partial, fmt::format("{}{}: not JSON", admin, path));
  const size_t moves = plan.value("moves", nlohmann::json::array()).size();
  if (!global.json)
    write_stdout(
        fmt::format("{} node {}: {} replica moves submitted\n", add ? "adding" : "removing", node, moves));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(wait_s);
  while (wait_s > 0) {
    auto s = fetch_cluster_status(admin, global.timeout_ms);
    if (s && moves_done(*s, plan, node, !add)) {
      write_stdout(global.json ? plan.dump() + "\n"
                               : fmt::format("done: every partition's replicas are its placed ones\n"));
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return fail_with(errc::timed_out,
                       fmt::format("{} node {}: moves not finished after {} s (see cluster status)",
                                   add ? "adding" : "removing", node, wait_s));
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (global.json) write_stdout(plan.dump() + "\n");
  return {};
}

}  // namespace

outcome<nlohmann::json> fetch_cluster_status(const std::string& admin, int timeout_ms) {
  auto body = http_call("GET", admin, "/v1/cluster", timeout_ms);
  if (!body) return tl::unexpected(body.error());
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail_with(errc::partial, fmt::format("{}: /v1/cluster is not JSON", admin));
  return j;
}

outcome<std::string> render_cluster_status(const nlohmann::json& s, bool json) {
  if (json) return s.dump() + "\n";
  try {
    const auto& c = s.at("controller");
    std::string out = fmt::format("controller: leader {} term {} (asked node {}: {}, commit {})\n",
                                  c.at("leader").get<uint64_t>(), c.at("term").get<int64_t>(),
                                  s.at("node_id").get<uint64_t>(), c.at("role").get<std::string>(),
                                  c.at("commit_index").get<int64_t>());
    auto ids = [](const nlohmann::json& a) {
      std::string r;
      for (const auto& v : a) r += (r.empty() ? "" : ",") + std::to_string(v.get<uint64_t>());
      return r.empty() ? std::string("-") : r;
    };
    out += fmt::format("voters: {}  learners: {}\n", ids(c.at("voters")), ids(c.at("learners")));
    out += fmt::format("{:<6} {:<24} {:<24} {}\n", "NODE", "KAFKA", "RPC", "STATE");
    for (const auto& n : s.at("nodes")) {
      const auto id = n.at("node_id").get<uint64_t>();
      std::string state = n.at("removed").get<bool>()     ? "removed"
                          : n.at("connected").get<bool>() ? "up"
                                                          : "unreachable";
      if (id == c.at("leader").get<uint64_t>()) state += " (controller)";
      out += fmt::format("{:<6} {:<24} {:<24} {}\n", id, n.at("kafka").get<std::string>(),
                         n.at("rpc").get<std::string>(), state);
    }
    out += fmt::format("topics: {}\n", s.at("topics").get<uint64_t>());
    return out;
  } catch (const nlohmann::json::exception& e) {
    return fail_with(errc::partial, fmt::format("/v1/cluster: unexpected answer ({})", e.what()));
  }
}

void add_cluster_commands(CLI::App& root, command_fn& chosen) {
  auto admin = std::make_shared<std::string>(k_admin_default);
  CLI::App* cluster = root.add_subcommand("cluster", "The nodes and the controller of a Tributary cluster");
  cluster->require_subcommand(1);
  CLI::App* status =
      cluster->add_subcommand("status", "The controller (leader, term, members) and every node");
  status->add_option("--admin", *admin, "A node's admin HTTP address (its http.listen)")
      ->capture_default_str();
  status->callback([admin, &chosen] {
    chosen = [admin](const global_options& g) { return run_cluster_status(g, *admin); };
  });
  for (const bool add : {true, false}) {
    auto node = std::make_shared<uint64_t>(0);
    auto wait_s = std::make_shared<int>(300);
    CLI::App* cmd = cluster->add_subcommand(
        add ? "add-node" : "remove-node",
        add ? "Move a share of the replicas onto a node that has joined (started with cluster.seeds)"
            : "Move every replica off a node, then mark it removed (stop it afterwards)");
    cmd->add_option("node", *node, "Node id")->required()->check(CLI::Range(uint64_t{1}, uint64_t{1} << 22));
    cmd->add_option("--admin", *admin, "A node's admin HTTP address (its http.listen)")
        ->capture_default_str();
    cmd->add_option("--wait-s", *wait_s, "Wait this long for the moves to finish (0: submit only)")
        ->capture_default_str()
        ->check(CLI::Range(0, 86400));
    cmd->callback([admin, node, wait_s, add, &chosen] {
      chosen = [admin, node, wait_s, add](const global_options& g) {
        return run_node_change(g, *admin, *node, add, *wait_s);
      };
    });
  }
}

}  // namespace tributary::cluster::cli
