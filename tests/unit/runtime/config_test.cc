#include "common/config.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "death.h"

using namespace tributary;
using config::errc;
using config::json;

namespace {

enum class codec { none, lz4, zstd };

// A config shaped like a daemon's: nested sections and every kind of key.
struct test_config {
  struct {
    std::string listen = "127.0.0.1:9644";
    bool enabled = true;
  } http;
  struct {
    std::string data_dir = "/var/lib/tributary";
    uint64_t segment_bytes = uint64_t{1} << 30;
    int64_t retention_ms = 7 * 24 * 3600 * 1000LL;
    codec compression = codec::none;
    struct {
      uint16_t interval_ms = 100;
    } flush;
  } storage;
  uint32_t workers = 4;
  int8_t nice = -3;
  double ratio = 0.5;
  double scale = 2.0;
  std::vector<std::string> peers = {"a:1", "b:2"};
};

void declare(config::schema& s, test_config& c) {
  s.add("http.listen", c.http.listen, "Address of the HTTP listener.");
  s.add("http.enabled", c.http.enabled, "Serve /metrics and /health.");
  s.add("storage.data_dir", c.storage.data_dir, "Directory of the partition logs.");
  s.add("storage.segment_bytes", c.storage.segment_bytes, "Roll a segment at this size.",
        {.min = 1 << 20, .max = uint64_t{1} << 32});
  s.add("storage.retention_ms", c.storage.retention_ms, "Delete segments older than this; -1 keeps all.",
        {.min = -1});
  s.add_enum("storage.compression", c.storage.compression,
             {{"none", codec::none}, {"lz4", codec::lz4}, {"zstd", codec::zstd}}, "Codec of new segments.");
  s.add("storage.flush.interval_ms", c.storage.flush.interval_ms, "Flush period.");
  s.add("workers", c.workers, "Worker threads.", {.min = 1, .max = 64});
  s.add("nice", c.nice, "Scheduling priority.");
  s.add("ratio", c.ratio, "A fraction | with a pipe.", {.min = 0, .max = 1});
  s.add("scale", c.scale, "Any finite number.");
  s.add("peers", c.peers, "Other nodes.");
}

struct fixture {
  test_config c;
  config::schema s;
  fixture() { declare(s, c); }
  config::config_result<> load(std::string_view text) { return s.load_string(text, "broker.json"); }
};

// The message of a failed result; fails the test if the result succeeded.
std::string error_of(const config::config_result<>& r) {
  REQUIRE_FALSE(r.has_value());
  return r.error().message;
}

std::filesystem::path temp_file(std::string_view name, std::string_view contents) {
  auto dir = std::filesystem::temp_directory_path() / ("trib_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto p = dir / name;
  std::ofstream(p, std::ios::binary) << contents;
  return p;
}

}  // namespace

TEST_CASE("config: the struct's initial values are the defaults") {
  fixture f;
  REQUIRE(f.load("{}"));
  CHECK(f.c.http.listen == "127.0.0.1:9644");
  CHECK(f.c.storage.segment_bytes == uint64_t{1} << 30);
  CHECK(f.c.storage.compression == codec::none);
  CHECK(f.s.effective_json() == json::parse(R"({
    "http": {"listen": "127.0.0.1:9644", "enabled": true},
    "storage": {"data_dir": "/var/lib/tributary", "segment_bytes": 1073741824, "retention_ms": 604800000,
                "compression": "none", "flush": {"interval_ms": 100}},
    "workers": 4, "nice": -3, "ratio": 0.5, "scale": 2.0, "peers": ["a:1", "b:2"]})"));
  // Declaration order is kept.
  CHECK(f.s.effective_json().dump().starts_with(
      R"({"http":{"listen":"127.0.0.1:9644","enabled":true},"storage")"));
  CHECK(f.s.paths() == std::vector<std::string>{"http.listen", "http.enabled", "storage.data_dir",
                                                "storage.segment_bytes", "storage.retention_ms",
                                                "storage.compression", "storage.flush.interval_ms", "workers",
                                                "nice", "ratio", "scale", "peers"});
}

TEST_CASE("config: a file sets nested keys of every type; absent keys keep their value") {
  fixture f;
  auto r = f.load(R"({
    // comments are allowed
    "http": {"enabled": false},
    "storage": {"segment_bytes": 1048576, "retention_ms": -1, "compression": "zstd",
                "flush": {"interval_ms": 65535}},
    /* block comment */
    "workers": 64, "nice": -128, "ratio": 1, "scale": -2.5e3, "peers": []
  })");
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(f.c.http.listen == "127.0.0.1:9644");
  CHECK_FALSE(f.c.http.enabled);
  CHECK(f.c.storage.segment_bytes == 1048576);
  CHECK(f.c.storage.retention_ms == -1);
  CHECK(f.c.storage.compression == codec::zstd);
  CHECK(f.c.storage.flush.interval_ms == 65535);
  CHECK(f.c.workers == 64);
  CHECK(f.c.nice == -128);
  CHECK(f.c.ratio == 1.0);
  CHECK(f.c.scale == -2500.0);
  CHECK(f.c.peers.empty());
}

TEST_CASE("config: unknown keys name the file and the full path, with a suggestion when close") {
  fixture f;
  auto r = f.load(R"({"storge": {}})");
  CHECK(error_of(r) == R"(broker.json: unknown key "storge" (did you mean "storage"?))");
  CHECK(r.error().code == errc::unknown_key);

  CHECK(error_of(f.load(R"({"storage": {"segmnt_bytes": 1}})")) ==
        R"(broker.json: unknown key "storage.segmnt_bytes" (did you mean "storage.segment_bytes"?))");
  CHECK(error_of(f.load(R"({"storage": {"flush": {"intervl_ms": 1}}})")) ==
        R"(broker.json: unknown key "storage.flush.intervl_ms" (did you mean "storage.flush.interval_ms"?))");
  // A key in the wrong section: suggested by its last segment.
  CHECK(error_of(f.load(R"({"segment_bytes": 1})")) ==
        R"(broker.json: unknown key "segment_bytes" (did you mean "storage.segment_bytes"?))");
  // Nothing close: no suggestion.
  CHECK(error_of(f.load(R"({"zzzzzzzz": 1})")) == R"(broker.json: unknown key "zzzzzzzz")");
  // Dotted keys are not a shorthand for nesting.
  auto dotted = f.load(R"({"storage.segment_bytes": 1048576})");
  CHECK(dotted.error().code == errc::unknown_key);
  CHECK(error_of(f.load(R"({"": 1})")) == R"(broker.json: unknown key "")");
  // Keys are escaped and cut in messages; long keys get no suggestion.
  std::string long_key(300, 'k');
  std::string m = error_of(f.load(R"({"storage": {")" + long_key + R"(": 1}})"));
  CHECK(m == R"(broker.json: unknown key "storage.)" + std::string(72, 'k') + R"(...")");
  CHECK(error_of(f.load("{\"a\\\"b\\n\": 1}")) == R"(broker.json: unknown key "a\"b\n")");
}

TEST_CASE("config: wrong types name the key, the expected type and what was found") {
  fixture f;
  auto check = [&](std::string_view text, std::string_view expected) {
    auto r = f.load(text);
    CHECK(error_of(r) == expected);
    CHECK(r.error().code == errc::wrong_type);
  };
  check(R"({"storage": {"segment_bytes": "big"}})",
        R"(broker.json: key "storage.segment_bytes": expected an integer, got string "big")");
  check(R"({"workers": 1.5})", R"(broker.json: key "workers": expected an integer, got number 1.5)");
  check(R"({"workers": 1e20})", R"(broker.json: key "workers": expected an integer, got number 1e+20)");
  check(R"({"workers": null})", R"(broker.json: key "workers": expected an integer, got null)");
  check(R"({"http": {"enabled": "yes"}})",
        R"(broker.json: key "http.enabled": expected a boolean, got string "yes")");
  check(R"({"http": {"enabled": 1}})",
        R"(broker.json: key "http.enabled": expected a boolean, got number 1)");
  check(R"({"http": {"listen": 9644}})",
        R"(broker.json: key "http.listen": expected a string, got number 9644)");
  check(R"({"http": {"listen": {}}})", R"(broker.json: key "http.listen": expected a string, got an object)");
  check(R"({"ratio": "half"})", R"(broker.json: key "ratio": expected a number, got string "half")");
  check(R"({"ratio": false})", R"(broker.json: key "ratio": expected a number, got boolean false)");
  check(R"({"peers": "a:1"})", R"(broker.json: key "peers": expected an array of strings, got string "a:1")");
  check(R"({"peers": ["a", 5]})", R"(broker.json: key "peers": element 1: expected a string, got number 5)");
  check(R"({"storage": {"compression": 3}})",
        R"(broker.json: key "storage.compression": expected one of "none", "lz4", "zstd", got number 3)");
  check(R"({"storage": 5})", R"(broker.json: key "storage": expected an object, got number 5)");
  check(R"({"storage": {"flush": [true]}})",
        R"(broker.json: key "storage.flush": expected an object, got an array)");
  check(R"([1, 2])", R"(broker.json: expected an object at the top level, got an array)");
  check(R"("text")", R"(broker.json: expected an object at the top level, got string "text")");
}

TEST_CASE("config: out-of-range numbers name the key and the allowed range") {
  fixture f;
  auto check = [&](std::string_view text, std::string_view expected) {
    auto r = f.load(text);
    CHECK(error_of(r) == expected);
    CHECK(r.error().code == errc::out_of_range);
  };
  check(R"({"workers": 0})", R"(broker.json: key "workers": 0 is out of range [1, 64])");
  check(R"({"workers": 65})", R"(broker.json: key "workers": 65 is out of range [1, 64])");
  check(R"({"workers": -1})", R"(broker.json: key "workers": -1 is out of range [1, 64])");
  check(R"({"storage": {"flush": {"interval_ms": 65536}}})",
        R"(broker.json: key "storage.flush.interval_ms": 65536 is out of range [0, 65535])");
  check(R"({"nice": -129})", R"(broker.json: key "nice": -129 is out of range [-128, 127])");
  check(R"({"storage": {"retention_ms": -2}})",
        R"(broker.json: key "storage.retention_ms": -2 is out of range [-1, 9223372036854775807])");
  check(
      R"({"storage": {"retention_ms": 9223372036854775808}})",
      R"(broker.json: key "storage.retention_ms": 9223372036854775808 is out of range [-1, 9223372036854775807])");
  check(R"({"storage": {"segment_bytes": 1048575}})",
        R"(broker.json: key "storage.segment_bytes": 1048575 is out of range [1048576, 4294967296])");
  check(R"({"ratio": 1.5})", R"(broker.json: key "ratio": 1.5 is out of range [0, 1])");
  check(R"({"ratio": -1})", R"(broker.json: key "ratio": -1 is out of range [0, 1])");
  // The edges themselves are accepted.
  CHECK(f.load(R"({"workers": 1, "nice": 127, "storage": {"segment_bytes": 4294967296}, "ratio": 0})"));
}

TEST_CASE("config: an enum value outside its names lists the allowed names") {
  fixture f;
  auto r = f.load(R"({"storage": {"compression": "lz5"}})");
  CHECK(error_of(r) ==
        R"(broker.json: key "storage.compression": "lz5" is not one of "none", "lz4", "zstd")");
  CHECK(r.error().code == errc::bad_value);
}

TEST_CASE("config: invalid JSON reports line and column") {
  fixture f;
  auto r = f.load("{\n  \"http\": {\n    \"listen\": x\n  }\n}");
  CHECK(r.error().code == errc::invalid_json);
  CHECK(error_of(r).starts_with(
      "broker.json:3:15: invalid JSON: syntax error while parsing value - invalid literal"));

  CHECK(error_of(f.load("{\"workers\": 1,\n\"nice\": }")).starts_with("broker.json:2:9: invalid JSON: "));
  CHECK(error_of(f.load("")).starts_with("broker.json:1:1: invalid JSON: "));
  CHECK(error_of(f.load("{} x")).starts_with("broker.json:1:4: invalid JSON: "));
  // A number too large for a double has no position from the parser.
  auto big = f.load(R"({"ratio": 1e999})");
  CHECK(big.error().code == errc::invalid_json);
  CHECK(error_of(big) == "broker.json: invalid JSON: number overflow parsing '1e999'");
  // Invalid UTF-8 inside a string.
  CHECK(f.load("{\"http\": {\"listen\": \"\xff\"}}").error().code == errc::invalid_json);
}

TEST_CASE("config: duplicate keys are refused") {
  fixture f;
  auto r = f.load(R"({"http": {"listen": "a", "listen": "b"}})");
  CHECK(error_of(r) == R"(broker.json: duplicate key "http.listen")");
  CHECK(r.error().code == errc::duplicate_key);
  CHECK(error_of(f.load(R"({"workers": 1, "workers": 2})")) == R"(broker.json: duplicate key "workers")");
  // The same key in different objects is fine.
  CHECK(f.load(R"({"http": {"enabled": true}, "storage": {"flush": {"interval_ms": 1}}})"));
}

TEST_CASE("config: nesting and size limits") {
  fixture f;
  auto nested = [](size_t depth) {  // an object holding arrays: `depth` levels in all
    return R"({"peers": )" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
  };
  // At the limit the parser accepts the text (and the schema then rejects it).
  CHECK(f.load(nested(config::nesting_depth_max)).error().code == errc::wrong_type);
  auto deep = f.load(nested(config::nesting_depth_max + 1));
  CHECK(deep.error().code == errc::too_deep);
  CHECK(error_of(deep) == R"(broker.json: nested deeper than 32 levels at key "peers")");

  std::string at_limit = "{}" + std::string(config::text_bytes_max - 2, ' ');
  CHECK(f.load(at_limit));
  auto big = f.load(at_limit + " ");
  CHECK(big.error().code == errc::too_large);
  CHECK(error_of(big) == "broker.json: larger than the limit of 1048576 bytes");
}

TEST_CASE("config: a failed load changes nothing") {
  fixture f;
  auto before = f.s.effective_json();
  CHECK_FALSE(
      f.load(R"({"http": {"listen": "0.0.0.0:1"}, "workers": 8, "storage": {"segment_bytes": "big"}})"));
  CHECK(f.s.effective_json() == before);
  CHECK(f.c.http.listen == "127.0.0.1:9644");
  CHECK_FALSE(f.load(R"({"workers": 8, "nope": 1})"));
  CHECK(f.c.workers == 4);
}

TEST_CASE("config: load_file") {
  fixture f;
  auto good = temp_file("good.json", R"({"workers": 9})");
  REQUIRE(f.s.load_file(good.string()));
  CHECK(f.c.workers == 9);

  // Errors name the path as given.
  auto bad = temp_file("bad.json", R"({"workers": "nine"})");
  CHECK(error_of(f.s.load_file(bad.string())) ==
        bad.string() + R"(: key "workers": expected an integer, got string "nine")");

  auto missing = f.s.load_file("/nonexistent/broker.json");
  CHECK(missing.error().code == errc::file_not_found);
  CHECK(error_of(missing) == "/nonexistent/broker.json: cannot open: No such file or directory");

  auto not_dir = f.s.load_file(good.string() + "/x");
  CHECK(not_dir.error().code == errc::read_failed);
  CHECK(error_of(not_dir) == good.string() + "/x: cannot open: Not a directory");

  auto dir = good.parent_path();
  auto is_dir = f.s.load_file(dir.string());
  CHECK(is_dir.error().code == errc::read_failed);
  CHECK(error_of(is_dir) == dir.string() + ": cannot read: Is a directory");

  auto huge = temp_file("huge.json", "{}" + std::string(config::text_bytes_max, ' '));
  auto too_large = f.s.load_file(huge.string());
  CHECK(too_large.error().code == errc::too_large);
  CHECK(error_of(too_large) == huge.string() + ": larger than the limit of 1048576 bytes");

  auto edge = temp_file("edge.json", R"({"workers": 10})" + std::string(config::text_bytes_max - 15, '\n'));
  CHECK(f.s.load_file(edge.string()));
  CHECK(f.c.workers == 10);

  std::filesystem::remove_all(dir);
}

TEST_CASE("config: set() parses text by the key's type") {
  fixture f;
  CHECK(f.s.set("http.listen", "0.0.0.0:9", "--http"));
  CHECK(f.s.set("http.enabled", "false"));
  CHECK(f.s.set("storage.segment_bytes", "2097152"));
  CHECK(f.s.set("storage.retention_ms", "-1"));
  CHECK(f.s.set("storage.compression", "lz4"));
  CHECK(f.s.set("nice", "-128"));
  CHECK(f.s.set("ratio", "0.25"));
  CHECK(f.s.set("scale", "-1e3"));
  CHECK(f.s.set("peers", "x:1,y:2,,z"));
  CHECK(f.c.http.listen == "0.0.0.0:9");
  CHECK_FALSE(f.c.http.enabled);
  CHECK(f.c.storage.segment_bytes == 2097152);
  CHECK(f.c.storage.retention_ms == -1);
  CHECK(f.c.storage.compression == codec::lz4);
  CHECK(f.c.nice == -128);
  CHECK(f.c.ratio == 0.25);
  CHECK(f.c.scale == -1000.0);
  CHECK(f.c.peers == std::vector<std::string>{"x:1", "y:2", "", "z"});
  CHECK(f.s.set("peers", ""));
  CHECK(f.c.peers.empty());
  CHECK(f.s.set("http.enabled", "true"));
  CHECK(f.c.http.enabled);
  CHECK(f.s.set("http.listen", ""));
  CHECK(f.c.http.listen.empty());
}

TEST_CASE("config: set() errors are as precise as the file's") {
  fixture f;
  auto check = [&](std::string_view path, std::string_view value, errc code, std::string_view expected) {
    auto r = f.s.set(path, value, "--set");
    CHECK(error_of(r) == expected);
    CHECK(r.error().code == code);
  };
  check("storage.segmnt_bytes", "1", errc::unknown_key,
        R"(--set: unknown key "storage.segmnt_bytes" (did you mean "storage.segment_bytes"?))");
  check("storage", "1", errc::unknown_key, R"(--set: unknown key "storage")");
  check("http.enabled", "yes", errc::wrong_type,
        R"(--set: key "http.enabled": expected true or false, got "yes")");
  check("workers", "big", errc::wrong_type, R"(--set: key "workers": expected an integer, got "big")");
  check("workers", "12x", errc::wrong_type, R"(--set: key "workers": expected an integer, got "12x")");
  check("workers", "", errc::wrong_type, R"(--set: key "workers": expected an integer, got "")");
  check("workers", "-", errc::wrong_type, R"(--set: key "workers": expected an integer, got "-")");
  check("workers", " 4", errc::wrong_type, R"(--set: key "workers": expected an integer, got " 4")");
  check("workers", "+4", errc::wrong_type, R"(--set: key "workers": expected an integer, got "+4")");
  check("workers", "4.0", errc::wrong_type, R"(--set: key "workers": expected an integer, got "4.0")");
  check("workers", "0", errc::out_of_range, R"(--set: key "workers": 0 is out of range [1, 64])");
  check("workers", "-1", errc::out_of_range, R"(--set: key "workers": -1 is out of range [1, 64])");
  check("workers", "99999999999999999999", errc::out_of_range,
        R"(--set: key "workers": 99999999999999999999 is out of range [1, 64])");
  check(
      "storage.retention_ms", "-99999999999999999999", errc::out_of_range,
      R"(--set: key "storage.retention_ms": -99999999999999999999 is out of range [-1, 9223372036854775807])");
  check("ratio", "abc", errc::wrong_type, R"(--set: key "ratio": expected a number, got "abc")");
  check("ratio", "", errc::wrong_type, R"(--set: key "ratio": expected a number, got "")");
  check("ratio", "0.5x", errc::wrong_type, R"(--set: key "ratio": expected a number, got "0.5x")");
  check("scale", "nan", errc::wrong_type, R"(--set: key "scale": expected a number, got "nan")");
  check("scale", "inf", errc::wrong_type, R"(--set: key "scale": expected a number, got "inf")");
  check("scale", "1e999", errc::out_of_range,
        R"(--set: key "scale": 1e999 is out of range [-1.7976931348623157e+308, 1.7976931348623157e+308])");
  check("ratio", "2", errc::out_of_range, R"(--set: key "ratio": 2 is out of range [0, 1])");
  check("storage.compression", "lz5", errc::bad_value,
        R"(--set: key "storage.compression": "lz5" is not one of "none", "lz4", "zstd")");
  check("http.listen", "\xff\xfe", errc::bad_value, R"(--set: key "http.listen": value is not valid UTF-8)");
  // The default origin, and nothing changed by the failures.
  CHECK(error_of(f.s.set("workers", "x")).starts_with("command line: key \"workers\""));
  CHECK(f.c.workers == 4);
  CHECK(f.c.ratio == 0.5);
  CHECK(f.c.storage.compression == codec::none);
}

TEST_CASE("config: set_assignment() takes key=value") {
  fixture f;
  CHECK(f.s.set_assignment("http.listen=a=b"));
  CHECK(f.c.http.listen == "a=b");
  CHECK(f.s.set_assignment("storage.data_dir="));
  CHECK(f.c.storage.data_dir.empty());
  auto no_eq = f.s.set_assignment("workers");
  CHECK(error_of(no_eq) == R"(--set: expected key=value, got "workers")");
  CHECK(no_eq.error().code == errc::bad_value);
  CHECK(error_of(f.s.set_assignment("=4")) == R"(--set: expected key=value, got "=4")");
  CHECK(error_of(f.s.set_assignment("workers=0")) == R"(--set: key "workers": 0 is out of range [1, 64])");
}

TEST_CASE("config: effective_json round-trips through load") {
  fixture f;
  REQUIRE(f.load(R"({"http": {"listen": "[::1]:1", "enabled": false},
                     "storage": {"data_dir": "d \"q\" \\ é", "segment_bytes": 4294967296,
                                 "retention_ms": -1, "compression": "lz4", "flush": {"interval_ms": 0}},
                     "workers": 64, "nice": -128, "ratio": 0.1, "scale": 1e300, "peers": ["", "x,y"]})"));
  REQUIRE(f.s.set("scale", "0.30000000000000004"));
  std::string printed = f.s.effective_json().dump(2);

  fixture g;
  auto r = g.load(printed);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(g.s.effective_json() == f.s.effective_json());
  CHECK(g.s.effective_json().dump(2) == printed);
  CHECK(g.c.storage.data_dir == "d \"q\" \\ é");
  CHECK(g.c.scale == 0.30000000000000004);
  CHECK(g.c.ratio == 0.1);
  CHECK(g.c.peers == std::vector<std::string>{"", "x,y"});

  // The defaults round-trip too.
  fixture d;
  fixture e;
  REQUIRE(e.load(d.s.effective_json().dump()));
  CHECK(e.s.effective_json() == d.s.effective_json());
}

TEST_CASE("config: describe() lists every key with type, default and description") {
  fixture f;
  REQUIRE(f.load(R"({"workers": 7})"));  // describe shows defaults, not current values
  std::string d = f.s.describe();
  CHECK(d.starts_with("| key | type | default | description |\n|---|---|---|---|\n"));
  for (const auto& p : f.s.paths()) CHECK_MESSAGE(d.find("| `" + p + "` |") != std::string::npos, p);
  CHECK(std::count(d.begin(), d.end(), '\n') == 2 + static_cast<ptrdiff_t>(f.s.paths().size()));
  CHECK(d.find("| `workers` | uint32 in [1, 64] | `4` | Worker threads. |\n") != std::string::npos);
  CHECK(d.find("| `nice` | int8 | `-3` | Scheduling priority. |\n") != std::string::npos);
  CHECK(d.find("| `http.listen` | string | `\"127.0.0.1:9644\"` | Address of the HTTP listener. |\n") !=
        std::string::npos);
  CHECK(d.find("| `http.enabled` | bool | `true` |") != std::string::npos);
  CHECK(d.find("| `storage.compression` | one of: none, lz4, zstd | `\"none\"` |") != std::string::npos);
  CHECK(d.find("| `peers` | list of strings | `[\"a:1\",\"b:2\"]` | Other nodes. |\n") != std::string::npos);
  CHECK(d.find("| `ratio` | double in [0, 1] | `0.5` | A fraction \\| with a pipe. |\n") !=
        std::string::npos);
  CHECK(d.find("| `scale` | double | `2.0` |") != std::string::npos);
}

TEST_CASE("config: errc is a std::error_code category") {
  std::error_code ec = errc::unknown_key;
  CHECK(std::string(ec.category().name()) == "config");
  CHECK(ec.message() == "unknown config key");
  for (int i = 1; i <= static_cast<int>(errc::bad_value); ++i) {
    CHECK(std::error_code(static_cast<errc>(i)).message() != "unknown config error");
  }
}

TEST_CASE("config: declaring a bad schema is a programming error") {
  using test::dies;
  CHECK(dies([] {
    config::schema s;
    int a = 0, b = 0;
    s.add("x", a, "");
    s.add("x", b, "");
  }));
  CHECK(dies([] {  // a key that is also a section, in either order
    config::schema s;
    int a = 0, b = 0;
    s.add("http", a, "");
    s.add("http.listen", b, "");
  }));
  CHECK(dies([] {
    config::schema s;
    int a = 0, b = 0;
    s.add("http.listen", a, "");
    s.add("http", b, "");
  }));
  for (const char* bad : {"", ".x", "x.", "a..b", "Upper", "has-dash", "sp ace"}) {
    CHECK_MESSAGE(dies([bad] {
                    config::schema s;
                    bool v = false;
                    s.add(bad, v, "");
                  }),
                  bad);
  }
  CHECK(dies([] {  // default outside its own range
    config::schema s;
    int v = 0;
    s.add("v", v, "", {.min = 1});
  }));
  CHECK(dies([] {
    config::schema s;
    double v = 2;
    s.add("v", v, "", {.min = 0, .max = 1});
  }));
  CHECK(dies([] {  // enum default without a name
    config::schema s;
    codec v = codec::zstd;
    s.add_enum("v", v, {{"none", codec::none}}, "");
  }));
  CHECK(dies([] {  // enum names must be unique
    config::schema s;
    codec v = codec::none;
    s.add_enum("v", v, {{"none", codec::none}, {"none", codec::lz4}}, "");
  }));
  CHECK(dies([] {  // an enum member later set to a value without a name cannot be printed
    config::schema s;
    codec v = codec::none;
    s.add_enum("v", v, {{"none", codec::none}}, "");
    v = codec::lz4;
    (void)s.effective_json();
  }));
  // And the helper itself can tell a clean exit from an abort.
  CHECK_FALSE(dies([] {
    config::schema s;
    int v = 0;
    s.add("v", v, "");
  }));
}

TEST_CASE("changed_keys names every differing leaf by its dotted path; arrays compare whole") {
  const json before = json::parse(R"({"log": {"level": "info"}, "http": {"listen": "0.0.0.0:1"},
      "routes": {"rules": [{"filter": "a/+x", "topic": "t"}], "unmatched": "refuse"}, "gone": 1})");
  json after = before;
  CHECK(config::changed_keys(before, after).empty());
  after["log"]["level"] = "debug";
  after["routes"]["rules"][0]["topic"] = "u";
  after["http"]["listen"] = "0.0.0.0:2";
  after.erase("gone");
  after["new"] = {{"x", 1}};
  CHECK(config::changed_keys(before, after) ==
        std::vector<std::string>{"log.level", "http.listen", "routes.rules", "new", "gone"});
  // A section replaced by a scalar (or the reverse) is one change at the section's path.
  json flat = before;
  flat["log"] = "info";
  CHECK(config::changed_keys(before, flat) == std::vector<std::string>{"log"});
  // The same values in another key order are no change.
  const json reordered = json::parse(R"({"gone": 1, "routes": {"unmatched": "refuse",
      "rules": [{"filter": "a/+x", "topic": "t"}]}, "http": {"listen": "0.0.0.0:1"}, "log": {"level": "info"}})");
  CHECK(config::changed_keys(before, reordered).empty());
}
