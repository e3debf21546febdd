#pragma once
// The Raft core's expected failures. None of them is a broken invariant (those are TRIB_ASSERTs):
// each is something a caller must handle, usually by retrying elsewhere or later.
#include "common/result.h"

namespace tributary::cluster::raft {

enum class errc {
  not_leader = 1,              // only the leader accepts proposals, config changes and transfers
  no_leader,                   // a follower cannot forward a read: it knows no leader
  transfer_in_progress,        // the leader is handing over leadership and refuses new proposals
  config_change_pending,       // a config change is uncommitted, or the leader has not yet
                               // committed an entry of its own term
  config_change_invalid,       // the change does not apply to the current membership
  cannot_remove_leader,        // transfer leadership away first, then remove the node
  not_a_voter,                 // a learner or non-member cannot become leader
  too_many_uncommitted_bytes,  // config::max_uncommitted_bytes reached; retry once entries commit
  too_many_pending_reads,      // config::max_pending_reads reached
  empty_proposal,              // propose() with no entries
  invalid_message,             // a message that breaks the protocol's shape (wrong recipient, ...)
  compacted,                   // storage: the requested index is before the log start
  unavailable,                 // storage: the requested index is after the last entry
  snapshot_unavailable,        // storage: no snapshot can be produced right now
  snapshot_out_of_date,        // storage: a snapshot older than the one already held
  corrupt_storage,             // storage state that Raft could never have produced
  invalid_config,              // a config value out of range
  invalid_width,               // an entry width of 0, above max_entry_width, or past the last offset
  not_entry_boundary,          // storage: an offset inside an entry where an entry's end is required
};

inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::raft

template <>
struct tributary::errc_info<tributary::cluster::raft::errc> {
  static constexpr const char* name = "raft";
  static const char* message(tributary::cluster::raft::errc e) noexcept;
};

template <>
struct std::is_error_code_enum<tributary::cluster::raft::errc> : std::true_type {};
