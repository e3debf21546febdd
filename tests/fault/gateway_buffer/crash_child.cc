// gateway_buffer_crash_child <db> <run> <seconds_max>: appends readings through the group committer
// as fast as it can (a window of outstanding submits) and prints "<seq> <run> <idx>\n" to stdout with
// one write(2) as soon as each completion runs, i.e. as soon as the gateway would send the PUBACK.
// The payload of reading idx is "run=<run> idx=<idx> " padded to 100 bytes. The parent test kills
// it with SIGKILL at a random moment and checks that every printed seq is on disk.
// Exit codes: 0 seconds_max reached, 2 usage, 3 open failed, 4 a commit failed, 5 submit failed.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "common/log.h"
#include "common/uv/loop.h"
#include "common/uv/worker.h"
#include "gateway/buffer/group_committer.h"

using namespace tributary;
using namespace tributary::gateway::buffer;

namespace {

constexpr int window = 256;
constexpr size_t payload_bytes = 100;

void write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) ::_exit(6);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s <db> <run> <seconds_max>\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  const int run = std::atoi(argv[2]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[3]));
  log::set_level(log::level::warn);

  auto loop = uv::loop::create();
  if (!loop) return 3;
  auto worker = uv::worker::start(**loop, {64, "buffer"});
  if (!worker) return 3;
  store_options so;
  so.synchronous = synchronous_mode::full;
  so.quota_bytes = 4ull << 30;
  auto store = buffer_store::open(path, so);
  if (!store) return 3;
  auto committer = group_committer::create(**loop, *worker, **store, {});
  if (!committer) return 3;

  uint64_t next_idx = 0;
  std::function<void()> submit_one = [&] {
    uint64_t idx = next_idx++;
    reading r;
    r.receive_ms = static_cast<int64_t>(idx);
    r.topic = "telemetry";
    std::string key = "dev-" + std::to_string(idx % 16);
    r.key.emplace(key.begin(), key.end());
    std::string payload = "run=" + std::to_string(run) + " idx=" + std::to_string(idx) + " ";
    payload.resize(payload_bytes, 'p');
    r.payload.assign(payload.begin(), payload.end());
    auto ok = (*committer)->submit(std::move(r), [&, idx](result<gateway_seq> seq) {
      if (!seq) {
        std::fprintf(stderr, "commit failed: %s\n", seq.error().message().c_str());
        ::_exit(4);
      }
      char line[64];
      int n = std::snprintf(line, sizeof line, "%lld %d %llu\n", static_cast<long long>(seq->value), run,
                            static_cast<unsigned long long>(idx));
      write_all(1, line, static_cast<size_t>(n));
      if (std::chrono::steady_clock::now() > deadline) ::_exit(0);
      submit_one();
    });
    if (!ok) {
      std::fprintf(stderr, "submit failed: %s\n", ok.error().message().c_str());
      ::_exit(5);
    }
  };
  for (int i = 0; i < window; ++i) submit_one();
  (*loop)->run();
  return 0;
}
