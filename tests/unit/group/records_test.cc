// The records of __consumer_offsets (cluster/group/records.h): byte layout, round trips, bad input.
#include <doctest/doctest.h>

#include "cluster/group/records.h"

namespace tributary::cluster::group {
namespace {

TEST_CASE("offset key: Kafka's v1 layout") {
  auto k = encode_key(offset_key{"g", "t", 3});
  CHECK(k == std::vector<uint8_t>{0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3});
  auto d = decode_key(k);
  REQUIRE(d);
  REQUIRE(*d);
  CHECK(std::get<offset_key>(**d) == offset_key{"g", "t", 3});
  auto gk = encode_key(group_key{"grp"});
  CHECK(gk == std::vector<uint8_t>{0, 2, 0, 3, 'g', 'r', 'p'});
  CHECK(std::get<group_key>(**decode_key(gk)).group == "grp");
  const std::vector<uint8_t> unknown{0, 9, 1, 2};
  auto u = decode_key(unknown);
  REQUIRE(u);
  CHECK_FALSE(*u);
}

TEST_CASE("values round-trip; truncations fail") {
  committed_offset c{1234, 5, "meta", 99};
  auto v = encode_offset_value(c);
  CHECK(*decode_offset_value(v) == c);
  committed_offset n{7, -1, std::nullopt, -1};
  CHECK(*decode_offset_value(encode_offset_value(n)) == n);
  for (size_t i = 0; i < v.size(); ++i) CHECK_FALSE(decode_offset_value(byte_span(v.data(), i)));

  group_snapshot s;
  s.id = "g";
  s.state = group_state::stable;
  s.generation = 3;
  s.protocol_type = "consumer";
  s.protocol_name = "range";
  s.leader = "m1";
  s.members.push_back({"m1", "inst", "cid", "/127.0.0.1", 10000, 20000, {1, 2}, {3}});
  s.members.push_back({"m2", std::nullopt, "cid", "/127.0.0.1", 6000, 6000, {}, {}});
  auto gv = encode_group_value(s);
  auto back = decode_group_value(gv);
  REQUIRE(back);
  back->id = "g";
  CHECK(*back == s);
  for (size_t i = 0; i < gv.size(); ++i) CHECK_FALSE(decode_group_value(byte_span(gv.data(), i)));
  auto bad = gv;
  bad[2] = 1;  // PreparingRebalance is never persisted
  CHECK_FALSE(decode_group_value(bad));
  for (size_t i = 0; i < 12; ++i)
    CHECK_FALSE(decode_key(byte_span(encode_key(offset_key{"g", "t", 3}).data(), 0)));
}

TEST_CASE("partition_for is stable and in range") {
  CHECK(partition_for("group-a", 50) == partition_for("group-a", 50));
  for (int i = 0; i < 100; ++i) {
    int32_t p = partition_for("g" + std::to_string(i), 7);
    CHECK(p >= 0);
    CHECK(p < 7);
  }
  CHECK(partition_for("x", 1) == 0);
  // FNV-1a 32 of "a" is 0xe40c292c.
  CHECK(partition_for("a", 1 << 30) == static_cast<int32_t>(0xe40c292cu % (1u << 30)));
}

}  // namespace
}  // namespace tributary::cluster::group
