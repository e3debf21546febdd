// raft_bench: the pure CPU cost of the Raft core. Three nodes over memory_storage in one thread, no
// faults, messages delivered at once: how many 1 KiB entries commit per second, how many offsets
// that is (an entry of width 16 models a Kafka batch of 16 records, which covers 16 offsets), and
// how many heap allocations the leader makes per committed entry. It prints figures and asserts
// nothing about time (STYLE.md §6).
//
//   raft_bench [--entries N] [--batch B] [--width W] [--payload-bytes P]
//
// --batch is how many entries one propose() call carries; --width how many offsets each covers.
//
// Allocations are counted by a global operator new, switched on only while the leader's code runs:
// its core (propose, step, ready, advance) and, separately, its storage writes. The payloads
// themselves are made by the "client" outside the count.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

#include "cluster/raft/node.h"

namespace {

bool g_counting = false;
uint64_t g_allocations = 0;

}  // namespace

void* operator new(std::size_t n) {
  if (g_counting) ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

namespace raft = tributary::cluster::raft;
using raft::log_index;
using raft::node_id;

// Counts the allocations of one scope into `into`.
class counting_scope {
 public:
  explicit counting_scope(uint64_t& into) : into_(into), start_(g_allocations) { g_counting = true; }
  ~counting_scope() {
    g_counting = false;
    into_ += g_allocations - start_;
  }

 private:
  uint64_t& into_;
  uint64_t start_;
};

struct bench_node {
  std::unique_ptr<raft::memory_storage> storage;
  std::unique_ptr<raft::node> node;
  int64_t applied_entries = 0;
  int64_t applied_offsets = 0;
};

struct figures {
  int64_t committed = 0;
  int64_t offsets = 0;
  double seconds = 0;
  uint64_t leader_core_allocs = 0;
  uint64_t leader_storage_allocs = 0;
  int64_t leader_messages = 0;
};

class bench {
 public:
  explicit bench(size_t batch, uint32_t width, size_t payload_bytes)
      : batch_(batch), width_(width), payload_bytes_(payload_bytes) {
    raft::membership m;
    m.voters = {node_id{1}, node_id{2}, node_id{3}};
    for (uint64_t id = 1; id <= 3; ++id) {
      bench_node& b = nodes_[id - 1];
      b.storage = std::make_unique<raft::memory_storage>(m);
      raft::config cfg;
      cfg.id = node_id{id};
      cfg.random_seed = id;
      b.node = std::move(*raft::node::create(cfg, *b.storage));
    }
    (void)nodes_[0].node->campaign();
    settle();
    if (nodes_[0].node->role() != raft::role::leader) {
      std::fprintf(stderr, "raft_bench: node 1 did not become leader\n");
      std::exit(1);
    }
  }

  figures run(int64_t entries) {
    figures f;
    bench_node& leader = nodes_[0];
    int64_t base = leader.applied_entries;
    int64_t base_offsets = leader.applied_offsets;
    const int64_t window = 4096;  // entries proposed but not yet applied by the leader
    int64_t proposed = 0;
    std::vector<raft::proposal> ps;
    auto started = std::chrono::steady_clock::now();
    // Each round proposes or delivers something, so the round count is bounded by the work.
    for (int64_t round = 0; round < entries * 16 + 1000 && leader.applied_entries - base < entries; ++round) {
      if (proposed < entries && proposed - (leader.applied_entries - base) < window) {
        ps.clear();
        for (size_t i = 0; i < batch_ && proposed < entries; ++i, ++proposed) {
          ps.push_back(raft::proposal{
              raft::payload(std::vector<uint8_t>(payload_bytes_, static_cast<uint8_t>(proposed))), width_});
        }
        auto r = [&] {
          counting_scope c(f.leader_core_allocs);
          return leader.node->propose(ps);
        }();
        if (!r) {
          std::fprintf(stderr, "raft_bench: propose failed: %s\n", r.error().message().c_str());
          std::exit(1);
        }
      }
      pump_all(f);
      deliver_all(f);
    }
    f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    f.committed = leader.applied_entries - base;
    f.offsets = leader.applied_offsets - base_offsets;
    // Not timed: let the followers finish and check that everyone applied the same entries.
    settle();
    for (const bench_node& b : nodes_) {
      if (b.applied_entries != leader.applied_entries) {
        std::fprintf(stderr, "raft_bench: a follower applied %lld entries, the leader %lld\n",
                     static_cast<long long>(b.applied_entries),
                     static_cast<long long>(leader.applied_entries));
        std::exit(1);
      }
    }
    return f;
  }

 private:
  void settle() {
    figures ignored;
    for (int i = 0; i < 1000; ++i) {
      pump_all(ignored);
      if (queue_.empty()) break;
      deliver_all(ignored);
    }
  }

  void pump_all(figures& f) {
    for (size_t i = 0; i < nodes_.size(); ++i) pump(i, f);
  }

  void pump(size_t i, figures& f) {
    bench_node& b = nodes_[i];
    bool leader = i == 0;
    for (int round = 0; round < 16; ++round) {
      raft::ready rd;
      {
        uint64_t scratch = 0;
        counting_scope c(leader ? f.leader_core_allocs : scratch);
        if (!b.node->has_ready()) break;
        rd = b.node->ready();
      }
      {
        uint64_t scratch = 0;
        counting_scope c(leader ? f.leader_storage_allocs : scratch);
        if (rd.snapshot) (void)b.storage->apply_snapshot(*rd.snapshot);
        if (!b.storage->append(rd.entries)) {
          std::fprintf(stderr, "raft_bench: append failed\n");
          std::exit(1);
        }
        if (rd.hard_state) b.storage->set_hard_state(*rd.hard_state);
      }
      if (leader) f.leader_messages += static_cast<int64_t>(rd.early_messages.size() + rd.messages.size());
      for (auto& m : rd.early_messages) queue_.push_back(std::move(m));
      for (auto& m : rd.messages) queue_.push_back(std::move(m));
      for (const raft::entry& e : rd.committed_entries) {
        if (e.type != raft::entry_type::normal) continue;
        ++b.applied_entries;
        b.applied_offsets += e.width;
      }
      log_index applied = rd.committed_entries.empty() ? raft::no_index : rd.committed_entries.back().last();
      {
        uint64_t scratch = 0;
        counting_scope c(leader ? f.leader_core_allocs : scratch);
        b.node->advance(rd);
      }
      // Keep memory flat: snapshot and drop the applied prefix now and then (not counted: the
      // state machine's business).
      if (applied != raft::no_index &&
          applied.value - b.storage->snapshot_meta().index.value > 20000 * static_cast<int64_t>(width_)) {
        (void)b.storage->create_snapshot(applied, b.node->membership(), {});
        (void)b.storage->compact(applied);
      }
    }
  }

  void deliver_all(figures& f) {
    std::deque<raft::message> batch;
    batch.swap(queue_);
    for (raft::message& m : batch) {
      size_t to = m.to.value - 1;
      uint64_t scratch = 0;
      counting_scope c(to == 0 ? f.leader_core_allocs : scratch);
      (void)nodes_[to].node->step(std::move(m));
    }
  }

  size_t batch_;
  uint32_t width_;
  size_t payload_bytes_;
  std::array<bench_node, 3> nodes_;
  std::deque<raft::message> queue_;
};

int64_t flag(int argc, char** argv, std::string_view name, int64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (name == argv[i]) return std::atoll(argv[i + 1]);
  }
  return fallback;
}

// One configuration: prints one line; false if not every entry committed.
bool run_one(int64_t entries, size_t batch, uint32_t width, int64_t payload) {
  bench b(batch, width, static_cast<size_t>(payload));
  figures f = b.run(entries);
  if (f.committed < entries) {
    std::fprintf(stderr, "raft_bench: only %lld of %lld entries committed\n",
                 static_cast<long long>(f.committed), static_cast<long long>(entries));
    return false;
  }
  double n = static_cast<double>(f.committed);
  double per_s = n / f.seconds;
  std::printf("%6zu %6u %12.0f %14.0f %9.1f %10.0f %20.2f %22.2f %18.3f\n", batch, width, per_s,
              static_cast<double>(f.offsets) / f.seconds,
              per_s * static_cast<double>(payload) / (1024.0 * 1024.0), 1e9 * f.seconds / n,
              static_cast<double>(f.leader_core_allocs) / n,
              static_cast<double>(f.leader_core_allocs + f.leader_storage_allocs) / n,
              static_cast<double>(f.leader_messages) / n);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t entries = flag(argc, argv, "--entries", 200000);
  int64_t payload = flag(argc, argv, "--payload-bytes", 1024);
  int64_t only_batch = flag(argc, argv, "--batch", 0);
  int64_t only_width = flag(argc, argv, "--width", 0);
  if (only_width < 0 || only_width > int64_t{raft::max_entry_width}) {
    std::fprintf(stderr, "raft_bench: --width wants 1..%u\n", raft::max_entry_width);
    return 2;
  }
  std::printf("raft_bench: 3 nodes, memory storage, one thread, %lld-byte entries, %lld entries per run\n",
              static_cast<long long>(payload), static_cast<long long>(entries));
  std::printf("%6s %6s %12s %14s %9s %10s %20s %22s %18s\n", "batch", "width", "entries/s", "offsets/s",
              "MiB/s", "ns/entry", "leader allocs/entry", "+storage allocs/entry", "leader msgs/entry");
  std::vector<int64_t> widths = only_width ? std::vector<int64_t>{only_width} : std::vector<int64_t>{1, 16};
  for (int64_t width : widths) {
    for (int64_t batch : {int64_t{1}, int64_t{16}, int64_t{256}}) {
      if (only_batch && batch != only_batch) continue;
      if (!run_one(entries, static_cast<size_t>(batch), static_cast<uint32_t>(width), payload)) return 1;
    }
  }
  return 0;
}
