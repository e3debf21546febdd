#include "common/kafka/compression.h"

#include <algorithm>
#include <bit>
#include <climits>
#include <cstring>
#include <limits>

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include "common/assert.h"

namespace tributary::kafka {
namespace {

// Output of a streaming decompressor: grows geometrically up to output_bytes_max + 1 bytes, so
// producing one byte more than the limit is how "too large" is detected without decoding further.
class bounded_output {
 public:
  bounded_output(size_t output_bytes_max, size_t input_bytes)
      : cap_(output_bytes_max == std::numeric_limits<size_t>::max() ? output_bytes_max
                                                                    : output_bytes_max + 1),
        limit_(output_bytes_max) {
    size_t first = input_bytes > std::numeric_limits<size_t>::max() / 4 ? input_bytes : input_bytes * 4;
    buf_.resize(std::min(cap_, std::max<size_t>(first, 4096)));
  }

  // Makes room for more output; false when the buffer is already at its cap.
  bool ensure_room() {
    if (used_ < buf_.size()) return true;
    if (buf_.size() >= cap_) return false;
    size_t next = buf_.size() > cap_ / 2 ? cap_ : buf_.size() * 2;
    buf_.resize(next);
    return true;
  }
  uint8_t* tail() { return buf_.data() + used_; }
  size_t room() const { return buf_.size() - used_; }
  void produced(size_t n) {
    TRIB_ASSERT(n <= room());
    used_ += n;
  }
  bool over_limit() const { return used_ > limit_; }
  std::vector<uint8_t> take() {
    buf_.resize(used_);
    return std::move(buf_);
  }

 private:
  size_t cap_;
  size_t limit_;
  size_t used_ = 0;
  std::vector<uint8_t> buf_;
};

// zlib counts in uInt (32 bits).
uInt clamp_uint(size_t n) { return static_cast<uInt>(std::min<size_t>(n, std::numeric_limits<uInt>::max())); }

// ---- gzip ---------------------------------------------------------------------------------------

constexpr int gzip_window_bits = 16 + MAX_WBITS;  // 16: gzip wrapper, not zlib or raw deflate

result<std::vector<uint8_t>> gzip_decompress(byte_span input, size_t output_bytes_max) {
  if (input.size() > std::numeric_limits<uInt>::max()) return fail(record_errc::too_large);
  z_stream zs{};
  if (inflateInit2(&zs, gzip_window_bits) != Z_OK) return fail(record_errc::decompression_failed);
  struct guard {
    z_stream* z;
    ~guard() { inflateEnd(z); }
  } g{&zs};

  bounded_output out(output_bytes_max, input.size());
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  for (;;) {
    if (!out.ensure_room()) return fail(record_errc::too_large);
    zs.next_out = out.tail();
    uInt room = clamp_uint(out.room());
    zs.avail_out = room;
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.produced(room - zs.avail_out);
    if (out.over_limit()) return fail(record_errc::too_large);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out.take();
      // Another gzip member follows (GZIPInputStream reads concatenated members too).
      if (inflateReset(&zs) != Z_OK) return fail(record_errc::decompression_failed);
      continue;
    }
    if (rc == Z_OK) continue;
    // Z_BUF_ERROR with room left means the input ended inside the stream.
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;
    return fail(record_errc::decompression_failed);
  }
}

result<std::vector<uint8_t>> gzip_compress(byte_span input) {
  if (input.size() > std::numeric_limits<uInt>::max()) return fail(record_errc::compression_failed);
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, gzip_window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return fail(record_errc::compression_failed);
  struct guard {
    z_stream* z;
    ~guard() { deflateEnd(z); }
  } g{&zs};
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = out.data();
  zs.avail_out = clamp_uint(out.size());
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) return fail(record_errc::compression_failed);
  out.resize(zs.total_out);
  return out;
}

// ---- snappy -------------------------------------------------------------------------------------

constexpr uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t xerial_header_bytes = 16;  // magic, i32 version, i32 minimum compatible version
constexpr uint32_t xerial_version = 1;

// Appends one raw snappy block to `out`, keeping the total within output_bytes_max.
result<void> snappy_block_append(byte_span block, std::vector<uint8_t>& out, size_t output_bytes_max) {
  const char* src = reinterpret_cast<const char*>(block.data());
  size_t n = 0;
  if (!snappy::GetUncompressedLength(src, block.size(), &n)) return fail(record_errc::decompression_failed);
  if (n > output_bytes_max || out.size() > output_bytes_max - n) return fail(record_errc::too_large);
  size_t at = out.size();
  out.resize(at + n);
  if (!snappy::RawUncompress(src, block.size(), reinterpret_cast<char*>(out.data() + at)))
    return fail(record_errc::decompression_failed);
  return {};
}

result<std::vector<uint8_t>> snappy_decompress(byte_span input, size_t output_bytes_max) {
  std::vector<uint8_t> out;
  if (input.size() < sizeof xerial_magic ||
      std::memcmp(input.data(), xerial_magic, sizeof xerial_magic) != 0) {
    TRIB_TRY_VOID(snappy_block_append(input, out, output_bytes_max));
    return out;
  }
  byte_reader r(input);
  if (!r.skip(xerial_header_bytes)) return fail(record_errc::decompression_failed);
  while (!r.empty()) {
    auto len = r.read_i32();
    if (!len || *len < 0) return fail(record_errc::decompression_failed);
    auto block = r.read_span(static_cast<size_t>(*len));
    if (!block) return fail(record_errc::decompression_failed);
    TRIB_TRY_VOID(snappy_block_append(*block, out, output_bytes_max));
  }
  return out;
}

result<std::vector<uint8_t>> snappy_raw(byte_span input) {
  std::vector<uint8_t> out(snappy::MaxCompressedLength(input.size()));
  size_t n = 0;
  snappy::RawCompress(reinterpret_cast<const char*>(input.data()), input.size(),
                      reinterpret_cast<char*>(out.data()), &n);
  out.resize(n);
  return out;
}

// ---- lz4 ----------------------------------------------------------------------------------------

result<std::vector<uint8_t>> lz4_decompress(byte_span input, size_t output_bytes_max) {
  LZ4F_dctx* ctx = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&ctx, LZ4F_VERSION)))
    return fail(record_errc::decompression_failed);
  struct guard {
    LZ4F_dctx* c;
    ~guard() { LZ4F_freeDecompressionContext(c); }
  } g{ctx};

  bounded_output out(output_bytes_max, input.size());
  size_t in_pos = 0;
  for (;;) {
    if (!out.ensure_room()) return fail(record_errc::too_large);
    size_t dst = out.room();
    size_t src = input.size() - in_pos;
    size_t hint = LZ4F_decompress(ctx, out.tail(), &dst, input.data() + in_pos, &src, nullptr);
    if (LZ4F_isError(hint)) return fail(record_errc::decompression_failed);
    in_pos += src;
    out.produced(dst);
    if (out.over_limit()) return fail(record_errc::too_large);
    if (hint == 0) {  // a frame ended; another may follow
      if (in_pos == input.size()) return out.take();
      continue;
    }
    // No progress with room to spare: the input ended inside a frame.
    if (src == 0 && dst == 0 && out.room() > 0) return fail(record_errc::decompression_failed);
  }
}

result<std::vector<uint8_t>> lz4_compress(byte_span input) {
  // As Kafka's Java writer: 64 KiB independent blocks, no content size, no checksums.
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  std::vector<uint8_t> out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t n = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(n)) return fail(record_errc::compression_failed);
  out.resize(n);
  return out;
}

// ---- zstd ---------------------------------------------------------------------------------------

// The decoder's window (its memory) is bounded by what the output limit could need, but never below
// 8 MiB (streaming producers declare up to a few MiB) nor above zstd's own default of 128 MiB.
constexpr int zstd_window_log_min = 23;
constexpr int zstd_window_log_max = 27;
constexpr int zstd_level = 3;

result<std::vector<uint8_t>> zstd_decompress(byte_span input, size_t output_bytes_max) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return fail(record_errc::decompression_failed);
  struct guard {
    ZSTD_DCtx* c;
    ~guard() { ZSTD_freeDCtx(c); }
  } g{ctx};
  int window_log = std::clamp(static_cast<int>(std::bit_width(output_bytes_max)), zstd_window_log_min,
                              zstd_window_log_max);
  if (ZSTD_isError(ZSTD_DCtx_setParameter(ctx, ZSTD_d_windowLogMax, window_log)))
    return fail(record_errc::decompression_failed);

  // A declared content size beyond the limit fails before any work.
  unsigned long long declared = ZSTD_getFrameContentSize(input.data(), input.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR &&
      declared > output_bytes_max)
    return fail(record_errc::too_large);

  bounded_output out(output_bytes_max, input.size());
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  for (;;) {
    if (!out.ensure_room()) return fail(record_errc::too_large);
    ZSTD_outBuffer o{out.tail(), out.room(), 0};
    size_t rc = ZSTD_decompressStream(ctx, &o, &in);
    if (ZSTD_isError(rc)) return fail(record_errc::decompression_failed);
    out.produced(o.pos);
    if (out.over_limit()) return fail(record_errc::too_large);
    if (rc == 0) {  // a frame ended and is flushed; another may follow
      if (in.pos == in.size) return out.take();
      continue;
    }
    // The decoder wants more input, has flushed all it could, and there is none.
    if (in.pos == in.size && o.pos < o.size) return fail(record_errc::decompression_failed);
  }
}

result<std::vector<uint8_t>> zstd_compress(byte_span input) {
  std::vector<uint8_t> out(ZSTD_compressBound(input.size()));
  size_t n = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), zstd_level);
  if (ZSTD_isError(n)) return fail(record_errc::compression_failed);
  out.resize(n);
  return out;
}

}  // namespace

std::string_view codec_name(compression_codec c) {
  switch (c) {
    case compression_codec::none: return "none";
    case compression_codec::gzip: return "gzip";
    case compression_codec::snappy: return "snappy";
    case compression_codec::lz4: return "lz4";
    case compression_codec::zstd: return "zstd";
  }
  return "unknown";
}

std::optional<compression_codec> codec_from_name(std::string_view name) {
  for (uint8_t b = 0; b <= 4; ++b) {
    auto c = static_cast<compression_codec>(b);
    if (codec_name(c) == name) return c;
  }
  return std::nullopt;
}

std::optional<compression_codec> codec_from_bits(uint8_t bits) {
  if (bits > 4) return std::nullopt;
  return static_cast<compression_codec>(bits);
}

result<std::vector<uint8_t>> decompress(compression_codec codec, byte_span input, size_t output_bytes_max) {
  switch (codec) {
    case compression_codec::gzip: return gzip_decompress(input, output_bytes_max);
    case compression_codec::snappy: return snappy_decompress(input, output_bytes_max);
    case compression_codec::lz4: return lz4_decompress(input, output_bytes_max);
    case compression_codec::zstd: return zstd_decompress(input, output_bytes_max);
    case compression_codec::none: break;
  }
  return fail(record_errc::unsupported_codec);
}

result<std::vector<uint8_t>> compress(compression_codec codec, byte_span input) {
  switch (codec) {
    case compression_codec::gzip: return gzip_compress(input);
    case compression_codec::snappy: return snappy_compress_xerial(input);
    case compression_codec::lz4: return lz4_compress(input);
    case compression_codec::zstd: return zstd_compress(input);
    case compression_codec::none: break;
  }
  return fail(record_errc::unsupported_codec);
}

result<std::vector<uint8_t>> snappy_compress_raw(byte_span input) { return snappy_raw(input); }

result<std::vector<uint8_t>> snappy_compress_xerial(byte_span input, size_t block_bytes) {
  TRIB_ASSERT(block_bytes > 0);
  byte_writer w;
  w.write_raw(byte_span(xerial_magic, sizeof xerial_magic));
  w.write_u32(xerial_version);
  w.write_u32(xerial_version);  // minimum compatible version
  for (size_t at = 0; at < input.size(); at += block_bytes) {
    auto block = TRIB_TRY(snappy_raw(input.subspan(at, std::min(block_bytes, input.size() - at))));
    TRIB_ASSERT(block.size() <= static_cast<size_t>(INT32_MAX));
    w.write_u32(static_cast<uint32_t>(block.size()));
    w.write_raw(block);
  }
  return w.take();
}

}  // namespace tributary::kafka
