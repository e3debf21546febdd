#include "cluster/kafka/error_response.h"

#include <array>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace tributary::cluster::kafka {

namespace {

namespace p = protocol;

// Sets every error_code field of one struct level that exists at `version` (nested structs and arrays
// are not entered: they are empty in a default response).
struct error_setter {
  int16_t version;
  p::error_code error;
  int set = 0;

  template <class M>
  void operator()(M& member, std::string_view /*name*/, p::field_spec spec = {}) {
    if constexpr (std::is_same_v<M, p::error_code>) {
      if (spec.in(version)) {
        member = error;
        ++set;
      }
    }
  }
};

using builder = std::optional<std::vector<uint8_t>> (*)(int32_t correlation_id, int16_t version,
                                                        p::error_code);

template <size_t I>
std::optional<std::vector<uint8_t>> build(int32_t correlation_id, int16_t version, p::error_code error) {
  using R = std::variant_alternative_t<I, p::response_body>;
  R body{};
  error_setter setter{version, error};
  R::fields(body, setter);
  if (setter.set == 0) return std::nullopt;
  return p::encode_response(correlation_id, version, body);
}

template <size_t... I>
constexpr std::array<builder, sizeof...(I)> make_builders(std::index_sequence<I...>) {
  return {&build<I>...};
}

constexpr auto builders = make_builders(std::make_index_sequence<std::variant_size_v<p::response_body>>());

}  // namespace

std::optional<std::vector<uint8_t>> top_level_error_response(const protocol::request& req,
                                                             protocol::error_code error) {
  // Requests and responses of one API share their index in the variants (messages.h).
  return builders[req.body.index()](req.header.correlation_id, req.header.version, error);
}

}  // namespace tributary::cluster::kafka
