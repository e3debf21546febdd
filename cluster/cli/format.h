#pragma once
// How `tributary consume` prints a record: the --format mini-language and the --json line. Pure.
//
// --format directives:  %t topic   %p partition   %o offset   %T timestamp (ms since the epoch, -1 if
// none)   %k key   %v value   %K key size   %V value size (-1 when null)   %h headers (k=v,k=v; a null
// value prints as k)   %% a percent sign.   Escapes: \n \t \r \\.  Each record ends with a newline.
// A null key or value prints as nothing.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace tributary::cluster::cli {

inline constexpr const char* k_format_default = "%v";
inline constexpr size_t k_format_bytes_max = 4096;

struct header_view {
  std::string_view key;
  std::optional<std::string_view> value;
};

// One consumed record, viewed in the client's buffers.
struct record_view {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<int64_t> timestamp_ms;
  std::string_view timestamp_type;  // "create_time", "log_append_time" or ""
  std::optional<std::string_view> key;
  std::optional<std::string_view> value;
  std::vector<header_view> headers;
};

enum class format_field {
  literal,
  topic,
  partition,
  offset,
  timestamp,
  key,
  value,
  key_size,
  value_size,
  headers
};

struct format_token {
  format_field field = format_field::literal;
  std::string literal;  // for format_field::literal
  bool operator==(const format_token&) const = default;
};

struct record_format {
  std::vector<format_token> tokens;
};

// Compiles a --format string; errc::bad_format for an unknown directive or escape, a lone '%' or '\'
// at the end, or a string over k_format_bytes_max.
result<record_format> parse_format(std::string_view text);

// Appends the record as `format` says, then a newline.
void render_record(const record_format& format, const record_view& record, std::string& out);

// One JSON object, without a newline: topic, partition, offset, timestamp (null if none),
// timestamp_type, key, value, headers [{key, value}]. A key or value that is not valid UTF-8 is
// given as key_base64/value_base64 instead (likewise a header's value_base64); null stays null.
std::string record_json(const record_view& record);

bool is_valid_utf8(std::string_view text) noexcept;
std::string base64_encode(std::string_view bytes);

}  // namespace tributary::cluster::cli
