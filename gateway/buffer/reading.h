#pragma once
// A reading as the buffer stores it: one row of the `readings` table.
//
// Headers column encoding (version 1), NULL when a reading has no headers:
//   u8       version = 1
//   uvarint  count
//   count x { uvarint key_length, key bytes (UTF-8, not null),
//             varint  value_length (zigzag; -1 = null value), value bytes }
// Decoding is bounds-checked (common/bytes.h); a blob that does not decode, or that carries bytes
// after the last header, is corrupt.
//
// A reading carries its headers either as a list (`headers`) or already in this encoding
// (`headers_encoded`, built by encode_headers from views, as the MQTT side does: one buffer per
// reading instead of an allocation per key and value, and nothing left to encode on the worker).
// At most one of the two is non-empty; readings read back from the store always have the list.
//
// Accounting: the quota counts accounted_bytes() per row: topic + key + encoded headers + payload +
// row_overhead_bytes (an estimate of what SQLite adds per row: record header, rowid, the two index
// entries and B-tree cell overhead). It is stored in the `size` column so a delete knows what it
// frees without decoding the row.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "common/strong_type.h"

namespace tributary::gateway::buffer {

// The gateway sequence: assigned by the buffer at commit, monotonic across restarts, never reused
// (not even after every row was deleted). The first is 1.
using gateway_seq = strong<int64_t, struct gateway_seq_tag>;

inline constexpr uint8_t headers_encoding_version = 1;
inline constexpr uint64_t row_overhead_bytes = 64;
// Kafka's own limit on a topic name.
inline constexpr size_t topic_bytes_max = 249;

struct header {
  std::string key;
  std::optional<std::vector<uint8_t>> value;  // Kafka header values may be null
  bool operator==(const header&) const = default;
};

struct reading {
  int64_t receive_ms = 0;                   // wall clock (Unix ms) when the gateway received it
  std::string topic;                        // target Kafka topic
  std::optional<std::vector<uint8_t>> key;  // Kafka record key; nullopt = null key
  std::vector<header> headers;
  std::vector<uint8_t> headers_encoded;  // the same, encoded (see above); empty when `headers` is used
  std::vector<uint8_t> payload;
  // Higher drains first. A route gives all its readings one priority, so all rows of one key share
  // it and their order is the seq order (see buffer_store::peek_batch).
  uint8_t priority = 0;
  std::optional<int64_t> expires_ms;  // Unix ms after which the reading is expired, not forwarded
  bool operator==(const reading&) const = default;
};

struct stored_reading {
  gateway_seq seq;
  uint64_t size = 0;  // accounted bytes
  reading r;
};

// A header by reference, for encoding without copies.
struct header_view {
  std::string_view key;
  std::optional<byte_span> value;  // nullopt = null value
};

// Encoded size of the headers column (0 when there are no headers: the column is NULL).
size_t encoded_headers_size(const std::vector<header>& headers);
size_t encoded_header_views_size(std::span<const header_view> headers);
// Appends the encoding to `out` (nothing when there are no headers).
void encode_headers(const std::vector<header>& headers, std::vector<uint8_t>& out);
void encode_header_views(std::span<const header_view> headers, std::vector<uint8_t>& out);
// Decodes a headers column; an empty span (NULL column) is no headers. At most headers_count_max.
result<std::vector<header>> decode_headers(byte_span blob, size_t headers_count_max);
// Checks a headers column the way decode_headers does, without building anything: the header
// count, or corrupt.
result<size_t> count_encoded_headers(byte_span blob, size_t headers_count_max);
// The reading's headers column size, from whichever form it carries.
size_t headers_column_size(const reading& r);

uint64_t accounted_bytes(const reading& r);

}  // namespace tributary::gateway::buffer
