#include "cluster/storage/partition_log.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "common/crc32c.h"
#include "tests/unit/temp_dir.h"

using namespace tributary;
using namespace tributary::cluster::storage;
namespace fs = std::filesystem;

namespace {

// A structurally valid RecordBatch v2 for the log's purposes: correct header, lengths and CRC.
// The record bytes are opaque filler (the log never parses records).
std::vector<uint8_t> make_batch(int records, size_t payload, int64_t max_ts = 1000, uint8_t fill = 0xab) {
  std::vector<uint8_t> b(batch_header::size + payload, fill);
  store_be64(b.data(), 0);
  store_be32(b.data() + 8, static_cast<uint32_t>(b.size() - batch_header::log_overhead));
  store_be32(b.data() + 12, 0);
  b[16] = 2;
  store_be16(b.data() + 21, 0);
  store_be32(b.data() + 23, static_cast<uint32_t>(records - 1));
  store_be64(b.data() + 27, static_cast<uint64_t>(max_ts));
  store_be64(b.data() + 35, static_cast<uint64_t>(max_ts));
  store_be64(b.data() + 43, static_cast<uint64_t>(-1));
  store_be16(b.data() + 51, static_cast<uint16_t>(-1));
  store_be32(b.data() + 53, static_cast<uint32_t>(-1));
  store_be32(b.data() + 57, static_cast<uint32_t>(records));
  store_be32(b.data() + 17, crc32c(byte_span(b).subspan(21)));
  return b;
}

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-storage-test") {}
};

std::vector<fs::path> files_with(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

std::unique_ptr<partition_log> open_log(const fs::path& dir, log_config cfg = {}) {
  auto r = partition_log::open(dir, cfg, 1000);
  REQUIRE(r.has_value());
  return std::move(*r);
}

// Splits stored bytes back into batch headers.
std::vector<batch_header> headers_of(const std::vector<uint8_t>& data) {
  std::vector<batch_header> out;
  size_t pos = 0;
  while (pos < data.size()) {
    auto h = parse_batch_header(byte_span(data).subspan(pos));
    REQUIRE(h.has_value());
    CHECK(batch_crc_ok(byte_span(data).subspan(pos, h->total_size())));
    out.push_back(*h);
    pos += h->total_size();
  }
  CHECK(pos == data.size());
  return out;
}

}  // namespace

TEST_CASE("append assigns offsets and epochs; read returns the stored bytes") {
  temp_dir t;
  auto log = open_log(t.path);
  CHECK(log->start_offset() == offset(0));
  CHECK(log->end_offset() == offset(0));
  auto b1 = make_batch(3, 100);
  auto b2 = make_batch(5, 50);
  auto r1 = log->append(b1, leader_epoch(7), 1000);
  auto r2 = log->append(b2, leader_epoch(8), 1000);
  REQUIRE(r1);
  REQUIRE(r2);
  CHECK(r1->base == offset(0));
  CHECK(r1->last == offset(2));
  CHECK(r2->base == offset(3));
  CHECK(r2->last == offset(7));
  CHECK(log->end_offset() == offset(8));
  CHECK(log->last_epoch() == leader_epoch(8));

  auto all = log->read(offset(0), 1 << 20, offset(100));
  REQUIRE(all);
  CHECK(all->next == offset(8));
  auto hs = headers_of(all->data);
  REQUIRE(hs.size() == 2);
  CHECK(hs[0].base_offset == 0);
  CHECK(hs[0].leader_epoch == 7);
  CHECK(hs[1].base_offset == 3);
  CHECK(hs[1].leader_epoch == 8);
  // The stored bytes are the appended (rewritten) bytes exactly.
  CHECK(std::equal(b1.begin(), b1.end(), all->data.begin()));

  // Reading from an offset inside a batch returns that whole batch.
  auto mid = log->read(offset(4), 1 << 20, offset(100));
  REQUIRE(mid);
  REQUIRE(headers_of(mid->data).size() == 1);
  CHECK(headers_of(mid->data)[0].base_offset == 3);

  CHECK(*log->epoch_at(offset(2)) == leader_epoch(7));
  CHECK(*log->epoch_at(offset(3)) == leader_epoch(8));
  CHECK(log->epoch_at(offset(8)).error() == errc::offset_out_of_range);
}

TEST_CASE("read limits: the first batch is whole, max_bytes and the high watermark stop the rest") {
  temp_dir t;
  auto log = open_log(t.path);
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(1, 939);  // 1000 bytes each
    REQUIRE(log->append(b, leader_epoch(1), 1000));
  }
  auto small = log->read(offset(0), 10, offset(100));
  REQUIRE(small);
  CHECK(small->data.size() == 1000);  // one whole batch although max_bytes is 10
  CHECK(small->next == offset(1));
  auto some = log->read(offset(2), 3500, offset(100));
  CHECK(some->data.size() == 3000);
  CHECK(some->next == offset(5));
  auto hw = log->read(offset(0), 1 << 20, offset(4));
  CHECK(hw->data.size() == 4000);
  CHECK(hw->next == offset(4));
  auto at_end = log->read(offset(10), 1 << 20, offset(100));
  REQUIRE(at_end);
  CHECK(at_end->data.empty());
  CHECK(log->read(offset(11), 100, offset(100)).error() == errc::offset_out_of_range);
  CHECK(log->read(offset(-1), 100, offset(100)).error() == errc::offset_out_of_range);
}

TEST_CASE("segments roll by size, carry 20-digit names, and reads cross them") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 2500;
  auto log = open_log(t.path, cfg);
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 939);
    REQUIRE(log->append(b, leader_epoch(1), 1000));
  }
  CHECK(log->segment_count() == 5);
  auto logs = files_with(t.path, ".log");
  REQUIRE(logs.size() == 5);
  CHECK(logs[0].filename() == "00000000000000000000.log");
  CHECK(logs[1].filename() == "00000000000000000004.log");
  auto all = log->read(offset(0), 1 << 20, offset(100));
  CHECK(headers_of(all->data).size() == 10);
  CHECK(all->next == offset(20));
  // Rolled segments got their index files.
  CHECK(files_with(t.path, ".index").size() == 4);
}

TEST_CASE("roll by age") {
  temp_dir t;
  log_config cfg;
  cfg.segment_ms = 500;
  auto log = open_log(t.path, cfg);
  auto b = make_batch(1, 10);
  REQUIRE(log->append(b, leader_epoch(1), 1000));
  b = make_batch(1, 10);
  REQUIRE(log->append(b, leader_epoch(1), 1200));
  CHECK(log->segment_count() == 1);
  b = make_batch(1, 10);
  REQUIRE(log->append(b, leader_epoch(1), 1000 + 600));
  CHECK(log->segment_count() == 2);
}

TEST_CASE("reopen restores offsets, epochs and data, with or without a clean close") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 3000;
  std::vector<uint8_t> before;
  {
    auto log = open_log(t.path, cfg);
    for (int i = 0; i < 7; ++i) {
      auto b = make_batch(3, 900 + i, 1000 + i);
      REQUIRE(log->append(b, leader_epoch(i / 3), 1000));
    }
    REQUIRE(log->sync_now());
    before = log->read(offset(0), 1 << 20, offset(1000))->data;
    // no close(): like a crash after fsync
  }
  for (bool verify : {true, false}) {
    cfg.verify_on_start = verify;
    auto log = open_log(t.path, cfg);
    CHECK(log->recovery().problems.empty());
    CHECK(log->end_offset() == offset(21));
    CHECK(log->last_epoch() == leader_epoch(2));
    CHECK(log->read(offset(0), 1 << 20, offset(1000))->data == before);
    auto b = make_batch(1, 10);
    auto r = log->append(b, leader_epoch(5), 1000);
    CHECK(r->base == offset(21));
    REQUIRE(log->truncate_suffix(offset(21)));
    REQUIRE(log->close());
  }
}

TEST_CASE("a torn tail in the last segment is cut and reported; appends continue after it") {
  temp_dir t;
  {
    auto log = open_log(t.path);
    for (int i = 0; i < 3; ++i) {
      auto b = make_batch(2, 100);
      REQUIRE(log->append(b, leader_epoch(1), 1000));
    }
    REQUIRE(log->close());
  }
  auto seg = files_with(t.path, ".log").at(0);
  auto full = fs::file_size(seg);
  // A crash mid-append: half of a fourth batch reached the disk.
  {
    auto half = make_batch(2, 100);
    store_be64(half.data(), 6);
    std::ofstream out(seg, std::ios::binary | std::ios::app);
    out.write(reinterpret_cast<const char*>(half.data()), 80);
  }
  auto log = open_log(t.path);
  CHECK(log->end_offset() == offset(6));
  CHECK(log->recovery().bytes_cut == 80);
  REQUIRE(log->recovery().problems.size() == 1);
  CHECK(log->recovery().problems[0].find("truncated batch") != std::string::npos);
  CHECK(fs::file_size(seg) == full);
  auto b = make_batch(1, 10);
  CHECK(log->append(b, leader_epoch(2), 1000)->base == offset(6));
  CHECK(headers_of(log->read(offset(0), 1 << 20, offset(100))->data).size() == 4);
}

TEST_CASE("a CRC mismatch in the last segment cuts the log at that batch") {
  temp_dir t;
  {
    auto log = open_log(t.path);
    for (int i = 0; i < 4; ++i) {
      auto b = make_batch(1, 100);
      REQUIRE(log->append(b, leader_epoch(1), 1000));
    }
  }
  auto seg = files_with(t.path, ".log").at(0);
  {
    // Flip a payload byte of the third batch.
    std::fstream f(seg, std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(2 * 161 + 100);
    f.put('\x00');
  }
  auto log = open_log(t.path);
  CHECK(log->end_offset() == offset(2));
  CHECK(log->recovery().bytes_cut == 2 * 161);
  CHECK(log->recovery().problems.at(0).find("CRC mismatch in batch at position 322") != std::string::npos);
}

TEST_CASE("a damaged closed segment is left as is; its valid prefix and later segments are served") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 700;  // 4 batches of 161 bytes per segment
  {
    auto log = open_log(t.path, cfg);
    for (int i = 0; i < 12; ++i) {
      auto b = make_batch(1, 100);
      REQUIRE(log->append(b, leader_epoch(1), 1000));
    }
    REQUIRE(log->close());
  }
  auto segs = files_with(t.path, ".log");
  REQUIRE(segs.size() == 3);
  {
    std::fstream f(segs[1], std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(161 + 120);  // inside the second batch of the middle segment (offset 5)
    f.put('\x01');
  }
  auto size_before = fs::file_size(segs[1]);
  auto log = open_log(t.path, cfg);
  REQUIRE(log->recovery().problems.size() == 1);
  CHECK(log->recovery().problems[0].find(segs[1].filename().string()) != std::string::npos);
  CHECK(log->recovery().problems[0].find("CRC mismatch") != std::string::npos);
  CHECK(fs::file_size(segs[1]) == size_before);  // not modified
  CHECK(log->end_offset() == offset(12));
  auto all = log->read(offset(0), 1 << 20, offset(100));
  std::vector<int64_t> bases;
  for (const auto& h : headers_of(all->data)) bases.push_back(h.base_offset);
  CHECK(bases == std::vector<int64_t>{0, 1, 2, 3, 4, 8, 9, 10, 11});
  // A read starting inside the damaged range continues at the next intact batch.
  auto gap = log->read(offset(6), 1 << 20, offset(100));
  CHECK(headers_of(gap->data).at(0).base_offset == 8);
}

TEST_CASE("truncate_suffix cuts at batch boundaries, across segments, and appends continue") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 700;
  auto log = open_log(t.path, cfg);
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(2, 100);
    REQUIRE(log->append(b, leader_epoch(1), 1000));
  }
  CHECK(log->end_offset() == offset(20));
  CHECK(log->truncate_suffix(offset(13)).error() == errc::not_batch_boundary);
  CHECK(log->truncate_suffix(offset(21)).error() == errc::offset_out_of_range);
  REQUIRE(log->truncate_suffix(offset(20)));  // no-op
  REQUIRE(log->truncate_suffix(offset(6)));
  CHECK(log->end_offset() == offset(6));
  CHECK(log->segment_count() == 1);
  CHECK(files_with(t.path, ".log").size() == 1);
  auto b = make_batch(1, 100);
  CHECK(log->append(b, leader_epoch(2), 1000)->base == offset(6));
  CHECK(log->last_epoch() == leader_epoch(2));
  REQUIRE(log->truncate_suffix(offset(0)));
  CHECK(log->end_offset() == offset(0));
  CHECK(log->last_epoch() == leader_epoch(-1));
  // Reopen: the cut is durable.
  log.reset();
  auto again = open_log(t.path, cfg);
  CHECK(again->end_offset() == offset(0));
}

TEST_CASE("offset for timestamp") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 500;
  cfg.index_interval_bytes = 1;  // an index entry per batch
  auto log = open_log(t.path, cfg);
  for (int i = 0; i < 8; ++i) {
    auto b = make_batch(2, 100, 5000 + i * 10);
    REQUIRE(log->append(b, leader_epoch(1), 1000));
  }
  CHECK(*log->offset_for_timestamp(0) == offset(0));
  CHECK(*log->offset_for_timestamp(5000) == offset(0));
  CHECK(*log->offset_for_timestamp(5001) == offset(2));
  CHECK(*log->offset_for_timestamp(5035) == offset(8));
  CHECK(*log->offset_for_timestamp(5070) == offset(14));
  CHECK_FALSE(log->offset_for_timestamp(5071)->has_value());
}

TEST_CASE("retention by size and age deletes whole segments and moves the start offset") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 400;  // 2 batches of 161 per segment
  cfg.retention_bytes = 700;
  cfg.retention_ms = -1;
  auto log = open_log(t.path, cfg);
  for (int i = 0; i < 10; ++i) {
    auto b = make_batch(1, 100, 1000 + i);
    REQUIRE(log->append(b, leader_epoch(1), 1000));
  }
  CHECK(log->segment_count() == 5);
  // Nothing below the keep_from point may go.
  CHECK(*log->apply_retention(2000, offset(0)) == 0);
  CHECK(*log->apply_retention(2000, offset(10)) == 3);
  CHECK(log->start_offset() == offset(6));
  CHECK(log->size_bytes() <= 700);
  CHECK(log->read(offset(5), 100, offset(100)).error() == errc::offset_out_of_range);
  CHECK(files_with(t.path, ".log").size() == 2);

  cfg.retention_bytes = -1;
  cfg.retention_ms = 100;
  log.reset();
  log = open_log(t.path, cfg);
  CHECK(log->start_offset() == offset(6));
  // Segment [6,8) has max timestamp 1007; [8,10) is active and is never deleted.
  CHECK(*log->apply_retention(1107, offset(100)) == 0);
  CHECK(*log->apply_retention(1108, offset(100)) == 1);
  CHECK(log->start_offset() == offset(8));
}

TEST_CASE("sync jobs advance the durable offset unless a truncation intervened") {
  temp_dir t;
  auto log = open_log(t.path);
  CHECK(log->durable_offset() == offset(0));
  auto b = make_batch(4, 10);
  REQUIRE(log->append(b, leader_epoch(1), 1000));
  CHECK(log->has_unsynced_data());
  auto job = log->prepare_sync();
  b = make_batch(1, 10);
  REQUIRE(log->append(b, leader_epoch(1), 1000));  // appended while the sync runs
  REQUIRE(partition_log::run_sync(job));
  log->complete_sync(job);
  CHECK(log->durable_offset() == offset(4));
  auto job2 = log->prepare_sync();
  REQUIRE(log->truncate_suffix(offset(4)));
  b = make_batch(3, 10);
  REQUIRE(log->append(b, leader_epoch(2), 1000));
  REQUIRE(partition_log::run_sync(job2));
  log->complete_sync(job2);
  CHECK(log->durable_offset() == offset(4));  // job2 claimed offset 5, which no longer exists as synced
  REQUIRE(log->sync_now());
  CHECK(log->durable_offset() == offset(7));
  CHECK_FALSE(log->has_unsynced_data());
}

TEST_CASE("index files: written on close, rebuilt when missing or damaged") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 2000;
  cfg.index_interval_bytes = 300;
  cfg.verify_on_start = false;
  std::vector<uint8_t> expected;
  {
    auto log = open_log(t.path, cfg);
    for (int i = 0; i < 30; ++i) {
      auto b = make_batch(1 + i % 3, 100 + i, 2000 + i);
      REQUIRE(log->append(b, leader_epoch(1), 1000));
    }
    expected = log->read(offset(0), 1 << 20, offset(1000))->data;
    REQUIRE(log->close());
  }
  auto idx = files_with(t.path, ".index");
  REQUIRE(idx.size() >= 3);
  fs::remove(idx[0]);
  {
    std::ofstream f(idx[1], std::ios::binary | std::ios::trunc);
    f << "garbage!";  // 8 bytes: one entry pointing nowhere sensible
  }
  auto log = open_log(t.path, cfg);
  CHECK(log->recovery().problems.empty());
  CHECK(log->read(offset(0), 1 << 20, offset(1000))->data == expected);
  // Every offset is found through the (rebuilt) indexes.
  for (int64_t o = 0; o < log->end_offset().value; ++o) {
    auto r = log->read(offset(o), 1, offset(1000));
    REQUIRE(r);
    auto h = headers_of(r->data).at(0);
    CHECK(h.base_offset <= o);
    CHECK(h.last_offset() >= o);
  }
}

TEST_CASE("append_exact keeps a leader's offsets and rejects going backwards") {
  temp_dir t;
  auto log = open_log(t.path);
  auto b = make_batch(2, 10);
  store_be64(b.data(), 0);
  REQUIRE(log->append_exact(b, 1000));
  CHECK(log->end_offset() == offset(2));
  auto back = make_batch(1, 10);
  store_be64(back.data(), 1);
  CHECK(log->append_exact(back, 1000).error() == errc::offset_out_of_range);
  auto bad = make_batch(1, 10);
  bad[16] = 1;  // magic 1
  CHECK(log->append_exact(bad, 1000).error() == errc::corrupt_batch);
  auto wrong_len = make_batch(1, 10);
  wrong_len.push_back(0);
  CHECK(log->append(wrong_len, leader_epoch(1), 1000).error() == errc::bad_batch);
}

TEST_CASE("random appends, truncations and reopenings agree with a model") {
  temp_dir t;
  log_config cfg;
  cfg.segment_bytes = 1500;
  cfg.index_interval_bytes = 200;
  std::mt19937 rng(1234);
  std::vector<std::pair<int64_t, int>> model;  // (base offset, record count)
  auto log = open_log(t.path, cfg);
  int64_t end = 0;
  for (int step = 0; step < 400; ++step) {
    int op = static_cast<int>(rng() % 10);
    if (op < 7) {
      int n = 1 + static_cast<int>(rng() % 5);
      auto b = make_batch(n, 20 + rng() % 300, step);
      auto r = log->append(b, leader_epoch(step), 1000);
      REQUIRE(r);
      CHECK(r->base == offset(end));
      model.emplace_back(end, n);
      end += n;
    } else if (op < 9 && !model.empty()) {
      size_t keep = rng() % model.size();
      REQUIRE(log->truncate_suffix(offset(model[keep].first)));
      end = model[keep].first;
      model.resize(keep);
    } else {
      log.reset();
      log = open_log(t.path, cfg);
      CHECK(log->recovery().problems.empty());
    }
    CHECK(log->end_offset() == offset(end));
  }
  auto all = log->read(offset(0), 1 << 24, offset(1 << 30));
  auto hs = headers_of(all->data);
  REQUIRE(hs.size() == model.size());
  for (size_t i = 0; i < hs.size(); ++i) {
    CHECK(hs[i].base_offset == model[i].first);
    CHECK(hs[i].last_offset_delta == model[i].second - 1);
  }
}
