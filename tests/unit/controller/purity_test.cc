// STYLE.md §1: the controller's state machine and the RPC frame codec are pure cores like the Raft
// core: no I/O, no clock, no threads, no unseeded randomness. A grep over their sources.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

TEST_CASE("cluster/controller and the RPC codec include and call nothing impure") {
  const std::vector<std::string> forbidden = {
      "<uv.h>",        "sqlite3",      "rdkafka",   "<chrono>",      "<thread>", "<mutex>",    "<atomic>",
      "<random>",      "<ctime>",      "<fstream>", "<iostream>",    "<cstdio>", "<unistd.h>", "<sys/",
      "random_device", "common/log.h", "std::rand", "time(nullptr)", "getenv",   "fopen",      "steady_clock",
      "system_clock",  "<filesystem>", "printf(",   "common/uv/",
  };
  const std::filesystem::path root(TRIB_SOURCE_DIR);
  // The cores; their adapters (controller/service.*, rpc/transport.*) are the ones that do I/O.
  const std::vector<std::filesystem::path> files = {
      root / "cluster/rpc/protocol.h", root / "cluster/rpc/protocol.cc",
      root / "cluster/controller/metadata.h", root / "cluster/controller/metadata.cc"};
  for (const auto& path : files) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    for (const auto& word : forbidden) {
      INFO(path.filename().string() << " contains " << word);
      CHECK(text.find(word) == std::string::npos);
    }
  }
}
