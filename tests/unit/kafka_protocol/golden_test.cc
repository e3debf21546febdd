// Request frames captured from real clients (fixtures/, written by capture_requests.py): librdkafka
// 2.0.2 (through kcat and confluent-kafka) and kafka-python 2.0.2. Each decodes, re-encodes byte for
// byte, fails on every truncation, and carries the fields its client is known to send.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <regex>

#include "tests/unit/kafka_protocol/test_support.h"

namespace tributary::kafka::protocol {
namespace {

struct fixture {
  std::string name;
  std::string client;
  std::string api;
  int16_t version = 0;
  std::vector<uint8_t> frame;
};

std::vector<fixture> all_fixtures() {
  std::vector<fixture> out;
  const std::regex pattern("(librdkafka|confluent_kafka|kafka_python)_([a-z_]+)_v([0-9]+)(_rejoin)?");
  for (const auto& e : std::filesystem::directory_iterator(test::fixture_dir())) {
    if (e.path().extension() != ".hex") continue;
    const std::string name = e.path().stem().string();
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(name, m, pattern), name);
    out.push_back({name, m[1], m[2], static_cast<int16_t>(std::stoi(m[3])), test::load_fixture(name)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string snake_name(std::string_view api_name) {  // "FindCoordinator" -> "find_coordinator"
  std::string s;
  for (char c : api_name) {
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (!s.empty()) s += '_';
      s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      s += c;
    }
  }
  return s;
}

// Frames stay loaded for the whole run: decoded records borrow from them.
const std::vector<uint8_t>& cached_fixture(const std::string& name) {
  static std::map<std::string, std::vector<uint8_t>> cache;
  auto it = cache.find(name);
  if (it == cache.end()) it = cache.emplace(name, test::load_fixture(name)).first;
  return it->second;
}

template <class T>
T decode_fixture(const std::string& name) {
  const auto& frame = cached_fixture(name);
  auto req = decode_request(frame);
  REQUIRE_MESSAGE(req, name, ": ", test::error_text(req));
  const T* body = std::get_if<T>(&req->body);
  REQUIRE_MESSAGE(body, name);
  return *body;
}

request_header header_of(const std::string& name) {
  auto req = decode_request(cached_fixture(name));
  REQUIRE(req);
  return req->header;
}

TEST_CASE("every captured request decodes and re-encodes byte for byte") {
  const auto fixtures = all_fixtures();
  CHECK(fixtures.size() >= 50);
  std::map<std::string, int> clients;
  for (const auto& f : fixtures) {
    CAPTURE(f.name);
    auto req = decode_request(f.frame);
    REQUIRE_MESSAGE(req, f.name, ": ", test::error_text(req));
    const api_info* api = find_api(req->header.key);
    REQUIRE(api);
    CHECK(snake_name(api->name) == f.api);
    CHECK(req->header.version == f.version);
    // Default client ids: librdkafka "rdkafka"; kafka-python "kafka-python-2.0.2", its producer
    // "kafka-python-producer-1".
    REQUIRE(req->header.client_id);
    if (f.client == "kafka_python") {
      CHECK((*req->header.client_id == "kafka-python-2.0.2" ||
             *req->header.client_id == "kafka-python-producer-1"));
    } else {
      CHECK(*req->header.client_id == "rdkafka");
    }
    const auto again = encode_request(*req);
    CHECK(test::to_hex(byte_span(again).subspan(4)) == test::to_hex(f.frame));
    ++clients[f.client];
  }
  CHECK(clients.size() == 3);
}

TEST_CASE("every truncation of a captured request fails cleanly") {
  for (const auto& f : all_fixtures()) {
    for (size_t n = 0; n < f.frame.size(); ++n) {
      auto req = decode_request(byte_span(f.frame).first(n));
      REQUIRE_FALSE(req);
      const auto e = req.error().error;
      CHECK_MESSAGE((e == errc::truncated || e == errc::bad_length), f.name, " cut at ", n, ": ",
                    e.message());
      CHECK(req.error().id.has_value() == (n >= 8));
    }
  }
}

// The record set of a produce request: one RecordBatch v2 (magic 2) spanning all of it.
void check_record_batch(byte_span records, int32_t expected_count) {
  REQUIRE(records.size() >= 61);
  CHECK(load_be64(records.data()) == 0);                        // base offset: 0 from a producer
  CHECK(load_be32(records.data() + 8) + 12 == records.size());  // batch length
  CHECK(records[16] == 2);                                      // magic
  CHECK(static_cast<int32_t>(load_be32(records.data() + 57)) == expected_count);
}

TEST_CASE("librdkafka: ApiVersions v3 (flexible, header v2) and its v0 retry after the fallback answer") {
  const auto h = header_of("librdkafka_api_versions_v3");
  CHECK(request_header_version(api_versions_api, h.version) == 2);
  const auto v3 = decode_fixture<api_versions_request>("librdkafka_api_versions_v3");
  CHECK(v3.client_software_name == "librdkafka");
  CHECK(v3.client_software_version == "2.0.2");
  CHECK(decode_fixture<api_versions_request>("librdkafka_api_versions_v0") == api_versions_request{});
  const auto ck = decode_fixture<api_versions_request>("confluent_kafka_api_versions_v3");
  CHECK(ck.client_software_name == "confluent-kafka-python");
}

TEST_CASE("librdkafka: Metadata v4, Produce v7 with a RecordBatch, Fetch v11, ListOffsets v2") {
  const auto md = decode_fixture<metadata_request>("librdkafka_metadata_v4");
  REQUIRE(md.topics);
  CHECK(md.topics->empty());  // brokers only
  CHECK_FALSE(md.allow_auto_topic_creation);

  const auto produce = decode_fixture<produce_request>("librdkafka_produce_v7");
  CHECK_FALSE(produce.transactional_id);
  CHECK(produce.acks == -1);
  CHECK(produce.timeout_ms == 30000);
  REQUIRE(produce.topic_data.size() == 1);
  CHECK(produce.topic_data[0].name == "t");
  REQUIRE(produce.topic_data[0].partition_data.size() == 1);
  CHECK(produce.topic_data[0].partition_data[0].index == 0);
  REQUIRE(produce.topic_data[0].partition_data[0].records);
  check_record_batch(produce.topic_data[0].partition_data[0].records->data, 2);  // "hello", "world"

  const auto fetch = decode_fixture<fetch_request>("librdkafka_fetch_v11");
  CHECK(fetch.replica_id == -1);
  CHECK(fetch.isolation_level == 1);  // read_committed
  CHECK(fetch.session_id == 0);
  CHECK(fetch.session_epoch == -1);  // no fetch session
  CHECK(fetch.rack_id.empty());
  REQUIRE(fetch.topics.size() == 1);
  CHECK(fetch.topics[0].topic == "t");
  REQUIRE(fetch.topics[0].partitions.size() == 1);
  CHECK(fetch.topics[0].partitions[0].fetch_offset == 0);
  CHECK(fetch.topics[0].partitions[0].partition_max_bytes == 1048576);

  const auto lo = decode_fixture<list_offsets_request>("librdkafka_list_offsets_v2");
  CHECK(lo.isolation_level == 1);
  CHECK(lo.topics.at(0).partitions.at(0).timestamp == -2);  // earliest
}

TEST_CASE("librdkafka: the consumer group flow") {
  const auto fc = decode_fixture<find_coordinator_request>("librdkafka_find_coordinator_v2");
  CHECK(fc.key == "kcat-group");
  CHECK(fc.key_type == 0);

  const auto join = decode_fixture<join_group_request>("librdkafka_join_group_v5");
  CHECK(join.group_id == "kcat-group");
  CHECK(join.member_id.empty());  // then MEMBER_ID_REQUIRED ...
  CHECK(join.session_timeout_ms == 45000);
  CHECK(join.rebalance_timeout_ms == 300000);
  CHECK_FALSE(join.group_instance_id);
  CHECK(join.protocol_type == "consumer");
  REQUIRE(join.protocols.size() == 2);
  CHECK(join.protocols[0].name == "range");
  CHECK(join.protocols[1].name == "roundrobin");
  const auto rejoin = decode_fixture<join_group_request>("librdkafka_join_group_v5_rejoin");
  CHECK(rejoin.member_id == "librdkafka-member-1");  // ... and the rejoin with the given id

  const auto sync = decode_fixture<sync_group_request>("librdkafka_sync_group_v3");
  CHECK(sync.generation_id == 1);
  REQUIRE(sync.assignments.size() == 1);  // the leader assigns
  CHECK(sync.assignments[0].member_id == sync.member_id);
  CHECK_FALSE(sync.assignments[0].assignment.empty());

  const auto hb = decode_fixture<heartbeat_request>("librdkafka_heartbeat_v3");
  CHECK(hb.member_id == "librdkafka-member-1");
  CHECK(hb.generation_id == 1);

  const auto of5 = decode_fixture<offset_fetch_request>("librdkafka_offset_fetch_v5");
  REQUIRE(of5.topics);
  CHECK(of5.topics->at(0).partition_indexes == std::vector<int32_t>{0});
  const auto of7 = decode_fixture<offset_fetch_request>("librdkafka_offset_fetch_v7");  // flexible
  CHECK(request_header_version(offset_fetch_api, 7) == 2);
  CHECK(of7.group_id == "kcat-wide-group");
  CHECK(of7.require_stable);

  const auto commit = decode_fixture<offset_commit_request>("librdkafka_offset_commit_v7");
  CHECK(commit.generation_id == 1);
  CHECK(commit.member_id == "librdkafka-member-1");
  CHECK(commit.topics.at(0).partitions.at(0).committed_offset == 2);
  CHECK(commit.topics.at(0).partitions.at(0).committed_metadata == "");

  const auto leave = decode_fixture<leave_group_request>("librdkafka_leave_group_v1");
  CHECK(leave.member_id == "librdkafka-member-1");

  const auto ck_join = decode_fixture<join_group_request>("confluent_kafka_join_group_v5");
  CHECK(ck_join.group_instance_id == "ck-static-1");  // static membership
}

TEST_CASE("librdkafka: idempotence and SASL") {
  const auto v1 = decode_fixture<init_producer_id_request>("librdkafka_init_producer_id_v1");
  CHECK_FALSE(v1.transactional_id);
  CHECK(v1.transaction_timeout_ms == -1);
  const auto v4 = decode_fixture<init_producer_id_request>("librdkafka_init_producer_id_v4");  // flexible
  CHECK(v4.producer_id == -1);
  CHECK(v4.producer_epoch == -1);
  CHECK(header_of("librdkafka_init_producer_id_v4").client_id == "rdkafka");

  CHECK(decode_fixture<sasl_handshake_request>("librdkafka_sasl_handshake_v1").mechanism == "PLAIN");
  const auto auth = decode_fixture<sasl_authenticate_request>("librdkafka_sasl_authenticate_v0");
  const std::string token(auth.auth_bytes.begin(), auth.auth_bytes.end());
  CHECK(token == std::string("\0user\0secret", 12));
}

TEST_CASE("confluent-kafka admin: CreateTopics v3/v4, DeleteTopics v1, DescribeConfigs v1, groups") {
  for (const char* name : {"confluent_kafka_create_topics_v3", "confluent_kafka_create_topics_v4"}) {
    const auto ct = decode_fixture<create_topics_request>(name);
    REQUIRE(ct.topics.size() == 1);
    CHECK(ct.topics[0].name == "ck-new");
    CHECK(ct.topics[0].num_partitions == 3);
    CHECK(ct.topics[0].replication_factor == 1);
    REQUIRE(ct.topics[0].configs.size() == 1);
    CHECK(ct.topics[0].configs[0].name == "retention.ms");
    CHECK(ct.topics[0].configs[0].value == "1000");
  }
  CHECK(decode_fixture<delete_topics_request>("confluent_kafka_delete_topics_v1").topic_names ==
        std::vector<std::string>{"ck-new"});
  const auto dc = decode_fixture<describe_configs_request>("confluent_kafka_describe_configs_v1");
  REQUIRE(dc.resources.size() == 1);
  CHECK(dc.resources[0].resource_type == 2);  // topic
  CHECK(dc.resources[0].resource_name == "t");
  CHECK_FALSE(dc.resources[0].configuration_keys);  // all keys
  CHECK(dc.include_synonyms);
  CHECK(decode_fixture<describe_groups_request>("confluent_kafka_describe_groups_v0").groups.size() == 2);
}

TEST_CASE("kafka-python: version probe, producer, consumer group, admin, SASL v0") {
  // check_version: ApiVersions v0 with Metadata v0 pipelined; then Metadata v1 (null = all).
  CHECK(decode_fixture<api_versions_request>("kafka_python_api_versions_v0") == api_versions_request{});
  const auto md0 = decode_fixture<metadata_request>("kafka_python_metadata_v0");
  REQUIRE(md0.topics);
  CHECK(md0.topics->empty());
  CHECK_FALSE(decode_fixture<metadata_request>("kafka_python_metadata_v1").topics);

  const auto produce = decode_fixture<produce_request>("kafka_python_produce_v7");
  CHECK(produce.acks == 1);  // kafka-python's default
  REQUIRE(produce.topic_data.at(0).partition_data.at(0).records);
  check_record_batch(produce.topic_data[0].partition_data[0].records->data, 1);

  const auto fetch = decode_fixture<fetch_request>("kafka_python_fetch_v4");  // always v4
  CHECK(fetch.isolation_level == 0);
  CHECK(fetch.topics.at(0).topic == "t");

  CHECK(decode_fixture<find_coordinator_request>("kafka_python_find_coordinator_v0").key == "kp-group");
  const auto join = decode_fixture<join_group_request>("kafka_python_join_group_v2");
  CHECK(join.session_timeout_ms == 10000);
  CHECK(join.rebalance_timeout_ms == 300000);
  CHECK(join.protocols.size() == 2);
  CHECK(decode_fixture<list_offsets_request>("kafka_python_list_offsets_v1")
            .topics.at(0)
            .partitions.at(0)
            .timestamp == -2);
  const auto commit = decode_fixture<offset_commit_request>("kafka_python_offset_commit_v2");
  CHECK(commit.retention_time_ms == -1);
  CHECK(commit.topics.at(0).partitions.at(0).committed_offset > 0);
  CHECK(decode_fixture<offset_fetch_request>("kafka_python_offset_fetch_v1").topics->at(0).name == "t");
  CHECK(decode_fixture<leave_group_request>("kafka_python_leave_group_v1").group_id == "kp-group");

  const auto ct = decode_fixture<create_topics_request>("kafka_python_create_topics_v3");
  CHECK(ct.topics.at(0).name == "kp-new");
  CHECK(ct.topics.at(0).num_partitions == 2);
  CHECK(ct.timeout_ms == 5000);
  CHECK_FALSE(decode_fixture<describe_configs_request>("kafka_python_describe_configs_v2").include_synonyms);
  CHECK(decode_fixture<describe_groups_request>("kafka_python_describe_groups_v2").groups ==
        std::vector<std::string>{"kp-group"});
  CHECK(decode_fixture<sasl_handshake_request>("kafka_python_sasl_handshake_v0").mechanism == "PLAIN");
}

}  // namespace
}  // namespace tributary::kafka::protocol

namespace tributary::kafka::protocol {
namespace {

TEST_CASE("DeleteGroups v1 from librdkafka (tributary group delete) and kafka-python (admin client)") {
  const auto rdk = decode_fixture<delete_groups_request>("librdkafka_delete_groups_v1");
  CHECK(rdk.groups_names == std::vector<std::string>{"nobody"});
  CHECK(header_of("librdkafka_delete_groups_v1").client_id == "rdkafka");
  const auto kp = decode_fixture<delete_groups_request>("kafka_python_delete_groups_v1");
  CHECK(kp.groups_names == std::vector<std::string>{"kp-group"});
}

}  // namespace
}  // namespace tributary::kafka::protocol
