// Properties of the derived codec over every described message at every described version:
// random messages round-trip exactly, sizes are exact, defaults are encodable and write no tags,
// and the descriptions themselves follow the rules of schema.h.
#include <doctest/doctest.h>

#include "tests/unit/kafka_protocol/test_support.h"

namespace tributary::kafka::protocol {
namespace {

using test::for_each_type;

template <message T>
void check_round_trips(int16_t version, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::deque<std::vector<uint8_t>> arena;
  T original{};
  test::filler fill(rng, version, T::api.flexible(version), arena);
  fill.fill(original, field_spec{});

  byte_writer out;
  encode_body(out, original, version);
  CHECK(out.size() == body_size(original, version));

  byte_reader r(out.view());
  auto decoded = decode_body<T>(r, version);
  REQUIRE_MESSAGE(decoded, T::api.name, " v", version, ": ", test::error_text(decoded));
  CHECK(r.empty());
  CHECK_MESSAGE(*decoded == original, T::api.name, " v", version, " seed ", seed, "\n  original ",
                debug_string(original), "\n  decoded  ", debug_string(*decoded));

  byte_writer again;
  encode_body(again, *decoded, version);
  CHECK(again.buffer() == out.buffer());
}

struct round_trip_all {
  int seeds;
  template <class T>
  void operator()() {
    for (int16_t v = T::api.min_version; v <= T::api.max_version; ++v)
      for (int s = 0; s < seeds; ++s) check_round_trips<T>(v, static_cast<uint64_t>(s) * 7919 + v);
  }
};

TEST_CASE("every request round-trips at every version") { for_each_type<request_body>(round_trip_all{40}); }

TEST_CASE("every response round-trips at every version") { for_each_type<response_body>(round_trip_all{40}); }

struct defaults_round_trip {
  template <class T>
  void operator()() {
    for (int16_t v = T::api.min_version; v <= T::api.max_version; ++v) {
      const T m{};
      byte_writer out;
      encode_body(out, m, v);
      CHECK(out.size() == body_size(m, v));
      byte_reader r(out.view());
      auto decoded = decode_body<T>(r, v);
      REQUIRE(decoded);
      CHECK(*decoded == m);
      if (T::api.flexible(v)) {
        detail::tag_counter tags{v};
        T::fields(m, tags);
        CHECK_MESSAGE(tags.count == 0, T::api.name, " v", v, ": a default tagged field is written");
        CHECK(out.buffer().back() == 0);  // the body's (empty) tagged-field section
      }
    }
  }
};

TEST_CASE("default-constructed messages encode at every version and write no tagged fields") {
  for_each_type<request_body>(defaults_round_trip{});
  for_each_type<response_body>(defaults_round_trip{});
}

struct lint_all {
  std::vector<std::string>& problems;
  template <class T>
  void operator()() {
    const T prototype{};
    test::linter l(T::api, std::string(T::api.name), problems);
    T::fields(prototype, l);
  }
};

TEST_CASE("descriptions follow the rules") {
  std::vector<std::string> problems;
  for_each_type<request_body>(lint_all{problems});
  for_each_type<response_body>(lint_all{problems});
  for (const auto& p : problems) MESSAGE(p);
  CHECK(problems.empty());
}

// Proves the linter can fail: a description breaking each rule.
struct broken {
  std::optional<std::string> late_nullable;  // default null, but nullable only from v2
  int32_t tagged_early = 0;                  // tagged in a classic version
  int32_t tag_default_mismatch = 0;          // member default 0, tag_default -1
  int32_t out_of_order = 0;                  // tag 0 after tag 1
  int32_t inverted = 0;                      // min > max
  std::string not_nullable;                  // nullable_from on a plain member
  static void fields(auto& s, auto& v) {
    v(s.late_nullable, "late_nullable", {.nullable_from = 2});
    v(s.tagged_early, "tagged_early", {.min = 0, .tag = 0});
    v(s.tag_default_mismatch, "tag_default_mismatch", {.min = 3, .tag = 1, .tag_default = -1});
    v(s.out_of_order, "out_of_order", {.min = 3, .tag = 0});
    v(s.inverted, "inverted", {.min = 2, .max = 1});
    v(s.not_nullable, "not_nullable", {.nullable_from = 1});
  }
};

TEST_CASE("the linter catches broken descriptions") {
  constexpr api_info api{api_key::metadata, "Broken", 0, 4, 3};
  std::vector<std::string> problems;
  test::linter l(api, "broken", problems);
  const broken prototype{};
  broken::fields(prototype, l);
  CHECK(problems.size() == 6);
}

TEST_CASE("the api table matches the variants") {
  CHECK(k_described_apis.size() == std::variant_size_v<request_body>);
  for (size_t i = 0; i < k_described_apis.size(); ++i) {
    const auto& api = k_described_apis[i];
    CHECK(api_index(api.key) == i);
    CHECK(find_api(api.key) == &k_described_apis[i]);
    CHECK(api.min_version == 0);  // advertise min 0 for every API (KAFKA-PROTOCOL.md)
    CHECK(api.min_version <= api.max_version);
  }
  CHECK(find_api(static_cast<api_key>(4)) == nullptr);  // LeaderAndIsr: not described
  CHECK(find_api(static_cast<api_key>(-1)) == nullptr);
}

TEST_CASE("codec version ranges cover the smallest set all four clients accept") {
  // KAFKA-PROTOCOL.md, "The smallest set": the broker advertises up to these.
  const std::pair<api_key, int16_t> needed[] = {
      {api_key::api_versions, 3},      {api_key::metadata, 4},
      {api_key::produce, 7},           {api_key::fetch, 11},
      {api_key::list_offsets, 2},      {api_key::find_coordinator, 2},
      {api_key::join_group, 5},        {api_key::sync_group, 3},
      {api_key::heartbeat, 3},         {api_key::leave_group, 1},
      {api_key::offset_commit, 7},     {api_key::offset_fetch, 5},
      {api_key::list_groups, 2},       {api_key::describe_groups, 2},
      {api_key::create_topics, 3},     {api_key::delete_topics, 1},
      {api_key::init_producer_id, 1},  {api_key::sasl_handshake, 1},
      {api_key::sasl_authenticate, 1}, {api_key::describe_configs, 2},
  };
  for (auto [key, max] : needed) {
    const api_info* api = find_api(key);
    REQUIRE(api);
    CHECK_MESSAGE(api->supports(max), api->name);
  }
}

TEST_CASE("flexible versions and header versions") {
  CHECK_FALSE(metadata_api.flexible(8));
  CHECK(metadata_api.flexible(9));
  CHECK(request_header_version(metadata_api, 8) == 1);
  CHECK(request_header_version(metadata_api, 9) == 2);
  CHECK(response_header_version(metadata_api, 8) == 0);
  CHECK(response_header_version(metadata_api, 9) == 1);
  // ApiVersions: flexible body from v3, but the response header stays v0.
  CHECK(api_versions_api.flexible(3));
  CHECK(request_header_version(api_versions_api, 3) == 2);
  CHECK(response_header_version(api_versions_api, 3) == 0);
  CHECK_FALSE(sasl_handshake_api.flexible(1));
  CHECK(request_header_version(sasl_handshake_api, 1) == 1);
}

TEST_CASE("debug_string names every field") {
  metadata_response m;
  m.brokers.push_back({1, "h", 9092, std::nullopt});
  m.topics.push_back({});
  m.topics[0].error_code = error_code::unknown_topic_or_partition;
  const std::string s = debug_string(m);
  CHECK(s.find("brokers=[{node_id=1, host=\"h\", port=9092, rack=null}]") != std::string::npos);
  CHECK(s.find("UNKNOWN_TOPIC_OR_PARTITION(3)") != std::string::npos);
  CHECK(s.find("cluster_id=null") != std::string::npos);
}

}  // namespace
}  // namespace tributary::kafka::protocol
