#pragma once
// buffer_store: the gateway's durable store-and-forward buffer, a synchronous adapter over one
// SQLite connection. Every method except counters() and backlog() runs on ONE thread at a time —
// in the gateway, the buffer's uv::worker thread — so the loop never waits for SQLite or fsync.
//
// File: WAL journal, PRAGMA synchronous from the options (FULL by default: a committed transaction
// survives power loss). Tables (schema_version 2, kept in PRAGMA user_version):
//   meta(name, value)          next_seq: the sequence high-water mark, so a seq is never reused
//   readings(seq, receive_ms, priority, expires_ms, size, topic, key, headers, payload)
//   dead_letters(seq, same columns..., failed_ms, reason)
// Small columns come before the blobs, so scans that read `size` never follow overflow pages.
// Indexes: readings_by_priority(priority, seq) WHERE priority > 0, and readings_by_expiry
// (expires_ms) WHERE expires_ms IS NOT NULL. Priority 0, the default of every route, is read in seq
// order from the table itself, so a priority-0 reading without expiry updates one B-tree (the
// table) instead of two. Schema 1 (a full priority index) is migrated at open, rows kept; a file of
// a newer schema is refused (schema_too_new).
//
// Order for the forwarder: priority descending, then seq ascending (peek_batch). Per-key order is
// kept because a route gives one priority to all its readings, so all rows of a key sit in one
// priority level, where they are read in seq order. (Changing a route's priority while it has a
// backlog can reorder that key at the boundary: old rows drain at the old priority.)
//
// Quota: quota_bytes counts accounted bytes (reading.h: topic + key + headers + payload + a fixed
// per-row overhead), not the file size. Logical bytes are exact, deterministic and known before a
// row is written, so a decision (reject, or how many rows to evict) is made up front, in the same
// transaction; page counts move by whole pages, and free pages are not returned to the file system.
// The file itself is capped by file_bytes_max (PRAGMA max_page_count, default 2 x (quota + dead
// letter quota) + 64 MiB) as a backstop: reaching it fails with disk_full.
// Overflow policy:
//   reject       an append that would exceed the quota fails with buffer_full; once one row of a
//                batch is rejected, every later row of that batch is too (it would overtake a row
//                of its key that the client must retransmit).
//   drop_oldest  rows are evicted in the same transaction to make room, lowest priority first and
//                within a priority oldest (lowest seq) first: routine telemetry goes before alarms.
//                A key loses a prefix of its rows, never a middle, so its order stays. Counted.
// Dead letters have their own quota (dead_letter_quota_bytes); beyond it the oldest dead letters
// are dropped, counted.
//
// Another process (the `dlq` command line) may open the same file: every write transaction and
// refresh() check PRAGMA data_version and reload the sequence and totals when someone else wrote.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "gateway/buffer/errc.h"
#include "gateway/buffer/reading.h"

struct sqlite3;

namespace tributary::gateway::buffer {

inline constexpr int schema_version = 2;

enum class synchronous_mode : uint8_t { off, normal, full, extra };
std::optional<synchronous_mode> parse_synchronous_mode(std::string_view s);  // "off", "normal", ...
std::string_view to_string(synchronous_mode m);

enum class overflow_policy : uint8_t { reject, drop_oldest };
std::optional<overflow_policy> parse_overflow_policy(std::string_view s);  // "reject", "drop-oldest"
std::string_view to_string(overflow_policy p);

struct store_options {
  synchronous_mode synchronous = synchronous_mode::full;
  uint32_t busy_timeout_ms = 5000;    // wait for another connection's lock (the dlq command)
  uint32_t page_size_bytes = 4096;    // new databases only; a power of two in [512, 65536]
  uint64_t cache_bytes = 8 << 20;     // SQLite page cache of the connection
  uint64_t wal_bytes_max = 64 << 20;  // PRAGMA journal_size_limit: WAL size kept after a checkpoint
  uint64_t quota_bytes = 1ull << 30;  // accounted bytes of `readings`
  overflow_policy overflow = overflow_policy::reject;
  uint64_t dead_letter_quota_bytes = 64 << 20;  // accounted bytes of `dead_letters`
  uint64_t file_bytes_max = 0;                  // 0: 2 * (quota_bytes + dead_letter_quota_bytes) + 64 MiB
  uint64_t row_bytes_max = 1 << 20;             // accounted bytes of one reading
  size_t headers_count_max = 64;                // headers per reading
  size_t batch_rows_max = 10000;                // rows per append_batch / remove_delivered / peek / list call
  size_t reason_bytes_max = 1024;               // a dead letter's reason is cut to this (UTF-8 safe)
  bool check_on_open = false;                   // PRAGMA quick_check at open (reads the whole file)
};

// Where the forwarder stands: per priority level, the highest seq already handed out by peek_batch.
class peek_cursor {
 public:
  gateway_seq after(uint8_t priority) const { return gateway_seq(after_[priority]); }
  void advance(uint8_t priority, gateway_seq seq);
  // Hands out every remaining row again (after a forwarder restart or a producer reset).
  void reset() { after_.fill(0); }

 private:
  std::array<int64_t, 256> after_{};
};

struct peek_limits {
  size_t rows_max = 1000;        // at most batch_rows_max
  uint64_t bytes_max = 1 << 20;  // accounted bytes; the first row is returned even if larger
  int64_t now_ms = 0;            // rows with expires_ms <= now_ms are skipped (expire() removes them)
};

struct append_outcome {
  // One entry per input row, in order: the assigned seq, or buffer_full / row_too_large /
  // invalid_row. Accepted rows got consecutive seqs in input order.
  std::vector<result<gateway_seq>> rows;
  size_t accepted = 0;
  uint64_t evicted_rows = 0;  // drop_oldest only
  uint64_t evicted_bytes = 0;
};

struct expire_outcome {
  uint64_t rows = 0;
  uint64_t bytes = 0;
  bool more = false;  // the call stopped at batch_rows_max: call again
};

struct dead_letter {
  stored_reading row;
  int64_t failed_ms = 0;
  std::string reason;
};

// A thread-safe snapshot of what the buffer holds (updated after every transaction).
struct backlog_info {
  uint64_t rows = 0;
  uint64_t bytes = 0;                        // accounted
  std::optional<int64_t> oldest_receive_ms;  // receive time of the lowest seq
  uint64_t dead_letter_rows = 0;
  uint64_t dead_letter_bytes = 0;
  uint64_t file_bytes = 0;  // page_count * page_size of the main database file
  gateway_seq next_seq{1};
};

// Monotonic counts since open, thread-safe.
struct store_counters {
  uint64_t appended_rows = 0;
  uint64_t rejected_rows = 0;  // buffer_full
  uint64_t invalid_rows = 0;   // row_too_large, invalid_row
  uint64_t evicted_rows = 0;   // drop_oldest
  uint64_t evicted_bytes = 0;
  uint64_t delivered_rows = 0;
  uint64_t expired_rows = 0;
  uint64_t dead_lettered_rows = 0;
  uint64_t dead_letter_evicted_rows = 0;  // dead letter quota
  uint64_t dead_letter_retried_rows = 0;
  uint64_t dead_letter_purged_rows = 0;
  uint64_t transactions = 0;  // committed write transactions
};

// Checks a reading against the options: its accounted size, or invalid_row (empty topic, topic
// longer than topic_bytes_max or holding NUL, more than headers_count_max headers, both header forms
// or headers_encoded that does not decode, negative time) or row_too_large (above row_bytes_max).
// append_batch applies the same check.
result<uint64_t> check_reading(const reading& r, const store_options& options);

class buffer_store {
 public:
  // Opens or creates the database; reports the backlog in the log. Errors: cannot_open, read_only,
  // corrupt, not_a_buffer, schema_too_new, wal_unavailable, busy, bad_option, io_error.
  static result<std::unique_ptr<buffer_store>> open(const std::string& path, const store_options& options);
  ~buffer_store();
  buffer_store(const buffer_store&) = delete;
  buffer_store& operator=(const buffer_store&) = delete;

  // The group commit: all rows in ONE transaction. A failure of the transaction itself (disk_full,
  // io_error, busy, batch_too_large) fails the whole call and commits nothing.
  result<append_outcome> append_batch(std::span<const reading> rows);
  // The same, for rows the caller has already checked: checked_sizes[i] is what check_reading(rows[i],
  // options()) returned (the group committer checks each reading as it is submitted, so the worker
  // does not walk its headers a second time). One size per row.
  result<append_outcome> append_batch(std::span<const reading> rows, std::span<const uint64_t> checked_sizes);

  // Up to the limits, in priority order (descending) then seq order, skipping rows the cursor has
  // handed out already and expired rows; advances the cursor.
  result<std::vector<stored_reading>> peek_batch(peek_cursor& cursor, const peek_limits& limits);
  // One reading, or nullopt.
  result<std::optional<stored_reading>> find(gateway_seq seq);

  // The cluster acknowledged these rows: deletes them, in one transaction. Seqs no longer present
  // (evicted, expired, dead-lettered meanwhile) are skipped. Returns how many were deleted.
  result<size_t> remove_delivered(std::span<const gateway_seq> seqs);

  // Deletes up to batch_rows_max rows with expires_ms <= now_ms.
  result<expire_outcome> expire(int64_t now_ms);

  // A non-retriable error: moves the row to dead_letters with the reason. not_found if absent.
  result<void> move_to_dead_letter(gateway_seq seq, std::string_view reason, int64_t failed_ms);
  // Dead letters with seq > after, in seq order, at most `limit` (<= batch_rows_max).
  result<std::vector<dead_letter>> dead_letter_list(gateway_seq after, size_t limit);
  // Moves dead letters back to readings under NEW seqs (the forwarder has passed the old ones), in
  // old-seq order, subject to the quota like an append. All or nothing: buffer_full moves none.
  // Returns the new seqs, in the order of `seqs`; absent seqs are not_found (nothing moves).
  result<std::vector<gateway_seq>> dead_letter_retry(std::span<const gateway_seq> seqs);
  // Retries the oldest dead letters, at most batch_rows_max; returns how many (0 when none left).
  result<size_t> dead_letter_retry_oldest();
  result<size_t> dead_letter_purge(std::span<const gateway_seq> seqs);
  result<size_t> dead_letter_purge_all();

  // Reloads totals and the sequence if another connection wrote since our last transaction.
  result<void> refresh();

  backlog_info backlog() const;          // thread-safe
  store_counters counters() const;       // thread-safe
  const store_options& options() const;  // fixed at open: thread-safe
  const std::string& path() const;
  // SQLite's message for the last failure (store thread only).
  const std::string& last_error_message() const;

  struct impl;

 private:
  explicit buffer_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace tributary::gateway::buffer
