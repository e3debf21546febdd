#pragma once
// `tributary consume TOPIC`: assign-based (no consumer group): every partition, or --partition P, from
// --offset; stops after --count records, after --timeout-ms without a record (the global option: when
// given, it is also the idle limit), at the end of every partition with --eof, or on SIGINT/SIGTERM. The
// request, the offset syntax and the record output (format.h) are pure and unit-tested.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cluster/cli/common.h"
#include "cluster/cli/format.h"

namespace tributary::cluster::cli {

inline constexpr int k_consume_poll_ms = 100;  // one consumer poll; also the stop-check period
inline constexpr int64_t k_consume_count_max = INT64_MAX;
inline constexpr size_t k_output_buffer_bytes = 64 * 1024;  // written out when this full or idle

struct start_offset {
  enum class kind { beginning, end, absolute, from_end };
  kind where = kind::beginning;
  int64_t value = 0;  // the offset (absolute) or how many before the end (from_end)
  bool operator==(const start_offset&) const = default;
};

// "beginning", "end", "N" (N >= 0) or "-N" (N records before the end of each partition).
result<start_offset> parse_offset(std::string_view text);

struct consume_request {
  std::string topic;
  int32_t partition = -1;  // -1: every partition of the topic
  start_offset offset;     // default: beginning
  std::optional<int64_t> count;
  bool stop_at_end = false;  // --eof
  std::string format = k_format_default;
  record_format compiled;  // `format`, compiled when parsed
};

// Adds `consume` to `root`, binding its options to `parsed`.
void bind_consume_command(CLI::App& root, std::shared_ptr<consume_request> parsed, command_fn& chosen);
void add_consume_command(CLI::App& root, command_fn& chosen);

}  // namespace tributary::cluster::cli
