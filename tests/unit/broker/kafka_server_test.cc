// The Kafka server in-process: a broker node on a real loop (loopback, temp data dir) and a client
// that speaks through the codec (encode_request / decode_response). Covers every advertised version of
// every API (the flexible ones only the Java client uses included), the size rules of Fetch, long polls,
// acks=-1 after fsync, idempotence, the in-flight limit and the answers to unsupported requests.
// Assertions run after the loop stops, never inside callbacks; every run is bounded by a watchdog.
#include <doctest/doctest.h>
#include <unistd.h>

#include <map>
#include <string>

#include "cluster/broker/broker_service.h"
#include "cluster/kafka/error_response.h"
#include "cluster/kafka/handlers/handlers.h"
#include "cluster/kafka/server.h"
#include "common/kafka/protocol/protocol.h"
#include "common/kafka/record_batch.h"
#include "common/uv/tcp.h"
#include "common/uv/timer.h"
#include "tests/unit/temp_dir.h"

using namespace tributary;
using namespace tributary::cluster;
namespace p = tributary::kafka::protocol;
namespace fs = std::filesystem;
using p::error_code;

namespace {

constexpr uint64_t watchdog_ms = 20000;

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("trib-kserver-test") {}
};

// Runs the loop until done() holds (checked every millisecond); false if the watchdog fired.
bool run_until(uv::loop& l, const std::function<bool()>& done, uint64_t limit_ms = watchdog_ms) {
  if (done()) return true;
  bool fired = false;
  uv::timer probe(l);
  probe.start_repeating(1, [&] {
    if (done()) l.stop();
  });
  uv::timer watchdog(l);
  watchdog.start(limit_ms, [&] {
    fired = true;
    l.stop();
  });
  l.run();
  return !fired;
}

// Runs the loop for about `ms` milliseconds.
void run_for(uv::loop& l, uint64_t ms) {
  uv::timer t(l);
  t.start(ms, [&] { l.stop(); });
  l.run();
}

struct harness {
  temp_dir dir;
  std::unique_ptr<uv::loop> loop;
  metrics::registry registry;
  broker::broker_config cfg;
  std::unique_ptr<broker::partition_manager> pm;
  std::unique_ptr<broker::flusher> fl;
  std::unique_ptr<broker::broker_service> svc;
  std::unique_ptr<cluster::kafka::server> srv;

  explicit harness(const std::function<void(broker::broker_config&)>& tweak = {}) {
    cfg.data_dir = dir.path.string();
    cfg.listen = "127.0.0.1:0";
    if (tweak) tweak(cfg);
    loop = std::move(*uv::loop::create());
    auto m = broker::partition_manager::open(dir.path, broker::to_log_defaults(cfg),
                                             broker::broker_service::wall_now_ms());
    REQUIRE(m);
    pm = std::move(*m);
    auto f = broker::flusher::start(
        *loop, {cfg.flush.mode, cfg.flush.interval_ms}, &registry,
        [this](broker::partition& part) { svc->durable_advanced(part); },
        [this](broker::partition& part, std::error_code) { svc->storage_failure(part); });
    REQUIRE(f);
    fl = std::move(*f);
    svc = std::make_unique<broker::broker_service>(*loop, cfg, *pm, *fl, registry, "test-cluster",
                                                   broker::advertised_address{"127.0.0.1", 0});
    srv = std::make_unique<cluster::kafka::server>(*loop, *svc, registry);
    REQUIRE(srv->listen("127.0.0.1:0"));
    svc->set_advertised({"127.0.0.1", srv->port()});
  }
  ~harness() {
    srv.reset();
    svc.reset();
    fl.reset();
    pm.reset();
    (void)loop->close();
  }
  uint64_t requests(std::string_view api) {
    return registry
        .add_counter("tributary_kafka_requests_total", "Kafka requests received, by API.",
                     {{"api", std::string(api)}})
        .value();
  }
};

template <class Req>
using response_of = std::variant_alternative_t<*p::api_index(Req::api.key), p::response_body>;

struct client {
  harness& h;
  std::shared_ptr<uv::tcp_connection> conn;
  std::map<int32_t, std::vector<uint8_t>> frames;  // by correlation id: the frame after its size prefix
  std::vector<int32_t> order;
  bool closed = false;
  int32_t next_corr = 1;

  explicit client(harness& hh) : h(hh) {
    bool done = false;
    REQUIRE(uv::tcp_connection::connect(*h.loop, h.srv->address(), {}, [&](auto r) {
      done = true;
      if (!r) return;
      conn = *r;
      uv::tcp_connection::callbacks cbs;
      cbs.on_frame = [this](uv::tcp_connection&, byte_span f) {
        auto payload = f.subspan(4);
        const auto corr = static_cast<int32_t>(load_be32(payload.data()));
        frames[corr].assign(payload.begin(), payload.end());
        order.push_back(corr);
      };
      cbs.on_close = [this](uv::tcp_connection&, std::error_code) { closed = true; };
      conn->start(uv::frame_i32_length_prefix, std::move(cbs));
    }));
    REQUIRE(run_until(*h.loop, [&] { return done; }));
    REQUIRE(conn);
  }
  ~client() {
    if (conn && !conn->is_closed()) conn->abort();
    run_until(*h.loop, [&] { return closed; });
  }

  template <class Req>
  int32_t send(const Req& body, int16_t version) {
    const int32_t corr = next_corr++;
    p::request req{{Req::api.key, version, corr, std::string("unit-test")}, p::request_body(body)};
    CHECK(conn->write(p::encode_request(req)));
    return corr;
  }
  void send_raw(std::vector<uint8_t> bytes) { CHECK(conn->write(std::move(bytes))); }

  bool has(int32_t corr) const { return frames.contains(corr); }

  template <class Req>
  response_of<Req> wait(int32_t corr, int16_t version) {
    REQUIRE(run_until(*h.loop, [&] { return has(corr) || closed; }));
    REQUIRE_MESSAGE(has(corr), "no answer to correlation id " << corr);
    auto r = p::decode_response(Req::api.key, version, frames[corr]);
    REQUIRE(r);
    return std::get<response_of<Req>>(r->body);
  }

  template <class Req>
  response_of<Req> call(const Req& body, int16_t version) {
    return wait<Req>(send(body, version), version);
  }
};

std::vector<uint8_t> make_batch(int n, size_t value_bytes = 10, int64_t ts = 1000, int64_t pid = -1,
                                int16_t epoch = -1, int32_t seq = -1) {
  tributary::kafka::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  tributary::kafka::record_batch_builder b(o);
  std::string value(value_bytes, 'v');
  for (int i = 0; i < n; ++i)
    b.add({.timestamp_ms = ts + i * 1000, .key = std::nullopt, .value = as_bytes(value)});
  return *b.build();
}

p::produce_request produce_req(const std::string& topic, int32_t partition, const std::vector<uint8_t>& batch,
                               int16_t acks = -1) {
  p::produce_request r;
  r.acks = acks;
  r.timeout_ms = 5000;
  r.topic_data.push_back({topic, {{partition, p::records_view{batch}}}});
  return r;
}

p::fetch_request fetch_req(const std::string& topic, std::vector<std::pair<int32_t, int64_t>> parts,
                           int32_t max_wait_ms = 0, int32_t min_bytes = 1, int32_t max_bytes = 1 << 20,
                           int32_t partition_max_bytes = 1 << 20) {
  p::fetch_request r;
  r.max_wait_ms = max_wait_ms;
  r.min_bytes = min_bytes;
  r.max_bytes = max_bytes;
  r.session_epoch = -1;
  p::fetch_request::fetch_topic t;
  t.topic = topic;
  for (auto [part, offset] : parts) {
    p::fetch_request::fetch_partition fp;
    fp.partition = part;
    fp.fetch_offset = offset;
    fp.partition_max_bytes = partition_max_bytes;
    t.partitions.push_back(fp);
  }
  r.topics.push_back(std::move(t));
  return r;
}

// Batches in a fetched partition: (base offset, record count).
std::vector<std::pair<int64_t, int32_t>> batches_of(const p::fetch_response::partition_data& pd) {
  std::vector<std::pair<int64_t, int32_t>> out;
  if (!pd.records) return out;
  tributary::kafka::batch_splitter split(pd.records->data, pd.records->data.size());
  while (true) {
    auto b = split.next();
    if (!b || !*b) break;
    out.push_back({(*b)->base_offset(), (*b)->record_count()});
  }
  return out;
}

p::create_topics_request create_req(const std::string& name, int32_t partitions, int16_t rf = 1) {
  p::create_topics_request r;
  p::create_topics_request::topic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = rf;
  r.topics.push_back(t);
  return r;
}

}  // namespace

TEST_CASE("ApiVersions advertises the handler list at every version") {
  harness h;
  client c(h);
  for (int16_t v = 0; v <= 3; ++v) {
    auto r = c.call(p::api_versions_request{"trib-test", "1.0.0"}, v);
    CHECK(r.error_code == error_code::none);
    REQUIRE(r.api_keys.size() == cluster::kafka::handler_list().size());
    for (size_t i = 0; i < r.api_keys.size(); ++i) {
      const auto& h0 = cluster::kafka::handler_list()[i];
      CHECK(r.api_keys[i].api_key == static_cast<int16_t>(h0.key));
      CHECK(r.api_keys[i].min_version == h0.min_version);
      CHECK(r.api_keys[i].max_version == h0.max_version);
    }
  }
  auto bad = c.call(p::api_versions_request{"bad name!", "1.0"}, 3);
  CHECK(bad.error_code == error_code::invalid_request);
}

TEST_CASE("every advertised version of every API answers") {
  harness h;
  client c(h);
  int64_t next_offset = 0;
  for (int16_t v = 3; v <= 9; ++v) {
    auto b = make_batch(2);
    auto r = c.call(produce_req("all", 0, b), v);
    REQUIRE(r.responses.size() == 1);
    const auto& pr = r.responses[0].partition_responses.at(0);
    CHECK(pr.error_code == error_code::none);
    CHECK(pr.base_offset == next_offset);
    next_offset += 2;
  }
  for (int16_t v = 4; v <= 12; ++v) {
    auto r = c.call(fetch_req("all", {{0, 4}}), v);
    REQUIRE(r.responses.size() == 1);
    const auto& pd = r.responses[0].partitions.at(0);
    CHECK(pd.error_code == error_code::none);
    CHECK(pd.high_watermark == next_offset);
    CHECK(pd.last_stable_offset == next_offset);
    if (v >= 5) CHECK(pd.log_start_offset == 0);
    auto batches = batches_of(pd);
    REQUIRE_FALSE(batches.empty());
    CHECK(batches.front().first == 4);
  }
  for (int16_t v = 0; v <= 12; ++v) {
    p::metadata_request req;
    if (v == 0)
      req.topics = std::vector<p::metadata_request::topic>{};  // v0: empty = all
    else
      req.topics = std::nullopt;
    auto r = c.call(req, v);
    REQUIRE(r.brokers.size() == 1);
    CHECK(r.brokers[0].port == h.srv->port());
    REQUIRE(r.topics.size() == 1);
    CHECK(r.topics[0].name == "all");
    CHECK(r.topics[0].partitions.size() == 1);
    CHECK(r.topics[0].partitions[0].leader_id == 0);
    if (v >= 1) CHECK(r.controller_id == 0);
    if (v >= 2) CHECK(r.cluster_id == "test-cluster");
    if (v >= 10) CHECK(r.topics[0].topic_id != p::uuid{});
  }
  for (int16_t v = 0; v <= 6; ++v) {
    p::list_offsets_request req;
    req.topics.push_back({"all", {{0, -1, -1, 1}}});
    auto r = c.call(req, v);
    const auto& pr = r.topics.at(0).partitions.at(0);
    CHECK(pr.error_code == error_code::none);
    if (v == 0) {
      CHECK(pr.old_style_offsets == std::vector<int64_t>{next_offset});
    } else {
      CHECK(pr.offset == next_offset);
    }
  }
  for (int16_t v = 0; v <= 5; ++v) {
    auto name = "created-v" + std::to_string(v);
    auto r = c.call(create_req(name, 2), v);
    CHECK(r.topics.at(0).error_code == error_code::none);
    if (v >= 5) {
      CHECK(r.topics[0].num_partitions == 2);
      CHECK(r.topics[0].replication_factor == 1);
      CHECK(r.topics[0].configs.has_value());
    }
    p::describe_configs_request dreq;
    dreq.resources.push_back({2, name, std::nullopt});
    dreq.include_synonyms = true;
    for (int16_t dv = 0; dv <= 4; ++dv) {
      auto d = c.call(dreq, dv);
      CHECK(d.results.at(0).error_code == error_code::none);
      CHECK(d.results[0].configs.size() >= 5);
    }
  }
  for (int16_t v = 0; v <= 4; ++v) {
    auto r = c.call(p::delete_topics_request{{"created-v" + std::to_string(v)}, 1000}, v);
    CHECK(r.responses.at(0).error_code == error_code::none);
  }
  auto last = c.call(p::delete_topics_request{{"created-v5", "no-such-topic"}, 1000}, 1);
  CHECK(last.responses.at(0).error_code == error_code::none);
  CHECK(last.responses.at(1).error_code == error_code::unknown_topic_or_partition);
  int64_t last_pid = -1;
  for (int16_t v = 0; v <= 4; ++v) {
    auto r = c.call(p::init_producer_id_request{std::nullopt, 60000, -1, -1}, v);
    CHECK(r.error_code == error_code::none);
    CHECK(r.producer_id > last_pid);
    CHECK(r.producer_epoch == 0);
    last_pid = r.producer_id;
  }
  CHECK(h.pm->topics().all().size() == 1);
}

TEST_CASE("Fetch: the first batch goes out whole, then partition and response limits hold") {
  harness h;
  client c(h);
  REQUIRE(c.call(create_req("sz", 2), 3).topics.at(0).error_code == error_code::none);
  for (int i = 0; i < 3; ++i) {
    auto b = make_batch(2, 500);  // ~1100 bytes
    REQUIRE(c.call(produce_req("sz", 0, b), 7).responses[0].partition_responses[0].error_code ==
            error_code::none);
  }
  auto b1 = make_batch(1, 500);
  REQUIRE(c.call(produce_req("sz", 1, b1), 7).responses[0].partition_responses[0].error_code ==
          error_code::none);
  const size_t batch_bytes = make_batch(2, 500).size();

  // A response limit of 10 bytes: still the whole first batch; nothing more.
  auto r = c.call(fetch_req("sz", {{0, 0}, {1, 0}}, 0, 1, 10, 10), 11);
  CHECK(batches_of(r.responses[0].partitions[0]) == std::vector<std::pair<int64_t, int32_t>>{{0, 2}});
  CHECK(batches_of(r.responses[0].partitions[1]).empty());
  CHECK(r.responses[0].partitions[1].high_watermark == 1);

  // Partition limit: as many whole batches as fit after the first.
  r = c.call(fetch_req("sz", {{0, 0}}, 0, 1, 1 << 20, static_cast<int32_t>(batch_bytes * 2 + 10)), 11);
  CHECK(batches_of(r.responses[0].partitions[0]).size() == 2);
  // Response limit across partitions: partition 1's batch no longer fits.
  r = c.call(fetch_req("sz", {{0, 0}, {1, 0}}, 0, 1, static_cast<int32_t>(batch_bytes * 2 + 100)), 4);
  CHECK(batches_of(r.responses[0].partitions[0]).size() == 2);
  CHECK(batches_of(r.responses[0].partitions[1]).empty());

  // From inside a batch: the batch holding the offset (clients skip what lies below).
  r = c.call(fetch_req("sz", {{0, 3}}), 11);
  CHECK(batches_of(r.responses[0].partitions[0]).front() == std::pair<int64_t, int32_t>{2, 2});
  // At the high watermark: nothing, no error. Past the log end or below its start: OFFSET_OUT_OF_RANGE.
  r = c.call(fetch_req("sz", {{0, 6}}), 11);
  CHECK(r.responses[0].partitions[0].error_code == error_code::none);
  CHECK(batches_of(r.responses[0].partitions[0]).empty());
  r = c.call(fetch_req("sz", {{0, 7}, {1, -1}}), 11);
  CHECK(r.responses[0].partitions[0].error_code == error_code::offset_out_of_range);
  CHECK(r.responses[0].partitions[1].error_code == error_code::offset_out_of_range);
  // Unknown partition; fenced and unknown leader epochs (v9+); sessions (v7+).
  auto unknown = fetch_req("sz", {{5, 0}});
  CHECK(c.call(unknown, 11).responses[0].partitions[0].error_code == error_code::unknown_topic_or_partition);
  auto epoch = fetch_req("sz", {{0, 0}});
  epoch.topics[0].partitions[0].current_leader_epoch = 3;
  CHECK(c.call(epoch, 9).responses[0].partitions[0].error_code == error_code::unknown_leader_epoch);
  auto session = fetch_req("sz", {{0, 0}});
  session.session_id = 42;
  CHECK(c.call(session, 7).error_code == error_code::fetch_session_id_not_found);
  session.session_id = 0;
  session.session_epoch = 3;
  CHECK(c.call(session, 7).error_code == error_code::invalid_fetch_session_epoch);
}

TEST_CASE("acks=-1 is answered once the batch is durable; long polls wait for data or max_wait") {
  harness h;
  client c(h);
  auto b = make_batch(3);
  auto r = c.call(produce_req("lp", 0, b, -1), 7);
  CHECK(r.responses[0].partition_responses[0].base_offset == 0);
  CHECK(h.pm->find("lp", 0)->high_watermark().value >= 3);  // the answer implies the fsync

  // A long poll at the end: parked until the next produce is durable, then answered with it; the
  // produce behind it on the same connection is answered after it (request order).
  const int32_t fetch_corr = c.send(fetch_req("lp", {{0, 3}}, 10000, 1), 11);
  run_for(*h.loop, 50);
  CHECK_FALSE(c.has(fetch_corr));
  CHECK(h.svc->waiting() == 1);
  auto b2 = make_batch(2);
  const int32_t produce_corr = c.send(produce_req("lp", 0, b2, 1), 7);
  auto f = c.wait<p::fetch_request>(fetch_corr, 11);
  CHECK(batches_of(f.responses[0].partitions[0]) == std::vector<std::pair<int64_t, int32_t>>{{3, 2}});
  c.wait<p::produce_request>(produce_corr, 7);
  CHECK(c.order == std::vector<int32_t>{1, fetch_corr, produce_corr});

  // min_bytes beyond what arrives: answered at max_wait with what there is.
  const int32_t slow = c.send(fetch_req("lp", {{0, 0}}, 200, 1 << 20), 11);
  auto s = c.wait<p::fetch_request>(slow, 11);
  CHECK(batches_of(s.responses[0].partitions[0]).size() == 2);
  CHECK(h.svc->waiting() == 0);
}

TEST_CASE("idempotent producer: duplicates get their offsets, gaps OUT_OF_ORDER_SEQUENCE_NUMBER") {
  harness h;
  client c(h);
  auto id = c.call(p::init_producer_id_request{std::nullopt, 60000, -1, -1}, 4);
  REQUIRE(id.error_code == error_code::none);
  const int64_t pid = id.producer_id;
  auto first = make_batch(3, 10, 1000, pid, 0, 0);
  CHECK(c.call(produce_req("idem", 0, first), 7).responses[0].partition_responses[0].base_offset == 0);
  auto again = make_batch(3, 10, 1000, pid, 0, 0);
  auto dup = c.call(produce_req("idem", 0, again), 7).responses[0].partition_responses[0];
  CHECK(dup.error_code == error_code::none);
  CHECK(dup.base_offset == 0);
  auto next = make_batch(2, 10, 1000, pid, 0, 3);
  CHECK(c.call(produce_req("idem", 0, next), 7).responses[0].partition_responses[0].base_offset == 3);
  auto gap = make_batch(1, 10, 1000, pid, 0, 9);
  CHECK(c.call(produce_req("idem", 0, gap), 7).responses[0].partition_responses[0].error_code ==
        error_code::out_of_order_sequence_number);
  CHECK(h.pm->find("idem", 0)->log().end_offset().value == 5);
  // KIP-360: the same id with the epoch bumped.
  auto bumped = c.call(p::init_producer_id_request{std::nullopt, 60000, pid, 0}, 3);
  CHECK(bumped.producer_id == pid);
  CHECK(bumped.producer_epoch == 1);
  auto txn = c.call(p::init_producer_id_request{std::string("txn"), 60000, -1, -1}, 1);
  CHECK(txn.error_code == error_code::transactional_id_authorization_failed);
}

TEST_CASE("Metadata: auto-creation rules and topic ids") {
  harness h;
  client c(h);
  p::metadata_request req;
  req.topics = std::vector<p::metadata_request::topic>{{p::uuid{}, std::string("made-by-metadata")}};
  req.allow_auto_topic_creation = false;
  auto r = c.call(req, 4);
  CHECK(r.topics.at(0).error_code == error_code::unknown_topic_or_partition);
  req.allow_auto_topic_creation = true;
  r = c.call(req, 4);
  CHECK(r.topics.at(0).error_code == error_code::none);
  CHECK(r.topics[0].partitions.size() == 1);
  req.topics = std::vector<p::metadata_request::topic>{{p::uuid{}, std::string("bad/name")}};
  CHECK(c.call(req, 4).topics.at(0).error_code == error_code::invalid_topic_exception);

  req.topics = std::nullopt;
  auto all = c.call(req, 10);
  REQUIRE(all.topics.size() == 1);
  const p::uuid id = all.topics[0].topic_id;
  CHECK(id != p::uuid{});
  p::metadata_request by_id;
  by_id.topics =
      std::vector<p::metadata_request::topic>{{id, std::nullopt}, {p::uuid{{1, 2, 3}}, std::nullopt}};
  auto found = c.call(by_id, 12);
  REQUIRE(found.topics.size() == 2);
  CHECK(found.topics[0].name == "made-by-metadata");
  CHECK(found.topics[1].error_code == static_cast<error_code>(100));  // UNKNOWN_TOPIC_ID
  CHECK_FALSE(found.topics[1].name.has_value());
}

TEST_CASE("auto_create_topics off: unknown topics stay unknown") {
  harness h([](broker::broker_config& cfg) { cfg.auto_create_topics = false; });
  client c(h);
  auto b = make_batch(1);
  auto r = c.call(produce_req("nope", 0, b, 1), 7);
  CHECK(r.responses[0].partition_responses[0].error_code == error_code::unknown_topic_or_partition);
  p::metadata_request req;
  req.topics = std::vector<p::metadata_request::topic>{{p::uuid{}, std::string("nope")}};
  CHECK(c.call(req, 1).topics.at(0).error_code == error_code::unknown_topic_or_partition);
  CHECK(h.pm->topics().all().empty());
}

TEST_CASE("ListOffsets by timestamp finds the record inside a batch; v0 answers the old style") {
  harness h;
  client c(h);
  auto b = make_batch(3, 10, 10000);  // timestamps 10000, 11000, 12000 in one batch
  REQUIRE(c.call(produce_req("ts", 0, b), 7).responses[0].partition_responses[0].error_code ==
          error_code::none);
  auto ask = [&](int64_t ts, int16_t v, int32_t epoch = -1) {
    p::list_offsets_request req;
    req.topics.push_back({"ts", {{0, epoch, ts, 5}}});
    return c.call(req, v).topics.at(0).partitions.at(0);
  };
  auto r = ask(10500, 1);
  CHECK(r.offset == 1);
  CHECK(r.timestamp == 11000);
  CHECK(ask(9000, 2).offset == 0);
  CHECK(ask(12000, 4).offset == 2);
  CHECK(ask(99999, 1).offset == -1);
  CHECK(ask(-2, 1).offset == 0);
  CHECK(ask(-1, 6).offset == 3);
  CHECK(ask(-1, 0).old_style_offsets == std::vector<int64_t>{3});
  CHECK(ask(-2, 0).old_style_offsets == std::vector<int64_t>{0});
  CHECK(ask(99999, 0).old_style_offsets.empty());
  CHECK(ask(-1, 4, 7).error_code == error_code::unknown_leader_epoch);
  p::list_offsets_request unknown;
  unknown.topics.push_back({"ts", {{3, -1, -1, 1}}});
  CHECK(c.call(unknown, 1).topics[0].partitions[0].error_code == error_code::unknown_topic_or_partition);
}

TEST_CASE("CreateTopics validation") {
  harness h;
  client c(h);
  CHECK(c.call(create_req("rf", 1, 3), 4).topics[0].error_code == error_code::invalid_replication_factor);
  CHECK(c.call(create_req("zero", 0), 4).topics[0].error_code == error_code::invalid_partitions);
  auto def = create_req("default-parts", -1, -1);
  CHECK(c.call(def, 4).topics[0].error_code == error_code::none);
  CHECK(h.pm->topics().find("default-parts")->partitions == 1);
  auto assigned = create_req("assigned", -1, -1);
  assigned.topics[0].assignments = {{0, {0}}, {1, {0}}};
  CHECK(c.call(assigned, 3).topics[0].error_code == error_code::none);
  CHECK(h.pm->topics().find("assigned")->partitions == 2);
  auto elsewhere = create_req("elsewhere", -1, -1);
  elsewhere.topics[0].assignments = {{0, {1}}};
  CHECK(c.call(elsewhere, 3).topics[0].error_code == error_code::invalid_replica_assignment);
  auto cfg = create_req("cfg", 1);
  cfg.topics[0].configs = {{"retention.ms", std::string("nope")}};
  auto bad = c.call(cfg, 1).topics[0];
  CHECK(bad.error_code == error_code::invalid_config);
  CHECK(bad.error_message.has_value());
  auto twice = create_req("twice", 1);
  twice.topics.push_back(twice.topics[0]);
  auto t = c.call(twice, 2);
  CHECK(t.topics[0].error_code == error_code::invalid_request);
  CHECK(t.topics[1].error_code == error_code::invalid_request);
  auto dry = create_req("dry", 3);
  dry.validate_only = true;
  dry.topics[0].configs = {{"retention.ms", std::string("1000")}};
  auto d = c.call(dry, 5).topics[0];
  CHECK(d.error_code == error_code::none);
  CHECK(d.num_partitions == 3);
  CHECK(h.pm->topics().find("dry") == nullptr);
  CHECK(c.call(create_req("assigned", 1), 4).topics[0].error_code == error_code::topic_already_exists);
}

TEST_CASE("the in-flight limit stops reading a connection until its answers drain") {
  harness h([](broker::broker_config& cfg) { cfg.kafka.max_in_flight_requests = 2; });
  client c(h);
  auto b = make_batch(1);
  REQUIRE(c.call(produce_req("limit", 0, b), 7).responses[0].partition_responses[0].error_code ==
          error_code::none);
  // Long polls (max_wait 1.5 s) hold both slots; the Metadata behind them is not even read.
  const auto f1 = c.send(fetch_req("limit", {{0, 1}}, 1500), 11);
  const auto f2 = c.send(fetch_req("limit", {{0, 1}}, 1500), 11);
  p::metadata_request md;
  md.topics = std::nullopt;
  const auto m = c.send(md, 1);
  run_for(*h.loop, 100);
  CHECK(h.requests("Fetch") == 2);
  CHECK(h.requests("Metadata") == 0);  // not read: two requests are open
  c.wait<p::metadata_request>(m, 1);
  CHECK(h.requests("Metadata") == 1);
  CHECK(c.order == std::vector<int32_t>{1, f1, f2, m});
}

TEST_CASE(
    "unsupported requests: UNSUPPORTED_VERSION where the answer can carry it, else the connection closes") {
  harness h;
  {
    client c(h);
    auto sh = c.call(p::sasl_handshake_request{"PLAIN"}, 1);  // described by the codec, not handled
    CHECK(sh.error_code == error_code::unsupported_version);
    auto b = make_batch(1);
    auto old = c.call(produce_req("u", 0, b), 2);  // Produce v2: not advertised (magic 2 needs v3+)
    CHECK(old.responses[0].partition_responses[0].error_code == error_code::unsupported_version);
    auto old_fetch = c.call(fetch_req("u", {{0, 0}}), 3);
    CHECK(old_fetch.responses[0].partitions[0].error_code == error_code::unsupported_version);
    CHECK(h.pm->topics().all().empty());
    CHECK_FALSE(c.closed);
  }
  {
    // An answer without a top-level error code (per-partition errors only) cannot carry the error:
    // the server closes the connection then. Every such API is handled now, so the generic answer is
    // checked directly.
    p::request req;
    req.header.key = p::api_key::offset_commit;
    req.header.version = 2;
    req.body = p::offset_commit_request{};
    CHECK_FALSE(cluster::kafka::top_level_error_response(req, error_code::unsupported_version));
    req.header.key = p::api_key::heartbeat;
    req.header.version = 0;
    req.body = p::heartbeat_request{};
    CHECK(cluster::kafka::top_level_error_response(req, error_code::unsupported_version));
  }
  {
    client c(h);
    // An ApiVersions version beyond the codec: the v0 fallback with our range.
    std::vector<uint8_t> frame = {0, 0, 0, 10, 0, 18, 0, 9, 0, 0, 0, 77, 0xff, 0xff};
    c.send_raw(frame);
    REQUIRE(run_until(*h.loop, [&] { return c.has(77) || c.closed; }));
    auto r = p::decode_response(p::api_key::api_versions, 0, c.frames[77]);
    REQUIRE(r);
    auto& av = std::get<p::api_versions_response>(r->body);
    CHECK(av.error_code == error_code::unsupported_version);
    REQUIRE(av.api_keys.size() == 1);
    CHECK(av.api_keys[0].max_version == 3);
    CHECK_FALSE(c.closed);
    // An unknown api key closes only this connection.
    c.send_raw({0, 0, 0, 10, 0x03, 0xe7, 0, 0, 0, 0, 0, 78, 0xff, 0xff});
    REQUIRE(run_until(*h.loop, [&] { return c.closed; }));
  }
  client other(h);
  CHECK(other.call(p::api_versions_request{}, 0).error_code == error_code::none);
}

TEST_CASE("deleting a topic answers the requests parked on it") {
  harness h;
  client a(h);
  client b(h);
  auto batch = make_batch(1);
  REQUIRE(a.call(produce_req("gone", 0, batch), 7).responses[0].partition_responses[0].error_code ==
          error_code::none);
  const auto f = a.send(fetch_req("gone", {{0, 1}}, 10000), 11);
  run_for(*h.loop, 50);
  CHECK(h.svc->waiting() == 1);
  CHECK(b.call(p::delete_topics_request{{"gone"}, 1000}, 1).responses[0].error_code == error_code::none);
  auto r = a.wait<p::fetch_request>(f, 11);
  CHECK(r.responses[0].partitions[0].error_code == error_code::unknown_topic_or_partition);
  CHECK(h.svc->waiting() == 0);
}

TEST_CASE("kafka.max_connections: a connection beyond the limit is closed at once, the others go on") {
  harness h([](broker::broker_config& cfg) { cfg.kafka.max_connections = 1; });
  client first(h);
  client second(h);
  REQUIRE(run_until(*h.loop, [&] { return second.closed; }));
  CHECK_FALSE(first.closed);
  CHECK(first.call(p::api_versions_request{}, 0).error_code == error_code::none);
}
