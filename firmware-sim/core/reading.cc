#include "firmware-sim/core/reading.h"

#include <bit>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/assert.h"

namespace tributary::sim {
namespace {

constexpr std::string_view pad_key = ",\"pad\":\"\"}";  // what padding adds besides the pad characters
constexpr size_t json_nesting_max = 2;                  // a reading is a flat object

void put_u64(std::string& out, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  out.append(reinterpret_cast<const char*>(b), 8);
}
void put_f64(std::string& out, double v) { put_u64(out, std::bit_cast<uint64_t>(v)); }

// Rejects nesting deeper than json_nesting_max before handing text to the JSON parser.
bool nesting_ok(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > json_nesting_max) return false;
    } else if (c == '}' || c == ']') {
      if (depth > 0) --depth;
    }
  }
  return true;
}

result<decoded_reading> decode_binary(byte_span payload) {
  if (payload.size() < binary_header_bytes) return fail(errc::truncated);
  const uint8_t* p = payload.data();
  if (load_be32(p) != binary_magic) return fail(errc::bad_magic);
  if (p[4] != binary_version) return fail(errc::unsupported_version);
  decoded_reading d;
  d.format = payload_format::binary;
  d.values.mask = p[5];
  if ((d.values.mask & ~model_all) != 0) return fail(errc::bad_field);
  d.device_index = load_be32(p + 8);
  d.seq = load_be64(p + 12);
  d.ts_ms = static_cast<int64_t>(load_be64(p + 20));
  size_t at = binary_header_bytes;
  auto take = [&](uint64_t& v) -> bool {
    if (payload.size() - at < 8) return false;
    v = load_be64(p + at);
    at += 8;
    return true;
  };
  uint64_t v = 0;
  if (d.values.mask & model_temperature) {
    if (!take(v)) return fail(errc::truncated);
    d.values.temp_c = std::bit_cast<double>(v);
  }
  if (d.values.mask & model_counter) {
    if (!take(v)) return fail(errc::truncated);
    d.values.count = v;
  }
  if (d.values.mask & model_gps) {
    if (!take(v)) return fail(errc::truncated);
    d.values.lat = std::bit_cast<double>(v);
    if (!take(v)) return fail(errc::truncated);
    d.values.lon = std::bit_cast<double>(v);
  }
  if (d.values.mask & model_vibration) {
    if (!take(v)) return fail(errc::truncated);
    d.values.vib_g = std::bit_cast<double>(v);
  }
  return d;
}

result<decoded_reading> decode_json(byte_span payload) {
  const std::string_view text = as_string_view(payload);
  if (!nesting_ok(text)) return fail(errc::bad_json);
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail(errc::bad_json);
  decoded_reading d;
  d.format = payload_format::json;
  const auto device = j.find("device");
  const auto seq = j.find("seq");
  const auto ts = j.find("ts_ms");
  if (device == j.end() || seq == j.end() || ts == j.end()) return fail(errc::missing_field);
  if (!device->is_string() || !seq->is_number_unsigned() || !ts->is_number_integer()) {
    return fail(errc::bad_field);
  }
  d.device = device->get<std::string>();
  if (!valid_device_name(d.device)) return fail(errc::bad_field);
  d.seq = seq->get<uint64_t>();
  d.ts_ms = ts->is_number_unsigned() ? static_cast<int64_t>(ts->get<uint64_t>()) : ts->get<int64_t>();
  auto number = [&](const char* key, double& out, uint8_t bit) -> bool {
    const auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_number()) return false;
    out = it->get<double>();
    d.values.mask |= bit;
    return true;
  };
  if (!number("temp_c", d.values.temp_c, model_temperature)) return fail(errc::bad_field);
  if (const auto it = j.find("count"); it != j.end()) {
    if (!it->is_number_unsigned()) return fail(errc::bad_field);
    d.values.count = it->get<uint64_t>();
    d.values.mask |= model_counter;
  }
  double lat = 0;
  double lon = 0;
  if (!number("lat", lat, model_gps) || !number("lon", lon, model_gps)) return fail(errc::bad_field);
  d.values.lat = lat;
  d.values.lon = lon;
  if (!number("vib_g", d.values.vib_g, model_vibration)) return fail(errc::bad_field);
  return d;
}

}  // namespace

bool valid_device_name(std::string_view name) {
  if (name.empty() || name.size() > device_name_bytes_max) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '-' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

void encode_json(const reading& r, std::string_view device, size_t size_min, std::string& out) {
  TRIB_ASSERT(valid_device_name(device), device);
  TRIB_ASSERT(size_min <= payload_bytes_max);
  out.clear();
  auto it = std::back_inserter(out);
  fmt::format_to(it, R"({{"device":"{}","seq":{},"ts_ms":{})", device, r.seq, r.ts_ms);
  const model_values& v = r.values;
  if (v.mask & model_temperature) fmt::format_to(it, R"(,"temp_c":{:.2f})", v.temp_c);
  if (v.mask & model_counter) fmt::format_to(it, R"(,"count":{})", v.count);
  if (v.mask & model_gps) fmt::format_to(it, R"(,"lat":{:.6f},"lon":{:.6f})", v.lat, v.lon);
  if (v.mask & model_vibration) fmt::format_to(it, R"(,"vib_g":{:.3f})", v.vib_g);
  if (out.size() + pad_key.size() <= size_min) {
    const size_t pad = size_min - out.size() - pad_key.size();
    out.append(R"(,"pad":")");
    out.append(pad, 'x');
    out.append("\"}");
  } else {
    // Too small a gap for a pad field: JSON allows whitespace before the closing brace.
    if (out.size() + 1 < size_min) out.append(size_min - out.size() - 1, ' ');
    out.push_back('}');
  }
  TRIB_ASSERT(out.size() >= size_min);
}

void encode_binary(const reading& r, size_t size_min, std::string& out) {
  TRIB_ASSERT(size_min <= payload_bytes_max);
  TRIB_ASSERT((r.values.mask & ~model_all) == 0);
  out.clear();
  uint8_t h[binary_header_bytes];
  store_be32(h, binary_magic);
  h[4] = binary_version;
  h[5] = r.values.mask;
  store_be16(h + 6, 0);
  store_be32(h + 8, r.device_index);
  store_be64(h + 12, r.seq);
  store_be64(h + 20, static_cast<uint64_t>(r.ts_ms));
  out.append(reinterpret_cast<const char*>(h), sizeof h);
  const model_values& v = r.values;
  if (v.mask & model_temperature) put_f64(out, v.temp_c);
  if (v.mask & model_counter) put_u64(out, v.count);
  if (v.mask & model_gps) {
    put_f64(out, v.lat);
    put_f64(out, v.lon);
  }
  if (v.mask & model_vibration) put_f64(out, v.vib_g);
  if (out.size() < size_min) out.append(size_min - out.size(), '\0');
}

result<decoded_reading> decode_reading(byte_span payload) {
  if (payload.size() > payload_bytes_max) return fail(errc::payload_too_large);
  if (payload.size() >= 4 && load_be32(payload.data()) == binary_magic) return decode_binary(payload);
  if (!payload.empty() && payload[0] == '{') return decode_json(payload);
  return fail(errc::bad_magic);
}

}  // namespace tributary::sim
