#include "cluster/cli/cluster.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

namespace tributary::cluster::cli {

namespace {

constexpr size_t k_response_bytes_max = 4u << 20;

// A blocking HTTP/1.0 GET of `path` from "host:port" within timeout_ms: the body of a 200 answer.
outcome<std::string> http_get(const std::string& address, const std::string& path, int timeout_ms) {
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
  const std::string req =
      fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\nConnection: close\r\n\r\n", path, address);
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
  if (code != "200") return fail_with(errc::partial, fmt::format("{}{}: HTTP {}", address, path, code));
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

}  // namespace

outcome<nlohmann::json> fetch_cluster_status(const std::string& admin, int timeout_ms) {
  auto body = http_get(admin, "/v1/cluster", timeout_ms);
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
}

}  // namespace tributary::cluster::cli
