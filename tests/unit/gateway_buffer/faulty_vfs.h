#pragma once
// faulty_vfs: a SQLite VFS over the default (unix) one that simulates power loss. Per file (by
// path) it keeps the content a sync has made durable and the writes and truncations since then;
// an xSync on ANY handle of that path (SQLite's own, or a second handle the store opens on the WAL
// to sync it from another thread) makes durable exactly the changes that had returned before the
// sync began. cut() is the power cut: it freezes what is durable at that instant; whatever happens
// afterwards (more commits, the close that checkpoints and deletes the WAL) no longer counts.
// restore(), once every connection is closed, rewrites each file to its frozen durable content,
// deletes files created after the cut, and deletes the -shm files (shared memory, never durable;
// SQLite rebuilds the WAL index from the WAL on the next open).
//
// Model: file creation and deletion are durable at once (SQLite syncs the directory where it relies
// on that); a sync that fails makes nothing durable; files that existed before they were first
// opened through this VFS count as durable as they were. Temporary files (no name) pass through.
//
// Registered as the default VFS while the object lives (construct it before opening a store).
#include <sqlite3.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tributary::test {

class faulty_vfs {
 public:
  faulty_vfs() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_ = *real_;
    vfs_.zName = "trib-faulty";
    vfs_.pNext = nullptr;
    vfs_.szOsFile = static_cast<int>(sizeof(file)) + real_->szOsFile;
    vfs_.pAppData = this;
    vfs_.xOpen = &x_open;
    vfs_.xDelete = &x_delete;
    methods_.iVersion = 3;
    methods_.xClose = &x_close;
    methods_.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
      return real_of(f)->pMethods->xRead(real_of(f), b, n, o);
    };
    methods_.xWrite = &x_write;
    methods_.xTruncate = &x_truncate;
    methods_.xSync = &x_sync;
    methods_.xFileSize = [](sqlite3_file* f, sqlite3_int64* s) {
      return real_of(f)->pMethods->xFileSize(real_of(f), s);
    };
    methods_.xLock = [](sqlite3_file* f, int l) { return real_of(f)->pMethods->xLock(real_of(f), l); };
    methods_.xUnlock = [](sqlite3_file* f, int l) { return real_of(f)->pMethods->xUnlock(real_of(f), l); };
    methods_.xCheckReservedLock = [](sqlite3_file* f, int* r) {
      return real_of(f)->pMethods->xCheckReservedLock(real_of(f), r);
    };
    methods_.xFileControl = [](sqlite3_file* f, int op, void* a) {
      return real_of(f)->pMethods->xFileControl(real_of(f), op, a);
    };
    methods_.xSectorSize = [](sqlite3_file* f) { return real_of(f)->pMethods->xSectorSize(real_of(f)); };
    methods_.xDeviceCharacteristics = [](sqlite3_file* f) {
      return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
    };
    methods_.xShmMap = [](sqlite3_file* f, int pg, int sz, int ext, void volatile** p) {
      return real_of(f)->pMethods->xShmMap(real_of(f), pg, sz, ext, p);
    };
    methods_.xShmLock = [](sqlite3_file* f, int o, int n, int fl) {
      return real_of(f)->pMethods->xShmLock(real_of(f), o, n, fl);
    };
    methods_.xShmBarrier = [](sqlite3_file* f) { real_of(f)->pMethods->xShmBarrier(real_of(f)); };
    methods_.xShmUnmap = [](sqlite3_file* f, int d) {
      return real_of(f)->pMethods->xShmUnmap(real_of(f), d);
    };
    methods_.xFetch = [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
      return real_of(f)->pMethods->xFetch(real_of(f), o, n, p);
    };
    methods_.xUnfetch = [](sqlite3_file* f, sqlite3_int64 o, void* p) {
      return real_of(f)->pMethods->xUnfetch(real_of(f), o, p);
    };
    int rc = sqlite3_vfs_register(&vfs_, 1);
    if (rc != SQLITE_OK) std::abort();
  }
  ~faulty_vfs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);  // the default again
  }
  faulty_vfs(const faulty_vfs&) = delete;
  faulty_vfs& operator=(const faulty_vfs&) = delete;

  // The power cut: what is durable now is all that survives.
  void cut() {
    std::lock_guard lock(mutex_);
    cut_ = true;
    frozen_.clear();
    for (auto& [path, st] : files_) frozen_[path] = st.durable;
  }

  // After the cut and after every connection closed: the files as the disk holds them.
  void restore() {
    std::lock_guard lock(mutex_);
    for (auto& [path, st] : files_) {
      if (frozen_.count(path) == 0) ::unlink(path.c_str());  // created after the cut
    }
    std::vector<std::string> dbs;
    for (auto& [path, content] : frozen_) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(content.data(), static_cast<std::streamsize>(content.size()));
      if (path.size() <= 4 || path.compare(path.size() - 4, 4, "-wal") != 0) dbs.push_back(path);
    }
    for (auto& db : dbs) ::unlink((db + "-shm").c_str());
    files_.clear();
    frozen_.clear();
    cut_ = false;
  }

  // Successful syncs of named files before the cut.
  uint64_t syncs() const {
    std::lock_guard lock(mutex_);
    return syncs_;
  }
  // Bytes written to `path` that no sync has covered yet.
  uint64_t unsynced_bytes(const std::string& path) const {
    std::lock_guard lock(mutex_);
    auto it = files_.find(path);
    if (it == files_.end()) return 0;
    uint64_t n = 0;
    for (auto& op : it->second.pending) n += op.data.size();
    return n;
  }

 private:
  struct op {
    int64_t offset = 0;
    std::string data;  // empty with truncate: a truncation to `offset`
    bool truncate = false;
  };
  struct file_state {
    std::string durable;
    std::vector<op> pending;
    uint64_t first_pending = 0;  // the number of ops ever applied or dropped before pending[0]
  };
  struct file {
    sqlite3_file base;
    faulty_vfs* owner;
    std::string* path;  // owned (new/delete): the struct lives in SQLite's memory
  };

  static sqlite3_file* real_of(sqlite3_file* f) {
    return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(f) + sizeof(file));
  }
  static faulty_vfs& owner_of(sqlite3_file* f) { return *reinterpret_cast<file*>(f)->owner; }
  static const std::string* path_of(sqlite3_file* f) { return reinterpret_cast<file*>(f)->path; }

  static std::string read_whole(const char* path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  static void apply(std::string& content, const op& o) {
    auto at = static_cast<size_t>(o.offset);
    if (o.truncate) {
      content.resize(at);
      return;
    }
    if (content.size() < at + o.data.size()) content.resize(at + o.data.size(), '\0');
    std::memcpy(content.data() + at, o.data.data(), o.data.size());
  }

  static int x_open(sqlite3_vfs* v, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    auto& self = *static_cast<faulty_vfs*>(v->pAppData);
    auto* shim = reinterpret_cast<file*>(f);
    shim->base.pMethods = nullptr;
    shim->owner = &self;
    shim->path = nullptr;
    sqlite3_file* real = real_of(f);
    int rc = self.real_->xOpen(self.real_, name, real, flags, out_flags);
    if (rc != SQLITE_OK) {
      if (real->pMethods != nullptr) real->pMethods->xClose(real);
      return rc;
    }
    if (name != nullptr) {
      shim->path = new std::string(name);
      std::lock_guard lock(self.mutex_);
      if (!self.cut_ && self.files_.count(*shim->path) == 0) {
        self.files_[*shim->path].durable = read_whole(name);
      }
    }
    shim->base.pMethods = &self.methods_;
    return SQLITE_OK;
  }

  static int x_delete(sqlite3_vfs* v, const char* name, int sync_dir) {
    auto& self = *static_cast<faulty_vfs*>(v->pAppData);
    int rc = self.real_->xDelete(self.real_, name, sync_dir);
    std::lock_guard lock(self.mutex_);
    if (rc == SQLITE_OK && !self.cut_) self.files_.erase(name);
    return rc;
  }

  static int x_close(sqlite3_file* f) {
    int rc = real_of(f)->pMethods->xClose(real_of(f));
    delete reinterpret_cast<file*>(f)->path;
    reinterpret_cast<file*>(f)->path = nullptr;
    return rc;
  }

  void record(const std::string* path, op o) {
    if (path == nullptr) return;
    std::lock_guard lock(mutex_);
    if (cut_) return;
    files_[*path].pending.push_back(std::move(o));
  }

  static int x_write(sqlite3_file* f, const void* b, int n, sqlite3_int64 off) {
    int rc = real_of(f)->pMethods->xWrite(real_of(f), b, n, off);
    // Recorded once the write has returned: a sync that begins later covers it.
    if (rc == SQLITE_OK) owner_of(f).record(path_of(f), op{off, std::string(static_cast<const char*>(b), n)});
    return rc;
  }

  static int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
    int rc = real_of(f)->pMethods->xTruncate(real_of(f), size);
    if (rc == SQLITE_OK) owner_of(f).record(path_of(f), op{size, {}, true});
    return rc;
  }

  static int x_sync(sqlite3_file* f, int flags) {
    faulty_vfs& self = owner_of(f);
    const std::string* path = path_of(f);
    uint64_t through = 0;  // ops that had returned when the sync began
    if (path != nullptr) {
      std::lock_guard lock(self.mutex_);
      auto& st = self.files_[*path];
      through = st.first_pending + st.pending.size();
    }
    int rc = real_of(f)->pMethods->xSync(real_of(f), flags);
    if (rc != SQLITE_OK || path == nullptr) return rc;
    std::lock_guard lock(self.mutex_);
    if (self.cut_) return rc;
    auto it = self.files_.find(*path);
    if (it == self.files_.end()) return rc;  // deleted meanwhile
    auto& st = it->second;
    size_t n = through > st.first_pending ? static_cast<size_t>(through - st.first_pending) : 0;
    n = std::min(n, st.pending.size());
    for (size_t i = 0; i < n; ++i) apply(st.durable, st.pending[i]);
    st.pending.erase(st.pending.begin(), st.pending.begin() + static_cast<std::ptrdiff_t>(n));
    st.first_pending += n;
    self.syncs_++;
    return rc;
  }

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  sqlite3_io_methods methods_{};
  mutable std::mutex mutex_;
  bool cut_ = false;
  std::map<std::string, file_state> files_;
  std::map<std::string, std::string> frozen_;
  uint64_t syncs_ = 0;
};

}  // namespace tributary::test
