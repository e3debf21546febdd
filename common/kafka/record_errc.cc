#include "common/kafka/record_errc.h"

namespace tributary {

const char* errc_info<kafka::record_errc>::message(kafka::record_errc e) noexcept {
  using kafka::record_errc;
  switch (e) {
    case record_errc::truncated: return "buffer ends inside a record batch";
    case record_errc::bad_batch_length: return "invalid record batch length";
    case record_errc::too_large: return "size limit exceeded";
    case record_errc::bad_magic: return "unsupported record batch magic (only v2)";
    case record_errc::bad_crc: return "record batch CRC mismatch";
    case record_errc::unsupported_codec: return "unsupported compression codec";
    case record_errc::bad_record_count: return "invalid record count or last offset delta";
    case record_errc::bad_producer_state: return "inconsistent producer id, epoch or sequence";
    case record_errc::bad_record_length: return "record length disagrees with its contents";
    case record_errc::bad_record: return "malformed record field";
    case record_errc::bad_offset_delta: return "record offset deltas out of order or out of range";
    case record_errc::record_count_mismatch: return "fewer records than the batch header says";
    case record_errc::trailing_bytes: return "bytes after the last record of the batch";
    case record_errc::bad_control_record: return "invalid control record key";
    case record_errc::decompression_failed: return "corrupt compressed records";
    case record_errc::compression_failed: return "compression failed";
  }
  return "unknown record error";
}

}  // namespace tributary
