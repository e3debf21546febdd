#include "cluster/cli/kafka.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "common/assert.h"

namespace tributary::cluster::cli {
namespace {

constexpr const char* k_client_id = "tributary-cli";
constexpr const char* k_assign_group_id = "tributary-cli-assign";
constexpr int k_metadata_retry_ms = 100;  // between metadata requests while a leader is elected
constexpr int k_serve_events_max = 100;   // events served by last_error_suffix, at most

struct kafka_error_category final : std::error_category {
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int v) const override { return rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(v)); }
};

void on_log(const rd_kafka_t* rk, int level, const char* facility, const char* text) noexcept {
  const auto* events = static_cast<const client_events*>(rd_kafka_opaque(rk));
  // Warnings and worse with -v; debug lines exist only when asked for with -X debug=...
  const bool wanted = level == 7 || (level <= 4 && events != nullptr && events->verbose);
  if (!wanted) return;
  std::fprintf(stderr, "tributary: librdkafka %s: %s\n", facility, text);
}

void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) noexcept {
  auto* events = static_cast<client_events*>(opaque);
  if (events == nullptr) return;
  if (events->verbose)
    std::fprintf(stderr, "tributary: librdkafka error %s: %s\n",
                 rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
  // "1/1 brokers are down" says less than the connection error before it: keep the latter.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && events->last_error[0] != '\0') return;
  std::snprintf(events->last_error, sizeof events->last_error, "%s", reason);
}

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) noexcept {
  auto* events = static_cast<client_events*>(opaque);
  if (events == nullptr || events->on_delivery == nullptr || message == nullptr) return;
  events->on_delivery(events->delivery_context, *message);
}

std::vector<property> defaults_for(client_kind kind, const global_options& global) {
  std::vector<property> props = {
      {"client.id", k_client_id},
      {"bootstrap.servers", global.bootstrap},
      {"allow.auto.create.topics", "false"},  // describing or producing never creates a topic
      {"log.connection.close", "false"},
  };
  switch (kind) {
    case client_kind::admin: break;
    case client_kind::producer:
      props.push_back({"message.timeout.ms", std::to_string(global.timeout_ms)});
      break;
    case client_kind::consumer:
      // librdkafka's assign() needs a group id; an assign-only consumer never joins the group and,
      // with explicit start offsets and no commits, never fetches or commits its offsets.
      props.push_back({"group.id", k_assign_group_id});
      props.push_back({"enable.auto.commit", "false"});
      props.push_back({"enable.auto.offset.store", "false"});
      break;
  }
  return props;
}

}  // namespace

const std::error_category& kafka_category() noexcept {
  static const kafka_error_category instance;
  return instance;
}

bool is_unreachable(int rd_kafka_err) noexcept {
  switch (static_cast<rd_kafka_resp_err_t>(rd_kafka_err)) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT: return true;
    default: return false;
  }
}

outcome<client> client::create(const global_options& global, client_kind kind,
                               std::span<const property> overrides, delivery_fn on_delivery_fn,
                               void* delivery_context) {
  auto events = std::make_unique<client_events>();
  events->verbose = global.verbose;
  events->on_delivery = on_delivery_fn;
  events->delivery_context = delivery_context;

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const property& p) -> outcome<void> {
    if (rd_kafka_conf_set(conf, p.key.c_str(), p.value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK)
      return fail_with(errc::kafka_config, fmt::format("property {}={}: {}", p.key, p.value, errstr));
    return {};
  };
  std::vector<property> all = defaults_for(kind, global);
  all.insert(all.end(), global.properties.begin(), global.properties.end());
  all.insert(all.end(), overrides.begin(), overrides.end());
  for (const property& p : all) {
    if (auto ok = set(p); !ok) {
      rd_kafka_conf_destroy(conf);
      return tl::unexpected(ok.error());
    }
  }
  rd_kafka_conf_set_opaque(conf, events.get());
  rd_kafka_conf_set_log_cb(conf, on_log);
  rd_kafka_conf_set_error_cb(conf, on_error);
  if (kind == client_kind::producer) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);

  const rd_kafka_type_t type = kind == client_kind::consumer ? RD_KAFKA_CONSUMER : RD_KAFKA_PRODUCER;
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) {  // on failure the configuration is still ours
    rd_kafka_conf_destroy(conf);
    return fail_with(errc::kafka_config, fmt::format("cannot create the kafka client: {}", errstr));
  }
  return client(rk, std::move(events), kind);
}

client::client(client&& other) noexcept
    : rk_(std::exchange(other.rk_, nullptr)),
      events_(std::move(other.events_)),
      kind_(other.kind_),
      redirected_(other.redirected_) {}

client::~client() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

void client::redirect_to_consumer_queue() {
  TRIB_ASSERT(kind_ == client_kind::consumer && !redirected_);
  rd_kafka_poll_set_consumer(rk_);
  redirected_ = true;
}

std::string client::last_error_suffix() {
  TRIB_ASSERT(rk_ != nullptr);
  if (!redirected_) {
    rd_kafka_poll(rk_, 0);  // serves queued error events into events_->last_error
  } else {
    for (int i = 0; i < k_serve_events_max; ++i) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 0);
      if (m == nullptr) break;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && events_->last_error[0] == '\0')
        std::snprintf(events_->last_error, sizeof events_->last_error, "%s", rd_kafka_message_errstr(m));
      rd_kafka_message_destroy(m);
    }
  }
  if (events_->last_error[0] == '\0') return {};
  return fmt::format(" (last error: {})", events_->last_error);
}

std::string kafka_error_text(rd_kafka_resp_err_t err, std::string_view detail) {
  return fmt::format("{} ({})", detail.empty() ? std::string_view(rd_kafka_err2str(err)) : detail,
                     rd_kafka_err2name(err));
}

failure kafka_failure(rd_kafka_resp_err_t err, std::string_view context, std::string_view detail) {
  return failure{std::error_code(static_cast<int>(err), kafka_category()),
                 fmt::format("{}: {}", context, kafka_error_text(err, detail))};
}

const rd_kafka_metadata_topic_t* find_topic(const rd_kafka_metadata_t& md, std::string_view topic) {
  for (int i = 0; i < md.topic_cnt; ++i) {
    if (md.topics[i].topic != nullptr && topic == md.topics[i].topic) return &md.topics[i];
  }
  return nullptr;
}

outcome<metadata_ptr> fetch_metadata(client& c, const std::string* topic, int timeout_ms,
                                     std::string_view context) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  rd_kafka_topic_t* rkt = nullptr;
  if (topic != nullptr) {
    rkt = rd_kafka_topic_new(c.handle(), topic->c_str(), nullptr);
    if (rkt == nullptr)
      return tl::unexpected(
          kafka_failure(rd_kafka_last_error(), fmt::format("{}: topic {}", context, *topic)));
  }
  struct topic_guard {
    rd_kafka_topic_t* rkt;
    ~topic_guard() {
      if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
    }
  } guard{rkt};

  // Bounded by the deadline: one request per k_metadata_retry_ms while the topic has no leader yet.
  while (true) {
    const auto now = std::chrono::steady_clock::now();
    const int left_ms =
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count());
    const rd_kafka_metadata_t* raw = nullptr;
    const rd_kafka_resp_err_t err =
        rd_kafka_metadata(c.handle(), topic == nullptr ? 1 : 0, rkt, &raw, left_ms > 0 ? left_ms : 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      failure f = kafka_failure(err, context);
      if (is_unreachable(err)) {
        f.message = fmt::format("{}: no metadata from the cluster within {} ms{}", context, timeout_ms,
                                c.last_error_suffix());
      }
      return tl::unexpected(std::move(f));
    }
    metadata_ptr md(raw);
    if (topic == nullptr) return md;
    const rd_kafka_metadata_topic_t* t = find_topic(*md, *topic);
    const rd_kafka_resp_err_t terr = t == nullptr ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART : t->err;
    if (terr == RD_KAFKA_RESP_ERR_NO_ERROR) return md;
    if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || terr == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
      return fail_with(errc::topic_not_found, fmt::format("{}: topic '{}' does not exist", context, *topic));
    const bool transient = terr == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
    if (!transient ||
        std::chrono::steady_clock::now() + std::chrono::milliseconds(k_metadata_retry_ms) >= deadline)
      return tl::unexpected(kafka_failure(terr, fmt::format("{}: topic {}", context, *topic)));
    std::this_thread::sleep_for(std::chrono::milliseconds(k_metadata_retry_ms));
  }
}

admin_call::admin_call(client& c, rd_kafka_admin_op_t op, int timeout_ms)
    : client_(c), timeout_ms_(timeout_ms) {
  options_ = rd_kafka_AdminOptions_new(c.handle(), op);
  TRIB_ASSERT(options_ != nullptr);
  char errstr[256];
  // Both are validated by --timeout-ms's range, so librdkafka accepts them.
  TRIB_ASSERT(rd_kafka_AdminOptions_set_request_timeout(options_, timeout_ms, errstr, sizeof errstr) ==
                  RD_KAFKA_RESP_ERR_NO_ERROR,
              errstr);
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS) {
    TRIB_ASSERT(rd_kafka_AdminOptions_set_operation_timeout(options_, timeout_ms, errstr, sizeof errstr) ==
                    RD_KAFKA_RESP_ERR_NO_ERROR,
                errstr);
  }
  queue_ = rd_kafka_queue_new(c.handle());
  TRIB_ASSERT(queue_ != nullptr);
}

admin_call::~admin_call() {
  rd_kafka_queue_destroy(queue_);
  rd_kafka_AdminOptions_destroy(options_);
}

outcome<event_ptr> admin_call::wait(rd_kafka_event_type_t expected, std::string_view context) {
  event_ptr ev(rd_kafka_queue_poll(queue_, timeout_ms_ + k_admin_wait_grace_ms));
  if (!ev) {
    return fail_with(errc::timed_out, fmt::format("{}: no answer from the cluster within {} ms{}", context,
                                                  timeout_ms_, client_.last_error_suffix()));
  }
  TRIB_ASSERT(rd_kafka_event_type(ev.get()) == expected, "admin result of another request on our queue");
  const rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* text = rd_kafka_event_error_string(ev.get());
    failure f = kafka_failure(err, context, text == nullptr ? "" : text);
    if (is_unreachable(err)) f.message += client_.last_error_suffix();
    return tl::unexpected(std::move(f));
  }
  return ev;
}

}  // namespace tributary::cluster::cli
