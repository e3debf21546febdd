#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka RecordBatch v2 and of
// iSCSI (RFC 3720). Pure functions, no state: safe from any thread.
//
// `crc` is the value returned for the bytes before `data` (0 for none), so a checksum can be built
// in pieces: crc32c(b, crc32c(a)) == crc32c(a ++ b).
//
// crc32c() uses the SSE4.2 `crc32` instruction when the CPU has it (checked once, at first use) and
// a slicing-by-8 table method otherwise. crc32c_sw / crc32c_hw are exposed so tests can compare them.
#include <cstdint>

#include "common/bytes.h"

namespace tributary {

uint32_t crc32c(byte_span data, uint32_t crc = 0);

// Portable table-driven implementation (slicing-by-8).
uint32_t crc32c_sw(byte_span data, uint32_t crc = 0);

// Hardware implementation. Precondition: crc32c_hw_available().
uint32_t crc32c_hw(byte_span data, uint32_t crc = 0);

// True when this build targets x86-64 and the CPU supports SSE4.2.
bool crc32c_hw_available();

}  // namespace tributary
