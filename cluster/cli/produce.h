#pragma once
// `tributary produce TOPIC`: records from stdin or --file (one per line, optional key separator) or
// generated (--count N --size B), every delivery report awaited, a summary printed. The request,
// its checks, the line splitting, the generated payloads and the summary are pure and unit-tested.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

inline constexpr size_t k_record_bytes_max = 16 * 1024 * 1024;  // an input line or a generated payload
inline constexpr int64_t k_generated_records_max = 1'000'000'000;
inline constexpr size_t k_generated_size_default = 100;
inline constexpr size_t k_headers_max = 64;       // --header, per record
inline constexpr size_t k_error_kinds_max = 8;    // distinct delivery errors reported
inline constexpr int k_queue_full_wait_ms = 100;  // between retries while librdkafka's queue is full
inline constexpr int k_flush_grace_ms = 2'000;    // waited for reports beyond message.timeout.ms

struct produce_request {
  std::string topic;
  std::optional<std::string> key;            // every record's key (the fallback with -K)
  int32_t partition = -1;                    // -1: librdkafka's partitioner chooses
  std::vector<property> headers;             // --header k=v, on every record
  std::optional<std::string> acks;           // "all", "-1", "1", "0"; unset: librdkafka's default (all)
  bool idempotent = false;                   // enable.idempotence
  std::optional<std::string> file;           // read records from this file instead of stdin
  std::optional<std::string> key_separator;  // -K: a line is KEY SEP VALUE
  std::optional<int64_t> count;              // generate this many records instead of reading
  size_t size = k_generated_size_default;    // bytes of each generated value
};

// Rules across options (CLI11 checks each option alone): --idempotent needs acks all; --size only with
// --count, --file and -K only without; limits. "" when the request can run, else the problem.
std::string check_produce_request(const produce_request& request);

// The librdkafka properties the request's flags set (acks, enable.idempotence).
std::vector<property> producer_properties(const produce_request& request);

struct line_record {
  std::optional<std::string_view> key;
  std::string_view value;
};
// Splits one input line (without its newline) at the first `separator`; a line without it is all
// value, keyed by `fallback_key`.
line_record split_line(std::string_view line, const std::optional<std::string>& separator,
                       const std::optional<std::string>& fallback_key);

// The value of generated record `index`: its decimal index, a space, then "abcd...z" repeated, cut to
// `size` bytes.
std::string generated_payload(int64_t index, size_t size);

struct produce_summary {
  struct error_count {
    std::string name;     // RD_KAFKA error name, e.g. "MSG_TIMED_OUT"
    std::string message;  // the first report's text
    int64_t count = 0;
  };
  struct partition_range {
    int32_t partition = 0;
    int64_t records = 0;
    int64_t first_offset = -1;
    int64_t last_offset = -1;
  };
  std::string topic;
  int64_t records = 0;  // submitted
  int64_t bytes = 0;    // key + value bytes submitted
  int64_t delivered = 0;
  int64_t failed = 0;  // reported failed, refused at submission, or never reported
  std::vector<error_count> errors;
  std::vector<partition_range> partitions;  // those that received records, by partition
  bool interrupted = false;
};

std::string render_produce_summary(const produce_summary& summary, bool json);

// Adds `produce` to `root`, binding its options to `parsed`.
void bind_produce_command(CLI::App& root, std::shared_ptr<produce_request> parsed, command_fn& chosen);
void add_produce_command(CLI::App& root, command_fn& chosen);

}  // namespace tributary::cluster::cli
