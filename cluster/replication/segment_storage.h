#pragma once
// raft::log_storage over a partition's segment log: the segment log IS the Raft log.
//
//   Raft                      segment log
//   entry index / width   =   batch base offset / lastOffsetDelta + 1
//   entry term            =   batch partitionLeaderEpoch
//   normal entry payload  =   the RecordBatch bytes, exactly as stored
//   no-op entry           =   a control batch, control type 2 (Kafka's LEADER_CHANGE), empty value
//   config entry          =   a control batch, control type 6 (Kafka's KRAFT_VOTERS), value = the
//                             encoded membership (raft::encode_membership)
//
// Kafka clients skip control batches, so consumers see the offset of a no-op or a config entry as a
// gap, as they do a transaction marker's.
//
// Beside the segments, `raft.state` holds what the log cannot: the term and vote (written and
// fsynced before any message that depends on them goes out: set_hard_state) and the snapshot
// metadata (the last offset before the log start, its term and the membership in force there).
// The commit index is kept in memory and written with the term and vote (Raft can always learn it
// again). A snapshot's data (the controller's metadata) is `raft.snapshot`, written atomically.
//
// Not thread-safe: the log's owner thread, like partition_log.
#include <cstdint>
#include <filesystem>
#include <memory>

#include "cluster/raft/storage.h"
#include "cluster/storage/partition_log.h"
#include "common/result.h"

namespace tributary::cluster::replication {

enum class errc {
  bad_state_file = 1,  // raft.state unreadable, or failing its checksum
  entry_mismatch,      // an entry whose batch disagrees with it (offset, width, term)
  not_a_batch,         // a stored batch that does not parse as an entry (unknown control record)
  io_error,            // a write failed (the error is logged)
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::replication

template <>
struct tributary::errc_info<tributary::cluster::replication::errc> {
  static constexpr const char* name = "replication";
  static const char* message(tributary::cluster::replication::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::replication::errc> : std::true_type {};

namespace tributary::cluster::replication {

// The control types of the Raft entries the core makes itself.
inline constexpr int16_t control_type_no_op = 2;
inline constexpr int16_t control_type_config = 6;

class segment_storage final : public raft::log_storage {
 public:
  // Opens the Raft state of `log` (in the log's directory). A log without raft.state is a new
  // group: its snapshot is at the log start - 1, term 0, with `bootstrap` as the membership (empty
  // for a node that joins an existing group and learns the membership from the leader).
  static result<std::unique_ptr<segment_storage>> open(storage::partition_log& log,
                                                       raft::membership bootstrap);

  // ---- raft::log_storage
  raft::hard_state saved_hard_state() const override { return hard_state_; }
  raft::snapshot_metadata snapshot_meta() const override { return snapshot_; }
  result<raft::snapshot> latest_snapshot() const override;
  raft::log_index first_index() const override;
  raft::log_index last_index() const override;
  result<raft::term> term_at(raft::log_index i) const override;
  result<std::vector<raft::entry>> entries(raft::log_index lo, raft::log_index hi,
                                           size_t max_bytes) const override;

  // ---- writers, in the order a ready asks for them (see raft/node.h)
  // Replaces the log with a snapshot from the leader: the log restarts, empty, after its index.
  result<void> apply_snapshot(const raft::snapshot& s, int64_t now_ms);
  // Appends entries; the first may overwrite a suffix (truncated first, at a batch boundary). A
  // normal entry's payload must be a batch whose base offset, epoch and record count match the
  // entry (the leader rewrote them before proposing); no-op and config entries become control
  // batches. Written to the page cache: partition_log's sync makes them durable.
  result<void> append(std::span<const raft::entry> entries, int64_t now_ms);
  // Records the hard state; a changed term or vote is written and fsynced before returning.
  result<void> set_hard_state(const raft::hard_state& hs);
  // Records a snapshot of the application's state at `index` (an entry's last offset) with its data
  // (the controller's metadata; empty for a partition). The log is not compacted here.
  result<void> create_snapshot(raft::log_index index, raft::membership config, raft::payload data);
  // The log start moved past offsets the Raft log held (retention): remembers the last one gone,
  // its term and the membership in force there, before the segments are deleted.
  result<void> compacted(raft::log_index through, raft::term t, raft::membership config);

  storage::partition_log& log() { return log_; }

 private:
  explicit segment_storage(storage::partition_log& log) : log_(log) {}
  result<void> write_state();
  std::filesystem::path state_path() const { return log_.dir() / "raft.state"; }
  std::filesystem::path snapshot_path() const { return log_.dir() / "raft.snapshot"; }

  storage::partition_log& log_;
  raft::hard_state hard_state_;
  raft::snapshot_metadata snapshot_;
  raft::payload snapshot_data_;
};

// One stored batch as a Raft entry (exposed for tests and the fuzz target).
result<raft::entry> entry_of_batch(byte_span batch);
// The batch that stores a no-op or config entry.
std::vector<uint8_t> control_batch_of(const raft::entry& e, int64_t now_ms);

}  // namespace tributary::cluster::replication
