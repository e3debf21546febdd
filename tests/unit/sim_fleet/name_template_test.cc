#include <doctest/doctest.h>

#include "firmware-sim/core/name_template.h"

using namespace tributary::sim;

TEST_CASE("templates expand placeholders") {
  CHECK(expand_template("dev-{index}", {42, "g", {}}) == "dev-000042");
  CHECK(expand_template("{group}-{n}", {42, "thermo", {}}) == "thermo-42");
  CHECK(expand_template("sensors/{device}/telemetry", {1, "g", "dev-000001"}) ==
        "sensors/dev-000001/telemetry");
  CHECK(expand_template("{{literal}} {n}", {3, "g", {}}) == "{literal} 3");
  CHECK(expand_template("dev-{index}", {1234567, "g", {}}) == "dev-1234567");
  CHECK(expand_template("", {1, "g", {}}).empty());
}

TEST_CASE("templates are checked") {
  CHECK(check_template("dev-{index}", false));
  CHECK(check_template("{device}", true));
  CHECK(check_template("{device}", false).error().code == errc::bad_template);
  CHECK(check_template("dev-{idx}", true).error().code == errc::bad_template);
  CHECK(check_template("dev-{index", true).error().code == errc::bad_template);
  CHECK(check_template("dev-}", true).error().code == errc::bad_template);
  CHECK(check_template("dev-{idx}", true).error().message ==
        "template \"dev-{idx}\": unknown placeholder {idx}");
}
