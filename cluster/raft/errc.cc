#include "cluster/raft/errc.h"

namespace tributary {

const char* errc_info<cluster::raft::errc>::message(cluster::raft::errc e) noexcept {
  using cluster::raft::errc;
  switch (e) {
    case errc::not_leader: return "not the leader";
    case errc::no_leader: return "no leader known";
    case errc::transfer_in_progress: return "leadership transfer in progress";
    case errc::config_change_pending: return "a config change is pending";
    case errc::config_change_invalid: return "config change does not apply to the membership";
    case errc::cannot_remove_leader: return "cannot remove the leader; transfer leadership first";
    case errc::not_a_voter: return "node is not a voter";
    case errc::too_many_uncommitted_bytes: return "too many uncommitted bytes";
    case errc::too_many_pending_reads: return "too many pending reads";
    case errc::empty_proposal: return "empty proposal";
    case errc::invalid_message: return "invalid message";
    case errc::compacted: return "log index compacted";
    case errc::unavailable: return "log index unavailable";
    case errc::snapshot_unavailable: return "snapshot temporarily unavailable";
    case errc::snapshot_out_of_date: return "snapshot out of date";
    case errc::corrupt_storage: return "corrupt storage state";
    case errc::invalid_config: return "invalid config";
    case errc::invalid_width: return "invalid entry width";
    case errc::not_entry_boundary: return "offset is not an entry boundary";
  }
  return "unknown raft error";
}

}  // namespace tributary
