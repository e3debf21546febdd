#include "common/kafka/protocol/response.h"

#include <array>
#include <limits>
#include <utility>

#include "common/kafka/protocol/frame.h"

namespace tributary::kafka::protocol {
namespace {

using body_decoder = result<response_body> (*)(byte_reader&, int16_t, const decode_limits&);

template <size_t I>
result<response_body> decode_alternative(byte_reader& r, int16_t version, const decode_limits& limits) {
  using T = std::variant_alternative_t<I, response_body>;
  auto m = TRIB_TRY(decode_body<T>(r, version, limits));
  return response_body(std::in_place_index<I>, std::move(m));
}

template <size_t... I>
constexpr std::array<body_decoder, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_alternative<I>...};
}

constexpr auto k_decoders = make_decoders(std::make_index_sequence<std::variant_size_v<response_body>>());

}  // namespace

namespace detail {
void write_response_prefix(byte_writer& out, const api_info& api, int16_t version, int32_t correlation_id,
                           size_t body_bytes) {
  const size_t header_bytes = response_header_version(api, version) >= 1 ? 5 : 4;
  const size_t payload = header_bytes + body_bytes;
  TRIB_ASSERT(payload <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "response too large");
  out.reserve(out.size() + k_frame_size_bytes + payload);
  out.write_i32(static_cast<int32_t>(payload));
  out.write_i32(correlation_id);
  if (header_bytes == 5) out.write_uvarint(0);  // no tagged fields
}
}  // namespace detail

void encode_response(byte_writer& out, int32_t correlation_id, int16_t version, const response_body& body) {
  std::visit([&](const auto& b) { encode_response(out, correlation_id, version, b); }, body);
}

result<response> decode_response(api_key key, int16_t version, byte_span frame, const decode_limits& limits) {
  const auto index = api_index(key);
  if (!index) return fail(errc::unknown_api_key);
  const api_info& api = k_described_apis[*index];
  if (!api.supports(version)) return fail(errc::unsupported_version);
  byte_reader r(frame);
  auto correlation_id = r.read_i32();
  if (!correlation_id) return fail(from_bytes_error(correlation_id.error()));
  if (response_header_version(api, version) >= 1) TRIB_TRY_VOID(skip_tagged_fields(r));
  auto body = TRIB_TRY(k_decoders[*index](r, version, limits));
  if (!r.empty()) return fail(errc::trailing_bytes);
  return response{*correlation_id, std::move(body)};
}

std::vector<uint8_t> encode_api_versions_fallback(int32_t correlation_id, int16_t min_version,
                                                  int16_t max_version) {
  api_versions_response body;
  body.error_code = error_code::unsupported_version;
  body.api_keys.push_back({static_cast<int16_t>(api_key::api_versions), min_version, max_version});
  return encode_response(correlation_id, 0, body);
}

}  // namespace tributary::kafka::protocol
