// The gateway MQTT tests log expected errors; they are silenced unless TRIB_TEST_LOG=<level> is set.
#include <doctest/doctest.h>

#include <cstdlib>

#include "common/log.h"

int main(int argc, char** argv) {
  using namespace tributary;
  const char* level = std::getenv("TRIB_TEST_LOG");
  auto parsed = level ? log::parse_level(level) : std::nullopt;
  log::set_level(parsed.value_or(log::level::off));
  doctest::Context context(argc, argv);
  return context.run();
}
