#include "cluster/replication/segment_storage.h"

#include <cerrno>

#include "common/assert.h"
#include "common/crc32c.h"
#include "common/file.h"
#include "common/kafka/record_batch.h"
#include "common/log.h"

namespace tributary {

const char* errc_info<cluster::replication::errc>::message(cluster::replication::errc e) noexcept {
  using cluster::replication::errc;
  switch (e) {
    case errc::bad_state_file: return "raft.state unreadable or failing its checksum";
    case errc::entry_mismatch: return "entry and batch disagree (offset, width or term)";
    case errc::not_a_batch: return "stored batch is not a Raft entry";
    case errc::io_error: return "I/O error writing the Raft state";
  }
  return "unknown replication error";
}

}  // namespace tributary

namespace tributary::cluster::replication {

namespace {

constexpr uint32_t state_magic = 0x54525354;  // "TRST"
constexpr uint16_t state_version = 1;

void put_ids(byte_writer& w, const std::vector<raft::node_id>& ids) {
  w.write_u32(static_cast<uint32_t>(ids.size()));
  for (auto id : ids) w.write_u64(id.value);
}

result<std::vector<raft::node_id>> get_ids(byte_reader& r) {
  auto n = TRIB_TRY(r.read_u32());
  if (n > r.remaining() / 8) return fail(errc::bad_state_file);
  std::vector<raft::node_id> ids;
  for (uint32_t i = 0; i < n; ++i) ids.push_back(raft::node_id{TRIB_TRY(r.read_u64())});
  return ids;
}

// raft.state: magic, version, term, vote, commit, snapshot index, snapshot term, voters, learners,
// then a CRC-32C of everything before it.
std::vector<uint8_t> encode_state(const raft::hard_state& hs, const raft::snapshot_metadata& s) {
  byte_writer w;
  w.write_u32(state_magic);
  w.write_u16(state_version);
  w.write_i64(hs.term.value);
  w.write_u64(hs.vote.value);
  w.write_i64(hs.commit.value);
  w.write_i64(s.index.value);
  w.write_i64(s.term.value);
  put_ids(w, s.config.voters);
  put_ids(w, s.config.learners);
  w.write_u32(crc32c(w.view()));
  return w.take();
}

result<std::pair<raft::hard_state, raft::snapshot_metadata>> decode_state(byte_span data) {
  if (data.size() < 4) return fail(errc::bad_state_file);
  byte_reader r(data.first(data.size() - 4));
  if (load_be32(data.data() + data.size() - 4) != crc32c(data.first(data.size() - 4)))
    return fail(errc::bad_state_file);
  auto parse = [&r]() -> result<std::pair<raft::hard_state, raft::snapshot_metadata>> {
    if (TRIB_TRY(r.read_u32()) != state_magic || TRIB_TRY(r.read_u16()) != state_version)
      return fail(errc::bad_state_file);
    raft::hard_state hs;
    raft::snapshot_metadata s;
    hs.term = raft::term{TRIB_TRY(r.read_i64())};
    hs.vote = raft::node_id{TRIB_TRY(r.read_u64())};
    hs.commit = raft::log_index{TRIB_TRY(r.read_i64())};
    s.index = raft::log_index{TRIB_TRY(r.read_i64())};
    s.term = raft::term{TRIB_TRY(r.read_i64())};
    s.config.voters = TRIB_TRY(get_ids(r));
    s.config.learners = TRIB_TRY(get_ids(r));
    if (!r.empty()) return fail(errc::bad_state_file);
    return std::pair{hs, s};
  };
  auto out = parse();
  if (!out) return fail(errc::bad_state_file);
  return out;
}

storage::offset to_offset(raft::log_index i) { return storage::offset{i.value}; }

}  // namespace

result<raft::entry> entry_of_batch(byte_span bytes) {
  auto batch = kafka::record_batch_view::parse(bytes);
  if (!batch) return fail(errc::not_a_batch);
  raft::entry e;
  e.index = raft::log_index{batch->base_offset()};
  e.term = raft::term{batch->partition_leader_epoch()};
  if (batch->last_offset_delta() < 0 || e.term.value < 0) return fail(errc::not_a_batch);
  e.width = static_cast<uint32_t>(batch->last_offset_delta()) + 1;
  if (!batch->is_control() || batch->is_compressed()) {
    e.data = raft::payload::copy_of(bytes);
    return e;
  }
  auto records = batch->records();
  auto it = records.begin();
  if (it == records.end()) return fail(errc::not_a_batch);
  const auto& rec = *it;
  auto type = kafka::parse_control_record_key(rec.key());
  if (!type) return fail(errc::not_a_batch);
  const auto t = static_cast<int16_t>(*type);
  if (t == control_type_no_op) {
    e.type = raft::entry_type::no_op;
  } else if (t == control_type_config) {
    e.type = raft::entry_type::config;
    if (!rec.value()) return fail(errc::not_a_batch);
    e.data = raft::payload::copy_of(*rec.value());
  } else {
    e.data = raft::payload::copy_of(bytes);  // a transaction marker: an ordinary batch to Raft
  }
  return e;
}

std::vector<uint8_t> control_batch_of(const raft::entry& e, int64_t now_ms) {
  TRIB_ASSERT(e.type != raft::entry_type::normal && e.width == 1);
  const int16_t type = e.type == raft::entry_type::no_op ? control_type_no_op : control_type_config;
  const auto key = kafka::control_record_key(static_cast<kafka::control_type>(type));
  kafka::record_batch_builder b({.base_offset = e.index.value,
                                 .partition_leader_epoch = static_cast<int32_t>(e.term.value),
                                 .control = true});
  b.add({.timestamp_ms = now_ms, .key = byte_span(key), .value = e.data.bytes()});
  auto built = b.build();
  TRIB_ASSERT(built.has_value(), "an uncompressed batch always builds");
  return std::move(*built);
}

result<std::unique_ptr<segment_storage>> segment_storage::open(storage::partition_log& log,
                                                               raft::membership bootstrap) {
  std::unique_ptr<segment_storage> s(new segment_storage(log));
  auto text = read_small_file(s->state_path());
  if (!text && text.error() != std::errc::no_such_file_or_directory) {
    TRIB_LOG_ERROR("replication", "state_read_failed", {"path", s->state_path().string()},
                   {"error", text.error().message()});
    return fail(errc::bad_state_file);
  }
  if (!text) {
    // A new group: the log starts where the partition log starts.
    s->snapshot_.index = raft::log_index{log.start_offset().value - 1};
    s->snapshot_.config = std::move(bootstrap);
    TRIB_TRY_VOID(s->write_state());
    return s;
  }
  auto st = decode_state(as_bytes(*text));
  if (!st) {
    TRIB_LOG_ERROR("replication", "bad_state_file", {"path", s->state_path().string()});
    return fail(st.error());
  }
  std::tie(s->hard_state_, s->snapshot_) = *st;
  auto data = read_small_file(s->snapshot_path());
  if (data) {
    s->snapshot_data_ = raft::payload(std::vector<uint8_t>(data->begin(), data->end()));
  } else if (data.error() != std::errc::no_such_file_or_directory) {
    return fail(errc::bad_state_file);
  }
  return s;
}

result<raft::snapshot> segment_storage::latest_snapshot() const {
  return raft::snapshot{snapshot_, snapshot_data_};
}

// The log may still hold bytes below the snapshot (compacted() runs before the segments go): they
// are not part of the Raft log any more.
raft::log_index segment_storage::first_index() const {
  return std::max(raft::log_index{log_.start_offset().value}, raft::next_index(snapshot_.index));
}

raft::log_index segment_storage::last_index() const {
  return std::max(raft::log_index{log_.end_offset().value - 1}, snapshot_.index);
}

result<raft::term> segment_storage::term_at(raft::log_index i) const {
  if (i < snapshot_.index) return fail(raft::errc::compacted);
  if (i > last_index()) return fail(raft::errc::unavailable);
  if (i == snapshot_.index) return snapshot_.term;
  auto epoch = log_.epoch_at(to_offset(i));
  if (!epoch) return fail(raft::errc::unavailable);
  return raft::term{epoch->value};
}

result<std::vector<raft::entry>> segment_storage::entries(raft::log_index lo, raft::log_index hi,
                                                          size_t max_bytes) const {
  if (lo < first_index()) return fail(raft::errc::compacted);
  if (hi > raft::next_index(last_index())) return fail(raft::errc::unavailable);
  std::vector<raft::entry> out;
  size_t bytes = 0;
  raft::log_index at = lo;
  while (at < hi) {
    auto rd = log_.read(to_offset(at), max_bytes, to_offset(hi));
    if (!rd) return fail(raft::errc::unavailable);
    if (rd->data.empty()) break;
    kafka::batch_splitter split(rd->data);
    for (;;) {
      auto next = split.next();
      if (!next) return fail(errc::not_a_batch);
      if (!next->has_value()) break;
      auto e = TRIB_TRY(entry_of_batch((*next)->bytes()));
      if (!out.empty() && bytes + e.byte_size() > max_bytes) return out;
      if (!out.empty() && e.index != raft::next_index(out.back().last())) {
        // A gap (a damaged closed segment): Raft cannot hand out a log with a hole.
        return fail(raft::errc::unavailable);
      }
      bytes += e.byte_size();
      out.push_back(std::move(e));
    }
    if (out.empty()) break;
    at = raft::next_index(out.back().last());
  }
  return out;
}

result<void> segment_storage::apply_snapshot(const raft::snapshot& s, int64_t now_ms) {
  if (s.metadata.index <= snapshot_.index) return fail(raft::errc::snapshot_out_of_date);
  if (!s.data.empty()) {
    if (auto r = write_file_durably(snapshot_path(), s.data.bytes()); !r) return fail(errc::io_error);
  }
  snapshot_ = s.metadata;
  snapshot_data_ = s.data;
  TRIB_TRY_VOID(write_state());
  if (auto r = log_.reset_to(storage::offset{s.metadata.index.value + 1}, now_ms); !r)
    return fail(errc::io_error);
  return {};
}

result<void> segment_storage::append(std::span<const raft::entry> ents, int64_t now_ms) {
  if (ents.empty()) return {};
  const auto first = ents.front().index;
  if (first <= snapshot_.index) return fail(raft::errc::compacted);
  if (first.value > log_.end_offset().value) return fail(raft::errc::unavailable);
  if (first.value < log_.end_offset().value) {
    if (auto r = log_.truncate_suffix(to_offset(first)); !r) {
      return fail(r.error() == storage::errc::not_batch_boundary
                      ? std::error_code(raft::errc::not_entry_boundary)
                      : std::error_code(errc::io_error));
    }
  }
  for (const auto& e : ents) {
    std::vector<uint8_t> control;
    byte_span bytes;
    if (e.type == raft::entry_type::normal) {
      auto batch = kafka::record_batch_view::parse(e.data.bytes());
      if (!batch || batch->base_offset() != e.index.value ||
          batch->partition_leader_epoch() != e.term.value ||
          static_cast<uint64_t>(batch->last_offset_delta()) + 1 != e.width)
        return fail(errc::entry_mismatch);
      bytes = e.data.bytes();
    } else {
      control = control_batch_of(e, now_ms);
      bytes = control;
    }
    if (auto r = log_.append_exact(bytes, now_ms); !r) {
      TRIB_LOG_ERROR("replication", "append_failed", {"dir", log_.dir().string()}, {"offset", e.index.value},
                     {"error", r.error().message()});
      return fail(errc::io_error);
    }
  }
  return {};
}

result<void> segment_storage::set_hard_state(const raft::hard_state& hs) {
  const bool durable_change = hs.term != hard_state_.term || hs.vote != hard_state_.vote;
  hard_state_ = hs;
  if (durable_change) TRIB_TRY_VOID(write_state());
  return {};
}

result<void> segment_storage::create_snapshot(raft::log_index index, raft::membership config,
                                              raft::payload data) {
  if (index < snapshot_.index) return fail(raft::errc::snapshot_out_of_date);
  if (index > last_index()) return fail(raft::errc::unavailable);
  const auto t = TRIB_TRY(term_at(index));
  if (auto r = write_file_durably(snapshot_path(), data.bytes()); !r) return fail(errc::io_error);
  snapshot_ = raft::snapshot_metadata{index, t, std::move(config)};
  snapshot_data_ = std::move(data);
  return write_state();
}

result<void> segment_storage::compacted(raft::log_index through, raft::term t, raft::membership config) {
  if (through <= snapshot_.index) return {};
  snapshot_ = raft::snapshot_metadata{through, t, std::move(config)};
  return write_state();
}

result<void> segment_storage::write_state() {
  auto bytes = encode_state(hard_state_, snapshot_);
  if (auto r = write_file_durably(state_path(), bytes); !r) {
    TRIB_LOG_ERROR("replication", "state_write_failed", {"path", state_path().string()},
                   {"error", r.error().message()});
    return fail(errc::io_error);
  }
  return {};
}

}  // namespace tributary::cluster::replication
