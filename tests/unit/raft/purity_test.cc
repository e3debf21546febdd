// STYLE.md §1: the Raft core does no I/O, reads no clock, starts no thread and uses no unseeded
// randomness. A grep over its sources keeps it that way.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

TEST_CASE("cluster/raft includes and calls nothing impure") {
  const std::vector<std::string> forbidden = {
      "<uv.h>",     "sqlite3",  "rdkafka",       "<chrono>",     "<thread>",     "<mutex>",
      "<atomic>",   "<random>", "<ctime>",       "<fstream>",    "<iostream>",   "<cstdio>",
      "<unistd.h>", "<sys/",    "random_device", "common/log.h", "std::rand",    "time(nullptr)",
      "getenv",     "fopen",    "steady_clock",  "system_clock", "<filesystem>", "printf(",
  };
  std::filesystem::path dir = std::filesystem::path(TRIB_SOURCE_DIR) / "cluster" / "raft";
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    auto ext = f.path().extension();
    if (ext != ".h" && ext != ".cc") continue;
    ++files;
    std::ifstream in(f.path());
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    for (const auto& word : forbidden) {
      INFO(f.path().filename().string() << " contains " << word);
      CHECK(text.find(word) == std::string::npos);
    }
  }
  CHECK(files >= 10);
}

TEST_CASE("trib_raft links only trib_base") {
  std::ifstream in(std::filesystem::path(TRIB_SOURCE_DIR) / "cluster" / "raft" / "CMakeLists.txt");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  CHECK(text.find("target_link_libraries(trib_raft PUBLIC trib_base)") != std::string::npos);
  for (const char* lib : {"uv", "sqlite", "rdkafka", "Paho"}) {
    INFO(lib);
    CHECK(text.find(std::string("PkgConfig::") + lib) == std::string::npos);
  }
}
