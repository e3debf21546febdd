// Fuzzes the cluster RPC frame reader and codec (cluster/rpc/protocol.h), and checks for any input:
//   - the reader never crashes, never returns a frame after an error, and buffers at most what was fed;
//   - every decoded frame re-encodes to bytes that decode to a frame encoding to the same bytes (the
//     codec is a fixed point after one round, whatever non-canonical varints the input used).
// The input is fed in two pieces to exercise partial frames.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cluster/rpc/protocol.h"
#include "common/assert.h"

using namespace tributary;
using namespace tributary::cluster;

namespace {
constexpr size_t max_frame_bytes = 1 << 16;
constexpr size_t frames_max = 64;

std::vector<uint8_t> round_trip(const rpc::frame& f, uint16_t version) {
  auto wire = rpc::encode(f, version);
  rpc::frame_reader r(wire.size() + 16);
  r.feed(wire);
  auto again = r.next();
  TRIB_ASSERT(again.has_value() && again->has_value());
  return rpc::encode(**again, r.last_version());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  rpc::frame_reader r(max_frame_bytes);
  const size_t half = size / 2;
  r.feed(byte_span(data, half));
  bool failed = false;
  size_t frames = 0;
  for (int piece = 0; piece < 2 && !failed; ++piece) {
    if (piece == 1) r.feed(byte_span(data + half, size - half));
    while (frames < frames_max) {
      auto f = r.next();
      if (!f) {
        failed = true;
        break;
      }
      if (!f->has_value()) break;
      ++frames;
      const uint16_t version = r.last_version();
      TRIB_ASSERT(version >= rpc::min_version && version <= rpc::max_version);
      auto once = rpc::encode(**f, version);
      TRIB_ASSERT(round_trip(**f, version) == once);
    }
    TRIB_ASSERT(r.buffered() <= size);
  }
  if (failed) TRIB_ASSERT(!r.next().has_value());
  return 0;
}
