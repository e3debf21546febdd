#pragma once
// The CLI's thin librdkafka adapter: client creation from the global options, librdkafka errors as
// one-line failures, metadata, and waiting for an Admin API result. Every callback handed to
// librdkafka is noexcept and allocation-free.
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <librdkafka/rdkafka.h>

#include "cluster/cli/common.h"

namespace tributary::cluster::cli {

enum class client_kind { admin, producer, consumer };

// Called from librdkafka's delivery report callback (inside rd_kafka_poll/flush, on the caller's
// thread). Must not throw.
using delivery_fn = void (*)(void* context, const rd_kafka_message_t& message) noexcept;

// What librdkafka's callbacks reach through the configuration's opaque pointer.
struct client_events {
  static constexpr size_t k_error_text_bytes = 512;
  char last_error[k_error_text_bytes] = {};  // the most telling error_cb text so far ("" if none)
  bool verbose = false;
  delivery_fn on_delivery = nullptr;
  void* delivery_context = nullptr;
};

class client {
 public:
  // Properties are applied in this order, later ones winning: the CLI's defaults for `kind`,
  // bootstrap.servers from -b, the -X properties, then `overrides` (from the command's own flags).
  static outcome<client> create(const global_options& global, client_kind kind,
                                std::span<const property> overrides = {}, delivery_fn on_delivery = nullptr,
                                void* delivery_context = nullptr);
  client(client&& other) noexcept;
  client& operator=(client&&) = delete;
  client(const client&) = delete;
  ~client();

  rd_kafka_t* handle() const { return rk_; }
  // Consumers: from now on rd_kafka_consumer_poll serves every callback (rd_kafka_poll_set_consumer;
  // rd_kafka_poll is no longer allowed).
  void redirect_to_consumer_queue();
  // Serves pending callbacks (error events) and returns " (last error: ...)" or "". After
  // redirect_to_consumer_queue, records still queued are dropped: call it only when giving up.
  std::string last_error_suffix();

 private:
  client(rd_kafka_t* rk, std::unique_ptr<client_events> events, client_kind kind)
      : rk_(rk), events_(std::move(events)), kind_(kind) {}
  rd_kafka_t* rk_ = nullptr;
  std::unique_ptr<client_events> events_;
  client_kind kind_;
  bool redirected_ = false;
};

// "<librdkafka or broker text> (<ERR_NAME>)"; `detail` replaces librdkafka's generic text.
std::string kafka_error_text(rd_kafka_resp_err_t err, std::string_view detail = {});
// "<context>: <librdkafka or broker text> (<ERR_NAME>)". `detail` replaces librdkafka's generic text
// when the broker sent one.
failure kafka_failure(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail = {});

struct metadata_deleter {
  void operator()(const rd_kafka_metadata_t* md) const noexcept { rd_kafka_metadata_destroy(md); }
};
using metadata_ptr = std::unique_ptr<const rd_kafka_metadata_t, metadata_deleter>;

// Metadata of every topic (topic == nullptr) or of one topic. For one topic, a topic the cluster
// does not know is a failure (errc::topic_not_found), never an auto-creation request.
outcome<metadata_ptr> fetch_metadata(client& c, const std::string* topic, int timeout_ms,
                                     std::string_view context);
// The topic's entry in `md`, or nullptr.
const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, std::string_view topic);

struct event_deleter {
  void operator()(rd_kafka_event_t* ev) const noexcept { rd_kafka_event_destroy(ev); }
};
using event_ptr = std::unique_ptr<rd_kafka_event_t, event_deleter>;

// One Admin API request: its options (request timeout, and the operation timeout for
// create/delete) and the queue its result arrives on.
class admin_call {
 public:
  admin_call(client& c, rd_kafka_admin_op_t op, int timeout_ms);
  ~admin_call();
  admin_call(const admin_call&) = delete;
  admin_call& operator=(const admin_call&) = delete;

  rd_kafka_AdminOptions_t* options() const { return options_; }
  rd_kafka_queue_t* queue() const { return queue_; }
  // Waits (at most the timeout plus k_admin_wait_grace_ms) for the result event of type `expected`;
  // a request-level error becomes a failure.
  outcome<event_ptr> wait(rd_kafka_event_type_t expected, std::string_view context);

 private:
  client& client_;
  int timeout_ms_;
  rd_kafka_AdminOptions_t* options_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
};

}  // namespace tributary::cluster::cli
