#pragma once
// The log of one partition: a directory of segments (see segment.h). Shaped for a Raft group to own
// later: append batches at the end with a leader epoch (the Raft term), truncate a suffix, read from an
// offset up to a limit (the high watermark = the commit index), and a durable offset advanced by
// fdatasync that runs on a worker thread while the event loop keeps appending.
//
// Recovery policy (open()):
//  - Every segment is scanned; with `verify_on_start` (the default) every batch's CRC is checked,
//    otherwise closed segments are trusted through their index files and only the last is verified.
//  - The last segment is cut at its first invalid batch (a torn write or a crash mid-append); what was
//    cut is logged and reported. Nothing past the cut is ever served.
//  - A closed segment with an invalid batch is NOT modified (its bytes stay for forensics): the log
//    uses its valid prefix, serves every later segment, and logs where the damage is at every start.
//    Readers see an offset gap across the damaged range, as after compaction. In a replicated cluster
//    the replica refetches the range from the leader instead.
//  - Index files are hints: missing or inconsistent ones are rebuilt from the log.
// Not thread-safe: one owner thread, except run_sync() which is meant for a worker thread.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "cluster/storage/segment.h"
#include "cluster/storage/types.h"
#include "common/result.h"

namespace tributary::cluster::storage {

struct log_config {
  uint64_t segment_bytes = 128ull << 20;          // roll when the active segment would exceed this
  int64_t segment_ms = 7LL * 24 * 3600 * 1000;    // roll an active segment older than this
  int64_t retention_ms = 7LL * 24 * 3600 * 1000;  // delete segments whose newest record is older; -1 = keep
  int64_t retention_bytes = -1;                   // delete oldest segments above this size; -1 = no limit
  uint32_t index_interval_bytes = 4096;           // one sparse index entry per this many log bytes
  bool verify_on_start = true;                    // CRC-check every segment at start-up, not only the last
};

struct recovery_report {
  size_t segments = 0;
  uint64_t bytes = 0;
  uint64_t bytes_cut = 0;             // torn tail removed from the last segment
  std::vector<std::string> problems;  // one line per damaged segment, with its file and position
};

struct append_result {
  offset base;
  offset last;
  int64_t max_timestamp = -1;
};

struct read_result {
  std::vector<uint8_t> data;  // whole batches, as stored
  offset next;                // the offset after the last returned batch (where the next read starts)
};

// A snapshot of what to fdatasync, taken on the owner thread.
struct sync_job {
  std::vector<std::shared_ptr<segment>> segments;
  std::filesystem::path dir;
  bool sync_dir = false;
  offset upto;          // everything below this is durable once the job has run
  uint64_t generation;  // truncations in between invalidate the job's claim
};

class partition_log {
 public:
  static result<std::unique_ptr<partition_log>> open(const std::filesystem::path& dir, const log_config& cfg,
                                                     int64_t now_ms);
  ~partition_log();

  const recovery_report& recovery() const { return recovery_; }
  const std::filesystem::path& dir() const { return dir_; }
  offset start_offset() const;
  offset end_offset() const;
  uint64_t size_bytes() const;
  size_t segment_count() const { return segments_.size(); }
  // Leader epoch of the last batch (-1 when empty): the Raft last term.
  leader_epoch last_epoch() const { return last_epoch_; }

  // Appends one batch (already validated by the caller): rewrites its baseOffset to end_offset() and
  // its partitionLeaderEpoch to `epoch` in place (both outside the CRC), then writes it.
  result<append_result> append(std::span<uint8_t> batch, leader_epoch epoch, int64_t now_ms);
  // Appends a batch whose base offset is already assigned (a Raft follower copying the leader):
  // its base offset must be >= end_offset().
  result<append_result> append_exact(byte_span batch, int64_t now_ms);
  // Removes every batch at or after `from`, which must be end_offset() or the base offset of a batch.
  result<void> truncate_suffix(offset from);
  // Drops every segment and starts the log again, empty, at `start`: a Raft follower that received
  // a snapshot because the leader no longer holds the entries it lacks. Durable on return.
  result<void> reset_to(offset start, int64_t now_ms);
  // Whole batches starting with the one that contains `from` (or the next one after a gap), at least
  // one batch and then up to `max_bytes`, only batches whose base offset is below `limit`.
  // from == end_offset() (or >= limit) gives an empty result; from outside [start, end] is an error.
  result<read_result> read(offset from, size_t max_bytes, offset limit) const;
  // Base offset of the first batch whose max timestamp >= ts, nullopt when none.
  result<std::optional<offset>> offset_for_timestamp(int64_t ts) const;
  // The leader epoch of the batch containing `o`.
  result<leader_epoch> epoch_at(offset o) const;

  // Durability. prepare_sync() on the owner thread, run_sync() anywhere (a worker), complete_sync()
  // back on the owner thread. durable_offset(): everything below it has been fdatasync'ed.
  sync_job prepare_sync();
  static result<void> run_sync(const sync_job& job);
  void complete_sync(const sync_job& job);
  offset durable_offset() const { return durable_; }
  bool has_unsynced_data() const { return durable_ < end_offset() || dir_dirty_; }
  // All three steps on the calling thread.
  result<void> sync_now();

  // Deletes whole segments by age and size (never the active one, never any segment with data at or
  // above `keep_from`, e.g. the high watermark). Returns how many were deleted.
  result<size_t> apply_retention(int64_t now_ms, offset keep_from);
  // Where apply_retention would start the log (the base offset of the first segment it keeps), or
  // nullopt when it would delete nothing. For a Raft log, which records the cut before it happens.
  std::optional<offset> retention_point(int64_t now_ms, offset keep_from) const;
  // Deletes every whole segment below `keep_from` (never the active one), whatever its age and size:
  // for a log whose live state was written again at keep_from (__consumer_offsets compaction).
  result<size_t> delete_before(offset keep_from);
  // Writes the index files of every segment (clean shutdown).
  result<void> close();

 private:
  partition_log() = default;
  result<void> roll(int64_t now_ms);
  result<size_t> delete_segments_before(offset keep_from, const char* reason);
  result<append_result> write_batch(byte_span batch, const batch_header& h, int64_t now_ms);
  std::shared_ptr<segment> active() const { return segments_.rbegin()->second; }
  // The segment holding `o`, or the first one after it; nullptr when none.
  std::shared_ptr<segment> segment_for(offset o) const;

  std::filesystem::path dir_;
  log_config cfg_;
  std::map<offset, std::shared_ptr<segment>> segments_;  // by base offset; never empty once open
  std::vector<std::shared_ptr<segment>> unsynced_;       // closed since the last sync (active excluded)
  recovery_report recovery_;
  leader_epoch last_epoch_{-1};
  offset durable_{0};
  uint64_t generation_ = 0;
  bool dir_dirty_ = false;
};

}  // namespace tributary::cluster::storage
