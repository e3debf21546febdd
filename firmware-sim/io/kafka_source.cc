#include "firmware-sim/io/kafka_source.h"

#include <unistd.h>

#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "common/log.h"

namespace tributary::sim::io {
namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void on_kafka_log(const rd_kafka_t*, int level, const char* fac, const char* buf) noexcept {
  if (level <= 4) {  // LOG_WARNING and worse
    TRIB_LOG_WARN("verify.kafka", "librdkafka", {"facility", fac}, {"message", buf});
  } else {
    TRIB_LOG_DEBUG("verify.kafka", "librdkafka", {"facility", fac}, {"message", buf});
  }
}

void on_kafka_error(rd_kafka_t*, int err, const char* reason, void*) noexcept {
  TRIB_LOG_WARN("verify.kafka", "error", {"code", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))},
                {"reason", reason});
}

struct kafka_deleter {
  void operator()(rd_kafka_t* rk) const noexcept { rd_kafka_destroy(rk); }
};

}  // namespace

result<kafka_source_stats> consume_topic(const kafka_source_options& options, const record_fn& on_record,
                                         const std::function<bool()>& stop) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = options.group_id.empty()
                                ? fmt::format("tributary-sim-verify-{}-{}", ::getpid(), wall_ms())
                                : options.group_id;
  std::vector<std::pair<std::string, std::string>> props = {
      {"bootstrap.servers", options.bootstrap}, {"group.id", group},
      {"auto.offset.reset", "earliest"},        {"enable.auto.commit", "true"},
      {"enable.partition.eof", "false"},        {"client.id", "tributary-sim-verify"},
  };
  props.insert(props.end(), options.properties.begin(), options.properties.end());
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
      TRIB_LOG_ERROR("verify.kafka", "bad_property", {"key", key}, {"value", value}, {"error", errstr});
      rd_kafka_conf_destroy(conf);
      return fail(errc::kafka_config);
    }
  }
  rd_kafka_conf_set_log_cb(conf, on_kafka_log);
  rd_kafka_conf_set_error_cb(conf, on_kafka_error);
  std::unique_ptr<rd_kafka_t, kafka_deleter> rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr));
  if (!rk) {  // on failure the configuration is still ours
    TRIB_LOG_ERROR("verify.kafka", "create_failed", {"error", errstr});
    rd_kafka_conf_destroy(conf);
    return fail(errc::kafka_config);
  }
  rd_kafka_poll_set_consumer(rk.get());
  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(topics, options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t sub = rd_kafka_subscribe(rk.get(), topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (sub != RD_KAFKA_RESP_ERR_NO_ERROR) {
    TRIB_LOG_ERROR("verify.kafka", "subscribe_failed", {"topic", options.topic},
                   {"error", rd_kafka_err2str(sub)});
    return fail(errc::kafka_subscribe);
  }
  TRIB_LOG_INFO("verify.kafka", "subscribed", {"bootstrap", options.bootstrap}, {"topic", options.topic},
                {"group", group});

  kafka_source_stats stats;
  const int64_t start = steady_ms();
  int64_t last_activity = -1;  // steady ms of the first assignment or the latest record
  int64_t next_assignment_check = start;
  while (true) {
    const int64_t now = steady_ms();
    stats.elapsed_ms = now - start;
    if (stop && stop()) {
      stats.stop_reason = "stopped";
      break;
    }
    if (now - start >= options.deadline_ms) {
      stats.stop_reason = "deadline";
      break;
    }
    if (last_activity >= 0 && now - last_activity >= options.idle_ms) {
      stats.stop_reason = "idle";
      break;
    }
    if (stats.records >= options.records_max) {
      stats.stop_reason = "records_max";
      break;
    }
    if (!stats.assigned && now >= next_assignment_check) {
      next_assignment_check = now + 200;
      rd_kafka_topic_partition_list_t* parts = nullptr;
      if (rd_kafka_assignment(rk.get(), &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts) {
        if (parts->cnt > 0) {
          stats.assigned = true;
          if (last_activity < 0) last_activity = now;
          TRIB_LOG_INFO("verify.kafka", "assigned", {"partitions", parts->cnt});
        }
        rd_kafka_topic_partition_list_destroy(parts);
      }
    }
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk.get(), 100);
    if (!msg) continue;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        ++stats.consumer_errors;
        TRIB_LOG_WARN("verify.kafka", "consume_error", {"error", rd_kafka_message_errstr(msg)});
      }
      rd_kafka_message_destroy(msg);
      char fatal[256];
      if (rd_kafka_fatal_error(rk.get(), fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        TRIB_LOG_ERROR("verify.kafka", "fatal", {"error", fatal});
        return fail(errc::kafka_fatal);
      }
      continue;
    }
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const int64_t ts = rd_kafka_message_timestamp(msg, &ts_type);
    const byte_span payload(static_cast<const uint8_t*>(msg->payload), msg->payload ? msg->len : 0);
    on_record(payload, ts_type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? -1 : ts, wall_ms());
    rd_kafka_message_destroy(msg);
    ++stats.records;
    stats.assigned = true;
    last_activity = steady_ms();
  }
  rd_kafka_consumer_close(rk.get());
  if (!stats.assigned) return fail(errc::never_assigned);
  return stats;
}

}  // namespace tributary::sim::io
