#pragma once
// Kafka RecordBatch v2 (magic 2): a zero-copy view over one batch, a splitter over concatenated
// batches, record iteration, in-place mutators for the broker and a builder.
//
// Layout (big-endian; byte offsets in brackets; see shared/KAFKA-PROTOCOL.md §3):
//   baseOffset i64 [0] | batchLength i32 [8] | partitionLeaderEpoch i32 [12] | magic i8 [16] |
//   crc u32 [17] | attributes i16 [21] | lastOffsetDelta i32 [23] | baseTimestamp i64 [27] |
//   maxTimestamp i64 [35] | producerId i64 [43] | producerEpoch i16 [51] | baseSequence i32 [53] |
//   recordCount i32 [57] | records [61..]
// The CRC-32C covers attributes..end; baseOffset and partitionLeaderEpoch lie outside it so the
// broker rewrites them without recomputing it. When compressed, only the records are compressed.
//
// Record: length varint | attributes i8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
//   headerCount varint | [headerKeyLength varint | key | headerValueLength varint (-1 = null) | value]
// All varints are zigzag (protobuf sint32/sint64).
//
// Typical use:
//   batch_splitter split(request_records);
//   while (auto b = TRIB_TRY(split.next())) {
//     TRIB_TRY_VOID(b->validate({.producer_batch = true}));
//     ...
//   }
//   for (const record_view& r : batch.records()) use(r.offset(), r.key(), r.value());
//
// Nothing here allocates except decompression and the builder; views point into the caller's
// buffer, which must outlive them. All parsing of untrusted bytes returns record_errc errors.
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/bytes.h"
#include "common/kafka/compression.h"
#include "common/kafka/record_errc.h"
#include "common/result.h"

namespace tributary::kafka {

// ---- layout constants ---------------------------------------------------------------------------
inline constexpr int8_t record_batch_magic = 2;
inline constexpr size_t batch_header_bytes = 61;        // through recordCount
inline constexpr size_t batch_log_overhead_bytes = 12;  // baseOffset + batchLength
// batchLength counts the bytes after itself: at least the rest of the header.
inline constexpr int32_t batch_length_min =
    static_cast<int32_t>(batch_header_bytes - batch_log_overhead_bytes);
// Default cap on one batch's total size for the splitter (a named limit; callers pass their config).
inline constexpr size_t batch_bytes_max_default = 16 * 1024 * 1024;

namespace batch_offsets {
inline constexpr size_t base_offset = 0;
inline constexpr size_t batch_length = 8;
inline constexpr size_t partition_leader_epoch = 12;
inline constexpr size_t magic = 16;
inline constexpr size_t crc = 17;
inline constexpr size_t attributes = 21;
inline constexpr size_t last_offset_delta = 23;
inline constexpr size_t base_timestamp = 27;
inline constexpr size_t max_timestamp = 35;
inline constexpr size_t producer_id = 43;
inline constexpr size_t producer_epoch = 51;
inline constexpr size_t base_sequence = 53;
inline constexpr size_t record_count = 57;
inline constexpr size_t records = 61;
}  // namespace batch_offsets

namespace batch_attr {
inline constexpr uint16_t codec_mask = 0x07;
inline constexpr uint16_t log_append_time = 0x08;
inline constexpr uint16_t transactional = 0x10;
inline constexpr uint16_t control = 0x20;
inline constexpr uint16_t delete_horizon = 0x40;
}  // namespace batch_attr

enum class timestamp_type : uint8_t { create_time = 0, log_append_time = 1 };

class record_batch_view;
class record_reader;

// ---- records ------------------------------------------------------------------------------------

struct record_header {
  std::string_view key;  // UTF-8 by contract; not checked
  std::optional<byte_span> value;
};

// The headers of one record. Only a record_reader makes these, after checking every header, so
// iterating them cannot fail.
class header_range {
 public:
  class iterator {
   public:
    using value_type = record_header;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const record_header& operator*() const { return current_; }
    const record_header* operator->() const { return &current_; }
    iterator& operator++();
    void operator++(int) { ++*this; }
    bool operator==(std::default_sentinel_t) const { return left_ < 0; }

   private:
    friend class header_range;
    iterator(byte_span data, int32_t count);
    byte_reader reader_;
    int32_t left_ = -1;  // headers not yet produced; -1 = at the end
    record_header current_;
  };

  header_range() = default;
  iterator begin() const { return iterator(data_, count_); }
  std::default_sentinel_t end() const { return {}; }
  int32_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  friend class record_reader;
  header_range(byte_span data, int32_t count) : data_(data), count_(count) {}
  byte_span data_{};
  int32_t count_ = 0;
};

// One parsed record; spans point into the batch (or the decompressed buffer).
class record_view {
 public:
  record_view() = default;
  int64_t offset() const { return offset_; }  // base offset + offset delta
  // base timestamp + delta, or the batch's max timestamp for LogAppendTime batches.
  int64_t timestamp() const { return timestamp_; }
  int32_t offset_delta() const { return offset_delta_; }
  int64_t timestamp_delta() const { return timestamp_delta_; }
  int8_t attributes() const { return attributes_; }  // unused by Kafka so far
  const std::optional<byte_span>& key() const { return key_; }
  const std::optional<byte_span>& value() const { return value_; }
  const header_range& headers() const { return headers_; }
  byte_span bytes() const { return bytes_; }  // the whole record, length varint included

 private:
  friend class record_reader;
  int64_t offset_ = 0;
  int64_t timestamp_ = 0;
  int64_t timestamp_delta_ = 0;
  int32_t offset_delta_ = 0;
  int8_t attributes_ = 0;
  std::optional<byte_span> key_;
  std::optional<byte_span> value_;
  header_range headers_;
  byte_span bytes_{};
};

// Reads the records of a batch one at a time, checking each (structure, offset deltas, control keys)
// and the section as a whole (record count, no trailing bytes). The same checks back validate().
class record_reader {
 public:
  // `records` is the batch's records section, decompressed if the batch is compressed.
  record_reader(const record_batch_view& batch, byte_span records);
  record_reader() = default;  // reads nothing

  // The next record; nullopt once record_count records were read and no byte is left.
  result<std::optional<record_view>> next();
  int32_t records_read() const { return read_; }

 private:
  result<record_view> parse_one();

  byte_reader in_;
  int64_t base_offset_ = 0;
  int64_t base_timestamp_ = 0;
  std::optional<int64_t> log_append_time_;
  int32_t count_ = 0;
  int32_t last_offset_delta_ = 0;
  bool control_ = false;
  int32_t read_ = 0;
  int64_t prev_offset_delta_ = -1;
};

// A range over a batch's records for range-for. Iteration stops at the first malformed record and
// leaves its error in error(); a validated batch never fails. The range must outlive its iterators.
class record_range {
 public:
  class iterator {
   public:
    using value_type = record_view;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    const record_view& operator*() const { return current_; }
    const record_view* operator->() const { return &current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    bool operator==(std::default_sentinel_t) const { return done_; }

   private:
    friend class record_range;
    iterator(record_reader reader, std::error_code* error) : reader_(reader), error_(error) { advance(); }
    void advance();
    record_reader reader_;
    std::error_code* error_ = nullptr;
    record_view current_;
    bool done_ = true;
  };

  record_range(const record_batch_view& batch, byte_span records);
  iterator begin() { return iterator(reader_, &error_); }
  std::default_sentinel_t end() const { return {}; }
  // Set when iteration stopped at a malformed record.
  std::error_code error() const { return error_; }

 private:
  record_reader reader_;
  std::error_code error_;
};

// ---- batch view ---------------------------------------------------------------------------------

struct validate_options {
  // Above 0: a compressed batch is also decompressed (at most this many bytes) and its records are
  // checked like an uncompressed batch's. 0: compressed batches are checked by header and CRC only.
  size_t decompressed_bytes_max = 0;
  // A batch straight from a client's Produce request. Adds what Kafka's LogValidator demands of
  // those (and a compacted batch from a log may not meet): at least one record,
  // record_count == last_offset_delta + 1 (with deltas strictly increasing up to last_offset_delta,
  // they are then exactly 0..n-1), a base sequence when a producer id is set, a producer id when
  // transactional.
  bool producer_batch = false;
};

class record_batch_view {
 public:
  // Frames exactly one batch: `bytes` must hold the 12-byte log overhead and batch_length bytes
  // more, no fewer (truncated) and no more (bad_batch_length); batch_length must cover the header
  // (bad_batch_length). Nothing else is checked: call validate().
  static result<record_batch_view> parse(byte_span bytes);

  byte_span bytes() const { return bytes_; }
  size_t size_bytes() const { return bytes_.size(); }

  int64_t base_offset() const;
  int32_t batch_length() const;
  int32_t partition_leader_epoch() const;
  int8_t magic() const;
  uint32_t crc() const;
  uint16_t attributes() const;
  uint8_t codec_bits() const { return static_cast<uint8_t>(attributes() & batch_attr::codec_mask); }
  std::optional<compression_codec> codec() const { return codec_from_bits(codec_bits()); }
  bool is_compressed() const { return codec_bits() != 0; }
  timestamp_type ts_type() const;
  bool is_transactional() const { return (attributes() & batch_attr::transactional) != 0; }
  bool is_control() const { return (attributes() & batch_attr::control) != 0; }
  bool has_delete_horizon() const { return (attributes() & batch_attr::delete_horizon) != 0; }
  int32_t last_offset_delta() const;
  int64_t last_offset() const;  // base_offset + last_offset_delta
  int64_t base_timestamp() const;
  int64_t max_timestamp() const;
  int64_t producer_id() const;
  int16_t producer_epoch() const;
  int32_t base_sequence() const;
  int32_t record_count() const;
  // The bytes after the header: the records, compressed or not.
  byte_span records_data() const { return bytes_.subspan(batch_offsets::records); }
  // CRC-32C of attributes..end as it is now (compare with crc()).
  uint32_t compute_crc() const;

  // Checks, in order: magic, CRC, codec, record count vs last offset delta, producer checks
  // (options.producer_batch), then the records themselves when uncompressed (or when compressed
  // and options.decompressed_bytes_max > 0).
  result<void> validate(const validate_options& options = {}) const;

  // Records of an uncompressed batch (precondition: !is_compressed()).
  record_range records() const;
  // Records of a compressed batch, read from its decompressed records section.
  record_range records(byte_span decompressed) const { return record_range(*this, decompressed); }

 private:
  explicit record_batch_view(byte_span bytes) : bytes_(bytes) {}
  byte_span bytes_;
};

// Decompresses a compressed batch's records section (errors: unsupported_codec for an uncompressed
// or unknown codec, decompression_failed, too_large).
result<std::vector<uint8_t>> decompress_records(const record_batch_view& batch, size_t output_bytes_max);

// Records of any batch: in place when uncompressed, else decompressed into `scratch` (which must
// outlive the range).
result<record_range> read_records(const record_batch_view& batch, std::vector<uint8_t>& scratch,
                                  size_t decompressed_bytes_max);

// ---- splitter -----------------------------------------------------------------------------------

// Walks a buffer of concatenated batches (a Produce request's records, a fetch response, a segment
// file). next() returns each batch's view (framed, not validated), nullopt at a clean end, or:
//   truncated          the buffer ends inside a batch whose start looks valid (a fetch response
//                      may end so; segment recovery cuts the torn tail at position());
//   bad_batch_length   batch_length below the header size;
//   too_large          the batch would exceed batch_bytes_max;
//   bad_magic          the magic byte (when present) is not 2: garbage, not a torn tail.
// Errors are sticky; position() then is where the bad batch starts.
class batch_splitter {
 public:
  explicit batch_splitter(byte_span data, size_t batch_bytes_max = batch_bytes_max_default)
      : data_(data), batch_bytes_max_(batch_bytes_max) {}

  result<std::optional<record_batch_view>> next();
  // Offset of the first byte not yet returned as part of a batch.
  size_t position() const { return pos_; }

 private:
  byte_span data_;
  size_t batch_bytes_max_;
  size_t pos_ = 0;
  std::error_code error_;
};

// ---- in-place mutators (broker append path) -----------------------------------------------------
// Preconditions for all three: `batch` is exactly one framed batch (record_batch_view::parse would
// accept it). They are TRIB_ASSERTed: callers validate untrusted input first.

// Outside the CRC: no recomputation.
void set_base_offset(std::span<uint8_t> batch, int64_t base_offset);
void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch);
// Sets the LogAppendTime attribute bit and max_timestamp = timestamp_ms, then recomputes the CRC.
// Also asserts that the CRC was valid before, so a corrupt batch is never given a fresh valid CRC.
void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms);

// ---- control records (transaction markers) ------------------------------------------------------

enum class control_type : int16_t { abort = 0, commit = 1 };

// Key: version i16 (0), type i16. Value of an end-transaction marker: version i16 (0), coordinator
// epoch i32.
std::array<uint8_t, 4> control_record_key(control_type type);
std::array<uint8_t, 6> end_txn_marker_value(int32_t coordinator_epoch);
// bad_control_record for a null key, fewer than 4 bytes, or a negative version. Unknown types are
// returned as they are (newer Kafka versions define more).
result<control_type> parse_control_record_key(const std::optional<byte_span>& key);

// ---- builder ------------------------------------------------------------------------------------

struct header_input {
  std::string_view key;
  std::optional<byte_span> value;
};

struct record_input {
  int64_t timestamp_ms = 0;
  std::optional<byte_span> key;
  std::optional<byte_span> value;
  std::span<const header_input> headers = {};
  // Default: one past the previous record's (0 for the first). Set only to build gaps (as
  // compaction leaves them); deltas must increase.
  std::optional<int32_t> offset_delta;
};

struct batch_options {
  int64_t base_offset = 0;
  int32_t partition_leader_epoch = -1;  // what Java producers send (RecordBatch.NO_PARTITION_LEADER_EPOCH)
  compression_codec codec = compression_codec::none;
  bool transactional = false;
  bool control = false;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  // Default: the last record's offset delta (0 for an empty batch). Set to build a compacted-style
  // batch whose last records were removed.
  std::optional<int32_t> last_offset_delta;
};

// Builds one batch: record deltas, lengths, timestamps (base = first record's, max = largest),
// compression and CRC. For tests, the simulator, control batches and the broker's own records.
// Inputs are the caller's responsibility (sizes beyond Kafka's int32 fields are TRIB_ASSERTed).
class record_batch_builder {
 public:
  explicit record_batch_builder(batch_options options = {}) : options_(options) {}

  record_batch_builder& add(const record_input& record);
  int32_t record_count() const { return count_; }
  // Bytes of the (uncompressed) records section so far.
  size_t records_bytes() const { return records_.size(); }

  // The encoded batch. Fails only if compression fails.
  result<std::vector<uint8_t>> build() const;

 private:
  batch_options options_;
  byte_writer records_;
  int32_t count_ = 0;
  int64_t base_timestamp_ = -1;
  int64_t max_timestamp_ = -1;
  int32_t last_delta_ = -1;
};

}  // namespace tributary::kafka
