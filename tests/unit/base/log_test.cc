#include "common/log.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace tributary;

namespace {
std::vector<std::string> g_lines;
void capture(std::string_view line) { g_lines.emplace_back(line); }
}  // namespace

TEST_CASE("log lines are key=value with quoting") {
  auto line = log::format_line(log::level::warn, "broker", "bind failed",
                               {{"addr", "127.0.0.1:9092"}, {"errno", 98}, {"msg", "say \"hi\"\n"}});
  CHECK(line.starts_with("ts="));
  CHECK(line.find(" level=warn component=broker event=\"bind failed\" addr=127.0.0.1:9092 errno=98") !=
        std::string::npos);
  CHECK(line.find(R"(msg="say \"hi\"\n")") != std::string::npos);
  CHECK(line.ends_with("\n"));
  CHECK(std::count(line.begin(), line.end(), '\n') == 1);
}

TEST_CASE("levels filter and parse") {
  g_lines.clear();
  log::set_sink(capture);
  log::set_level(log::level::warn);
  TRIB_LOG_INFO("t", "hidden", {"k", 1});
  TRIB_LOG_ERROR("t", "shown", {"k", 2});
  log::set_level(log::level::info);
  log::set_sink(nullptr);
  REQUIRE(g_lines.size() == 1);
  CHECK(g_lines[0].find("event=shown k=2") != std::string::npos);
  CHECK(log::parse_level("debug") == log::level::debug);
  CHECK_FALSE(log::parse_level("verbose"));
}
