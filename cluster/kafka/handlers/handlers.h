#pragma once
// The one list of Kafka APIs this broker implements, each with the version range it handles
// (handler_list.cc). ApiVersions answers from this list, so what is advertised is what exists.
//
// To add an API: describe it in common/kafka/protocol (if it is not yet), write
// handlers/<api>.cc with `void <api>(request_context&, protocol::<api>_request&)`, declare it below
// and add one line to the list.
//
// Versions (see shared/KAFKA-PROTOCOL.md): every range starts where the record format is RecordBatch
// v2 and ends at the newest version the codec describes, so librdkafka 2.0.2, kafka-python 2.0.2,
// kafkajs 2.2 and the Java client each find their own newest version in range. Produce starts at v3
// and Fetch at v4 (magic 2 only, as Kafka 4.0 does); librdkafka's MsgVer2 feature needs exactly
// those.
#include <cstdint>
#include <span>

#include "cluster/kafka/request_context.h"
#include "common/kafka/protocol/protocol.h"

namespace tributary::cluster::kafka {

struct handler {
  protocol::api_key key;
  int16_t min_version;
  int16_t max_version;
  void (*handle)(request_context&);
  // Answers a decoded request of this API at a version outside [min, max] with `error`, in that
  // version's layout (an error for every partition). nullptr: the generic answer (error_response.h).
  void (*reject)(request_context&, protocol::error_code);

  bool supports(int16_t v) const { return v >= min_version && v <= max_version; }
};

// Sorted by api key.
std::span<const handler> handler_list();
const handler* find_handler(protocol::api_key key);

namespace handlers {
void api_versions(request_context& ctx, protocol::api_versions_request& req);
void metadata(request_context& ctx, protocol::metadata_request& req);
void produce(request_context& ctx, protocol::produce_request& req);
void produce_reject(request_context& ctx, protocol::error_code error);
void fetch(request_context& ctx, protocol::fetch_request& req);
void fetch_reject(request_context& ctx, protocol::error_code error);
void list_offsets(request_context& ctx, protocol::list_offsets_request& req);
void create_topics(request_context& ctx, protocol::create_topics_request& req);
void delete_topics(request_context& ctx, protocol::delete_topics_request& req);
void init_producer_id(request_context& ctx, protocol::init_producer_id_request& req);
void describe_configs(request_context& ctx, protocol::describe_configs_request& req);
// Consumer groups (broker/group_service.h over the pure core in cluster/group).
void offset_commit(request_context& ctx, protocol::offset_commit_request& req);
void offset_fetch(request_context& ctx, protocol::offset_fetch_request& req);
void find_coordinator(request_context& ctx, protocol::find_coordinator_request& req);
void join_group(request_context& ctx, protocol::join_group_request& req);
void heartbeat(request_context& ctx, protocol::heartbeat_request& req);
void leave_group(request_context& ctx, protocol::leave_group_request& req);
void sync_group(request_context& ctx, protocol::sync_group_request& req);
void describe_groups(request_context& ctx, protocol::describe_groups_request& req);
void list_groups(request_context& ctx, protocol::list_groups_request& req);
void delete_groups(request_context& ctx, protocol::delete_groups_request& req);
}  // namespace handlers

}  // namespace tributary::cluster::kafka
