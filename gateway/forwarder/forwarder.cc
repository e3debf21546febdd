#include "gateway/forwarder/forwarder.h"

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/assert.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/uv/async.h"
#include "common/uv/timer.h"

namespace tributary::gateway::forwarder {

// The core's error codes are librdkafka's.
static_assert(code::bad_msg == RD_KAFKA_RESP_ERR__BAD_MSG);
static_assert(code::bad_compression == RD_KAFKA_RESP_ERR__BAD_COMPRESSION);
static_assert(code::destroy == RD_KAFKA_RESP_ERR__DESTROY);
static_assert(code::transport == RD_KAFKA_RESP_ERR__TRANSPORT);
static_assert(code::msg_timed_out == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
static_assert(code::unknown_partition == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION);
static_assert(code::unknown_topic == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC);
static_assert(code::all_brokers_down == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN);
static_assert(code::invalid_arg == RD_KAFKA_RESP_ERR__INVALID_ARG);
static_assert(code::timed_out == RD_KAFKA_RESP_ERR__TIMED_OUT);
static_assert(code::queue_full == RD_KAFKA_RESP_ERR__QUEUE_FULL);
static_assert(code::ssl == RD_KAFKA_RESP_ERR__SSL);
static_assert(code::state == RD_KAFKA_RESP_ERR__STATE);
static_assert(code::not_implemented == RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED);
static_assert(code::authentication == RD_KAFKA_RESP_ERR__AUTHENTICATION);
static_assert(code::unsupported_feature == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE);
static_assert(code::purge_queue == RD_KAFKA_RESP_ERR__PURGE_QUEUE);
static_assert(code::purge_inflight == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
static_assert(code::fatal == RD_KAFKA_RESP_ERR__FATAL);
static_assert(code::inconsistent == RD_KAFKA_RESP_ERR__INCONSISTENT);
static_assert(code::gapless_guarantee == RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE);
static_assert(code::unknown_topic_or_part == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
static_assert(code::invalid_msg_size == RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE);
static_assert(code::msg_size_too_large == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
static_assert(code::topic_exception == RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION);
static_assert(code::record_list_too_large == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE);
static_assert(code::invalid_required_acks == RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS);
static_assert(code::topic_authorization_failed == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
static_assert(code::cluster_authorization_failed == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED);
static_assert(code::invalid_timestamp == RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP);
static_assert(code::unsupported_sasl_mechanism == RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM);
static_assert(code::illegal_sasl_state == RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE);
static_assert(code::unsupported_version == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION);
static_assert(code::unsupported_for_message_format == RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT);
static_assert(code::policy_violation == RD_KAFKA_RESP_ERR_POLICY_VIOLATION);
static_assert(code::out_of_order_sequence_number == RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
static_assert(code::invalid_producer_epoch == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH);
static_assert(code::invalid_producer_id_mapping == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING);
static_assert(code::transactional_id_authorization_failed ==
              RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
static_assert(code::sasl_authentication_failed == RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED);
static_assert(code::unknown_producer_id == RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID);
static_assert(code::unsupported_compression_type == RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE);
static_assert(code::invalid_record == RD_KAFKA_RESP_ERR_INVALID_RECORD);
// A seq travels as the message's opaque pointer.
static_assert(sizeof(void*) >= sizeof(int64_t));

namespace {

constexpr std::string_view component = "forwarder";
constexpr int pump_rounds_max = 64;       // take_actions rounds per pump (each runs what the last freed)
constexpr uint64_t stop_grace_ms = 2000;  // after the purge at the stop timeout, the last wait
constexpr size_t errstr_bytes = 512;

int64_t system_wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string error_text(rd_kafka_resp_err_t err, const char* detail) {
  std::string s = fmt::format("{}: {}", rd_kafka_err2name(err), rd_kafka_err2str(err));
  if (detail && *detail && std::strcmp(detail, rd_kafka_err2str(err)) != 0) s += fmt::format(" ({})", detail);
  return s;
}

// Applies the properties to a new conf; on failure returns librdkafka's message (conf destroyed).
rd_kafka_conf_t* make_conf(const forwarder_config& c, std::string& error) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[errstr_bytes];
  for (const auto& [k, v] : librdkafka_properties(c)) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      error = fmt::format("librdkafka setting \"{}\": {}", k, err);
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  return conf;
}

// One producer being destroyed off the loop.
struct reaper {
  std::thread thread;
  std::shared_ptr<std::atomic<bool>> done;
};

}  // namespace

std::optional<std::string> check_config(const forwarder_config& c) {
  if (auto bad = validate(c)) return bad;
  std::string error;
  rd_kafka_conf_t* conf = make_conf(c, error);
  if (!conf) return error;
  rd_kafka_conf_destroy(conf);
  return std::nullopt;
}

struct forwarder::state : std::enable_shared_from_this<state> {
  uv::loop* loop = nullptr;
  uv::worker* worker = nullptr;
  buffer::buffer_store* store = nullptr;
  forwarder_config config;
  wall_clock_fn wall_ms;
  std::unique_ptr<forward_core> core;

  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* main_queue = nullptr;
  uv::async::sender* wake_sender =
      nullptr;                          // librdkafka's queue callback's opaque; freed after rd_kafka_destroy
  std::optional<uv::async> wake;        // the loop side of that callback (and of the reapers)
  std::optional<uv::timer> poll_timer;  // serves the producer at least every poll_interval_ms
  std::optional<uv::timer> deadline_timer;  // the core's next deadline
  std::optional<uv::timer> stop_timer;
  std::vector<reaper> reapers;

  std::shared_ptr<buffer::peek_cursor> cursor = std::make_shared<buffer::peek_cursor>();
  std::unordered_map<int64_t, buffer::stored_reading> rows;  // taken by the core, not yet produced

  bool started = false;
  bool stopping = false;
  bool stop_purged = false;
  bool finished = false;  // on_stopped called (or about to be)
  bool detached = false;  // the public object is gone
  bool pumping = false;
  bool pump_again = false;
  std::function<void()> on_stopped;
  size_t brokers_up = 0;
  core_mode last_mode = core_mode::running;
  std::string last_failure;  // the latest failure's text, for the settle log line
  uint64_t last_failure_seq = 0;

  // Metrics (null without a registry). Counters follow the core's stats by deltas.
  struct published {
    uint64_t delivered_rows = 0, delivered_bytes = 0, dead_lettered = 0, queue_full = 0, settles = 0,
             backoffs = 0, resent = 0, recreations = 0, delivery_timeouts = 0;
    uint64_t failures[error_class_count] = {};
  } pub;
  metrics::counter* m_rows = nullptr;
  metrics::counter* m_bytes = nullptr;
  metrics::counter* m_errors[error_class_count] = {};
  metrics::counter* m_dead = nullptr;
  metrics::counter* m_queue_full = nullptr;
  metrics::counter* m_settles = nullptr;
  metrics::counter* m_backoffs = nullptr;
  metrics::counter* m_resent = nullptr;
  metrics::counter* m_recreations = nullptr;
  metrics::counter* m_delivery_timeouts = nullptr;
  metrics::gauge* m_window_rows = nullptr;
  metrics::gauge* m_window_bytes = nullptr;
  metrics::gauge* m_in_flight = nullptr;
  metrics::gauge* m_queue = nullptr;
  metrics::gauge* m_uplink = nullptr;
  metrics::gauge* m_brokers = nullptr;
  metrics::gauge* m_mode[5] = {};
  metrics::double_gauge* m_drain = nullptr;

  uint64_t now() const { return loop->now_ms(); }

  // ---- producer ----------------------------------------------------------------------------

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept {
    auto* s = static_cast<state*>(opaque);
    try {
      s->delivery(m);
    } catch (...) {
      TRIB_ASSERT(false, "a delivery report handler threw");
    }
  }

  void delivery(const rd_kafka_message_t* m) {
    const auto seq = gateway_seq(static_cast<int64_t>(reinterpret_cast<intptr_t>(m->_private)));
    TRIB_LOG_TRACE(component, "report", {"seq", seq.value}, {"partition", m->partition},
                   {"offset", m->offset}, {"error", rd_kafka_err2name(m->err)},
                   {"status", static_cast<int>(rd_kafka_message_status(m))});
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      core->on_delivered(seq, now());
      return;
    }
    // (rd_kafka_message_errstr is no use here: on a producer's report it points at the payload.)
    std::string text = error_text(m->err, nullptr);
    if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE && m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      // A purge is our own doing: the settle and backoff log lines name what caused it.
      last_failure = text;
      last_failure_seq = static_cast<uint64_t>(seq.value);
    }
    const auto cls = classify(m->err, error_origin::delivery);
    if (cls != error_class::retriable) {
      TRIB_LOG_WARN(component, "delivery_failed", {"seq", seq.value}, {"class", to_string(cls)},
                    {"error", text});
    } else {
      TRIB_LOG_DEBUG(component, "delivery_failed", {"seq", seq.value}, {"class", to_string(cls)},
                     {"error", text});
    }
    core->on_delivery_failed(seq, m->err, text, now());
  }

  static void on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) noexcept {
    auto* s = static_cast<state*>(opaque);
    try {
      s->error(rk, static_cast<rd_kafka_resp_err_t>(err), reason);
    } catch (...) {
      TRIB_ASSERT(false, "an error handler threw");
    }
  }

  void error(rd_kafka_t* from, rd_kafka_resp_err_t err, const char* reason) {
    if (from != rk) return;  // a producer being replaced
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      char buf[errstr_bytes];
      rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof buf);
      TRIB_LOG_ERROR(component, "producer_fatal", {"error", error_text(orig, buf)},
                     {"effect", "settle, back off, recreate the producer"});
      core->on_producer_fatal(now());
      return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
      core->on_all_brokers_down(now());
      TRIB_LOG_DEBUG(component, "all_brokers_down", {"reason", reason ? reason : ""});
      return;
    }
    TRIB_LOG_DEBUG(component, "producer_error", {"error", error_text(err, reason)});
  }

  static int on_stats(rd_kafka_t* rk, char* json, size_t len, void* opaque) noexcept {
    auto* s = static_cast<state*>(opaque);
    try {
      if (rk == s->rk) s->statistics(std::string_view(json, len));
    } catch (...) {
      // A statistics document we cannot read changes nothing.
    }
    return 0;  // librdkafka frees the text
  }

  void statistics(std::string_view text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.contains("brokers") || !j["brokers"].is_object()) return;
    size_t up = 0;
    for (const auto& [name, b] : j["brokers"].items()) {
      if (!b.is_object()) continue;
      const std::string source = b.value("source", "");
      if (source == "internal" || source == "logical") continue;
      if (b.value("state", "") == "UP") up++;
    }
    brokers_up = up;
    core->on_brokers_up(up, now());
  }

  static void on_log(const rd_kafka_t*, int level, const char* fac, const char* buf) noexcept {
    try {
      const auto lvl = level <= 4 ? log::level::warn : level <= 6 ? log::level::info : log::level::debug;
      TRIB_LOG(lvl, "librdkafka", "log", {"facility", fac ? fac : ""}, {"message", buf ? buf : ""});
    } catch (...) {
    }
  }

  static void on_queue_event(rd_kafka_t*, void* opaque) noexcept {
    // A librdkafka thread: only wake the loop.
    static_cast<uv::async::sender*>(opaque)->send();
  }

  result<void> create_producer() {
    std::string error;
    rd_kafka_conf_t* conf = make_conf(config, error);
    if (!conf) {
      TRIB_LOG_ERROR(component, "producer_config_refused", {"error", error});
      return fail(errc::producer_failed);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, &state::on_delivery);
    rd_kafka_conf_set_error_cb(conf, &state::on_error);
    rd_kafka_conf_set_stats_cb(conf, &state::on_stats);
    rd_kafka_conf_set_log_cb(conf, &state::on_log);
    rd_kafka_conf_set_opaque(conf, this);
    char err[errstr_bytes];
    rd_kafka_t* p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!p) {
      rd_kafka_conf_destroy(conf);
      TRIB_LOG_ERROR(component, "producer_failed", {"error", err});
      return fail(errc::producer_failed);
    }
    rk = p;
    main_queue = rd_kafka_queue_get_main(rk);
    wake_sender = new uv::async::sender(wake->get_sender());
    rd_kafka_queue_cb_event_enable(main_queue, &state::on_queue_event, wake_sender);
    return {};
  }

  // Hands the producer to a thread that destroys it (rd_kafka_destroy blocks).
  void retire_producer() {
    if (!rk) return;
    rd_kafka_queue_cb_event_enable(main_queue, nullptr, nullptr);
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto notify = wake->get_sender();
    rd_kafka_t* p = rk;
    rd_kafka_queue_t* q = main_queue;
    uv::async::sender* sender = wake_sender;
    rk = nullptr;
    main_queue = nullptr;
    wake_sender = nullptr;
    reapers.push_back(reaper{std::thread([p, q, sender, done, notify] {
                               rd_kafka_queue_destroy(q);
                               rd_kafka_destroy(p);
                               delete sender;  // no librdkafka thread can call it any more
                               done->store(true);
                               notify.send();
                             }),
                             done});
  }

  void join_reapers(bool all) {
    for (auto it = reapers.begin(); it != reapers.end();) {
      if (all || it->done->load()) {
        it->thread.join();
        it = reapers.erase(it);
      } else {
        ++it;
      }
    }
  }

  // The producer's events: delivery reports, errors, statistics. Then whatever they unblocked.
  void serve() {
    if (rk) rd_kafka_poll(rk, 0);
    join_reapers(false);
    pump();
  }

  produce_status produce(const buffer::stored_reading& row, rd_kafka_resp_err_t& err) {
    static const char empty = 0;  // an empty (not null) value or key
    const buffer::reading& r = row.r;
    rd_kafka_headers_t* h = rd_kafka_headers_new(r.headers.size() + 2);
    bool has_gateway = false;
    for (const auto& hd : r.headers) {
      if (hd.key == header_gateway) has_gateway = true;
      if (hd.value) {
        rd_kafka_header_add(h, hd.key.data(), static_cast<ssize_t>(hd.key.size()),
                            hd.value->empty() ? static_cast<const void*>(&empty) : hd.value->data(),
                            hd.value->size());
      } else {
        rd_kafka_header_add(h, hd.key.data(), static_cast<ssize_t>(hd.key.size()), nullptr, 0);
      }
    }
    if (!has_gateway) {
      rd_kafka_header_add(h, header_gateway.data(), static_cast<ssize_t>(header_gateway.size()),
                          config.gateway_id.data(), config.gateway_id.size());
    }
    const std::string seq_text = std::to_string(row.seq.value);
    rd_kafka_header_add(h, header_gateway_seq.data(), static_cast<ssize_t>(header_gateway_seq.size()),
                        seq_text.data(), seq_text.size());
    const void* value = r.payload.empty() ? static_cast<const void*>(&empty) : r.payload.data();
    const void* key = nullptr;
    size_t key_len = 0;
    if (r.key) {
      key = r.key->empty() ? static_cast<const void*>(&empty) : r.key->data();
      key_len = r.key->size();
    }
    err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(r.topic.c_str()), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(const_cast<void*>(value), r.payload.size()), RD_KAFKA_V_KEY(key, key_len),
        RD_KAFKA_V_TIMESTAMP(r.receive_ms), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<intptr_t>(row.seq.value))), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return produce_status::accepted;  // librdkafka owns the headers
    rd_kafka_headers_destroy(h);
    return err == RD_KAFKA_RESP_ERR__QUEUE_FULL ? produce_status::queue_full : produce_status::failed;
  }

  void produce_ready() {
    if (!rk) return;
    // Bounded: each round takes one row out of the core's unsent queue (or stops at queue full).
    while (auto seq = core->next_to_produce()) {
      auto it = rows.find(seq->value);
      TRIB_ASSERT(it != rows.end(), "the core produces only rows it took");
      rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
      const auto status = produce(it->second, err);
      std::string reason;
      if (status == produce_status::failed) {
        reason = error_text(err, nullptr);
        last_failure = reason;
        last_failure_seq = static_cast<uint64_t>(seq->value);
        TRIB_LOG_WARN(component, "produce_refused", {"seq", seq->value}, {"topic", it->second.r.topic},
                      {"class", to_string(classify(err, error_origin::produce_call))}, {"error", reason});
      }
      core->on_produce(*seq, status, err, reason, now());
      if (status == produce_status::queue_full) break;
      rows.erase(it);
    }
  }

  // ---- jobs on the buffer's worker ----------------------------------------------------------

  void run(core_actions& a) {
    if (a.drop_unsent) rows.clear();
    if (a.purge_in_flight) {
      // The core's delivery timeout (librdkafka's message.timeout.ms is infinite, see forward_core.h).
      last_failure = fmt::format("delivery timeout ({} ms)", config.delivery_timeout_ms);
      last_failure_seq = 0;
      TRIB_LOG_WARN(component, "delivery_timeout", {"in_flight", core->in_flight_rows()},
                    {"timeout_ms", config.delivery_timeout_ms},
                    {"effect", "purged queue and in flight; sent again after a backoff"});
    }
    if ((a.purge_unsent || a.purge_in_flight) && rk) {
      int flags = RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING;
      if (a.purge_in_flight) flags |= RD_KAFKA_PURGE_F_INFLIGHT;
      TRIB_LOG_DEBUG(component, "purge", {"in_flight", core->in_flight_rows()},
                     {"outq", rd_kafka_outq_len(rk)}, {"sent_too", a.purge_in_flight});
      rd_kafka_purge(rk, flags);
    }
    if (a.recreate_producer) {
      TRIB_LOG_WARN(component, "producer_recreate");
      retire_producer();
      if (!create_producer()) {
        // The settings were accepted once; a failure now is resources. The next fatal retries.
        TRIB_LOG_ERROR(component, "producer_recreate_failed");
      }
    }
    if (!a.dead_letter.empty()) submit_dead_letters(std::move(a.dead_letter));
    if (!a.remove.empty()) submit_remove(std::move(a.remove));
    if (a.peek) submit_peek(*a.peek);
  }

  void submit_peek(const peek_request& p) {
    struct job {
      peek_request req;
      int64_t now_ms = 0;
      result<std::vector<buffer::stored_reading>> rows = fail(buffer::errc::closed);
    };
    auto j = std::make_shared<job>();
    j->req = p;
    j->now_ms = wall_ms();
    auto submitted = worker->submit(
        [st = store, cur = cursor, j] {
          if (j->req.reset_cursor) cur->reset();
          j->rows = st->peek_batch(*cur, {j->req.rows_max, j->req.bytes_max, j->now_ms});
        },
        [self = shared_from_this(), j](std::error_code ec) {
          if (self->detached) return;
          if (ec || !j->rows) {
            TRIB_LOG_WARN(component, "peek_failed", {"error", (ec ? ec : j->rows.error()).message()});
            self->core->on_peek_failed(self->now());
          } else {
            std::vector<row_info> info;
            info.reserve(j->rows->size());
            for (const auto& r : *j->rows) info.push_back(row_info{r.seq, r.r.priority, r.size});
            auto taken = self->core->on_peeked(info, self->now());
            for (size_t i = 0; i < taken.size(); ++i) {
              if (taken[i]) self->rows.emplace((*j->rows)[i].seq.value, std::move((*j->rows)[i]));
            }
          }
          self->pump();
        });
    if (!submitted) core->on_peek_failed(now());
  }

  void submit_remove(std::vector<gateway_seq> seqs) {
    struct job {
      std::vector<gateway_seq> seqs;
      result<size_t> removed = fail(buffer::errc::closed);
    };
    auto j = std::make_shared<job>();
    j->seqs = std::move(seqs);
    auto submitted = worker->submit([st = store, j] { j->removed = st->remove_delivered(j->seqs); },
                                    [self = shared_from_this(), j](std::error_code ec) {
                                      if (self->detached) return;
                                      const bool ok = !ec && j->removed.has_value();
                                      if (!ok) {
                                        TRIB_LOG_WARN(component, "remove_failed", {"rows", j->seqs.size()},
                                                      {"error", (ec ? ec : j->removed.error()).message()});
                                      }
                                      self->core->on_removed(j->seqs, ok, self->now());
                                      self->pump();
                                    });
    if (!submitted) core->on_removed(j->seqs, false, now());
  }

  void submit_dead_letters(std::vector<dead_letter_request> reqs) {
    struct job {
      std::vector<dead_letter_request> reqs;
      std::vector<bool> ok;
      std::vector<std::string> errors;
      int64_t now_ms = 0;
    };
    auto j = std::make_shared<job>();
    j->reqs = std::move(reqs);
    j->ok.assign(j->reqs.size(), false);
    j->errors.resize(j->reqs.size());
    j->now_ms = wall_ms();
    auto submitted = worker->submit(
        [st = store, j] {
          for (size_t i = 0; i < j->reqs.size(); ++i) {
            auto r = st->move_to_dead_letter(j->reqs[i].seq, j->reqs[i].reason, j->now_ms);
            // Gone already (expired, evicted, delivered by an earlier run): nothing to move.
            j->ok[i] = r.has_value() || r.error() == make_error_code(buffer::errc::not_found);
            if (!r) j->errors[i] = r.error().message();
          }
        },
        [self = shared_from_this(), j](std::error_code ec) {
          if (self->detached) return;
          for (size_t i = 0; i < j->reqs.size(); ++i) {
            if (ec) j->ok[i] = false;
            if (j->ok[i]) {
              TRIB_LOG_WARN(component, "dead_lettered", {"seq", j->reqs[i].seq.value},
                            {"reason", j->reqs[i].reason});
            } else {
              TRIB_LOG_WARN(component, "dead_letter_failed", {"seq", j->reqs[i].seq.value},
                            {"error", ec ? ec.message() : j->errors[i]});
            }
          }
          self->core->on_dead_lettered(j->reqs, j->ok, self->now());
          self->pump();
        });
    if (!submitted) core->on_dead_lettered(j->reqs, std::vector<bool>(j->reqs.size(), false), now());
  }

  // ---- the pump ------------------------------------------------------------------------------

  void pump() {
    if (detached || finished) return;
    if (pumping) {  // an event inside a pump (a job refused at once): one more round afterwards
      pump_again = true;
      return;
    }
    pumping = true;
    for (int round = 0; round < pump_rounds_max; ++round) {
      pump_again = false;
      produce_ready();
      auto a = core->take_actions(now());
      if (a.empty() && !pump_again) break;
      run(a);
    }
    pumping = false;
    note_mode();
    publish();
    arm_deadline();
    if (stopping && core->stopped()) finish_stop();
  }

  void arm_deadline() {
    if (!deadline_timer) return;
    auto d = core->next_deadline_ms(now());
    if (!d) {
      deadline_timer->cancel();
      return;
    }
    deadline_timer->start(*d - now(), [this] {
      auto keep = shared_from_this();
      pump();
    });
  }

  void note_mode() {
    const core_mode m = core->mode();
    if (m == last_mode) return;
    if (m == core_mode::settling) {
      TRIB_LOG_WARN(component, "settling", {"after", last_failure}, {"seq", last_failure_seq},
                    {"in_flight", core->in_flight_rows()});
    } else if (m == core_mode::backing_off) {
      const auto at = core->resume_at_ms();
      TRIB_LOG_WARN(component, "backing_off", {"delay_ms", at ? *at - now() : 0}, {"after", last_failure});
    } else if (m == core_mode::running && last_mode != core_mode::stopping) {
      TRIB_LOG_INFO(component, "resuming", {"from", to_string(last_mode)});
    }
    last_mode = m;
  }

  // ---- stop ----------------------------------------------------------------------------------

  void begin_stop(std::function<void()> done) {
    if (stopping) return;
    stopping = true;
    on_stopped = std::move(done);
    TRIB_LOG_INFO(component, "stopping", {"in_flight", core->in_flight_rows()},
                  {"window", core->window_rows()});
    core->stop(now());
    stop_timer.emplace(*loop);
    stop_timer->start(config.stop_timeout_ms, [this] {
      auto keep = shared_from_this();
      stop_timed_out();
    });
    pump();
  }

  void stop_timed_out() {
    if (finished) return;
    if (!stop_purged) {
      // What is still in flight stays in the buffer and goes again after the restart.
      stop_purged = true;
      TRIB_LOG_WARN(component, "stop_timeout", {"in_flight", core->in_flight_rows()},
                    {"effect", "purged; sent again after the restart"});
      if (rk)
        rd_kafka_purge(rk,
                       RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING);
      stop_timer->start(stop_grace_ms, [this] {
        auto keep = shared_from_this();
        stop_timed_out();
      });
      serve();
      return;
    }
    TRIB_LOG_WARN(component, "stop_forced", {"window", core->window_rows()},
                  {"in_flight", core->in_flight_rows()});
    finish_stop();
  }

  void finish_stop() {
    if (finished) return;
    finished = true;
    if (stop_timer) stop_timer->cancel();
    if (poll_timer) poll_timer->cancel();
    if (deadline_timer) deadline_timer->cancel();
    publish();
    retire_producer();
    // The reaper wakes the loop when the producer is gone; then on_stopped runs.
    check_reaped();
  }

  void check_reaped() {
    join_reapers(false);
    if (!finished || !reapers.empty() || !on_stopped) return;
    const auto& st = core->stats();
    TRIB_LOG_INFO(component, "stopped", {"forwarded_rows", st.delivered_rows},
                  {"window", core->window_rows()});
    auto cb = std::move(on_stopped);
    on_stopped = nullptr;
    wake.reset();
    cb();
  }

  // ---- metrics -------------------------------------------------------------------------------

  void register_metrics(metrics::registry& reg) {
    const std::string p = "tributary_gateway_forwarder_";
    m_rows = &reg.add_counter(p + "forwarded_rows_total", "Readings the cluster acknowledged.");
    m_bytes = &reg.add_counter(p + "forwarded_bytes_total", "Accounted bytes of the readings acknowledged.");
    for (auto c : all_error_classes) {
      m_errors[static_cast<size_t>(c)] = &reg.add_counter(
          p + "errors_total", "Produce and delivery failures, by class (core/error_class.h).",
          {{"class", std::string(to_string(c))}});
    }
    m_dead = &reg.add_counter(p + "dead_lettered_rows_total",
                              "Readings the forwarder moved to the dead-letter table.");
    m_queue_full =
        &reg.add_counter(p + "queue_full_total", "Times the producer's queue was full (backpressure).");
    m_settles = &reg.add_counter(p + "settles_total", "Failures that made the forwarder re-read the buffer.");
    m_backoffs = &reg.add_counter(p + "backoffs_total", "Backoffs after retriable failures.");
    m_resent =
        &reg.add_counter(p + "resent_rows_total", "Readings that failed retriably and are sent again.");
    m_recreations =
        &reg.add_counter(p + "producer_recreations_total", "Producers replaced after a fatal error.");
    m_delivery_timeouts = &reg.add_counter(
        p + "delivery_timeouts_total",
        "Times the oldest reading in flight passed forwarder.delivery_timeout_ms (everything was purged).");
    m_window_rows =
        &reg.add_gauge(p + "window_rows", "Readings sent or being sent and not yet removed from the buffer.");
    m_window_bytes = &reg.add_gauge(p + "window_bytes", "Accounted bytes in the window.");
    m_in_flight =
        &reg.add_gauge(p + "in_flight_rows", "Readings handed to the producer without a delivery report.");
    m_queue = &reg.add_gauge(p + "producer_queue_messages", "Messages and requests in librdkafka's queues.");
    m_uplink =
        &reg.add_gauge(p + "uplink_up", "1 when the cluster is reachable (a broker up, or a delivery).");
    m_brokers = &reg.add_gauge(p + "brokers_up", "Brokers in state UP (librdkafka statistics).");
    const core_mode modes[] = {core_mode::running, core_mode::settling, core_mode::backing_off,
                               core_mode::stopping, core_mode::stopped};
    for (auto m : modes) {
      m_mode[static_cast<size_t>(m)] = &reg.add_gauge(p + "state", "1 for the forwarder's current state.",
                                                      {{"state", std::string(to_string(m))}});
    }
    m_drain =
        &reg.add_double_gauge(p + "drain_rows_per_second", "Readings acknowledged per second (10 s window).");
  }

  void publish() {
    if (!m_rows) return;
    const auto& st = core->stats();
    auto delta = [](metrics::counter* c, uint64_t& last, uint64_t now_value) {
      if (now_value > last) c->inc(now_value - last);
      last = now_value;
    };
    delta(m_rows, pub.delivered_rows, st.delivered_rows);
    delta(m_bytes, pub.delivered_bytes, st.delivered_bytes);
    for (size_t i = 0; i < error_class_count; ++i) delta(m_errors[i], pub.failures[i], st.failures[i]);
    delta(m_dead, pub.dead_lettered, st.dead_lettered_rows);
    delta(m_queue_full, pub.queue_full, st.queue_full);
    delta(m_settles, pub.settles, st.settles);
    delta(m_backoffs, pub.backoffs, st.backoffs);
    delta(m_resent, pub.resent, st.resent_rows);
    delta(m_recreations, pub.recreations, st.producer_recreations);
    delta(m_delivery_timeouts, pub.delivery_timeouts, st.delivery_timeouts);
    m_window_rows->set(static_cast<int64_t>(core->window_rows()));
    m_window_bytes->set(static_cast<int64_t>(core->window_bytes()));
    m_in_flight->set(static_cast<int64_t>(core->in_flight_rows()));
    m_queue->set(rk ? rd_kafka_outq_len(rk) : 0);
    m_uplink->set(core->uplink_up() ? 1 : 0);
    m_brokers->set(static_cast<int64_t>(brokers_up));
    for (size_t i = 0; i < 5; ++i) m_mode[i]->set(static_cast<size_t>(core->mode()) == i ? 1 : 0);
    m_drain->set(core->drain_rows_per_second(now()));
  }
};

result<std::unique_ptr<forwarder>> forwarder::create(uv::loop& l, uv::worker& buffer_worker,
                                                     buffer::buffer_store& store, const forwarder_config& c,
                                                     metrics::registry* metrics,
                                                     wall_clock_fn wall_clock_ms) {
  if (!c.active()) return fail(errc::not_active);
  if (auto bad = validate(c)) {
    TRIB_LOG_ERROR(component, "bad_config", {"error", *bad});
    return fail(errc::bad_config);
  }
  auto s = std::make_shared<state>();
  s->loop = &l;
  s->worker = &buffer_worker;
  s->store = &store;
  s->config = c;
  s->wall_ms = wall_clock_ms ? std::move(wall_clock_ms) : wall_clock_fn(system_wall_ms);
  uint64_t seed = c.seed;
  if (seed == 0) {
    std::random_device rd;
    seed = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  s->core = std::make_unique<forward_core>(make_core_limits(c), seed);
  // The wake-up: librdkafka's queue callback (any thread) and the reapers signal it.
  std::weak_ptr<state> weak = s;
  auto wake = uv::async::create(l, [weak] {
    if (auto self = weak.lock()) {
      if (self->detached) return;
      if (self->finished) {
        self->check_reaped();
      } else {
        self->serve();
      }
    }
  });
  if (!wake) return fail(wake.error());
  s->wake.emplace(std::move(*wake));
  TRIB_TRY_VOID(s->create_producer());
  if (metrics) s->register_metrics(*metrics);
  TRIB_LOG_INFO(component, "producer_created", {"bootstrap_servers", c.bootstrap_servers},
                {"compression", to_string(c.compression)}, {"window_rows", c.in_flight_rows_max},
                {"delivery_timeout_ms", c.delivery_timeout_ms}, {"librdkafka", rd_kafka_version_str()});
  return std::unique_ptr<forwarder>(new forwarder(std::move(s)));
}

forwarder::~forwarder() {
  if (!s_) return;
  s_->detached = true;
  if (s_->rk) s_->retire_producer();
  s_->join_reapers(true);
  s_->poll_timer.reset();
  s_->deadline_timer.reset();
  s_->stop_timer.reset();
  s_->wake.reset();
}

void forwarder::start() {
  auto& s = *s_;
  if (s.started || s.stopping) return;
  s.started = true;
  s.poll_timer.emplace(*s.loop);
  s.deadline_timer.emplace(*s.loop);
  s.poll_timer->start_repeating(s.config.poll_interval_ms, [self = s_.get()] { self->serve(); });
  TRIB_LOG_INFO(component, "started", {"backlog_rows", s.store->backlog().rows});
  s.pump();
}

void forwarder::stop(std::function<void()> on_stopped) {
  if (!s_->started) {  // never started: nothing in flight
    s_->started = true;
    s_->stopping = true;
    s_->on_stopped = std::move(on_stopped);
    s_->core->stop(s_->now());
    s_->finish_stop();
    return;
  }
  s_->begin_stop(std::move(on_stopped));
}

const forward_core& forwarder::core() const { return *s_->core; }
bool forwarder::uplink_up() const { return s_->core->uplink_up(); }
size_t forwarder::producer_queue_messages() const {
  return s_->rk ? static_cast<size_t>(rd_kafka_outq_len(s_->rk)) : 0;
}

}  // namespace tributary::gateway::forwarder
