#include "common/kafka/record_batch.h"

#include <limits>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "common/crc32c.h"
#include "tests/unit/kafka_record/fixture_util.h"

using namespace tributary;
using namespace tributary::kafka;
using namespace tributary::kafka::test;

namespace {

const std::filesystem::path fixtures =
    std::filesystem::path(TRIB_SOURCE_DIR) / "tests/unit/kafka_record/fixtures";
constexpr size_t decompress_max = 1024 * 1024;

const json& doc() {
  static const json d = read_json(fixtures / "expected.json");
  return d;
}

bytes_vec fixture(const std::string& name) {
  return read_file(fixtures / doc().at("batches").at(name).at("file").get<std::string>());
}

template <class T>
std::error_code error_of(const result<T>& r) {
  return r ? std::error_code() : r.error();
}

record_batch_view view_of(const bytes_vec& b) {
  auto v = record_batch_view::parse(b);
  REQUIRE(v.has_value());
  return *v;
}

std::error_code validate_error(const bytes_vec& b, const validate_options& o = {}) {
  auto v = record_batch_view::parse(b);
  if (!v) return v.error();
  return error_of(v->validate(o));
}

// Recomputes the CRC after a test tampered with covered bytes, so the check under test is reached.
void reseal(bytes_vec& b) { store_be32(b.data() + batch_offsets::crc, crc32c(byte_span(b).subspan(21))); }

void put_i32(bytes_vec& b, size_t at, int32_t v) { store_be32(b.data() + at, static_cast<uint32_t>(v)); }

// A batch around a hand-written records section (independent of record_batch_builder).
bytes_vec make_batch(const bytes_vec& records, int32_t count, int32_t last_offset_delta, uint16_t attrs = 0) {
  byte_writer w;
  w.write_i64(100);                                        // base offset
  w.write_i32(static_cast<int32_t>(49 + records.size()));  // batch length
  w.write_i32(7);                                          // leader epoch
  w.write_i8(2);
  w.write_u32(0);  // crc, below
  w.write_u16(attrs);
  w.write_i32(last_offset_delta);
  w.write_i64(1000);  // base timestamp
  w.write_i64(2000);  // max timestamp
  w.write_i64(-1);
  w.write_i16(-1);
  w.write_i32(-1);
  w.write_i32(count);
  w.write_raw(records);
  bytes_vec b = w.take();
  reseal(b);
  return b;
}

// One record's bytes from explicit field encodings; `body` is everything after the length varint.
bytes_vec with_length(const bytes_vec& body, std::optional<int32_t> length = std::nullopt) {
  byte_writer w;
  w.write_varint(length.value_or(static_cast<int32_t>(body.size())));
  w.write_raw(body);
  return w.take();
}

struct raw_record {
  int32_t offset_delta = 0;
  int64_t timestamp_delta = 0;
  int32_t key_len = 1;  // -1 null; the key is key_len bytes of 'k'
  int32_t value_len = 1;
  int32_t header_count = 0;
  int32_t header_key_len = 1;
  int32_t header_value_len = 1;
};

bytes_vec body_of(const raw_record& r) {
  byte_writer w;
  w.write_i8(0);
  w.write_varlong(r.timestamp_delta);
  w.write_varint(r.offset_delta);
  w.write_varint(r.key_len);
  for (int32_t i = 0; i < r.key_len; ++i) w.write_u8('k');
  w.write_varint(r.value_len);
  for (int32_t i = 0; i < r.value_len; ++i) w.write_u8('v');
  w.write_varint(r.header_count);
  for (int32_t h = 0; h < r.header_count; ++h) {
    w.write_varint(r.header_key_len);
    for (int32_t i = 0; i < r.header_key_len; ++i) w.write_u8('h');
    w.write_varint(r.header_value_len);
    for (int32_t i = 0; i < r.header_value_len; ++i) w.write_u8('x');
  }
  return w.take();
}

bytes_vec rec(const raw_record& r) { return with_length(body_of(r)); }

bytes_vec cat(std::initializer_list<bytes_vec> parts) {
  bytes_vec out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

std::vector<owned_record> all_records(const record_batch_view& v, std::vector<uint8_t>& scratch) {
  auto range = read_records(v, scratch, decompress_max);
  REQUIRE(range.has_value());
  std::vector<owned_record> out;
  for (const record_view& r : *range) out.push_back(to_owned(r));
  CHECK_FALSE(range->error());
  return out;
}

}  // namespace

// ---- golden vectors from real clients -----------------------------------------------------------

TEST_CASE("record_batch: fixtures from kafka-python and librdkafka decode field by field") {
  REQUIRE(doc().at("batches").size() >= 8);
  for (const auto& item : doc().at("batches").items()) {
    const std::string name = item.key();  // not a structured binding: clang 14 cannot capture those
    const json& want = item.value();
    CAPTURE(name);
    const bytes_vec bytes = fixture(name);
    const json& h = want.at("header");
    REQUIRE(bytes.size() == h.at("size").get<size_t>());
    const record_batch_view v = view_of(bytes);

    CHECK(v.base_offset() == h.at("base_offset").get<int64_t>());
    CHECK(v.batch_length() == static_cast<int32_t>(bytes.size() - 12));
    CHECK(v.partition_leader_epoch() == h.at("partition_leader_epoch").get<int32_t>());
    CHECK(v.magic() == 2);
    CHECK(v.crc() == h.at("crc").get<uint32_t>());
    CHECK(v.compute_crc() == v.crc());
    CHECK(v.attributes() == h.at("attributes").get<uint16_t>());
    CHECK(static_cast<int>(v.codec_bits()) == h.at("codec").get<int>());
    CHECK(v.is_compressed() == (h.at("codec").get<int>() != 0));
    CHECK(v.is_transactional() == ((h.at("attributes").get<int>() & 0x10) != 0));
    CHECK_FALSE(v.is_control());
    CHECK_FALSE(v.has_delete_horizon());
    CHECK(v.ts_type() == timestamp_type::create_time);
    CHECK(v.last_offset_delta() == h.at("last_offset_delta").get<int32_t>());
    CHECK(v.last_offset() == v.base_offset() + v.last_offset_delta());
    CHECK(v.base_timestamp() == h.at("base_timestamp").get<int64_t>());
    CHECK(v.max_timestamp() == h.at("max_timestamp").get<int64_t>());
    CHECK(v.producer_id() == h.at("producer_id").get<int64_t>());
    CHECK(v.producer_epoch() == h.at("producer_epoch").get<int16_t>());
    CHECK(v.base_sequence() == h.at("base_sequence").get<int32_t>());
    CHECK(v.record_count() == h.at("record_count").get<int32_t>());

    CHECK(v.validate().has_value());
    CHECK(v.validate({.decompressed_bytes_max = decompress_max}).has_value());
    CHECK(error_of(v.validate({.producer_batch = true})) ==
          (name == "kp_gaps" ? std::error_code(record_errc::bad_record_count) : std::error_code()));

    std::vector<uint8_t> scratch;
    const auto got = all_records(v, scratch);
    CHECK(got == records_from_json(want.at("records")));
    CHECK(static_cast<int32_t>(got.size()) == v.record_count());
  }
}

TEST_CASE("record_batch: header iteration and record details of the main kafka-python fixture") {
  const bytes_vec bytes = fixture("kp_uncompressed");
  const record_batch_view v = view_of(bytes);
  auto range = v.records();
  std::vector<record_view> rs;
  for (const record_view& r : range) rs.push_back(r);
  REQUIRE(rs.size() == 5);
  CHECK(rs[1].key() == std::nullopt);
  CHECK(rs[2].value() == std::nullopt);
  CHECK(rs[2].timestamp_delta() == -3);
  CHECK(rs[3].key().has_value());
  CHECK(rs[3].key()->empty());
  REQUIRE(rs[2].headers().size() == 3);
  int n = 0;
  for (const record_header& hd : rs[2].headers()) {
    if (n == 1) {
      CHECK(hd.key == "nullh");
      CHECK_FALSE(hd.value.has_value());
    }
    if (n == 2) {
      CHECK(hd.key == "empty");
      REQUIRE(hd.value.has_value());
      CHECK(hd.value->empty());
    }
    ++n;
  }
  CHECK(n == 3);
  CHECK(rs[0].headers().empty());
  CHECK(rs[4].value()->size() == 520);  // two-byte length varint
  CHECK(rs[3].headers().begin()->key == "cl\xc3\xa9");
  // Record byte spans tile the records section exactly.
  size_t total = 0;
  for (const auto& r : rs) total += r.bytes().size();
  CHECK(total == v.records_data().size());
  CHECK(rs[0].bytes().data() == v.records_data().data());
  CHECK(rs[0].attributes() == 0);
  CHECK(rs[4].offset_delta() == 4);
}

TEST_CASE("record_batch: our builder reproduces kafka-python's uncompressed batches byte for byte") {
  for (const char* name : {"kp_uncompressed", "kp_idempotent", "kp_transactional", "kp_gaps"}) {
    CAPTURE(name);
    CHECK(rebuild(doc().at("batches").at(name)) == fixture(name));
  }
}

TEST_CASE("record_batch: builder round trip with every codec and producer fields") {
  const auto records = records_from_json(doc().at("batches").at("kp_uncompressed").at("records"));
  for (uint8_t c = 0; c <= 4; ++c) {
    const auto codec = static_cast<compression_codec>(c);
    CAPTURE(codec_name(codec));
    record_batch_builder b({.base_offset = 5000,
                            .partition_leader_epoch = 9,
                            .codec = codec,
                            .transactional = true,
                            .producer_id = 123456789,
                            .producer_epoch = 4,
                            .base_sequence = 1000});
    add_records(b, records, 0);
    CHECK(b.record_count() == 5);
    CHECK(b.records_bytes() == fixture("kp_uncompressed").size() - 61);
    auto built = b.build();
    REQUIRE(built.has_value());
    const record_batch_view v = view_of(*built);
    CHECK(v.codec() == codec);
    CHECK(v.base_offset() == 5000);
    CHECK(v.partition_leader_epoch() == 9);
    CHECK(v.is_transactional());
    CHECK(v.producer_id() == 123456789);
    CHECK(v.producer_epoch() == 4);
    CHECK(v.base_sequence() == 1000);
    CHECK(v.base_timestamp() == records[0].timestamp);
    CHECK(v.max_timestamp() == records[3].timestamp);
    CHECK(v.last_offset_delta() == 4);
    CHECK(v.validate({.decompressed_bytes_max = decompress_max, .producer_batch = true}).has_value());
    std::vector<uint8_t> scratch;
    auto got = all_records(v, scratch);
    auto want = records;
    for (auto& r : want) r.offset += 5000;
    CHECK(got == want);
  }
}

TEST_CASE("record_batch: empty batch (as compaction keeps for producer state)") {
  record_batch_builder b(
      {.producer_id = 5, .producer_epoch = 1, .base_sequence = 10, .last_offset_delta = 3});
  auto built = b.build();
  REQUIRE(built.has_value());
  const record_batch_view v = view_of(*built);
  CHECK(v.record_count() == 0);
  CHECK(v.last_offset_delta() == 3);
  CHECK(v.base_timestamp() == -1);
  CHECK(v.validate().has_value());
  CHECK(error_of(v.validate({.producer_batch = true})) == record_errc::bad_record_count);
  int n = 0;
  for (const auto& r : v.records()) {
    (void)r;
    ++n;
  }
  CHECK(n == 0);
}

// ---- framing ------------------------------------------------------------------------------------

TEST_CASE("record_batch: parse checks framing") {
  const bytes_vec good = fixture("kp_uncompressed");
  CHECK(error_of(record_batch_view::parse({})) == record_errc::truncated);
  CHECK(error_of(record_batch_view::parse(byte_span(good).first(11))) == record_errc::truncated);
  CHECK(error_of(record_batch_view::parse(byte_span(good).first(12))) == record_errc::truncated);
  CHECK(error_of(record_batch_view::parse(byte_span(good).first(60))) == record_errc::truncated);
  CHECK(error_of(record_batch_view::parse(byte_span(good).first(good.size() - 1))) == record_errc::truncated);
  bytes_vec longer = good;
  longer.push_back(0);
  CHECK(error_of(record_batch_view::parse(longer)) == record_errc::bad_batch_length);

  bytes_vec small = good;
  put_i32(small, 8, 48);  // below the header remainder
  CHECK(error_of(record_batch_view::parse(small)) == record_errc::bad_batch_length);
  put_i32(small, 8, -1);
  CHECK(error_of(record_batch_view::parse(small)) == record_errc::bad_batch_length);
  put_i32(small, 8, std::numeric_limits<int32_t>::max());
  CHECK(error_of(record_batch_view::parse(small)) == record_errc::truncated);

  // A header-only batch (no records) is exactly 61 bytes.
  bytes_vec header_only = make_batch({}, 0, 0);
  CHECK(header_only.size() == 61);
  CHECK(validate_error(header_only) == std::error_code());
}

TEST_CASE("record_batch: header checks in validate") {
  const bytes_vec good = fixture("kp_uncompressed");
  REQUIRE(validate_error(good) == std::error_code());

  SUBCASE("magic") {
    bytes_vec b = good;
    b[16] = 1;
    CHECK(validate_error(b) == record_errc::bad_magic);
    b[16] = 3;
    CHECK(validate_error(b) == record_errc::bad_magic);
  }
  SUBCASE("crc field") {
    for (size_t i = 17; i < 21; ++i) {
      bytes_vec b = good;
      b[i] ^= 0x01;
      CHECK(validate_error(b) == record_errc::bad_crc);
    }
  }
  SUBCASE("covered bytes") {
    for (size_t i : {size_t{21}, size_t{30}, size_t{60}, size_t{61}, good.size() / 2, good.size() - 1}) {
      bytes_vec b = good;
      b[i] ^= 0x80;
      CAPTURE(i);
      CHECK(validate_error(b) == record_errc::bad_crc);
    }
  }
  SUBCASE("base offset and leader epoch are outside the CRC") {
    bytes_vec b = good;
    b[3] ^= 0xff;
    b[13] ^= 0xff;
    CHECK(validate_error(b) == std::error_code());
  }
  SUBCASE("unknown codec") {
    for (uint16_t codec = 5; codec <= 7; ++codec) {
      bytes_vec b = good;
      store_be16(b.data() + 21, codec);
      reseal(b);
      CHECK(view_of(b).codec() == std::nullopt);
      CHECK(validate_error(b) == record_errc::unsupported_codec);
      CHECK(error_of(decompress_records(view_of(b), 100)) == record_errc::unsupported_codec);
    }
  }
  SUBCASE("negative record count") {
    bytes_vec b = good;
    put_i32(b, 57, -1);
    reseal(b);
    CHECK(validate_error(b) == record_errc::bad_record_count);
  }
  SUBCASE("record count above last offset delta + 1") {
    bytes_vec b = good;
    put_i32(b, 57, 6);
    reseal(b);
    CHECK(validate_error(b) == record_errc::bad_record_count);
  }
  SUBCASE("negative last offset delta") {
    bytes_vec b = good;
    put_i32(b, 23, -1);
    reseal(b);
    CHECK(validate_error(b) == record_errc::bad_record_count);
  }
  SUBCASE("producer batches") {
    CHECK(validate_error(good, {.producer_batch = true}) == std::error_code());
    bytes_vec b = fixture("kp_idempotent");
    put_i32(b, 53, -1);  // producer id set, no base sequence
    reseal(b);
    CHECK(validate_error(b) == std::error_code());
    CHECK(validate_error(b, {.producer_batch = true}) == record_errc::bad_producer_state);

    bytes_vec t = good;
    store_be16(t.data() + 21, batch_attr::transactional);  // transactional without a producer id
    reseal(t);
    CHECK(validate_error(t) == std::error_code());
    CHECK(validate_error(t, {.producer_batch = true}) == record_errc::bad_producer_state);

    bytes_vec gap = good;
    put_i32(gap, 23, 5);  // last offset delta 5 with 5 records: fine in a log, not from a producer
    reseal(gap);
    CHECK(validate_error(gap) == std::error_code());
    CHECK(validate_error(gap, {.producer_batch = true}) == record_errc::bad_record_count);
  }
}

// ---- records ------------------------------------------------------------------------------------

TEST_CASE("record_batch: hand-written records parse") {
  const bytes_vec records = cat(
      {rec({.offset_delta = 0}), rec({.offset_delta = 1, .timestamp_delta = -5}),
       rec({.offset_delta = 2, .key_len = -1, .value_len = -1, .header_count = 2, .header_value_len = -1})});
  const bytes_vec b = make_batch(records, 3, 2);
  REQUIRE(validate_error(b) == std::error_code());
  const record_batch_view v = view_of(b);
  std::vector<owned_record> got;
  for (const auto& r : v.records()) got.push_back(to_owned(r));
  REQUIRE(got.size() == 3);
  CHECK(got[0].offset == 100);
  CHECK(got[1].offset == 101);
  CHECK(got[1].timestamp == 995);
  CHECK(got[2].key == std::nullopt);
  CHECK(got[2].value == std::nullopt);
  REQUIRE(got[2].headers.size() == 2);
  CHECK(got[2].headers[0].first == "h");
  CHECK(got[2].headers[0].second == std::nullopt);
}

TEST_CASE("record_batch: malformed records, one error per branch") {
  const bytes_vec r0 = rec({.offset_delta = 0});
  const bytes_vec r1 = rec({.offset_delta = 1});
  struct bad_case {
    const char* name;
    bytes_vec records;
    int32_t count;
    int32_t last_offset_delta;
    record_errc want;
  };
  const std::vector<bad_case> cases = {
      {"fewer records than the count", cat({r0}), 2, 1, record_errc::record_count_mismatch},
      {"more records than the count", cat({r0, r1}), 1, 1, record_errc::trailing_bytes},
      {"a stray byte after the last record", cat({r0, r1, {0x00}}), 2, 1, record_errc::trailing_bytes},
      {"length one too long",
       cat({with_length(body_of({}), static_cast<int32_t>(body_of({}).size()) + 1), {0}}), 1, 0,
       record_errc::bad_record_length},
      {"length one too short", with_length(body_of({}), static_cast<int32_t>(body_of({}).size()) - 1), 1, 0,
       record_errc::bad_record_length},
      {"length past the end", with_length(body_of({}), 100), 1, 0, record_errc::bad_record_length},
      {"negative length", with_length(body_of({}), -2), 1, 0, record_errc::bad_record_length},
      {"overlong length varint", {0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1, 0, record_errc::bad_record_length},
      {"length varint cut", {0x80}, 1, 0, record_errc::bad_record_length},
      {"empty body", with_length({}), 1, 0, record_errc::bad_record_length},
      {"key length below -1", rec({.key_len = -2}), 1, 0, record_errc::bad_record},
      {"value length below -1", rec({.value_len = -7}), 1, 0, record_errc::bad_record},
      {"negative header count", rec({.header_count = -1}), 1, 0, record_errc::bad_record},
      {"null header key", rec({.header_count = 1, .header_key_len = -1}), 1, 0, record_errc::bad_record},
      {"header value length below -1", rec({.header_count = 1, .header_value_len = -3}), 1, 0,
       record_errc::bad_record},
      {"overlong timestamp varint",
       with_length(
           {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x01, 0x01, 0x00}),
       1, 0, record_errc::bad_record},
      {"offset deltas repeat", cat({r0, rec({.offset_delta = 0})}), 2, 1, record_errc::bad_offset_delta},
      {"offset deltas decrease", cat({r1, r0}), 2, 1, record_errc::bad_offset_delta},
      {"negative offset delta", rec({.offset_delta = -1}), 1, 0, record_errc::bad_offset_delta},
      {"offset delta past last_offset_delta", cat({r0, rec({.offset_delta = 2})}), 2, 1,
       record_errc::bad_offset_delta},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const bytes_vec b = make_batch(c.records, c.count, c.last_offset_delta);
    CHECK(validate_error(b) == c.want);
    // Iteration stops at the same place and reports the same error.
    const record_batch_view v = view_of(b);
    auto range = v.records();
    int n = 0;
    for (const auto& r : range) {
      (void)r;
      ++n;
    }
    CHECK(range.error() == c.want);
    CHECK(n <= c.count);
  }
}

TEST_CASE("record_batch: a header count larger than the record holds fails without looping") {
  // key "k", value "v", then a header count of INT32_MAX and no headers.
  byte_writer w;
  w.write_i8(0);
  w.write_varlong(0);
  w.write_varint(0);
  w.write_varint(1);
  w.write_u8('k');
  w.write_varint(1);
  w.write_u8('v');
  w.write_varint(std::numeric_limits<int32_t>::max());
  const bytes_vec b = make_batch(with_length(w.take()), 1, 0);
  CHECK(validate_error(b) == record_errc::bad_record_length);
}

TEST_CASE("record_batch: control batches") {
  const auto key = control_record_key(control_type::commit);
  const auto value = end_txn_marker_value(42);
  record_batch_builder b({.transactional = true, .control = true, .producer_id = 9, .producer_epoch = 2});
  b.add({.timestamp_ms = 5, .key = byte_span(key), .value = byte_span(value)});
  auto built = b.build();
  REQUIRE(built.has_value());
  const record_batch_view v = view_of(*built);
  CHECK(v.is_control());
  CHECK(v.is_transactional());
  CHECK(v.validate().has_value());
  for (const auto& r : v.records()) {
    CHECK(parse_control_record_key(r.key()) == control_type::commit);
    REQUIRE(r.value().has_value());
    CHECK(load_be32(r.value()->data() + 2) == 42);
  }
  CHECK(parse_control_record_key(byte_span(control_record_key(control_type::abort))) == control_type::abort);

  const bytes_vec short_key = {0, 0, 0};
  const bytes_vec negative_version = {0xff, 0xff, 0, 1};
  const bytes_vec future_type = {0, 1, 0, 7};
  CHECK(error_of(parse_control_record_key(std::nullopt)) == record_errc::bad_control_record);
  CHECK(error_of(parse_control_record_key(byte_span(short_key))) == record_errc::bad_control_record);
  CHECK(error_of(parse_control_record_key(byte_span(negative_version))) == record_errc::bad_control_record);
  CHECK(parse_control_record_key(byte_span(future_type)) == static_cast<control_type>(7));

  // A control batch whose record has an ordinary key.
  record_batch_builder bad({.control = true});
  const bytes_vec k = {'k'};
  bad.add({.key = byte_span(k)});
  CHECK(validate_error(*bad.build()) == record_errc::bad_control_record);
}

TEST_CASE("record_batch: compressed batches validate by header and CRC, deeply on request") {
  const auto records = records_from_json(doc().at("batches").at("kp_uncompressed").at("records"));
  for (uint8_t c = 1; c <= 4; ++c) {
    const auto codec = static_cast<compression_codec>(c);
    CAPTURE(codec_name(codec));
    record_batch_builder b({.codec = codec});
    add_records(b, records, 0);
    const bytes_vec good = *b.build();
    const size_t plain = b.records_bytes();

    CHECK(validate_error(good, {.decompressed_bytes_max = plain}) == std::error_code());
    CHECK(validate_error(good, {.decompressed_bytes_max = plain - 1}) == record_errc::too_large);
    CHECK(error_of(decompress_records(view_of(good), plain - 1)) == record_errc::too_large);

    {  // corrupt compressed bytes (CRC resealed)
      bytes_vec bad(good.begin(), good.end() - 3);
      put_i32(bad, 8, static_cast<int32_t>(bad.size() - 12));
      reseal(bad);
      CHECK(validate_error(bad) == std::error_code());  // header + CRC only
      CHECK(validate_error(bad, {.decompressed_bytes_max = decompress_max}) ==
            record_errc::decompression_failed);
      std::vector<uint8_t> scratch;
      CHECK(error_of(read_records(view_of(bad), scratch, decompress_max)) ==
            record_errc::decompression_failed);
    }
    {  // record count disagrees with the compressed records
      bytes_vec bad = good;
      put_i32(bad, 57, 4);
      reseal(bad);
      CHECK(validate_error(bad) == std::error_code());
      CHECK(validate_error(bad, {.decompressed_bytes_max = decompress_max}) == record_errc::trailing_bytes);
    }
  }
  const bytes_vec plain_batch = fixture("kp_uncompressed");
  CHECK(error_of(decompress_records(view_of(plain_batch), decompress_max)) == record_errc::unsupported_codec);
}

// ---- splitter -----------------------------------------------------------------------------------

namespace {
std::vector<std::string> batch_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : doc().at("batches").items()) names.push_back(name);
  return names;
}
}  // namespace

TEST_CASE("batch_splitter: walks concatenated batches") {
  bytes_vec all;
  std::vector<size_t> starts;
  for (const auto& n : batch_names()) {
    starts.push_back(all.size());
    const bytes_vec b = fixture(n);
    all.insert(all.end(), b.begin(), b.end());
  }
  batch_splitter split(all);
  size_t i = 0;
  for (;;) {
    auto next = split.next();
    REQUIRE(next.has_value());
    if (!*next) break;
    REQUIRE(i < starts.size());
    CHECK((*next)->bytes().data() == all.data() + starts[i]);
    CHECK((*next)->validate().has_value());
    ++i;
  }
  CHECK(i == starts.size());
  CHECK(split.position() == all.size());
  CHECK(split.next().value() == std::nullopt);  // stays at the end

  batch_splitter empty(byte_span{});
  CHECK(empty.next().value() == std::nullopt);
}

TEST_CASE("batch_splitter: a torn tail is reported as truncated at the last batch's start") {
  const bytes_vec a = fixture("kp_uncompressed"), b = fixture("rdk_zstd");
  const bytes_vec both = cat({a, b});
  for (size_t cut : {size_t{1}, size_t{10}, b.size() - 61, b.size() - 17, b.size() - 12, b.size() - 5}) {
    CAPTURE(cut);
    const byte_span data = byte_span(both).first(both.size() - cut);
    batch_splitter split(data);
    auto first = split.next();
    REQUIRE(first.has_value());
    REQUIRE(first->has_value());
    CHECK(split.position() == a.size());
    CHECK(error_of(split.next()) == record_errc::truncated);
    CHECK(split.position() == a.size());
    CHECK(error_of(split.next()) == record_errc::truncated);  // sticky
  }
}

TEST_CASE("batch_splitter: corrupt framing is distinct from a torn tail") {
  const bytes_vec a = fixture("kp_uncompressed");
  SUBCASE("wrong magic, even when also cut short") {
    bytes_vec bad = a;
    bad[16] = 1;
    batch_splitter whole(bad);
    CHECK(error_of(whole.next()) == record_errc::bad_magic);
    batch_splitter cut(byte_span(bad).first(30));
    CHECK(error_of(cut.next()) == record_errc::bad_magic);
    batch_splitter before_magic(byte_span(bad).first(16));  // magic not yet visible: looks torn
    CHECK(error_of(before_magic.next()) == record_errc::truncated);
  }
  SUBCASE("batch length below the header") {
    bytes_vec bad = cat({a, a});
    put_i32(bad, a.size() + 8, 10);
    batch_splitter split(bad);
    CHECK(split.next().has_value());
    CHECK(error_of(split.next()) == record_errc::bad_batch_length);
    CHECK(split.position() == a.size());
  }
  SUBCASE("batch larger than the limit") {
    batch_splitter at_limit(a, a.size());
    CHECK(at_limit.next().has_value());
    batch_splitter below(a, a.size() - 1);
    CHECK(error_of(below.next()) == record_errc::too_large);
    bytes_vec huge = a;
    put_i32(huge, 8, std::numeric_limits<int32_t>::max());
    batch_splitter split(huge);
    CHECK(error_of(split.next()) == record_errc::too_large);
  }
  SUBCASE("fewer than 12 bytes") {
    batch_splitter split(byte_span(a).first(11));
    CHECK(error_of(split.next()) == record_errc::truncated);
    CHECK(split.position() == 0);
  }
}

// ---- mutators -----------------------------------------------------------------------------------

TEST_CASE("record_batch: broker mutators") {
  bytes_vec b = fixture("rdk_gzip");
  const uint32_t crc_before = view_of(b).crc();

  set_base_offset(b, 1'000'000'000'000);
  set_partition_leader_epoch(b, 17);
  {
    const record_batch_view v = view_of(b);
    CHECK(v.base_offset() == 1'000'000'000'000);
    CHECK(v.last_offset() == 1'000'000'000'005);
    CHECK(v.partition_leader_epoch() == 17);
    CHECK(v.crc() == crc_before);  // untouched, still valid
    CHECK(v.validate({.decompressed_bytes_max = decompress_max}).has_value());
    std::vector<uint8_t> scratch;
    auto rs = all_records(v, scratch);
    CHECK(rs.front().offset == 1'000'000'000'000);
    CHECK(rs.back().offset == 1'000'000'000'005);
  }

  set_log_append_time(b, 1'800'000'000'000);
  const record_batch_view v = view_of(b);
  CHECK(v.ts_type() == timestamp_type::log_append_time);
  CHECK(v.max_timestamp() == 1'800'000'000'000);
  CHECK(v.codec() == compression_codec::gzip);  // other attribute bits kept
  CHECK(v.crc() != crc_before);
  CHECK(v.validate({.decompressed_bytes_max = decompress_max}).has_value());
  std::vector<uint8_t> scratch;
  for (const auto& r : all_records(v, scratch)) CHECK(r.timestamp == 1'800'000'000'000);
}

TEST_CASE("record_batch: offsets and timestamps at the int64 limits wrap without UB") {
  bytes_vec b = fixture("kp_uncompressed");
  set_base_offset(b, std::numeric_limits<int64_t>::max());
  store_be64(b.data() + 27, static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  reseal(b);
  const record_batch_view v = view_of(b);
  CHECK(v.validate().has_value());
  CHECK(v.last_offset() == std::numeric_limits<int64_t>::min() + 3);
  std::vector<int64_t> offsets;
  for (const auto& r : v.records()) offsets.push_back(r.offset());
  REQUIRE(offsets.size() == 5);
  CHECK(offsets[0] == std::numeric_limits<int64_t>::max());
  CHECK(offsets[1] == std::numeric_limits<int64_t>::min());
}

TEST_CASE("record_batch: builder with explicit offset deltas and last_offset_delta (compacted shape)") {
  const bytes_vec k = {'k'};
  record_batch_builder b({.last_offset_delta = 9});
  b.add({.timestamp_ms = 10, .key = byte_span(k), .offset_delta = 0});
  b.add({.timestamp_ms = 8, .key = byte_span(k), .offset_delta = 4});
  b.add({.timestamp_ms = 12, .key = byte_span(k)});  // next: 5
  auto built = b.build();
  REQUIRE(built.has_value());
  const record_batch_view v = view_of(*built);
  CHECK(v.record_count() == 3);
  CHECK(v.last_offset_delta() == 9);
  CHECK(v.base_timestamp() == 10);
  CHECK(v.max_timestamp() == 12);
  CHECK(v.validate().has_value());
  std::vector<int32_t> deltas;
  for (const auto& r : v.records()) deltas.push_back(r.offset_delta());
  CHECK(deltas == std::vector<int32_t>{0, 4, 5});
}
