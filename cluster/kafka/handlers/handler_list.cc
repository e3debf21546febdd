#include <algorithm>
#include <array>
#include <variant>

#include "cluster/kafka/handlers/handlers.h"

namespace tributary::cluster::kafka {

namespace {

namespace p = protocol;

// Unwraps the request body the codec decoded for this API and calls the typed handler.
template <class Req, void (*F)(request_context&, Req&)>
void typed(request_context& ctx) {
  F(ctx, std::get<Req>(ctx.request().body));
}

// clang-format off
constexpr std::array list{
    handler{p::api_key::produce,          3, 9,  &typed<p::produce_request, &handlers::produce>, &handlers::produce_reject},
    handler{p::api_key::fetch,            4, 12, &typed<p::fetch_request, &handlers::fetch>, &handlers::fetch_reject},
    handler{p::api_key::list_offsets,     0, 6,  &typed<p::list_offsets_request, &handlers::list_offsets>, nullptr},
    handler{p::api_key::metadata,         0, 12, &typed<p::metadata_request, &handlers::metadata>, nullptr},
    handler{p::api_key::offset_commit,    0, 8,  &typed<p::offset_commit_request, &handlers::offset_commit>, nullptr},
    handler{p::api_key::offset_fetch,     0, 7,  &typed<p::offset_fetch_request, &handlers::offset_fetch>, nullptr},
    handler{p::api_key::find_coordinator, 0, 4,  &typed<p::find_coordinator_request, &handlers::find_coordinator>, nullptr},
    handler{p::api_key::join_group,       0, 7,  &typed<p::join_group_request, &handlers::join_group>, nullptr},
    handler{p::api_key::heartbeat,        0, 4,  &typed<p::heartbeat_request, &handlers::heartbeat>, nullptr},
    handler{p::api_key::leave_group,      0, 4,  &typed<p::leave_group_request, &handlers::leave_group>, nullptr},
    handler{p::api_key::sync_group,       0, 4,  &typed<p::sync_group_request, &handlers::sync_group>, nullptr},
    handler{p::api_key::describe_groups,  0, 5,  &typed<p::describe_groups_request, &handlers::describe_groups>, nullptr},
    handler{p::api_key::list_groups,      0, 2,  &typed<p::list_groups_request, &handlers::list_groups>, nullptr},
    handler{p::api_key::api_versions,     0, 3,  &typed<p::api_versions_request, &handlers::api_versions>, nullptr},
    handler{p::api_key::create_topics,    0, 5,  &typed<p::create_topics_request, &handlers::create_topics>, nullptr},
    handler{p::api_key::delete_topics,    0, 4,  &typed<p::delete_topics_request, &handlers::delete_topics>, nullptr},
    handler{p::api_key::init_producer_id, 0, 4,  &typed<p::init_producer_id_request, &handlers::init_producer_id>, nullptr},
    handler{p::api_key::describe_configs, 0, 4,  &typed<p::describe_configs_request, &handlers::describe_configs>, nullptr},
    handler{p::api_key::delete_groups,    0, 2,  &typed<p::delete_groups_request, &handlers::delete_groups>, nullptr},
};
// clang-format on

constexpr bool sorted_and_described() {
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0 && static_cast<int16_t>(list[i - 1].key) >= static_cast<int16_t>(list[i].key)) return false;
    const auto index = p::api_index(list[i].key);
    if (!index || list[i].min_version > list[i].max_version) return false;
    const p::api_info& api = p::k_described_apis[*index];
    if (list[i].min_version < api.min_version || list[i].max_version > api.max_version) return false;
  }
  return true;
}
static_assert(sorted_and_described(), "handlers sorted by key, within the codec's described versions");

}  // namespace

std::span<const handler> handler_list() { return list; }

const handler* find_handler(protocol::api_key key) {
  auto it = std::lower_bound(list.begin(), list.end(), key, [](const handler& h, protocol::api_key k) {
    return static_cast<int16_t>(h.key) < static_cast<int16_t>(k);
  });
  if (it == list.end() || it->key != key) return nullptr;
  return &*it;
}

}  // namespace tributary::cluster::kafka
