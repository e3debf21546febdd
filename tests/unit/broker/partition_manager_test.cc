#include "cluster/broker/partition_manager.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>

#include "common/kafka/record_batch.h"
#include "tests/unit/temp_dir.h"

using namespace tributary;
using namespace tributary::cluster::broker;
namespace fs = std::filesystem;

namespace {
struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-pm-test") {}
};

std::vector<uint8_t> batch(int n, int64_t pid = -1, int16_t epoch = -1, int32_t seq = -1, int64_t ts = 1000) {
  kafka::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  kafka::record_batch_builder b(o);
  std::string value = "reading";
  for (int i = 0; i < n; ++i) b.add({.timestamp_ms = ts + i, .key = std::nullopt, .value = as_bytes(value)});
  return *b.build();
}

std::unique_ptr<partition_manager> open_pm(const fs::path& dir) {
  auto pm = partition_manager::open(dir, {}, 1000);
  REQUIRE(pm.has_value());
  return std::move(*pm);
}
}  // namespace

TEST_CASE("topics and partitions are created, found, persisted and deleted") {
  temp_dir t;
  {
    auto pm = open_pm(t.path);
    REQUIRE(pm->create_topic("telemetry", 3, {}, 1000, std::string(32, '1')));
    CHECK(pm->create_topic("telemetry", 3, {}, 1000, "").error() == topic_errc::already_exists);
    CHECK(pm->find("telemetry", 0) != nullptr);
    CHECK(pm->find("telemetry", 2) != nullptr);
    CHECK(pm->find("telemetry", 3) == nullptr);
    CHECK(pm->find("telemetry", -1) == nullptr);
    CHECK(pm->find("nope", 0) == nullptr);
    CHECK(fs::is_directory(t.path / "telemetry-2"));
    auto b = batch(4);
    auto r = pm->append(*pm->find("telemetry", 1), b, 1000);
    REQUIRE(r);
    CHECK(r->base == cluster::storage::offset(0));
    CHECK(r->last == cluster::storage::offset(3));
    REQUIRE(pm->close());
  }
  {
    auto pm = open_pm(t.path);
    REQUIRE(pm->find("telemetry", 1));
    CHECK(pm->find("telemetry", 1)->log().end_offset() == cluster::storage::offset(4));
    CHECK(pm->all_partitions().size() == 3);
    REQUIRE(pm->delete_topic("telemetry"));
    CHECK(pm->delete_topic("telemetry").error() == topic_errc::unknown_topic);
    CHECK_FALSE(fs::exists(t.path / "telemetry-1"));
    // Re-creating the name starts empty.
    REQUIRE(pm->create_topic("telemetry", 2, {}, 1000, std::string(32, '2')));
    CHECK(pm->find("telemetry", 1)->log().end_offset() == cluster::storage::offset(0));
  }
}

TEST_CASE("the data directory is locked against a second broker") {
  temp_dir t;
  auto pm = open_pm(t.path);
  auto second = partition_manager::open(t.path, {}, 1000);
  CHECK_FALSE(second.has_value());
}

TEST_CASE("append rejects corrupt and oversized batches") {
  temp_dir t;
  auto pm = open_pm(t.path);
  topic_config small;
  REQUIRE(small.set("max.message.bytes", "200"));
  REQUIRE(pm->create_topic("t", 1, small, 1000, std::string(32, '3')));
  auto& p = *pm->find("t", 0);
  auto b = batch(2);
  b[b.size() - 1] ^= 0x01;  // breaks the CRC
  CHECK(pm->append(p, b, 1000).error() == append_errc::corrupt_message);
  auto big = batch(20);
  CHECK(pm->append(p, big, 1000).error() == append_errc::message_too_large);
  std::vector<uint8_t> junk(100, 7);
  CHECK(pm->append(p, junk, 1000).error() == append_errc::corrupt_message);
  CHECK(p.log().end_offset() == cluster::storage::offset(0));
}

TEST_CASE("idempotent produce: duplicates answered with the original offsets, across a restart") {
  temp_dir t;
  {
    auto pm = open_pm(t.path);
    REQUIRE(pm->create_topic("t", 1, {}, 1000, std::string(32, '4')));
    auto& p = *pm->find("t", 0);
    auto b0 = batch(3, 42, 0, 0);
    auto b1 = batch(3, 42, 0, 3);
    REQUIRE(pm->append(p, b0, 1000));
    REQUIRE(pm->append(p, b1, 1000));
    auto again = batch(3, 42, 0, 3);
    auto dup = pm->append(p, again, 1000);
    REQUIRE(dup);
    CHECK(dup->duplicate);
    CHECK(dup->base == cluster::storage::offset(3));
    auto gap = batch(1, 42, 0, 9);
    CHECK(pm->append(p, gap, 1000).error() == append_errc::out_of_order);
    CHECK(p.log().end_offset() == cluster::storage::offset(6));
    REQUIRE(pm->close());
  }
  auto pm = open_pm(t.path);
  auto& p = *pm->find("t", 0);
  // The producer state was rebuilt from the log: the resend is still recognised.
  auto again = batch(3, 42, 0, 3);
  auto dup = pm->append(p, again, 1000);
  REQUIRE(dup);
  CHECK(dup->duplicate);
  auto next = batch(2, 42, 0, 6);
  auto r = pm->append(p, next, 1000);
  REQUIRE(r);
  CHECK_FALSE(r->duplicate);
  CHECK(r->base == cluster::storage::offset(6));
  auto fenced = batch(1, 42, 1, 0);
  REQUIRE(pm->append(p, fenced, 1000));  // a new epoch restarts at 0
  auto stale = batch(1, 42, 0, 8);
  CHECK(pm->append(p, stale, 1000).error() == append_errc::fenced_epoch);
}

TEST_CASE("LogAppendTime topics stamp the broker's time and keep a valid CRC") {
  temp_dir t;
  auto pm = open_pm(t.path);
  topic_config c;
  REQUIRE(c.set("message.timestamp.type", "LogAppendTime"));
  REQUIRE(pm->create_topic("t", 1, c, 1000, std::string(32, '5')));
  auto& p = *pm->find("t", 0);
  auto b = batch(2, -1, -1, -1, 5);
  auto r = pm->append(p, b, 777777);
  REQUIRE(r);
  CHECK(r->log_append_time_ms == 777777);
  REQUIRE(p.log().sync_now());
  auto stored = p.log().read(cluster::storage::offset(0), 1 << 20, p.high_watermark());
  REQUIRE(stored);
  auto view = kafka::record_batch_view::parse(stored->data);
  REQUIRE(view);
  CHECK(view->validate());
  CHECK(view->max_timestamp() == 777777);
}

TEST_CASE("producer ids are never reused across restarts") {
  temp_dir t;
  int64_t last = -1;
  {
    auto pm = open_pm(t.path);
    for (int i = 0; i < 5; ++i) {
      auto id = pm->next_producer_id();
      REQUIRE(id);
      CHECK(*id > last);
      last = *id;
    }
  }
  auto pm = open_pm(t.path);
  CHECK(*pm->next_producer_id() > last);
}

TEST_CASE("the high watermark is the durable offset") {
  temp_dir t;
  auto pm = open_pm(t.path);
  REQUIRE(pm->create_topic("t", 1, {}, 1000, std::string(32, '6')));
  auto& p = *pm->find("t", 0);
  auto b = batch(5);
  REQUIRE(pm->append(p, b, 1000));
  CHECK(p.high_watermark() == cluster::storage::offset(0));
  REQUIRE(p.log().sync_now());
  CHECK(p.high_watermark() == cluster::storage::offset(5));
}

TEST_CASE("the high watermark is the durable offset, or the log end with high_watermark_at_log_end") {
  temp_dir t;
  for (bool at_end : {false, true}) {
    log_defaults d;
    d.high_watermark_at_log_end = at_end;
    auto pm = partition_manager::open(t.path / (at_end ? "end" : "durable"), d, 1000);
    REQUIRE(pm);
    REQUIRE((*pm)->create_topic("t", 1, {}, 1000, std::string(32, '2')));
    partition& p = *(*pm)->find("t", 0);
    auto b = batch(3);
    REQUIRE((*pm)->append(p, b, 1000));
    CHECK(p.high_watermark().value == (at_end ? 3 : 0));
    REQUIRE(p.log().sync_now());
    CHECK(p.high_watermark().value == 3);
    REQUIRE((*pm)->close());
  }
}

TEST_CASE("a cluster node opens only the partitions it hosts, and again after a restart") {
  temp_dir t;
  {
    auto pm = partition_manager::open(t.path, log_defaults{}, 1000);
    REQUIRE(pm);
    auto created =
        (*pm)->create_topic("spread", 4, {}, 1000, std::string(32, 'c'), std::vector<int32_t>{1, 3});
    REQUIRE(created);
    CHECK((*created)->hosts(1));
    CHECK_FALSE((*created)->hosts(0));
    CHECK((*pm)->find("spread", 0) == nullptr);
    CHECK((*pm)->find("spread", 1) != nullptr);
    CHECK((*pm)->all_partitions().size() == 2);
    CHECK_FALSE(std::filesystem::exists(t.path / "spread-0"));
    CHECK(std::filesystem::exists(t.path / "spread-3"));
  }
  auto pm = partition_manager::open(t.path, log_defaults{}, 1000);
  REQUIRE(pm);
  const auto* info = (*pm)->topics().find("spread");
  REQUIRE(info);
  CHECK(info->partitions == 4);
  CHECK(*info->hosted == std::vector<int32_t>{1, 3});
  CHECK((*pm)->find("spread", 2) == nullptr);
  CHECK((*pm)->find("spread", 3) != nullptr);
  CHECK((*pm)->all_partitions().size() == 2);
}

TEST_CASE("a replica moves onto and off a node: log created or removed, recorded in the topic table") {
  temp_dir t;
  {
    auto pm = partition_manager::open(t.path, log_defaults{}, 1000);
    REQUIRE(pm);
    REQUIRE((*pm)->create_topic("moving", 3, {}, 1000, std::string(32, 'd'), std::vector<int32_t>{0}));
    auto added = (*pm)->add_replica("moving", 2, 1000);
    REQUIRE(added);
    CHECK((*pm)->find("moving", 2) == *added);
    CHECK((*added)->log().end_offset().value == 0);
    CHECK(std::filesystem::exists(t.path / "moving-2"));
    CHECK((*pm)->add_replica("moving", 2, 1000).value() == *added);  // already here: the same one
    CHECK_FALSE((*pm)->add_replica("moving", 3, 1000));              // no such partition
    CHECK_FALSE((*pm)->add_replica("nope", 0, 1000));
    REQUIRE((*pm)->remove_replica("moving", 0));
    CHECK((*pm)->find("moving", 0) == nullptr);
    CHECK_FALSE(std::filesystem::exists(t.path / "moving-0"));
  }
  auto pm = partition_manager::open(t.path, log_defaults{}, 1000);
  REQUIRE(pm);
  CHECK(*(*pm)->topics().find("moving")->hosted == std::vector<int32_t>{2});
  CHECK((*pm)->find("moving", 2) != nullptr);
  CHECK((*pm)->find("moving", 0) == nullptr);
}
