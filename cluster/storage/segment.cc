#include "cluster/storage/segment.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/crc32c.h"
#include "common/log.h"

namespace tributary {
const char* errc_info<cluster::storage::errc>::message(cluster::storage::errc e) noexcept {
  using cluster::storage::errc;
  switch (e) {
    case errc::io_error: return "I/O error";
    case errc::corrupt_batch: return "corrupt batch in the log";
    case errc::bad_batch: return "malformed batch";
    case errc::offset_out_of_range: return "offset out of range";
    case errc::not_batch_boundary: return "offset is not a batch boundary";
    case errc::bad_directory: return "unrecognised partition directory contents";
  }
  return "unknown storage error";
}
}  // namespace tributary

namespace tributary::cluster::storage {
namespace {

constexpr size_t scan_chunk_bytes = 1 << 20;

std::error_code io_failed(std::string_view what, const std::filesystem::path& p) {
  int e = errno;
  TRIB_LOG_ERROR("storage", "io_error", {"op", what}, {"path", p.string()}, {"errno", e},
                 {"error", std::strerror(e)});
  return errc::io_error;
}

result<void> pread_all(int fd, uint8_t* buf, size_t n, uint64_t pos, const std::filesystem::path& p) {
  while (n > 0) {
    ssize_t r = ::pread(fd, buf, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(io_failed("pread", p));
    }
    if (r == 0) return fail(errc::corrupt_batch);  // file shorter than the index says
    buf += r;
    n -= static_cast<size_t>(r);
    pos += static_cast<uint64_t>(r);
  }
  return {};
}

result<void> pwrite_all(int fd, const uint8_t* buf, size_t n, uint64_t pos, const std::filesystem::path& p) {
  while (n > 0) {
    ssize_t r = ::pwrite(fd, buf, n, static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail(io_failed("pwrite", p));
    }
    buf += r;
    n -= static_cast<size_t>(r);
    pos += static_cast<uint64_t>(r);
  }
  return {};
}

std::filesystem::path with_ext(const std::filesystem::path& log_path, const char* ext) {
  auto p = log_path;
  p.replace_extension(ext);
  return p;
}

}  // namespace

result<batch_header> parse_batch_header(byte_span data) {
  if (data.size() < batch_header::size) return fail(errc::corrupt_batch);
  batch_header h;
  h.base_offset = static_cast<int64_t>(load_be64(data.data()));
  h.batch_length = static_cast<int32_t>(load_be32(data.data() + 8));
  h.leader_epoch = static_cast<int32_t>(load_be32(data.data() + 12));
  h.magic = static_cast<int8_t>(data[16]);
  h.crc = load_be32(data.data() + 17);
  h.last_offset_delta = static_cast<int32_t>(load_be32(data.data() + 23));
  h.max_timestamp = static_cast<int64_t>(load_be64(data.data() + 35));
  if (h.magic != 2) return fail(errc::corrupt_batch);
  if (h.batch_length < static_cast<int32_t>(batch_header::size - batch_header::log_overhead))
    return fail(errc::corrupt_batch);
  if (h.last_offset_delta < 0 || h.base_offset < 0) return fail(errc::corrupt_batch);
  return h;
}

bool batch_crc_ok(byte_span batch) {
  if (batch.size() < batch_header::size) return false;
  return crc32c(batch.subspan(21)) == load_be32(batch.data() + 17);
}

std::string segment::file_stem(offset base) { return fmt::format("{:020d}", base.value); }

result<std::shared_ptr<segment>> segment::create(const std::filesystem::path& dir, offset base,
                                                 int64_t now_ms, uint32_t index_interval_bytes) {
  std::shared_ptr<segment> s(new segment());
  s->log_path_ = dir / (file_stem(base) + ".log");
  s->fd_ = ::open(s->log_path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (s->fd_ < 0) return fail(io_failed("create", s->log_path_));
  s->base_ = base;
  s->end_ = base;
  s->created_ms_ = now_ms;
  s->index_interval_bytes_ = index_interval_bytes;
  return s;
}

result<std::shared_ptr<segment>> segment::open(const std::filesystem::path& log_path, offset base,
                                               uint32_t index_interval_bytes, bool verify,
                                               segment_scan& scan_out) {
  std::shared_ptr<segment> s(new segment());
  s->log_path_ = log_path;
  s->fd_ = ::open(log_path.c_str(), O_RDWR | O_CLOEXEC);
  if (s->fd_ < 0) return fail(io_failed("open", log_path));
  struct stat st {};
  if (::fstat(s->fd_, &st) != 0) return fail(io_failed("fstat", log_path));
  s->base_ = base;
  s->end_ = base;
  s->created_ms_ = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1000000;
  s->index_interval_bytes_ = index_interval_bytes;
  if (!verify && s->load_indexes(static_cast<uint64_t>(st.st_size), scan_out)) return s;
  TRIB_TRY_VOID(s->scan(verify, scan_out));
  return s;
}

// Fast path for a closed segment: trust the index files when they are consistent with the log, then
// walk only the batches after the last entry. Any doubt means a full scan instead (returns false).
bool segment::load_indexes(uint64_t file_size, segment_scan& out) {
  auto slurp = [](const std::filesystem::path& p) -> std::optional<std::vector<uint8_t>> {
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    std::optional<std::vector<uint8_t>> data;
    if (::fstat(fd, &st) == 0 && st.st_size <= (64 << 20)) {
      data.emplace(static_cast<size_t>(st.st_size));
      if (!pread_all(fd, data->data(), data->size(), 0, p)) data.reset();
    }
    ::close(fd);
    return data;
  };
  auto idx = slurp(with_ext(log_path_, ".index"));
  auto tidx = slurp(with_ext(log_path_, ".timeindex"));
  if (!idx || !tidx || idx->size() % 8 != 0 || tidx->size() % 12 != 0 || idx->size() / 8 != tidx->size() / 12)
    return false;
  size_t n = idx->size() / 8;
  if ((n == 0) != (file_size == 0)) return false;
  std::vector<index_entry> entries(n);
  std::vector<time_index_entry> times(n);
  for (size_t i = 0; i < n; ++i) {
    entries[i] = {load_be32(idx->data() + i * 8), load_be32(idx->data() + i * 8 + 4)};
    times[i] = {static_cast<int64_t>(load_be64(tidx->data() + i * 12)), load_be32(tidx->data() + i * 12 + 8)};
    if (entries[i].relative_offset != times[i].relative_offset || entries[i].position >= file_size)
      return false;
    if (i == 0 && (entries[0].position != 0 || entries[0].relative_offset != 0)) return false;
    if (i > 0 && (entries[i].position <= entries[i - 1].position ||
                  entries[i].relative_offset <= entries[i - 1].relative_offset ||
                  times[i].max_timestamp < times[i - 1].max_timestamp))
      return false;
  }
  index_ = std::move(entries);
  time_index_ = std::move(times);
  size_ = file_size;
  out = segment_scan{};
  out.file_bytes = file_size;
  // Walk from the last indexed batch to the end of the file: it must end exactly on a batch boundary.
  uint64_t pos = index_.empty() ? 0 : index_.back().position;
  int64_t expected = base_.value + (index_.empty() ? 0 : index_.back().relative_offset);
  max_timestamp_ = time_index_.empty() ? -1 : time_index_.back().max_timestamp;
  bytes_since_index_ = 0;
  while (pos < file_size) {
    auto h = header_at(pos);
    if (!h || h->base_offset < expected || pos + h->total_size() > file_size) {
      index_.clear();
      time_index_.clear();
      return false;
    }
    bytes_since_index_ += h->total_size();
    max_timestamp_ = std::max(max_timestamp_, h->max_timestamp);
    last_leader_epoch_ = h->leader_epoch;
    expected = h->last_offset() + 1;
    out.last_offset = offset(h->last_offset());
    pos += h->total_size();
  }
  out.valid_bytes = pos;
  end_ = offset(expected);
  return true;
}

segment::~segment() {
  if (fd_ >= 0) ::close(fd_);
}

// Walks the file from the start in large sequential reads, rebuilding the in-memory indexes. Stops at
// the first batch that is truncated, malformed, out of sequence or (when verifying) fails its CRC;
// everything before it is valid. The file itself is not modified here.
result<void> segment::scan(bool verify, segment_scan& out) {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return fail(io_failed("fstat", log_path_));
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  out = segment_scan{};
  out.file_bytes = file_size;

  std::vector<uint8_t> buf;
  uint64_t buf_pos = 0;  // file position of buf[0]
  uint64_t pos = 0;
  int64_t expected_base = base_.value;
  index_.clear();
  time_index_.clear();
  bytes_since_index_ = 0;
  max_timestamp_ = -1;
  last_leader_epoch_ = -1;

  auto ensure = [&](uint64_t at, size_t n) -> result<bool> {
    if (at + n > file_size) return false;
    if (at >= buf_pos && at + n <= buf_pos + buf.size()) return true;
    size_t want = std::max(n, scan_chunk_bytes);
    want = static_cast<size_t>(std::min<uint64_t>(want, file_size - at));
    buf.resize(want);
    TRIB_TRY_VOID(pread_all(fd_, buf.data(), want, at, log_path_));
    buf_pos = at;
    return true;
  };

  while (pos < file_size) {
    if (!TRIB_TRY(ensure(pos, batch_header::size))) {
      out.problem = fmt::format("truncated batch header at position {}", pos);
      break;
    }
    byte_span head(buf.data() + (pos - buf_pos), batch_header::size);
    auto h = parse_batch_header(head);
    if (!h) {
      out.problem = fmt::format("invalid batch header at position {}", pos);
      break;
    }
    if (h->base_offset < expected_base) {
      out.problem = fmt::format("batch at position {} has base offset {} below the expected {}", pos,
                                h->base_offset, expected_base);
      break;
    }
    size_t total = h->total_size();
    if (!TRIB_TRY(ensure(pos, total))) {
      out.problem = fmt::format("truncated batch at position {} (needs {} bytes, file has {})", pos, total,
                                file_size - pos);
      break;
    }
    if (verify && !batch_crc_ok(byte_span(buf.data() + (pos - buf_pos), total))) {
      out.problem = fmt::format("CRC mismatch in batch at position {} (offsets {}..{})", pos, h->base_offset,
                                h->last_offset());
      break;
    }
    index_batch(pos, *h);
    pos += total;
    expected_base = h->last_offset() + 1;
    out.last_offset = offset(h->last_offset());
  }
  out.valid_bytes = pos;
  size_ = pos;
  end_ = offset(expected_base);
  return {};
}

void segment::index_batch(uint64_t position, const batch_header& h) {
  max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
  last_leader_epoch_ = h.leader_epoch;
  if (index_.empty() || bytes_since_index_ >= index_interval_bytes_) {
    auto rel = static_cast<uint32_t>(h.base_offset - base_.value);
    index_.push_back({rel, static_cast<uint32_t>(position)});
    time_index_.push_back({max_timestamp_, rel});
    bytes_since_index_ = 0;
  }
  bytes_since_index_ += h.total_size();
}

result<void> segment::append(byte_span batch, const batch_header& h) {
  TRIB_ASSERT(!removed_);
  TRIB_ASSERT(h.base_offset == end_.value, "append must continue the log");
  TRIB_ASSERT(batch.size() == h.total_size());
  TRIB_ASSERT(size_ + batch.size() <= UINT32_MAX, "segment over 4 GiB: segment_bytes must prevent this");
  TRIB_TRY_VOID(pwrite_all(fd_, batch.data(), batch.size(), size_, log_path_));
  index_batch(size_, h);
  size_ += batch.size();
  end_ = offset(h.last_offset() + 1);
  return {};
}

result<batch_header> segment::header_at(uint64_t position) const {
  if (position + batch_header::size > size_) return fail(errc::corrupt_batch);
  uint8_t head[batch_header::size];
  TRIB_TRY_VOID(pread_all(fd_, head, sizeof head, position, log_path_));
  return parse_batch_header(byte_span(head, sizeof head));
}

result<std::optional<std::pair<uint64_t, batch_header>>> segment::find(offset target) const {
  using found = std::optional<std::pair<uint64_t, batch_header>>;
  if (target >= end_ || size_ == 0) return found{};
  uint64_t pos = 0;
  if (target > base_) {
    auto rel = static_cast<uint32_t>(target.value - base_.value);
    auto it = std::upper_bound(index_.begin(), index_.end(), rel,
                               [](uint32_t v, const index_entry& e) { return v < e.relative_offset; });
    if (it != index_.begin()) pos = std::prev(it)->position;
  }
  while (pos < size_) {
    auto h = TRIB_TRY(header_at(pos));
    if (h.last_offset() >= target.value) return found{{pos, h}};
    pos += h.total_size();
  }
  return found{};
}

result<std::optional<std::pair<uint64_t, batch_header>>> segment::find_by_timestamp(int64_t ts) const {
  using found = std::optional<std::pair<uint64_t, batch_header>>;
  if (size_ == 0 || max_timestamp_ < ts) return found{};
  auto it = std::lower_bound(time_index_.begin(), time_index_.end(), ts,
                             [](const time_index_entry& e, int64_t v) { return e.max_timestamp < v; });
  uint64_t pos = 0;
  if (it != time_index_.begin())
    pos = index_[static_cast<size_t>(std::prev(it) - time_index_.begin())].position;
  while (pos < size_) {
    auto h = TRIB_TRY(header_at(pos));
    if (h.max_timestamp >= ts) return found{{pos, h}};
    pos += h.total_size();
  }
  return found{};
}

result<void> segment::read(uint64_t position, uint32_t length, std::vector<uint8_t>& out) const {
  if (position + length > size_) return fail(errc::offset_out_of_range);
  size_t at = out.size();
  out.resize(at + length);
  auto r = pread_all(fd_, out.data() + at, length, position, log_path_);
  if (!r) out.resize(at);
  return r;
}

result<void> segment::truncate(uint64_t position, offset new_end) {
  TRIB_ASSERT(position <= size_);
  if (::ftruncate(fd_, static_cast<off_t>(position)) != 0) return fail(io_failed("ftruncate", log_path_));
  while (!index_.empty() && index_.back().position >= position) {
    index_.pop_back();
    time_index_.pop_back();
  }
  size_ = position;
  end_ = new_end;
  // Recompute the max timestamp and the bytes since the last index entry from the last entry on.
  max_timestamp_ = time_index_.empty() ? -1 : time_index_.back().max_timestamp;
  uint64_t pos = index_.empty() ? 0 : index_.back().position;
  bytes_since_index_ = 0;
  last_leader_epoch_ = -1;
  while (pos < size_) {
    auto h = TRIB_TRY(header_at(pos));
    max_timestamp_ = std::max(max_timestamp_, h.max_timestamp);
    last_leader_epoch_ = h.leader_epoch;
    bytes_since_index_ += h.total_size();
    pos += h.total_size();
  }
  return {};
}

result<void> segment::sync() const {
  if (::fdatasync(fd_) != 0) return fail(io_failed("fdatasync", log_path_));
  return {};
}

result<void> segment::write_indexes() const {
  std::vector<uint8_t> idx(index_.size() * 8);
  for (size_t i = 0; i < index_.size(); ++i) {
    store_be32(idx.data() + i * 8, index_[i].relative_offset);
    store_be32(idx.data() + i * 8 + 4, index_[i].position);
  }
  std::vector<uint8_t> tidx(time_index_.size() * 12);
  for (size_t i = 0; i < time_index_.size(); ++i) {
    store_be64(tidx.data() + i * 12, static_cast<uint64_t>(time_index_[i].max_timestamp));
    store_be32(tidx.data() + i * 12 + 8, time_index_[i].relative_offset);
  }
  for (auto [ext, data] : {std::pair{".index", &idx}, std::pair{".timeindex", &tidx}}) {
    auto p = with_ext(log_path_, ext);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fail(io_failed("open", p));
    auto r = pwrite_all(fd, data->data(), data->size(), 0, p);
    ::close(fd);
    TRIB_TRY_VOID(r);
  }
  return {};
}

void segment::remove_files() {
  if (removed_) return;
  removed_ = true;
  std::error_code ec;
  std::filesystem::remove(log_path_, ec);
  std::filesystem::remove(with_ext(log_path_, ".index"), ec);
  std::filesystem::remove(with_ext(log_path_, ".timeindex"), ec);
  // The fd stays open until the last shared_ptr (e.g. an in-flight read or sync) lets go.
}

}  // namespace tributary::cluster::storage
