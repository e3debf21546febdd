#pragma once
// Helpers shared by the record tests and kafka_record_emit: reading the fixtures written by
// make_fixtures.py and rebuilding their contents with our builder.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/kafka/record_batch.h"

namespace tributary::kafka::test {

using json = nlohmann::json;
using bytes_vec = std::vector<uint8_t>;

inline bytes_vec read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return bytes_vec((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::filesystem::path& p, byte_span data) {
  std::ofstream out(p, std::ios::binary);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return json::parse(in);
}

inline bytes_vec from_hex(const std::string& h) {
  if (h.size() % 2 != 0) throw std::runtime_error("odd hex length");
  bytes_vec out;
  for (size_t i = 0; i < h.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(h.substr(i, 2), nullptr, 16)));
  return out;
}

inline std::optional<bytes_vec> hex_opt(const json& j) {
  if (j.is_null()) return std::nullopt;
  return from_hex(j.get<std::string>());
}

// A record with its own storage (what the fixtures describe).
struct owned_record {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<bytes_vec> key;
  std::optional<bytes_vec> value;
  std::vector<std::pair<std::string, std::optional<bytes_vec>>> headers;
  bool operator==(const owned_record&) const = default;
};

inline std::vector<owned_record> records_from_json(const json& records) {
  std::vector<owned_record> out;
  for (const json& r : records) {
    owned_record o;
    o.offset = r.at("offset").get<int64_t>();
    o.timestamp = r.at("timestamp").get<int64_t>();
    o.key = hex_opt(r.at("key"));
    o.value = hex_opt(r.at("value"));
    for (const json& h : r.at("headers"))
      o.headers.emplace_back(h.at(0).get<std::string>(), hex_opt(h.at(1)));
    out.push_back(std::move(o));
  }
  return out;
}

inline std::optional<bytes_vec> copy_opt(const std::optional<byte_span>& s) {
  if (!s) return std::nullopt;
  return bytes_vec(s->begin(), s->end());
}

inline owned_record to_owned(const record_view& r) {
  owned_record o;
  o.offset = r.offset();
  o.timestamp = r.timestamp();
  o.key = copy_opt(r.key());
  o.value = copy_opt(r.value());
  for (const record_header& h : r.headers()) o.headers.emplace_back(std::string(h.key), copy_opt(h.value));
  return o;
}

inline std::optional<byte_span> span_opt(const std::optional<bytes_vec>& v) {
  if (!v) return std::nullopt;
  return byte_span(*v);
}

// Adds owned records to a builder (offset deltas relative to base_offset).
inline void add_records(record_batch_builder& b, const std::vector<owned_record>& records,
                        int64_t base_offset) {
  for (const owned_record& r : records) {
    std::vector<header_input> headers;
    for (const auto& [k, v] : r.headers) headers.push_back({k, span_opt(v)});
    b.add({.timestamp_ms = r.timestamp,
           .key = span_opt(r.key),
           .value = span_opt(r.value),
           .headers = headers,
           .offset_delta = static_cast<int32_t>(r.offset - base_offset)});
  }
}

// Our encoding of a fixture batch's contents with the same header options.
inline bytes_vec rebuild(const json& batch) {
  const json& h = batch.at("header");
  const auto attrs = h.at("attributes").get<uint16_t>();
  batch_options o;
  o.base_offset = h.at("base_offset").get<int64_t>();
  o.partition_leader_epoch = h.at("partition_leader_epoch").get<int32_t>();
  o.codec = *codec_from_bits(static_cast<uint8_t>(attrs & batch_attr::codec_mask));
  o.transactional = (attrs & batch_attr::transactional) != 0;
  o.control = (attrs & batch_attr::control) != 0;
  o.producer_id = h.at("producer_id").get<int64_t>();
  o.producer_epoch = h.at("producer_epoch").get<int16_t>();
  o.base_sequence = h.at("base_sequence").get<int32_t>();
  o.last_offset_delta = h.at("last_offset_delta").get<int32_t>();
  record_batch_builder b(o);
  add_records(b, records_from_json(batch.at("records")), o.base_offset);
  auto built = b.build();
  if (!built) throw std::runtime_error("build failed: " + built.error().message());
  return *built;
}

}  // namespace tributary::kafka::test
