#include <algorithm>

#include <fmt/format.h>

#include "cluster/raft/errc.h"
#include "cluster/raft/types.h"
#include "common/bytes.h"

namespace tributary::cluster::raft {
namespace {

constexpr uint8_t membership_format_v1 = 1;

bool sorted_contains(const std::vector<node_id>& v, node_id id) {
  return std::binary_search(v.begin(), v.end(), id);
}

void insert_sorted(std::vector<node_id>& v, node_id id) {
  v.insert(std::lower_bound(v.begin(), v.end(), id), id);
}

void erase_sorted(std::vector<node_id>& v, node_id id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it != v.end() && *it == id) v.erase(it);
}

bool strictly_increasing(const std::vector<node_id>& v) {
  return std::adjacent_find(v.begin(), v.end(), [](node_id a, node_id b) { return a >= b; }) == v.end();
}

result<std::vector<node_id>> read_ids(byte_reader& r) {
  uint32_t n = TRIB_TRY(r.read_u32());
  if (n > r.remaining() / 8) return fail(errc::config_change_invalid);
  std::vector<node_id> ids;
  ids.reserve(n);
  for (uint32_t i = 0; i < n; ++i) ids.push_back(node_id{TRIB_TRY(r.read_u64())});
  return ids;
}

void write_ids(byte_writer& w, const std::vector<node_id>& ids) {
  w.write_u32(static_cast<uint32_t>(ids.size()));
  for (node_id id : ids) w.write_u64(id.value);
}

}  // namespace

bool membership::is_voter(node_id id) const { return sorted_contains(voters, id); }
bool membership::is_learner(node_id id) const { return sorted_contains(learners, id); }

result<membership> apply_config_change(const membership& current, const config_change& change) {
  if (change.node == no_node) return fail(errc::config_change_invalid);
  membership next = current;
  switch (change.type) {
    case config_change_type::add_voter:
      if (current.is_voter(change.node)) return fail(errc::config_change_invalid);
      erase_sorted(next.learners, change.node);  // adding a learner as a voter promotes it
      insert_sorted(next.voters, change.node);
      break;
    case config_change_type::add_learner:
      if (current.contains(change.node)) return fail(errc::config_change_invalid);
      insert_sorted(next.learners, change.node);
      break;
    case config_change_type::promote_learner:
      if (!current.is_learner(change.node)) return fail(errc::config_change_invalid);
      erase_sorted(next.learners, change.node);
      insert_sorted(next.voters, change.node);
      break;
    case config_change_type::remove_node:
      if (!current.contains(change.node)) return fail(errc::config_change_invalid);
      if (current.is_voter(change.node) && current.voters.size() == 1)
        return fail(errc::config_change_invalid);
      erase_sorted(next.voters, change.node);
      erase_sorted(next.learners, change.node);
      break;
    default: return fail(errc::config_change_invalid);
  }
  return next;
}

std::vector<uint8_t> encode_membership(const membership& m) {
  byte_writer w;
  w.reserve(1 + 8 + 8 * (m.voters.size() + m.learners.size()));
  w.write_u8(membership_format_v1);
  write_ids(w, m.voters);
  write_ids(w, m.learners);
  return w.take();
}

result<membership> decode_membership(std::span<const uint8_t> bytes) {
  byte_reader r(bytes);
  uint8_t format = TRIB_TRY(r.read_u8());
  if (format != membership_format_v1) return fail(errc::config_change_invalid);
  membership m;
  m.voters = TRIB_TRY(read_ids(r));
  m.learners = TRIB_TRY(read_ids(r));
  if (!r.empty()) return fail(errc::config_change_invalid);
  bool ids_valid = strictly_increasing(m.voters) && strictly_increasing(m.learners) && !m.is_voter(no_node) &&
                   !m.is_learner(no_node);
  if (!ids_valid) return fail(errc::config_change_invalid);
  for (node_id id : m.learners) {
    if (m.is_voter(id)) return fail(errc::config_change_invalid);
  }
  return m;
}

std::string to_string(const membership& m) {
  std::string out = "voters=[";
  for (size_t i = 0; i < m.voters.size(); ++i) out += fmt::format("{}{}", i ? "," : "", m.voters[i].value);
  out += "] learners=[";
  for (size_t i = 0; i < m.learners.size(); ++i)
    out += fmt::format("{}{}", i ? "," : "", m.learners[i].value);
  out += "]";
  return out;
}

}  // namespace tributary::cluster::raft
