#pragma once
// Every message this codec describes, and the one list of APIs: the request/response variants and
// the API table (versions, flexible thresholds) are all derived from `described_apis` below. To add
// an API: describe it in messages/<api>.h, include it here and add one api_messages<> line.
#include <array>
#include <cstddef>
#include <optional>
#include <variant>

#include "common/kafka/protocol/messages/api_versions.h"
#include "common/kafka/protocol/messages/delete_groups.h"
#include "common/kafka/protocol/messages/describe_configs.h"
#include "common/kafka/protocol/messages/describe_groups.h"
#include "common/kafka/protocol/messages/fetch.h"
#include "common/kafka/protocol/messages/find_coordinator.h"
#include "common/kafka/protocol/messages/heartbeat.h"
#include "common/kafka/protocol/messages/init_producer_id.h"
#include "common/kafka/protocol/messages/join_group.h"
#include "common/kafka/protocol/messages/leave_group.h"
#include "common/kafka/protocol/messages/list_groups.h"
#include "common/kafka/protocol/messages/list_offsets.h"
#include "common/kafka/protocol/messages/metadata.h"
#include "common/kafka/protocol/messages/offset_commit.h"
#include "common/kafka/protocol/messages/offset_fetch.h"
#include "common/kafka/protocol/messages/produce.h"
#include "common/kafka/protocol/messages/sasl.h"
#include "common/kafka/protocol/messages/sync_group.h"
#include "common/kafka/protocol/messages/topics_admin.h"

namespace tributary::kafka::protocol {

template <message Request, message Response>
struct api_messages {
  static_assert(&Request::api == &Response::api, "a request and its response share one api_info");
  using request = Request;
  using response = Response;
};

template <class... Apis>
struct api_table {
  using request_body = std::variant<typename Apis::request...>;
  using response_body = std::variant<typename Apis::response...>;
  static constexpr std::array<api_info, sizeof...(Apis)> infos{Apis::request::api...};
};

using described_apis =
    api_table<api_messages<produce_request, produce_response>, api_messages<fetch_request, fetch_response>,
              api_messages<list_offsets_request, list_offsets_response>,
              api_messages<metadata_request, metadata_response>,
              api_messages<offset_commit_request, offset_commit_response>,
              api_messages<offset_fetch_request, offset_fetch_response>,
              api_messages<find_coordinator_request, find_coordinator_response>,
              api_messages<join_group_request, join_group_response>,
              api_messages<heartbeat_request, heartbeat_response>,
              api_messages<leave_group_request, leave_group_response>,
              api_messages<sync_group_request, sync_group_response>,
              api_messages<describe_groups_request, describe_groups_response>,
              api_messages<list_groups_request, list_groups_response>,
              api_messages<sasl_handshake_request, sasl_handshake_response>,
              api_messages<api_versions_request, api_versions_response>,
              api_messages<create_topics_request, create_topics_response>,
              api_messages<delete_topics_request, delete_topics_response>,
              api_messages<init_producer_id_request, init_producer_id_response>,
              api_messages<describe_configs_request, describe_configs_response>,
              api_messages<sasl_authenticate_request, sasl_authenticate_response>,
              api_messages<delete_groups_request, delete_groups_response>>;

// A request or response body of any described API.
using request_body = described_apis::request_body;
using response_body = described_apis::response_body;

// The described APIs, in the order of the variants. The codec's version ranges: what the broker
// advertises comes from its handler list, which may be narrower.
inline constexpr const auto& k_described_apis = described_apis::infos;

// The position of `key` in k_described_apis and the variants, or nullopt.
constexpr std::optional<size_t> api_index(api_key key) {
  for (size_t i = 0; i < k_described_apis.size(); ++i)
    if (k_described_apis[i].key == key) return i;
  return std::nullopt;
}

constexpr const api_info* find_api(api_key key) {
  auto i = api_index(key);
  return i ? &k_described_apis[*i] : nullptr;
}

}  // namespace tributary::kafka::protocol
