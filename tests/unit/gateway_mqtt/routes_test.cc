// The route table (gateway/routes/route_table.h): named wildcards, templates, order, policies.
#include <doctest/doctest.h>

#include "gateway/routes/route_table.h"

using namespace tributary::gateway::routes;

namespace {

route_table build(std::vector<route_spec> rs, unmatched_policy p = unmatched_policy::refuse,
                  std::string def = "") {
  table_spec spec;
  spec.routes = std::move(rs);
  spec.unmatched = p;
  spec.default_topic = std::move(def);
  auto t = route_table::build(spec);
  REQUIRE_MESSAGE(t, (t ? "" : t.error().message));
  return std::move(*t);
}

std::string build_error_of(std::vector<route_spec> rs, unmatched_policy p = unmatched_policy::refuse,
                           std::string def = "") {
  table_spec spec;
  spec.routes = std::move(rs);
  spec.unmatched = p;
  spec.default_topic = std::move(def);
  auto t = route_table::build(spec);
  REQUIRE(!t);
  return (t.error().route ? std::to_string(*t.error().route) : "-") + " " + t.error().field + ": " +
         t.error().message;
}

}  // namespace

TEST_CASE("the issue's example: named single-level wildcards") {
  auto t = build({{"sensors/+device/+kind", "telemetry.{kind}", "{device}", 0, 0}});
  auto m = t.match("sensors/dev-7/temp");
  REQUIRE(m);
  CHECK(m->topic == "telemetry.temp");
  CHECK(m->key == "dev-7");
  CHECK(m->route == 0u);
  CHECK(!t.match("sensors/dev-7"));
  CHECK(!t.match("sensors/dev-7/temp/extra"));
  CHECK(t.match("sensors/dev-7/temp").value().priority == 0);
}

TEST_CASE("#name captures the rest, and matches the parent level with an empty capture") {
  auto t = build({{"alarms/+device/#rest", "alarms", "{device}:{rest}", 9, 5000}});
  auto m = t.match("alarms/d1/smoke/kitchen");
  REQUIRE(m);
  CHECK(m->key == "d1:smoke/kitchen");
  CHECK(m->priority == 9);
  CHECK(m->ttl_ms == 5000u);
  auto parent = t.match("alarms/d1");
  REQUIRE(parent);
  CHECK(parent->key == "d1:");
}

TEST_CASE("anonymous wildcards, empty levels, first match wins") {
  auto t = build({{"a/+/c", "first", "", 0, 0}, {"a/#", "second", "", 0, 0}, {"+/x/#", "third", "", 0, 0}});
  CHECK(t.match("a/b/c")->topic == "first");
  CHECK(!t.match("a/b/c")->key);  // empty key template: null key
  CHECK(t.match("a//c")->topic == "first");
  CHECK(t.match("a/b/d")->topic == "second");
  CHECK(t.match("q/x")->topic == "third");
  CHECK(!t.match("q/y"));
}

TEST_CASE("topics starting with $ do not match a leading wildcard") {
  auto t = build({{"+/status", "s", "", 0, 0}, {"$sys/+name", "sys.{name}", "", 0, 0}});
  CHECK(!t.match("$other/status"));
  CHECK(t.match("$sys/status")->topic == "sys.status");
  CHECK(t.match("$sys/load")->topic == "sys.load");
  CHECK(t.match("x/status")->topic == "s");
}

TEST_CASE("template escapes and literal text") {
  auto t = build({{"d/+id", "plain", "{{{id}}}", 0, 0}});
  CHECK(t.match("d/7")->key == "{7}");
}

TEST_CASE("an expansion that is not a valid topic name fails the match") {
  auto t = build({{"s/+kind", "t.{kind}", "", 0, 0}});
  CHECK(t.match("s/ok_kind-1.x")->topic == "t.ok_kind-1.x");
  CHECK(t.match("s/bad kind").error() == match_error::bad_target_topic);
  CHECK(t.match("s/é").error() == match_error::bad_target_topic);
  auto t2 = build({{"s/+kind", "{kind}", "", 0, 0}});
  CHECK(t2.match("s/").error() == match_error::bad_target_topic);  // empty
  CHECK(t2.match("s/..").error() == match_error::bad_target_topic);
  CHECK(t2.match("s/" + std::string(250, 'a')).error() == match_error::bad_target_topic);
}

TEST_CASE("unmatched policies") {
  auto refuse = build({{"a", "t", "", 0, 0}});
  CHECK(refuse.match("b").error() == match_error::no_route);
  table_spec spec;
  spec.unmatched = unmatched_policy::default_topic;
  spec.default_topic = "unrouted";
  spec.default_priority = 2;
  spec.default_ttl_ms = 100;
  auto t = route_table::build(spec);
  REQUIRE(t);
  auto m = t->match("any/topic");
  REQUIRE(m);
  CHECK(m->topic == "unrouted");
  CHECK(m->key == "any/topic");
  CHECK(m->priority == 2);
  CHECK(m->ttl_ms == 100u);
  CHECK(!m->route);
}

TEST_CASE("build errors name the route and the field") {
  CHECK(build_error_of({{"", "t", "", 0, 0}}) == "0 filter: filter \"\" is empty");
  CHECK(build_error_of({{"a/#x/b", "t", "", 0, 0}}) ==
        "0 filter: filter \"a/#x/b\" '#x' is not the last level");
  CHECK(build_error_of({{"a/b+", "t", "", 0, 0}}) ==
        "0 filter: filter \"a/b+\" level 'b+' mixes a wildcard with other characters");
  CHECK(build_error_of({{"+a/+a", "t", "", 0, 0}}) ==
        "0 filter: filter \"+a/+a\" wildcard name 'a' is used twice");
  CHECK(build_error_of({{"+a-b", "t", "", 0, 0}}) ==
        "0 filter: filter \"+a-b\" wildcard name 'a-b' may hold only A-Z, a-z, 0-9 and _");
  CHECK(build_error_of({{"$share/g/a", "t", "", 0, 0}}) ==
        "0 filter: filter \"$share/g/a\" is a shared subscription");
  CHECK(
      build_error_of({{"x", "t", "", 0, 0}, {"+d", "t.{kind}", "", 0, 0}}) ==
      "1 topic: topic template \"t.{kind}\" placeholder {kind} names no wildcard of the filter (it has: d)");
  CHECK(build_error_of({{"+d", "t/{d}", "", 0, 0}}) ==
        "0 topic: topic template \"t/{d}\" holds '/', not allowed in a topic name (only A-Z, a-z, 0-9, '.', "
        "'_', '-')");
  CHECK(build_error_of({{"+d", "", "", 0, 0}}) == "0 topic: topic template \"\" is empty");
  CHECK(build_error_of({{"+d", "t", "{d", 0, 0}}) ==
        "0 key: key template \"{d\" '{' at byte 0 is not closed");
  CHECK(build_error_of({{"+d", "t", "d}", 0, 0}}) ==
        "0 key: key template \"d}\" unmatched '}' at byte 1 (write '}}' for a literal brace)");
  CHECK(build_error_of({}, unmatched_policy::default_topic, "bad topic") ==
        "- default_topic: default topic \"bad topic\" is not a valid topic name (1 to 249 of A-Z, a-z, 0-9, "
        "'.', "
        "'_', '-')");
}
