#pragma once
// Errors of the Kafka record layer: RecordBatch v2 framing and validation, records, compression.
// One enum for the whole layer so the produce/fetch handlers map it to Kafka error codes in one place
// (most become CORRUPT_MESSAGE; unsupported_codec becomes UNSUPPORTED_COMPRESSION_TYPE; too_large
// becomes MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE).
#include <system_error>

#include "common/result.h"

namespace tributary::kafka {

enum class record_errc {
  truncated = 1,          // the buffer ends inside a batch (header or body incomplete)
  bad_batch_length,       // batch_length below the 49-byte header remainder, or not the buffer's size
  too_large,              // a size limit was exceeded (batch bytes, decompressed bytes)
  bad_magic,              // magic byte is not 2
  bad_crc,                // CRC-32C over attributes..end does not match
  unsupported_codec,      // codec bits name no known codec (5..7)
  bad_record_count,       // record_count/last_offset_delta negative or inconsistent with each other
  bad_producer_state,     // a producer batch with a producer id but no base sequence
  bad_record_length,      // a record's length varint is negative, cut, or disagrees with its fields
  bad_record,             // a field inside a record is malformed (varint, key/value/header lengths)
  bad_offset_delta,       // offset deltas not strictly increasing or beyond last_offset_delta
  record_count_mismatch,  // the records section holds fewer records than record_count says
  trailing_bytes,         // bytes left in the records section after record_count records
  bad_control_record,     // a control batch record whose key is not a control key
  decompression_failed,   // the compressed records section is corrupt
  compression_failed,     // the codec library refused to compress
};

inline std::error_code make_error_code(record_errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::kafka

template <>
struct tributary::errc_info<tributary::kafka::record_errc> {
  static constexpr const char* name = "kafka.record";
  static const char* message(tributary::kafka::record_errc e) noexcept;
};

template <>
struct std::is_error_code_enum<tributary::kafka::record_errc> : std::true_type {};
