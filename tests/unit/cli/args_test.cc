// The command line: global options, each subcommand's request struct, and usage errors (exit 2).
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <librdkafka/rdkafka.h>
#include <CLI/CLI.hpp>

#include "cluster/cli/app.h"
#include "cluster/cli/common.h"
#include "cluster/cli/consume.h"
#include "cluster/cli/produce.h"
#include "cluster/cli/topic.h"

using namespace tributary::cluster::cli;

namespace {

// A root app with the global options and the three groups bound to requests the test can read.
struct parsed_line {
  CLI::App app;
  global_options global;
  command_fn chosen;
  std::shared_ptr<topic_requests> topic = std::make_shared<topic_requests>();
  std::shared_ptr<produce_request> produce = std::make_shared<produce_request>();
  std::shared_ptr<consume_request> consume = std::make_shared<consume_request>();
  std::ostringstream out;
  std::ostringstream err;
  std::optional<int> stop;  // parse_command_line's answer

  explicit parsed_line(std::vector<std::string> args) {
    prepare_root(app, global);
    bind_topic_commands(app, topic, chosen);
    bind_produce_command(app, produce, chosen);
    bind_consume_command(app, consume, chosen);
    stop = parse_command_line(app, std::move(args), out, err);
  }
  bool ok() const { return !stop.has_value() && static_cast<bool>(chosen); }
};

// The real command line (main.cc's), for help and usage errors.
struct real_line {
  CLI::App app;
  global_options global;
  command_fn chosen;
  std::ostringstream out;
  std::ostringstream err;
  std::optional<int> stop;
  explicit real_line(std::vector<std::string> args) {
    build_command_line(app, global, chosen);
    stop = parse_command_line(app, std::move(args), out, err);
  }
};

}  // namespace

TEST_CASE("key=value arguments") {
  auto p = parse_property("security.protocol=SASL_SSL");
  REQUIRE(p);
  CHECK(p->key == "security.protocol");
  CHECK(p->value == "SASL_SSL");
  p = parse_property("sasl.password=a=b=c");  // split at the first '='
  REQUIRE(p);
  CHECK(p->key == "sasl.password");
  CHECK(p->value == "a=b=c");
  p = parse_property("debug=");  // an empty value is a value
  REQUIRE(p);
  CHECK(p->value.empty());
  CHECK(parse_property("novalue").error() == errc::bad_property);
  CHECK(parse_property("=value").error() == errc::bad_property);
  CHECK(parse_property("").error() == errc::bad_property);
  CHECK(parse_property("k=" + std::string(k_property_bytes_max, 'x')).error() == errc::property_too_long);
  CHECK(check_property("a=b").empty());
  CHECK(check_property("ab").find("expected key=value") != std::string::npos);
}

TEST_CASE("topic names follow Kafka's rule") {
  CHECK(check_topic_name("orders"));
  CHECK(check_topic_name("a.b_c-D9"));
  CHECK(check_topic_name(std::string(k_topic_name_bytes_max, 'x')));
  CHECK(check_topic_name(std::string(k_topic_name_bytes_max + 1, 'x')).error() == errc::bad_topic_name);
  CHECK(check_topic_name("").error() == errc::bad_topic_name);
  CHECK(check_topic_name(".").error() == errc::bad_topic_name);
  CHECK(check_topic_name("..").error() == errc::bad_topic_name);
  CHECK(check_topic_name("a b").error() == errc::bad_topic_name);
  CHECK(check_topic_name("a/b").error() == errc::bad_topic_name);
}

TEST_CASE("exit codes follow the failure's code") {
  CHECK(exit_code_for({}) == exit_ok);
  CHECK(exit_code_for(errc::bad_property) == exit_usage);
  CHECK(exit_code_for(errc::bad_format) == exit_usage);
  CHECK(exit_code_for(errc::bad_input) == exit_usage);
  CHECK(exit_code_for(errc::kafka_config) == exit_usage);
  CHECK(exit_code_for(errc::topic_not_found) == exit_failed);
  CHECK(exit_code_for(errc::delivery_failed) == exit_failed);
  CHECK(exit_code_for(errc::partial) == exit_failed);
  CHECK(exit_code_for(errc::timed_out) == exit_unreachable);
  CHECK(exit_code_for(errc::incomplete) == exit_incomplete);
  CHECK(exit_code_for(errc::interrupted) == exit_interrupted);
  auto kafka = [](rd_kafka_resp_err_t e) { return std::error_code(static_cast<int>(e), kafka_category()); };
  CHECK(exit_code_for(kafka(RD_KAFKA_RESP_ERR__TRANSPORT)) == exit_unreachable);
  CHECK(exit_code_for(kafka(RD_KAFKA_RESP_ERR__TIMED_OUT)) == exit_unreachable);
  CHECK(exit_code_for(kafka(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)) == exit_unreachable);
  CHECK(exit_code_for(kafka(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)) == exit_failed);
  CHECK(exit_code_for(kafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)) == exit_failed);
  CHECK(exit_code_for(std::make_error_code(std::errc::io_error)) == exit_failed);
  CHECK(kafka_category().message(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS).find("already exists") !=
        std::string::npos);
}

TEST_CASE("global options: defaults, values, and placement after the subcommand") {
  parsed_line d({"topic", "list"});
  REQUIRE(d.ok());
  CHECK(d.global.bootstrap == k_bootstrap_default);
  CHECK(d.global.timeout_ms == k_timeout_ms_default);
  CHECK_FALSE(d.global.timeout_ms_given);
  CHECK_FALSE(d.global.json);
  CHECK(d.global.properties.empty());

  parsed_line before({"-b", "h1:1,h2:2", "-X", "security.protocol=SSL", "-X", "ssl.ca.location=/ca.pem",
                      "--timeout-ms", "2500", "--json", "-v", "topic", "list"});
  REQUIRE(before.ok());
  CHECK(before.global.bootstrap == "h1:1,h2:2");
  CHECK(before.global.properties ==
        std::vector<property>{{"security.protocol", "SSL"}, {"ssl.ca.location", "/ca.pem"}});
  CHECK(before.global.timeout_ms == 2500);
  CHECK(before.global.timeout_ms_given);
  CHECK(before.global.json);
  CHECK(before.global.verbose);

  parsed_line after(
      {"topic", "describe", "orders", "--json", "-b", "h:9", "-X", "debug=admin", "--timeout-ms", "7"});
  REQUIRE(after.ok());
  CHECK(after.topic->describe.name == "orders");
  CHECK(after.global.json);
  CHECK(after.global.bootstrap == "h:9");
  CHECK(after.global.properties == std::vector<property>{{"debug", "admin"}});
  CHECK(after.global.timeout_ms == 7);

  parsed_line twice({"--timeout-ms", "5", "consume", "t", "--timeout-ms", "9"});  // the last one wins
  REQUIRE(twice.ok());
  CHECK(twice.global.timeout_ms == 9);
}

TEST_CASE("global options: usage errors") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"-X", "novalue", "topic", "list"},
           {"-X", "=v", "topic", "list"},
           {"--timeout-ms", "0", "topic", "list"},
           {"--timeout-ms", std::to_string(k_timeout_ms_max + 1), "topic", "list"},
           {"--timeout-ms", "soon", "topic", "list"},
           {"--no-such-flag", "topic", "list"},
           {},
           {"topic"},
           {"nosuch"},
       }) {
    CAPTURE(args);
    real_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_usage);
    const std::string e = l.err.str();
    CHECK(e.rfind("tributary: ", 0) == 0);
    CHECK(std::count(e.begin(), e.end(), '\n') == 1);  // one line
    CHECK_FALSE(l.chosen);
  }
}

TEST_CASE("--help everywhere, with the exit codes; --version") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--help"},
           {"-h"},
           {"topic", "--help"},
           {"topic", "create", "--help"},
           {"topic", "list", "-h"},
           {"topic", "describe", "--help"},
           {"topic", "delete", "--help"},
           {"produce", "--help"},
           {"consume", "--help"},
       }) {
    CAPTURE(args);
    real_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_ok);
    CHECK(l.out.str().find("Usage: tributary") != std::string::npos);
    CHECK(l.out.str().find("Exit codes:") != std::string::npos);
    CHECK(l.out.str().find("  3    the cluster did not answer") != std::string::npos);
    CHECK_FALSE(l.chosen);
  }
  real_line create({"topic", "create", "--help"});
  CHECK(create.out.str().find("--replication-factor") != std::string::npos);
  real_line version({"--version"});
  REQUIRE(version.stop.has_value());
  CHECK(*version.stop == exit_ok);
  CHECK(version.out.str().rfind("tributary ", 0) == 0);
}

TEST_CASE("topic create parses into its request") {
  parsed_line l({"topic", "create", "orders", "--partitions", "3", "-r", "2", "--config", "retention.ms=1000",
                 "-c", "cleanup.policy=compact"});
  REQUIRE(l.ok());
  const topic_create_request& r = l.topic->create;
  CHECK(r.name == "orders");
  CHECK(r.partitions == 3);
  CHECK(r.replication_factor == 2);
  CHECK(r.configs == std::vector<property>{{"retention.ms", "1000"}, {"cleanup.policy", "compact"}});

  parsed_line defaults({"topic", "create", "t"});
  REQUIRE(defaults.ok());
  CHECK(defaults.topic->create.partitions == -1);
  CHECK(defaults.topic->create.replication_factor == -1);
  CHECK(defaults.topic->create.configs.empty());

  parsed_line edge({"topic", "create", "t", "-p", std::to_string(k_partitions_max), "-r",
                    std::to_string(k_replication_factor_max)});
  CHECK(edge.ok());
}

TEST_CASE("topic create: usage errors") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"topic", "create"},
           {"topic", "create", "bad name"},
           {"topic", "create", ".."},
           {"topic", "create", "t", "-p", "0"},
           {"topic", "create", "t", "-p", "-2"},
           {"topic", "create", "t", "-p", std::to_string(k_partitions_max + 1)},
           {"topic", "create", "t", "-r", "0"},
           {"topic", "create", "t", "-r", std::to_string(k_replication_factor_max + 1)},
           {"topic", "create", "t", "--config", "retention.ms"},
           {"topic", "create", "t", "u"},
       }) {
    CAPTURE(args);
    parsed_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_usage);
  }
}

TEST_CASE("topic list, describe, delete") {
  parsed_line list({"topic", "list"});
  CHECK(list.ok());
  parsed_line describe({"topic", "describe", "orders"});
  REQUIRE(describe.ok());
  CHECK(describe.topic->describe.name == "orders");
  parsed_line remove({"topic", "delete", "a", "b"});
  REQUIRE(remove.ok());
  CHECK(remove.topic->remove.names == std::vector<std::string>{"a", "b"});
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"topic", "describe"}, {"topic", "delete"}, {"topic", "nosuch"}}) {
    CAPTURE(args);
    parsed_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_usage);
  }
}

TEST_CASE("produce parses into its request") {
  parsed_line l({"produce", "orders", "--key", "k1", "--partition", "2", "--header", "a=1", "-H",
                 "b=", "--acks", "all", "--idempotent", "--file", "in.txt", "-K", "\t"});
  REQUIRE(l.ok());
  const produce_request& r = *l.produce;
  CHECK(r.topic == "orders");
  CHECK(r.key == "k1");
  CHECK(r.partition == 2);
  CHECK(r.headers == std::vector<property>{{"a", "1"}, {"b", ""}});
  CHECK(r.acks == "all");
  CHECK(r.idempotent);
  CHECK(r.file == "in.txt");
  CHECK(r.key_separator == "\t");
  CHECK_FALSE(r.count);
  CHECK(producer_properties(r) == std::vector<property>{{"acks", "-1"}, {"enable.idempotence", "true"}});

  parsed_line gen({"produce", "t", "--count", "1000", "--size", "512", "--acks", "0"});
  REQUIRE(gen.ok());
  CHECK(gen.produce->count == 1000);
  CHECK(gen.produce->size == 512);
  CHECK(gen.produce->partition == -1);
  CHECK_FALSE(gen.produce->key);
  CHECK(producer_properties(*gen.produce) == std::vector<property>{{"acks", "0"}});

  parsed_line plain({"produce", "t"});
  REQUIRE(plain.ok());
  CHECK(producer_properties(*plain.produce).empty());  // librdkafka's defaults, or -X
}

TEST_CASE("produce: usage errors") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"produce"},
           {"produce", "t", "--idempotent", "--acks", "1"},
           {"produce", "t", "--idempotent", "--acks", "0"},
           {"produce", "t", "--acks", "2"},
           {"produce", "t", "--count", "3", "--file", "f"},
           {"produce", "t", "--count", "3", "-K", ":"},
           {"produce", "t", "--size", "10"},
           {"produce", "t", "--count", "0"},
           {"produce", "t", "--count", "3", "--size", std::to_string(k_record_bytes_max + 1)},
           {"produce", "t", "--partition", "-1"},
           {"produce", "t", "--header", "novalue"},
           {"produce", "t", "-K", ""},
       }) {
    CAPTURE(args);
    parsed_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_usage);
  }
}

TEST_CASE("check_produce_request: each rule") {
  produce_request r;
  r.topic = "t";
  CHECK(check_produce_request(r).empty());
  r.idempotent = true;
  CHECK(check_produce_request(r).empty());
  r.acks = "all";
  CHECK(check_produce_request(r).empty());
  r.acks = "1";
  CHECK(check_produce_request(r) == "--idempotent needs --acks all");
  r = {};
  r.count = 1;
  r.file = "f";
  CHECK(check_produce_request(r).find("excludes --file") != std::string::npos);
  r.file.reset();
  r.key_separator = ":";
  CHECK(check_produce_request(r).find("excludes --key-separator") != std::string::npos);
  r = {};
  r.size = 5;
  CHECK(check_produce_request(r) == "--size needs --count");
  r.count = k_generated_records_max;
  CHECK(check_produce_request(r).empty());
  r.count = k_generated_records_max + 1;
  CHECK_FALSE(check_produce_request(r).empty());
  r.count = 1;
  r.size = k_record_bytes_max + 1;
  CHECK_FALSE(check_produce_request(r).empty());
  r = {};
  r.headers.assign(k_headers_max, {"h", "v"});
  CHECK(check_produce_request(r).empty());
  r.headers.push_back({"h", "v"});
  CHECK(check_produce_request(r) == "at most 64 headers");
  r = {};
  r.key_separator = "";
  CHECK_FALSE(check_produce_request(r).empty());
  r = {};
  r.partition = -2;
  CHECK_FALSE(check_produce_request(r).empty());
}

TEST_CASE("consume parses into its request") {
  parsed_line l({"consume", "orders", "--partition", "1", "--offset", "end", "--count", "5", "--eof",
                 "--format", "%k\\t%v"});
  REQUIRE(l.ok());
  const consume_request& r = *l.consume;
  CHECK(r.topic == "orders");
  CHECK(r.partition == 1);
  CHECK(r.offset == start_offset{start_offset::kind::end, 0});
  CHECK(r.count == 5);
  CHECK(r.stop_at_end);
  CHECK(r.format == "%k\\t%v");
  REQUIRE(r.compiled.tokens.size() == 3);
  CHECK(r.compiled.tokens[1] == format_token{format_field::literal, "\t"});
  CHECK_FALSE(l.global.timeout_ms_given);

  parsed_line d({"consume", "t", "--timeout-ms", "1500"});
  REQUIRE(d.ok());
  CHECK(d.consume->partition == -1);
  CHECK(d.consume->offset == start_offset{start_offset::kind::beginning, 0});
  CHECK_FALSE(d.consume->count);
  CHECK_FALSE(d.consume->stop_at_end);
  CHECK(d.consume->format == k_format_default);
  CHECK(d.consume->compiled.tokens.size() == 1);
  CHECK(d.global.timeout_ms_given);  // consume: the idle limit
  CHECK(d.global.timeout_ms == 1500);

  parsed_line tail({"consume", "t", "-o", "-10"});
  REQUIRE(tail.ok());
  CHECK(tail.consume->offset == start_offset{start_offset::kind::from_end, 10});
}

TEST_CASE("consume: usage errors") {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"consume"},
           {"consume", "t", "--offset", "middle"},
           {"consume", "t", "--offset", "-0"},
           {"consume", "t", "--count", "0"},
           {"consume", "t", "--partition", "-1"},
           {"consume", "t", "--format", "%q"},
           {"consume", "t", "--format", "50%"},
       }) {
    CAPTURE(args);
    parsed_line l(args);
    REQUIRE(l.stop.has_value());
    CHECK(*l.stop == exit_usage);
  }
}

TEST_CASE("--offset syntax") {
  CHECK(*parse_offset("beginning") == start_offset{start_offset::kind::beginning, 0});
  CHECK(*parse_offset("end") == start_offset{start_offset::kind::end, 0});
  CHECK(*parse_offset("0") == start_offset{start_offset::kind::absolute, 0});
  CHECK(*parse_offset("42") == start_offset{start_offset::kind::absolute, 42});
  CHECK(*parse_offset("-3") == start_offset{start_offset::kind::from_end, 3});
  CHECK(parse_offset("").error() == errc::bad_offset);
  CHECK(parse_offset("-").error() == errc::bad_offset);
  CHECK(parse_offset("-0").error() == errc::bad_offset);
  CHECK(parse_offset("1x").error() == errc::bad_offset);
  CHECK(parse_offset("+1").error() == errc::bad_offset);
  CHECK(parse_offset("--1").error() == errc::bad_offset);
  CHECK(parse_offset("99999999999999999999").error() == errc::bad_offset);
  CHECK(parse_offset("Beginning").error() == errc::bad_offset);
}
