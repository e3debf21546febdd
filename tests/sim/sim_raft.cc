// sim_raft: runs the Raft simulator (raft_sim.h) over one seed or a range of seeds.
//
//   sim_raft --seed 42 --nodes 5 --steps 3000          reproduce one seed exactly
//   sim_raft --seeds 1..1000 --nodes 3                 a range; stops at the first failure
//   sim_raft --seeds 1..200 --knob commit_on_minority --expect-violation
//                                                      prove the checkers catch a planted bug
//   sim_raft --seed 42 --trace-all                     print every event of a run
//
// Exit status: 0 when every seed passed (with --expect-violation: when some seed failed), 1
// otherwise, 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "tests/sim/raft_sim.h"

namespace {

using tributary::sim::raft_sim_options;
using tributary::sim::raft_sim_stats;

struct args {
  uint64_t first = 1;
  uint64_t last = 1;
  raft_sim_options opt;
  std::string knob;
  bool expect_violation = false;
  bool require_coverage = false;
  bool quiet = false;
  int64_t slow_heal_ms = -1;  // report seeds whose heal phase took longer
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "sim_raft: %s\n"
               "usage: sim_raft [--seed S | --seeds A..B] [--nodes 3|5] [--steps N] [--heal-bound-ms M]\n"
               "                [--trace N] [--trace-all]\n"
               "                [--knob commit_on_minority|send_votes_before_persist|ack_entry_start]\n"
               "                [--expect-violation] [--require-coverage] [--quiet]\n",
               why);
  std::exit(2);
}

uint64_t to_u64(std::string_view s) {
  if (s.empty()) usage("expected a number");
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') usage("expected a number");
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

args parse(int argc, char** argv) {
  args a;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usage("a flag lacks its value");
      return argv[++i];
    };
    if (flag == "--seed") {
      a.first = a.last = to_u64(value());
    } else if (flag == "--seeds") {
      std::string_view v = value();
      size_t dots = v.find("..");
      if (dots == std::string_view::npos) usage("--seeds wants A..B");
      a.first = to_u64(v.substr(0, dots));
      a.last = to_u64(v.substr(dots + 2));
      if (a.last < a.first) usage("--seeds wants A <= B");
    } else if (flag == "--nodes") {
      a.opt.nodes = static_cast<int>(to_u64(value()));
      if (a.opt.nodes < 1 || a.opt.nodes > 9) usage("--nodes wants 1..9");
    } else if (flag == "--steps") {
      a.opt.steps = static_cast<int64_t>(to_u64(value()));
    } else if (flag == "--heal-bound-ms") {
      a.opt.heal_bound_ms = static_cast<int64_t>(to_u64(value()));
    } else if (flag == "--trace") {
      a.opt.trace_events = static_cast<size_t>(to_u64(value()));
    } else if (flag == "--trace-all") {
      a.opt.trace_all = true;
    } else if (flag == "--knob") {
      a.knob = value();
      if (a.knob == "commit_on_minority") {
        a.opt.knobs.commit_on_minority = true;
      } else if (a.knob == "send_votes_before_persist") {
        a.opt.knobs.send_votes_before_persist = true;
      } else if (a.knob == "ack_entry_start") {
        a.opt.knobs.ack_entry_start = true;
      } else {
        usage("unknown knob");
      }
    } else if (flag == "--expect-violation") {
      a.expect_violation = true;
    } else if (flag == "--require-coverage") {
      a.require_coverage = true;
    } else if (flag == "--report-heal-over-ms") {
      a.slow_heal_ms = static_cast<int64_t>(to_u64(value()));
    } else if (flag == "--quiet") {
      a.quiet = true;
    } else {
      usage("unknown flag");
    }
  }
  return a;
}

std::string reproduce(const args& a, uint64_t seed) {
  std::string cmd = fmt::format("sim_raft --seed {} --nodes {} --steps {}", seed, a.opt.nodes, a.opt.steps);
  if (a.opt.heal_bound_ms != raft_sim_options{}.heal_bound_ms)
    cmd += fmt::format(" --heal-bound-ms {}", a.opt.heal_bound_ms);
  if (!a.knob.empty()) cmd += " --knob " + a.knob;
  return cmd;
}

// Features every long enough range must exercise, or the schedules have gone soft.
std::string missing_coverage(const raft_sim_stats& s) {
  std::string out;
  auto need = [&](const char* what, int64_t v) {
    if (v == 0) out += fmt::format(" {}", what);
  };
  need("crashes", s.crashes);
  need("unsynced-writes-lost", s.unsynced_writes_lost);
  need("torn-writes", s.torn_writes);
  need("partitions", s.partitions);
  need("one-way-partitions", s.one_way_partitions);
  need("duplicates", s.messages_duplicated);
  need("config-changes", s.config_changes_committed);
  need("leadership-transfers", s.timeout_nows_sent);
  need("snapshots-installed", s.snapshots_installed);
  need("append-rejections", s.append_rejections);
  need("pre-votes-refused", s.pre_votes_refused);
  need("reads-confirmed", s.reads_confirmed);
  need("wide-entries", s.wide_entries_committed);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  args a = parse(argc, argv);
  raft_sim_stats total;
  uint64_t ran = 0;
  auto started = std::chrono::steady_clock::now();
  for (uint64_t seed = a.first; seed <= a.last; ++seed) {
    auto r = tributary::sim::run_raft_sim(seed, a.opt);
    ++ran;
    total.add(r.stats);
    if (!r.ok) {
      std::printf("%s seed=%llu nodes=%d steps=%lld: %s\ntrace (last %zu events):\n%s\nreproduce: %s\n",
                  a.expect_violation ? "CAUGHT" : "FAIL", static_cast<unsigned long long>(seed), a.opt.nodes,
                  static_cast<long long>(a.opt.steps), r.violation.c_str(), a.opt.trace_events,
                  r.trace.c_str(), reproduce(a, seed).c_str());
      if (a.expect_violation) {
        std::printf("sim_raft: the planted bug (%s) was caught at seed %llu after %llu seed(s)\n",
                    a.knob.c_str(), static_cast<unsigned long long>(seed),
                    static_cast<unsigned long long>(ran));
        return 0;
      }
      return 1;
    }
    if (a.slow_heal_ms >= 0 && r.stats.heal_to_commit_ms_max > a.slow_heal_ms) {
      std::printf("seed %llu: heal-to-commit %lld ms\n", static_cast<unsigned long long>(seed),
                  static_cast<long long>(r.stats.heal_to_commit_ms_max));
    }
    if (!a.quiet && a.first == a.last) {
      std::printf(
          "seed %llu passed: %lld events, %lld entries (%lld offsets) committed, max term %lld, "
          "heal-to-commit %lld ms\n",
          static_cast<unsigned long long>(seed), static_cast<long long>(r.stats.events),
          static_cast<long long>(r.stats.entries_committed),
          static_cast<long long>(r.stats.offsets_committed), static_cast<long long>(r.stats.max_term),
          static_cast<long long>(r.stats.heal_to_commit_ms_max));
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "sim_raft: %llu seed(s) %llu..%llu nodes=%d steps=%lld passed in %.1fs (%.1f ms/seed)\n"
      "  events=%lld elections=%lld max_term=%lld committed=%lld (offsets=%lld wide=%lld) msgs=%lld\n"
      "  dropped=%lld duplicated=%lld\n"
      "  crashes=%lld unsynced_lost=%lld torn=%lld partitions=%lld one_way=%lld config_changes=%lld\n"
      "  transfers=%lld timeout_now=%lld snapshots_sent=%lld installed=%lld compactions=%lld\n"
      "  append_rejections=%lld pre_votes_refused=%lld reads_confirmed=%lld heal_to_commit_max=%lldms\n",
      static_cast<unsigned long long>(ran), static_cast<unsigned long long>(a.first),
      static_cast<unsigned long long>(a.last), a.opt.nodes, static_cast<long long>(a.opt.steps), secs,
      ran ? 1000.0 * secs / static_cast<double>(ran) : 0.0, static_cast<long long>(total.events),
      static_cast<long long>(total.elections_won), static_cast<long long>(total.max_term),
      static_cast<long long>(total.entries_committed), static_cast<long long>(total.offsets_committed),
      static_cast<long long>(total.wide_entries_committed), static_cast<long long>(total.messages_sent),
      static_cast<long long>(total.messages_dropped), static_cast<long long>(total.messages_duplicated),
      static_cast<long long>(total.crashes), static_cast<long long>(total.unsynced_writes_lost),
      static_cast<long long>(total.torn_writes), static_cast<long long>(total.partitions),
      static_cast<long long>(total.one_way_partitions),
      static_cast<long long>(total.config_changes_committed), static_cast<long long>(total.transfers_started),
      static_cast<long long>(total.timeout_nows_sent), static_cast<long long>(total.snapshots_sent),
      static_cast<long long>(total.snapshots_installed), static_cast<long long>(total.compactions),
      static_cast<long long>(total.append_rejections), static_cast<long long>(total.pre_votes_refused),
      static_cast<long long>(total.reads_confirmed), static_cast<long long>(total.heal_to_commit_ms_max));
  if (a.expect_violation) {
    std::printf("sim_raft: the planted bug (%s) was NOT caught in seeds %llu..%llu\n", a.knob.c_str(),
                static_cast<unsigned long long>(a.first), static_cast<unsigned long long>(a.last));
    return 1;
  }
  if (a.require_coverage) {
    std::string missing = missing_coverage(total);
    if (!missing.empty()) {
      std::printf("sim_raft: these features were never exercised:%s\n", missing.c_str());
      return 1;
    }
  }
  return 0;
}
