// Byte layouts written out by hand from the protocol guide's BNF for the versions where fields
// appear, disappear, become nullable or flexible. They are independent of the descriptions in
// messages/, so a wrong `.min`/`.max` there fails here.
#include <doctest/doctest.h>

#include "tests/unit/kafka_protocol/test_support.h"

namespace tributary::kafka::protocol {
namespace {

// Builds expected bytes with the primitive encodings only.
struct wire {
  byte_writer w;
  wire& i8(int8_t v) { return w.write_i8(v), *this; }
  wire& i16(int16_t v) { return w.write_i16(v), *this; }
  wire& i32(int32_t v) { return w.write_i32(v), *this; }
  wire& i64(int64_t v) { return w.write_i64(v), *this; }
  wire& str(std::string_view s) { return w.write_string(s), *this; }           // int16 length
  wire& cstr(std::string_view s) { return w.write_compact_string(s), *this; }  // uvarint length + 1
  wire& null_str() { return w.write_i16(-1), *this; }
  wire& null_cstr() { return w.write_uvarint(0), *this; }
  wire& arr(int32_t n) { return w.write_i32(n), *this; }
  wire& carr(uint32_t n) { return w.write_uvarint(n + 1), *this; }
  wire& null_carr() { return w.write_uvarint(0), *this; }
  wire& byts(byte_span b) { return w.write_bytes(b), *this; }
  wire& cbyts(byte_span b) { return w.write_compact_bytes(b), *this; }
  wire& uvar(uint32_t v) { return w.write_uvarint(v), *this; }
  wire& tags() { return w.write_uvarint(0), *this; }  // an empty tagged-field section
  wire& raw(byte_span b) { return w.write_raw(b), *this; }
  std::vector<uint8_t> bytes() const { return w.buffer(); }
};

// m encodes to `expected` at `version`, and `expected` decodes to a message that encodes back to it
// (m itself may carry values of fields that `version` does not have).
template <message T>
void check_layout(const T& m, int16_t version, const std::vector<uint8_t>& expected) {
  byte_writer out;
  encode_body(out, m, version);
  CHECK_MESSAGE(test::to_hex(out.view()) == test::to_hex(expected), T::api.name, " v", version);
  byte_reader r(expected);
  auto decoded = decode_body<T>(r, version);
  REQUIRE_MESSAGE(decoded, T::api.name, " v", version, ": ", test::error_text(decoded));
  CHECK(r.empty());
  byte_writer again;
  encode_body(again, *decoded, version);
  CHECK_MESSAGE(again.buffer() == expected, T::api.name, " v", version, ": ", debug_string(*decoded));
}

template <message T>
std::error_code decode_error(int16_t version, const std::vector<uint8_t>& b) {
  byte_reader r(b);
  auto decoded = decode_body<T>(r, version);
  REQUIRE_FALSE(decoded);
  return decoded.error();
}

const uint8_t k_records[] = {0xde, 0xad, 0xbe, 0xef};
const uuid k_uuid{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};

TEST_CASE("ApiVersions") {
  check_layout(api_versions_request{}, 0, {});
  api_versions_request req{"librdkafka", "2.0.2"};
  check_layout(req, 3, wire().cstr("librdkafka").cstr("2.0.2").tags().bytes());
  check_layout(api_versions_request{}, 2, {});  // the software fields do not exist before v3

  api_versions_response resp;
  resp.api_keys = {{0, 0, 7}, {18, 0, 3}};
  resp.throttle_time_ms = 5;
  check_layout(resp, 1, wire().i16(0).arr(2).i16(0).i16(0).i16(7).i16(18).i16(0).i16(3).i32(5).bytes());
  resp.throttle_time_ms = 0;
  check_layout(resp, 0, wire().i16(0).arr(2).i16(0).i16(0).i16(7).i16(18).i16(0).i16(3).bytes());
  check_layout(
      resp, 3,
      wire().i16(0).carr(2).i16(0).i16(0).i16(7).tags().i16(18).i16(0).i16(3).tags().i32(0).tags().bytes());

  // v3 tagged fields: written in tag order, only when not default.
  resp.supported_features = {{"metadata.version", 1, 7}};
  resp.finalized_features_epoch = 3;
  resp.zk_migration_ready = true;
  wire feature;
  feature.carr(1).cstr("metadata.version").i16(1).i16(7).tags();
  wire expect;
  expect.i16(0).carr(2).i16(0).i16(0).i16(7).tags().i16(18).i16(0).i16(3).tags().i32(0);
  expect.uvar(3);
  expect.uvar(0).uvar(static_cast<uint32_t>(feature.bytes().size())).raw(feature.bytes());
  expect.uvar(1).uvar(8).i64(3);
  expect.uvar(3).uvar(1).i8(1);
  check_layout(resp, 3, expect.bytes());
}

TEST_CASE("Metadata request: null topics from v1, auto-creation from v4, topic ids from v10") {
  metadata_request all;
  all.topics.reset();
  check_layout(all, 1, wire().arr(-1).bytes());
  check_layout(metadata_request{}, 0, wire().arr(0).bytes());  // v0: empty = all topics
  CHECK(decode_error<metadata_request>(0, wire().arr(-1).bytes()) == errc::unexpected_null);

  metadata_request one;
  one.topics->push_back({{}, "a"});
  one.allow_auto_topic_creation = false;
  check_layout(one, 0, wire().arr(1).str("a").bytes());
  check_layout(one, 3, wire().arr(1).str("a").bytes());
  check_layout(one, 4, wire().arr(1).str("a").i8(0).bytes());
  one.include_cluster_authorized_operations = true;
  one.include_topic_authorized_operations = true;
  check_layout(one, 8, wire().arr(1).str("a").i8(0).i8(1).i8(1).bytes());
  check_layout(one, 9, wire().carr(1).cstr("a").tags().i8(0).i8(1).i8(1).tags().bytes());
  (*one.topics)[0].topic_id = k_uuid;
  check_layout(one, 10, wire().carr(1).raw(k_uuid.value).cstr("a").tags().i8(0).i8(1).i8(1).tags().bytes());
  one.include_cluster_authorized_operations = false;  // gone from v11
  check_layout(one, 11, wire().carr(1).raw(k_uuid.value).cstr("a").tags().i8(0).i8(1).tags().bytes());
  (*one.topics)[0].name.reset();  // by id only: null names from v10
  check_layout(one, 10, wire().carr(1).raw(k_uuid.value).null_cstr().tags().i8(0).i8(0).i8(1).tags().bytes());
  CHECK(decode_error<metadata_request>(
            9, wire().carr(1).null_cstr().tags().i8(0).i8(0).i8(1).tags().bytes()) == errc::unexpected_null);
}

TEST_CASE("Metadata response across versions") {
  metadata_response m;
  m.brokers.push_back({1, "h", 9092, std::nullopt});
  metadata_response::partition p;
  p.partition_index = 0;
  p.leader_id = 1;
  p.replica_nodes = {1};
  p.isr_nodes = {1};
  m.topics.push_back({error_code::none, "t", {}, false, {p}, std::numeric_limits<int32_t>::min()});
  const auto partition_v0 = [](wire& w) { w.arr(1).i16(0).i32(0).i32(1).arr(1).i32(1).arr(1).i32(1); };

  wire v0;
  v0.arr(1).i32(1).str("h").i32(9092).arr(1).i16(0).str("t");
  partition_v0(v0);
  check_layout(m, 0, v0.bytes());

  m.controller_id = 1;
  wire v1;
  v1.arr(1).i32(1).str("h").i32(9092).null_str().i32(1).arr(1).i16(0).str("t").i8(0);
  partition_v0(v1);
  check_layout(m, 1, v1.bytes());

  m.cluster_id = "c";
  m.throttle_time_ms = 7;
  m.topics[0].partitions[0].leader_epoch = 4;
  m.topics[0].partitions[0].offline_replicas = {2};
  wire v7;
  v7.i32(7).arr(1).i32(1).str("h").i32(9092).null_str().str("c").i32(1).arr(1).i16(0).str("t").i8(0);
  v7.arr(1).i16(0).i32(0).i32(1).i32(4).arr(1).i32(1).arr(1).i32(1).arr(1).i32(2);
  check_layout(m, 7, v7.bytes());

  m.topics[0].topic_authorized_operations = 8;
  m.cluster_authorized_operations = 9;
  wire v9;
  v9.i32(7)
      .carr(1)
      .i32(1)
      .cstr("h")
      .i32(9092)
      .null_cstr()
      .tags()
      .cstr("c")
      .i32(1)
      .carr(1)
      .i16(0)
      .cstr("t")
      .i8(0);
  v9.carr(1).i16(0).i32(0).i32(1).i32(4).carr(1).i32(1).carr(1).i32(1).carr(1).i32(2).tags();
  v9.i32(8).tags().i32(9).tags();
  check_layout(m, 9, v9.bytes());

  m.cluster_authorized_operations = std::numeric_limits<int32_t>::min();  // gone from v11
  m.topics[0].name.reset();                                               // nullable from v12
  m.topics[0].topic_id = k_uuid;
  wire v12;
  v12.i32(7)
      .carr(1)
      .i32(1)
      .cstr("h")
      .i32(9092)
      .null_cstr()
      .tags()
      .cstr("c")
      .i32(1)
      .carr(1)
      .i16(0)
      .null_cstr();
  v12.raw(k_uuid.value).i8(0);
  v12.carr(1).i16(0).i32(0).i32(1).i32(4).carr(1).i32(1).carr(1).i32(1).carr(1).i32(2).tags();
  v12.i32(8).tags().tags();
  check_layout(m, 12, v12.bytes());
}

TEST_CASE("Produce") {
  produce_request req;
  req.acks = -1;
  req.timeout_ms = 1500;
  req.topic_data.push_back({"t", {{0, records_view{k_records}}, {1, std::nullopt}}});
  check_layout(req, 2,
               wire().i16(-1).i32(1500).arr(1).str("t").arr(2).i32(0).byts(k_records).i32(1).i32(-1).bytes());
  check_layout(req, 7,
               wire()
                   .null_str()
                   .i16(-1)
                   .i32(1500)
                   .arr(1)
                   .str("t")
                   .arr(2)
                   .i32(0)
                   .byts(k_records)
                   .i32(1)
                   .i32(-1)
                   .bytes());
  req.transactional_id = "tx";
  check_layout(req, 9,
               wire()
                   .cstr("tx")
                   .i16(-1)
                   .i32(1500)
                   .carr(1)
                   .cstr("t")
                   .carr(2)
                   .i32(0)
                   .cbyts(k_records)
                   .tags()
                   .i32(1)
                   .uvar(0)
                   .tags()
                   .tags()
                   .tags()
                   .bytes());

  produce_response resp;
  produce_response::partition_response p;
  p.index = 0;
  p.base_offset = 42;
  resp.responses.push_back({"t", {p}});
  check_layout(resp, 0, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(42).bytes());
  resp.throttle_time_ms = 3;
  check_layout(resp, 1, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(42).i32(3).bytes());
  resp.responses[0].partition_responses[0].log_append_time_ms = 1000;
  check_layout(resp, 2, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(42).i64(1000).i32(3).bytes());
  resp.responses[0].partition_responses[0].log_start_offset = 5;
  check_layout(resp, 5, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(42).i64(1000).i64(5).i32(3).bytes());
  resp.responses[0].partition_responses[0].record_errors.push_back({2, std::string("bad")});
  check_layout(resp, 8,
               wire()
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i16(0)
                   .i64(42)
                   .i64(1000)
                   .i64(5)
                   .arr(1)
                   .i32(2)
                   .str("bad")
                   .null_str()
                   .i32(3)
                   .bytes());
}

TEST_CASE("Fetch request: v4, v7 sessions, v11 rack, v12 flexible with a tagged cluster id") {
  fetch_request f;
  f.replica_id = -1;
  f.max_wait_ms = 500;
  f.min_bytes = 1;
  f.max_bytes = 1 << 20;
  f.isolation_level = 1;
  fetch_request::fetch_partition fp;
  fp.fetch_offset = 10;
  fp.partition_max_bytes = 4096;
  f.topics.push_back({"t", {fp}});
  check_layout(f, 4,
               wire()
                   .i32(-1)
                   .i32(500)
                   .i32(1)
                   .i32(1 << 20)
                   .i8(1)
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i64(10)
                   .i32(4096)
                   .bytes());

  f.session_epoch = 0;
  f.topics[0].partitions[0].log_start_offset = -1;
  f.forgotten_topics_data.push_back({"old", {3}});
  check_layout(f, 7,
               wire()
                   .i32(-1)
                   .i32(500)
                   .i32(1)
                   .i32(1 << 20)
                   .i8(1)
                   .i32(0)
                   .i32(0)
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i64(10)
                   .i64(-1)
                   .i32(4096)
                   .arr(1)
                   .str("old")
                   .arr(1)
                   .i32(3)
                   .bytes());

  f.topics[0].partitions[0].current_leader_epoch = 2;
  f.rack_id = "r1";
  check_layout(f, 11,
               wire()
                   .i32(-1)
                   .i32(500)
                   .i32(1)
                   .i32(1 << 20)
                   .i8(1)
                   .i32(0)
                   .i32(0)
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i32(2)
                   .i64(10)
                   .i64(-1)
                   .i32(4096)
                   .arr(1)
                   .str("old")
                   .arr(1)
                   .i32(3)
                   .str("r1")
                   .bytes());

  f.topics[0].partitions[0].last_fetched_epoch = 1;
  f.cluster_id = "cid";
  check_layout(f, 12,
               wire()
                   .i32(-1)
                   .i32(500)
                   .i32(1)
                   .i32(1 << 20)
                   .i8(1)
                   .i32(0)
                   .i32(0)
                   .carr(1)
                   .cstr("t")
                   .carr(1)
                   .i32(0)
                   .i32(2)
                   .i64(10)
                   .i32(1)
                   .i64(-1)
                   .i32(4096)
                   .tags()
                   .tags()
                   .carr(1)
                   .cstr("old")
                   .carr(1)
                   .i32(3)
                   .tags()
                   .cstr("r1")
                   .uvar(1)
                   .uvar(0)
                   .uvar(4)
                   .cstr("cid")
                   .bytes());
}

TEST_CASE("Fetch response: v4 aborted transactions, v11 preferred replica, v12 tagged leader") {
  fetch_response r;
  fetch_response::partition_data p;
  p.high_watermark = 100;
  p.last_stable_offset = 100;
  p.aborted_transactions.reset();
  p.records = records_view{k_records};
  r.responses.push_back({"t", {p}});
  check_layout(r, 0, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(100).byts(k_records).bytes());
  check_layout(
      r, 4,
      wire().i32(0).arr(1).str("t").arr(1).i32(0).i16(0).i64(100).i64(100).arr(-1).byts(k_records).bytes());
  CHECK(decode_error<fetch_response>(
            0, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(100).i32(-2).bytes()) == errc::bad_length);

  r.responses[0].partitions[0].aborted_transactions =
      std::vector<fetch_response::aborted_transaction>{{7, 90}};
  r.responses[0].partitions[0].log_start_offset = 0;
  r.responses[0].partitions[0].preferred_read_replica = 2;
  r.session_id = 99;
  check_layout(r, 11,
               wire()
                   .i32(0)
                   .i16(0)
                   .i32(99)
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i16(0)
                   .i64(100)
                   .i64(100)
                   .i64(0)
                   .arr(1)
                   .i64(7)
                   .i64(90)
                   .i32(2)
                   .byts(k_records)
                   .bytes());

  r.responses[0].partitions[0].current_leader = {3, 8};
  wire leader;
  leader.i32(3).i32(8).tags();
  check_layout(r, 12,
               wire()
                   .i32(0)
                   .i16(0)
                   .i32(99)
                   .carr(1)
                   .cstr("t")
                   .carr(1)
                   .i32(0)
                   .i16(0)
                   .i64(100)
                   .i64(100)
                   .i64(0)
                   .carr(1)
                   .i64(7)
                   .i64(90)
                   .tags()
                   .i32(2)
                   .cbyts(k_records)
                   .uvar(1)
                   .uvar(1)
                   .uvar(static_cast<uint32_t>(leader.bytes().size()))
                   .raw(leader.bytes())
                   .tags()
                   .tags()
                   .bytes());
}

TEST_CASE("ListOffsets: v0 max_num_offsets and old-style offsets, v1 timestamp/offset, v4 epochs") {
  list_offsets_request req;
  req.topics.push_back({"t", {{0, -1, -2, 1}}});
  check_layout(req, 0, wire().i32(-1).arr(1).str("t").arr(1).i32(0).i64(-2).i32(1).bytes());
  check_layout(req, 1, wire().i32(-1).arr(1).str("t").arr(1).i32(0).i64(-2).bytes());
  req.isolation_level = 1;
  check_layout(req, 2, wire().i32(-1).i8(1).arr(1).str("t").arr(1).i32(0).i64(-2).bytes());
  req.topics[0].partitions[0].current_leader_epoch = 5;
  check_layout(req, 4, wire().i32(-1).i8(1).arr(1).str("t").arr(1).i32(0).i32(5).i64(-2).bytes());

  list_offsets_response resp;
  list_offsets_response::partition p;
  p.old_style_offsets = {17};
  resp.topics.push_back({"t", {p}});
  check_layout(resp, 0, wire().arr(1).str("t").arr(1).i32(0).i16(0).arr(1).i64(17).bytes());
  resp.topics[0].partitions[0].old_style_offsets.clear();
  resp.topics[0].partitions[0].timestamp = 1000;
  resp.topics[0].partitions[0].offset = 17;
  check_layout(resp, 1, wire().arr(1).str("t").arr(1).i32(0).i16(0).i64(1000).i64(17).bytes());
  resp.topics[0].partitions[0].leader_epoch = 2;
  check_layout(resp, 6,
               wire()
                   .i32(0)
                   .carr(1)
                   .cstr("t")
                   .carr(1)
                   .i32(0)
                   .i16(0)
                   .i64(1000)
                   .i64(17)
                   .i32(2)
                   .tags()
                   .tags()
                   .tags()
                   .bytes());
}

TEST_CASE("FindCoordinator: v1 key type and error message, v3 flexible, v4 batched") {
  find_coordinator_request req;
  req.key = "g";
  check_layout(req, 0, wire().str("g").bytes());
  req.key_type = 1;
  check_layout(req, 1, wire().str("g").i8(1).bytes());
  check_layout(req, 3, wire().cstr("g").i8(1).tags().bytes());
  req.key.clear();
  req.coordinator_keys = {"g", "h"};
  check_layout(req, 4, wire().i8(1).carr(2).cstr("g").cstr("h").tags().bytes());

  find_coordinator_response resp;
  resp.node_id = 1;
  resp.host = "h";
  resp.port = 9092;
  check_layout(resp, 0, wire().i16(0).i32(1).str("h").i32(9092).bytes());
  check_layout(resp, 2, wire().i32(0).i16(0).null_str().i32(1).str("h").i32(9092).bytes());
  find_coordinator_response batched;
  batched.coordinators.push_back({"g", 1, "h", 9092, error_code::none, std::nullopt});
  check_layout(
      batched, 4,
      wire().i32(0).carr(1).cstr("g").i32(1).cstr("h").i32(9092).i16(0).null_cstr().tags().tags().bytes());
}

TEST_CASE("JoinGroup: v1 rebalance timeout, v5 instance id, v6 flexible, v7 nullable protocol name") {
  const uint8_t meta[] = {0, 1};
  join_group_request req;
  req.group_id = "g";
  req.session_timeout_ms = 10000;
  req.rebalance_timeout_ms = 30000;
  req.protocol_type = "consumer";
  req.protocols.push_back({"range", bytes(meta, meta + 2)});
  check_layout(req, 0,
               wire().str("g").i32(10000).str("").str("consumer").arr(1).str("range").byts(meta).bytes());
  check_layout(
      req, 1,
      wire().str("g").i32(10000).i32(30000).str("").str("consumer").arr(1).str("range").byts(meta).bytes());
  req.group_instance_id = "i1";
  check_layout(req, 5,
               wire()
                   .str("g")
                   .i32(10000)
                   .i32(30000)
                   .str("")
                   .str("i1")
                   .str("consumer")
                   .arr(1)
                   .str("range")
                   .byts(meta)
                   .bytes());
  check_layout(req, 6,
               wire()
                   .cstr("g")
                   .i32(10000)
                   .i32(30000)
                   .cstr("")
                   .cstr("i1")
                   .cstr("consumer")
                   .carr(1)
                   .cstr("range")
                   .cbyts(meta)
                   .tags()
                   .tags()
                   .bytes());

  join_group_response resp;
  resp.generation_id = 1;
  resp.protocol_name = "range";
  resp.leader = "m1";
  resp.member_id = "m1";
  resp.members.push_back({"m1", std::nullopt, bytes(meta, meta + 2)});
  check_layout(resp, 0,
               wire().i16(0).i32(1).str("range").str("m1").str("m1").arr(1).str("m1").byts(meta).bytes());
  check_layout(
      resp, 2,
      wire().i32(0).i16(0).i32(1).str("range").str("m1").str("m1").arr(1).str("m1").byts(meta).bytes());
  check_layout(resp, 5,
               wire()
                   .i32(0)
                   .i16(0)
                   .i32(1)
                   .str("range")
                   .str("m1")
                   .str("m1")
                   .arr(1)
                   .str("m1")
                   .null_str()
                   .byts(meta)
                   .bytes());
  resp.protocol_type = "consumer";
  resp.protocol_name.reset();
  check_layout(resp, 7,
               wire()
                   .i32(0)
                   .i16(0)
                   .i32(1)
                   .cstr("consumer")
                   .null_cstr()
                   .cstr("m1")
                   .cstr("m1")
                   .carr(1)
                   .cstr("m1")
                   .null_cstr()
                   .cbyts(meta)
                   .tags()
                   .tags()
                   .bytes());
  CHECK(decode_error<join_group_response>(6, wire().i32(0).i16(0).i32(1).null_cstr().bytes()) ==
        errc::unexpected_null);
}

TEST_CASE("SyncGroup, Heartbeat, LeaveGroup") {
  const uint8_t a[] = {9};
  sync_group_request sync;
  sync.group_id = "g";
  sync.generation_id = 3;
  sync.member_id = "m";
  sync.assignments.push_back({"m", bytes(a, a + 1)});
  check_layout(sync, 0, wire().str("g").i32(3).str("m").arr(1).str("m").byts(a).bytes());
  check_layout(sync, 3, wire().str("g").i32(3).str("m").null_str().arr(1).str("m").byts(a).bytes());
  check_layout(
      sync, 4,
      wire().cstr("g").i32(3).cstr("m").null_cstr().carr(1).cstr("m").cbyts(a).tags().tags().bytes());
  sync_group_response sync_resp{0, error_code::rebalance_in_progress, bytes(a, a + 1)};
  check_layout(sync_resp, 0, wire().i16(27).byts(a).bytes());
  check_layout(sync_resp, 1, wire().i32(0).i16(27).byts(a).bytes());

  heartbeat_request hb{"g", 3, "m", std::string("i")};
  check_layout(hb, 3, wire().str("g").i32(3).str("m").str("i").bytes());
  hb.group_instance_id.reset();
  check_layout(hb, 2, wire().str("g").i32(3).str("m").bytes());
  check_layout(heartbeat_response{5, error_code::none}, 4, wire().i32(5).i16(0).tags().bytes());
  check_layout(heartbeat_response{0, error_code::illegal_generation}, 0, wire().i16(22).bytes());

  leave_group_request leave;
  leave.group_id = "g";
  leave.member_id = "m";
  check_layout(leave, 1, wire().str("g").str("m").bytes());
  leave.member_id.clear();
  leave.members.push_back({"m", std::string("i")});
  check_layout(leave, 3, wire().str("g").arr(1).str("m").str("i").bytes());
  leave_group_response leave_resp;
  leave_resp.members.push_back({"m", std::nullopt, error_code::unknown_member_id});
  check_layout(leave_resp, 3, wire().i32(0).i16(0).arr(1).str("m").null_str().i16(25).bytes());
  check_layout(leave_group_response{}, 0, wire().i16(0).bytes());
}

TEST_CASE(
    "OffsetCommit: v1 commit timestamp, v2-v4 retention, v6 leader epoch, v7 instance id, v8 flexible") {
  offset_commit_request req;
  req.group_id = "g";
  req.topics.push_back({"t", {{0, 42, -1, -1, std::string("m")}}});
  check_layout(req, 0, wire().str("g").arr(1).str("t").arr(1).i32(0).i64(42).str("m").bytes());
  req.generation_id = 3;
  req.member_id = "mem";
  req.topics[0].partitions[0].commit_timestamp = 1000;
  check_layout(
      req, 1,
      wire().str("g").i32(3).str("mem").arr(1).str("t").arr(1).i32(0).i64(42).i64(1000).str("m").bytes());
  req.topics[0].partitions[0].commit_timestamp = -1;
  req.retention_time_ms = 60000;
  check_layout(
      req, 2,
      wire().str("g").i32(3).str("mem").i64(60000).arr(1).str("t").arr(1).i32(0).i64(42).str("m").bytes());
  req.retention_time_ms = -1;
  check_layout(req, 5,
               wire().str("g").i32(3).str("mem").arr(1).str("t").arr(1).i32(0).i64(42).str("m").bytes());
  req.topics[0].partitions[0].committed_leader_epoch = 4;
  check_layout(
      req, 6,
      wire().str("g").i32(3).str("mem").arr(1).str("t").arr(1).i32(0).i64(42).i32(4).str("m").bytes());
  check_layout(req, 7,
               wire()
                   .str("g")
                   .i32(3)
                   .str("mem")
                   .null_str()
                   .arr(1)
                   .str("t")
                   .arr(1)
                   .i32(0)
                   .i64(42)
                   .i32(4)
                   .str("m")
                   .bytes());
  check_layout(req, 8,
               wire()
                   .cstr("g")
                   .i32(3)
                   .cstr("mem")
                   .null_cstr()
                   .carr(1)
                   .cstr("t")
                   .carr(1)
                   .i32(0)
                   .i64(42)
                   .i32(4)
                   .cstr("m")
                   .tags()
                   .tags()
                   .tags()
                   .bytes());

  offset_commit_response resp;
  resp.topics.push_back({"t", {{0, error_code::none}}});
  check_layout(resp, 2, wire().arr(1).str("t").arr(1).i32(0).i16(0).bytes());
  check_layout(resp, 3, wire().i32(0).arr(1).str("t").arr(1).i32(0).i16(0).bytes());
}

TEST_CASE(
    "OffsetFetch: v2 null topics and top-level error, v5 leader epoch, v6 flexible, v7 require_stable") {
  offset_fetch_request req;
  req.group_id = "g";
  req.topics->push_back({"t", {0, 1}});
  check_layout(req, 1, wire().str("g").arr(1).str("t").arr(2).i32(0).i32(1).bytes());
  req.topics.reset();
  check_layout(req, 2, wire().str("g").arr(-1).bytes());
  CHECK(decode_error<offset_fetch_request>(1, wire().str("g").arr(-1).bytes()) == errc::unexpected_null);
  req.require_stable = true;
  check_layout(req, 7, wire().cstr("g").null_carr().i8(1).tags().bytes());

  offset_fetch_response resp;
  resp.topics.push_back({"t", {{0, 42, 3, std::nullopt, error_code::none}}});
  resp.topics[0].partitions[0].committed_leader_epoch = -1;
  check_layout(resp, 1, wire().arr(1).str("t").arr(1).i32(0).i64(42).null_str().i16(0).bytes());
  resp.error_code = error_code::coordinator_load_in_progress;
  check_layout(resp, 2, wire().arr(1).str("t").arr(1).i32(0).i64(42).null_str().i16(0).i16(14).bytes());
  resp.topics[0].partitions[0].committed_leader_epoch = 3;
  check_layout(resp, 5,
               wire().i32(0).arr(1).str("t").arr(1).i32(0).i64(42).i32(3).null_str().i16(0).i16(14).bytes());
  check_layout(resp, 6,
               wire()
                   .i32(0)
                   .carr(1)
                   .cstr("t")
                   .carr(1)
                   .i32(0)
                   .i64(42)
                   .i32(3)
                   .null_cstr()
                   .i16(0)
                   .tags()
                   .tags()
                   .i16(14)
                   .tags()
                   .bytes());
}

TEST_CASE("ListGroups, DescribeGroups") {
  check_layout(list_groups_request{}, 2, {});
  check_layout(list_groups_request{}, 3, wire().tags().bytes());
  check_layout(list_groups_request{{"Stable"}}, 4, wire().carr(1).cstr("Stable").tags().bytes());
  list_groups_response lg;
  lg.groups.push_back({"g", "consumer", "Stable"});
  check_layout(lg, 0, wire().i16(0).arr(1).str("g").str("consumer").bytes());
  lg.groups[0].group_state.clear();
  check_layout(lg, 1, wire().i32(0).i16(0).arr(1).str("g").str("consumer").bytes());
  lg.groups[0].group_state = "Stable";
  check_layout(lg, 4,
               wire().i32(0).i16(0).carr(1).cstr("g").cstr("consumer").cstr("Stable").tags().tags().bytes());

  describe_groups_request dg{{"g"}, true};
  check_layout(dg, 3, wire().arr(1).str("g").i8(1).bytes());
  check_layout(describe_groups_request{{"g"}, false}, 0, wire().arr(1).str("g").bytes());
  describe_groups_response dr;
  describe_groups_response::described_group g;
  g.group_id = "g";
  g.group_state = "Stable";
  g.protocol_type = "consumer";
  g.protocol_data = "range";
  g.members.push_back({"m", std::nullopt, "c", "/1.2.3.4", {}, {}});
  dr.groups.push_back(g);
  check_layout(dr, 0,
               wire()
                   .arr(1)
                   .i16(0)
                   .str("g")
                   .str("Stable")
                   .str("consumer")
                   .str("range")
                   .arr(1)
                   .str("m")
                   .str("c")
                   .str("/1.2.3.4")
                   .byts({})
                   .byts({})
                   .bytes());
  dr.groups[0].authorized_operations = 0x10;
  check_layout(dr, 4,
               wire()
                   .i32(0)
                   .arr(1)
                   .i16(0)
                   .str("g")
                   .str("Stable")
                   .str("consumer")
                   .str("range")
                   .arr(1)
                   .str("m")
                   .null_str()
                   .str("c")
                   .str("/1.2.3.4")
                   .byts({})
                   .byts({})
                   .i32(0x10)
                   .bytes());
}

TEST_CASE("CreateTopics, DeleteTopics") {
  create_topics_request ct;
  ct.topics.push_back({"t", 3, 1, {}, {{"retention.ms", std::string("1000")}}});
  ct.timeout_ms = 5000;
  check_layout(
      ct, 0,
      wire().arr(1).str("t").i32(3).i16(1).arr(0).arr(1).str("retention.ms").str("1000").i32(5000).bytes());
  ct.validate_only = true;
  check_layout(ct, 1,
               wire()
                   .arr(1)
                   .str("t")
                   .i32(3)
                   .i16(1)
                   .arr(0)
                   .arr(1)
                   .str("retention.ms")
                   .str("1000")
                   .i32(5000)
                   .i8(1)
                   .bytes());

  create_topics_response cr;
  create_topics_response::topic_result tr;
  tr.name = "t";
  tr.error_code = error_code::topic_already_exists;
  tr.error_message = "exists";
  cr.topics.push_back(tr);
  check_layout(cr, 0, wire().arr(1).str("t").i16(36).bytes());
  // v1 has an error message: one topic cannot fit in what is left.
  CHECK(decode_error<create_topics_response>(1, wire().arr(1).str("t").i16(36).bytes()) == errc::bad_length);
  check_layout(cr, 2, wire().i32(0).arr(1).str("t").i16(36).str("exists").bytes());
  cr.topics[0].num_partitions = 3;
  cr.topics[0].replication_factor = 1;
  cr.topics[0].configs.reset();
  cr.topics[0].topic_config_error_code = error_code::topic_authorization_failed;
  check_layout(cr, 5,
               wire()
                   .i32(0)
                   .carr(1)
                   .cstr("t")
                   .i16(36)
                   .cstr("exists")
                   .i32(3)
                   .i16(1)
                   .null_carr()
                   .uvar(1)
                   .uvar(0)
                   .uvar(2)
                   .i16(29)
                   .tags()
                   .bytes());

  check_layout(delete_topics_request{{"a", "b"}, 100}, 1, wire().arr(2).str("a").str("b").i32(100).bytes());
  check_layout(delete_topics_request{{"a"}, 100}, 4, wire().carr(1).cstr("a").i32(100).tags().bytes());
  delete_topics_response dr;
  dr.responses.push_back({"a", error_code::unknown_topic_or_partition});
  check_layout(dr, 0, wire().arr(1).str("a").i16(3).bytes());
  check_layout(dr, 1, wire().i32(0).arr(1).str("a").i16(3).bytes());
}

TEST_CASE("InitProducerId: v2 flexible, v3 producer id and epoch in the request") {
  init_producer_id_request req;
  req.transaction_timeout_ms = 60000;
  check_layout(req, 0, wire().null_str().i32(60000).bytes());
  check_layout(req, 2, wire().null_cstr().i32(60000).tags().bytes());
  req.producer_id = 7;
  req.producer_epoch = 1;
  check_layout(req, 3, wire().null_cstr().i32(60000).i64(7).i16(1).tags().bytes());
  check_layout(init_producer_id_response{0, error_code::none, 7, 0}, 1,
               wire().i32(0).i16(0).i64(7).i16(0).bytes());
  check_layout(init_producer_id_response{0, error_code::none, 7, 0}, 4,
               wire().i32(0).i16(0).i64(7).i16(0).tags().bytes());
}

TEST_CASE("DescribeConfigs: v0 is_default, v1 source and synonyms, v3 type and documentation") {
  describe_configs_request req;
  req.resources.push_back({2, "t", std::nullopt});
  check_layout(req, 0, wire().arr(1).i8(2).str("t").arr(-1).bytes());
  req.include_synonyms = true;
  check_layout(req, 1, wire().arr(1).i8(2).str("t").arr(-1).i8(1).bytes());
  req.include_documentation = true;
  check_layout(req, 3, wire().arr(1).i8(2).str("t").arr(-1).i8(1).i8(1).bytes());

  describe_configs_response resp;
  describe_configs_response::config c;
  c.name = "retention.ms";
  c.value = "1000";
  c.is_default = true;
  resp.results.push_back({error_code::none, std::nullopt, 2, "t", {c}});
  check_layout(resp, 0,
               wire()
                   .i32(0)
                   .arr(1)
                   .i16(0)
                   .null_str()
                   .i8(2)
                   .str("t")
                   .arr(1)
                   .str("retention.ms")
                   .str("1000")
                   .i8(0)
                   .i8(1)
                   .i8(0)
                   .bytes());
  resp.results[0].configs[0].is_default = false;
  resp.results[0].configs[0].config_source = 5;
  resp.results[0].configs[0].synonyms.push_back({"log.retention.ms", std::nullopt, 4});
  check_layout(resp, 1,
               wire()
                   .i32(0)
                   .arr(1)
                   .i16(0)
                   .null_str()
                   .i8(2)
                   .str("t")
                   .arr(1)
                   .str("retention.ms")
                   .str("1000")
                   .i8(0)
                   .i8(5)
                   .i8(0)
                   .arr(1)
                   .str("log.retention.ms")
                   .null_str()
                   .i8(4)
                   .bytes());
  resp.results[0].configs[0].config_type = 5;
  resp.results[0].configs[0].documentation = "doc";
  check_layout(resp, 3,
               wire()
                   .i32(0)
                   .arr(1)
                   .i16(0)
                   .null_str()
                   .i8(2)
                   .str("t")
                   .arr(1)
                   .str("retention.ms")
                   .str("1000")
                   .i8(0)
                   .i8(5)
                   .i8(0)
                   .arr(1)
                   .str("log.retention.ms")
                   .null_str()
                   .i8(4)
                   .i8(5)
                   .str("doc")
                   .bytes());
}

TEST_CASE("SaslHandshake, SaslAuthenticate") {
  check_layout(sasl_handshake_request{"PLAIN"}, 0, wire().str("PLAIN").bytes());
  check_layout(sasl_handshake_request{"PLAIN"}, 1, wire().str("PLAIN").bytes());
  check_layout(sasl_handshake_response{error_code::unsupported_sasl_mechanism, {"PLAIN", "SCRAM-SHA-256"}}, 1,
               wire().i16(33).arr(2).str("PLAIN").str("SCRAM-SHA-256").bytes());
  const uint8_t token[] = {0, 'u', 0, 'p'};
  check_layout(sasl_authenticate_request{bytes(token, token + 4)}, 0, wire().byts(token).bytes());
  check_layout(sasl_authenticate_request{bytes(token, token + 4)}, 2, wire().cbyts(token).tags().bytes());
  check_layout(sasl_authenticate_response{error_code::none, std::nullopt, {}, 3600000}, 1,
               wire().i16(0).null_str().byts({}).i64(3600000).bytes());
  check_layout(sasl_authenticate_response{error_code::none, std::nullopt, {}, 0}, 0,
               wire().i16(0).null_str().byts({}).bytes());
}

TEST_CASE("DeleteGroups") {
  check_layout(delete_groups_request{{"g1", "g2"}}, 0, wire().arr(2).str("g1").str("g2").bytes());
  check_layout(delete_groups_request{{"g1"}}, 1, wire().arr(1).str("g1").bytes());
  check_layout(delete_groups_request{{"g1"}}, 2, wire().carr(1).cstr("g1").tags().bytes());
  delete_groups_response r{0, {{"g1", error_code::none}, {"g2", error_code::non_empty_group}}};
  check_layout(r, 0, wire().i32(0).arr(2).str("g1").i16(0).str("g2").i16(68).bytes());
  check_layout(r, 2, wire().i32(0).carr(2).cstr("g1").i16(0).tags().cstr("g2").i16(68).tags().tags().bytes());
}

}  // namespace
}  // namespace tributary::kafka::protocol
