// Crash test: a child appends readings through the group committer and prints each acknowledged
// seq; it is killed with SIGKILL at a random moment (during open, schema creation or commits); the
// database is reopened and every acknowledged seq must be there with its payload, and the sequence
// must never go back. Repeated on the same file, so each run also recovers the previous crash.
// The seed is printed; TRIB_SEED=<n> replays a run.
//
// SIGKILL tests the process dying, not the machine: data in the OS page cache survives it. Power
// loss needs synchronous=full and a VFS that drops unsynced writes: tests/unit/gateway_buffer/
// power_loss_test.cc.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/log.h"
#include "gateway/buffer/buffer_store.h"

using namespace tributary;
using namespace tributary::gateway::buffer;

namespace {

constexpr int iterations = 8;
constexpr int kill_after_ms_max = 700;
constexpr int child_seconds_max = 20;  // the child stops by itself if the kill never comes

struct ack {
  int64_t seq;
  int run;
  uint64_t idx;
};

struct child_result {
  std::vector<ack> acks;
  int status = 0;
};

child_result run_child(const std::string& db, int run, int kill_after_ms, const std::string& stderr_path) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], 1);
    int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::string r = std::to_string(run), secs = std::to_string(child_seconds_max);
    ::execl(TRIB_CRASH_CHILD, TRIB_CRASH_CHILD, db.c_str(), r.c_str(), secs.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kill_after_ms);
  bool eof = false;
  // Read while the child runs (so it never blocks on a full pipe), until the kill moment.
  while (!eof) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0) {
      eof = true;
      break;
    }
    out.append(buf, static_cast<size_t>(got));
  }
  ::kill(pid, SIGKILL);  // the child is ours; it may have exited already (then this is a no-op)
  child_result res;
  REQUIRE(::waitpid(pid, &res.status, 0) == pid);
  // Everything the child wrote before it died is in the pipe.
  for (;;) {
    ssize_t got = ::read(fds[0], buf, sizeof buf);
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
  }
  ::close(fds[0]);
  std::istringstream lines(out);
  ack a{};
  while (lines >> a.seq >> a.run >> a.idx) res.acks.push_back(a);
  bool whole_lines = out.empty() || out.back() == '\n';
  REQUIRE_MESSAGE(whole_lines, "a line was torn: lines are single writes");
  return res;
}

}  // namespace

TEST_CASE("fault: every acknowledged reading survives kill -9 of the gateway") {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("TRIB_SEED")) seed = std::strtoull(s, nullptr, 10);
  MESSAGE("seed " << seed << " (TRIB_SEED=" << seed << " replays it)");
  std::mt19937_64 rng(seed);
  log::set_level(log::level::warn);

  std::string tmpl = (std::filesystem::temp_directory_path() / "trib-buffer-crash-XXXXXX").string();
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  const std::string dir = tmpl;
  struct remove_dir {
    std::string path;
    ~remove_dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  } cleanup{dir};
  const std::string db = dir + "/buffer.db";
  const std::string child_log = dir + "/child.stderr";

  std::vector<ack> all;
  int killed = 0;
  int64_t floor_seq = 0;  // every seq of the next run must be above it
  for (int run = 0; run < iterations; ++run) {
    int kill_after = std::uniform_int_distribution<int>(0, kill_after_ms_max)(rng);
    auto res = run_child(db, run, kill_after, child_log);
    INFO("run " << run << " killed after " << kill_after << " ms, " << res.acks.size() << " acks");
    bool was_killed = WIFSIGNALED(res.status) && WTERMSIG(res.status) == SIGKILL;
    bool exited_ok = WIFEXITED(res.status) && WEXITSTATUS(res.status) == 0;
    bool child_ok = was_killed || exited_ok;
    CHECK_MESSAGE(child_ok, "the child failed on its own, see " << child_log);
    killed += was_killed ? 1 : 0;

    int64_t last = floor_seq;
    for (const auto& a : res.acks) {
      CHECK(a.run == run);
      CHECK(a.seq > last);  // acknowledged in seq order, above everything of earlier runs
      last = a.seq;
    }
    all.insert(all.end(), res.acks.begin(), res.acks.end());

    auto store = buffer_store::open(db, {});
    REQUIRE_MESSAGE(store, "reopen after a crash failed: " << (store ? "" : store.error().message()));
    size_t missing = 0;
    for (const auto& a : all) {
      auto row = (*store)->find(gateway_seq(a.seq));
      REQUIRE(row);
      if (!row->has_value()) {
        ++missing;
        continue;
      }
      std::string payload((*row)->r.payload.begin(), (*row)->r.payload.end());
      std::string want = "run=" + std::to_string(a.run) + " idx=" + std::to_string(a.idx) + " ";
      CHECK(payload.rfind(want, 0) == 0);
    }
    CHECK_MESSAGE(missing == 0, missing << " acknowledged readings lost");
    auto b = (*store)->backlog();
    CHECK(b.rows >= all.size());
    floor_seq = b.next_seq.value - 1;
  }
  MESSAGE(all.size() << " acknowledged readings checked over " << iterations << " runs, " << killed
                     << " killed mid-flight");
  CHECK(!all.empty());  // the test must have exercised something
  CHECK(killed > 0);
}
