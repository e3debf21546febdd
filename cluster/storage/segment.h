#pragma once
// One segment of a partition log: `<base offset, 20 digits>.log` holding RecordBatch v2 bytes exactly
// as appended (base offset and leader epoch already rewritten), a sparse `.index` (batch base offset
// -> file position, 8 bytes per entry: u32 offset relative to the segment base, u32 position) and a
// `.timeindex` (12 bytes per entry: i64 max timestamp so far, u32 relative offset). Both indexes are
// hints: they are rebuilt from the log whenever they are missing or do not match it.
//
// A segment is used from the broker's event-loop thread, except sync(), which only calls fdatasync on
// the file descriptors and may run on a worker thread (the segment is kept alive by shared_ptr).
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/storage/types.h"
#include "common/result.h"

namespace tributary::cluster::storage {

// The fields of a RecordBatch v2 header the log needs (see ../shared/KAFKA-PROTOCOL.md §3).
struct batch_header {
  static constexpr size_t size = 61;
  static constexpr size_t log_overhead = 12;  // baseOffset + batchLength: bytes not counted in batchLength
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t leader_epoch = 0;
  int8_t magic = 0;
  uint32_t crc = 0;
  int32_t last_offset_delta = 0;
  int64_t max_timestamp = 0;

  size_t total_size() const { return static_cast<size_t>(batch_length) + log_overhead; }
  int64_t last_offset() const { return base_offset + last_offset_delta; }
};

// Parses the header of the batch at the start of `data`. Checks only what is needed to walk a log:
// enough bytes, a plausible length, magic 2, a non-negative last offset delta.
result<batch_header> parse_batch_header(byte_span data);
// CRC32C over attributes..end, compared with the stored crc. `batch` is exactly one whole batch.
bool batch_crc_ok(byte_span batch);

struct index_entry {
  uint32_t relative_offset;
  uint32_t position;
};
struct time_index_entry {
  int64_t max_timestamp;
  uint32_t relative_offset;
};

// What recovery found in one segment.
struct segment_scan {
  uint64_t valid_bytes = 0;            // bytes of whole, valid batches from the start
  uint64_t file_bytes = 0;             // size on disk before any cut
  std::optional<offset> last_offset;   // of the last valid batch
  std::optional<std::string> problem;  // why the scan stopped before file_bytes
};

class segment {
 public:
  // Creates a new, empty segment (files are created; the directory is synced by the caller).
  static result<std::shared_ptr<segment>> create(const std::filesystem::path& dir, offset base,
                                                 int64_t now_ms, uint32_t index_interval_bytes);
  // Opens an existing segment. `verify`: read the whole file and check every batch's length, order and
  // CRC. Otherwise trust the .index/.timeindex files if they agree with the log (walking only the
  // batches after the last entry), and fall back to a header walk of the whole file when they do not.
  // The scan result says how much of the file is valid; the caller decides whether to cut.
  static result<std::shared_ptr<segment>> open(const std::filesystem::path& log_path, offset base,
                                               uint32_t index_interval_bytes, bool verify,
                                               segment_scan& scan);
  ~segment();
  segment(const segment&) = delete;
  segment& operator=(const segment&) = delete;

  static std::string file_stem(offset base);  // 20-digit zero-padded base offset

  offset base_offset() const { return base_; }
  // Offset after the last batch (== base when empty).
  offset end_offset() const { return end_; }
  uint64_t size_bytes() const { return size_; }
  int64_t created_ms() const { return created_ms_; }
  int64_t max_timestamp() const { return max_timestamp_; }
  // Leader epoch of the last batch, -1 when empty.
  int32_t last_leader_epoch() const { return last_leader_epoch_; }
  bool empty() const { return size_ == 0; }
  int fd() const { return fd_; }
  const std::filesystem::path& log_path() const { return log_path_; }

  // Appends one whole batch whose header has been rewritten already. Writes to the page cache only.
  result<void> append(byte_span batch, const batch_header& h);
  // Position of the batch containing `target` (or the first batch after it), scanning from the
  // sparse index. nullopt when target >= end_offset().
  result<std::optional<std::pair<uint64_t, batch_header>>> find(offset target) const;
  // The header of the batch at `position` (which must be a batch boundary).
  result<batch_header> header_at(uint64_t position) const;
  // Reads `length` bytes at `position` into `out` (appended).
  result<void> read(uint64_t position, uint32_t length, std::vector<uint8_t>& out) const;
  // First batch whose max timestamp >= ts: its position and header.
  result<std::optional<std::pair<uint64_t, batch_header>>> find_by_timestamp(int64_t ts) const;
  // Cuts the segment so that it ends at `position` (a batch boundary); end offset becomes `new_end`.
  result<void> truncate(uint64_t position, offset new_end);
  // fdatasync of the log (indexes are hints, never synced). Safe on a worker thread.
  result<void> sync() const;
  // Writes the in-memory indexes to their files (on roll and on clean shutdown).
  result<void> write_indexes() const;
  // Closes the files and removes them from disk (retention, truncation of whole segments).
  void remove_files();

 private:
  segment() = default;
  void index_batch(uint64_t position, const batch_header& h);
  result<void> scan(bool verify, segment_scan& out);
  bool load_indexes(uint64_t file_size, segment_scan& out);

  std::filesystem::path log_path_;
  int fd_ = -1;
  offset base_{0};
  offset end_{0};
  uint64_t size_ = 0;
  int64_t created_ms_ = 0;
  int64_t max_timestamp_ = -1;
  int32_t last_leader_epoch_ = -1;
  uint32_t index_interval_bytes_ = 4096;
  uint64_t bytes_since_index_ = 0;
  std::vector<index_entry> index_;
  std::vector<time_index_entry> time_index_;
  bool removed_ = false;
};

}  // namespace tributary::cluster::storage
