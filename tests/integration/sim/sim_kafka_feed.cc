// sim_kafka_feed: a test helper that produces recorded readings straight into a Kafka topic, the way
// tributary-gateway will forward them (key = device, header mqtt.topic = the MQTT topic), so the verify
// tests can delete or duplicate a reading on purpose.
//
//   sim_kafka_feed --records FILE --topic T --bootstrap HOST:PORT     produce into a running broker, exit
//   sim_kafka_feed --records FILE --topic T --mock                    start librdkafka's in-process mock
//       cluster, print "BOOTSTRAP <servers>", produce, print "READY <n>", then serve until stdin closes
//       (or --hold-s passes)
//
// FILE has one record per line: <key> TAB <payload as hex> TAB <mqtt topic>.
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace {

struct record {
  std::string key;
  std::string payload;
  std::string topic_header;
};

int g_delivery_failures = 0;

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) noexcept {
  if (m->err) {
    ++g_delivery_failures;
    std::fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
  }
}

bool parse_hex(const std::string& hex, std::string& out) {
  if (hex.size() % 2) return false;
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    if (std::sscanf(hex.c_str() + i, "%2x", &v) != 1) return false;
    out.push_back(static_cast<char>(v));
  }
  return true;
}

bool load(const std::string& path, std::vector<record>& out) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const size_t a = line.find('\t');
    const size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    if (b == std::string::npos) return false;
    record r;
    r.key = line.substr(0, a);
    if (!parse_hex(line.substr(a + 1, b - a - 1), r.payload)) return false;
    r.topic_header = line.substr(b + 1);
    out.push_back(std::move(r));
  }
  return true;
}

bool set(rd_kafka_conf_t* conf, const char* k, const std::string& v) {
  char err[256];
  if (rd_kafka_conf_set(conf, k, v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s=%s: %s\n", k, v.c_str(), err);
    return false;
  }
  return true;
}

bool create_topic(rd_kafka_t* rk, const std::string& topic, int partitions) {
  char err[256];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), partitions, 1, err, sizeof err);
  if (!nt) {
    std::fprintf(stderr, "NewTopic: %s\n", err);
    return false;
  }
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30'000);
  bool ok = false;
  if (ev) {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    if (rd_kafka_event_error(ev)) {
      std::fprintf(stderr, "CreateTopics: %s\n", rd_kafka_event_error_string(ev));
    } else if (res) {
      size_t n = 0;
      const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(res, &n);
      ok = true;
      for (size_t i = 0; i < n; ++i) {
        const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(topics[i]);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
          std::fprintf(stderr, "CreateTopics %s: %s\n", topic.c_str(), rd_kafka_err2str(e));
          ok = false;
        }
      }
    }
    rd_kafka_event_destroy(ev);
  } else {
    std::fprintf(stderr, "CreateTopics: no answer in 30 s\n");
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_NewTopic_destroy(nt);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  std::string records_file, topic = "telemetry", bootstrap;
  bool mock = false;
  int partitions = 3;
  int hold_s = 300;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--records") {
      records_file = next();
    } else if (a == "--topic") {
      topic = next();
    } else if (a == "--bootstrap") {
      bootstrap = next();
    } else if (a == "--mock") {
      mock = true;
    } else if (a == "--partitions") {
      partitions = std::stoi(next());
    } else if (a == "--hold-s") {
      hold_s = std::stoi(next());
    } else {
      std::fprintf(stderr,
                   "usage: sim_kafka_feed --records FILE --topic T (--bootstrap B | --mock) "
                   "[--partitions N] [--hold-s S]\n");
      return 2;
    }
  }
  std::vector<record> records;
  if (records_file.empty() || !load(records_file, records) || (mock == !bootstrap.empty())) {
    std::fprintf(stderr,
                 "sim_kafka_feed: need --records (readable, key TAB hex TAB topic) and one of "
                 "--bootstrap / --mock\n");
    return 2;
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (mock) {
    if (!set(conf, "test.mock.num.brokers", "1")) return 2;
  } else if (!set(conf, "bootstrap.servers", bootstrap)) {
    return 2;
  }
  if (!set(conf, "linger.ms", "5") || !set(conf, "message.timeout.ms", "30000") ||
      !set(conf, "enable.idempotence", "true") || !set(conf, "acks", "all")) {
    return 2;
  }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::fprintf(stderr, "rd_kafka_new: %s\n", err);
    return 2;
  }
  if (mock) {
    rd_kafka_mock_cluster_t* mc = rd_kafka_handle_mock_cluster(rk);
    if (!mc || rd_kafka_mock_topic_create(mc, topic.c_str(), partitions, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "mock cluster: cannot create topic\n");
      return 2;
    }
    std::printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    std::fflush(stdout);
  } else if (!create_topic(rk, topic, partitions)) {
    // A broker without CreateTopics may still create the topic on first use: go on, and let delivery
    // (bounded by message.timeout.ms) say whether it worked.
    std::fprintf(stderr, "sim_kafka_feed: topic creation failed; producing anyway\n");
  }
  for (const record& r : records) {
    rd_kafka_resp_err_t e;
    while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()),
                                  RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(r.payload.data()), r.payload.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_HEADER("mqtt.topic", r.topic_header.data(),
                                                    static_cast<ssize_t>(r.topic_header.size())),
                                  RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk, 10);
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
      return 2;
    }
  }
  if (rd_kafka_flush(rk, 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR || g_delivery_failures > 0) {
    std::fprintf(stderr, "flush failed (%d delivery failures)\n", g_delivery_failures);
    return 2;
  }
  std::printf("READY %zu\n", records.size());
  std::fflush(stdout);
  if (mock) {  // keep the cluster up for the consumer until the test closes our stdin
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(hold_s);
    while (std::chrono::steady_clock::now() < until) {
      pollfd p{0, POLLIN, 0};
      if (::poll(&p, 1, 200) > 0) {
        char c;
        if (::read(0, &c, 1) <= 0) break;
      }
      rd_kafka_poll(rk, 0);
    }
  }
  rd_kafka_destroy(rk);
  return 0;
}
