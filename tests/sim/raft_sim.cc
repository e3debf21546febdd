#include "tests/sim/raft_sim.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <vector>

#include <fmt/format.h>

namespace tributary::sim {
namespace {

namespace raft = cluster::raft;
using raft::log_index;
using raft::message_type;
using raft::node_id;

// --- deterministic helpers -----------------------------------------------------------------------

// All randomness of a run comes from here. Our own range/chance functions (not <random>'s
// distributions, whose output may differ between standard libraries) keep seeds portable.
class sim_rng {
 public:
  explicit sim_rng(uint64_t seed) : gen_(seed) {}
  uint64_t next() { return gen_(); }
  int64_t range(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>(gen_() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool chance(double p) { return static_cast<double>(gen_() >> 11) * 0x1.0p-53 < p; }
  double uniform(double lo, double hi) {
    return lo + (hi - lo) * static_cast<double>(gen_() >> 11) * 0x1.0p-53;
  }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(range(0, static_cast<int64_t>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 gen_;
};

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a ^ (b + 0x9e3779b97f4a7c15ull + (a << 6) + (a >> 2));
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t hash_bytes(std::span<const uint8_t> b) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t c : b) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

uint64_t entry_hash(const raft::entry& e) {
  return mix(mix(mix(static_cast<uint64_t>(e.term.value), static_cast<uint64_t>(e.type)), e.width),
             hash_bytes(e.data.bytes()));
}

// The hash of a log prefix, entry by entry: chain(e) = mix(chain(entry before e), entry_hash(e)),
// and 0 before the group's first offset. Widths are in entry_hash, so equal chains mean the same
// entries at the same offsets.
uint64_t chain_next(uint64_t prev, const raft::entry& e) { return mix(prev, entry_hash(e)); }

std::vector<uint8_t> encode_u64s(std::initializer_list<uint64_t> vs) {
  std::vector<uint8_t> out;
  for (uint64_t v : vs) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  return out;
}
uint64_t decode_u64(std::span<const uint8_t> b, size_t at) {
  uint64_t v = 0;
  if (b.size() < at + 8) return 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{b[at + i]} << (8 * i);
  return v;
}

// --- the trace -----------------------------------------------------------------------------------

enum class tk : uint8_t {
  send,
  drop,
  dup,
  deliver,
  lost_to_down_node,
  role,
  persist,
  apply,
  crash,
  restart,
  one_way,
  heal_net,
  link,
  propose,
  config,
  transfer,
  read,
  read_ok,
  compact,
  phase,
  note
};

struct msg_summary {
  message_type type = message_type::heartbeat;
  uint8_t from = 0, to = 0;
  bool reject = false, transfer = false;
  int64_t term = 0, index = 0, log_term = 0, commit = 0, hint = 0, n = 0, last = 0;
  uint64_t context = 0;
};

msg_summary summarize(const raft::message& m) {
  msg_summary s;
  s.type = m.type;
  s.from = static_cast<uint8_t>(m.from.value);
  s.to = static_cast<uint8_t>(m.to.value);
  s.reject = m.reject;
  s.transfer = m.transfer;
  s.term = m.term.value;
  s.index = m.index.value;
  s.log_term = m.log_term.value;
  s.commit = m.commit.value;
  s.hint = m.reject_hint.value;
  s.n = static_cast<int64_t>(m.entries.size());
  s.last = m.entries.empty() ? 0 : m.entries.back().last().value;
  if (m.snapshot) s.last = m.snapshot->metadata.index.value;
  s.context = m.context;
  return s;
}

std::string format_msg(const msg_summary& s) {
  raft::message m;
  m.type = s.type;
  m.from = node_id{s.from};
  m.to = node_id{s.to};
  m.reject = s.reject;
  m.transfer = s.transfer;
  m.term = raft::term{s.term};
  m.index = log_index{s.index};
  m.log_term = raft::term{s.log_term};
  m.commit = log_index{s.commit};
  m.reject_hint = log_index{s.hint};
  m.context = s.context;
  if (s.type == message_type::append) {
    return fmt::format("append {}->{} t={} prev={}@{} c={} n={}{}", s.from, s.to, s.term, s.index, s.log_term,
                       s.commit, s.n, s.n ? fmt::format(" last={}", s.last) : "");
  }
  std::string out = raft::to_string(m);
  if (s.type == message_type::snapshot) out += fmt::format(" snap={}", s.last);
  return out;
}

struct trace_rec {
  int64_t at_us = 0;
  tk kind = tk::note;
  int node = 0;
  msg_summary msg;
  int64_t a = 0, b = 0, c = 0, d = 0;
  std::string text;  // short (fits the small-string buffer) except in rare records
};

std::string format_rec(const trace_rec& r) {
  std::string head = fmt::format("[{:>10.3f}ms] ", static_cast<double>(r.at_us) / 1000.0);
  switch (r.kind) {
    case tk::send: return head + "send    " + format_msg(r.msg);
    case tk::drop: return head + "DROP    " + format_msg(r.msg) + (r.a ? " (partition)" : "");
    case tk::dup: return head + "dup     " + format_msg(r.msg);
    case tk::deliver: return head + "deliver " + format_msg(r.msg);
    case tk::lost_to_down_node: return head + "lost    " + format_msg(r.msg) + " (node down)";
    case tk::role:
      return head + fmt::format("n{} becomes {} term={} commit={} last={}", r.node,
                                raft::to_string(static_cast<raft::role>(r.a)), r.b, r.c, r.d);
    case tk::persist:
      return head + fmt::format("n{} fsync entries={}{} hs={} snapshot={}", r.node, r.a,
                                r.a ? fmt::format(" [{}..{}]", r.b, r.c) : "", r.d ? "yes" : "no", r.text);
    case tk::apply: return head + fmt::format("n{} applied {}..{}", r.node, r.a, r.b);
    case tk::crash:
      return head +
             fmt::format("n{} CRASH (unsynced ready: {}, items kept: {})", r.node, r.a ? "yes" : "no", r.b);
    case tk::restart:
      return head +
             fmt::format("n{} restart term={} commit={} last={} snapshot={}", r.node, r.a, r.b, r.c, r.d);
    case tk::one_way: return head + fmt::format("ONE-WAY partition n{} -/-> n{}", r.a, r.b);
    case tk::heal_net: return head + "network healed";
    case tk::link:
      return head + fmt::format("link n{}->n{} drop={}% dup={}% delay={}..{}us", r.a, r.b, r.c / 100,
                                r.c % 100, r.d / 1000000, r.d % 1000000);
    case tk::propose: return head + fmt::format("n{} propose x{} -> {}", r.node, r.a, r.text);
    case tk::config: return head + fmt::format("n{} config change {} n{} -> {}", r.node, r.a, r.b, r.text);
    case tk::transfer: return head + fmt::format("n{} transfer leadership to n{} -> {}", r.node, r.a, r.text);
    case tk::read:
      return head + fmt::format("n{} read_index #{} (committed so far: {}) -> {}", r.node, r.a, r.b, r.text);
    case tk::read_ok: return head + fmt::format("n{} read #{} confirmed at index {}", r.node, r.a, r.b);
    case tk::compact: return head + fmt::format("n{} snapshot at {} compact through {}", r.node, r.a, r.b);
    case tk::phase: return head + fmt::format("--- {} ---", r.text);
    case tk::note: return head + r.text;
  }
  return head;
}

// --- the world -----------------------------------------------------------------------------------

enum class ev : uint8_t { tick, deliver, fsync, chaos, client, restart };

struct event {
  int64_t at_us = 0;
  uint64_t seq = 0;
  ev kind = ev::tick;
  int node = 0;
  uint64_t incarnation = 0;
  raft::message msg;
};

struct event_later {
  bool operator()(const event& a, const event& b) const {
    return a.at_us != b.at_us ? a.at_us > b.at_us : a.seq > b.seq;
  }
};

struct link_params {
  double drop = 0;
  double dup = 0;
  int64_t delay_min_us = 500;
  int64_t delay_max_us = 5000;
};

struct sim_node {
  int id = 0;
  std::unique_ptr<raft::memory_storage> disk;  // what survives a crash: only what was fsynced
  // The chain hash of the disk's log at each entry end (the last offset of an entry, or of the
  // snapshot). An append must start right after one of them.
  std::map<int64_t, uint64_t> disk_chain;
  std::unique_ptr<raft::node> raft;  // null while down
  uint64_t incarnation = 0;
  std::optional<raft::ready> in_flight;  // handed out, fsync pending
  int64_t tick_us = 10000;
  // The application's state machine, lost on a crash and rebuilt from the disk's snapshot.
  log_index applied;
  uint64_t app_chain = 0;
  raft::membership applied_config;
  // What the checkers saw last, to notice transitions.
  raft::role seen_role = raft::role::follower;
  raft::term seen_term;
  log_index seen_commit = raft::no_index;

  bool up() const { return raft != nullptr; }
};

// An entry some node applied (so it is committed), keyed by its first offset.
struct committed_rec {
  int64_t last = 0;  // its last offset
  int64_t term = 0;
  uint64_t hash = 0;
  uint64_t chain = 0;
  int node = 0;  // the first node that applied it
};

class world;
world* g_current_world = nullptr;  // for the abort handler

class world {
 public:
  world(uint64_t seed, const raft_sim_options& opt)
      : seed_(seed), opt_(opt), rng_(seed), trace_(opt.trace_events) {}

  raft_sim_result run();
  void dump_on_abort();

 private:
  // scheduling
  void schedule(int64_t delay_us, event e) {
    e.at_us = now_ + delay_us;
    e.seq = ++seq_;
    queue_.push_back(std::move(e));
    std::push_heap(queue_.begin(), queue_.end(), event_later{});
  }
  event pop() {
    std::pop_heap(queue_.begin(), queue_.end(), event_later{});
    event e = std::move(queue_.back());
    queue_.pop_back();
    return e;
  }

  void setup();
  void handle(event& e);
  void start_node(sim_node& n);
  void crash(sim_node& n);
  void pump(sim_node& n);
  void on_fsync(sim_node& n);
  void write_to_disk(sim_node& n, const raft::ready& rd, size_t max_items);
  void record_disk_entry(sim_node& n, log_index last, raft::term t, uint64_t chain);
  void record_entry_shape(sim_node& n, const raft::entry& e);
  using committed_entry = std::pair<const int64_t, committed_rec>;  // first offset, record
  const committed_entry* committed_covering(int64_t offset) const;
  void check_commit_at_entry_end(sim_node& n);
  uint32_t next_width();
  void apply(sim_node& n, const raft::ready& rd);
  void send(const raft::message& m);
  void deliver(event& e);
  void chaos_action();
  void client_action();
  void propose(sim_node& n, int count);
  void change_config(sim_node& leader);
  void compact(sim_node& n);
  void begin_heal();
  void check();
  void check_new_leader(sim_node& n);
  bool healed_and_converged();
  std::vector<sim_node*> up_leaders();
  std::vector<int> up_nodes();
  void randomize_link(link_params& l, double max_drop);

  void violate(std::string what) {
    if (failed_) return;
    failed_ = true;
    violation_ = fmt::format("{} (at {:.3f}ms, event {})", what, static_cast<double>(now_) / 1000.0, events_);
  }
  void tr(trace_rec r) {
    r.at_us = now_;
    if (opt_.trace_all) std::fprintf(stderr, "%s\n", format_rec(r).c_str());
    if (trace_.empty()) return;
    trace_[trace_next_ % trace_.size()] = std::move(r);
    ++trace_next_;
  }
  void tr_msg(tk kind, const raft::message& m, int64_t a = 0) {
    trace_rec r;
    r.kind = kind;
    r.msg = summarize(m);
    r.a = a;
    tr(r);
  }
  std::string format_trace() const;
  std::string state_dump() const;

  uint64_t seed_;
  raft_sim_options opt_;
  sim_rng rng_;
  int64_t now_ = 0;
  uint64_t seq_ = 0;
  int64_t events_ = 0;
  std::vector<event> queue_;

  // Per-seed parameters.
  raft::membership bootstrap_;
  int64_t origin_ = 0;  // the offset of the group's first entry
  int width_mode_ = 0;  // proposal widths: 0 all 1, 1 uniform 1..8, 2 mostly small, some up to 500
  bool pre_vote_ = true, check_quorum_ = true;
  size_t max_append_bytes_ = 0, max_inflight_ = 0, max_uncommitted_bytes_ = 0;
  int64_t chaos_every_us_ = 0, client_every_us_ = 0, fsync_max_us_ = 0;

  std::vector<sim_node> nodes_;  // index 0 unused: node ids are 1..n
  std::vector<std::vector<link_params>> links_;
  std::vector<std::vector<bool>> blocked_;

  bool healing_ = false;
  int64_t heal_start_us_ = 0;
  int64_t heal_commit_index_ = 0;  // the last offset of the first entry committed after the heal
  int64_t heal_commit_at_us_ = -1;
  uint64_t next_proposal_ = 0;
  uint64_t next_read_ = 0;
  std::map<uint64_t, int64_t> reads_;  // read id -> highest committed index when it was asked

  // Checker state.
  std::map<int64_t, int> leader_of_term_;
  std::map<std::pair<uint64_t, int64_t>, uint64_t> vote_of_;  // (voter, term) -> candidate
  // (last offset, term) of an entry or snapshot end -> the chain of the log up to it, every disk.
  std::map<std::pair<int64_t, int64_t>, uint64_t> chain_at_;
  // (term, first offset) -> last offset of every entry written to any disk: entries of one term
  // never overlap unless they are the same entry.
  std::map<std::pair<int64_t, int64_t>, int64_t> entry_shape_;
  std::map<int64_t, committed_rec> committed_;  // by first offset: a tiling of the committed log
  std::map<int64_t, int64_t> leader_commit_;    // term -> the highest commit index its leader had
  int64_t max_committed_ = -1;                  // the last committed offset

  bool failed_ = false;
  std::string violation_;
  std::vector<trace_rec> trace_;
  uint64_t trace_next_ = 0;
  raft_sim_stats stats_;
};

void world::randomize_link(link_params& l, double max_drop) {
  l.drop = rng_.uniform(0, max_drop);
  l.dup = rng_.chance(0.5) ? rng_.uniform(0, 0.05) : 0;
  l.delay_min_us = rng_.range(100, 2000);
  l.delay_max_us = l.delay_min_us + rng_.range(0, rng_.chance(0.2) ? 60000 : 15000);
}

void world::setup() {
  int n = opt_.nodes;
  // Mostly both on, as in production; each off sometimes, both off rarely.
  int64_t protections = rng_.range(0, 9);
  pre_vote_ = protections != 7 && protections != 9;
  check_quorum_ = protections != 8 && protections != 9;
  max_append_bytes_ = static_cast<size_t>(rng_.pick(std::vector<int64_t>{200, 1024, 8192, 1 << 20}));
  max_inflight_ = static_cast<size_t>(rng_.pick(std::vector<int64_t>{1, 4, 32, 256}));
  max_uncommitted_bytes_ = static_cast<size_t>(rng_.pick(std::vector<int64_t>{0, 2048, 1 << 20}));
  chaos_every_us_ = rng_.range(20, 120) * 1000;
  client_every_us_ = rng_.range(2, 20) * 1000;
  fsync_max_us_ = rng_.chance(0.5) ? 3000 : 20000;  // a fast or a slow disk
  // Entries span several offsets (Kafka batches of several records) in most seeds.
  int64_t widths = rng_.range(0, 19);
  width_mode_ = widths < 3 ? 0 : widths < 15 ? 1 : 2;
  // Usually the group's log starts at offset 0; sometimes far above (a partition whose log start
  // moved on; offsets beyond 32 bits). A node that joins later starts at 0 all the same and needs
  // the leader's snapshot.
  origin_ = rng_.chance(0.8) ? 0 : rng_.range(1, int64_t{1} << 40);
  max_committed_ = origin_ - 1;

  // The initial configuration: usually everyone votes; sometimes one node is a learner or is not
  // a member yet (it starts with an empty membership and must be added).
  std::vector<uint64_t> voters, learners;
  int shape = static_cast<int>(rng_.range(0, 9));
  if (n < 3) shape = 0;
  for (int id = 1; id <= n; ++id) {
    if (id == n && shape == 8) {
      learners.push_back(static_cast<uint64_t>(id));
    } else if (!(id == n && shape == 9)) {
      voters.push_back(static_cast<uint64_t>(id));
    }
  }
  for (uint64_t v : voters) bootstrap_.voters.push_back(node_id{v});
  for (uint64_t l : learners) bootstrap_.learners.push_back(node_id{l});

  links_.assign(static_cast<size_t>(n + 1), std::vector<link_params>(static_cast<size_t>(n + 1)));
  blocked_.assign(static_cast<size_t>(n + 1), std::vector<bool>(static_cast<size_t>(n + 1), false));
  double base_drop = rng_.pick(std::vector<double>{0.0, 0.01, 0.05, 0.15});
  for (auto& row : links_) {
    for (auto& l : row) randomize_link(l, base_drop);
  }

  nodes_.resize(static_cast<size_t>(n + 1));
  for (int id = 1; id <= n; ++id) {
    sim_node& node = nodes_[static_cast<size_t>(id)];
    node.id = id;
    bool member = bootstrap_.contains(node_id{static_cast<uint64_t>(id)});
    log_index first{member ? origin_ : 0};
    node.disk = std::make_unique<raft::memory_storage>(member ? bootstrap_ : raft::membership{}, first);
    node.disk_chain[first.value - 1] = 0;
    start_node(node);
  }
  schedule(chaos_every_us_, event{.kind = ev::chaos});
  schedule(client_every_us_, event{.kind = ev::client});
  trace_rec r;
  r.kind = tk::phase;
  r.text = fmt::format(
      "seed {} nodes={} config: {} pre_vote={} check_quorum={} max_append={} max_inflight={} "
      "max_uncommitted={} widths={} first_offset={}",
      seed_, n, raft::to_string(bootstrap_), pre_vote_, check_quorum_, max_append_bytes_, max_inflight_,
      max_uncommitted_bytes_,
      width_mode_ == 0   ? "1"
      : width_mode_ == 1 ? "1..8"
                         : "1..500",
      origin_);
  tr(std::move(r));
}

void world::start_node(sim_node& n) {
  raft::config cfg;
  cfg.id = node_id{static_cast<uint64_t>(n.id)};
  cfg.election_ticks = 10;
  cfg.heartbeat_ticks = 1;
  cfg.pre_vote = pre_vote_;
  cfg.check_quorum = check_quorum_;
  cfg.max_append_bytes = max_append_bytes_;
  cfg.max_inflight_appends = max_inflight_;
  cfg.max_uncommitted_bytes = max_uncommitted_bytes_;
  cfg.max_pending_reads = 64;
  cfg.snapshot_retry_ticks = 30;
  cfg.applied = n.disk->snapshot_meta().index;
  cfg.random_seed = rng_.next();
  cfg.knobs = opt_.knobs;
  auto created = raft::node::create(cfg, *n.disk);
  if (!created) {
    violate(fmt::format("n{} cannot restart from its disk: {}", n.id, created.error().message()));
    return;
  }
  n.raft = std::move(*created);
  ++n.incarnation;
  n.in_flight.reset();
  // The state machine restarts from the disk's snapshot; committed entries after it are replayed.
  raft::snapshot_metadata meta = n.disk->snapshot_meta();
  n.applied = meta.index;
  n.app_chain = decode_u64(n.disk->latest_snapshot()->data.bytes(), 0);
  n.applied_config = meta.config;
  n.seen_role = raft::role::follower;
  n.seen_term = n.raft->term();
  // Clock skew: each incarnation ticks at its own rate, 0.75x to 1.33x of 10 ms.
  n.tick_us = static_cast<int64_t>(10000 * rng_.uniform(0.75, 1.33));
  schedule(rng_.range(0, n.tick_us), event{.kind = ev::tick, .node = n.id, .incarnation = n.incarnation});
  pump(n);
}

void world::crash(sim_node& n) {
  trace_rec r;
  r.kind = tk::crash;
  r.node = n.id;
  r.a = n.in_flight.has_value();
  if (n.in_flight) {
    // The unsynced writes are lost, or torn: a prefix of them (snapshot, entries, hard state, in
    // the order the contract prescribes) may have reached the disk anyway.
    ++stats_.unsynced_writes_lost;
    const raft::ready& rd = *n.in_flight;
    size_t items = (rd.snapshot ? 1 : 0) + rd.entries.size() + (rd.hard_state ? 1 : 0);
    size_t kept = rng_.chance(0.5) ? 0 : static_cast<size_t>(rng_.range(0, static_cast<int64_t>(items)));
    if (kept > 0) {
      ++stats_.torn_writes;
      write_to_disk(n, rd, kept);
    }
    r.b = static_cast<int64_t>(kept);
  }
  tr(r);
  ++stats_.crashes;
  n.raft.reset();
  n.in_flight.reset();
}

// Hands the node's next ready to the "disk": early messages go out now, the rest after the fsync.
void world::pump(sim_node& n) {
  if (!n.up() || n.in_flight || !n.raft->has_ready()) return;
  raft::ready rd = n.raft->ready();
  for (const raft::message& m : rd.early_messages) send(m);
  n.in_flight = std::move(rd);
  int64_t fsync_us = rng_.chance(0.3) ? 0 : rng_.range(50, fsync_max_us_);
  schedule(fsync_us, event{.kind = ev::fsync, .node = n.id, .incarnation = n.incarnation});
}

void world::on_fsync(sim_node& n) {
  raft::ready rd = std::move(*n.in_flight);
  n.in_flight.reset();
  write_to_disk(n, rd, SIZE_MAX);
  if (failed_) return;
  for (const raft::message& m : rd.messages) send(m);
  apply(n, rd);
  n.raft->advance(rd);
  pump(n);
}

void world::record_disk_entry(sim_node& n, log_index last, raft::term t, uint64_t chain) {
  n.disk_chain[last.value] = chain;
  // Log matching: an entry (or snapshot) ending at the same offset with the same term anywhere
  // must mean the same log up to it.
  auto [it, inserted] = chain_at_.try_emplace({last.value, t.value}, chain);
  if (!inserted && it->second != chain) {
    violate(
        fmt::format("log matching: n{} wrote an entry ending at offset {} term {} whose log differs from "
                    "another node's entry with the same last offset and term",
                    n.id, last.value, t.value));
  }
}

// One leader per term places each entry once: two entries of one term that share an offset are
// the same entry, with the same first and last offsets.
void world::record_entry_shape(sim_node& n, const raft::entry& e) {
  const int64_t t = e.term.value, first = e.index.value, last = e.last().value;
  auto it = entry_shape_.upper_bound({t, last});  // the first entry of term t starting after `last`
  if (it != entry_shape_.begin()) {
    auto before = std::prev(it);  // the last entry of term <= t starting at or before `last`
    if (before->first.first == t && before->second >= first) {
      if (before->first.second != first || before->second != last) {
        violate(
            fmt::format("entry shape: n{} wrote an entry [{}..{}] of term {} overlapping another "
                        "node's entry [{}..{}] of the same term",
                        n.id, first, last, t, before->first.second, before->second));
      }
      return;
    }
  }
  entry_shape_.emplace(std::make_pair(t, first), last);
}

void world::write_to_disk(sim_node& n, const raft::ready& rd, size_t max_items) {
  size_t budget = max_items;
  trace_rec r;
  r.kind = tk::persist;
  r.node = n.id;
  r.text = "no";
  if (rd.snapshot && budget > 0) {
    --budget;
    if (!n.disk->apply_snapshot(*rd.snapshot)) {
      violate(
          fmt::format("n{}: the disk refused the snapshot at {}", n.id, rd.snapshot->metadata.index.value));
      return;
    }
    n.disk_chain.clear();
    record_disk_entry(n, rd.snapshot->metadata.index, rd.snapshot->metadata.term,
                      decode_u64(rd.snapshot->data.bytes(), 0));
    r.text = "yes";
  }
  size_t count = std::min(budget, rd.entries.size());
  if (count > 0) {
    std::span<const raft::entry> ents(rd.entries.data(), count);
    if (auto ok = n.disk->append(ents); !ok) {
      violate(fmt::format("n{}: the disk refused entries from {}: {}", n.id, ents.front().index.value,
                          ok.error().message()));
      return;
    }
    // Offsets are contiguous: the batch starts right after an entry end of the disk's log (the
    // disk cut its suffix there) and each entry right after the previous one.
    n.disk_chain.erase(n.disk_chain.lower_bound(ents.front().index.value), n.disk_chain.end());
    auto before = n.disk_chain.find(ents.front().index.value - 1);
    if (before == n.disk_chain.end()) {
      violate(fmt::format("offsets: n{} appended at {}, which does not follow an entry end", n.id,
                          ents.front().index.value));
      return;
    }
    uint64_t chain = before->second;
    log_index expect = ents.front().index;
    for (const raft::entry& e : ents) {
      if (e.index != expect || e.width < 1) {
        violate(fmt::format("offsets: n{} persisted an entry at {} (width {}) where {} was next", n.id,
                            e.index.value, e.width, expect.value));
        return;
      }
      expect = next_index(e.last());
      chain = chain_next(chain, e);
      record_disk_entry(n, e.last(), e.term, chain);
      record_entry_shape(n, e);
    }
    budget -= count;
    r.a = static_cast<int64_t>(count);
    r.b = ents.front().index.value;
    r.c = ents.back().last().value;
  }
  if (rd.hard_state && budget > 0) {
    n.disk->set_hard_state(*rd.hard_state);
    r.d = 1;
  }
  if (r.a > 0 || r.d > 0 || rd.snapshot) tr(std::move(r));
}

void world::apply(sim_node& n, const raft::ready& rd) {
  if (rd.snapshot) {
    const raft::snapshot& s = *rd.snapshot;
    n.applied = s.metadata.index;
    n.app_chain = decode_u64(s.data.bytes(), 0);
    n.applied_config = s.metadata.config;
    ++stats_.snapshots_installed;
    const int64_t at = s.metadata.index.value;
    if (const committed_entry* c = committed_covering(at)) {
      if (c->second.last != at || c->second.chain != n.app_chain) {
        violate(fmt::format(
            "state machine safety: n{} installed a snapshot at {} whose state differs from what n{} "
            "applied up to the committed entry [{}..{}]",
            n.id, at, c->second.node, c->first, c->second.last));
        return;
      }
    }
  }
  if (!rd.committed_entries.empty()) {
    trace_rec r;
    r.kind = tk::apply;
    r.node = n.id;
    r.a = rd.committed_entries.front().index.value;
    r.b = rd.committed_entries.back().last().value;
    tr(r);
  }
  for (const raft::entry& e : rd.committed_entries) {
    if (e.index != next_index(n.applied) || e.width < 1) {
      violate(fmt::format("n{} applied an entry at {} right after offset {}: applies must be gap-free", n.id,
                          e.index.value, n.applied.value));
      return;
    }
    n.applied = e.last();
    n.app_chain = chain_next(n.app_chain, e);
    if (e.type == raft::entry_type::config) {
      auto m = raft::decode_membership(e.data.bytes());
      if (!m) {
        violate(fmt::format("n{} applied an undecodable config entry at {}", n.id, e.index.value));
        return;
      }
      n.applied_config = *m;
    }
    // State machine safety at entry granularity: every node applies the same entries, with the
    // same offsets, so what all nodes applied tiles the committed offsets without overlap.
    if (const committed_entry* c = committed_covering(e.index.value)) {
      if (c->first != e.index.value || c->second.last != e.last().value || c->second.chain != n.app_chain) {
        violate(fmt::format(
            "state machine safety: n{} applied at offsets [{}..{}] an entry (term {}) that differs from the "
            "one n{} applied at [{}..{}] (term {}), or follows a different history",
            n.id, e.index.value, e.last().value, e.term.value, c->second.node, c->first, c->second.last,
            c->second.term));
        return;
      }
      continue;
    }
    auto later = committed_.upper_bound(e.index.value);
    if (later != committed_.end() && later->first <= e.last().value) {
      violate(
          fmt::format("state machine safety: n{} applied [{}..{}] over the committed entry n{} applied at {}",
                      n.id, e.index.value, e.last().value, later->second.node, later->first));
      return;
    }
    committed_.emplace(e.index.value,
                       committed_rec{e.last().value, e.term.value, entry_hash(e), n.app_chain, n.id});
    max_committed_ = std::max(max_committed_, e.last().value);
    ++stats_.entries_committed;
    stats_.offsets_committed += e.width;
    if (e.width > 1) ++stats_.wide_entries_committed;
    if (e.type == raft::entry_type::config) ++stats_.config_changes_committed;
    if (healing_ && heal_commit_at_us_ < 0 && e.type == raft::entry_type::normal &&
        static_cast<int64_t>(decode_u64(e.data.bytes(), 8)) >= heal_start_us_) {
      heal_commit_index_ = e.last().value;
      heal_commit_at_us_ = now_;
    }
  }
  for (const raft::read_state& rs : rd.read_states) {
    auto it = reads_.find(rs.request_id);
    if (it == reads_.end()) {
      violate(fmt::format("n{} confirmed read #{} that it never asked for", n.id, rs.request_id));
      return;
    }
    trace_rec r;
    r.kind = tk::read_ok;
    r.node = n.id;
    r.a = static_cast<int64_t>(rs.request_id);
    r.b = rs.index.value;
    tr(r);
    if (rs.index.value < it->second) {
      violate(
          fmt::format("linearizability: read #{} on n{} got read index {} but offset {} was committed before "
                      "the read began",
                      rs.request_id, n.id, rs.index.value, it->second));
      return;
    }
    // A read index is a commit index: the end of an entry.
    if (const committed_entry* c = committed_covering(rs.index.value);
        c && c->second.last != rs.index.value) {
      violate(fmt::format("read #{} on n{} got read index {}, inside the committed entry [{}..{}]",
                          rs.request_id, n.id, rs.index.value, c->first, c->second.last));
      return;
    }
    ++stats_.reads_confirmed;  // kept: a duplicated message may confirm the same read again
  }
}

const world::committed_entry* world::committed_covering(int64_t offset) const {
  auto it = committed_.upper_bound(offset);
  if (it == committed_.begin()) return nullptr;
  --it;
  return it->second.last >= offset ? &*it : nullptr;
}

// --- the network ---------------------------------------------------------------------------------

void world::send(const raft::message& m) {
  ++stats_.messages_sent;
  switch (m.type) {
    case message_type::snapshot: ++stats_.snapshots_sent; break;
    case message_type::timeout_now: ++stats_.timeout_nows_sent; break;
    case message_type::append_response: stats_.append_rejections += m.reject; break;
    case message_type::pre_vote_response: stats_.pre_votes_refused += m.reject; break;
    default: break;
  }
  if (m.type == message_type::vote_response && !m.reject) {
    // One vote per node per term, across crashes: a grant is sent only once the vote is durable.
    auto [it, inserted] = vote_of_.try_emplace({m.from.value, m.term.value}, m.to.value);
    if (!inserted && it->second != m.to.value) {
      violate(fmt::format("double vote: n{} granted its vote in term {} to n{} and to n{}", m.from.value,
                          m.term.value, it->second, m.to.value));
    }
  }
  size_t from = m.from.value, to = m.to.value;
  if (to == 0 || to >= nodes_.size()) return;
  const link_params& l = links_[from][to];
  if (blocked_[from][to] || rng_.chance(l.drop)) {
    ++stats_.messages_dropped;
    tr_msg(tk::drop, m, blocked_[from][to]);
    return;
  }
  tr_msg(tk::send, m);
  schedule(rng_.range(l.delay_min_us, l.delay_max_us),
           event{.kind = ev::deliver, .node = static_cast<int>(to), .msg = m});
  if (rng_.chance(l.dup)) {
    ++stats_.messages_duplicated;
    tr_msg(tk::dup, m);
    schedule(rng_.range(l.delay_min_us, l.delay_max_us) * 2,
             event{.kind = ev::deliver, .node = static_cast<int>(to), .msg = m});
  }
}

void world::deliver(event& e) {
  sim_node& n = nodes_[static_cast<size_t>(e.node)];
  if (!n.up()) {
    tr_msg(tk::lost_to_down_node, e.msg);
    return;
  }
  tr_msg(tk::deliver, e.msg);
  auto r = n.raft->step(std::move(e.msg));
  if (!r) {
    violate(fmt::format("n{} refused a message: {}", n.id, r.error().message()));
    return;
  }
  pump(n);
}

// --- faults and clients --------------------------------------------------------------------------

std::vector<int> world::up_nodes() {
  std::vector<int> out;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].up()) out.push_back(static_cast<int>(i));
  }
  return out;
}

std::vector<sim_node*> world::up_leaders() {
  std::vector<sim_node*> out;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (nodes_[i].up() && nodes_[i].raft->role() == raft::role::leader) out.push_back(&nodes_[i]);
  }
  return out;
}

void world::chaos_action() {
  int n = opt_.nodes;
  int64_t pick = rng_.range(0, 11);
  if (pick <= 2) {
    std::vector<int> up = up_nodes();
    if (up.empty()) return;
    // Half the time the victim is a node with writes in flight, so that unsynced state is lost.
    std::vector<int> syncing;
    for (int id : up) {
      if (nodes_[static_cast<size_t>(id)].in_flight) syncing.push_back(id);
    }
    sim_node& victim = nodes_[static_cast<size_t>(!syncing.empty() && rng_.chance(0.5) ? rng_.pick(syncing)
                                                                                       : rng_.pick(up))];
    crash(victim);
    int64_t down_ms = rng_.chance(0.3) ? rng_.range(1, 10) : rng_.range(10, 400);
    schedule(down_ms * 1000, event{.kind = ev::restart, .node = victim.id});
  } else if (pick <= 4) {
    // A symmetric partition: a random side against the rest.
    std::vector<bool> side(static_cast<size_t>(n + 1));
    std::string text;
    int on_side = 0;
    for (int i = 1; i <= n; ++i) {
      side[static_cast<size_t>(i)] = rng_.chance(0.5);
      on_side += side[static_cast<size_t>(i)];
    }
    if (on_side == 0 || on_side == n) return;
    for (int a = 1; a <= n; ++a) {
      for (int b = 1; b <= n; ++b) {
        if (side[static_cast<size_t>(a)] != side[static_cast<size_t>(b)])
          blocked_[static_cast<size_t>(a)][static_cast<size_t>(b)] = true;
      }
    }
    ++stats_.partitions;
    trace_rec r;
    r.kind = tk::note;
    for (int i = 1; i <= n; ++i) r.text += side[static_cast<size_t>(i)] ? fmt::format("n{} ", i) : "";
    r.text = "PARTITION { " + r.text + "} from the rest";
    tr(std::move(r));
  } else if (pick == 5) {
    int a = static_cast<int>(rng_.range(1, n));
    int b = static_cast<int>(rng_.range(1, n));
    if (a == b) return;
    blocked_[static_cast<size_t>(a)][static_cast<size_t>(b)] = true;
    ++stats_.one_way_partitions;
    trace_rec r;
    r.kind = tk::one_way;
    r.a = a;
    r.b = b;
    tr(r);
  } else if (pick <= 8) {
    for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
    trace_rec r;
    r.kind = tk::heal_net;
    tr(r);
  } else if (pick <= 10) {
    int a = static_cast<int>(rng_.range(1, n));
    int b = static_cast<int>(rng_.range(1, n));
    link_params& l = links_[static_cast<size_t>(a)][static_cast<size_t>(b)];
    randomize_link(l, 0.5);
    trace_rec r;
    r.kind = tk::link;
    r.a = a;
    r.b = b;
    r.c = static_cast<int64_t>(l.drop * 100) * 100 + static_cast<int64_t>(l.dup * 100);
    r.d = l.delay_min_us * 1000000 + l.delay_max_us;
    tr(r);
  }
  // pick 11: a quiet moment
}

uint32_t world::next_width() {
  switch (width_mode_) {
    case 0: return 1;
    case 1: return static_cast<uint32_t>(rng_.range(1, 8));
    default: return static_cast<uint32_t>(rng_.chance(0.9) ? rng_.range(1, 4) : rng_.range(5, 500));
  }
}

void world::propose(sim_node& n, int count) {
  std::vector<raft::proposal> ps;
  for (int i = 0; i < count; ++i) {
    std::vector<uint8_t> bytes = encode_u64s({++next_proposal_, static_cast<uint64_t>(now_)});
    bytes.resize(bytes.size() + static_cast<size_t>(rng_.range(0, 48)), static_cast<uint8_t>(next_proposal_));
    ps.push_back(raft::proposal{raft::payload(std::move(bytes)), next_width()});
  }
  auto r = n.raft->propose(ps);
  trace_rec t;
  t.kind = tk::propose;
  t.node = n.id;
  t.a = count;
  t.text = r ? fmt::format("offsets {}..{}", r->first.value, r->last.value) : r.error().message();
  tr(std::move(t));
}

void world::change_config(sim_node& leader) {
  const raft::membership& m = leader.raft->membership();
  std::vector<raft::config_change> options;
  for (int id = 1; id <= opt_.nodes; ++id) {
    node_id nid{static_cast<uint64_t>(id)};
    if (!m.contains(nid)) {
      options.push_back({raft::config_change_type::add_learner, nid});
      options.push_back({raft::config_change_type::add_learner, nid});
      options.push_back({raft::config_change_type::add_voter, nid});
    } else if (m.is_learner(nid)) {
      options.push_back({raft::config_change_type::promote_learner, nid});
      options.push_back({raft::config_change_type::promote_learner, nid});
      options.push_back({raft::config_change_type::remove_node, nid});
    } else if (nid != leader.raft->id() && (pre_vote_ || check_quorum_)) {
      // Without pre-vote and check-quorum a removed voter that never learns of its removal keeps
      // forcing elections (Raft thesis §4.2.3); Raft does not promise liveness then.
      options.push_back({raft::config_change_type::remove_node, nid});
    }
  }
  if (options.empty()) return;
  raft::config_change cc = rng_.pick(options);
  auto r = leader.raft->propose_config_change(cc);
  trace_rec t;
  t.kind = tk::config;
  t.node = leader.id;
  t.a = static_cast<int64_t>(cc.type);
  t.b = static_cast<int64_t>(cc.node.value);
  t.text = r ? fmt::format("index {} -> {}", r->value, raft::to_string(leader.raft->membership()))
             : r.error().message();
  tr(std::move(t));
}

void world::compact(sim_node& n) {
  raft::memory_storage& disk = *n.disk;
  if (n.applied <= disk.snapshot_meta().index) return;
  auto made = disk.create_snapshot(n.applied, n.applied_config, raft::payload(encode_u64s({n.app_chain})));
  if (!made) {
    violate(fmt::format("n{}: cannot snapshot at applied index {}: {}", n.id, n.applied.value,
                        made.error().message()));
    return;
  }
  // Compact through the end of the applied entry or one of the few before it (an entry end).
  auto at = committed_.upper_bound(n.applied.value);
  for (int64_t back = rng_.range(0, 3); back > 0 && at != committed_.begin(); --back) --at;
  log_index through =
      at == committed_.begin() ? prev_index(disk.first_index()) : log_index{std::prev(at)->second.last};
  through = std::max(through, prev_index(disk.first_index()));
  if (auto ok = disk.compact(through); !ok) {
    violate(fmt::format("n{}: cannot compact through {}: {}", n.id, through.value, ok.error().message()));
    return;
  }
  ++stats_.compactions;
  trace_rec t;
  t.kind = tk::compact;
  t.node = n.id;
  t.a = n.applied.value;
  t.b = through.value;
  tr(t);
}

void world::client_action() {
  std::vector<int> up = up_nodes();
  if (up.empty()) return;
  std::vector<sim_node*> leaders = up_leaders();
  auto target = [&]() -> sim_node& {
    if (!leaders.empty() && rng_.chance(0.9)) return *rng_.pick(leaders);
    return nodes_[static_cast<size_t>(rng_.pick(up))];
  };
  int64_t pick = rng_.range(0, 19);
  if (pick <= 11) {
    propose(target(), static_cast<int>(rng_.range(1, 3)));
  } else if (pick <= 14) {
    sim_node& n = nodes_[static_cast<size_t>(rng_.pick(up))];
    uint64_t id = ++next_read_;
    reads_[id] = max_committed_;
    auto r = n.raft->read_index(id);
    if (!r) reads_.erase(id);
    trace_rec t;
    t.kind = tk::read;
    t.node = n.id;
    t.a = static_cast<int64_t>(id);
    t.b = max_committed_;
    t.text = r ? "asked" : "refused";
    tr(t);
  } else if (pick <= 16) {
    compact(nodes_[static_cast<size_t>(rng_.pick(up))]);
  } else if (pick <= 18) {
    if (!healing_ && !leaders.empty()) change_config(*rng_.pick(leaders));
  } else if (!healing_ && !leaders.empty()) {
    sim_node& l = *rng_.pick(leaders);
    const auto& voters = l.raft->membership().voters;
    node_id to = rng_.pick(voters);
    auto r = l.raft->transfer_leadership(to);
    if (r && to != l.raft->id()) ++stats_.transfers_started;
    trace_rec t;
    t.kind = tk::transfer;
    t.node = l.id;
    t.a = static_cast<int64_t>(to.value);
    t.text = r ? "started" : "refused";
    tr(t);
  }
  for (int id : up) pump(nodes_[static_cast<size_t>(id)]);
}

void world::begin_heal() {
  healing_ = true;
  heal_start_us_ = now_;
  trace_rec r;
  r.kind = tk::phase;
  r.text = "heal: faults stop, crashed nodes restart, the network becomes reliable";
  tr(r);
  for (auto& row : blocked_) std::fill(row.begin(), row.end(), false);
  for (auto& row : links_) {
    for (auto& l : row) l = link_params{0, 0, 200, 3000};
  }
  for (size_t i = 1; i < nodes_.size(); ++i) {
    if (!nodes_[i].up()) {
      start_node(nodes_[i]);
      trace_rec t;
      t.kind = tk::restart;
      t.node = static_cast<int>(i);
      tr(t);
    }
  }
}

// --- events ----------------------------------------------------------------------------------------

void world::handle(event& e) {
  switch (e.kind) {
    case ev::tick: {
      sim_node& n = nodes_[static_cast<size_t>(e.node)];
      if (!n.up() || n.incarnation != e.incarnation) return;
      n.raft->tick();
      pump(n);
      schedule(n.tick_us, event{.kind = ev::tick, .node = n.id, .incarnation = n.incarnation});
      return;
    }
    case ev::deliver: deliver(e); return;
    case ev::fsync: {
      sim_node& n = nodes_[static_cast<size_t>(e.node)];
      if (!n.up() || n.incarnation != e.incarnation || !n.in_flight) return;
      on_fsync(n);
      return;
    }
    case ev::chaos:
      if (healing_) return;
      chaos_action();
      schedule(rng_.range(chaos_every_us_ / 2, chaos_every_us_ * 3 / 2), event{.kind = ev::chaos});
      return;
    case ev::client:
      client_action();
      schedule(rng_.range(client_every_us_ / 2, client_every_us_ * 3 / 2), event{.kind = ev::client});
      return;
    case ev::restart: {
      sim_node& n = nodes_[static_cast<size_t>(e.node)];
      if (n.up()) return;
      start_node(n);
      trace_rec t;
      t.kind = tk::restart;
      t.node = n.id;
      if (n.up()) {
        t.a = n.raft->term().value;
        t.b = n.raft->commit_index().value;
        t.c = n.raft->last_index().value;
        t.d = n.disk->snapshot_meta().index.value;
      }
      tr(t);
      return;
    }
  }
}

// --- checkers --------------------------------------------------------------------------------------

void world::check_new_leader(sim_node& n) {
  int64_t t = n.raft->term().value;
  ++stats_.elections_won;
  stats_.max_term = std::max(stats_.max_term, t);
  // Election safety.
  auto [it, inserted] = leader_of_term_.try_emplace(t, n.id);
  if (!inserted && it->second != n.id) {
    violate(fmt::format("election safety: n{} and n{} are both leaders of term {}", it->second, n.id, t));
    return;
  }
  // Leader completeness: every entry committed in an earlier term is in the new leader's log. (Not
  // every entry committed so far: a vote answer can arrive late and make a node leader of a term
  // older than one that has committed more since; it can commit nothing, as a quorum moved on.)
  int64_t required = origin_ - 1;
  for (auto [term, commit] : leader_commit_) {
    if (term >= t) break;
    required = std::max(required, commit);
  }
  int64_t last = n.raft->last_index().value;
  if (last < required) {
    violate(fmt::format(
        "leader completeness: n{} leads term {} with a log ending at {}, but offset {} was committed in an "
        "earlier term",
        n.id, t, last, required));
    return;
  }
  // Entry by entry, the leader's log from its start through that offset is the committed tiling
  // (every offset up to max_committed_ was applied by some node, so there the tiling has no gap).
  int64_t lo = n.raft->first_index().value;
  while (lo <= required) {
    auto ents = n.raft->log_entries(log_index{lo}, log_index{required + 1}, 1 << 20);
    if (!ents || ents->empty() || ents->front().index.value != lo) {
      violate(fmt::format("n{}: cannot read its own log at {}", n.id, lo));
      return;
    }
    for (const raft::entry& e : *ents) {
      if (e.index.value > max_committed_) break;  // committed but applied nowhere yet: no record
      auto c = committed_.find(e.index.value);
      if (c == committed_.end() || c->second.last != e.last().value || c->second.term != e.term.value ||
          c->second.hash != entry_hash(e)) {
        violate(
            fmt::format("leader completeness: n{} leads term {} but holds at [{}..{}] an entry of term {} "
                        "that is not the "
                        "committed entry there",
                        n.id, t, e.index.value, e.last().value, e.term.value));
        return;
      }
    }
    lo = ents->back().last().value + 1;
  }
}

// The commit index is the last offset of an entry (for a partition: the high watermark is the
// offset after a whole batch).
void world::check_commit_at_entry_end(sim_node& n) {
  log_index c = n.raft->commit_index();
  if (c == n.seen_commit) return;
  n.seen_commit = c;
  if (c == prev_index(n.raft->first_index())) return;  // the snapshot's last offset
  auto covering = n.raft->log_entries(c, next_index(c), 1);
  if (!covering || covering->empty() || covering->front().last() != c) {
    violate(fmt::format("n{}: commit index {} is not the last offset of an entry", n.id, c.value));
  }
}

void world::check() {
  for (size_t i = 1; i < nodes_.size() && !failed_; ++i) {
    sim_node& n = nodes_[i];
    if (!n.up()) continue;
    check_commit_at_entry_end(n);
    raft::role role = n.raft->role();
    if (role == raft::role::leader) {
      int64_t& c = leader_commit_.try_emplace(n.raft->term().value, origin_ - 1).first->second;
      c = std::max(c, n.raft->commit_index().value);
    }
    raft::term term = n.raft->term();
    if (role == n.seen_role && term == n.seen_term) continue;
    trace_rec r;
    r.kind = tk::role;
    r.node = n.id;
    r.a = static_cast<int64_t>(role);
    r.b = term.value;
    r.c = n.raft->commit_index().value;
    r.d = n.raft->last_index().value;
    tr(r);
    if (term < n.seen_term && n.seen_term != raft::term{}) {
      violate(fmt::format("n{}: term went back from {} to {} without a restart", n.id, n.seen_term.value,
                          term.value));
    }
    n.seen_role = role;
    n.seen_term = term;
    if (role == raft::role::leader) check_new_leader(n);
  }
}

bool world::healed_and_converged() {
  if (heal_commit_at_us_ < 0) return false;
  for (sim_node* l : up_leaders()) {
    // Every entry ever reported committed survived the crashes: the leader has it.
    if (l->raft->commit_index().value < max_committed_) continue;
    // And every member has applied the proposal committed after the heal.
    const raft::membership& m = l->raft->membership();
    bool all = true;
    for (size_t i = 1; i < nodes_.size() && all; ++i) {
      if (!m.contains(node_id{static_cast<uint64_t>(i)})) continue;
      all = nodes_[i].up() && nodes_[i].applied.value >= heal_commit_index_;
    }
    if (all) return true;
  }
  return false;
}

std::string world::format_trace() const {
  std::string out;
  size_t n = std::min<uint64_t>(trace_next_, trace_.size());
  for (size_t k = 0; k < n; ++k) {
    const trace_rec& r = trace_[(trace_next_ - n + k) % trace_.size()];
    out += "  " + format_rec(r) + "\n";
  }
  return out;
}

std::string world::state_dump() const {
  std::string out;
  for (size_t i = 1; i < nodes_.size(); ++i) {
    const sim_node& n = nodes_[i];
    if (!n.up()) {
      out += fmt::format("  n{}: down (disk: last={} snapshot={})\n", i, n.disk->last_index().value,
                         n.disk->snapshot_meta().index.value);
      continue;
    }
    out += fmt::format("  n{}: {} term={} leader={} commit={} applied={} log=[{}..{}] {}{}\n", i,
                       raft::to_string(n.raft->role()), n.raft->term().value, n.raft->leader().value,
                       n.raft->commit_index().value, n.applied.value, n.raft->first_index().value,
                       n.raft->last_index().value, raft::to_string(n.raft->membership()),
                       n.in_flight ? " (fsync pending)" : "");
  }
  out += fmt::format("  highest committed index: {}\n", max_committed_);
  return out;
}

void world::dump_on_abort() {
  std::fprintf(
      stderr,
      "\nFAIL seed=%llu: the Raft core aborted (assertion above)\nstate:\n%s\ntrace (last %zu events):\n%s",
      static_cast<unsigned long long>(seed_), state_dump().c_str(),
      static_cast<size_t>(std::min<uint64_t>(trace_next_, trace_.size())), format_trace().c_str());
  std::fflush(stderr);
}

raft_sim_result world::run() {
  setup();
  const int64_t heal_event_cap = 5'000'000;
  while (!failed_ && !queue_.empty()) {
    if (!healing_ && events_ >= opt_.steps) begin_heal();
    event e = pop();
    now_ = e.at_us;
    handle(e);
    ++events_;
    if (!failed_) check();
    if (failed_) break;
    if (healing_) {
      if (healed_and_converged()) break;
      if (now_ - heal_start_us_ > opt_.heal_bound_ms * 1000 || events_ > opt_.steps + heal_event_cap) {
        violate(fmt::format("liveness: {} ms after the faults healed, {}", opt_.heal_bound_ms,
                            heal_commit_at_us_ < 0 ? "no new proposal has committed"
                                                   : "not every member has applied the new proposal"));
      }
    }
  }
  raft_sim_result result;
  stats_.events = events_;
  if (!failed_ && heal_commit_at_us_ >= 0)
    stats_.heal_to_commit_ms_max = (heal_commit_at_us_ - heal_start_us_) / 1000;
  result.stats = stats_;
  result.ok = !failed_;
  if (failed_) {
    result.violation = violation_ + "\nstate:\n" + state_dump();
    result.trace = format_trace();
  }
  return result;
}

extern "C" void on_abort_signal(int) {
  if (g_current_world) g_current_world->dump_on_abort();
  std::signal(SIGABRT, SIG_DFL);
  std::raise(SIGABRT);
}

}  // namespace

void raft_sim_stats::add(const raft_sim_stats& o) {
  events += o.events;
  elections_won += o.elections_won;
  max_term = std::max(max_term, o.max_term);
  entries_committed += o.entries_committed;
  offsets_committed += o.offsets_committed;
  wide_entries_committed += o.wide_entries_committed;
  messages_sent += o.messages_sent;
  messages_dropped += o.messages_dropped;
  messages_duplicated += o.messages_duplicated;
  crashes += o.crashes;
  unsynced_writes_lost += o.unsynced_writes_lost;
  torn_writes += o.torn_writes;
  partitions += o.partitions;
  one_way_partitions += o.one_way_partitions;
  config_changes_committed += o.config_changes_committed;
  transfers_started += o.transfers_started;
  timeout_nows_sent += o.timeout_nows_sent;
  snapshots_sent += o.snapshots_sent;
  snapshots_installed += o.snapshots_installed;
  compactions += o.compactions;
  append_rejections += o.append_rejections;
  pre_votes_refused += o.pre_votes_refused;
  reads_confirmed += o.reads_confirmed;
  heal_to_commit_ms_max = std::max(heal_to_commit_ms_max, o.heal_to_commit_ms_max);
}

raft_sim_result run_raft_sim(uint64_t seed, const raft_sim_options& options) {
  auto w = std::make_unique<world>(seed, options);
  g_current_world = w.get();
  auto previous = std::signal(SIGABRT, on_abort_signal);
  raft_sim_result r = w->run();
  std::signal(SIGABRT, previous);
  g_current_world = nullptr;
  return r;
}

}  // namespace tributary::sim
