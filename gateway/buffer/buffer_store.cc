#include "gateway/buffer/buffer_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <limits>
#include <mutex>

#include "common/assert.h"
#include "common/log.h"

namespace tributary::gateway::buffer {

namespace {

constexpr std::string_view component = "buffer";
// Rows fetched per round when choosing rows to evict.
constexpr int evict_chunk_rows = 256;
constexpr uint64_t file_slack_bytes = 64ull << 20;

// A prepared statement, finalized with its owner.
class statement {
 public:
  statement() = default;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;
  ~statement() { sqlite3_finalize(s_); }
  sqlite3_stmt* get() const { return s_; }
  sqlite3_stmt** out() { return &s_; }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// One use of a prepared statement: resets it and drops its bindings (which may point at caller
// memory, bound with SQLITE_STATIC) when the use ends, whatever the path out.
class use {
 public:
  explicit use(const statement& st) : s_(st.get()) {}
  use(const use&) = delete;
  use& operator=(const use&) = delete;
  ~use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  sqlite3_stmt* operator*() const { return s_; }

 private:
  sqlite3_stmt* s_;
};

const uint8_t empty_blob_byte = 0;  // a non-null pointer for zero-length blobs (null pointer binds NULL)

void bind_blob(sqlite3_stmt* s, int i, const uint8_t* data, size_t n) {
  // SQLITE_STATIC: no copy; the caller's row outlives the statement use (see `use`).
  int rc = sqlite3_bind_blob64(s, i, n == 0 ? &empty_blob_byte : data, n, SQLITE_STATIC);
  TRIB_ASSERT(rc == SQLITE_OK, "bind on a prepared statement with a valid index");
}
void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  int rc = sqlite3_bind_text64(s, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  TRIB_ASSERT(rc == SQLITE_OK);
}
void bind_i64(sqlite3_stmt* s, int i, int64_t v) {
  int rc = sqlite3_bind_int64(s, i, v);
  TRIB_ASSERT(rc == SQLITE_OK);
}
void bind_null(sqlite3_stmt* s, int i) {
  int rc = sqlite3_bind_null(s, i);
  TRIB_ASSERT(rc == SQLITE_OK);
}

byte_span column_blob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) return {};
  return {static_cast<const uint8_t*>(p), static_cast<size_t>(n)};
}
std::string_view column_text(sqlite3_stmt* s, int i) {
  const unsigned char* p = sqlite3_column_text(s, i);
  int n = sqlite3_column_bytes(s, i);
  if (p == nullptr || n <= 0) return {};
  return {reinterpret_cast<const char*>(p), static_cast<size_t>(n)};
}

std::error_code map_sqlite(int rc) {
  switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return errc::corrupt;
    case SQLITE_CANTOPEN: return errc::cannot_open;
    case SQLITE_READONLY: return errc::read_only;
    case SQLITE_FULL: return errc::disk_full;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return errc::busy;
    case SQLITE_IOERR: return errc::io_error;
    default: return errc::sqlite_error;
  }
}

// Cuts at most max bytes without splitting a UTF-8 sequence.
std::string_view cut_utf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<uint8_t>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Column list shared by readings and dead_letters, in table order (small columns first).
#define TRIB_ROW_COLUMNS "seq, receive_ms, priority, expires_ms, size, topic, key, headers, payload"
constexpr int row_column_count = 9;
// Readings per INSERT statement on the append path: one statement step per row costs about as much
// as the row's B-tree insert itself (bind, reset, halt), so full groups go in one multi-row INSERT.
constexpr size_t insert_rows_per_statement = 32;

std::string multi_row_insert_sql(size_t rows) {
  std::string sql = "INSERT INTO readings(" TRIB_ROW_COLUMNS ") VALUES ";
  for (size_t i = 0; i < rows; ++i) sql += i == 0 ? "(?,?,?,?,?,?,?,?,?)" : ",(?,?,?,?,?,?,?,?,?)";
  return sql;
}

constexpr const char* schema_sql = R"sql(
CREATE TABLE meta(
  name  TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO meta(name, value) VALUES('next_seq', 1);
CREATE TABLE readings(
  seq        INTEGER PRIMARY KEY,  -- the gateway sequence; never reused (meta.next_seq)
  receive_ms INTEGER NOT NULL,
  priority   INTEGER NOT NULL,
  expires_ms INTEGER,
  size       INTEGER NOT NULL,     -- accounted bytes (the quota)
  topic      TEXT NOT NULL,
  key        BLOB,
  headers    BLOB,
  payload    BLOB NOT NULL
);
CREATE INDEX readings_by_priority ON readings(priority, seq) WHERE priority > 0;
CREATE INDEX readings_by_expiry ON readings(expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE dead_letters(
  seq        INTEGER PRIMARY KEY,
  receive_ms INTEGER NOT NULL,
  priority   INTEGER NOT NULL,
  expires_ms INTEGER,
  size       INTEGER NOT NULL,
  topic      TEXT NOT NULL,
  key        BLOB,
  headers    BLOB,
  payload    BLOB NOT NULL,
  failed_ms  INTEGER NOT NULL,
  reason     TEXT NOT NULL
);
)sql";

// Schema 1 -> 2: the priority index leaves out priority 0, the default of every route, so such a
// row no longer updates that index's B-tree. The rows themselves do not change.
constexpr const char* migrate_1_to_2_sql = R"sql(
DROP INDEX readings_by_priority;
CREATE INDEX readings_by_priority ON readings(priority, seq) WHERE priority > 0;
)sql";

}  // namespace

result<uint64_t> check_reading(const reading& r, const store_options& options) {
  if (r.topic.empty() || r.topic.size() > topic_bytes_max) return fail(errc::invalid_row);
  if (r.topic.find('\0') != std::string::npos) return fail(errc::invalid_row);
  if (r.receive_ms < 0) return fail(errc::invalid_row);
  if (r.headers_encoded.empty()) {
    if (r.headers.size() > options.headers_count_max) return fail(errc::invalid_row);
  } else if (!r.headers.empty() || !count_encoded_headers(r.headers_encoded, options.headers_count_max)) {
    return fail(errc::invalid_row);  // both forms, or a blob that does not decode within the limit
  }
  uint64_t size = accounted_bytes(r);
  // row_bytes_max <= quota_bytes (checked at open), so a row that passes fits an empty buffer.
  if (size > options.row_bytes_max) return fail(errc::row_too_large);
  return size;
}

void peek_cursor::advance(uint8_t priority, gateway_seq seq) {
  TRIB_ASSERT(seq.value > after_[priority], "a cursor only moves forward");
  after_[priority] = seq.value;
}

std::optional<synchronous_mode> parse_synchronous_mode(std::string_view s) {
  if (s == "off") return synchronous_mode::off;
  if (s == "normal") return synchronous_mode::normal;
  if (s == "full") return synchronous_mode::full;
  if (s == "extra") return synchronous_mode::extra;
  return std::nullopt;
}

std::string_view to_string(synchronous_mode m) {
  switch (m) {
    case synchronous_mode::off: return "off";
    case synchronous_mode::normal: return "normal";
    case synchronous_mode::full: return "full";
    case synchronous_mode::extra: return "extra";
  }
  return "?";
}

std::optional<overflow_policy> parse_overflow_policy(std::string_view s) {
  if (s == "reject") return overflow_policy::reject;
  if (s == "drop-oldest") return overflow_policy::drop_oldest;
  return std::nullopt;
}

std::string_view to_string(overflow_policy p) {
  switch (p) {
    case overflow_policy::reject: return "reject";
    case overflow_policy::drop_oldest: return "drop-oldest";
  }
  return "?";
}

struct buffer_store::impl {
  std::string path;
  store_options options;
  std::string last_error;
  sqlite3* db = nullptr;  // declared before the statements: they are finalized first

  statement begin_immediate, begin_deferred, commit, rollback;
  statement data_version, page_count;
  statement select_next_seq, update_next_seq;
  statement totals_readings, totals_dead_letters, max_seq_readings, max_seq_dead_letters;
  statement insert_reading, insert_readings, delete_reading, find_reading, oldest_reading;
  statement max_priority, max_priority_below, peek_at_priority, peek_at_zero;
  statement evict_zero_candidates, evict_candidates, expire_candidates;
  statement insert_dead_letter, delete_dead_letter, find_dead_letter, list_dead_letters;
  statement oldest_dead_letters, dead_letter_evict_candidates, delete_all_dead_letters;

  // Exact totals of the tables (store thread). Changed only after a commit succeeded.
  int64_t next_seq = 1;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  uint64_t dl_rows = 0;
  uint64_t dl_bytes = 0;
  int64_t seen_data_version = 0;
  uint64_t page_size = 0;
  // Eviction under drop_oldest: no priority-0 row with a seq at or below this mark remains (seqs
  // only grow, so rows added later are above it). Spares re-reading the rows of higher priority
  // that sit among priority-0 rows, which the partial index does not cover. Reset on reload.
  int64_t zero_evicted_through = 0;

  std::array<std::vector<uint8_t>, insert_rows_per_statement> headers_scratch;  // one per row of an INSERT
  std::vector<size_t> accepted_scratch;
  std::vector<uint64_t> sizes_scratch;

  // The snapshot other threads read.
  mutable std::mutex snapshot_mutex;
  backlog_info snapshot;
  store_counters counters;

  // What a transaction changes, applied to the totals only once it committed.
  struct delta {
    int64_t seqs_assigned = 0;
    int64_t rows = 0;
    int64_t bytes = 0;
    int64_t dl_rows = 0;
    int64_t dl_bytes = 0;
    int64_t zero_evicted_through = 0;  // raises impl::zero_evicted_through once committed
    store_counters counts;
  };

  ~impl() {
    // Statements are finalized by their destructors first (declared after db), then the connection.
  }

  // --- errors ----------------------------------------------------------------------------------

  std::error_code sqlite_fail(int rc, std::string_view op) {
    last_error = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    auto ec = map_sqlite(rc);
    TRIB_LOG_ERROR(component, "sqlite error", {"op", op}, {"path", path}, {"code", rc},
                   {"message", last_error}, {"error", ec.message()});
    return ec;
  }

  std::error_code fail_with(errc e, std::string_view op, std::string message) {
    last_error = std::move(message);
    TRIB_LOG_ERROR(component, "buffer error", {"op", op}, {"path", path}, {"message", last_error},
                   {"error", make_error_code(e).message()});
    return e;
  }

  result<void> exec(const char* sql, std::string_view op) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db, sql, nullptr, nullptr, &msg);
    sqlite3_free(msg);
    if (rc != SQLITE_OK) return fail(sqlite_fail(rc, op));
    return {};
  }

  result<void> prepare(statement& st, const char* sql) {
    int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st.out(), nullptr);
    if (rc != SQLITE_OK) return fail(sqlite_fail(rc, "prepare"));
    return {};
  }

  // true: a row is ready; false: done.
  result<bool> step(sqlite3_stmt* s, std::string_view op) {
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return fail(sqlite_fail(rc, op));
  }

  result<void> step_done(sqlite3_stmt* s, std::string_view op) {
    bool row = TRIB_TRY(step(s, op));
    TRIB_ASSERT(!row, "statement returns no rows");
    return {};
  }

  // A single integer (or NULL → nullopt) from a one-row statement.
  result<std::optional<int64_t>> query_int(const statement& st, std::string_view op) {
    use u(st);
    if (!TRIB_TRY(step(*u, op))) return std::optional<int64_t>();
    if (sqlite3_column_type(*u, 0) == SQLITE_NULL) return std::optional<int64_t>();
    return std::optional<int64_t>(sqlite3_column_int64(*u, 0));
  }

  // A pragma that returns one value, run through sqlite3_prepare (pragmas with arguments).
  result<std::string> pragma(const std::string& sql) {
    statement st;
    TRIB_TRY_VOID(prepare(st, sql.c_str()));
    use u(st);
    if (!TRIB_TRY(step(*u, sql))) return std::string();
    return std::string(column_text(*u, 0));
  }

  // --- transactions ------------------------------------------------------------------------------

  class write_tx {
   public:
    explicit write_tx(impl& p) : p_(p) {}
    write_tx(const write_tx&) = delete;
    write_tx& operator=(const write_tx&) = delete;
    ~write_tx() {
      if (open_ && sqlite3_get_autocommit(p_.db) == 0) {
        use u(p_.rollback);
        sqlite3_step(*u);  // best effort; a failed rollback leaves SQLite to roll back on next open
      }
    }
    // Takes the write lock; reloads the totals when another connection wrote meanwhile.
    result<void> begin() {
      {
        use u(p_.begin_immediate);
        TRIB_TRY_VOID(p_.step_done(*u, "begin"));
      }
      open_ = true;
      return p_.reload_if_changed();
    }
    result<void> commit() {
      use u(p_.commit);
      TRIB_TRY_VOID(p_.step_done(*u, "commit"));
      open_ = false;
      return {};
    }

   private:
    impl& p_;
    bool open_ = false;
  };

  result<void> reload_if_changed() {
    auto v = TRIB_TRY(query_int(data_version, "data_version"));
    TRIB_ASSERT(v.has_value());
    if (*v == seen_data_version) return {};
    TRIB_LOG_INFO(component, "reload after another connection wrote", {"path", path});
    TRIB_TRY_VOID(load_totals());
    zero_evicted_through = 0;
    seen_data_version = *v;
    return {};
  }

  // Reads the high-water mark and totals; checks the mark is above every stored seq.
  result<void> load_totals() {
    auto next = TRIB_TRY(query_int(select_next_seq, "load next_seq"));
    if (!next || *next < 1) {
      return fail(fail_with(errc::corrupt, "load", "meta.next_seq missing or invalid"));
    }
    auto max_r = TRIB_TRY(query_int(max_seq_readings, "load max seq"));
    auto max_d = TRIB_TRY(query_int(max_seq_dead_letters, "load max seq"));
    if ((max_r && *max_r >= *next) || (max_d && *max_d >= *next)) {
      return fail(fail_with(errc::corrupt, "load", "a stored seq is at or above meta.next_seq"));
    }
    uint64_t r = 0, b = 0, dr = 0, db_ = 0;
    TRIB_TRY_VOID(count_table(totals_readings, r, b));
    TRIB_TRY_VOID(count_table(totals_dead_letters, dr, db_));
    next_seq = *next;
    rows = r;
    bytes = b;
    dl_rows = dr;
    dl_bytes = db_;
    return {};
  }

  result<void> count_table(const statement& st, uint64_t& n, uint64_t& b) {
    use u(st);
    bool row = TRIB_TRY(step(*u, "totals"));
    TRIB_ASSERT(row, "an aggregate returns one row");
    int64_t count = sqlite3_column_int64(*u, 0);
    int64_t sum = sqlite3_column_int64(*u, 1);
    if (count < 0 || sum < 0) return fail(fail_with(errc::corrupt, "totals", "negative row size"));
    n = static_cast<uint64_t>(count);
    b = static_cast<uint64_t>(sum);
    return {};
  }

  void apply(const delta& d) {
    next_seq += d.seqs_assigned;
    zero_evicted_through = std::max(zero_evicted_through, d.zero_evicted_through);
    TRIB_ASSERT(d.rows >= 0 || static_cast<uint64_t>(-d.rows) <= rows);
    TRIB_ASSERT(d.bytes >= 0 || static_cast<uint64_t>(-d.bytes) <= bytes);
    TRIB_ASSERT(d.dl_rows >= 0 || static_cast<uint64_t>(-d.dl_rows) <= dl_rows);
    TRIB_ASSERT(d.dl_bytes >= 0 || static_cast<uint64_t>(-d.dl_bytes) <= dl_bytes);
    rows = static_cast<uint64_t>(static_cast<int64_t>(rows) + d.rows);
    bytes = static_cast<uint64_t>(static_cast<int64_t>(bytes) + d.bytes);
    dl_rows = static_cast<uint64_t>(static_cast<int64_t>(dl_rows) + d.dl_rows);
    dl_bytes = static_cast<uint64_t>(static_cast<int64_t>(dl_bytes) + d.dl_bytes);
    TRIB_ASSERT((rows == 0) == (bytes == 0), "every row has a non-zero size");
    std::lock_guard lock(snapshot_mutex);
    auto& c = counters;
    const auto& x = d.counts;
    c.appended_rows += x.appended_rows;
    c.rejected_rows += x.rejected_rows;
    c.invalid_rows += x.invalid_rows;
    c.evicted_rows += x.evicted_rows;
    c.evicted_bytes += x.evicted_bytes;
    c.delivered_rows += x.delivered_rows;
    c.expired_rows += x.expired_rows;
    c.dead_lettered_rows += x.dead_lettered_rows;
    c.dead_letter_evicted_rows += x.dead_letter_evicted_rows;
    c.dead_letter_retried_rows += x.dead_letter_retried_rows;
    c.dead_letter_purged_rows += x.dead_letter_purged_rows;
    c.transactions += 1;
  }

  // Publishes the totals, the oldest row and the file size. A failure here only leaves the
  // snapshot's oldest/file fields stale; the data is committed.
  void publish() {
    backlog_info b;
    b.rows = rows;
    b.bytes = bytes;
    b.dead_letter_rows = dl_rows;
    b.dead_letter_bytes = dl_bytes;
    b.next_seq = gateway_seq(next_seq);
    if (auto oldest = query_int(oldest_reading, "oldest")) b.oldest_receive_ms = *oldest;
    if (auto pages = query_int(page_count, "page_count"); pages && *pages) {
      b.file_bytes = static_cast<uint64_t>(**pages) * page_size;
    }
    std::lock_guard lock(snapshot_mutex);
    snapshot = b;
  }

  // --- rows --------------------------------------------------------------------------------------

  // Reads the row columns starting at column 0 (TRIB_ROW_COLUMNS) and checks them.
  result<stored_reading> read_row(sqlite3_stmt* s) {
    stored_reading out;
    out.seq = gateway_seq(sqlite3_column_int64(s, 0));
    out.r.receive_ms = sqlite3_column_int64(s, 1);
    int64_t priority = sqlite3_column_int64(s, 2);
    if (priority < 0 || priority > 255)
      return fail(fail_with(errc::corrupt, "read", "priority out of range"));
    out.r.priority = static_cast<uint8_t>(priority);
    if (sqlite3_column_type(s, 3) != SQLITE_NULL) out.r.expires_ms = sqlite3_column_int64(s, 3);
    int64_t size = sqlite3_column_int64(s, 4);
    out.r.topic = std::string(column_text(s, 5));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
      auto key = column_blob(s, 6);
      out.r.key.emplace(key.begin(), key.end());
    }
    // Bounded by the blob's size only: a row written under a larger headers_count_max stays readable.
    auto headers = decode_headers(column_blob(s, 7), std::numeric_limits<size_t>::max());
    if (!headers) return fail(fail_with(errc::corrupt, "read", "headers column does not decode"));
    out.r.headers = std::move(*headers);
    auto payload = column_blob(s, 8);
    out.r.payload.assign(payload.begin(), payload.end());
    // Paired with the size written at append: a row that does not add up is damaged.
    out.size = accounted_bytes(out.r);
    if (size < 0 || static_cast<uint64_t>(size) != out.size) {
      return fail(fail_with(errc::corrupt, "read", "row size does not match its columns"));
    }
    return out;
  }

  // Binds one row's columns at parameters base+1 .. base+9; `scratch` holds the encoded headers
  // of a list-form reading until the statement has run.
  static void bind_row(sqlite3_stmt* s, int base, gateway_seq seq, const reading& r, uint64_t size,
                       std::vector<uint8_t>& scratch) {
    bind_i64(s, base + 1, seq.value);
    bind_i64(s, base + 2, r.receive_ms);
    bind_i64(s, base + 3, r.priority);
    if (r.expires_ms) {
      bind_i64(s, base + 4, *r.expires_ms);
    } else {
      bind_null(s, base + 4);
    }
    bind_i64(s, base + 5, static_cast<int64_t>(size));
    bind_text(s, base + 6, r.topic);
    if (r.key) {
      bind_blob(s, base + 7, r.key->data(), r.key->size());
    } else {
      bind_null(s, base + 7);
    }
    if (!r.headers_encoded.empty()) {
      bind_blob(s, base + 8, r.headers_encoded.data(), r.headers_encoded.size());  // checked in check_reading
    } else if (r.headers.empty()) {
      bind_null(s, base + 8);
    } else {
      scratch.clear();
      encode_headers(r.headers, scratch);
      bind_blob(s, base + 8, scratch.data(), scratch.size());
    }
    bind_blob(s, base + 9, r.payload.data(), r.payload.size());
  }

  // Inside a write transaction: decides which rows fit (evicting under drop_oldest), inserts them
  // under consecutive seqs and bumps meta.next_seq. `out` gets one entry per row.
  // `checked`: the rows' sizes from check_reading, when the caller checked them (else empty).
  result<void> place_rows(std::span<const reading> in, std::vector<result<gateway_seq>>& out, delta& d,
                          std::span<const uint64_t> checked = {}) {
    TRIB_ASSERT(checked.empty() || checked.size() == in.size(), "one checked size per row");
    sizes_scratch.resize(in.size());
    out.clear();
    out.reserve(in.size());
    std::vector<bool> accept(in.size(), false);
    uint64_t incoming = 0;
    bool full = false;
    for (size_t i = 0; i < in.size(); ++i) {
      uint64_t size = 0;
      if (!checked.empty()) {
        size = checked[i];
      } else {
        auto verdict = check_reading(in[i], options);
        if (!verdict) {
          out.push_back(fail(verdict.error()));
          d.counts.invalid_rows++;
          continue;
        }
        size = *verdict;
      }
      sizes_scratch[i] = size;
      // Under reject the stored bytes count; under drop_oldest stored rows can make room.
      uint64_t base = options.overflow == overflow_policy::reject ? bytes : 0;
      if (!full && base + incoming + size <= options.quota_bytes) {
        accept[i] = true;
        incoming += size;
        out.push_back(gateway_seq(0));  // filled below
      } else {
        full = true;  // later rows must not overtake this one
        out.push_back(fail(errc::buffer_full));
        d.counts.rejected_rows++;
      }
    }
    if (options.overflow == overflow_policy::drop_oldest && bytes + incoming > options.quota_bytes) {
      TRIB_TRY_VOID(evict_readings(bytes + incoming - options.quota_bytes, d));
    }
    accepted_scratch.clear();
    for (size_t i = 0; i < in.size(); ++i) {
      if (accept[i]) accepted_scratch.push_back(i);
    }
    int64_t seq = next_seq;
    // Full groups through the multi-row INSERT, the rest one by one; seqs in input order either way.
    for (size_t k = 0; k < accepted_scratch.size();) {
      const size_t n =
          accepted_scratch.size() - k >= insert_rows_per_statement ? insert_rows_per_statement : 1;
      use u(n == 1 ? insert_reading : insert_readings);
      for (size_t j = 0; j < n; ++j) {
        const size_t i = accepted_scratch[k + j];
        bind_row(*u, static_cast<int>(j) * row_column_count, gateway_seq(seq + static_cast<int64_t>(j)),
                 in[i], sizes_scratch[i], headers_scratch[j]);
      }
      TRIB_TRY_VOID(step_done(*u, "insert reading"));
      for (size_t j = 0; j < n; ++j) {
        const size_t i = accepted_scratch[k + j];
        out[i] = gateway_seq(seq);
        ++seq;
        d.rows++;
        d.bytes += static_cast<int64_t>(sizes_scratch[i]);
        d.counts.appended_rows++;
      }
      k += n;
    }
    int64_t assigned = seq - next_seq;
    if (assigned > 0) {
      use u(update_next_seq);
      bind_i64(*u, 1, seq);
      TRIB_TRY_VOID(step_done(*u, "update next_seq"));
      TRIB_ASSERT(sqlite3_changes(db) == 1, "meta.next_seq exists");
    }
    d.seqs_assigned += assigned;
    return {};
  }

  // Deletes readings, lowest priority first then lowest seq, until `need` bytes are freed.
  // Priority 0 is not in readings_by_priority (schema 2): its rows are found in seq order from the
  // table itself, above zero_evicted_through; then the other levels come from the index.
  result<void> evict_readings(uint64_t need, delta& d) {
    uint64_t freed = 0;
    bool zeros_left = true;
    while (freed < need) {
      std::vector<std::pair<int64_t, int64_t>> batch;
      bool zero_batch = false;
      if (zeros_left) {
        use u(evict_zero_candidates);
        bind_i64(*u, 1, std::max(zero_evicted_through, d.zero_evicted_through));
        bind_i64(*u, 2, evict_chunk_rows);
        while (TRIB_TRY(step(*u, "evict select"))) {
          batch.emplace_back(sqlite3_column_int64(*u, 0), sqlite3_column_int64(*u, 1));
        }
        zero_batch = !batch.empty();
        if (batch.empty()) {
          // No priority-0 row is left below next_seq (this transaction's own rows come after).
          zeros_left = false;
          d.zero_evicted_through = std::max(d.zero_evicted_through, next_seq - 1);
        }
      }
      if (batch.empty()) {
        use u(evict_candidates);
        bind_i64(*u, 1, evict_chunk_rows);
        while (TRIB_TRY(step(*u, "evict select"))) {
          batch.emplace_back(sqlite3_column_int64(*u, 0), sqlite3_column_int64(*u, 1));
        }
      }
      // The totals say these bytes are stored: running out of rows is a broken invariant.
      TRIB_ASSERT(!batch.empty(), "quota accounting disagrees with the readings table");
      for (auto [seq, size] : batch) {
        if (freed >= need) break;
        auto removed = TRIB_TRY(delete_reading_returning_size(seq));
        TRIB_ASSERT(removed && *removed == static_cast<uint64_t>(size));
        freed += *removed;
        d.rows--;
        d.bytes -= static_cast<int64_t>(*removed);
        d.counts.evicted_rows++;
        d.counts.evicted_bytes += *removed;
        // In seq order: every priority-0 row up to this one is gone.
        if (zero_batch) d.zero_evicted_through = std::max(d.zero_evicted_through, seq);
      }
    }
    return {};
  }

  result<std::optional<uint64_t>> delete_reading_returning_size(int64_t seq) {
    use u(delete_reading);
    bind_i64(*u, 1, seq);
    if (!TRIB_TRY(step(*u, "delete reading"))) return std::optional<uint64_t>();
    int64_t size = sqlite3_column_int64(*u, 0);
    TRIB_TRY(step(*u, "delete reading"));  // runs the statement to completion
    return std::optional<uint64_t>(static_cast<uint64_t>(size));
  }

  result<std::optional<uint64_t>> delete_dead_letter_returning_size(int64_t seq) {
    use u(delete_dead_letter);
    bind_i64(*u, 1, seq);
    if (!TRIB_TRY(step(*u, "delete dead letter"))) return std::optional<uint64_t>();
    int64_t size = sqlite3_column_int64(*u, 0);
    TRIB_TRY(step(*u, "delete dead letter"));
    return std::optional<uint64_t>(static_cast<uint64_t>(size));
  }

  // Drops the oldest dead letters (never `keep`) until `need` bytes are freed.
  result<void> evict_dead_letters(uint64_t need, int64_t keep, delta& d) {
    uint64_t freed = 0;
    while (freed < need) {
      std::vector<int64_t> batch;
      {
        use u(dead_letter_evict_candidates);
        bind_i64(*u, 1, keep);
        bind_i64(*u, 2, evict_chunk_rows);
        while (TRIB_TRY(step(*u, "dead letter evict select"))) batch.push_back(sqlite3_column_int64(*u, 0));
      }
      TRIB_ASSERT(!batch.empty(), "dead letter accounting disagrees with the table");
      for (int64_t seq : batch) {
        if (freed >= need) break;
        auto removed = TRIB_TRY(delete_dead_letter_returning_size(seq));
        TRIB_ASSERT(removed.has_value());
        freed += *removed;
        d.dl_rows--;
        d.dl_bytes -= static_cast<int64_t>(*removed);
        d.counts.dead_letter_evicted_rows++;
      }
    }
    return {};
  }

  // Inside a write transaction: moves the given dead letters back (new seqs, old-seq order).
  result<std::vector<gateway_seq>> retry_locked(std::span<const gateway_seq> seqs, delta& d) {
    if (seqs.size() > options.batch_rows_max) return fail(errc::batch_too_large);
    std::vector<size_t> order(seqs.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return seqs[a] < seqs[b]; });
    std::vector<reading> rows;
    rows.reserve(seqs.size());
    for (size_t i : order) {
      use u(find_dead_letter);
      bind_i64(*u, 1, seqs[i].value);
      if (!TRIB_TRY(step(*u, "find dead letter"))) return fail(errc::not_found);
      auto row = TRIB_TRY(read_row(*u));
      rows.push_back(std::move(row.r));
    }
    std::vector<result<gateway_seq>> placed;
    TRIB_TRY_VOID(place_rows(rows, placed, d));
    std::vector<gateway_seq> out(seqs.size());
    for (size_t k = 0; k < order.size(); ++k) {
      if (!placed[k]) return fail(placed[k].error());  // the transaction rolls back: nothing moves
      out[order[k]] = *placed[k];
      auto removed = TRIB_TRY(delete_dead_letter_returning_size(seqs[order[k]].value));
      TRIB_ASSERT(removed.has_value(), "the dead letter was read in this transaction");
      d.dl_rows--;
      d.dl_bytes -= static_cast<int64_t>(*removed);
      d.counts.dead_letter_retried_rows++;
    }
    return out;
  }

  // Brings a file of an older schema to schema_version in one transaction, keeping every row: a
  // gateway upgraded in the field keeps its backlog. A failure leaves the file as it was.
  result<void> migrate(int64_t from) {
    auto t0 = std::chrono::steady_clock::now();
    TRIB_TRY_VOID(exec("BEGIN IMMEDIATE", "migrate schema"));
    auto migrated = [&]() -> result<void> {
      // Another process (the dlq command) may have migrated it since we looked.
      int64_t now_version = std::stoll(TRIB_TRY(pragma("PRAGMA user_version")));
      if (now_version == schema_version) return {};
      if (now_version != from)
        return fail(fail_with(errc::busy, "migrate schema", "schema changed meanwhile"));
      if (from == 1) TRIB_TRY_VOID(exec(migrate_1_to_2_sql, "migrate schema 1 to 2"));
      TRIB_TRY_VOID(
          exec(("PRAGMA user_version = " + std::to_string(schema_version)).c_str(), "migrate schema"));
      return exec("COMMIT", "migrate schema");
    }();
    if (!migrated) {
      if (sqlite3_get_autocommit(db) == 0) (void)exec("ROLLBACK", "migrate schema");
      TRIB_LOG_ERROR(component, "schema migration failed; the file is unchanged", {"path", path},
                     {"from_version", from}, {"to_version", schema_version},
                     {"error", migrated.error().message()}, {"message", last_error},
                     {"what_to_do",
                      "free disk space or fix permissions and start again, or run the previous "
                      "gateway version on this file"});
      // SQLite refusing the statements means the tables are not schema 1's.
      if (migrated.error() == make_error_code(errc::sqlite_error)) return fail(errc::not_a_buffer);
      return fail(migrated.error());
    }
    if (sqlite3_get_autocommit(db) == 0) TRIB_TRY_VOID(exec("COMMIT", "migrate schema"));
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    TRIB_LOG_INFO(component, "migrated schema", {"path", path}, {"from_version", from},
                  {"to_version", schema_version}, {"ms", static_cast<int64_t>(ms.count())});
    return {};
  }

  result<void> prepare_all() {
    TRIB_TRY_VOID(prepare(begin_immediate, "BEGIN IMMEDIATE"));
    TRIB_TRY_VOID(prepare(begin_deferred, "BEGIN"));
    TRIB_TRY_VOID(prepare(commit, "COMMIT"));
    TRIB_TRY_VOID(prepare(rollback, "ROLLBACK"));
    TRIB_TRY_VOID(prepare(data_version, "PRAGMA data_version"));
    TRIB_TRY_VOID(prepare(page_count, "PRAGMA page_count"));
    TRIB_TRY_VOID(prepare(select_next_seq, "SELECT value FROM meta WHERE name = 'next_seq'"));
    TRIB_TRY_VOID(prepare(update_next_seq, "UPDATE meta SET value = ?1 WHERE name = 'next_seq'"));
    TRIB_TRY_VOID(prepare(totals_readings, "SELECT count(*), coalesce(sum(size), 0) FROM readings"));
    TRIB_TRY_VOID(prepare(totals_dead_letters, "SELECT count(*), coalesce(sum(size), 0) FROM dead_letters"));
    TRIB_TRY_VOID(prepare(max_seq_readings, "SELECT max(seq) FROM readings"));
    TRIB_TRY_VOID(prepare(max_seq_dead_letters, "SELECT max(seq) FROM dead_letters"));
    TRIB_TRY_VOID(prepare(insert_readings, multi_row_insert_sql(insert_rows_per_statement).c_str()));
    TRIB_TRY_VOID(prepare(insert_reading, "INSERT INTO readings(" TRIB_ROW_COLUMNS
                                          ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
    TRIB_TRY_VOID(prepare(delete_reading, "DELETE FROM readings WHERE seq = ?1 RETURNING size"));
    TRIB_TRY_VOID(prepare(find_reading, "SELECT " TRIB_ROW_COLUMNS " FROM readings WHERE seq = ?1"));
    TRIB_TRY_VOID(prepare(oldest_reading, "SELECT receive_ms FROM readings ORDER BY seq LIMIT 1"));
    // readings_by_priority covers priority > 0 only: the statements that use it say `priority > 0`
    // in so many words (SQLite uses a partial index only then); priority 0 is read in seq order.
    TRIB_TRY_VOID(prepare(max_priority, "SELECT max(priority) FROM readings WHERE priority > 0"));
    TRIB_TRY_VOID(prepare(max_priority_below,
                          "SELECT max(priority) FROM readings WHERE priority > 0 AND priority < ?1"));
    TRIB_TRY_VOID(prepare(peek_at_priority,
                          "SELECT " TRIB_ROW_COLUMNS " FROM readings WHERE priority = ?1 AND priority > 0"
                          " AND seq > ?2 AND (expires_ms IS NULL OR expires_ms > ?3)"
                          " ORDER BY priority, seq LIMIT ?4"));
    TRIB_TRY_VOID(prepare(peek_at_zero,
                          "SELECT " TRIB_ROW_COLUMNS " FROM readings WHERE seq > ?2 AND priority = 0"
                          " AND (expires_ms IS NULL OR expires_ms > ?3)"
                          " ORDER BY seq LIMIT ?4"));
    TRIB_TRY_VOID(
        prepare(evict_zero_candidates,
                "SELECT seq, size FROM readings WHERE seq > ?1 AND priority = 0 ORDER BY seq LIMIT ?2"));
    TRIB_TRY_VOID(
        prepare(evict_candidates,
                "SELECT seq, size FROM readings WHERE priority > 0 ORDER BY priority, seq LIMIT ?1"));
    TRIB_TRY_VOID(prepare(expire_candidates,
                          "SELECT seq FROM readings WHERE expires_ms <= ?1 ORDER BY expires_ms LIMIT ?2"));
    TRIB_TRY_VOID(prepare(insert_dead_letter, "INSERT INTO dead_letters(" TRIB_ROW_COLUMNS
                                              ", failed_ms, reason) SELECT " TRIB_ROW_COLUMNS
                                              ", ?2, ?3 FROM readings WHERE seq = ?1"));
    TRIB_TRY_VOID(prepare(delete_dead_letter, "DELETE FROM dead_letters WHERE seq = ?1 RETURNING size"));
    TRIB_TRY_VOID(prepare(find_dead_letter, "SELECT " TRIB_ROW_COLUMNS " FROM dead_letters WHERE seq = ?1"));
    TRIB_TRY_VOID(prepare(list_dead_letters,
                          "SELECT " TRIB_ROW_COLUMNS ", failed_ms, reason FROM dead_letters WHERE seq > ?1"
                          " ORDER BY seq LIMIT ?2"));
    TRIB_TRY_VOID(prepare(oldest_dead_letters, "SELECT seq FROM dead_letters ORDER BY seq LIMIT ?1"));
    TRIB_TRY_VOID(prepare(dead_letter_evict_candidates,
                          "SELECT seq FROM dead_letters WHERE seq <> ?1 ORDER BY seq LIMIT ?2"));
    TRIB_TRY_VOID(prepare(delete_all_dead_letters, "DELETE FROM dead_letters"));
    return {};
  }
};

namespace {

result<void> check_options(const store_options& o) {
  bool ok = o.page_size_bytes >= 512 && o.page_size_bytes <= 65536 &&
            std::has_single_bit(o.page_size_bytes) && o.quota_bytes > 0 &&
            o.row_bytes_max > row_overhead_bytes && o.row_bytes_max <= o.quota_bytes &&
            o.dead_letter_quota_bytes >= o.row_bytes_max && o.batch_rows_max > 0 && o.headers_count_max > 0 &&
            o.reason_bytes_max > 0 && o.cache_bytes >= 64 * 1024;
  if (!ok) return fail(errc::bad_option);
  return {};
}

}  // namespace

result<std::unique_ptr<buffer_store>> buffer_store::open(const std::string& path,
                                                         const store_options& options) {
  if (auto ok = check_options(options); !ok) {
    TRIB_LOG_ERROR(component, "bad options", {"path", path});
    return fail(ok.error());
  }
  auto p = std::make_unique<impl>();
  p->path = path;
  p->options = options;

  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  int rc = sqlite3_open_v2(path.c_str(), &p->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    auto ec = p->sqlite_fail(rc, "open");
    sqlite3_close_v2(p->db);
    p->db = nullptr;
    return fail(ec);
  }
  // From here the impl owns the connection: close it on every path out (the store's destructor).
  std::unique_ptr<buffer_store> store(new buffer_store(std::move(p)));
  impl& s = *store->p_;
  sqlite3_extended_result_codes(s.db, 1);
  sqlite3_busy_timeout(s.db, static_cast<int>(std::min<uint32_t>(options.busy_timeout_ms, INT32_MAX)));
  if (sqlite3_db_readonly(s.db, "main") == 1) {
    return fail(s.fail_with(errc::read_only, "open", "the database file is write-protected"));
  }

  // page_size applies to a new database only; it must come before WAL creates the file header.
  TRIB_TRY(s.pragma("PRAGMA page_size = " + std::to_string(options.page_size_bytes)));
  auto mode = TRIB_TRY(s.pragma("PRAGMA journal_mode = WAL"));
  if (mode != "wal") {
    return fail(s.fail_with(errc::wal_unavailable, "open", "journal_mode is " + mode));
  }
  TRIB_TRY(s.pragma("PRAGMA synchronous = " + std::string(to_string(options.synchronous))));
  TRIB_TRY(
      s.pragma("PRAGMA cache_size = -" + std::to_string(std::max<uint64_t>(options.cache_bytes / 1024, 64))));
  TRIB_TRY(s.pragma("PRAGMA journal_size_limit = " + std::to_string(options.wal_bytes_max)));
  TRIB_TRY(s.pragma("PRAGMA temp_store = MEMORY"));
  s.page_size = std::stoull(TRIB_TRY(s.pragma("PRAGMA page_size")));
  TRIB_ASSERT(s.page_size >= 512);
  uint64_t file_max = options.file_bytes_max != 0
                          ? options.file_bytes_max
                          : 2 * (options.quota_bytes + options.dead_letter_quota_bytes) + file_slack_bytes;
  TRIB_TRY(
      s.pragma("PRAGMA max_page_count = " + std::to_string(std::max<uint64_t>(file_max / s.page_size, 16))));

  int64_t version = std::stoll(TRIB_TRY(s.pragma("PRAGMA user_version")));
  if (version > schema_version) {
    return fail(s.fail_with(errc::schema_too_new, "open",
                            "schema version " + std::to_string(version) + " is newer than the supported " +
                                std::to_string(schema_version)));
  }
  if (version == 0) {
    int64_t objects = std::stoll(TRIB_TRY(s.pragma("SELECT count(*) FROM sqlite_schema")));
    if (objects != 0) {
      return fail(
          s.fail_with(errc::not_a_buffer, "open", "database has tables but no buffer schema version"));
    }
    TRIB_TRY_VOID(s.exec("BEGIN IMMEDIATE", "create schema"));
    auto created = s.exec(schema_sql, "create schema");
    if (created) {
      created = s.exec(("PRAGMA user_version = " + std::to_string(schema_version)).c_str(), "create schema");
    }
    if (created) created = s.exec("COMMIT", "create schema");
    if (!created) {
      if (sqlite3_get_autocommit(s.db) == 0) (void)s.exec("ROLLBACK", "create schema");
      return fail(created.error());
    }
    TRIB_LOG_INFO(component, "created", {"path", path}, {"schema_version", schema_version});
  } else if (version < schema_version) {
    TRIB_TRY_VOID(s.migrate(version));
  }
  if (options.check_on_open) {
    auto check = TRIB_TRY(s.pragma("PRAGMA quick_check(1)"));
    if (check != "ok") return fail(s.fail_with(errc::corrupt, "quick_check", check));
  }
  if (auto prepared = s.prepare_all(); !prepared) {
    // user_version says ours, but the tables are not what we expect.
    if (prepared.error() == make_error_code(errc::sqlite_error)) return fail(errc::not_a_buffer);
    return fail(prepared.error());
  }
  {
    TRIB_TRY_VOID(s.exec("BEGIN", "load"));
    auto loaded = s.load_totals();
    (void)s.exec("COMMIT", "load");
    TRIB_TRY_VOID(loaded);
  }
  auto dv = TRIB_TRY(s.query_int(s.data_version, "data_version"));
  s.seen_data_version = dv.value_or(0);
  s.publish();

  auto b = store->backlog();
  int64_t age_ms = b.oldest_receive_ms ? std::max<int64_t>(0, wall_ms() - *b.oldest_receive_ms) : 0;
  TRIB_LOG_INFO(component, "opened", {"path", path}, {"backlog_rows", b.rows}, {"backlog_bytes", b.bytes},
                {"oldest_age_ms", age_ms}, {"dead_letters", b.dead_letter_rows},
                {"next_seq", b.next_seq.value}, {"file_bytes", b.file_bytes},
                {"synchronous", to_string(options.synchronous)}, {"quota_bytes", options.quota_bytes},
                {"overflow", to_string(options.overflow)});
  return store;
}

buffer_store::buffer_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}

buffer_store::~buffer_store() {
  if (!p_) return;
  sqlite3* db = p_->db;
  p_->db = nullptr;
  p_.reset();  // finalizes the statements
  if (db != nullptr) {
    int rc = sqlite3_close_v2(db);
    TRIB_ASSERT(rc == SQLITE_OK, "every statement was finalized");
  }
}

result<append_outcome> buffer_store::append_batch(std::span<const reading> rows) {
  return append_batch(rows, {});
}

result<append_outcome> buffer_store::append_batch(std::span<const reading> rows,
                                                  std::span<const uint64_t> checked_sizes) {
  impl& s = *p_;
  if (rows.size() > s.options.batch_rows_max) return fail(errc::batch_too_large);
  if (!checked_sizes.empty() && checked_sizes.size() != rows.size()) return fail(errc::bad_option);
  append_outcome out;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  TRIB_TRY_VOID(s.place_rows(rows, out.rows, d, checked_sizes));
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  out.accepted = static_cast<size_t>(d.counts.appended_rows);
  out.evicted_rows = d.counts.evicted_rows;
  out.evicted_bytes = d.counts.evicted_bytes;
  if (d.counts.evicted_rows > 0) {
    TRIB_LOG_WARN(component, "evicted oldest rows", {"rows", d.counts.evicted_rows},
                  {"bytes", d.counts.evicted_bytes}, {"quota_bytes", s.options.quota_bytes});
  }
  return out;
}

result<std::vector<stored_reading>> buffer_store::peek_batch(peek_cursor& cursor, const peek_limits& limits) {
  impl& s = *p_;
  std::vector<stored_reading> out;
  size_t rows_max = std::min(limits.rows_max, s.options.batch_rows_max);
  if (rows_max == 0) return out;
  uint64_t taken_bytes = 0;
  // Levels above 0 from readings_by_priority, highest first; priority 0 (not in that index) last.
  // Reading priority 0 in seq order passes over the rows of higher levels it meets; by then every
  // one of those was handed out already (the levels above come first), so what it passes over is
  // bounded by what the forwarder holds in flight.
  auto top = TRIB_TRY(s.query_int(s.max_priority, "peek"));
  int64_t priority = top.value_or(0);
  // At most 256 priority levels, each visited once.
  while (out.size() < rows_max) {
    TRIB_ASSERT(priority >= 0 && priority <= 255, "priorities are stored as checked");
    auto p = static_cast<uint8_t>(priority);
    {
      use u(p == 0 ? s.peek_at_zero : s.peek_at_priority);
      if (p != 0) bind_i64(*u, 1, p);
      bind_i64(*u, 2, cursor.after(p).value);
      bind_i64(*u, 3, limits.now_ms);
      bind_i64(*u, 4, static_cast<int64_t>(rows_max - out.size()));
      while (TRIB_TRY(s.step(*u, "peek"))) {
        auto row = TRIB_TRY(s.read_row(*u));
        if (!out.empty() && taken_bytes + row.size > limits.bytes_max) return out;
        taken_bytes += row.size;
        cursor.advance(p, row.seq);
        out.push_back(std::move(row));
      }
    }
    if (out.size() >= rows_max || p == 0) break;
    use u(s.max_priority_below);
    bind_i64(*u, 1, p);
    if (!TRIB_TRY(s.step(*u, "peek"))) break;
    priority = sqlite3_column_type(*u, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(*u, 0);
  }
  return out;
}

result<std::optional<stored_reading>> buffer_store::find(gateway_seq seq) {
  impl& s = *p_;
  use u(s.find_reading);
  bind_i64(*u, 1, seq.value);
  if (!TRIB_TRY(s.step(*u, "find"))) return std::optional<stored_reading>();
  return std::optional<stored_reading>(TRIB_TRY(s.read_row(*u)));
}

result<size_t> buffer_store::remove_delivered(std::span<const gateway_seq> seqs) {
  impl& s = *p_;
  if (seqs.size() > s.options.batch_rows_max) return fail(errc::batch_too_large);
  if (seqs.empty()) return 0;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  for (auto seq : seqs) {
    auto removed = TRIB_TRY(s.delete_reading_returning_size(seq.value));
    if (!removed) continue;
    d.rows--;
    d.bytes -= static_cast<int64_t>(*removed);
    d.counts.delivered_rows++;
  }
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  return static_cast<size_t>(d.counts.delivered_rows);
}

result<expire_outcome> buffer_store::expire(int64_t now_ms) {
  impl& s = *p_;
  expire_outcome out;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  std::vector<int64_t> seqs;
  {
    use u(s.expire_candidates);
    bind_i64(*u, 1, now_ms);
    bind_i64(*u, 2, static_cast<int64_t>(s.options.batch_rows_max) + 1);
    while (TRIB_TRY(s.step(*u, "expire select"))) seqs.push_back(sqlite3_column_int64(*u, 0));
  }
  if (seqs.size() > s.options.batch_rows_max) {
    out.more = true;
    seqs.resize(s.options.batch_rows_max);
  }
  for (int64_t seq : seqs) {
    auto removed = TRIB_TRY(s.delete_reading_returning_size(seq));
    TRIB_ASSERT(removed.has_value(), "selected in this transaction");
    d.rows--;
    d.bytes -= static_cast<int64_t>(*removed);
    d.counts.expired_rows++;
    out.bytes += *removed;
  }
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  out.rows = d.counts.expired_rows;
  return out;
}

result<void> buffer_store::move_to_dead_letter(gateway_seq seq, std::string_view reason, int64_t failed_ms) {
  impl& s = *p_;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  auto cut = cut_utf8(reason, s.options.reason_bytes_max);
  {
    use u(s.insert_dead_letter);
    bind_i64(*u, 1, seq.value);
    bind_i64(*u, 2, failed_ms);
    bind_text(*u, 3, cut);
    TRIB_TRY_VOID(s.step_done(*u, "insert dead letter"));
  }
  if (sqlite3_changes(s.db) == 0) return fail(errc::not_found);
  auto removed = TRIB_TRY(s.delete_reading_returning_size(seq.value));
  TRIB_ASSERT(removed.has_value(), "copied in this transaction");
  d.rows--;
  d.bytes -= static_cast<int64_t>(*removed);
  d.dl_rows++;
  d.dl_bytes += static_cast<int64_t>(*removed);
  d.counts.dead_lettered_rows++;
  if (s.dl_bytes + *removed > s.options.dead_letter_quota_bytes) {
    TRIB_TRY_VOID(
        s.evict_dead_letters(s.dl_bytes + *removed - s.options.dead_letter_quota_bytes, seq.value, d));
  }
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  TRIB_LOG_WARN(component, "dead letter", {"seq", seq.value}, {"reason", cut},
                {"dropped_dead_letters", d.counts.dead_letter_evicted_rows});
  return {};
}

result<std::vector<dead_letter>> buffer_store::dead_letter_list(gateway_seq after, size_t limit) {
  impl& s = *p_;
  if (limit > s.options.batch_rows_max) return fail(errc::batch_too_large);
  std::vector<dead_letter> out;
  use u(s.list_dead_letters);
  bind_i64(*u, 1, after.value);
  bind_i64(*u, 2, static_cast<int64_t>(limit));
  while (TRIB_TRY(s.step(*u, "list dead letters"))) {
    dead_letter dl;
    dl.row = TRIB_TRY(s.read_row(*u));
    dl.failed_ms = sqlite3_column_int64(*u, row_column_count);
    dl.reason = std::string(column_text(*u, row_column_count + 1));
    out.push_back(std::move(dl));
  }
  return out;
}

result<std::vector<gateway_seq>> buffer_store::dead_letter_retry(std::span<const gateway_seq> seqs) {
  impl& s = *p_;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  auto out = TRIB_TRY(s.retry_locked(seqs, d));
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  return out;
}

result<size_t> buffer_store::dead_letter_retry_oldest() {
  impl& s = *p_;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  std::vector<gateway_seq> seqs;
  {
    use u(s.oldest_dead_letters);
    bind_i64(*u, 1, static_cast<int64_t>(s.options.batch_rows_max));
    while (TRIB_TRY(s.step(*u, "oldest dead letters"))) seqs.emplace_back(sqlite3_column_int64(*u, 0));
  }
  if (seqs.empty()) return 0;
  auto out = TRIB_TRY(s.retry_locked(seqs, d));
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  return out.size();
}

result<size_t> buffer_store::dead_letter_purge(std::span<const gateway_seq> seqs) {
  impl& s = *p_;
  if (seqs.size() > s.options.batch_rows_max) return fail(errc::batch_too_large);
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  for (auto seq : seqs) {
    auto removed = TRIB_TRY(s.delete_dead_letter_returning_size(seq.value));
    if (!removed) continue;
    d.dl_rows--;
    d.dl_bytes -= static_cast<int64_t>(*removed);
    d.counts.dead_letter_purged_rows++;
  }
  TRIB_TRY_VOID(tx.commit());
  s.apply(d);
  s.publish();
  return static_cast<size_t>(d.counts.dead_letter_purged_rows);
}

result<size_t> buffer_store::dead_letter_purge_all() {
  impl& s = *p_;
  impl::delta d;
  impl::write_tx tx(s);
  TRIB_TRY_VOID(tx.begin());
  {
    use u(s.delete_all_dead_letters);
    TRIB_TRY_VOID(s.step_done(*u, "purge dead letters"));
  }
  auto n = static_cast<uint64_t>(sqlite3_changes64(s.db));
  TRIB_ASSERT(n == s.dl_rows, "dead letter accounting agrees with the table");
  TRIB_TRY_VOID(tx.commit());
  d.dl_rows = -static_cast<int64_t>(s.dl_rows);
  d.dl_bytes = -static_cast<int64_t>(s.dl_bytes);
  d.counts.dead_letter_purged_rows = n;
  s.apply(d);
  s.publish();
  return static_cast<size_t>(n);
}

result<void> buffer_store::refresh() {
  impl& s = *p_;
  TRIB_TRY_VOID(s.exec("BEGIN", "refresh"));
  auto r = s.reload_if_changed();
  (void)s.exec("COMMIT", "refresh");
  TRIB_TRY_VOID(r);
  s.publish();
  return {};
}

backlog_info buffer_store::backlog() const {
  std::lock_guard lock(p_->snapshot_mutex);
  return p_->snapshot;
}

store_counters buffer_store::counters() const {
  std::lock_guard lock(p_->snapshot_mutex);
  return p_->counters;
}

const store_options& buffer_store::options() const { return p_->options; }
const std::string& buffer_store::path() const { return p_->path; }
const std::string& buffer_store::last_error_message() const { return p_->last_error; }

}  // namespace tributary::gateway::buffer
