#pragma once
// The vocabulary of the Raft core: terms, log indexes, node ids, log entries, membership and
// snapshots. Everything here is a plain value; nothing does I/O.
//
// A log index is a Kafka offset. For a partition group every entry's payload is one Kafka
// RecordBatch: the entry's index is the batch's base offset, its width the number of offsets the
// batch covers (lastOffsetDelta + 1) and its term the batch's partitionLeaderEpoch, so the
// partition's segment log is the Raft log. An entry is named by its FIRST offset and covers
// [index, index + width - 1]; the next entry starts at index + width. Every position the core
// keeps (match, commit, applied, snapshot, read index) is the LAST offset of an entry. The core
// never looks inside a payload.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/strong_type.h"

namespace tributary::cluster::raft {

using term = strong<int64_t, struct term_tag>;
using log_index = strong<int64_t, struct log_index_tag>;
using node_id = strong<uint64_t, struct node_id_tag>;

// node_id{0} means "nobody" (no vote cast, no leader known). Real nodes have ids >= 1.
inline constexpr node_id no_node{0};

// The position before offset 0: the last index of an empty log that starts at offset 0 (a new
// group's bootstrap snapshot), and "nothing" for a position such as a member's match. A last
// offset L means a Kafka log end offset (or high watermark) of L + 1: no_index means 0.
inline constexpr log_index no_index{-1};

// A Kafka batch spans at most 2^31 offsets (lastOffsetDelta is an int32).
inline constexpr uint32_t max_entry_width = uint32_t{1} << 31;

inline constexpr log_index next_index(log_index i) { return log_index{i.value + 1}; }
inline constexpr log_index prev_index(log_index i) { return log_index{i.value - 1}; }

// An immutable, shared byte buffer. Copies share the bytes (a reference count, no allocation), so
// one proposed payload can sit in the leader's unstable log, in an append message to each follower
// and in the committed entries handed to the application without being copied.
class payload {
 public:
  payload() = default;
  explicit payload(std::vector<uint8_t> bytes)
      : data_(bytes.empty() ? nullptr : std::make_shared<const std::vector<uint8_t>>(std::move(bytes))) {}
  static payload copy_of(std::span<const uint8_t> bytes) {
    return payload(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  }

  std::span<const uint8_t> bytes() const {
    return data_ ? std::span<const uint8_t>(*data_) : std::span<const uint8_t>();
  }
  size_t size() const { return data_ ? data_->size() : 0; }
  bool empty() const { return size() == 0; }

  friend bool operator==(const payload& a, const payload& b) {
    auto x = a.bytes(), y = b.bytes();
    return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
  }

 private:
  std::shared_ptr<const std::vector<uint8_t>> data_;
};

enum class entry_type : uint8_t {
  normal = 0,  // an application payload (for partitions: one Kafka RecordBatch)
  config = 1,  // a membership change; the payload is an encoded `membership` (the whole new config)
  no_op = 2,   // appended by every new leader so that it can commit entries of earlier terms
};

// Whether an entry of `width` offsets can start at `first`: 1 <= width <= max_entry_width, and the
// offset after its last one (a Kafka log end offset or high watermark) is still an int64, so the
// largest usable offset is INT64_MAX - 1.
inline constexpr bool valid_width(log_index first, uint64_t width) {
  return width >= 1 && width <= max_entry_width && first.value <= INT64_MAX - static_cast<int64_t>(width);
}

struct entry {
  raft::term term;
  log_index index;  // the first offset the entry covers (a batch's base offset)
  entry_type type = entry_type::normal;
  raft::payload data;
  // How many offsets the entry covers (a batch's record count; at least 1). Entries the core makes
  // itself (no-ops, config changes) have width 1.
  uint32_t width = 1;

  // The last offset the entry covers; the next entry starts right after it.
  log_index last() const { return log_index{index.value + static_cast<int64_t>(width) - 1}; }
  bool covers(log_index i) const { return index <= i && i <= last(); }

  // What an entry costs against byte limits: the payload plus a fixed allowance for the header.
  static constexpr size_t header_bytes = 32;
  size_t byte_size() const { return header_bytes + data.size(); }

  friend bool operator==(const entry&, const entry&) = default;
};

// What node::propose() takes: one application payload (for a partition: one RecordBatch) and the
// number of offsets it covers (the batch's record count).
struct proposal {
  raft::payload data;
  uint32_t width = 1;
};

// The offsets some entries occupy: the first entry's index and the last entry's last offset.
struct index_range {
  log_index first;
  log_index last;
  friend bool operator==(const index_range&, const index_range&) = default;
};

// The state that must be on disk before any message that depends on it is sent (see node.h).
struct hard_state {
  raft::term term;
  node_id vote = no_node;       // whom this node voted for in `term`
  log_index commit = no_index;  // an optimisation only: commit can always be learned again

  friend bool operator==(const hard_state&, const hard_state&) = default;
};

// The members of a group. Voters elect the leader and form quorums; learners receive the log but
// neither vote nor count towards a quorum. Both lists are sorted, unique and disjoint.
struct membership {
  std::vector<node_id> voters;
  std::vector<node_id> learners;

  bool is_voter(node_id id) const;
  bool is_learner(node_id id) const;
  bool contains(node_id id) const { return is_voter(id) || is_learner(id); }
  // The number of voters that make a majority; 0 for an empty configuration.
  size_t quorum() const { return voters.empty() ? 0 : voters.size() / 2 + 1; }

  friend bool operator==(const membership&, const membership&) = default;
};

// A single-server change. Only one is in flight at a time (see node::propose_config_change).
enum class config_change_type : uint8_t {
  add_voter = 0,        // a new node joins as a voter (prefer add_learner, then promote_learner)
  add_learner = 1,      // a new node joins as a learner and catches up without affecting quorums
  promote_learner = 2,  // a learner becomes a voter
  remove_node = 3,      // a voter or learner leaves
};

struct config_change {
  config_change_type type = config_change_type::add_voter;
  node_id node;
};

// The configuration after `change`, or config_change_invalid when the change does not apply
// (adding a member that exists, promoting a non-learner, removing a non-member or the last voter).
result<membership> apply_config_change(const membership& current, const config_change& change);

// The payload of a config entry: the whole resulting membership, so that an entry can be read on
// its own (the configuration in force at index i is the last config entry at or before i).
std::vector<uint8_t> encode_membership(const membership& m);
result<membership> decode_membership(std::span<const uint8_t> bytes);

struct snapshot_metadata {
  log_index index = no_index;  // the last offset the snapshot covers (the end of an entry)
  raft::term term;             // that entry's term
  membership config;           // the configuration in force at `index`

  friend bool operator==(const snapshot_metadata&, const snapshot_metadata&) = default;
};

// A snapshot of the application's state machine up to metadata.index. The data is opaque to the
// core (for a partition it can be empty: the log prefix is simply gone).
struct snapshot {
  snapshot_metadata metadata;
  raft::payload data;
};

std::string to_string(const membership& m);

}  // namespace tributary::cluster::raft
