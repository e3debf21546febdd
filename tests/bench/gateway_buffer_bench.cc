// gateway_buffer_bench: figures for the gateway buffer (tests/bench/gateway_buffer_bench.sh runs it).
//   gateway_buffer_bench fsync <dir> <seconds>
//       write(4 KiB) + fdatasync in a loop on a file in <dir>: the disk's commit ceiling.
//   gateway_buffer_bench single <dir> <off|normal|full|extra> <seconds> <payload_bytes>
//       buffer_store::append_batch with one reading per transaction (no group commit).
//   gateway_buffer_bench group <dir> <off|normal|full|extra> <seconds> <payload_bytes> <window>
//       group_committer with <window> readings always outstanding (many clients publishing).
// Prints one line of key=value figures. Never asserts a time.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "common/log.h"
#include "common/uv/loop.h"
#include "common/uv/worker.h"
#include "gateway/buffer/group_committer.h"

using namespace tributary;
using namespace tributary::gateway::buffer;
using clock_type = std::chrono::steady_clock;

namespace {

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

reading make(size_t payload_bytes, uint64_t i) {
  reading r;
  r.receive_ms = static_cast<int64_t>(i);
  r.topic = "telemetry";
  std::string key = "dev-" + std::to_string(i % 1000);
  r.key.emplace(key.begin(), key.end());
  r.payload.assign(payload_bytes, static_cast<uint8_t>('a' + i % 26));
  return r;
}

int bench_fsync(const std::string& dir, double seconds) {
  std::string path = dir + "/fsync.bench";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
  if (fd < 0) {
    std::perror("open");
    return 1;
  }
  std::vector<char> block(4096, 'f');
  uint64_t n = 0;
  auto t0 = clock_type::now();
  while (seconds_since(t0) < seconds) {
    if (::pwrite(fd, block.data(), block.size(), static_cast<off_t>((n % 256) * block.size())) < 0 ||
        ::fdatasync(fd) != 0) {
      std::perror("write/fdatasync");
      return 1;
    }
    ++n;
  }
  double t = seconds_since(t0);
  ::close(fd);
  ::unlink(path.c_str());
  std::printf("mode=fsync fsyncs=%llu seconds=%.2f fsyncs_per_s=%.0f\n", static_cast<unsigned long long>(n),
              t, n / t);
  return 0;
}

store_options store_opts(synchronous_mode m) {
  store_options o;
  o.synchronous = m;
  o.quota_bytes = 8ull << 30;
  return o;
}

int bench_single(const std::string& dir, synchronous_mode m, double seconds, size_t payload) {
  std::string path = dir + "/single.db";
  ::unlink(path.c_str());
  auto store = buffer_store::open(path, store_opts(m));
  if (!store) return 1;
  uint64_t n = 0;
  std::vector<reading> one{make(payload, 0)};
  auto t0 = clock_type::now();
  while (seconds_since(t0) < seconds) {
    one[0].receive_ms = static_cast<int64_t>(n);
    if (!(*store)->append_batch(one)) return 1;
    ++n;
  }
  double t = seconds_since(t0);
  std::printf("mode=single sync=%s rows=%llu seconds=%.2f rows_per_s=%.0f rows_per_tx=1.0\n",
              std::string(to_string(m)).c_str(), static_cast<unsigned long long>(n), t, n / t);
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  return 0;
}

int bench_group(const std::string& dir, synchronous_mode m, double seconds, size_t payload, int window) {
  std::string path = dir + "/group.db";
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  auto loop = uv::loop::create();
  if (!loop) return 1;
  auto worker = uv::worker::start(**loop, {64, "buffer"});
  if (!worker) return 1;
  auto store = buffer_store::open(path, store_opts(m));
  if (!store) return 1;
  committer_options co;
  co.queue_rows_max = static_cast<size_t>(window) * 2;
  auto committer = group_committer::create(**loop, *worker, **store, co);
  if (!committer) return 1;

  uint64_t next = 0, done = 0, failed = 0;
  bool stopping = false;
  auto t0 = clock_type::now();
  std::function<void()> submit_one = [&] {
    auto ok = (*committer)->submit(make(payload, next++), [&](result<gateway_seq> r) {
      ++done;
      if (!r) ++failed;
      if (!stopping && seconds_since(t0) >= seconds) stopping = true;
      if (!stopping) submit_one();
    });
    if (!ok) ++failed;
  };
  for (int i = 0; i < window; ++i) submit_one();
  while (!stopping || !(*committer)->idle()) (*loop)->run_once();
  double t = seconds_since(t0);
  const auto& st = (*committer)->stats();
  std::printf(
      "mode=group sync=%s window=%d rows=%llu seconds=%.2f rows_per_s=%.0f transactions=%llu "
      "rows_per_tx=%.1f "
      "max_rows_per_tx=%llu commit_ms_avg=%.3f commit_ms_max=%.3f failed=%llu\n",
      std::string(to_string(m)).c_str(), window, static_cast<unsigned long long>(st.committed_rows), t,
      st.committed_rows / t, static_cast<unsigned long long>(st.commits),
      st.commits ? static_cast<double>(st.committed_rows) / st.commits : 0.0,
      static_cast<unsigned long long>(st.max_batch_rows),
      st.commits ? st.total_commit_us / 1000.0 / st.commits : 0.0, st.max_commit_us / 1000.0,
      static_cast<unsigned long long>(failed));
  committer->reset();
  bool stopped = false;
  worker->stop(uv::worker::stop_mode::drain, [&] { stopped = true; });
  while (!stopped) (*loop)->run_once();
  store->reset();
  for (const char* suffix : {"", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
  return failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_level(log::level::warn);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "fsync" && argc == 4) return bench_fsync(argv[2], std::atof(argv[3]));
  if ((mode == "single" && argc == 6) || (mode == "group" && argc == 7)) {
    auto m = parse_synchronous_mode(argv[3]);
    if (!m) return 2;
    double secs = std::atof(argv[4]);
    size_t payload = static_cast<size_t>(std::atol(argv[5]));
    if (mode == "single") return bench_single(argv[2], *m, secs, payload);
    return bench_group(argv[2], *m, secs, payload, std::atoi(argv[6]));
  }
  std::fprintf(stderr,
               "usage: %s fsync <dir> <seconds>\n"
               "       %s single <dir> <sync> <seconds> <payload_bytes>\n"
               "       %s group <dir> <sync> <seconds> <payload_bytes> <window>\n",
               argv[0], argv[0], argv[0]);
  return 2;
}
