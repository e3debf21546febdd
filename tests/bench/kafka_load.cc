// kafka_load: a small librdkafka load tool for tests/bench/broker_bench.sh (Debian ships librdkafka's
// rdkafka_performance only as example source, not as a program).
//
//   kafka_load produce --bootstrap 127.0.0.1:9092 --topic t --records 1000000 --size 100 --acks 1
//                      --partitions 8 [--replication-factor 1 --linger-ms 5 --batch-bytes 1000000
//                      --timeout-s 120]
//   kafka_load consume --bootstrap 127.0.0.1:9092 --topic t --records 1000000 --partitions 8
//
// produce: creates the topic with --partitions (CreateTopics; an existing topic is fine), then sends
// --records records of --size bytes round-robin over the partitions as fast as librdkafka takes them,
// and waits for every delivery report. Latency of a record = delivery report time - enqueue time: at
// saturation it includes the time queued in the client, at most --window records (default 100,000).
// consume: assigns every partition from offset 0 (no consumer group) and reads --records records,
// timed from the first record's arrival. With --group G it subscribes as a member of consumer group G
// instead (auto.offset.reset=earliest, auto commit every second) and reads its share; the line then
// also has first_ms= and last_ms= (wall clock of the first and last record) so that a script can
// compute the throughput of several members together.
// Prints one line of key=value figures; exit 1 when records failed or the run timed out.
#include <librdkafka/rdkafka.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch()).count();
}

struct options {
  std::string mode;
  std::string bootstrap = "127.0.0.1:9092";
  std::string topic = "bench";
  uint64_t records = 1000000;
  size_t size = 100;
  std::string acks = "1";
  int partitions = 1;
  int replication_factor = 1;  // of the topic when created (-1: the broker's default)
  int linger_ms = 5;
  int batch_bytes = 1000000;
  int timeout_s = 120;
  int window = 100000;
  std::string group;  // consume: "" = assign every partition; else subscribe as a member of this group
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct produce_state {
  std::vector<int64_t> enqueued_ns;
  std::vector<uint32_t> latency_us;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) noexcept {
  auto* st = static_cast<produce_state*>(opaque);
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (st->failed++ == 0) st->first_error = rd_kafka_err2str(m->err);
    return;
  }
  auto i = reinterpret_cast<uintptr_t>(m->_private);
  int64_t us = (now_ns() - st->enqueued_ns[i]) / 1000;
  st->latency_us.push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
  ++st->delivered;
}

bool set(rd_kafka_conf_t* c, const char* k, const std::string& v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "config %s=%s: %s\n", k, v.c_str(), err);
    return false;
  }
  return true;
}

// CreateTopics through the admin API of the producer handle; an existing topic is fine.
bool create_topic(rd_kafka_t* rk, const options& o) {
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, o.replication_factor, err, sizeof err);
  if (nt == nullptr) {
    std::fprintf(stderr, "NewTopic: %s\n", err);
    return false;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  bool ok = false;
  if (ev != nullptr && rd_kafka_event_type(ev) == RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    ok = n == 1 && (rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_NO_ERROR ||
                    rd_kafka_topic_result_error(res[0]) == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS);
    if (!ok && n == 1)
      std::fprintf(stderr, "CreateTopics: %s\n", rd_kafka_err2str(rd_kafka_topic_result_error(res[0])));
  } else {
    std::fprintf(stderr, "CreateTopics: no answer\n");
  }
  if (ev != nullptr) rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return ok;
}

uint32_t percentile(std::vector<uint32_t>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(k), v.end());
  return v[k];
}

int produce(const options& o) {
  produce_state st;
  st.enqueued_ns.resize(o.records);
  st.latency_us.reserve(o.records);
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  bool ok = set(c, "bootstrap.servers", o.bootstrap) && set(c, "acks", o.acks) &&
            set(c, "linger.ms", std::to_string(o.linger_ms)) &&
            set(c, "batch.size", std::to_string(o.batch_bytes)) && set(c, "batch.num.messages", "1000000") &&
            set(c, "queue.buffering.max.messages", std::to_string(o.window)) &&
            set(c, "queue.buffering.max.kbytes", "2097151") && set(c, "message.timeout.ms", "0") &&
            set(c, "enable.idempotence", "false") && set(c, "compression.codec", "none");
  if (!ok) return 2;
  rd_kafka_conf_set_opaque(c, &st);
  rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 2;
  }
  if (!create_topic(rk, o)) return 2;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, o.topic.c_str(), nullptr);
  std::vector<char> payload(o.size);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>('a' + i % 26);

  int64_t start = now_ns();
  int64_t deadline = start + int64_t{o.timeout_s} * 1000000000;
  uint64_t sent = 0;
  for (; sent < o.records && now_ns() < deadline; ++sent) {
    auto partition = static_cast<int32_t>(sent % static_cast<uint64_t>(o.partitions));
    // Flag 0: librdkafka neither copies nor frees the payload (one shared buffer for every record).
    // The enqueue time is that of the attempt that succeeds (a full queue is waited for first).
    for (;;) {
      st.enqueued_ns[sent] = now_ns();
      if (rd_kafka_produce(rkt, partition, 0, payload.data(), payload.size(), nullptr, 0,
                           reinterpret_cast<void*>(static_cast<uintptr_t>(sent))) == 0)
        break;
      if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(rd_kafka_last_error()));
        return 1;
      }
      rd_kafka_poll(rk, 1);
    }
    if ((sent & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  while (st.delivered + st.failed < sent && now_ns() < deadline) rd_kafka_poll(rk, 50);
  double seconds = static_cast<double>(now_ns() - start) / 1e9;
  bool complete = st.delivered == o.records;
  uint32_t p50 = percentile(st.latency_us, 0.50);
  uint32_t p99 = percentile(st.latency_us, 0.99);
  std::printf(
      "mode=produce topic=%s partitions=%d size=%zu acks=%s records=%llu failed=%llu seconds=%.3f "
      "records_per_s=%.0f mb_per_s=%.1f latency_ms_p50=%.2f latency_ms_p99=%.2f complete=%d%s%s\n",
      o.topic.c_str(), o.partitions, o.size, o.acks.c_str(), static_cast<unsigned long long>(st.delivered),
      static_cast<unsigned long long>(st.failed), seconds, static_cast<double>(st.delivered) / seconds,
      static_cast<double>(st.delivered * o.size) / seconds / 1e6, p50 / 1000.0, p99 / 1000.0,
      complete ? 1 : 0, st.first_error.empty() ? "" : " error=", st.first_error.c_str());
  rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(rk, 1000);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return complete ? 0 : 1;
}

int consume(const options& o) {
  rd_kafka_conf_t* c = rd_kafka_conf_new();
  // Fetch sizes: librdkafka 2.0.2 stops fetching a partition whose queue holds more than
  // queued.min.messages and looks again only about once a second, so one 16 MiB fetch (145,000
  // records of 100 B) made the tool wait ~1 s per fetch and measure 150,000 records/s whatever the
  // broker did. 1 MiB fetches below a 1,000,000-record threshold keep fetches pipelined.
  // group.id only because librdkafka's consumer API wants one: partitions are assigned, nothing committed.
  const bool member = !o.group.empty();
  bool ok = set(c, "bootstrap.servers", o.bootstrap) && set(c, "group.id", member ? o.group : "kafka_load") &&
            set(c, "enable.auto.commit", member ? "true" : "false") &&
            set(c, "enable.auto.offset.store", member ? "true" : "false") &&
            set(c, "auto.offset.reset", "earliest") && set(c, "fetch.wait.max.ms", "100") &&
            set(c, "max.partition.fetch.bytes", "1048576") && set(c, "queued.min.messages", "1000000") &&
            set(c, "fetch.max.bytes", "67108864") && set(c, "queued.max.messages.kbytes", "262144");
  if (!ok) return 2;
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  if (rk == nullptr) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 2;
  }
  if (member) {
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o.topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
  } else {
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
    for (int p = 0; p < o.partitions; ++p)
      rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
  }
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  int64_t start = 0;  // the first record's arrival: connecting and the first fetch are not counted
  int64_t first_ms = 0;
  int64_t last_ms = 0;
  int64_t deadline = now_ns() + int64_t{o.timeout_s} * 1000000000;
  uint64_t got = 0;
  uint64_t bytes = 0;
  std::vector<rd_kafka_message_t*> batch(10000);
  while (got < o.records && now_ns() < deadline) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, batch.data(), batch.size());
    for (ssize_t i = 0; i < n; ++i) {
      if (batch[static_cast<size_t>(i)]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (got++ == 0) {
          start = now_ns();
          first_ms = wall_ms();
        }
        last_ms = wall_ms();
        bytes += batch[static_cast<size_t>(i)]->len + batch[static_cast<size_t>(i)]->key_len;
      }
      rd_kafka_message_destroy(batch[static_cast<size_t>(i)]);
    }
  }
  double seconds = static_cast<double>(now_ns() - start) / 1e9;
  std::printf(
      "mode=consume topic=%s partitions=%d records=%llu seconds=%.3f records_per_s=%.0f mb_per_s=%.1f "
      "complete=%d first_ms=%lld last_ms=%lld\n",
      o.topic.c_str(), o.partitions, static_cast<unsigned long long>(got), seconds,
      static_cast<double>(got) / seconds, static_cast<double>(bytes) / seconds / 1e6,
      got >= o.records ? 1 : 0, static_cast<long long>(first_ms), static_cast<long long>(last_ms));
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return got >= o.records ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  CLI::App app{"librdkafka load for tributary-broker benchmarks"};
  app.add_option("mode", o.mode, "produce or consume")
      ->required()
      ->check(CLI::IsMember({"produce", "consume"}));
  app.add_option("--bootstrap", o.bootstrap, "host:port");
  app.add_option("--topic", o.topic, "topic");
  app.add_option("--records", o.records, "records to produce / to read")
      ->check(CLI::Range(1ull, 100000000ull));
  app.add_option("--size", o.size, "value bytes per record (produce)")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--acks", o.acks, "0, 1 or all (produce)")->check(CLI::IsMember({"0", "1", "all", "-1"}));
  app.add_option("--partitions", o.partitions, "partitions (created if missing; consume reads them all)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--replication-factor", o.replication_factor,
                 "of the topic when created (-1: broker default)")
      ->check(CLI::Range(-1, 5));
  app.add_option("--linger-ms", o.linger_ms, "linger.ms (produce)")->check(CLI::Range(0, 1000));
  app.add_option("--batch-bytes", o.batch_bytes, "batch.size (produce)")->check(CLI::Range(1024, 100000000));
  app.add_option("--timeout-s", o.timeout_s, "bound on the whole run")->check(CLI::Range(1, 3600));
  app.add_option("--window", o.window, "records queued in the client at most (queue.buffering.max.messages)")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--group", o.group, "consume as a member of this consumer group (subscribe)");
  CLI11_PARSE(app, argc, argv);
  return o.mode == "produce" ? produce(o) : consume(o);
}
