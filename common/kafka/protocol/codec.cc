#include "common/kafka/protocol/codec.h"

#include "common/kafka/protocol/codec_impl.h"

namespace tributary::kafka::protocol {

template <message T>
result<T> decode_body(byte_reader& r, int16_t version, const decode_limits& limits) {
  TRIB_ASSERT(T::api.supports(version), "decode_body: version not described");
  detail::decode_state st{version, T::api.flexible(version), limits.max_array_elements};
  detail::decoder d(r, st);
  T m{};
  if (auto res = d.read_struct(m); !res) return fail(from_bytes_error(res.error()));
  return m;
}

template <message T>
void encode_body(byte_writer& out, const T& m, int16_t version) {
  TRIB_ASSERT(T::api.supports(version), "encode_body: version not described");
  detail::encoder<byte_writer> enc(out, version, T::api.flexible(version));
  enc.write_struct(m);
}

template <message T>
size_t body_size(const T& m, int16_t version) {
  TRIB_ASSERT(T::api.supports(version), "body_size: version not described");
  detail::size_counter counter;
  detail::encoder<detail::size_counter> enc(counter, version, T::api.flexible(version));
  enc.write_struct(m);
  return counter.size();
}

template <message T>
std::string debug_string(const T& m) {
  detail::printer p;
  p.print(m);
  return p.out;
}

result<void> skip_tagged_fields(byte_reader& r) {
  auto skip = [&r]() -> result<void> {
    const uint32_t count = TRIB_TRY(r.read_uvarint());
    for (uint32_t i = 0; i < count; ++i) {
      TRIB_TRY(r.read_uvarint());  // tag
      const uint32_t size = TRIB_TRY(r.read_uvarint());
      TRIB_TRY_VOID(r.skip(size));
    }
    return {};
  };
  if (auto res = skip(); !res) return fail(from_bytes_error(res.error()));
  return {};
}

// Explicit instantiations: every request and response of the API list in messages.h.
#define TRIB_INSTANTIATE(T)                                                       \
  template result<T> decode_body<T>(byte_reader&, int16_t, const decode_limits&); \
  template void encode_body<T>(byte_writer&, const T&, int16_t);                  \
  template size_t body_size<T>(const T&, int16_t);                                \
  template std::string debug_string<T>(const T&);
#define TRIB_INSTANTIATE_API(request, response) \
  TRIB_INSTANTIATE(request)                     \
  TRIB_INSTANTIATE(response)                    \
  static_assert(                                \
      std::is_same_v<std::variant_alternative_t<*api_index(request::api.key), request_body>, request>);

TRIB_INSTANTIATE_API(produce_request, produce_response)
TRIB_INSTANTIATE_API(fetch_request, fetch_response)
TRIB_INSTANTIATE_API(list_offsets_request, list_offsets_response)
TRIB_INSTANTIATE_API(metadata_request, metadata_response)
TRIB_INSTANTIATE_API(offset_commit_request, offset_commit_response)
TRIB_INSTANTIATE_API(offset_fetch_request, offset_fetch_response)
TRIB_INSTANTIATE_API(find_coordinator_request, find_coordinator_response)
TRIB_INSTANTIATE_API(join_group_request, join_group_response)
TRIB_INSTANTIATE_API(heartbeat_request, heartbeat_response)
TRIB_INSTANTIATE_API(leave_group_request, leave_group_response)
TRIB_INSTANTIATE_API(sync_group_request, sync_group_response)
TRIB_INSTANTIATE_API(describe_groups_request, describe_groups_response)
TRIB_INSTANTIATE_API(list_groups_request, list_groups_response)
TRIB_INSTANTIATE_API(sasl_handshake_request, sasl_handshake_response)
TRIB_INSTANTIATE_API(api_versions_request, api_versions_response)
TRIB_INSTANTIATE_API(create_topics_request, create_topics_response)
TRIB_INSTANTIATE_API(delete_topics_request, delete_topics_response)
TRIB_INSTANTIATE_API(init_producer_id_request, init_producer_id_response)
TRIB_INSTANTIATE_API(describe_configs_request, describe_configs_response)
TRIB_INSTANTIATE_API(sasl_authenticate_request, sasl_authenticate_response)
TRIB_INSTANTIATE_API(delete_groups_request, delete_groups_response)
static_assert(k_described_apis.size() == 21, "every API of messages.h is instantiated above");

#undef TRIB_INSTANTIATE_API
#undef TRIB_INSTANTIATE

}  // namespace tributary::kafka::protocol
