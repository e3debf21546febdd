#include "cluster/broker/topic_table.h"
#include "tests/unit/temp_dir.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>

using namespace tributary;
using namespace tributary::cluster::broker;
namespace fs = std::filesystem;

namespace {
struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-topics-test") {}
};

}  // namespace

TEST_CASE("topic names follow Kafka's rules") {
  CHECK(topic_table::validate_name("telemetry.site-1_a"));
  CHECK(topic_table::validate_name(std::string(249, 'a')));
  CHECK(topic_table::validate_name(std::string(250, 'a')).error() == topic_errc::invalid_name);
  CHECK(topic_table::validate_name("").error() == topic_errc::invalid_name);
  CHECK(topic_table::validate_name(".").error() == topic_errc::invalid_name);
  CHECK(topic_table::validate_name("..").error() == topic_errc::invalid_name);
  CHECK(topic_table::validate_name("a/b").error() == topic_errc::invalid_name);
  CHECK(topic_table::validate_name("a b").error() == topic_errc::invalid_name);
}

TEST_CASE("topic configs parse by Kafka name and reject bad values") {
  topic_config c;
  CHECK(c.set("retention.ms", "1000"));
  CHECK(c.set("retention.bytes", "-1"));
  CHECK(c.set("message.timestamp.type", "LogAppendTime"));
  CHECK(c.set("cleanup.policy", "delete"));
  CHECK(c.set("retention.ms", "soon").error() == topic_errc::invalid_config);
  CHECK(c.set("retention.ms", "-2").error() == topic_errc::invalid_config);
  CHECK(c.set("segment.bytes", "10").error() == topic_errc::invalid_config);
  CHECK(c.set("segment.bytes", "60").error() == topic_errc::invalid_config);  // below a batch header
  CHECK(c.set("segment.bytes", "1023").error() == topic_errc::invalid_config);
  CHECK(c.set("segment.bytes", "1024"));
  CHECK(c.set("message.timestamp.type", "Now").error() == topic_errc::invalid_config);
  CHECK(c.set("cleanup.policy", "compact").error() == topic_errc::invalid_config);
  CHECK(c.set("no.such.config", "1").error() == topic_errc::invalid_config);
  CHECK(*c.retention_ms == 1000);
  CHECK(*c.log_append_time);
}

TEST_CASE("topics persist across reopen; create and remove are checked") {
  temp_dir t;
  {
    auto table = topic_table::open(t.path);
    REQUIRE(table);
    topic_config c;
    REQUIRE(c.set("retention.ms", "60000"));
    auto created = table->create("telemetry", 6, c, 123, std::string(32, 'a'));
    REQUIRE(created);
    CHECK((*created)->partitions == 6);
    CHECK(table->create("telemetry", 1, {}, 0, "").error() == topic_errc::already_exists);
    CHECK(table->create("bad name", 1, {}, 0, "").error() == topic_errc::invalid_name);
    CHECK(table->create("zero", 0, {}, 0, "").error() == topic_errc::invalid_partitions);
    CHECK(table->create("many", 10001, {}, 0, "").error() == topic_errc::invalid_partitions);
    REQUIRE(table->create("alarms", 1, {}, 0, std::string(32, 'b')));
    REQUIRE(table->remove("alarms"));
    CHECK(table->remove("alarms").error() == topic_errc::unknown_topic);
  }
  auto table = topic_table::open(t.path);
  REQUIRE(table);
  REQUIRE(table->all().size() == 1);
  const auto* info = table->find("telemetry");
  REQUIRE(info);
  CHECK(info->partitions == 6);
  CHECK(info->created_ms == 123);
  CHECK(*info->config.retention_ms == 60000);
  CHECK(info->topic_id == std::string(32, 'a'));
  CHECK(table->find("alarms") == nullptr);
}

TEST_CASE("a malformed topics.json is an error, not a crash") {
  temp_dir t;
  for (const char* text :
       {"{", "[]", R"({"topics":{"x":{"partitions":"many"}}})", R"({"topics":{"bad name":{"partitions":1}}})",
        R"({"topics":{"x":{"partitions":0}}})",
        R"({"topics":{"x":{"partitions":1,"configs":{"retention.ms":"x"}}}})"}) {
    std::ofstream(t.path / "topics.json") << text;
    auto table = topic_table::open(t.path);
    REQUIRE_FALSE(table);
    bool expected = table.error() == topic_errc::bad_file || table.error() == topic_errc::invalid_name;
    CHECK(expected);
  }
}

TEST_CASE("a failed save leaves the table unchanged") {
  temp_dir t;
  auto table = topic_table::open(t.path / "missing-dir");
  REQUIRE(table);
  CHECK(table->create("x", 1, {}, 0, "").error() == topic_errc::io_error);
  CHECK(table->find("x") == nullptr);
}
