// The --format mini-language, the --json record line, UTF-8 checking and base64.
#include <string>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "cluster/cli/common.h"
#include "cluster/cli/format.h"

using namespace tributary::cluster::cli;

namespace {

record_view sample() {
  record_view r;
  r.topic = "orders";
  r.partition = 2;
  r.offset = 41;
  r.timestamp_ms = 1700000000123;
  r.timestamp_type = "create_time";
  r.key = "dev-7";
  r.value = "21.5";
  r.headers = {{"src", std::string_view("gw1")}, {"flag", std::nullopt}, {"empty", std::string_view("")}};
  return r;
}

std::string render(std::string_view format, const record_view& r) {
  auto f = parse_format(format);
  REQUIRE(f);
  std::string out;
  render_record(*f, r, out);
  return out;
}

}  // namespace

TEST_CASE("parse_format: tokens, literals merged, escapes") {
  auto f = parse_format("%k %v");
  REQUIRE(f);
  REQUIRE(f->tokens.size() == 3);
  CHECK(f->tokens[0] == format_token{format_field::key, ""});
  CHECK(f->tokens[1] == format_token{format_field::literal, " "});
  CHECK(f->tokens[2] == format_token{format_field::value, ""});

  f = parse_format("a\\tb%%c\\n\\\\\\r");
  REQUIRE(f);
  REQUIRE(f->tokens.size() == 1);
  CHECK(f->tokens[0].literal == "a\tb%c\n\\\r");

  f = parse_format("");
  REQUIRE(f);
  CHECK(f->tokens.empty());
}

TEST_CASE("parse_format: errors") {
  CHECK(parse_format("%").error() == errc::bad_format);
  CHECK(parse_format("abc%").error() == errc::bad_format);
  CHECK(parse_format("%x").error() == errc::bad_format);
  CHECK(parse_format("%s").error() == errc::bad_format);
  CHECK(parse_format("\\").error() == errc::bad_format);
  CHECK(parse_format("\\q").error() == errc::bad_format);
  CHECK(parse_format(std::string(k_format_bytes_max, 'a')));
  CHECK(parse_format(std::string(k_format_bytes_max + 1, 'a')).error() == errc::bad_format);
}

TEST_CASE("render_record: every directive, a newline after each record") {
  const record_view r = sample();
  CHECK(render("%t %p %o %T", r) == "orders 2 41 1700000000123\n");
  CHECK(render("%k=%v", r) == "dev-7=21.5\n");
  CHECK(render("%K %V", r) == "5 4\n");
  CHECK(render("%h", r) == "src=gw1,flag,empty=\n");
  CHECK(render("%%%v%%", r) == "%21.5%\n");
  CHECK(render("%v\\t%k", r) == "21.5\tdev-7\n");
  CHECK(render(k_format_default, r) == "21.5\n");
  CHECK(render("", r) == "\n");
}

TEST_CASE("render_record: null key and value, no timestamp, no headers") {
  record_view r = sample();
  r.key.reset();
  r.value.reset();
  r.timestamp_ms.reset();
  r.headers.clear();
  CHECK(render("[%k][%v] %K %V %T [%h]", r) == "[][] -1 -1 -1 []\n");
  r.key = "";
  r.value = "";
  CHECK(render("[%k][%v] %K %V", r) == "[][] 0 0\n");
}

TEST_CASE("render_record appends") {
  auto f = parse_format("%o");
  REQUIRE(f);
  std::string out = "x";
  render_record(*f, sample(), out);
  render_record(*f, sample(), out);
  CHECK(out == "x41\n41\n");
}

TEST_CASE("record_json: one line, every field") {
  const std::string line = record_json(sample());
  CHECK(line.find('\n') == std::string::npos);
  const auto j = nlohmann::json::parse(line);
  CHECK(j["topic"] == "orders");
  CHECK(j["partition"] == 2);
  CHECK(j["offset"] == 41);
  CHECK(j["timestamp"] == 1700000000123);
  CHECK(j["timestamp_type"] == "create_time");
  CHECK(j["key"] == "dev-7");
  CHECK(j["value"] == "21.5");
  REQUIRE(j["headers"].size() == 3);
  CHECK(j["headers"][0]["key"] == "src");
  CHECK(j["headers"][0]["value"] == "gw1");
  CHECK(j["headers"][1]["value"].is_null());
  CHECK(j["headers"][2]["value"] == "");
}

TEST_CASE("record_json: nulls, and base64 for bytes that are not UTF-8") {
  record_view r = sample();
  r.key.reset();
  r.timestamp_ms.reset();
  r.timestamp_type = "";
  const std::string binary("\xff\x00\x01", 3);
  r.value = binary;
  r.headers = {{"h", std::string_view(binary)}};
  const auto j = nlohmann::json::parse(record_json(r));
  CHECK(j["key"].is_null());
  CHECK(j["timestamp"].is_null());
  CHECK_FALSE(j.contains("value"));
  CHECK(j["value_base64"] == "/wAB");
  CHECK(j["headers"][0]["key"] == "h");
  CHECK(j["headers"][0]["value_base64"] == "/wAB");
  r.value = "h\xc3\xa9llo \xe2\x82\xac";  // UTF-8 stays text
  const auto k = nlohmann::json::parse(record_json(r));
  CHECK(k["value"] == "h\xc3\xa9llo \xe2\x82\xac");
}

TEST_CASE("is_valid_utf8") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("ascii"));
  CHECK(is_valid_utf8("\xc3\xa9"));
  CHECK(is_valid_utf8("\xe2\x82\xac"));
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));
  CHECK(is_valid_utf8(std::string("a\0b", 3)));
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
  CHECK_FALSE(is_valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  CHECK_FALSE(is_valid_utf8("\xc3\x28"));          // bad continuation
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST_CASE("base64_encode: RFC 4648 test vectors") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode("foob") == "Zm9vYg==");
  CHECK(base64_encode("fooba") == "Zm9vYmE=");
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode(std::string("\xfb\xff", 2)) == "+/8=");
}
