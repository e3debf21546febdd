#include "cluster/group/records.h"

namespace tributary::cluster::group {

namespace {

constexpr int16_t value_version = 1;

std::string str(std::string_view s) { return std::string(s); }

result<group_state> decode_state(int8_t v) {
  if (v == static_cast<int8_t>(group_state::empty)) return group_state::empty;
  if (v == static_cast<int8_t>(group_state::stable)) return group_state::stable;
  return fail(tributary::bytes::errc::bad_length);
}

}  // namespace

std::vector<uint8_t> encode_key(const record_key& k) {
  byte_writer w;
  if (const auto* o = std::get_if<offset_key>(&k)) {
    w.write_i16(offset_key_version);
    w.write_string(o->group);
    w.write_string(o->topic);
    w.write_i32(o->partition);
  } else {
    w.write_i16(group_key_version);
    w.write_string(std::get<group_key>(k).group);
  }
  return w.take();
}

std::vector<uint8_t> encode_offset_value(const committed_offset& c) {
  byte_writer w;
  w.write_i16(value_version);
  w.write_i64(c.offset);
  w.write_i32(c.leader_epoch);
  w.write_nullable_string(c.metadata ? std::optional<std::string_view>(*c.metadata) : std::nullopt);
  w.write_i64(c.commit_time_ms);
  return w.take();
}

std::vector<uint8_t> encode_group_value(const group_snapshot& s) {
  byte_writer w;
  w.write_i16(value_version);
  w.write_i8(static_cast<int8_t>(s.state == group_state::stable ? group_state::stable : group_state::empty));
  w.write_i32(s.generation);
  w.write_string(s.protocol_type);
  w.write_string(s.protocol_name);
  w.write_string(s.leader);
  w.write_i32(static_cast<int32_t>(s.members.size()));
  for (const auto& m : s.members) {
    w.write_string(m.id);
    w.write_nullable_string(m.instance_id ? std::optional<std::string_view>(*m.instance_id) : std::nullopt);
    w.write_string(m.client_id);
    w.write_string(m.client_host);
    w.write_i32(m.session_timeout_ms);
    w.write_i32(m.rebalance_timeout_ms);
    w.write_bytes(m.metadata);
    w.write_bytes(m.assignment);
  }
  return w.take();
}

result<std::optional<record_key>> decode_key(byte_span key) {
  byte_reader r(key);
  const int16_t version = TRIB_TRY(r.read_i16());
  if (version == 0 || version == offset_key_version) {
    offset_key k;
    k.group = str(TRIB_TRY(r.read_string()));
    k.topic = str(TRIB_TRY(r.read_string()));
    k.partition = TRIB_TRY(r.read_i32());
    return std::optional<record_key>(std::move(k));
  }
  if (version == group_key_version) {
    group_key k;
    k.group = str(TRIB_TRY(r.read_string()));
    return std::optional<record_key>(std::move(k));
  }
  return std::optional<record_key>();
}

result<committed_offset> decode_offset_value(byte_span value) {
  byte_reader r(value);
  const int16_t version = TRIB_TRY(r.read_i16());
  if (version != value_version) return fail(tributary::bytes::errc::bad_length);
  committed_offset c;
  c.offset = TRIB_TRY(r.read_i64());
  c.leader_epoch = TRIB_TRY(r.read_i32());
  auto md = TRIB_TRY(r.read_nullable_string());
  if (md) c.metadata = str(*md);
  c.commit_time_ms = TRIB_TRY(r.read_i64());
  return c;
}

result<group_snapshot> decode_group_value(byte_span value) {
  byte_reader r(value);
  const int16_t version = TRIB_TRY(r.read_i16());
  if (version != value_version) return fail(tributary::bytes::errc::bad_length);
  group_snapshot s;
  s.state = TRIB_TRY(decode_state(TRIB_TRY(r.read_i8())));
  s.generation = TRIB_TRY(r.read_i32());
  s.protocol_type = str(TRIB_TRY(r.read_string()));
  s.protocol_name = str(TRIB_TRY(r.read_string()));
  s.leader = str(TRIB_TRY(r.read_string()));
  auto n = TRIB_TRY(r.read_array_length(20));
  if (!n) return fail(tributary::bytes::errc::null_not_allowed);
  s.members.reserve(*n);
  for (uint32_t i = 0; i < *n; ++i) {
    group_snapshot::member_snapshot m;
    m.id = str(TRIB_TRY(r.read_string()));
    auto inst = TRIB_TRY(r.read_nullable_string());
    if (inst) m.instance_id = str(*inst);
    m.client_id = str(TRIB_TRY(r.read_string()));
    m.client_host = str(TRIB_TRY(r.read_string()));
    m.session_timeout_ms = TRIB_TRY(r.read_i32());
    m.rebalance_timeout_ms = TRIB_TRY(r.read_i32());
    auto md = TRIB_TRY(r.read_bytes());
    m.metadata.assign(md.begin(), md.end());
    auto as = TRIB_TRY(r.read_bytes());
    m.assignment.assign(as.begin(), as.end());
    s.members.push_back(std::move(m));
  }
  return s;
}

int32_t partition_for(std::string_view group_id, int32_t partitions) {
  uint32_t h = 2166136261u;
  for (char c : group_id) {
    h ^= static_cast<uint8_t>(c);
    h *= 16777619u;
  }
  return partitions <= 0 ? 0 : static_cast<int32_t>(h % static_cast<uint32_t>(partitions));
}

}  // namespace tributary::cluster::group
