#include "common/crc32c.h"

#include <array>
#include <bit>
#include <cstring>

#include "common/assert.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#define TRIB_CRC32C_HAVE_X86 1
#else
#define TRIB_CRC32C_HAVE_X86 0
#endif

namespace tributary {
namespace {

constexpr uint32_t poly_reflected = 0x82F63B78u;

// table[0] is the classic byte-at-a-time table; table[k][b] is the CRC of byte b followed by k zero
// bytes, which lets the loop fold 8 input bytes with 8 independent lookups.
using crc_tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr crc_tables make_tables() {
  crc_tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ poly_reflected : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  }
  return t;
}

constexpr crc_tables tables = make_tables();
static_assert(tables[0][1] == 0xF26B8303u);  // spot check against the published table

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

#if TRIB_CRC32C_HAVE_X86
__attribute__((target("sse4.2"))) uint32_t hw_update(uint32_t c, const uint8_t* p, size_t n) {
  // Byte steps up to 8-byte alignment, then 8 bytes per instruction, then the tail.
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  uint64_t c64 = c;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    c64 = _mm_crc32_u64(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<uint32_t>(c64);
  while (n > 0) {
    c = _mm_crc32_u8(c, *p++);
    --n;
  }
  return c;
}
#endif

bool detect_hw() {
#if TRIB_CRC32C_HAVE_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
#else
  return false;
#endif
}

using crc_fn = uint32_t (*)(byte_span, uint32_t);

crc_fn pick() { return detect_hw() ? &crc32c_hw : &crc32c_sw; }

}  // namespace

uint32_t crc32c_sw(byte_span data, uint32_t crc) {
  uint32_t c = ~crc;
  const uint8_t* p = data.data();
  size_t n = data.size();
  while (n >= 8) {
    uint64_t v = load_le64(p) ^ c;
    c = tables[7][v & 0xff] ^ tables[6][(v >> 8) & 0xff] ^ tables[5][(v >> 16) & 0xff] ^
        tables[4][(v >> 24) & 0xff] ^ tables[3][(v >> 32) & 0xff] ^ tables[2][(v >> 40) & 0xff] ^
        tables[1][(v >> 48) & 0xff] ^ tables[0][v >> 56];
    p += 8;
    n -= 8;
  }
  while (n > 0) {
    c = (c >> 8) ^ tables[0][(c ^ *p++) & 0xff];
    --n;
  }
  return ~c;
}

uint32_t crc32c_hw(byte_span data, uint32_t crc) {
  TRIB_ASSERT(crc32c_hw_available(), "crc32c_hw called on a CPU without SSE4.2");
#if TRIB_CRC32C_HAVE_X86
  return ~hw_update(~crc, data.data(), data.size());
#else
  return crc32c_sw(data, crc);  // unreachable: the assertion above fails first
#endif
}

bool crc32c_hw_available() {
  static const bool available = detect_hw();
  return available;
}

uint32_t crc32c(byte_span data, uint32_t crc) {
  static const crc_fn fn = pick();
  return fn(data, crc);
}

}  // namespace tributary
