#include "common/mqtt/utf8.h"

#include "common/mqtt/errc.h"
#include "common/mqtt/types.h"

namespace tributary::mqtt {
namespace {

constexpr bool is_continuation(uint8_t b) { return (b & 0xC0) == 0x80; }

// The length of the well-formed sequence that starts at p[0] (n bytes available), or 0 if the
// bytes there are not one. The ranges are RFC 3629's syntax (section 4): the second byte's range
// rules out overlong forms (E0, F0), surrogates (ED) and code points above U+10FFFF (F4).
size_t sequence_length(const uint8_t* p, size_t n) {
  const uint8_t b0 = p[0];
  if (b0 < 0x80) return 1;
  if (b0 < 0xC2) return 0;  // a continuation byte, or C0/C1 (overlong two-byte forms)
  if (b0 < 0xE0) return n >= 2 && is_continuation(p[1]) ? 2 : 0;
  if (b0 < 0xF0) {
    if (n < 3 || !is_continuation(p[2])) return 0;
    const uint8_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const uint8_t hi = b0 == 0xED ? 0x9F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 3 : 0;
  }
  if (b0 < 0xF5) {
    if (n < 4 || !is_continuation(p[2]) || !is_continuation(p[3])) return 0;
    const uint8_t lo = b0 == 0xF0 ? 0x90 : 0x80;
    const uint8_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return p[1] >= lo && p[1] <= hi ? 4 : 0;
  }
  return 0;  // F5..FF never appear in UTF-8
}

// Walks `s`; false on the first ill-formed sequence, or on U+0000 when `allow_nul` is false.
bool scan(const uint8_t* p, size_t n, bool allow_nul) {
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      if (p[i] == 0 && !allow_nul) return false;
      ++i;
      continue;
    }
    const size_t len = sequence_length(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

}  // namespace

bool is_well_formed_utf8(byte_span s) noexcept { return scan(s.data(), s.size(), true); }

result<void> validate_utf8_string(std::string_view s) noexcept {
  if (s.size() > max_string_bytes) return fail(errc::invalid_utf8);
  if (!scan(reinterpret_cast<const uint8_t*>(s.data()), s.size(), false)) return fail(errc::invalid_utf8);
  return {};
}

}  // namespace tributary::mqtt
