#include "cluster/rpc/protocol.h"

#include <cstring>

namespace tributary {

const char* errc_info<cluster::rpc::errc>::message(cluster::rpc::errc e) noexcept {
  using cluster::rpc::errc;
  switch (e) {
    case errc::frame_too_large: return "frame length above max_frame_bytes";
    case errc::frame_too_small: return "frame length shorter than its header";
    case errc::unsupported_version: return "frame in an unsupported protocol version";
    case errc::unknown_frame_type: return "unknown frame type";
    case errc::malformed: return "malformed frame body";
    case errc::trailing_bytes: return "bytes left over after the frame body";
  }
  return "unknown rpc error";
}

}  // namespace tributary

namespace tributary::cluster::rpc {

namespace {

// Smallest encodings, to bound counts read from the wire before anything is reserved.
constexpr size_t min_entry_bytes = 5;     // term, index, type, width, data length
constexpr size_t min_message_bytes = 10;  // group, type, flags, six one-byte fields, entry count

constexpr uint8_t flag_reject = 1;
constexpr uint8_t flag_transfer = 2;
constexpr uint8_t flag_snapshot = 4;
constexpr uint8_t known_flags = flag_reject | flag_transfer | flag_snapshot;

constexpr uint8_t max_message_type = static_cast<uint8_t>(raft::message_type::read_index_response);
constexpr uint8_t max_entry_type = static_cast<uint8_t>(raft::entry_type::no_op);

void put_bytes(byte_writer& w, byte_span b) {
  w.write_uvarlong(b.size());
  w.write_raw(b);
}

void put_ids(byte_writer& w, const std::vector<raft::node_id>& ids) {
  w.write_uvarlong(ids.size());
  for (auto id : ids) w.write_uvarlong(id.value);
}

void put_message(byte_writer& w, const group_message& gm) {
  const auto& m = gm.message;
  w.write_uvarlong(gm.group.value);
  w.write_u8(static_cast<uint8_t>(m.type));
  w.write_u8(static_cast<uint8_t>((m.reject ? flag_reject : 0) | (m.transfer ? flag_transfer : 0) |
                                  (m.snapshot ? flag_snapshot : 0)));
  w.write_varlong(m.term.value);
  w.write_varlong(m.index.value);
  w.write_varlong(m.log_term.value);
  w.write_varlong(m.commit.value);
  w.write_varlong(m.reject_hint.value);
  w.write_uvarlong(m.context);
  w.write_uvarlong(m.entries.size());
  for (const auto& e : m.entries) {
    w.write_varlong(e.term.value);
    w.write_varlong(e.index.value);
    w.write_u8(static_cast<uint8_t>(e.type));
    w.write_uvarlong(e.width);
    put_bytes(w, e.data.bytes());
  }
  if (m.snapshot) {
    const auto& s = *m.snapshot;
    w.write_varlong(s.metadata.index.value);
    w.write_varlong(s.metadata.term.value);
    put_ids(w, s.metadata.config.voters);
    put_ids(w, s.metadata.config.learners);
    put_bytes(w, s.data.bytes());
  }
}

// Readers that turn every failure into errc::malformed.
class body_reader {
 public:
  explicit body_reader(byte_span b) : r_(b) {}

  bool empty() const { return r_.empty(); }
  size_t remaining() const { return r_.remaining(); }

  result<uint8_t> u8() { return wrap(r_.read_u8()); }
  result<uint16_t> u16() { return wrap(r_.read_u16()); }
  result<int16_t> i16() { return wrap(r_.read_i16()); }
  result<uint64_t> u64() { return wrap(r_.read_u64()); }
  result<uint64_t> uvarlong() { return wrap(r_.read_uvarlong()); }
  result<int64_t> varlong() { return wrap(r_.read_varlong()); }
  result<std::string> string() {
    auto s = TRIB_TRY(wrap(r_.read_string()));
    return std::string(s);
  }
  result<std::vector<uint8_t>> int32_bytes() {
    auto b = TRIB_TRY(wrap(r_.read_bytes()));
    return std::vector<uint8_t>(b.begin(), b.end());
  }
  // A uvarlong length, then that many bytes.
  result<byte_span> var_bytes() {
    auto n = TRIB_TRY(uvarlong());
    if (n > r_.remaining()) return fail(errc::malformed);
    return wrap(r_.read_span(static_cast<size_t>(n)));
  }
  // A count of items each at least `min_bytes` long: refused when they cannot fit in what is left.
  result<size_t> count(size_t min_bytes) {
    auto n = TRIB_TRY(uvarlong());
    if (n > r_.remaining() / min_bytes) return fail(errc::malformed);
    return static_cast<size_t>(n);
  }

 private:
  template <class T>
  static result<T> wrap(result<T> r) {
    if (!r) return fail(errc::malformed);
    return r;
  }
  byte_reader r_;
};

result<std::vector<raft::node_id>> get_ids(body_reader& r) {
  auto n = TRIB_TRY(r.count(1));
  std::vector<raft::node_id> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) ids.push_back(raft::node_id{TRIB_TRY(r.uvarlong())});
  return ids;
}

result<group_message> get_message(body_reader& r) {
  group_message gm;
  gm.group = group_id{TRIB_TRY(r.uvarlong())};
  auto& m = gm.message;
  const uint8_t type = TRIB_TRY(r.u8());
  if (type > max_message_type) return fail(errc::malformed);
  m.type = static_cast<raft::message_type>(type);
  const uint8_t flags = TRIB_TRY(r.u8());
  if ((flags & ~known_flags) != 0) return fail(errc::malformed);
  m.reject = (flags & flag_reject) != 0;
  m.transfer = (flags & flag_transfer) != 0;
  m.term = raft::term{TRIB_TRY(r.varlong())};
  m.index = raft::log_index{TRIB_TRY(r.varlong())};
  m.log_term = raft::term{TRIB_TRY(r.varlong())};
  m.commit = raft::log_index{TRIB_TRY(r.varlong())};
  m.reject_hint = raft::log_index{TRIB_TRY(r.varlong())};
  m.context = TRIB_TRY(r.uvarlong());
  const size_t n = TRIB_TRY(r.count(min_entry_bytes));
  m.entries.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    raft::entry e;
    e.term = raft::term{TRIB_TRY(r.varlong())};
    e.index = raft::log_index{TRIB_TRY(r.varlong())};
    const uint8_t et = TRIB_TRY(r.u8());
    if (et > max_entry_type) return fail(errc::malformed);
    e.type = static_cast<raft::entry_type>(et);
    const uint64_t width = TRIB_TRY(r.uvarlong());
    if (width == 0 || width > raft::max_entry_width) return fail(errc::malformed);
    e.width = static_cast<uint32_t>(width);
    e.data = raft::payload::copy_of(TRIB_TRY(r.var_bytes()));
    m.entries.push_back(std::move(e));
  }
  if ((flags & flag_snapshot) != 0) {
    raft::snapshot s;
    s.metadata.index = raft::log_index{TRIB_TRY(r.varlong())};
    s.metadata.term = raft::term{TRIB_TRY(r.varlong())};
    s.metadata.config.voters = TRIB_TRY(get_ids(r));
    s.metadata.config.learners = TRIB_TRY(get_ids(r));
    s.data = raft::payload::copy_of(TRIB_TRY(r.var_bytes()));
    m.snapshot = std::move(s);
  }
  return gm;
}

frame_type type_of(const frame& f) {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, hello>) return frame_type::hello;
        if constexpr (std::is_same_v<T, hello_ack>) return frame_type::hello_ack;
        if constexpr (std::is_same_v<T, hello_reject>) return frame_type::hello_reject;
        if constexpr (std::is_same_v<T, raft_batch>) return frame_type::raft;
        if constexpr (std::is_same_v<T, request>) return frame_type::request;
        if constexpr (std::is_same_v<T, response>) return frame_type::response;
      },
      f);
}

}  // namespace

const char* to_string(frame_type t) {
  switch (t) {
    case frame_type::hello: return "hello";
    case frame_type::hello_ack: return "hello_ack";
    case frame_type::hello_reject: return "hello_reject";
    case frame_type::raft: return "raft";
    case frame_type::request: return "request";
    case frame_type::response: return "response";
  }
  return "unknown";
}

std::vector<uint8_t> encode(const frame& f, uint16_t version) {
  const frame_type type = type_of(f);
  if (type == frame_type::hello) version = min_version;
  byte_writer w;
  const size_t length_at = w.reserve_bytes(4);
  w.write_u16(version);
  w.write_u16(static_cast<uint16_t>(type));
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, hello>) {
          w.write_string(v.cluster_id);
          w.write_u64(v.node.value);
          w.write_u16(v.min_version);
          w.write_u16(v.max_version);
        } else if constexpr (std::is_same_v<T, hello_ack>) {
          w.write_u64(v.node.value);
          w.write_u16(v.version);
        } else if constexpr (std::is_same_v<T, hello_reject>) {
          w.write_string(v.reason);
        } else if constexpr (std::is_same_v<T, raft_batch>) {
          w.write_uvarlong(v.messages.size());
          for (const auto& m : v.messages) put_message(w, m);
        } else if constexpr (std::is_same_v<T, request>) {
          w.write_u64(v.correlation_id);
          w.write_u16(static_cast<uint16_t>(v.api));
          w.write_bytes(v.body);
        } else if constexpr (std::is_same_v<T, response>) {
          w.write_u64(v.correlation_id);
          w.write_i16(v.error);
          w.write_string(v.message);
          w.write_bytes(v.body);
        }
      },
      f);
  w.patch_u32(length_at, static_cast<uint32_t>(w.size() - 4));
  return w.take();
}

result<frame> decode_body(uint16_t version, frame_type type, byte_span body) {
  if (version < min_version || version > max_version) return fail(errc::unsupported_version);
  body_reader r(body);
  frame f;
  switch (type) {
    case frame_type::hello: {
      hello h;
      h.cluster_id = TRIB_TRY(r.string());
      h.node = raft::node_id{TRIB_TRY(r.u64())};
      h.min_version = TRIB_TRY(r.u16());
      h.max_version = TRIB_TRY(r.u16());
      if (h.min_version > h.max_version) return fail(errc::malformed);
      f = std::move(h);
      break;
    }
    case frame_type::hello_ack: {
      hello_ack a;
      a.node = raft::node_id{TRIB_TRY(r.u64())};
      a.version = TRIB_TRY(r.u16());
      f = a;
      break;
    }
    case frame_type::hello_reject: f = hello_reject{TRIB_TRY(r.string())}; break;
    case frame_type::raft: {
      raft_batch b;
      const size_t n = TRIB_TRY(r.count(min_message_bytes));
      b.messages.reserve(n);
      for (size_t i = 0; i < n; ++i) b.messages.push_back(TRIB_TRY(get_message(r)));
      f = std::move(b);
      break;
    }
    case frame_type::request: {
      request q;
      q.correlation_id = TRIB_TRY(r.u64());
      q.api = static_cast<rpc::api>(TRIB_TRY(r.u16()));
      q.body = TRIB_TRY(r.int32_bytes());
      f = std::move(q);
      break;
    }
    case frame_type::response: {
      response p;
      p.correlation_id = TRIB_TRY(r.u64());
      p.error = TRIB_TRY(r.i16());
      p.message = TRIB_TRY(r.string());
      p.body = TRIB_TRY(r.int32_bytes());
      f = std::move(p);
      break;
    }
    default: return fail(errc::unknown_frame_type);
  }
  if (!r.empty()) return fail(errc::trailing_bytes);
  return f;
}

result<versioned_frame> decode_frame(byte_span whole) {
  if (whole.size() < header_bytes) return fail(errc::frame_too_small);
  if (load_be32(whole.data()) != whole.size() - 4) return fail(errc::malformed);
  const uint16_t version = load_be16(whole.data() + 4);
  const auto type = static_cast<frame_type>(load_be16(whole.data() + 6));
  auto f = TRIB_TRY(decode_body(version, type, whole.subspan(header_bytes)));
  return versioned_frame{version, std::move(f)};
}

void frame_reader::feed(byte_span data) {
  if (failed_) return;
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  buf_.insert(buf_.end(), data.begin(), data.end());
}

result<std::optional<frame>> frame_reader::next() {
  if (failed_) return fail(failed_);
  auto give_up = [this](errc e) {
    failed_ = e;
    return fail(e);
  };
  const size_t have = buf_.size() - pos_;
  if (have < 4) return std::optional<frame>();
  const uint32_t length = load_be32(buf_.data() + pos_);
  if (length > max_frame_bytes_) return give_up(errc::frame_too_large);
  if (length < header_bytes - 4) return give_up(errc::frame_too_small);
  if (have < 4 + size_t{length}) return std::optional<frame>();
  auto f = decode_frame(byte_span(buf_.data() + pos_, 4 + size_t{length}));
  if (!f) {
    failed_ = f.error();
    return fail(failed_);
  }
  pos_ += 4 + size_t{length};
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (64u << 10) && pos_ * 2 > buf_.size()) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  last_version_ = f->version;
  return std::optional<frame>(std::move(f->frame));
}

}  // namespace tributary::cluster::rpc
