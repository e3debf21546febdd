#pragma once
// Kafka record compression codecs: gzip (zlib), snappy, lz4 (frame format) and zstd.
//
// What the broker decodes and what it passes through
// ---------------------------------------------------
// The broker stores and serves compressed batches unchanged. A batch's header (outside the
// compressed part) gives its offsets, record count and timestamps, and the CRC-32C covers the
// compressed bytes, so a produce request is validated from header + CRC without decompressing, and
// a fetch returns the stored bytes as they are. Decompression is needed only for:
//   - deep validation (optional, e.g. a strict mode or a tool checking a segment);
//   - inspection by tools, tests and the simulator's verifier.
// The broker's own internal topics (__consumer_offsets, transaction markers) need no decoder: the
// broker writes those records itself, uncompressed. All four codecs can be decoded and encoded
// here, but nothing on the broker's hot path has to.
//
// Formats, as the real clients write them:
//   - gzip: RFC 1952 gzip members (Java GZIPOutputStream, librdkafka); concatenated members are read.
//   - snappy: Java and kafka-python use the xerial framing ("\x82SNAPPY\0", i32 version, i32
//     compatible version, then [i32 length, raw snappy block] chunks); librdkafka writes one raw
//     snappy block. Decompression accepts both; compression writes xerial framing, which every
//     client reads.
//   - lz4: the LZ4 frame format (lz4frame.h).
//   - zstd: zstd frames, decoded with the streaming API so frames without a content size work.
//
// Every decompression takes an output limit: a small input that inflates past it (a compression
// bomb) fails with record_errc::too_large instead of exhausting memory.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/kafka/record_errc.h"
#include "common/result.h"

namespace tributary::kafka {

// The value of attribute bits 0..2 of a RecordBatch.
enum class compression_codec : uint8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// "none", "gzip", "snappy", "lz4", "zstd" (as in the compression.type config).
std::string_view codec_name(compression_codec c);
std::optional<compression_codec> codec_from_name(std::string_view name);
// Attribute bits 0..2 -> codec; nullopt for the unassigned values 5..7.
std::optional<compression_codec> codec_from_bits(uint8_t bits);

// Decompresses `input` and returns the bytes. Errors: unsupported_codec (codec none),
// decompression_failed (corrupt or truncated input, trailing garbage), too_large (the output would
// exceed output_bytes_max).
result<std::vector<uint8_t>> decompress(compression_codec codec, byte_span input, size_t output_bytes_max);

// Compresses `input` with the codec's default level (gzip 6, lz4 default, zstd 3, as Kafka).
// Errors: unsupported_codec (codec none), compression_failed (the library reported an error).
result<std::vector<uint8_t>> compress(compression_codec codec, byte_span input);

// Snappy framings, exposed for tests: one raw block (librdkafka) or xerial chunks (Java).
result<std::vector<uint8_t>> snappy_compress_raw(byte_span input);
result<std::vector<uint8_t>> snappy_compress_xerial(byte_span input, size_t block_bytes = 32 * 1024);

}  // namespace tributary::kafka
