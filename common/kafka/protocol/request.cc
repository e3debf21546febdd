#include "common/kafka/protocol/request.h"

#include <array>
#include <utility>

#include "common/assert.h"
#include "common/kafka/protocol/frame.h"

namespace tributary::kafka::protocol {
namespace {

constexpr size_t k_request_id_bytes = 8;

using body_decoder = result<request_body> (*)(byte_reader&, int16_t, const decode_limits&);

template <size_t I>
result<request_body> decode_alternative(byte_reader& r, int16_t version, const decode_limits& limits) {
  using T = std::variant_alternative_t<I, request_body>;
  auto m = TRIB_TRY(decode_body<T>(r, version, limits));
  return request_body(std::in_place_index<I>, std::move(m));
}

template <size_t... I>
constexpr std::array<body_decoder, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_alternative<I>...};
}

constexpr auto k_decoders = make_decoders(std::make_index_sequence<std::variant_size_v<request_body>>());

tl::unexpected<request_error> error(std::error_code ec, std::optional<request_id> id) {
  return tl::unexpected(request_error{from_bytes_error(ec), id});
}

}  // namespace

result<request_id> peek_request_id(byte_span frame) {
  if (frame.size() < k_request_id_bytes) return fail(errc::truncated);
  return request_id{static_cast<api_key>(static_cast<int16_t>(load_be16(frame.data()))),
                    static_cast<int16_t>(load_be16(frame.data() + 2)),
                    static_cast<int32_t>(load_be32(frame.data() + 4))};
}

tl::expected<request, request_error> decode_request(byte_span frame, const decode_limits& limits) {
  auto id = peek_request_id(frame);
  if (!id) return error(id.error(), std::nullopt);
  const auto index = api_index(id->key);
  if (!index) return error(errc::unknown_api_key, *id);
  const api_info& api = k_described_apis[*index];
  if (!api.supports(id->version)) return error(errc::unsupported_version, *id);

  byte_reader r(frame.subspan(k_request_id_bytes));
  request_header header{id->key, id->version, id->correlation_id, std::nullopt};
  auto client_id = r.read_nullable_string();
  if (!client_id) return error(client_id.error(), *id);
  if (*client_id) header.client_id.emplace(**client_id);
  if (request_header_version(api, id->version) >= 2) {
    if (auto tags = skip_tagged_fields(r); !tags) return error(tags.error(), *id);
  }

  auto body = k_decoders[*index](r, id->version, limits);
  if (!body) return error(body.error(), *id);
  if (!r.empty()) return error(errc::trailing_bytes, *id);
  return request{std::move(header), std::move(*body)};
}

void encode_request(byte_writer& out, const request& req) {
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        const request_header& h = req.header;
        TRIB_ASSERT(h.key == T::api.key, "request header names another API than its body");
        TRIB_ASSERT(T::api.supports(h.version), "request version not described");
        const bool v2 = request_header_version(T::api, h.version) >= 2;
        const size_t client_id_bytes = 2 + (h.client_id ? h.client_id->size() : 0);
        const size_t payload =
            k_request_id_bytes + client_id_bytes + (v2 ? 1 : 0) + body_size(body, h.version);
        TRIB_ASSERT(payload <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "request too large");
        out.reserve(out.size() + k_frame_size_bytes + payload);
        const size_t start = out.size();
        out.write_i32(static_cast<int32_t>(payload));
        out.write_i16(static_cast<int16_t>(h.key));
        out.write_i16(h.version);
        out.write_i32(h.correlation_id);
        out.write_nullable_string(h.client_id);
        if (v2) out.write_uvarint(0);  // no tagged fields
        encode_body(out, body, h.version);
        TRIB_ASSERT(out.size() - start == k_frame_size_bytes + payload, "request size mismatch");
      },
      req.body);
}

std::vector<uint8_t> encode_request(const request& req) {
  byte_writer out;
  encode_request(out, req);
  return out.take();
}

}  // namespace tributary::kafka::protocol
