#include "gateway/buffer/reading.h"

#include <cstring>

#include "common/assert.h"
#include "gateway/buffer/errc.h"

namespace tributary::gateway::buffer {

namespace {
// The encoded size of headers of either form (owned header or header_view): same fields, same sizes.
template <class H>
size_t encoded_size_of(std::span<const H> headers) {
  if (headers.empty()) return 0;
  size_t n = 1 + uvarint_size(headers.size());
  for (const auto& h : headers) {
    n += uvarint_size(h.key.size()) + h.key.size();
    if (h.value) {
      n += varint_size(static_cast<int64_t>(h.value->size())) + h.value->size();
    } else {
      n += varint_size(-1);
    }
  }
  return n;
}
}  // namespace

size_t encoded_headers_size(const std::vector<header>& headers) {
  return encoded_size_of(std::span<const header>(headers));
}

void encode_headers(const std::vector<header>& headers, std::vector<uint8_t>& out) {
  if (headers.empty()) return;
  byte_writer w(std::move(out));
  const size_t start = w.size();
  w.write_u8(headers_encoding_version);
  w.write_uvarlong(headers.size());
  for (const auto& h : headers) {
    w.write_uvarlong(h.key.size());
    w.write_raw(std::string_view(h.key));
    if (h.value) {
      w.write_varlong(static_cast<int64_t>(h.value->size()));
      w.write_raw(byte_span(*h.value));
    } else {
      w.write_varlong(-1);
    }
  }
  TRIB_ASSERT(w.size() - start == encoded_headers_size(headers));
  out = w.take();
}

size_t encoded_header_views_size(std::span<const header_view> headers) { return encoded_size_of(headers); }

// The size is known up front, so the bytes go straight into place (this runs on the event loop for
// every PUBLISH; byte_writer's push_back and insert per field cost more than the copying itself).
void encode_header_views(std::span<const header_view> headers, std::vector<uint8_t>& out) {
  if (headers.empty()) return;
  const size_t size = encoded_header_views_size(headers);
  const size_t start = out.size();
  out.resize(start + size);
  uint8_t* p = out.data() + start;
  auto put_uvarint = [&p](uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<uint8_t>(v);
  };
  auto put_bytes = [&p](const void* data, size_t n) {
    if (n > 0) std::memcpy(p, data, n);
    p += n;
  };
  *p++ = headers_encoding_version;
  put_uvarint(headers.size());
  for (const auto& h : headers) {
    put_uvarint(h.key.size());
    put_bytes(h.key.data(), h.key.size());
    if (h.value) {
      put_uvarint(zigzag_encode64(static_cast<int64_t>(h.value->size())));
      put_bytes(h.value->data(), h.value->size());
    } else {
      put_uvarint(zigzag_encode64(-1));
    }
  }
  TRIB_ASSERT(p == out.data() + out.size(), "encoded exactly the computed size");
}

size_t headers_column_size(const reading& r) {
  return r.headers_encoded.empty() ? encoded_headers_size(r.headers) : r.headers_encoded.size();
}

namespace {

// Walks a headers column; calls on_header(key, value) for each. Bounds-checked: corrupt on any
// structural fault, more than headers_count_max headers, or bytes after the last header.
template <typename F>
result<size_t> walk_headers(byte_span blob, size_t headers_count_max, F&& on_header) {
  if (blob.empty()) return size_t{0};
  byte_reader r(blob);
  auto version = r.read_u8();
  if (!version || *version != headers_encoding_version) return fail(errc::corrupt);
  auto count = r.read_uvarlong();
  // Each header takes at least two bytes, which also bounds the caller's reservation.
  if (!count || *count == 0 || *count > headers_count_max || *count > r.remaining() / 2) {
    return fail(errc::corrupt);
  }
  for (uint64_t i = 0; i < *count; ++i) {
    auto key_len = r.read_uvarlong();
    if (!key_len || *key_len > r.remaining()) return fail(errc::corrupt);
    auto key = r.read_span(*key_len);
    auto value_len = r.read_varlong();
    if (!key || !value_len || *value_len < -1) return fail(errc::corrupt);
    std::optional<byte_span> value;
    if (*value_len >= 0) {
      auto v = r.read_span(static_cast<size_t>(*value_len));
      if (!v) return fail(errc::corrupt);
      value = *v;
    }
    on_header(*key, value);
  }
  if (!r.empty()) return fail(errc::corrupt);
  return static_cast<size_t>(*count);
}

}  // namespace

result<size_t> count_encoded_headers(byte_span blob, size_t headers_count_max) {
  return walk_headers(blob, headers_count_max, [](byte_span, const std::optional<byte_span>&) {});
}

result<std::vector<header>> decode_headers(byte_span blob, size_t headers_count_max) {
  std::vector<header> headers;
  if (blob.empty()) return headers;
  // Count first, so the vector is reserved once and a damaged blob builds nothing.
  auto count = TRIB_TRY(count_encoded_headers(blob, headers_count_max));
  headers.reserve(count);
  auto walked =
      walk_headers(blob, headers_count_max, [&](byte_span key, const std::optional<byte_span>& value) {
        header h{std::string(as_string_view(key)), std::nullopt};
        if (value) h.value.emplace(value->begin(), value->end());
        headers.push_back(std::move(h));
      });
  TRIB_ASSERT(walked, "the blob was checked above");
  return headers;
}

uint64_t accounted_bytes(const reading& r) {
  return r.topic.size() + (r.key ? r.key->size() : 0) + headers_column_size(r) + r.payload.size() +
         row_overhead_bytes;
}

}  // namespace tributary::gateway::buffer
