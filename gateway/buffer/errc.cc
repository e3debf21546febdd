#include "gateway/buffer/errc.h"

namespace tributary {

const char* errc_info<gateway::buffer::errc>::message(gateway::buffer::errc e) noexcept {
  using gateway::buffer::errc;
  switch (e) {
    case errc::cannot_open: return "buffer database cannot be opened or created";
    case errc::read_only: return "buffer database is read-only";
    case errc::corrupt: return "buffer database is corrupt or not a SQLite database";
    case errc::not_a_buffer: return "database is not a Tributary buffer";
    case errc::schema_too_new: return "buffer database was written by a newer Tributary";
    case errc::wal_unavailable: return "SQLite WAL journal mode is unavailable";
    case errc::busy: return "buffer database is locked by another connection";
    case errc::disk_full: return "disk or buffer file size limit is full";
    case errc::io_error: return "I/O error on the buffer database";
    case errc::sqlite_error: return "SQLite error";
    case errc::buffer_full: return "buffer quota reached";
    case errc::row_too_large: return "reading is larger than the row limit";
    case errc::invalid_row: return "invalid reading";
    case errc::batch_too_large: return "batch has more rows than the limit";
    case errc::not_found: return "no such reading";
    case errc::queue_full: return "commit queue is full";
    case errc::closed: return "buffer is closed";
    case errc::bad_option: return "invalid buffer option";
  }
  return "unknown buffer error";
}

}  // namespace tributary
