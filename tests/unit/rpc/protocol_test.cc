#include "cluster/rpc/protocol.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace tributary;
using namespace tributary::cluster;
using rpc::frame;

namespace {

std::vector<uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// Feeds `wire` and expects exactly one frame back.
frame one_frame(const std::vector<uint8_t>& wire) {
  rpc::frame_reader r(1 << 20);
  r.feed(wire);
  auto f = r.next();
  REQUIRE(f.has_value());
  REQUIRE(f->has_value());
  auto again = r.next();
  REQUIRE(again.has_value());
  CHECK_FALSE(again->has_value());
  CHECK(r.buffered() == 0);
  return std::move(**f);
}

raft::message sample_append() {
  raft::message m;
  m.type = raft::message_type::append;
  m.term = raft::term{7};
  m.index = raft::log_index{99};
  m.log_term = raft::term{6};
  m.commit = raft::log_index{90};
  m.reject_hint = raft::no_index;
  m.context = 123456789;
  raft::entry a{raft::term{7}, raft::log_index{100}, raft::entry_type::normal,
                raft::payload(bytes_of("a RecordBatch")), 5};
  raft::entry b{raft::term{7}, raft::log_index{105}, raft::entry_type::no_op, raft::payload(), 1};
  m.entries = {a, b};
  return m;
}

void check_same(const raft::message& a, const raft::message& b) {
  CHECK(a.type == b.type);
  CHECK(a.term == b.term);
  CHECK(a.index == b.index);
  CHECK(a.log_term == b.log_term);
  CHECK(a.commit == b.commit);
  CHECK(a.reject_hint == b.reject_hint);
  CHECK(a.reject == b.reject);
  CHECK(a.transfer == b.transfer);
  CHECK(a.context == b.context);
  CHECK(a.entries == b.entries);
  REQUIRE(a.snapshot.has_value() == b.snapshot.has_value());
  if (a.snapshot) {
    CHECK(a.snapshot->metadata == b.snapshot->metadata);
    CHECK(a.snapshot->data == b.snapshot->data);
  }
}

}  // namespace

TEST_CASE("hello, hello_ack, hello_reject, request and response round-trip") {
  rpc::hello h{"cluster-x", raft::node_id{3}, 1, 1};
  CHECK(std::get<rpc::hello>(one_frame(rpc::encode(h, 1))) == h);
  rpc::hello_ack a{raft::node_id{9}, 1};
  CHECK(std::get<rpc::hello_ack>(one_frame(rpc::encode(a, 1))) == a);
  rpc::hello_reject j{"cluster id mismatch"};
  CHECK(std::get<rpc::hello_reject>(one_frame(rpc::encode(j, 1))) == j);
  rpc::request q{42, rpc::api::controller_command, bytes_of(R"({"op":"x"})")};
  CHECK(std::get<rpc::request>(one_frame(rpc::encode(q, 1))) == q);
  rpc::response p{42, 36, "topic exists", bytes_of("body")};
  CHECK(std::get<rpc::response>(one_frame(rpc::encode(p, 1))) == p);
}

TEST_CASE("raft messages of several groups in one frame, entries and snapshot included") {
  rpc::raft_batch b;
  b.messages.push_back({rpc::group_id{0}, sample_append()});
  raft::message snap;
  snap.type = raft::message_type::snapshot;
  snap.term = raft::term{3};
  snap.reject = true;
  snap.transfer = true;
  snap.snapshot = raft::snapshot{{raft::log_index{41}, raft::term{2},
                                  raft::membership{{raft::node_id{1}, raft::node_id{2}}, {raft::node_id{5}}}},
                                 raft::payload(bytes_of("state"))};
  b.messages.push_back({rpc::group_id{1ull << 40}, snap});
  raft::message hb;
  hb.type = raft::message_type::heartbeat_response;
  hb.term = raft::term{1};
  b.messages.push_back({rpc::group_id{17}, hb});

  auto got = std::get<rpc::raft_batch>(one_frame(rpc::encode(b, 1)));
  REQUIRE(got.messages.size() == 3);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(got.messages[i].group == b.messages[i].group);
    check_same(got.messages[i].message, b.messages[i].message);
  }
}

TEST_CASE("heartbeats of many groups cost a few bytes each") {
  rpc::raft_batch b;
  for (uint64_t g = 1; g <= 1000; ++g) {
    raft::message hb;
    hb.type = raft::message_type::heartbeat;
    hb.term = raft::term{12};
    hb.commit = raft::log_index{static_cast<int64_t>(g * 1000)};
    hb.context = 77;
    b.messages.push_back({rpc::group_id{g}, hb});
  }
  auto wire = rpc::encode(b, 1);
  CHECK(wire.size() < 1000 * 16);
  CHECK(std::get<rpc::raft_batch>(one_frame(wire)).messages.size() == 1000);
}

TEST_CASE("a stream split at every byte gives the same frames") {
  std::vector<uint8_t> wire;
  std::vector<frame> sent = {rpc::hello{"c", raft::node_id{1}, 1, 1},
                             rpc::raft_batch{{{rpc::group_id{2}, sample_append()}}},
                             rpc::request{1, rpc::api::controller_command, bytes_of("x")}};
  for (const auto& f : sent) {
    auto w = rpc::encode(f, 1);
    wire.insert(wire.end(), w.begin(), w.end());
  }
  rpc::frame_reader r(1 << 20);
  std::vector<frame> got;
  for (uint8_t byte : wire) {
    r.feed(std::span<const uint8_t>(&byte, 1));
    for (;;) {
      auto f = r.next();
      REQUIRE(f.has_value());
      if (!f->has_value()) break;
      got.push_back(std::move(**f));
    }
  }
  REQUIRE(got.size() == 3);
  CHECK(std::holds_alternative<rpc::hello>(got[0]));
  check_same(std::get<rpc::raft_batch>(got[1]).messages.at(0).message, sample_append());
  CHECK(std::get<rpc::request>(got[2]).body == bytes_of("x"));
}

TEST_CASE("bad frames get a precise error, and the error sticks") {
  auto expect_error = [](std::vector<uint8_t> wire, rpc::errc want, size_t max = 1 << 20) {
    rpc::frame_reader r(max);
    r.feed(wire);
    auto f = r.next();
    REQUIRE_FALSE(f.has_value());
    CHECK(f.error() == rpc::errc(want));
    // Sticky: even a valid frame afterwards is refused.
    r.feed(rpc::encode(rpc::hello_reject{"x"}, 1));
    auto again = r.next();
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error() == rpc::errc(want));
  };
  SUBCASE("a length above the limit, before its bytes arrive") {
    expect_error({0x00, 0x10, 0x00, 0x01}, rpc::errc::frame_too_large, 1 << 20);
  }
  SUBCASE("a length shorter than the header") {
    expect_error({0, 0, 0, 2, 0, 1}, rpc::errc::frame_too_small);
  }
  SUBCASE("an unknown version") {
    auto w = rpc::encode(rpc::hello_reject{"x"}, 1);
    w[5] = 9;
    expect_error(w, rpc::errc::unsupported_version);
  }
  SUBCASE("an unknown type") {
    auto w = rpc::encode(rpc::hello_reject{"x"}, 1);
    w[7] = 99;
    expect_error(w, rpc::errc::unknown_frame_type);
  }
  SUBCASE("trailing bytes") {
    auto w = rpc::encode(rpc::hello_ack{raft::node_id{1}, 1}, 1);
    w.push_back(0);
    w[3] = static_cast<uint8_t>(w[3] + 1);
    expect_error(w, rpc::errc::trailing_bytes);
  }
  SUBCASE("a truncated body") {
    auto w = rpc::encode(rpc::hello_ack{raft::node_id{1}, 1}, 1);
    w.pop_back();
    w[3] = static_cast<uint8_t>(w[3] - 1);
    expect_error(w, rpc::errc::malformed);
  }
  SUBCASE("an entry of width 0") {
    auto m = sample_append();
    m.entries.resize(1);
    m.entries[0].width = 1;
    auto w = rpc::encode(rpc::raft_batch{{{rpc::group_id{1}, m}}}, 1);
    // The width is the byte before the data length (13 bytes of data, length varint 13).
    const std::string_view data = "a RecordBatch";
    auto at = std::search(w.begin(), w.end(), data.begin(), data.end());
    REQUIRE(at != w.end());
    REQUIRE(*(at - 2) == 1);
    *(at - 2) = 0;
    expect_error(w, rpc::errc::malformed);
  }
  SUBCASE("a message count larger than the bytes could hold") {
    std::vector<uint8_t> w = {0, 0, 0, 7, 0, 1, 0, 4, 0xff, 0xff, 0x03};
    expect_error(w, rpc::errc::malformed);
  }
  SUBCASE("unknown message flags") {
    auto w = rpc::encode(rpc::raft_batch{{{rpc::group_id{1}, raft::message{}}}}, 1);
    // header(8) + count(1) + group(1) + type(1) -> flags
    w[11] = 0x80;
    expect_error(w, rpc::errc::malformed);
  }
}

TEST_CASE("a hello is always encoded in the first version, whatever the connection speaks") {
  auto w = rpc::encode(rpc::hello{"c", raft::node_id{1}, 1, 3}, 3);
  CHECK(w[4] == 0);
  CHECK(w[5] == rpc::min_version);
}
