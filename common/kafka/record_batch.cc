#include "common/kafka/record_batch.h"

#include <algorithm>
#include <limits>

#include "common/assert.h"
#include "common/crc32c.h"

namespace tributary::kafka {
namespace {

// Two's-complement addition without signed-overflow UB: a hostile base offset or timestamp near the
// int64 limits wraps as Java's long arithmetic does.
int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapping_sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// Inside a record, running out of bytes means its length prefix disagrees with its fields; an
// overlong varint is a malformed field.
std::error_code record_field_error(std::error_code ec) {
  return ec == bytes::errc::end_of_input ? make_error_code(record_errc::bad_record_length)
                                         : make_error_code(record_errc::bad_record);
}

#define TRIB_RECORD_FIELD(...)                                            \
  ({                                                                      \
    auto&& trib_field_r_ = (__VA_ARGS__);                                 \
    if (!trib_field_r_) [[unlikely]]                                      \
      return ::tl::unexpected(record_field_error(trib_field_r_.error())); \
    std::move(*trib_field_r_);                                            \
  })

// A nullable length-prefixed field of a record: -1 = null, below -1 malformed.
result<std::optional<byte_span>> read_nullable_field(byte_reader& r) {
  int32_t n = TRIB_RECORD_FIELD(r.read_varint());
  if (n < -1) return fail(record_errc::bad_record);
  if (n == -1) return std::optional<byte_span>();
  return std::optional<byte_span>(TRIB_RECORD_FIELD(r.read_span(static_cast<size_t>(n))));
}

size_t nullable_field_size(const std::optional<byte_span>& f) {
  return f ? varint_size(static_cast<int64_t>(f->size())) + f->size() : 1;
}

void write_nullable_field(byte_writer& w, const std::optional<byte_span>& f) {
  if (!f) {
    w.write_varint(-1);
    return;
  }
  TRIB_ASSERT(f->size() <= static_cast<size_t>(INT32_MAX), "record field too large for Kafka");
  w.write_varint(static_cast<int32_t>(f->size()));
  w.write_raw(*f);
}

void check_framed(std::span<const uint8_t> batch) {
  TRIB_ASSERT(record_batch_view::parse(batch).has_value(),
              "mutator called on a buffer that is not one batch");
}

}  // namespace

// ---- headers ------------------------------------------------------------------------------------

header_range::iterator::iterator(byte_span data, int32_t count) : reader_(data), left_(count) { ++*this; }

header_range::iterator& header_range::iterator::operator++() {
  if (left_ <= 0) {
    left_ = -1;
    return *this;
  }
  // The record_reader checked these bytes; a failure here is a broken invariant, not bad input.
  auto key_len = reader_.read_varint();
  TRIB_ASSERT(key_len && *key_len >= 0);
  auto key = reader_.read_span(static_cast<size_t>(*key_len));
  TRIB_ASSERT(key.has_value());
  auto value = read_nullable_field(reader_);
  TRIB_ASSERT(value.has_value());
  current_ = record_header{as_string_view(*key), *value};
  --left_;
  return *this;
}

// ---- record reader ------------------------------------------------------------------------------

record_reader::record_reader(const record_batch_view& batch, byte_span records)
    : in_(records),
      base_offset_(batch.base_offset()),
      base_timestamp_(batch.base_timestamp()),
      count_(batch.record_count()),
      last_offset_delta_(batch.last_offset_delta()),
      control_(batch.is_control()) {
  if (batch.ts_type() == timestamp_type::log_append_time) log_append_time_ = batch.max_timestamp();
}

result<record_view> record_reader::parse_one() {
  const size_t start = in_.position();
  auto length = in_.read_varint();
  if (!length || *length < 0 || static_cast<size_t>(*length) > in_.remaining())
    return fail(record_errc::bad_record_length);
  byte_reader r = *in_.sub_reader(static_cast<size_t>(*length));

  record_view v;
  v.attributes_ = TRIB_RECORD_FIELD(r.read_i8());
  v.timestamp_delta_ = TRIB_RECORD_FIELD(r.read_varlong());
  v.offset_delta_ = TRIB_RECORD_FIELD(r.read_varint());
  v.key_ = TRIB_TRY(read_nullable_field(r));
  v.value_ = TRIB_TRY(read_nullable_field(r));
  int32_t header_count = TRIB_RECORD_FIELD(r.read_varint());
  if (header_count < 0) return fail(record_errc::bad_record);
  const size_t headers_start = r.position();
  for (int32_t i = 0; i < header_count; ++i) {
    int32_t key_len = TRIB_RECORD_FIELD(r.read_varint());
    if (key_len < 0) return fail(record_errc::bad_record);  // header keys are non-null strings
    if (auto skipped = r.skip(static_cast<size_t>(key_len)); !skipped)
      return fail(record_field_error(skipped.error()));
    TRIB_TRY_VOID(read_nullable_field(r));
  }
  if (!r.empty()) return fail(record_errc::bad_record_length);

  v.headers_ = header_range(r.whole().subspan(headers_start), header_count);
  v.offset_ = wrapping_add(base_offset_, v.offset_delta_);
  v.timestamp_ = log_append_time_ ? *log_append_time_ : wrapping_add(base_timestamp_, v.timestamp_delta_);
  v.bytes_ = in_.whole().subspan(start, in_.position() - start);
  return v;
}

result<std::optional<record_view>> record_reader::next() {
  if (read_ >= count_) {
    if (!in_.empty()) return fail(record_errc::trailing_bytes);
    return std::optional<record_view>();
  }
  if (in_.empty()) return fail(record_errc::record_count_mismatch);
  record_view v = TRIB_TRY(parse_one());
  const int64_t delta = v.offset_delta();
  if (delta <= prev_offset_delta_ || delta > last_offset_delta_) return fail(record_errc::bad_offset_delta);
  if (control_ && !parse_control_record_key(v.key())) return fail(record_errc::bad_control_record);
  prev_offset_delta_ = delta;
  ++read_;
  return std::optional<record_view>(v);
}

// ---- record range -------------------------------------------------------------------------------

record_range::record_range(const record_batch_view& batch, byte_span records) : reader_(batch, records) {}

void record_range::iterator::advance() {
  auto r = reader_.next();
  if (!r) {
    if (error_ != nullptr) *error_ = r.error();
    done_ = true;
    return;
  }
  done_ = !r->has_value();
  if (!done_) current_ = **r;
}

// ---- batch view ---------------------------------------------------------------------------------

result<record_batch_view> record_batch_view::parse(byte_span bytes) {
  if (bytes.size() < batch_log_overhead_bytes) return fail(record_errc::truncated);
  const auto length = static_cast<int32_t>(load_be32(bytes.data() + batch_offsets::batch_length));
  if (length < batch_length_min) return fail(record_errc::bad_batch_length);
  const size_t total = batch_log_overhead_bytes + static_cast<size_t>(length);
  if (bytes.size() < total) return fail(record_errc::truncated);
  if (bytes.size() > total) return fail(record_errc::bad_batch_length);
  return record_batch_view(bytes);
}

int64_t record_batch_view::base_offset() const {
  return static_cast<int64_t>(load_be64(bytes_.data() + batch_offsets::base_offset));
}
int32_t record_batch_view::batch_length() const {
  return static_cast<int32_t>(load_be32(bytes_.data() + batch_offsets::batch_length));
}
int32_t record_batch_view::partition_leader_epoch() const {
  return static_cast<int32_t>(load_be32(bytes_.data() + batch_offsets::partition_leader_epoch));
}
int8_t record_batch_view::magic() const { return static_cast<int8_t>(bytes_[batch_offsets::magic]); }
uint32_t record_batch_view::crc() const { return load_be32(bytes_.data() + batch_offsets::crc); }
uint16_t record_batch_view::attributes() const {
  return load_be16(bytes_.data() + batch_offsets::attributes);
}
timestamp_type record_batch_view::ts_type() const {
  return (attributes() & batch_attr::log_append_time) != 0 ? timestamp_type::log_append_time
                                                           : timestamp_type::create_time;
}
int32_t record_batch_view::last_offset_delta() const {
  return static_cast<int32_t>(load_be32(bytes_.data() + batch_offsets::last_offset_delta));
}
int64_t record_batch_view::last_offset() const { return wrapping_add(base_offset(), last_offset_delta()); }
int64_t record_batch_view::base_timestamp() const {
  return static_cast<int64_t>(load_be64(bytes_.data() + batch_offsets::base_timestamp));
}
int64_t record_batch_view::max_timestamp() const {
  return static_cast<int64_t>(load_be64(bytes_.data() + batch_offsets::max_timestamp));
}
int64_t record_batch_view::producer_id() const {
  return static_cast<int64_t>(load_be64(bytes_.data() + batch_offsets::producer_id));
}
int16_t record_batch_view::producer_epoch() const {
  return static_cast<int16_t>(load_be16(bytes_.data() + batch_offsets::producer_epoch));
}
int32_t record_batch_view::base_sequence() const {
  return static_cast<int32_t>(load_be32(bytes_.data() + batch_offsets::base_sequence));
}
int32_t record_batch_view::record_count() const {
  return static_cast<int32_t>(load_be32(bytes_.data() + batch_offsets::record_count));
}
uint32_t record_batch_view::compute_crc() const { return crc32c(bytes_.subspan(batch_offsets::attributes)); }

result<void> record_batch_view::validate(const validate_options& options) const {
  if (magic() != record_batch_magic) return fail(record_errc::bad_magic);
  if (compute_crc() != crc()) return fail(record_errc::bad_crc);
  if (!codec()) return fail(record_errc::unsupported_codec);

  const int64_t count = record_count();
  const int64_t last_delta = last_offset_delta();
  // Compaction may remove records but keeps last_offset_delta: count <= last_delta + 1.
  if (count < 0 || last_delta < 0 || count > last_delta + 1) return fail(record_errc::bad_record_count);
  if (options.producer_batch) {
    if (count == 0 || count != last_delta + 1) return fail(record_errc::bad_record_count);
    if (producer_id() >= 0 && base_sequence() < 0) return fail(record_errc::bad_producer_state);
    if (is_transactional() && producer_id() < 0) return fail(record_errc::bad_producer_state);
  }

  std::vector<uint8_t> decompressed;
  byte_span records = records_data();
  if (is_compressed()) {
    if (options.decompressed_bytes_max == 0) return {};
    decompressed = TRIB_TRY(decompress_records(*this, options.decompressed_bytes_max));
    records = decompressed;
  }
  record_reader reader(*this, records);
  for (;;) {
    auto r = TRIB_TRY(reader.next());
    if (!r) break;
  }
  TRIB_ASSERT(reader.records_read() == record_count());
  return {};
}

record_range record_batch_view::records() const {
  TRIB_ASSERT(!is_compressed(), "records() of a compressed batch: decompress_records() first");
  return record_range(*this, records_data());
}

result<std::vector<uint8_t>> decompress_records(const record_batch_view& batch, size_t output_bytes_max) {
  auto codec = batch.codec();
  if (!codec) return fail(record_errc::unsupported_codec);
  return decompress(*codec, batch.records_data(), output_bytes_max);
}

result<record_range> read_records(const record_batch_view& batch, std::vector<uint8_t>& scratch,
                                  size_t decompressed_bytes_max) {
  if (!batch.is_compressed()) return batch.records();
  scratch = TRIB_TRY(decompress_records(batch, decompressed_bytes_max));
  return batch.records(scratch);
}

// ---- splitter -----------------------------------------------------------------------------------

result<std::optional<record_batch_view>> batch_splitter::next() {
  if (error_) return fail(error_);
  const byte_span rest = data_.subspan(pos_);
  if (rest.empty()) return std::optional<record_batch_view>();

  auto stop = [&](record_errc e) -> result<std::optional<record_batch_view>> {
    error_ = make_error_code(e);
    return fail(error_);
  };
  if (rest.size() < batch_log_overhead_bytes) return stop(record_errc::truncated);
  const auto length = static_cast<int32_t>(load_be32(rest.data() + batch_offsets::batch_length));
  if (length < batch_length_min) return stop(record_errc::bad_batch_length);
  const size_t total = batch_log_overhead_bytes + static_cast<size_t>(length);
  if (total > batch_bytes_max_) return stop(record_errc::too_large);
  // A wrong magic byte means garbage, even if the buffer also ends early.
  if (rest.size() > batch_offsets::magic &&
      static_cast<int8_t>(rest[batch_offsets::magic]) != record_batch_magic)
    return stop(record_errc::bad_magic);
  if (rest.size() < total) return stop(record_errc::truncated);

  auto view = record_batch_view::parse(rest.first(total));
  TRIB_ASSERT(view.has_value());
  pos_ += total;
  return std::optional<record_batch_view>(*view);
}

// ---- mutators -----------------------------------------------------------------------------------

void set_base_offset(std::span<uint8_t> batch, int64_t base_offset) {
  check_framed(batch);
  store_be64(batch.data() + batch_offsets::base_offset, static_cast<uint64_t>(base_offset));
}

void set_partition_leader_epoch(std::span<uint8_t> batch, int32_t epoch) {
  check_framed(batch);
  store_be32(batch.data() + batch_offsets::partition_leader_epoch, static_cast<uint32_t>(epoch));
}

void set_log_append_time(std::span<uint8_t> batch, int64_t timestamp_ms) {
  check_framed(batch);
  byte_span covered = std::span<const uint8_t>(batch).subspan(batch_offsets::attributes);
  TRIB_ASSERT(crc32c(covered) == load_be32(batch.data() + batch_offsets::crc),
              "set_log_append_time on a batch with a bad CRC");
  uint16_t attrs = load_be16(batch.data() + batch_offsets::attributes);
  store_be16(batch.data() + batch_offsets::attributes,
             static_cast<uint16_t>(attrs | batch_attr::log_append_time));
  store_be64(batch.data() + batch_offsets::max_timestamp, static_cast<uint64_t>(timestamp_ms));
  store_be32(batch.data() + batch_offsets::crc, crc32c(covered));
}

// ---- control records ----------------------------------------------------------------------------

std::array<uint8_t, 4> control_record_key(control_type type) {
  std::array<uint8_t, 4> key{};
  store_be16(key.data(), 0);
  store_be16(key.data() + 2, static_cast<uint16_t>(type));
  return key;
}

std::array<uint8_t, 6> end_txn_marker_value(int32_t coordinator_epoch) {
  std::array<uint8_t, 6> value{};
  store_be16(value.data(), 0);
  store_be32(value.data() + 2, static_cast<uint32_t>(coordinator_epoch));
  return value;
}

result<control_type> parse_control_record_key(const std::optional<byte_span>& key) {
  if (!key || key->size() < 4) return fail(record_errc::bad_control_record);
  const auto version = static_cast<int16_t>(load_be16(key->data()));
  if (version < 0) return fail(record_errc::bad_control_record);
  return static_cast<control_type>(static_cast<int16_t>(load_be16(key->data() + 2)));
}

// ---- builder ------------------------------------------------------------------------------------

record_batch_builder& record_batch_builder::add(const record_input& record) {
  TRIB_ASSERT(count_ < std::numeric_limits<int32_t>::max());
  const int32_t delta = record.offset_delta.value_or(last_delta_ + 1);
  TRIB_ASSERT(delta > last_delta_, "record offset deltas must increase");
  if (count_ == 0) {
    base_timestamp_ = record.timestamp_ms;
    max_timestamp_ = record.timestamp_ms;
  } else {
    max_timestamp_ = std::max(max_timestamp_, record.timestamp_ms);
  }
  const int64_t ts_delta = wrapping_sub(record.timestamp_ms, base_timestamp_);

  size_t body = 1 + varint_size(ts_delta) + varint_size(delta) + nullable_field_size(record.key) +
                nullable_field_size(record.value) + varint_size(static_cast<int64_t>(record.headers.size()));
  for (const header_input& h : record.headers) {
    body += varint_size(static_cast<int64_t>(h.key.size())) + h.key.size() + nullable_field_size(h.value);
  }
  TRIB_ASSERT(
      body <= static_cast<size_t>(INT32_MAX) && record.headers.size() <= static_cast<size_t>(INT32_MAX),
      "record too large for Kafka");

  const size_t before = records_.size();
  records_.write_varint(static_cast<int32_t>(body));
  const size_t body_start = records_.size();
  records_.write_i8(0);  // record attributes: unused
  records_.write_varlong(ts_delta);
  records_.write_varint(delta);
  write_nullable_field(records_, record.key);
  write_nullable_field(records_, record.value);
  records_.write_varint(static_cast<int32_t>(record.headers.size()));
  for (const header_input& h : record.headers) {
    records_.write_varint(static_cast<int32_t>(h.key.size()));
    records_.write_raw(h.key);
    write_nullable_field(records_, h.value);
  }
  TRIB_ASSERT(records_.size() - body_start == body &&
              body_start - before == varint_size(static_cast<int64_t>(body)));

  last_delta_ = delta;
  ++count_;
  return *this;
}

result<std::vector<uint8_t>> record_batch_builder::build() const {
  std::vector<uint8_t> compressed;
  byte_span section = records_.view();
  if (options_.codec != compression_codec::none) {
    compressed = TRIB_TRY(compress(options_.codec, section));
    section = compressed;
  }
  const int32_t last_delta = options_.last_offset_delta.value_or(count_ == 0 ? 0 : last_delta_);
  TRIB_ASSERT(last_delta >= last_delta_, "last_offset_delta below the last record's offset delta");
  const size_t total = batch_header_bytes + section.size();
  TRIB_ASSERT(total - batch_log_overhead_bytes <= static_cast<size_t>(INT32_MAX),
              "batch too large for Kafka");

  uint16_t attrs = static_cast<uint16_t>(options_.codec);
  if (options_.transactional) attrs |= batch_attr::transactional;
  if (options_.control) attrs |= batch_attr::control;

  byte_writer w;
  w.reserve(total);
  w.write_i64(options_.base_offset);
  w.write_i32(static_cast<int32_t>(total - batch_log_overhead_bytes));
  w.write_i32(options_.partition_leader_epoch);
  w.write_i8(record_batch_magic);
  const size_t crc_at = w.reserve_bytes(4);
  w.write_u16(attrs);
  w.write_i32(last_delta);
  w.write_i64(base_timestamp_);
  w.write_i64(max_timestamp_);
  w.write_i64(options_.producer_id);
  w.write_i16(options_.producer_epoch);
  w.write_i32(options_.base_sequence);
  w.write_i32(count_);
  TRIB_ASSERT(w.size() == batch_header_bytes);
  w.write_raw(section);
  w.patch_u32(crc_at, crc32c(w.view().subspan(batch_offsets::attributes)));
  TRIB_ASSERT(w.size() == total);
  return w.take();
}

}  // namespace tributary::kafka
