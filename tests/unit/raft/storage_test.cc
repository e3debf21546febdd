// memory_storage, the reference log_storage, and the log's building blocks.
#include "cluster/raft/progress.h"
#include "harness.h"

using namespace raft_test;

namespace {
std::vector<raft::entry> run(int64_t from, int64_t to, int64_t term,
                             raft::entry_type type = raft::entry_type::normal) {
  std::vector<raft::entry> out;
  for (int64_t i = from; i <= to; ++i) out.push_back(raft::entry{trm(term), idx(i), type, bytes_of("x")});
  return out;
}
}  // namespace

TEST_CASE("memory_storage: reads, their errors and overwriting appends") {
  raft::memory_storage s(members({1}));
  CHECK(s.first_index() == idx(1));
  CHECK(s.last_index() == idx(0));
  CHECK(*s.term_at(idx(0)) == trm(0));
  CHECK(s.term_at(idx(1)).error() == raft::errc::unavailable);
  CHECK(s.term_at(idx(-1)).error() == raft::errc::compacted);
  REQUIRE(s.append(run(1, 5, 1)).has_value());
  CHECK(s.last_index() == idx(5));
  CHECK(s.entries(idx(2), idx(4), 1 << 20)->size() == 2);
  CHECK(s.entries(idx(1), idx(6), 1)->size() == 1);  // at least one entry
  CHECK(s.entries(idx(1), idx(6), 2 * (raft::entry::header_bytes + 1))->size() == 2);
  CHECK(s.entries(idx(0), idx(2), 1 << 20).error() == raft::errc::compacted);
  CHECK(s.entries(idx(1), idx(7), 1 << 20).error() == raft::errc::unavailable);
  CHECK(s.append(run(7, 7, 1)).error() == raft::errc::unavailable);  // a gap
  REQUIRE(s.append(run(3, 3, 2)).has_value());                       // overwrites 3..5
  CHECK(s.last_index() == idx(3));
  CHECK(*s.term_at(idx(3)) == trm(2));
}

TEST_CASE("memory_storage: snapshots and compaction") {
  raft::memory_storage s(members({1}));
  REQUIRE(s.append(run(1, 5, 1)).has_value());
  CHECK(s.compact(idx(2)).error() == raft::errc::unavailable);  // no snapshot covers it yet
  REQUIRE(s.create_snapshot(idx(3), members({1, 2}), bytes_of("s3")).has_value());
  CHECK(s.snapshot_meta().index == idx(3));
  CHECK(s.snapshot_meta().config == members({1, 2}));
  CHECK(s.create_snapshot(idx(2), members({1}), {}).error() == raft::errc::snapshot_out_of_date);
  CHECK(s.create_snapshot(idx(9), members({1}), {}).error() == raft::errc::unavailable);
  REQUIRE(s.compact(idx(2)).has_value());
  CHECK(s.first_index() == idx(3));
  CHECK(*s.term_at(idx(2)) == trm(1));  // the last compacted entry's term is kept
  CHECK(s.entries(idx(2), idx(3), 1 << 20).error() == raft::errc::compacted);
  CHECK(s.compact(idx(4)).error() == raft::errc::unavailable);  // past the snapshot
  REQUIRE(s.compact(idx(1)).has_value());                       // already compacted: no-op
  CHECK(s.append(run(2, 2, 1)).error() == raft::errc::compacted);

  raft::snapshot from_leader{{idx(10), trm(3), members({1, 2, 3})}, bytes_of("s10")};
  REQUIRE(s.apply_snapshot(from_leader).has_value());
  CHECK(s.first_index() == idx(11));
  CHECK(s.last_index() == idx(10));
  CHECK(*s.term_at(idx(10)) == trm(3));
  CHECK(s.apply_snapshot(from_leader).error() == raft::errc::snapshot_out_of_date);
}

TEST_CASE("log_storage::config_entries scans for config entries") {
  raft::memory_storage s(members({1}));
  auto ents = run(1, 3, 1);
  ents[1].type = raft::entry_type::config;
  REQUIRE(s.append(ents).has_value());
  auto configs = s.config_entries(idx(1), idx(4));
  REQUIRE(configs.has_value());
  REQUIRE(configs->size() == 1);
  CHECK((*configs)[0].index == idx(2));
  CHECK(s.config_entries(idx(1), idx(9)).error() == raft::errc::unavailable);
}

TEST_CASE("inflight_window is a bounded ring") {
  raft::inflight_window w(3);
  w.add(idx(5));
  w.add(idx(9));
  w.add(idx(12));
  CHECK(w.full());
  w.free_through(idx(9));
  CHECK(w.count() == 1);
  w.add(idx(15));
  w.add(idx(20));
  CHECK(w.full());
  w.free_first();
  CHECK(w.count() == 2);
  w.free_through(idx(100));
  CHECK(w.count() == 0);
  w.free_first();  // on empty: nothing
  CHECK(w.count() == 0);
}

TEST_CASE("payload copies share their bytes") {
  raft::payload a = bytes_of("shared");
  raft::payload b = a;
  CHECK(a.bytes().data() == b.bytes().data());
  CHECK(a == bytes_of("shared"));
  CHECK_FALSE(a == bytes_of("other"));
  CHECK(raft::payload{}.empty());
  CHECK(raft::payload(std::vector<uint8_t>{}).bytes().empty());
}

TEST_CASE("errors and message types have names") {
  std::error_code ec = raft::errc::not_leader;
  CHECK(std::string(ec.category().name()) == "raft");
  CHECK(ec.message() == "not the leader");
  for (int e = 1; e <= static_cast<int>(raft::errc::invalid_config); ++e) {
    CHECK(std::error_code(static_cast<raft::errc>(e)).message() != "unknown raft error");
  }
  raft::message m;
  m.type = raft::message_type::append;
  m.from = nid(1);
  m.to = nid(2);
  m.term = trm(3);
  m.index = idx(10);
  m.log_term = trm(3);
  m.commit = idx(9);
  CHECK(raft::to_string(m) == "append 1->2 t=3 prev=10@3 c=9 n=0");
  CHECK(std::string(raft::to_string(raft::role::pre_candidate)) == "pre_candidate");
}
