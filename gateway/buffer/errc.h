#pragma once
// Errors of the gateway's durable buffer (buffer_store and group_committer).
//
// SQLite failures are mapped to the conditions a caller can act on (cannot_open, read_only, corrupt,
// busy, disk_full, io_error); SQLite's own message is logged with the path and kept in
// buffer_store::last_error_message() for the command line to print.
#include <system_error>

#include "common/result.h"

namespace tributary::gateway::buffer {

enum class errc {
  cannot_open = 1,  // the database file or its directory cannot be opened or created
  read_only,        // the database can only be read (file or file system write-protected)
  corrupt,          // not a SQLite database, a damaged page, or a row that fails its checks
  not_a_buffer,     // a SQLite database with tables but without our schema version
  schema_too_new,   // written by a newer Tributary: PRAGMA user_version above schema_version
  wal_unavailable,  // SQLite refused journal_mode=WAL
  busy,             // another connection held the lock beyond busy_timeout_ms
  disk_full,        // the disk, or file_bytes_max (PRAGMA max_page_count), is full
  io_error,         // SQLite reported an I/O error
  sqlite_error,     // any other SQLite failure
  buffer_full,      // quota_bytes reached with overflow policy `reject`
  row_too_large,    // a reading's accounted size exceeds row_bytes_max or the quota itself
  invalid_row,      // empty or too long topic, too many headers, negative time
  batch_too_large,  // more rows in one call than batch_rows_max
  not_found,        // no such reading or dead letter
  queue_full,       // group_committer: queue_rows_max or queue_bytes_max reached (back off)
  closed,           // group_committer: closing or closed
  bad_option,       // an option value out of its documented range
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::gateway::buffer

template <>
struct tributary::errc_info<tributary::gateway::buffer::errc> {
  static constexpr const char* name = "gateway.buffer";
  static const char* message(tributary::gateway::buffer::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::gateway::buffer::errc> : std::true_type {};
