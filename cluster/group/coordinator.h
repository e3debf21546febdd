#pragma once
// The consumer-group coordinator's state machine (Kafka's classic group protocol), a pure core: no
// I/O, no clock, no threads. Time is the caller's `now_ms` (a monotonic clock); member ids come from a
// counter and a caller-supplied salt. The adapter (cluster/broker/group_service) feeds it decoded
// requests, persists what it says changed (records in __consumer_offsets, see records.h) and delivers
// the replies it returns, some of them later than the request (JoinGroup waits for the other members,
// SyncGroup for the leader's assignments).
//
// States (as Kafka's, and DescribeGroups' names):
//   Empty ─join─▶ PreparingRebalance ─all joined / rebalance deadline─▶ CompletingRebalance
//     ▲                ▲   ▲                                             │ leader's SyncGroup
//     │                │   └──── member joins/leaves/changes/expires ────┤
//     └─ last leaves ──┴─────────────────────────────────────────────── Stable
// - JoinGroup v4+ without a member id and without group.instance.id: MEMBER_ID_REQUIRED with a new
//   id, which the member must use within its session timeout. v0-v3 clients get their id at once.
// - The first rebalance of an empty group waits initial_rebalance_delay_ms (extended by each new
//   member, up to the rebalance timeout) so that consumers started together land in one generation.
//   Later rebalances complete when every known member rejoined, or at the rebalance deadline (the
//   largest rebalance timeout of the members), which removes the members that did not rejoin.
// - Session deadlines: a member that sends nothing (Heartbeat, SyncGroup, OffsetCommit, JoinGroup)
//   for its session timeout is removed, as if it left. Members waiting in JoinGroup do not expire.
// - Static membership (group.instance.id): the instance keeps its place; a restart (empty member id)
//   takes over the old member's slot under a new id without a rebalance when the group is stable and
//   the member's subscription is unchanged (a restarted leader is answered with the old leader id, so
//   that it does not assign, as Kafka does). A stale member id for the instance gets
//   FENCED_INSTANCE_ID.
// - Committed offsets: validated here (generation, member), applied by the adapter when it appends
//   them. Retention: offsets of a group Empty for offsets_retention_ms expire (expired_offsets). A commit
//   with generation -1 and no member id ("simple" commit) is allowed when the group has no active generation.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/kafka/protocol/error_code.h"

namespace tributary::cluster::group {

using error_code = tributary::kafka::protocol::error_code;
using bytes = std::vector<uint8_t>;
// Identifies a request whose answer the core may give later (the adapter's handle).
using request_id = uint64_t;

enum class group_state : int8_t { empty = 0, preparing_rebalance, completing_rebalance, stable, dead };
// "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead".
std::string_view state_name(group_state s);

struct config {
  int32_t min_session_timeout_ms = 6000;      // group.min.session.timeout.ms
  int32_t max_session_timeout_ms = 1800000;   // group.max.session.timeout.ms
  int32_t initial_rebalance_delay_ms = 3000;  // group.initial.rebalance.delay.ms
  size_t max_group_size = 1000;               // group.max.size: more members get GROUP_MAX_SIZE_REACHED
  size_t offset_metadata_max_bytes = 4096;    // offset.metadata.max.bytes
  // offsets.retention.ms: the committed offsets of a group that has been Empty (no members) this long
  // since it emptied or since its last commit, whichever is later, are deleted, and the group with
  // them (KIP-211). -1 keeps them forever.
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  std::string member_id_salt;  // part of generated member ids (unique per start)
};

struct member_protocol {
  std::string name;
  bytes metadata;
  bool operator==(const member_protocol&) const = default;
};

struct join_request {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::string protocol_type;
  std::vector<member_protocol> protocols;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string client_id;
  std::string client_host;
  bool member_id_required = false;  // JoinGroup v4+: an unknown member gets MEMBER_ID_REQUIRED first
};

struct join_member {
  std::string member_id;
  std::optional<std::string> instance_id;
  bytes metadata;
};

struct join_result {
  error_code error = error_code::none;
  int32_t generation = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  std::string member_id;
  std::vector<join_member> members;  // the leader's reply only
};

struct sync_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> instance_id;
  std::vector<std::pair<std::string, bytes>> assignments;  // from the leader
};

struct sync_result {
  error_code error = error_code::none;
  bytes assignment;
};

struct member_ref {
  std::string member_id;
  std::optional<std::string> instance_id;
};

struct committed_offset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int64_t commit_time_ms = -1;  // wall clock of the commit (informational)
  bool operator==(const committed_offset&) const = default;
};
using topic_partition = std::pair<std::string, int32_t>;

// What a call produced besides its direct answer: replies to parked requests, and the groups whose
// metadata changed (to persist).
struct outputs {
  std::vector<std::pair<request_id, join_result>> joins;
  std::vector<std::pair<request_id, sync_result>> syncs;
  std::vector<std::string> changed_groups;
  // Offsets deleted by retention (the adapter writes their tombstones).
  std::vector<std::pair<std::string, topic_partition>> expired_offsets;
  void changed(const std::string& g);
};

struct member {
  std::string id;
  std::optional<std::string> instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::vector<member_protocol> protocols;
  bytes assignment;
  int64_t session_deadline_ms = 0;
  std::optional<request_id> pending_join;
  std::optional<request_id> pending_sync;
};

struct group {
  std::string id;
  group_state state = group_state::empty;
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol_name;  // the selected protocol (assignor) of the current generation
  std::string leader;
  std::map<std::string, member> members;           // by member id
  std::map<std::string, std::string> instances;    // group.instance.id -> member id
  std::map<std::string, int64_t> pending_members;  // MEMBER_ID_REQUIRED ids -> deadline
  std::map<topic_partition, committed_offset> offsets;
  int64_t rebalance_deadline_ms = -1;  // PreparingRebalance only
  int64_t initial_delay_end_ms = -1;   // the initial delay's hard end (PreparingRebalance from Empty)
  int64_t empty_since_ms = -1;         // Empty: since when (or the last commit); -1 = not yet known
  bool initial_delay = false;
};

// A group's persistent part (records.h), for restore after a restart.
struct group_snapshot {
  std::string id;
  group_state state = group_state::empty;  // empty or stable
  int32_t generation = 0;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader;
  struct member_snapshot {
    std::string id;
    std::optional<std::string> instance_id;
    std::string client_id;
    std::string client_host;
    int32_t session_timeout_ms = 0;
    int32_t rebalance_timeout_ms = 0;
    bytes metadata;  // for the selected protocol
    bytes assignment;
    bool operator==(const member_snapshot&) const = default;
  };
  std::vector<member_snapshot> members;
  bool operator==(const group_snapshot&) const = default;
};

struct group_summary {
  std::string id;
  std::string protocol_type;
  group_state state = group_state::empty;
};

class coordinator {
 public:
  explicit coordinator(config cfg) : cfg_(std::move(cfg)) {}

  // JoinGroup: the answer arrives in out.joins under `id`, now or later.
  void join(const join_request& req, request_id id, int64_t now_ms, outputs& out);
  // SyncGroup: the answer arrives in out.syncs under `id`, now or later.
  void sync(const sync_request& req, request_id id, int64_t now_ms, outputs& out);
  error_code heartbeat(std::string_view group_id, int32_t generation, std::string_view member_id,
                       const std::optional<std::string>& instance_id, int64_t now_ms, outputs& out);
  // LeaveGroup: one error per member; the group-level error (unknown group) in `group_error`.
  std::vector<error_code> leave(std::string_view group_id, const std::vector<member_ref>& members,
                                int64_t now_ms, outputs& out, error_code& group_error);

  // OffsetCommit: may the member commit? (Creates the group for a simple commit to an unknown group.)
  error_code validate_commit(std::string_view group_id, int32_t generation, std::string_view member_id,
                             const std::optional<std::string>& instance_id, int64_t now_ms);
  // Applies a commit that is durable now (also used when replaying records).
  void apply_commit(std::string_view group_id, const topic_partition& tp, committed_offset c);
  // Replay: a tombstone of one offset.
  void remove_offset(std::string_view group_id, const topic_partition& tp);
  size_t offset_metadata_max_bytes() const { return cfg_.offset_metadata_max_bytes; }

  // OffsetFetch: nullptr when the group does not exist (every partition then answers -1).
  const std::map<topic_partition, committed_offset>* offsets(std::string_view group_id) const;

  // DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or none (the group and its offsets are gone;
  // the adapter writes the tombstones first).
  error_code can_delete(std::string_view group_id) const;
  void erase(std::string_view group_id);
  // This node stops coordinating the group (in a cluster, another node now leads its partition of
  // __consumer_offsets): every parked JoinGroup and SyncGroup is answered NOT_COORDINATOR, so the
  // clients look for the new coordinator, and the group is forgotten here.
  void unload(std::string_view group_id, outputs& out);

  // Session and rebalance deadlines up to now.
  void tick(int64_t now_ms, outputs& out);
  // The earliest deadline (for the adapter's timer), or nullopt.
  std::optional<int64_t> next_deadline() const;

  // Restore after a restart: the group with its members (each gets a fresh session deadline).
  void restore(const group_snapshot& s, int64_t now_ms);
  // The persistent part of a group (nullopt when it does not exist).
  std::optional<group_snapshot> snapshot(std::string_view group_id) const;

  const group* find(std::string_view group_id) const;
  std::vector<group_summary> list() const;
  const std::map<std::string, group, std::less<>>& groups() const { return groups_; }
  const config& cfg() const { return cfg_; }

 private:
  group* find_mut(std::string_view group_id);
  std::string new_member_id(std::string_view client_id);
  // Member-level checks shared by SyncGroup, Heartbeat and OffsetCommit.
  error_code check_member(const group& g, std::string_view member_id,
                          const std::optional<std::string>& instance_id) const;
  void add_member(group& g, const join_request& req, std::string member_id, request_id id, int64_t now_ms,
                  outputs& out);
  void update_member(group& g, member& m, const join_request& req, request_id id, outputs& out);
  void prepare_rebalance(group& g, int64_t now_ms, outputs& out);
  void maybe_complete_join(group& g, int64_t now_ms, outputs& out);
  void complete_join(group& g, int64_t now_ms, outputs& out);
  void remove_member(group& g, const std::string& member_id, int64_t now_ms, outputs& out);
  join_result join_reply(const group& g, const member& m) const;
  std::string select_protocol(const group& g) const;
  bool supports_protocols(const group& g, const join_request& req) const;
  void reply_pending_syncs(group& g, error_code error, outputs& out);
  void drop_if_dead(const std::string& group_id);
  void expire_offsets(group& g, int64_t now_ms, outputs& out);

  config cfg_;
  std::map<std::string, group, std::less<>> groups_;
  uint64_t next_member_ = 1;
};

}  // namespace tributary::cluster::group
