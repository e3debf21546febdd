#include "common/metrics.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "death.h"

using namespace tributary;
using metrics::registry;

TEST_CASE("metrics: exposition text of a small registry, exactly") {
  registry reg;
  reg.add_counter("trib_requests_total", "Requests handled.").inc(3);
  auto& p0 = reg.add_counter("trib_bytes_total", "Bytes in.", {{"topic", "t"}, {"partition", "0"}});
  auto& p1 = reg.add_counter("trib_bytes_total", "Bytes in.", {{"topic", "t"}, {"partition", "1"}});
  p0.inc(10);
  p1.inc(20);
  p1.inc();
  auto& g = reg.add_gauge("trib_connections", "Open connections.");
  g.set(5);
  g.add(-7);
  reg.add_double_gauge("trib_ratio", "A ratio.").set(0.25);
  auto& h = reg.add_histogram("trib_latency_seconds", "Latency.", {0.25, 0.5, 1}, {{"api", "produce"}});
  for (double v : {0.0625, 0.25, 0.75, 3.0}) h.observe(v);
  int64_t rows = 42;
  reg.add_callback_gauge("trib_backlog_rows", "Rows waiting.", [&rows] { return static_cast<double>(rows); });
  reg.add_callback_counter("trib_sent_total", "Sent.", [] { return uint64_t{18446744073709551615u}; },
                           {{"peer", "b"}});

  CHECK(reg.render_prometheus() ==
        "# HELP trib_requests_total Requests handled.\n"
        "# TYPE trib_requests_total counter\n"
        "trib_requests_total 3\n"
        "# HELP trib_bytes_total Bytes in.\n"
        "# TYPE trib_bytes_total counter\n"
        "trib_bytes_total{partition=\"0\",topic=\"t\"} 10\n"
        "trib_bytes_total{partition=\"1\",topic=\"t\"} 21\n"
        "# HELP trib_connections Open connections.\n"
        "# TYPE trib_connections gauge\n"
        "trib_connections -2\n"
        "# HELP trib_ratio A ratio.\n"
        "# TYPE trib_ratio gauge\n"
        "trib_ratio 0.25\n"
        "# HELP trib_latency_seconds Latency.\n"
        "# TYPE trib_latency_seconds histogram\n"
        "trib_latency_seconds_bucket{api=\"produce\",le=\"0.25\"} 2\n"
        "trib_latency_seconds_bucket{api=\"produce\",le=\"0.5\"} 2\n"
        "trib_latency_seconds_bucket{api=\"produce\",le=\"1\"} 3\n"
        "trib_latency_seconds_bucket{api=\"produce\",le=\"+Inf\"} 4\n"
        "trib_latency_seconds_sum{api=\"produce\"} 4.0625\n"
        "trib_latency_seconds_count{api=\"produce\"} 4\n"
        "# HELP trib_backlog_rows Rows waiting.\n"
        "# TYPE trib_backlog_rows gauge\n"
        "trib_backlog_rows 42\n"
        "# HELP trib_sent_total Sent.\n"
        "# TYPE trib_sent_total counter\n"
        "trib_sent_total{peer=\"b\"} 18446744073709551615\n");

  // Callbacks run at scrape time.
  rows = 7;
  CHECK(reg.render_prometheus().find("\ntrib_backlog_rows 7\n") != std::string::npos);
  CHECK(reg.series_count() == 8);
  CHECK(registry().render_prometheus().empty());
}

TEST_CASE("metrics: unlabelled histogram and a histogram family") {
  registry reg;
  reg.add_histogram("h", "H.", {1}).observe(1);
  reg.add_histogram("hl", "HL.", {1}, {{"x", "a"}}).observe(2);
  reg.add_histogram("hl", "HL.", {1}, {{"x", "b"}});
  CHECK(reg.render_prometheus() ==
        "# HELP h H.\n# TYPE h histogram\n"
        "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
        "# HELP hl HL.\n# TYPE hl histogram\n"
        "hl_bucket{x=\"a\",le=\"1\"} 0\nhl_bucket{x=\"a\",le=\"+Inf\"} 1\nhl_sum{x=\"a\"} "
        "2\nhl_count{x=\"a\"} 1\n"
        "hl_bucket{x=\"b\",le=\"1\"} 0\nhl_bucket{x=\"b\",le=\"+Inf\"} 0\nhl_sum{x=\"b\"} "
        "0\nhl_count{x=\"b\"} 0\n");
}

TEST_CASE("metrics: help and label values are escaped") {
  registry reg;
  reg.add_counter("esc_total", "Path C:\\dir \"quoted\"\nsecond line", {{"v", "a\\b\"c\nd"}, {"w", "plain"}})
      .inc();
  CHECK(reg.render_prometheus() ==
        "# HELP esc_total Path C:\\\\dir \"quoted\"\\nsecond line\n"
        "# TYPE esc_total counter\n"
        "esc_total{v=\"a\\\\b\\\"c\\nd\",w=\"plain\"} 1\n");
}

TEST_CASE("metrics: sample values in Prometheus notation") {
  CHECK(metrics::format_value(0) == "0");
  CHECK(metrics::format_value(1) == "1");
  CHECK(metrics::format_value(-2.5) == "-2.5");
  CHECK(metrics::format_value(0.1) == "0.1");
  CHECK(metrics::format_value(0.005) == "0.005");
  CHECK(metrics::format_value(1e20) == "1e+20");
  CHECK(metrics::format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(metrics::format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(metrics::format_value(std::nan("")) == "NaN");
  registry reg;
  reg.add_double_gauge("g", "G.").set(std::nan(""));
  reg.add_callback_gauge("c", "C.", [] { return -std::numeric_limits<double>::infinity(); });
  CHECK(reg.render_prometheus() ==
        "# HELP g G.\n# TYPE g gauge\ng NaN\n# HELP c C.\n# TYPE c gauge\nc -Inf\n");
}

TEST_CASE("metrics: a value equal to a bucket bound falls in that bucket (le is <=)") {
  metrics::histogram h({1, 2, 3});
  h.observe(1);
  h.observe(2);
  h.observe(3);
  h.observe(std::nextafter(1.0, 2.0));
  h.observe(-5);
  h.observe(0);
  h.observe(3.0000001);
  h.observe(std::numeric_limits<double>::infinity());
  auto s = h.read();
  CHECK(s.cumulative == std::vector<uint64_t>{3, 5, 6, 8});
  CHECK(s.count == 8);
  CHECK(s.bounds == std::vector<double>{1, 2, 3});

  // NaN counts in +Inf only (as the Go client does).
  metrics::histogram n({1});
  n.observe(std::nan(""));
  auto ns = n.read();
  CHECK(ns.cumulative == std::vector<uint64_t>{0, 1});
  CHECK(std::isnan(ns.sum));

  // No bounds at all: only +Inf.
  metrics::histogram none({});
  none.observe(5);
  CHECK(none.read().cumulative == std::vector<uint64_t>{1});
  CHECK(none.read().sum == 5);
}

TEST_CASE("metrics: bucket helpers") {
  CHECK(metrics::exponential_buckets(1, 2, 4) == std::vector<double>{1, 2, 4, 8});
  CHECK(metrics::linear_buckets(0, 5, 3) == std::vector<double>{0, 5, 10});
  CHECK(metrics::exponential_buckets(0.001, 10, 1) == std::vector<double>{0.001});
}

TEST_CASE("metrics: registration is get-or-create; label order does not matter") {
  registry reg;
  auto& a = reg.add_counter("c_total", "C.", {{"x", "1"}, {"y", "2"}});
  auto& b = reg.add_counter("c_total", "C.", {{"y", "2"}, {"x", "1"}});
  CHECK(&a == &b);
  auto& other = reg.add_counter("c_total", "C.", {{"x", "1"}, {"y", "3"}});
  CHECK(&a != &other);
  CHECK(&reg.add_histogram("h", "H.", {1, 2}) == &reg.add_histogram("h", "H.", {1, 2}));
  CHECK(&reg.add_gauge("g", "G.") == &reg.add_gauge("g", "G."));
  CHECK(&reg.add_double_gauge("d", "D.") == &reg.add_double_gauge("d", "D."));
  CHECK(reg.series_count() == 5);
  // Colons are allowed in metric names.
  reg.add_gauge("job:rate:sum", "Recorded.").set(1);
  CHECK(reg.render_prometheus().find("\njob:rate:sum 1\n") != std::string::npos);
}

TEST_CASE("metrics: at the series limit new series work but are not exported") {
  registry reg(3);
  reg.add_counter("a_total", "A.", {{"p", "0"}}).inc();
  reg.add_counter("a_total", "A.", {{"p", "1"}}).inc();
  reg.add_gauge("g", "G.").set(1);
  CHECK(reg.series_count() == 3);
  std::string before = reg.render_prometheus();

  auto& dropped = reg.add_counter("a_total", "A.", {{"p", "2"}});
  dropped.inc(5);
  reg.add_gauge("g2", "G2.").set(3);
  reg.add_double_gauge("d", "D.").add(1.5);
  reg.add_histogram("h", "H.", {1}).observe(1);
  reg.add_callback_gauge("cb", "CB.", [] { return 1.0; });
  reg.add_callback_counter("cbc", "CB.", [] { return uint64_t{1}; });
  CHECK(reg.dropped_series() == 6);
  CHECK(reg.series_count() == 3);
  CHECK(reg.render_prometheus() == before);
  // Existing series are still found at the limit.
  reg.add_counter("a_total", "A.", {{"p", "1"}}).inc();
  CHECK(reg.render_prometheus().find("a_total{p=\"1\"} 2\n") != std::string::npos);
  CHECK(reg.dropped_series() == 6);
}

TEST_CASE("metrics: concurrent updates from several threads sum correctly") {
  registry reg;
  constexpr int threads = 4;
  constexpr int per_thread = 100000;
  std::vector<std::thread> workers;
  std::atomic<bool> stop{false};
  // A scraper runs while the workers update and register.
  std::thread scraper([&] {
    while (!stop.load()) {
      std::string text = reg.render_prometheus();
      CHECK(text.size() < 100000);
    }
  });
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&reg, t] {
      // Every thread registers the same series and gets the same objects.
      auto& c = reg.add_counter("ops_total", "Ops.");
      auto& g = reg.add_gauge("level", "Level.");
      auto& d = reg.add_double_gauge("dlevel", "DLevel.");
      auto& h = reg.add_histogram("lat", "Lat.", {1, 2});
      auto& mine = reg.add_counter("per_thread_total", "Per thread.", {{"t", std::to_string(t)}});
      for (int i = 0; i < per_thread; ++i) {
        c.inc();
        g.add(i % 2 == 0 ? 3 : -1);
        d.add(0.5);
        h.observe(static_cast<double>(i % 3));  // 0, 1, 2
        mine.inc(2);
      }
    });
  }
  for (auto& w : workers) w.join();
  stop = true;
  scraper.join();

  CHECK(reg.add_counter("ops_total", "Ops.").value() == uint64_t{threads} * per_thread);
  CHECK(reg.add_gauge("level", "Level.").value() == int64_t{threads} * per_thread);  // (3 - 1) per two
  CHECK(reg.add_double_gauge("dlevel", "DLevel.").value() == threads * per_thread * 0.5);
  auto s = reg.add_histogram("lat", "Lat.", {1, 2}).read();
  CHECK(s.count == uint64_t{threads} * per_thread);
  CHECK(s.cumulative.back() == s.count);
  CHECK(s.cumulative[1] == s.count);  // nothing above 2
  CHECK(s.sum == 4.0 * (33333 * 1 + 33333 * 2));
  for (int t = 0; t < threads; ++t) {
    CHECK(reg.add_counter("per_thread_total", "Per thread.", {{"t", std::to_string(t)}}).value() ==
          2u * per_thread);
  }
  CHECK(reg.series_count() == 4 + threads);
}

TEST_CASE("metrics: invalid registrations are programming errors") {
  using test::dies;
  for (const char* name : {"", "1abc", "a-b", "a b", "é"}) {
    CHECK_MESSAGE(dies([name] {
                    registry reg;
                    reg.add_counter(name, "Help.");
                  }),
                  name);
  }
  for (const char* label : {"", "1x", "a-b", "a:b", "__reserved"}) {
    CHECK_MESSAGE(dies([label] {
                    registry reg;
                    reg.add_counter("c", "Help.", {{label, "v"}});
                  }),
                  label);
  }
  CHECK(dies([] {
    registry reg;
    reg.add_counter("c", "");
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_counter("c", "Help.", {{"a", "1"}, {"a", "2"}});
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_histogram("h", "Help.", {1}, {{"le", "1"}});
  }));
  CHECK(dies([] {  // same name, another type (same labels, then another label set)
    registry reg;
    reg.add_counter("m", "Help.");
    reg.add_gauge("m", "Help.");
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_counter("m", "Help.", {{"a", "1"}});
    reg.add_gauge("m", "Help.", {{"a", "2"}});
  }));
  CHECK(dies([] {  // same name, other help
    registry reg;
    reg.add_counter("m", "Help.", {{"a", "1"}});
    reg.add_counter("m", "Other.", {{"a", "2"}});
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_counter("m", "Help.");
    reg.add_counter("m", "Other.");
  }));
  CHECK(dies([] {  // gauge and double gauge are one type but not one series
    registry reg;
    reg.add_gauge("m", "Help.");
    reg.add_double_gauge("m", "Help.");
  }));
  CHECK(dies([] {  // histogram buckets differ within a family
    registry reg;
    reg.add_histogram("h", "Help.", {1}, {{"a", "1"}});
    reg.add_histogram("h", "Help.", {2}, {{"a", "2"}});
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_histogram("h", "Help.", {1});
    reg.add_histogram("h", "Help.", {1, 2});
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_callback_gauge("g", "Help.", [] { return 1.0; });
    reg.add_callback_gauge("g", "Help.", [] { return 2.0; });
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_counter("c", "Help.");
    reg.add_callback_counter("c", "Help.", [] { return uint64_t{1}; });
  }));
  CHECK(dies([] {
    registry reg;
    reg.add_callback_gauge("g", "Help.", nullptr);
  }));
  CHECK(dies([] { metrics::histogram h({2, 1}); }));
  CHECK(dies([] { metrics::histogram h({1, 1}); }));
  CHECK(dies([] { metrics::histogram h({1, std::numeric_limits<double>::infinity()}); }));
  CHECK(dies([] { metrics::histogram h({std::nan("")}); }));
  CHECK(dies([] {
    std::vector<double> bounds(metrics::buckets_max + 1);
    for (size_t i = 0; i < bounds.size(); ++i) bounds[i] = static_cast<double>(i);
    metrics::histogram h(bounds);
  }));
  CHECK(dies([] { (void)metrics::linear_buckets(0, 1, metrics::buckets_max + 1); }));
  CHECK(dies([] { (void)metrics::exponential_buckets(0, 2, 3); }));
  CHECK(dies([] { (void)metrics::linear_buckets(0, 0, 3); }));
  // The largest allowed histogram is fine.
  CHECK_FALSE(dies([] { metrics::histogram h(metrics::linear_buckets(0, 1, metrics::buckets_max)); }));
}
