#pragma once
// Helpers for the buffer tests: a temporary directory removed afterwards, readings, a bounded loop
// run. Inside libuv callbacks (completions) only CHECK, never REQUIRE: no exception may cross a C
// callback.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

#include "common/uv/loop.h"
#include "common/uv/timer.h"
#include "gateway/buffer/buffer_store.h"

namespace tributary::test {

class temp_dir {
 public:
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "trib-buffer-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::permissions(path_, std::filesystem::perms::owner_all, ec);
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The error of a result, or no error: safe to compare whether or not the result holds a value.
template <class T>
std::error_code err_of(const result<T>& r) {
  return r ? std::error_code() : r.error();
}

inline gateway::buffer::reading make_reading(std::string_view payload, uint8_t priority = 0,
                                             std::string_view key = "dev-1", int64_t receive_ms = 1000) {
  gateway::buffer::reading r;
  r.receive_ms = receive_ms;
  r.topic = "telemetry";
  r.key.emplace(key.begin(), key.end());
  r.payload.assign(payload.begin(), payload.end());
  r.priority = priority;
  return r;
}

inline std::string payload_of(const gateway::buffer::reading& r) {
  return {r.payload.begin(), r.payload.end()};
}

// Runs SQL on the file through a separate raw connection (to plant states the store must handle).
inline void raw_sql(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* msg = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
  std::string m = msg ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, m);
}

inline int64_t raw_int(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
  int64_t v = -1;
  if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

// Runs the loop until pred() holds; false (and a failed CHECK) after timeout_ms.
inline bool run_until(uv::loop& l, const std::function<bool()>& pred, int timeout_ms = 20000) {
  uv::timer tick(l);
  tick.start_repeating(5, [] {});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      CHECK_MESSAGE(false, "run_until: condition not reached in time");
      return false;
    }
    l.run_once();
  }
  return true;
}

}  // namespace tributary::test
