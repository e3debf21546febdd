// Fuzzes the config loader: arbitrary bytes as a config file's text, against a schema with nested
// sections and every kind of key. Properties: never crash; a failure always carries a message naming
// the file; a success prints an effective config that loads back to the same values; set() with the
// same bytes as a value never crashes either.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/assert.h"
#include "common/config.h"

namespace {

enum class mode { off, on, auto_ };

struct fuzz_config {
  std::string listen = "127.0.0.1:9644";
  bool enabled = true;
  uint64_t segment_bytes = 1 << 30;
  int64_t retention_ms = -1;
  uint16_t port = 9092;
  int8_t level = 0;
  uint8_t small = 1;
  int32_t delta = 0;
  double ratio = 0.5;
  double scale = 1;
  std::vector<std::string> peers;
  mode compaction = mode::off;
};

void declare(tributary::config::schema& s, fuzz_config& c) {
  s.add("http.listen", c.listen, "Listen address.");
  s.add("http.enabled", c.enabled, "Serve HTTP.");
  s.add("storage.segment_bytes", c.segment_bytes, "Segment size.", {.min = 1024, .max = uint64_t{1} << 40});
  s.add("storage.retention_ms", c.retention_ms, "Retention.", {.min = -1});
  s.add("storage.deep.nested.port", c.port, "A deeply nested key.", {.min = 1});
  s.add("storage.deep.level", c.level, "Signed byte.", {.min = -10, .max = 10});
  s.add("small", c.small, "Unsigned byte.");
  s.add("delta", c.delta, "Signed 32-bit.");
  s.add("ratio", c.ratio, "Fraction.", {.min = 0, .max = 1});
  s.add("scale", c.scale, "Any number.");
  s.add("peers", c.peers, "Peers.");
  s.add_enum("storage.compaction", c.compaction,
             {{"off", mode::off}, {"on", mode::on}, {"auto", mode::auto_}}, "Compaction.");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz_config c;
  tributary::config::schema s;
  declare(s, c);

  auto r = s.load_string(text, "fuzz.json");
  if (!r) {
    TRIB_ASSERT(r.error().code.category().name() == std::string_view("config"));
    TRIB_ASSERT(r.error().message.starts_with("fuzz.json"), r.error().message);
  } else {
    // What --print-config prints loads back unchanged.
    std::string printed = s.effective_json().dump(2);
    fuzz_config again;
    tributary::config::schema s2;
    declare(s2, again);
    auto back = s2.load_string(printed, "printed.json");
    TRIB_ASSERT(back.has_value(), back ? std::string() : back.error().message);
    TRIB_ASSERT(s2.effective_json() == s.effective_json());
    (void)s.describe();
  }

  // The same bytes (cut short) as a command-line value for every key.
  std::string_view value = text.substr(0, 256);
  for (const auto& path : s.paths()) {
    auto set = s.set(path, value, "--set");
    TRIB_ASSERT(set || set.error().message.starts_with("--set: key"), set.error().message);
  }
  (void)s.set_assignment(value);
  return 0;
}
