// Fuzzes the Kafka record layer: the splitter, record_batch_view::parse/validate, record iteration,
// decompression (small output limit) and the mutators, and checks properties that must hold for
// any input:
//   - a batch that validates deeply iterates exactly record_count records without error;
//   - for an uncompressed batch, shallow and deep validation agree;
//   - the broker mutators keep a valid batch valid;
//   - re-encoding a valid batch's records with our builder gives the same records.
// Each input is run as is and once more with every batch's CRC recomputed.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/assert.h"
#include "common/crc32c.h"
#include "common/kafka/compression.h"
#include "common/kafka/record_batch.h"

using namespace tributary;
using namespace tributary::kafka;

namespace {

constexpr size_t decompressed_bytes_max = 256 * 1024;
constexpr size_t batches_max = 64;

struct flat_record {
  int64_t offset;
  int64_t timestamp;
  std::optional<byte_span> key;
  std::optional<byte_span> value;
  std::vector<header_input> headers;
};

bool same(const std::optional<byte_span>& a, const std::optional<byte_span>& b) {
  if (a.has_value() != b.has_value()) return false;
  return !a || std::equal(a->begin(), a->end(), b->begin(), b->end());
}

std::vector<flat_record> collect(record_range& range) {
  std::vector<flat_record> out;
  for (const record_view& r : range) {
    flat_record f{r.offset(), r.timestamp(), r.key(), r.value(), {}};
    for (const record_header& h : r.headers()) f.headers.push_back({h.key, h.value});
    TRIB_ASSERT(static_cast<int32_t>(f.headers.size()) == r.headers().size());
    out.push_back(std::move(f));
  }
  return out;
}

void check_rebuild(const record_batch_view& v, const std::vector<flat_record>& records) {
  if (v.ts_type() != timestamp_type::create_time) return;  // record timestamps replaced by max_timestamp
  record_batch_builder b({.base_offset = v.base_offset(),
                          .partition_leader_epoch = v.partition_leader_epoch(),
                          .transactional = v.is_transactional(),
                          .control = v.is_control(),
                          .producer_id = v.producer_id(),
                          .producer_epoch = v.producer_epoch(),
                          .base_sequence = v.base_sequence(),
                          .last_offset_delta = v.last_offset_delta()});
  for (const flat_record& r : records) {
    b.add({.timestamp_ms = r.timestamp,
           .key = r.key,
           .value = r.value,
           .headers = r.headers,
           .offset_delta = static_cast<int32_t>(static_cast<uint64_t>(r.offset) -
                                                static_cast<uint64_t>(v.base_offset()))});
  }
  auto built = b.build();
  TRIB_ASSERT(built.has_value());
  auto again = record_batch_view::parse(*built);
  TRIB_ASSERT(again.has_value());
  TRIB_ASSERT(again->validate().has_value());
  auto range = again->records();
  auto round = collect(range);
  TRIB_ASSERT(round.size() == records.size());
  for (size_t i = 0; i < round.size(); ++i) {
    TRIB_ASSERT(round[i].offset == records[i].offset);
    TRIB_ASSERT(same(round[i].key, records[i].key) && same(round[i].value, records[i].value));
    TRIB_ASSERT(round[i].headers.size() == records[i].headers.size());
  }
}

void exercise(const record_batch_view& v) {
  // Accessors never fail on a framed view.
  volatile int64_t sink = v.base_offset() ^ v.partition_leader_epoch() ^ v.magic() ^ v.crc() ^
                          v.attributes() ^ v.last_offset() ^ v.base_timestamp() ^ v.max_timestamp() ^
                          v.producer_id() ^ v.producer_epoch() ^ v.base_sequence() ^ v.record_count();
  (void)sink;

  const auto shallow = v.validate();
  const auto deep = v.validate({.decompressed_bytes_max = decompressed_bytes_max});
  (void)v.validate({.decompressed_bytes_max = decompressed_bytes_max, .producer_batch = true});
  if (!v.is_compressed()) TRIB_ASSERT(shallow.has_value() == deep.has_value());
  if (deep) TRIB_ASSERT(shallow.has_value());

  std::vector<uint8_t> scratch;
  auto range = read_records(v, scratch, decompressed_bytes_max);
  if (!range) {
    // Only decompression can fail here, and deep validation decompressed with the same limit.
    TRIB_ASSERT(v.is_compressed() && !deep);
    return;
  }
  auto records = collect(*range);
  if (deep) {
    TRIB_ASSERT(!range->error());
    TRIB_ASSERT(static_cast<int32_t>(records.size()) == v.record_count());
    check_rebuild(v, records);

    std::vector<uint8_t> copy(v.bytes().begin(), v.bytes().end());
    set_base_offset(copy, 42);
    set_partition_leader_epoch(copy, 7);
    set_log_append_time(copy, 1234567);
    auto mutated = record_batch_view::parse(copy);
    TRIB_ASSERT(mutated.has_value());
    TRIB_ASSERT(mutated->validate({.decompressed_bytes_max = decompressed_bytes_max}).has_value());
    TRIB_ASSERT(mutated->ts_type() == timestamp_type::log_append_time);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const byte_span input(data, size);

  batch_splitter split(input, 1024 * 1024);
  for (size_t i = 0; i < batches_max; ++i) {
    auto next = split.next();
    if (!next || !*next) break;
    exercise(**next);
  }

  if (auto v = record_batch_view::parse(input)) exercise(*v);

  // Again with every batch's CRC made valid: random mutations nearly always break the CRC, and
  // this lets the fuzzer reach record parsing, decompression and the properties behind it.
  std::vector<uint8_t> resealed(input.begin(), input.end());
  batch_splitter reseal_split(resealed, 1024 * 1024);
  for (size_t i = 0; i < batches_max; ++i) {
    auto next = reseal_split.next();
    if (!next || !*next) break;
    const size_t at = static_cast<size_t>((*next)->bytes().data() - resealed.data());
    const uint32_t crc = crc32c(byte_span(resealed).subspan(
        at + batch_offsets::attributes, (*next)->size_bytes() - batch_offsets::attributes));
    store_be32(resealed.data() + at + batch_offsets::crc, crc);
    exercise(**next);
  }

  for (uint8_t c = 1; c <= 4; ++c) {
    auto out = decompress(static_cast<compression_codec>(c), input, decompressed_bytes_max);
    if (out) TRIB_ASSERT(out->size() <= decompressed_bytes_max);
  }
  return 0;
}
