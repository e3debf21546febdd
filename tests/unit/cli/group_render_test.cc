// `tributary group list|describe`: lag arithmetic and rendering (pure).
#include <doctest/doctest.h>

#include "cluster/cli/group.h"

namespace tributary::cluster::cli {
namespace {

group_description sample() {
  group_description g;
  g.group = "g1";
  g.state = "Stable";
  g.assignor = "range";
  g.members.push_back({"m-1", "", "rdkafka", "/127.0.0.1", {{"t", 0}}});
  g.partitions.push_back({"t", 0, 40, 100, "m-1", ""});
  g.partitions.push_back({"t", 1, std::nullopt, 7, "", ""});
  g.partitions.push_back({"t", 2, 5, std::nullopt, "", "UNKNOWN_TOPIC_OR_PART"});
  return g;
}

TEST_CASE(
    "lag: high watermark - committed; everything when nothing is committed; unknown without a high "
    "watermark") {
  auto g = sample();
  CHECK(g.partitions[0].lag() == 60);
  CHECK(g.partitions[1].lag() == 7);
  CHECK_FALSE(g.partitions[2].lag());
  CHECK(g.total_lag() == 67);
  group_partition_lag ahead{"t", 0, 10, 5, "", ""};
  CHECK(ahead.lag() == 0);
  CHECK_FALSE(group_description{}.total_lag());
}

TEST_CASE("group list: a table, or JSON") {
  auto g = sample();
  group_description empty{"g0", "Empty", "", {}, {}, ""};
  CHECK(render_group_list({empty, g}, false) ==
        "GROUP  STATE   MEMBERS  LAG\n"
        "g0     Empty   0        -\n"
        "g1     Stable  1        67\n");
  CHECK(render_group_list({g}, true) ==
        "[{\"assignor\":\"range\",\"error\":null,\"group\":\"g1\",\"lag\":67,\"members\":1,\"state\":"
        "\"Stable\"}]\n");
}

TEST_CASE("group describe: partitions with committed, high watermark, lag and member; members") {
  auto text = render_group_description(sample(), false);
  CHECK(text ==
        "group g1  state Stable  assignor range  members 1  lag 67\n"
        "TOPIC  PARTITION  COMMITTED  HIGH-WATERMARK  LAG  MEMBER\n"
        "t      0          40         100             60   m-1\n"
        "t      1          -          7               7    -\n"
        "t      2          5          -               -    -       (error: UNKNOWN_TOPIC_OR_PART)\n"
        "MEMBER  INSTANCE  CLIENT   HOST        PARTITIONS\n"
        "m-1     -         rdkafka  /127.0.0.1  1\n");
  auto json = render_group_description(sample(), true);
  CHECK(json.find("\"partitions\":[{\"committed\":40,\"error\":null,\"high_watermark\":100,\"lag\":60,"
                  "\"member\":\"m-1\",\"partition\":0,\"topic\":\"t\"}") != std::string::npos);
  CHECK(json.find(
            "\"members\":[{\"assignment\":[{\"partition\":0,\"topic\":\"t\"}],\"client_id\":\"rdkafka\"") !=
        std::string::npos);
}

}  // namespace
}  // namespace tributary::cluster::cli
