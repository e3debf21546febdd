#include "cluster/storage/partition_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/log.h"

namespace tributary::cluster::storage {
namespace {

// "00000000000000001234.log" -> 1234; anything else -> nullopt.
std::optional<offset> parse_segment_name(const std::filesystem::path& p) {
  if (p.extension() != ".log") return std::nullopt;
  std::string stem = p.stem().string();
  if (stem.size() != 20 ||
      !std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  int64_t v = 0;
  for (char c : stem) {
    if (v > (INT64_MAX - (c - '0')) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return offset(v);
}

result<void> fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail(errc::io_error);
  int rc = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (rc != 0) {
    TRIB_LOG_ERROR("storage", "io_error", {"op", "fsync_dir"}, {"path", dir.string()},
                   {"error", std::strerror(e)});
    return fail(errc::io_error);
  }
  return {};
}

}  // namespace

result<std::unique_ptr<partition_log>> partition_log::open(const std::filesystem::path& dir,
                                                           const log_config& cfg, int64_t now_ms) {
  TRIB_ASSERT(cfg.segment_bytes >= batch_header::size && cfg.segment_bytes <= UINT32_MAX);
  std::unique_ptr<partition_log> log(new partition_log());
  log->dir_ = dir;
  log->cfg_ = cfg;

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    TRIB_LOG_ERROR("storage", "mkdir_failed", {"path", dir.string()}, {"error", ec.message()});
    return fail(errc::io_error);
  }
  std::vector<std::pair<offset, std::filesystem::path>> found;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (!e.is_regular_file()) continue;
    auto p = e.path();
    if (auto base = parse_segment_name(p)) {
      found.emplace_back(*base, p);
    } else if (p.extension() == ".index" || p.extension() == ".timeindex") {
      auto log_file = p;
      log_file.replace_extension(".log");
      if (!std::filesystem::exists(log_file)) std::filesystem::remove(p, ec);  // orphan hint
    } else if (p.extension() == ".log") {
      TRIB_LOG_WARN("storage", "ignored_file", {"path", p.string()},
                    {"reason", "not a 20-digit segment name"});
    }
  }
  if (ec) return fail(errc::io_error);
  std::sort(found.begin(), found.end());

  for (size_t i = 0; i < found.size(); ++i) {
    const auto& [base, path] = found[i];
    bool last = i + 1 == found.size();
    segment_scan scan;
    auto seg =
        TRIB_TRY(segment::open(path, base, cfg.index_interval_bytes, cfg.verify_on_start || last, scan));
    if (!log->segments_.empty() && base < log->active()->end_offset()) {
      // Overlapping segments: a later segment restarts inside an earlier one (never written by us).
      auto msg = fmt::format("{}: base offset {} overlaps the previous segment ending at {}; ignored",
                             path.string(), base.value, log->active()->end_offset().value);
      TRIB_LOG_ERROR("storage", "segment_overlap", {"path", path.string()});
      log->recovery_.problems.push_back(msg);
      continue;
    }
    if (scan.problem) {
      if (last) {
        uint64_t cut = scan.file_bytes - scan.valid_bytes;
        TRIB_TRY_VOID(seg->truncate(scan.valid_bytes, seg->end_offset()));
        log->recovery_.bytes_cut += cut;
        auto msg = fmt::format("{}: {}; cut {} bytes, log ends at offset {}", path.string(), *scan.problem,
                               cut, seg->end_offset().value);
        TRIB_LOG_WARN("storage", "torn_tail_cut", {"path", path.string()}, {"problem", *scan.problem},
                      {"bytes_cut", cut}, {"end_offset", seg->end_offset().value});
        log->recovery_.problems.push_back(msg);
      } else {
        auto msg = fmt::format("{}: {}; serving the {} valid bytes before it and the later segments",
                               path.string(), *scan.problem, scan.valid_bytes);
        TRIB_LOG_ERROR("storage", "damaged_segment", {"path", path.string()}, {"problem", *scan.problem},
                       {"valid_bytes", scan.valid_bytes}, {"file_bytes", scan.file_bytes});
        log->recovery_.problems.push_back(msg);
      }
    }
    log->recovery_.bytes += seg->size_bytes();
    log->segments_.emplace(base, std::move(seg));
  }
  if (log->segments_.empty()) {
    auto seg = TRIB_TRY(segment::create(dir, offset(0), now_ms, cfg.index_interval_bytes));
    log->segments_.emplace(offset(0), std::move(seg));
    log->dir_dirty_ = true;
  }
  log->recovery_.segments = log->segments_.size();
  for (auto it = log->segments_.rbegin(); it != log->segments_.rend(); ++it) {
    if (!it->second->empty()) {
      log->last_epoch_ = leader_epoch(it->second->last_leader_epoch());
      break;
    }
  }
  // What survived recovery is on disk: the torn tail is cut, the rest was there before we started.
  TRIB_TRY_VOID(log->active()->sync());
  log->durable_ = log->end_offset();
  return log;
}

partition_log::~partition_log() = default;

offset partition_log::start_offset() const { return segments_.begin()->second->base_offset(); }
offset partition_log::end_offset() const { return active()->end_offset(); }

uint64_t partition_log::size_bytes() const {
  uint64_t n = 0;
  for (const auto& [_, s] : segments_) n += s->size_bytes();
  return n;
}

result<void> partition_log::roll(int64_t now_ms) {
  auto old = active();
  TRIB_TRY_VOID(old->write_indexes());
  auto seg = TRIB_TRY(segment::create(dir_, old->end_offset(), now_ms, cfg_.index_interval_bytes));
  unsynced_.push_back(old);
  segments_.emplace(seg->base_offset(), std::move(seg));
  dir_dirty_ = true;
  TRIB_LOG_DEBUG("storage", "segment_rolled", {"dir", dir_.string()},
                 {"base_offset", old->end_offset().value});
  return {};
}

result<append_result> partition_log::write_batch(byte_span batch, const batch_header& h, int64_t now_ms) {
  auto act = active();
  bool full = act->size_bytes() + batch.size() > cfg_.segment_bytes;
  bool old = cfg_.segment_ms >= 0 && now_ms - act->created_ms() >= cfg_.segment_ms;
  if (!act->empty() && (full || old)) TRIB_TRY_VOID(roll(now_ms));
  if (active()->empty() && active()->base_offset() != offset(h.base_offset)) {
    // An empty active segment that does not start where this batch does (a follower jumping over a
    // gap): replace it so the file name keeps matching its first batch.
    auto empty = active();
    segments_.erase(empty->base_offset());
    empty->remove_files();
    auto seg = TRIB_TRY(segment::create(dir_, offset(h.base_offset), now_ms, cfg_.index_interval_bytes));
    segments_.emplace(seg->base_offset(), std::move(seg));
    dir_dirty_ = true;
  }
  TRIB_TRY_VOID(active()->append(batch, h));
  last_epoch_ = leader_epoch(h.leader_epoch);
  return append_result{offset(h.base_offset), offset(h.last_offset()), h.max_timestamp};
}

result<append_result> partition_log::append(std::span<uint8_t> batch, leader_epoch epoch, int64_t now_ms) {
  auto h = TRIB_TRY(parse_batch_header(batch));
  if (h.total_size() != batch.size()) return fail(errc::bad_batch);
  if (h.total_size() > cfg_.segment_bytes) return fail(errc::bad_batch);
  store_be64(batch.data(), static_cast<uint64_t>(end_offset().value));
  store_be32(batch.data() + 12, static_cast<uint32_t>(epoch.value));
  h.base_offset = end_offset().value;
  h.leader_epoch = epoch.value;
  return write_batch(batch, h, now_ms);
}

result<append_result> partition_log::append_exact(byte_span batch, int64_t now_ms) {
  auto h = TRIB_TRY(parse_batch_header(batch));
  if (h.total_size() != batch.size() || h.total_size() > cfg_.segment_bytes) return fail(errc::bad_batch);
  if (h.base_offset < end_offset().value) return fail(errc::offset_out_of_range);
  return write_batch(batch, h, now_ms);
}

std::shared_ptr<segment> partition_log::segment_for(offset o) const {
  auto it = segments_.upper_bound(o);
  if (it != segments_.begin()) {
    auto prev = std::prev(it);
    if (o < prev->second->end_offset()) return prev->second;
  }
  // In a gap (or before the start): the next segment that has data.
  for (; it != segments_.end(); ++it) {
    if (!it->second->empty()) return it->second;
  }
  return nullptr;
}

result<read_result> partition_log::read(offset from, size_t max_bytes, offset limit) const {
  if (from < start_offset() || from > end_offset()) return fail(errc::offset_out_of_range);
  read_result out;
  out.next = from;
  offset cursor = from;
  while (cursor < end_offset() && cursor < limit) {
    auto seg = segment_for(cursor);
    if (!seg) break;
    auto hit = TRIB_TRY(seg->find(std::max(cursor, seg->base_offset())));
    if (!hit) break;
    auto [pos, h] = *hit;
    // Gather consecutive batches of this segment in one read.
    uint64_t start = pos;
    uint64_t len = 0;
    offset next = cursor;
    while (true) {
      if (h.base_offset >= limit.value) break;
      if (!out.data.empty() || len > 0) {
        if (out.data.size() + len + h.total_size() > max_bytes) break;
      }
      len += h.total_size();
      next = offset(h.last_offset() + 1);
      uint64_t after = pos + h.total_size();
      if (after >= seg->size_bytes()) break;
      auto nh = seg->header_at(after);
      if (!nh) break;
      pos = after;
      h = *nh;
    }
    if (len == 0) break;
    TRIB_TRY_VOID(seg->read(start, static_cast<uint32_t>(len), out.data));
    out.next = next;
    cursor = next;
    if (out.data.size() >= max_bytes) break;
  }
  return out;
}

result<std::optional<offset>> partition_log::offset_for_timestamp(int64_t ts) const {
  for (const auto& [_, seg] : segments_) {
    if (seg->max_timestamp() < ts) continue;
    auto hit = TRIB_TRY(seg->find_by_timestamp(ts));
    if (hit) return std::optional<offset>(offset(hit->second.base_offset));
  }
  return std::optional<offset>{};
}

result<leader_epoch> partition_log::epoch_at(offset o) const {
  if (o < start_offset() || o >= end_offset()) return fail(errc::offset_out_of_range);
  auto seg = segment_for(o);
  if (!seg) return fail(errc::offset_out_of_range);
  auto hit = TRIB_TRY(seg->find(o));
  if (!hit || hit->second.base_offset > o.value) return fail(errc::offset_out_of_range);  // in a gap
  return leader_epoch(hit->second.leader_epoch);
}

result<void> partition_log::truncate_suffix(offset from) {
  if (from == end_offset()) return {};
  if (from < start_offset() || from > end_offset()) return fail(errc::offset_out_of_range);
  // Check the boundary before changing anything.
  auto holder = segment_for(from);
  TRIB_ASSERT(holder != nullptr);
  auto hit = TRIB_TRY(holder->find(from));
  if (hit && hit->second.base_offset != from.value && from >= holder->base_offset()) {
    return fail(errc::not_batch_boundary);
  }
  ++generation_;
  // Drop whole segments that start at or after `from`, keeping at least one.
  while (segments_.size() > 1 && active()->base_offset() >= from) {
    auto seg = active();
    segments_.erase(seg->base_offset());
    std::erase(unsynced_, seg);
    seg->remove_files();
    dir_dirty_ = true;
  }
  auto act = active();
  if (act->base_offset() >= from) {
    TRIB_TRY_VOID(act->truncate(0, act->base_offset()));
  } else if (act->end_offset() > from) {
    auto at = TRIB_TRY(act->find(from));
    TRIB_ASSERT(at.has_value());
    TRIB_TRY_VOID(act->truncate(at->first, from));
  }
  std::erase(unsynced_, act);
  last_epoch_ = leader_epoch(-1);
  for (auto it = segments_.rbegin(); it != segments_.rend(); ++it) {
    if (!it->second->empty()) {
      last_epoch_ = leader_epoch(it->second->last_leader_epoch());
      break;
    }
  }
  durable_ = std::min(durable_, end_offset());
  // The cut must reach the disk before anything is appended over it (a crash would otherwise bring
  // back the old suffix). ftruncate is metadata: sync it now.
  TRIB_TRY_VOID(act->sync());
  if (dir_dirty_) {
    TRIB_TRY_VOID(fsync_dir(dir_));
    dir_dirty_ = false;
  }
  return {};
}

result<void> partition_log::reset_to(offset start, int64_t now_ms) {
  if (start < offset(0)) return fail(errc::offset_out_of_range);
  ++generation_;
  for (auto& [base, seg] : segments_) seg->remove_files();
  segments_.clear();
  unsynced_.clear();
  auto seg = TRIB_TRY(segment::create(dir_, start, now_ms, cfg_.index_interval_bytes));
  segments_.emplace(start, std::move(seg));
  last_epoch_ = leader_epoch(-1);
  durable_ = start;
  dir_dirty_ = false;
  return fsync_dir(dir_);
}

sync_job partition_log::prepare_sync() {
  sync_job job;
  job.segments = unsynced_;
  job.segments.push_back(active());
  job.dir = dir_;
  job.sync_dir = dir_dirty_;
  job.upto = end_offset();
  job.generation = generation_;
  dir_dirty_ = false;
  return job;
}

result<void> partition_log::run_sync(const sync_job& job) {
  for (const auto& s : job.segments) TRIB_TRY_VOID(s->sync());
  if (job.sync_dir) TRIB_TRY_VOID(fsync_dir(job.dir));
  return {};
}

void partition_log::complete_sync(const sync_job& job) {
  if (job.generation != generation_) return;  // a truncation happened meanwhile: claim nothing
  std::erase_if(unsynced_, [&](const std::shared_ptr<segment>& s) {
    return std::find(job.segments.begin(), job.segments.end(), s) != job.segments.end();
  });
  durable_ = std::max(durable_, std::min(job.upto, end_offset()));
}

result<void> partition_log::sync_now() {
  auto job = prepare_sync();
  auto r = run_sync(job);
  if (!r) {
    dir_dirty_ = dir_dirty_ || job.sync_dir;
    return r;
  }
  complete_sync(job);
  return {};
}

std::optional<offset> partition_log::retention_point(int64_t now_ms, offset keep_from) const {
  std::optional<offset> point;
  uint64_t total = size_bytes();
  for (auto it = segments_.begin(); std::next(it) != segments_.end(); ++it) {  // never the active one
    const auto& seg = it->second;
    if (seg->end_offset() > keep_from) break;
    bool too_old = cfg_.retention_ms >= 0 && seg->max_timestamp() >= 0 &&
                   now_ms - seg->max_timestamp() > cfg_.retention_ms;
    bool too_big = cfg_.retention_bytes >= 0 && total > static_cast<uint64_t>(cfg_.retention_bytes);
    if (!too_old && !too_big) break;
    total -= seg->size_bytes();
    point = std::next(it)->first;
  }
  return point;
}

result<size_t> partition_log::apply_retention(int64_t now_ms, offset keep_from) {
  auto point = retention_point(now_ms, keep_from);
  return point ? delete_segments_before(*point, "retention") : 0;
}

result<size_t> partition_log::delete_before(offset keep_from) {
  return delete_segments_before(keep_from, "compacted");
}

result<size_t> partition_log::delete_segments_before(offset keep_from, const char* reason) {
  size_t deleted = 0;
  while (segments_.size() > 1) {
    auto first = segments_.begin()->second;
    if (first->end_offset() > keep_from) break;
    segments_.erase(segments_.begin());
    std::erase(unsynced_, first);
    first->remove_files();
    dir_dirty_ = true;
    ++deleted;
    TRIB_LOG_INFO("storage", "segment_deleted", {"path", first->log_path().string()}, {"reason", reason},
                  {"log_start_offset", start_offset().value});
  }
  return deleted;
}

result<void> partition_log::close() {
  TRIB_TRY_VOID(sync_now());
  for (const auto& [_, s] : segments_) TRIB_TRY_VOID(s->write_indexes());
  return {};
}

}  // namespace tributary::cluster::storage
