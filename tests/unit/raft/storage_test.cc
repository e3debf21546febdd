// memory_storage, the reference log_storage, and the log's building blocks.
#include "cluster/raft/progress.h"
#include "harness.h"

using namespace raft_test;

namespace {
// Entries of `term` from offset `from`, one per width.
std::vector<raft::entry> run(int64_t from, std::vector<uint32_t> widths, int64_t term,
                             raft::entry_type type = raft::entry_type::normal) {
  std::vector<raft::entry> out;
  for (uint32_t w : widths) {
    out.push_back(raft::entry{trm(term), idx(from), type, bytes_of("x"), w});
    from += w;
  }
  return out;
}
}  // namespace

TEST_CASE("memory_storage: reads, their errors and overwriting appends, in offsets") {
  raft::memory_storage s(members({1}));
  CHECK(s.first_index() == idx(0));
  CHECK(s.last_index() == raft::no_index);
  CHECK(*s.term_at(raft::no_index) == trm(0));
  CHECK(s.term_at(idx(0)).error() == raft::errc::unavailable);
  CHECK(s.term_at(idx(-2)).error() == raft::errc::compacted);
  // Entries at [0..2] [3] [4..7] [8..9] [10].
  REQUIRE(s.append(run(0, {3, 1, 4, 2, 1}, 1)).has_value());
  CHECK(s.last_index() == idx(10));
  CHECK(*s.term_at(idx(5)) == trm(1));  // inside [4..7]
  auto mid = s.entries(idx(3), idx(8), 1 << 20);
  REQUIRE(mid->size() == 2);
  CHECK(mid->front().index == idx(3));
  CHECK(mid->back().last() == idx(7));
  // From inside an entry: that whole entry first, as a segment log's read.
  auto inside = s.entries(idx(5), idx(9), 1 << 20);
  REQUIRE(inside->size() == 2);
  CHECK(inside->front().index == idx(4));
  CHECK(inside->back().index == idx(8));
  CHECK(s.entries(idx(0), idx(11), 1)->size() == 1);  // at least one entry
  CHECK(s.entries(idx(0), idx(11), 2 * (raft::entry::header_bytes + 1))->size() == 2);
  CHECK(s.entries(raft::no_index, idx(2), 1 << 20).error() == raft::errc::compacted);
  CHECK(s.entries(idx(0), idx(12), 1 << 20).error() == raft::errc::unavailable);
  CHECK(s.entries(idx(11), idx(11), 1 << 20)->empty());

  CHECK(s.append(run(12, {1}, 1)).error() == raft::errc::unavailable);        // a gap
  CHECK(s.append(run(5, {1}, 2)).error() == raft::errc::not_entry_boundary);  // inside [4..7]
  CHECK(s.append(run(11, {0}, 1)).error() == raft::errc::invalid_width);
  CHECK(s.append(run(11, {raft::max_entry_width + 1}, 1)).error() == raft::errc::invalid_width);
  CHECK(s.last_index() == idx(10));                  // refusals change nothing
  REQUIRE(s.append(run(4, {2, 2}, 2)).has_value());  // overwrites [4..7] [8..9] [10]
  CHECK(s.last_index() == idx(7));
  CHECK(*s.term_at(idx(4)) == trm(2));
  CHECK(*s.term_at(idx(3)) == trm(1));
  CHECK(s.entries(idx(6), idx(8), 1 << 20)->front().index == idx(6));
}

TEST_CASE("memory_storage: a log that starts at an offset other than 0") {
  raft::memory_storage s(members({1}), idx(1000));
  CHECK(s.first_index() == idx(1000));
  CHECK(s.last_index() == idx(999));
  CHECK(s.snapshot_meta().index == idx(999));
  CHECK(s.append(run(0, {1}, 1)).error() == raft::errc::compacted);
  REQUIRE(s.append(run(1000, {16, 16}, 1)).has_value());
  CHECK(s.last_index() == idx(1031));
}

TEST_CASE("memory_storage: snapshots and compaction at entry ends") {
  raft::memory_storage s(members({1}));
  REQUIRE(s.append(run(0, {2, 3, 1, 4}, 1)).has_value());       // [0..1] [2..4] [5] [6..9]
  CHECK(s.compact(idx(1)).error() == raft::errc::unavailable);  // no snapshot covers it yet
  CHECK(s.create_snapshot(idx(3), members({1, 2}), {}).error() == raft::errc::not_entry_boundary);
  REQUIRE(s.create_snapshot(idx(4), members({1, 2}), bytes_of("s4")).has_value());
  CHECK(s.snapshot_meta().index == idx(4));
  CHECK(s.snapshot_meta().config == members({1, 2}));
  CHECK(s.create_snapshot(idx(1), members({1}), {}).error() == raft::errc::snapshot_out_of_date);
  CHECK(s.create_snapshot(idx(10), members({1}), {}).error() == raft::errc::unavailable);
  CHECK(s.compact(idx(0)).error() == raft::errc::not_entry_boundary);  // inside [0..1]
  REQUIRE(s.compact(idx(1)).has_value());
  CHECK(s.first_index() == idx(2));
  CHECK(*s.term_at(idx(1)) == trm(1));  // the last compacted entry's term is kept
  CHECK(s.entries(idx(1), idx(3), 1 << 20).error() == raft::errc::compacted);
  CHECK(s.compact(idx(5)).error() == raft::errc::unavailable);  // past the snapshot
  CHECK(s.compact(idx(3)).error() == raft::errc::not_entry_boundary);
  REQUIRE(s.compact(idx(4)).has_value());
  CHECK(s.first_index() == idx(5));
  REQUIRE(s.compact(idx(0)).has_value());  // already compacted: no-op
  CHECK(s.append(run(2, {1}, 1)).error() == raft::errc::compacted);

  raft::snapshot from_leader{{idx(20), trm(3), members({1, 2, 3})}, bytes_of("s20")};
  REQUIRE(s.apply_snapshot(from_leader).has_value());
  CHECK(s.first_index() == idx(21));
  CHECK(s.last_index() == idx(20));
  CHECK(*s.term_at(idx(20)) == trm(3));
  CHECK(s.apply_snapshot(from_leader).error() == raft::errc::snapshot_out_of_date);
}

TEST_CASE("log_storage::config_entries scans for config entries") {
  raft::memory_storage s(members({1}));
  auto ents = run(0, {3, 1, 5}, 1);
  ents[1].type = raft::entry_type::config;
  REQUIRE(s.append(ents).has_value());
  auto configs = s.config_entries(idx(0), idx(9));
  REQUIRE(configs.has_value());
  REQUIRE(configs->size() == 1);
  CHECK((*configs)[0].index == idx(3));
  CHECK(s.config_entries(idx(0), idx(12)).error() == raft::errc::unavailable);
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
  for (int e = 1; e <= static_cast<int>(raft::errc::not_entry_boundary); ++e) {
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
  m.entries.push_back(raft::entry{trm(3), idx(11), raft::entry_type::normal, {}, 16});
  CHECK(raft::to_string(m) == "append 1->2 t=3 prev=10@3 c=9 n=1 last=26");
  CHECK(std::string(raft::to_string(raft::role::pre_candidate)) == "pre_candidate");
}
