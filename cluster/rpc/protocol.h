#pragma once
// The cluster RPC protocol between broker nodes (port 9093): length-prefixed, versioned frames.
// Pure: bytes in, frames out, and frames to bytes; no sockets (the libuv transport is transport.h).
//
// A frame on the wire:
//
//   u32 length   bytes after this field (version + type + body); at most the receiver's
//                max_frame_bytes, checked before anything is buffered
//   u16 version  the protocol version the sender speaks on this connection (hello negotiates it)
//   u16 type     frame_type
//   body         as the type says; every integer is big-endian or a (zigzag) varint
//
// One connection carries everything between two nodes, in both directions: all Raft traffic of all
// groups (the controller's group 0 and every partition's group) and node-to-node requests. The
// connection opens with `hello` from the dialling node and `hello_ack` (or `hello_reject`) from the
// other; any other frame before that ends the connection.
//
// Raft messages of many groups travel together in one `raft` frame: the transport collects what every
// group's ready() produced for a peer during one loop turn and sends one frame, so the heartbeats of N
// partitions between two nodes are one frame per heartbeat interval, not N. A heartbeat costs a few
// bytes in it (varints; fields at their defaults cost one byte).
//
// A message's `from` and `to` are not sent: they are the connection's two nodes.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "cluster/raft/message.h"
#include "common/bytes.h"
#include "common/result.h"

namespace tributary::cluster::rpc {

inline constexpr uint16_t min_version = 1;
inline constexpr uint16_t max_version = 1;
inline constexpr size_t header_bytes = 8;  // length + version + type

enum class frame_type : uint16_t {
  hello = 1,         // dialler -> acceptor
  hello_ack = 2,     // acceptor -> dialler: the version both speak from now on
  hello_reject = 3,  // acceptor -> dialler, then close: why (wrong cluster, unknown version, ...)
  raft = 4,          // Raft messages of any number of groups
  request = 5,       // a node-to-node call (api + correlation id + body)
  response = 6,      // its answer
};
const char* to_string(frame_type t);

enum class errc {
  frame_too_large = 1,  // a length prefix above max_frame_bytes (the connection is closed)
  frame_too_small,      // a length prefix shorter than version + type
  unsupported_version,  // a frame in a version this node does not speak
  unknown_frame_type,   // a frame type this version does not define
  malformed,            // a body that does not decode (truncated, bad varint, bad value)
  trailing_bytes,       // a body with bytes left over after its last field
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::cluster::rpc

template <>
struct tributary::errc_info<tributary::cluster::rpc::errc> {
  static constexpr const char* name = "rpc";
  static const char* message(tributary::cluster::rpc::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::rpc::errc> : std::true_type {};

namespace tributary::cluster::rpc {

// A Raft group: 0 is the controller, a partition's group id comes from the controller's metadata.
using group_id = strong<uint64_t, struct group_id_tag>;

struct hello {
  std::string cluster_id;  // a node refuses a peer of another cluster
  raft::node_id node;      // the dialling node
  uint16_t min_version = rpc::min_version;
  uint16_t max_version = rpc::max_version;
  friend bool operator==(const hello&, const hello&) = default;
};

struct hello_ack {
  raft::node_id node;  // the accepting node
  uint16_t version = 0;
  friend bool operator==(const hello_ack&, const hello_ack&) = default;
};

struct hello_reject {
  std::string reason;
  friend bool operator==(const hello_reject&, const hello_reject&) = default;
};

struct group_message {
  rpc::group_id group;
  raft::message message;  // from/to are filled in by the receiver from the connection
};

struct raft_batch {
  std::vector<group_message> messages;
};

// Node-to-node calls. The body's encoding belongs to the api (see the services that use them).
enum class api : uint16_t {
  controller_command = 1,  // a node asks the controller leader to propose a metadata command
  leader_report = 2,       // a node tells another which partitions it leads (controller/leader_report.h)
};

struct request {
  uint64_t correlation_id = 0;
  rpc::api api = rpc::api::controller_command;
  std::vector<uint8_t> body;
  friend bool operator==(const request&, const request&) = default;
};

struct response {
  uint64_t correlation_id = 0;
  int16_t error = 0;    // 0 = ok; otherwise the api's error code
  std::string message;  // for an operator, when error != 0
  std::vector<uint8_t> body;
  friend bool operator==(const response&, const response&) = default;
};

using frame = std::variant<hello, hello_ack, hello_reject, raft_batch, request, response>;

// Encodes one frame, header included, in `version` (hello is always sent in min_version, the layout
// every version can read, because the peer's versions are not known yet).
std::vector<uint8_t> encode(const frame& f, uint16_t version);

// Decodes one frame's body (the bytes after the header) in `version`.
result<frame> decode_body(uint16_t version, frame_type type, byte_span body);

// Decodes one whole frame, header included (its length field must match), as a framed transport
// delivers it; the version is returned beside the frame.
struct versioned_frame {
  uint16_t version = 0;
  rpc::frame frame;
};
result<versioned_frame> decode_frame(byte_span whole);

// Cuts a byte stream into frames. Feed whatever arrived; take frames until none is complete. After
// an error the stream is unusable (the caller closes the connection): the error is sticky.
class frame_reader {
 public:
  explicit frame_reader(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

  void feed(byte_span data);
  // The next complete frame, nullopt when more bytes are needed, or an error (a frame in a version
  // outside [min_version, max_version] is unsupported_version; whether it is the version agreed on
  // the connection is the transport's check).
  result<std::optional<frame>> next();
  // The version of the frame next() returned last.
  uint16_t last_version() const { return last_version_; }
  // Bytes buffered and not yet consumed.
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  size_t max_frame_bytes_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  uint16_t last_version_ = 0;
  std::error_code failed_;
};

}  // namespace tributary::cluster::rpc
