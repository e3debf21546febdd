// The top-level request decoder and encoder, response framing, frames and error reporting.
#include <doctest/doctest.h>

#include "tests/unit/kafka_protocol/test_support.h"

namespace tributary::kafka::protocol {
namespace {

// A request frame built by hand: header v1/v2 fields, then raw body bytes.
std::vector<uint8_t> frame(int16_t key, int16_t version, int32_t correlation_id,
                           std::optional<std::string_view> client_id, bool header_v2,
                           std::vector<uint8_t> body) {
  byte_writer w;
  w.write_i16(key);
  w.write_i16(version);
  w.write_i32(correlation_id);
  w.write_nullable_string(client_id);
  if (header_v2) w.write_uvarint(0);
  w.write_raw(body);
  return w.take();
}

std::vector<uint8_t> without_prefix(const std::vector<uint8_t>& framed) {
  REQUIRE(framed.size() >= 4);
  CHECK(load_be32(framed.data()) == framed.size() - 4);
  return {framed.begin() + 4, framed.end()};
}

TEST_CASE("decode_request: header v1 and body") {
  const auto f = frame(3, 1, 77, "cli", false, {0xff, 0xff, 0xff, 0xff});  // Metadata v1, all topics
  auto req = decode_request(f);
  REQUIRE(req);
  CHECK(req->header.key == api_key::metadata);
  CHECK(req->header.version == 1);
  CHECK(req->header.correlation_id == 77);
  CHECK(req->header.client_id == "cli");
  const auto* m = std::get_if<metadata_request>(&req->body);
  REQUIRE(m);
  CHECK_FALSE(m->topics.has_value());
  CHECK(without_prefix(encode_request(*req)) == f);
}

TEST_CASE("decode_request: header v2 keeps a classic client id and skips unknown header tags") {
  byte_writer w;
  w.write_i16(22);  // InitProducerId v2: flexible
  w.write_i16(2);
  w.write_i32(5);
  w.write_string("rdkafka");  // int16 length, not compact
  w.write_uvarint(1);         // one unknown header tag
  w.write_uvarint(9);
  w.write_uvarint(2);
  w.write_i16(0x1234);
  w.write_uvarint(0);  // body: null transactional id
  w.write_i32(60000);
  w.write_uvarint(0);
  auto req = decode_request(w.view());
  REQUIRE(req);
  CHECK(req->header.client_id == "rdkafka");
  const auto& body = std::get<init_producer_id_request>(req->body);
  CHECK_FALSE(body.transactional_id);
  CHECK(body.transaction_timeout_ms == 60000);
  // Re-encoding drops the unknown header tag, nothing else.
  const auto again = without_prefix(encode_request(*req));
  CHECK(again.size() == w.size() - 4);
}

TEST_CASE("decode_request: a null client id") {
  const auto f = frame(12, 0, 1, std::nullopt, false, [] {
    byte_writer b;
    b.write_string("g");
    b.write_i32(1);
    b.write_string("m");
    return b.take();
  }());
  auto req = decode_request(f);
  REQUIRE(req);
  CHECK_FALSE(req->header.client_id);
  CHECK(std::get<heartbeat_request>(req->body).group_id == "g");
  CHECK(without_prefix(encode_request(*req)) == f);
}

TEST_CASE("decode_request errors carry the request id whenever the frame holds it") {
  SUBCASE("shorter than the fixed header") {
    const std::vector<uint8_t> f = {0, 3, 0, 1, 0, 0, 0};
    auto req = decode_request(f);
    REQUIRE_FALSE(req);
    CHECK(req.error().error == errc::truncated);
    CHECK_FALSE(req.error().id);
    CHECK_FALSE(peek_request_id(f));
    CHECK_FALSE(decode_request({}));
  }
  SUBCASE("unknown api key") {
    auto req = decode_request(frame(4, 0, 9, "x", false, {}));  // LeaderAndIsr
    REQUIRE_FALSE(req);
    CHECK(req.error().error == errc::unknown_api_key);
    REQUIRE(req.error().id);
    CHECK(req.error().id->correlation_id == 9);
    CHECK(static_cast<int16_t>(req.error().id->key) == 4);
    CHECK_FALSE(is_api_versions_fallback(req.error()));
    CHECK(decode_request(frame(-1, 0, 9, "x", false, {})).error().error == errc::unknown_api_key);
  }
  SUBCASE("unsupported version, above and below the range") {
    auto req = decode_request(frame(3, 13, 10, "x", true, {}));
    REQUIRE_FALSE(req);
    CHECK(req.error().error == errc::unsupported_version);
    CHECK(req.error().id == request_id{api_key::metadata, 13, 10});
    CHECK_FALSE(is_api_versions_fallback(req.error()));
    CHECK(decode_request(frame(3, -1, 10, "x", false, {})).error().error == errc::unsupported_version);
  }
  SUBCASE("the ApiVersions trap: an unknown version still yields what the v0 answer needs") {
    // A future client's ApiVersions v9, whose header and body we cannot parse.
    const std::vector<uint8_t> f = {0, 18, 0, 9, 0, 0, 0, 42, 0xde, 0xad};
    auto req = decode_request(f);
    REQUIRE_FALSE(req);
    CHECK(req.error().error == errc::unsupported_version);
    CHECK(is_api_versions_fallback(req.error()));
    CHECK(req.error().id->correlation_id == 42);
    const auto answer = encode_api_versions_fallback(req.error().id->correlation_id);
    // size, correlation id (header v0), error 35, [ {18, 0, 3} ] (v0 body: no throttle time).
    CHECK(test::to_hex(answer) ==
          "00000010"
          "0000002a"
          "0023"
          "00000001"
          "0012"
          "0000"
          "0003");
    auto decoded = decode_response(api_key::api_versions, 0, without_prefix(answer));
    REQUIRE(decoded);
    const auto& body = std::get<api_versions_response>(decoded->body);
    CHECK(body.error_code == error_code::unsupported_version);
    CHECK(body.api_keys.size() == 1);
  }
  SUBCASE("client id cut short or with a bad length") {
    auto cut = decode_request(std::vector<uint8_t>{0, 18, 0, 0, 0, 0, 0, 1, 0, 5, 'a'});
    CHECK(cut.error().error == errc::truncated);
    CHECK(cut.error().id->correlation_id == 1);
    auto bad = decode_request(std::vector<uint8_t>{0, 18, 0, 0, 0, 0, 0, 1, 0xff, 0xfe});
    CHECK(bad.error().error == errc::bad_length);
  }
  SUBCASE("header v2 tagged fields cut short") {
    const auto f = frame(18, 3, 1, "c", false, {0x01, 0x00});  // one tag, cut after its number
    CHECK(decode_request(f).error().error == errc::truncated);
  }
  SUBCASE("body cut short") {
    auto req = decode_request(frame(12, 0, 3, "c", false, {0, 1, 'g', 0, 0}));
    CHECK(req.error().error == errc::truncated);
    CHECK(req.error().id->correlation_id == 3);
  }
  SUBCASE("trailing bytes") {
    auto req = decode_request(frame(18, 0, 3, "c", false, {0}));  // ApiVersions v0 has an empty body
    CHECK(req.error().error == errc::trailing_bytes);
    CHECK(req.error().id->key == api_key::api_versions);
  }
  SUBCASE("a negative string length") {
    CHECK(decode_request(frame(17, 1, 3, "c", false, {0xff, 0xf0})).error().error == errc::bad_length);
  }
  SUBCASE("a null where the version does not allow it") {
    CHECK(decode_request(frame(17, 1, 3, "c", false, {0xff, 0xff})).error().error == errc::unexpected_null);
  }
  SUBCASE("an array count larger than the frame could hold") {
    CHECK(decode_request(frame(20, 1, 3, "c", false, {0x7f, 0, 0, 0, 0, 0, 0, 0})).error().error ==
          errc::bad_length);
  }
  SUBCASE("a varint that never ends") {
    const auto f = frame(18, 3, 3, "c", true, {0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
    CHECK(decode_request(f).error().error == errc::bad_varint);
  }
}

TEST_CASE("decode_limits: the array element budget, at its edge") {
  // DeleteTopics v1: four topic names and a timeout.
  byte_writer body;
  body.write_i32(4);
  for (int i = 0; i < 4; ++i) body.write_string("t");
  body.write_i32(1000);
  const auto f = frame(20, 1, 1, "c", false, body.take());
  CHECK(decode_request(f, decode_limits{4}));
  auto over = decode_request(f, decode_limits{3});
  REQUIRE_FALSE(over);
  CHECK(over.error().error == errc::too_many_elements);
  // Nested arrays count too: Metadata response brokers + topics + partitions + replicas.
  metadata_response m;
  m.brokers.resize(1);
  m.topics.resize(1);
  m.topics[0].partitions.resize(1);
  m.topics[0].partitions[0].replica_nodes = {1, 2};
  const auto framed = encode_response(1, 1, m);
  CHECK(decode_response(api_key::metadata, 1, without_prefix(framed), decode_limits{5}));
  CHECK(decode_response(api_key::metadata, 1, without_prefix(framed), decode_limits{4}).error() ==
        errc::too_many_elements);
}

TEST_CASE("tagged fields: unknown ones are skipped at every level, known ones must fit their size") {
  // ListOffsets v6 (flexible) request with unknown tags in the partition, the topic and the body.
  auto body = [](bool extra_in_known) {
    byte_writer w;
    w.write_i32(-1);
    w.write_i8(0);
    w.write_uvarint(2);  // one topic
    w.write_compact_string("t");
    w.write_uvarint(2);  // one partition
    w.write_i32(0);
    w.write_i32(-1);
    w.write_i64(-1);
    w.write_uvarint(1);  // partition tags: tag 7, 3 bytes
    w.write_uvarint(7);
    w.write_uvarint(3);
    w.write_raw(std::string_view("abc"));
    w.write_uvarint(2);  // topic tags: tags 0 and 100
    w.write_uvarint(0);
    w.write_uvarint(0);
    w.write_uvarint(100);
    w.write_uvarint(1);
    w.write_u8(9);
    w.write_uvarint(0);  // body tags
    (void)extra_in_known;
    return w.take();
  };
  auto req = decode_request(frame(2, 6, 1, "c", true, body(false)));
  REQUIRE(req);
  const auto& lo = std::get<list_offsets_request>(req->body);
  REQUIRE(lo.topics.size() == 1);
  CHECK(lo.topics[0].partitions[0].timestamp == -1);

  // A known tag (Fetch v12 request, tag 0 = cluster_id) whose size is larger than its value.
  fetch_request f;
  f.cluster_id = "c";
  byte_writer enc;
  encode_body(enc, f, 12);
  auto good = enc.take();
  byte_reader r1(good);
  auto decoded = decode_body<fetch_request>(r1, 12);
  REQUIRE(decoded);
  CHECK(decoded->cluster_id == "c");
  // Tag section at the end: count 1, tag 0, size 2, compact string "c" (0x02 'c').
  REQUIRE(good.size() >= 5);
  CHECK(test::to_hex(byte_span(good).last(5)) == "0100020263");
  auto padded = good;
  padded[padded.size() - 3] = 3;  // size 3
  padded.push_back(0);
  byte_reader r2(padded);
  CHECK(decode_body<fetch_request>(r2, 12).error() == errc::bad_tagged_field);
  auto cut = good;
  cut[cut.size() - 2] = 0x03;  // compact string of length 2 inside a 2-byte tag: runs out
  byte_reader r3(cut);
  CHECK(decode_body<fetch_request>(r3, 12).error() == errc::truncated);

  // A tag of a field that does not exist at this version is skipped like an unknown one: Fetch's
  // tagged partition fields exist from v12 only, tags in a classic version are not even read.
  fetch_response fr;
  fr.responses.push_back({"t", {fetch_response::partition_data{}}});
  fr.responses[0].partitions[0].current_leader = {1, 2};
  byte_writer fr12;
  encode_body(fr12, fr, 12);
  byte_reader r4(fr12.view());
  CHECK(decode_body<fetch_response>(r4, 12)->responses[0].partitions[0].current_leader.leader_id == 1);
}

TEST_CASE("every strict prefix of a valid request fails, and never with trailing_bytes") {
  offset_commit_request oc;
  oc.group_id = "group";
  oc.generation_id = 4;
  oc.member_id = "member";
  oc.topics.push_back({"topic", {{0, 10, 1, -1, std::string("meta")}, {1, 11, 1, -1, std::nullopt}}});
  for (int16_t v : {2, 7, 8}) {
    const auto f = without_prefix(encode_request({{api_key::offset_commit, v, 1, "c"}, oc}));
    REQUIRE(decode_request(f));
    for (size_t n = 0; n < f.size(); ++n) {
      auto req = decode_request(byte_span(f).first(n));
      REQUIRE_FALSE(req);
      const auto e = req.error().error;
      CHECK_MESSAGE((e == errc::truncated || e == errc::bad_length), "v", v, " prefix ", n, ": ",
                    e.message());
    }
  }
}

TEST_CASE("encode_request and decode_request round-trip every API at its edges") {
  test::for_each_type<request_body>([]<class T>() {
    for (int16_t v : {T::api.min_version, T::api.max_version}) {
      request r{{T::api.key, v, 123, std::string("client")}, T{}};
      const auto f = encode_request(r);
      auto back = decode_request(without_prefix(f));
      REQUIRE_MESSAGE(back, T::api.name, " v", v);
      CHECK(*back == r);
    }
  });
}

TEST_CASE("responses: header v0 for classic versions and for ApiVersions, v1 for flexible ones") {
  heartbeat_response hb{0, error_code::rebalance_in_progress};
  CHECK(test::to_hex(encode_response(7, 3, hb)) ==
        "0000000a"
        "00000007"
        "00000000"
        "001b");
  CHECK(test::to_hex(encode_response(7, 4, hb)) ==
        "0000000c"
        "00000007"
        "00"
        "00000000"
        "001b"
        "00");
  api_versions_response av;
  av.api_keys.push_back({18, 0, 3});
  // ApiVersions v3: flexible body, but no tag byte after the correlation id.
  CHECK(test::to_hex(encode_response(7, 3, av)) ==
        "00000013"
        "00000007"
        "0000"
        "02"
        "0012"
        "0000"
        "0003"
        "00"
        "00000000"
        "00");

  // Responses append to one buffer (pipelined answers) and decode back through the variant.
  byte_writer out;
  encode_response(out, 1, 4, response_body(hb));
  encode_response(out, 2, 0, response_body(hb));
  auto first = next_frame(out.view());
  REQUIRE(first);
  REQUIRE(*first);
  auto r1 = decode_response(api_key::heartbeat, 4, **first);
  REQUIRE(r1);
  CHECK(r1->correlation_id == 1);
  CHECK(std::get<heartbeat_response>(r1->body) == hb);
  auto second = next_frame(out.view().subspan(4 + (*first)->size()));
  REQUIRE(second);
  REQUIRE(*second);
  auto r2 = decode_response(api_key::heartbeat, 0, **second);
  REQUIRE(r2);
  CHECK(r2->correlation_id == 2);
}

TEST_CASE("decode_response errors") {
  const auto f = without_prefix(encode_response(1, 4, heartbeat_response{}));
  CHECK(decode_response(static_cast<api_key>(4), 0, f).error() == errc::unknown_api_key);
  CHECK(decode_response(api_key::heartbeat, 5, f).error() == errc::unsupported_version);
  CHECK(decode_response(api_key::heartbeat, 4, byte_span(f).first(3)).error() == errc::truncated);
  CHECK(decode_response(api_key::heartbeat, 4, byte_span(f).first(4)).error() ==
        errc::truncated);  // header tags
  auto longer = f;
  longer.push_back(0);
  CHECK(decode_response(api_key::heartbeat, 4, longer).error() == errc::trailing_bytes);
  CHECK(decode_response(api_key::heartbeat, 3, f).error() ==
        errc::trailing_bytes);  // read as v3: no tag bytes
}

TEST_CASE("next_frame: incomplete, complete, negative, too large, at the limit") {
  CHECK(next_frame({}).value() == std::nullopt);
  const std::vector<uint8_t> partial = {0, 0, 0, 3, 1, 2};
  CHECK(next_frame(partial).value() == std::nullopt);
  const std::vector<uint8_t> whole = {0, 0, 0, 3, 1, 2, 3, 9};
  auto f = next_frame(whole);
  REQUIRE(f);
  REQUIRE(*f);
  CHECK((*f)->size() == 3);
  CHECK((*f)->data() == whole.data() + 4);
  const std::vector<uint8_t> negative = {0xff, 0xff, 0xff, 0xfe};
  CHECK(next_frame(negative).error() == errc::bad_frame_size);
  CHECK(next_frame(whole, 3).value().has_value());  // exactly the limit
  CHECK(next_frame(whole, 2).error() == errc::frame_too_large);
  const std::vector<uint8_t> huge = {0x7f, 0xff, 0xff, 0xff};
  CHECK(next_frame(huge).error() == errc::frame_too_large);
}

TEST_CASE("errc messages") {
  for (int e = 1; e <= static_cast<int>(errc::bad_frame_size); ++e)
    CHECK(std::string(std::error_code(static_cast<errc>(e)).message()) != "unknown kafka.protocol error");
  CHECK(std::error_code(errc::truncated).category().name() == std::string("kafka.protocol"));
  CHECK(from_bytes_error(::tributary::bytes::errc::end_of_input) == errc::truncated);
  CHECK(from_bytes_error(::tributary::bytes::errc::null_not_allowed) == errc::unexpected_null);
  CHECK(from_bytes_error(errc::bad_tagged_field) == errc::bad_tagged_field);
}

}  // namespace
}  // namespace tributary::kafka::protocol

namespace tributary::kafka::protocol {
namespace {

TEST_CASE("librdkafka 2.0.2's flexible ListGroups carries a second tagged-field section: rejected") {
  // Captured from `tributary group list` (librdkafka 2.0.2) against a broker advertising ListGroups v4:
  // header (key 16, v4, correlation 3, client "tributary-cli", no header tags), an empty states filter
  // (compact array 0), the body's tags, and one more empty tag section. Kafka ignores the extra byte;
  // this decoder reports it, which is why the broker advertises ListGroups up to v2 only.
  const std::vector<uint8_t> f = {0x00, 0x10, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, 0x00,
                                  0x0d, 't',  'r',  'i',  'b',  'u',  't',  'a',  'r',
                                  'y',  '-',  'c',  'l',  'i',  0x00, 0x01, 0x00, 0x00};
  auto req = decode_request(f);
  REQUIRE_FALSE(req);
  CHECK(req.error().error == errc::trailing_bytes);
  auto without = decode_request(std::span(f).first(f.size() - 1));
  REQUIRE(without);
  CHECK(std::get<list_groups_request>(without->body).states_filter.empty());
}

TEST_CASE("librdkafka 2.0.2's admin OffsetFetch v7 for every topic leaves 3 bytes after the body: rejected") {
  // Captured from `tributary group describe g-x` (ListConsumerGroupOffsets, librdkafka 2.0.2): group
  // "g-x", then the null topics array written as a compact 0 in a 4-byte slot (00 00 00 00),
  // require_stable, tags. Kafka reads null topics, false, no tags, and ignores the rest; this decoder
  // reports the 3 extra bytes (at v5, librdkafka sends an empty array instead: no partitions at all).
  const std::vector<uint8_t> f = {0x00, 0x09, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05, 0x00, 0x07,
                                  'r',  'd',  'k',  'a',  'f',  'k',  'a',  0x00, 0x04, 'g',
                                  '-',  'x',  0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  auto req = decode_request(f);
  REQUIRE_FALSE(req);
  CHECK(req.error().error == errc::trailing_bytes);
  const std::vector<uint8_t> meant = {0x00, 0x09, 0x00, 0x07, 0x00, 0x00, 0x00, 0x05, 0x00,
                                      0x07, 'r',  'd',  'k',  'a',  'f',  'k',  'a',  0x00,
                                      0x04, 'g',  '-',  'x',  0x00, 0x00, 0x00};
  auto ok = decode_request(meant);
  REQUIRE(ok);
  CHECK_FALSE(std::get<offset_fetch_request>(ok->body).topics);
}

}  // namespace
}  // namespace tributary::kafka::protocol
