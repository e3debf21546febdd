#pragma once
// The reading: what every virtual device publishes, and what `tributary-sim verify` matches.
// Other components (gateway tests, the demo) include this header to produce or check readings.
//
// Two payload forms carry the same content. Verify relies only on device, seq and ts_ms, never on the
// MQTT topic, Kafka key or headers, so it works whatever path forwarded the reading.
//
// JSON (UTF-8, one object, fields in this order; model fields only when the device has that model):
//   {"device":"dev-000001","seq":42,"ts_ms":1732350000123,"temp_c":21.37,"count":1234,
//    "lat":48.858370,"lon":2.294481,"vib_g":0.021,"pad":"xxxx"}
//   "pad" appears only when a minimum size was asked for (--size); it fills the object up to that size.
//
// Binary (big-endian, header_bytes fixed header, then the model fields, then zero padding):
//   offset 0  u32 magic   0x54524942 ("TRIB")
//          4  u8  version 1
//          5  u8  models  bit mask (model_bit), says which model fields follow
//          6  u16 reserved, 0
//          8  u32 device index (1-based; the run report maps it to the device name)
//         12  u64 seq      per-device sequence, starts at 1
//         20  i64 ts_ms    device clock (epoch ms, including the device's simulated skew) when measured
//         28  model fields in bit order: temp_c f64, count u64, lat f64, lon f64, vib_g f64
//             zero bytes up to the requested size
//
// ts_ms is the time the device took the reading. A reading queued while the device was offline keeps
// its original time, so end-to-end latency includes the time spent in the device's offline queue.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "firmware-sim/core/errc.h"

namespace tributary::sim {

inline constexpr uint32_t binary_magic = 0x54524942;  // "TRIB"
inline constexpr uint8_t binary_version = 1;
inline constexpr size_t binary_header_bytes = 28;
// Largest payload either form may have (encoding refuses a larger --size; decoding rejects it).
inline constexpr size_t payload_bytes_max = 256 * 1024;
// Longest device name; names are restricted to [A-Za-z0-9_.:-] so they need no JSON escaping.
inline constexpr size_t device_name_bytes_max = 128;

enum class payload_format : uint8_t { json, binary };

enum model_bit : uint8_t {
  model_temperature = 1 << 0,
  model_counter = 1 << 1,
  model_gps = 1 << 2,
  model_vibration = 1 << 3,
};
inline constexpr uint8_t model_all = model_temperature | model_counter | model_gps | model_vibration;

struct model_values {
  uint8_t mask = 0;  // model_bit set
  double temp_c = 0;
  uint64_t count = 0;
  double lat = 0;
  double lon = 0;
  double vib_g = 0;
};

struct reading {
  uint32_t device_index = 0;  // 1-based, unique within a run
  uint64_t seq = 0;           // per device, from 1
  int64_t ts_ms = 0;          // device clock, epoch ms
  model_values values;
};

// True if the name is 1..device_name_bytes_max characters of [A-Za-z0-9_.:-].
bool valid_device_name(std::string_view name);

// Encodes into `out` (cleared first). `size_min` pads the payload up to exactly that many bytes when the
// natural encoding is shorter (JSON: a "pad" field, or spaces before the closing brace when the gap is
// under 10 bytes; binary: zero bytes); 0 means no padding.
// Preconditions (TRIB_ASSERT): valid_device_name(device), size_min <= payload_bytes_max.
void encode_json(const reading& r, std::string_view device, size_t size_min, std::string& out);
void encode_binary(const reading& r, size_t size_min, std::string& out);
inline void encode(payload_format f, const reading& r, std::string_view device, size_t size_min,
                   std::string& out) {
  if (f == payload_format::json) {
    encode_json(r, device, size_min, out);
  } else {
    encode_binary(r, size_min, out);
  }
}

// A decoded payload. A JSON reading names its device; a binary one carries the device index.
struct decoded_reading {
  payload_format format = payload_format::json;
  std::string device;         // JSON form only
  uint32_t device_index = 0;  // binary form only
  uint64_t seq = 0;
  int64_t ts_ms = 0;
  model_values values;
};

// Decodes either form (binary is recognised by its magic number). Never throws.
result<decoded_reading> decode_reading(byte_span payload);

}  // namespace tributary::sim
