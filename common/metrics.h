#pragma once
// Metrics: counters, gauges and histograms in a registry that renders the Prometheus text exposition
// format 0.0.4 (served at /metrics).
//
//   metrics::registry reg;
//   auto& produced = reg.add_counter("tributary_produce_requests_total", "Produce requests handled.");
//   auto& bytes = reg.add_counter("tributary_partition_bytes_in_total", "Bytes appended.",
//                                 {{"topic", "t"}, {"partition", "0"}});
//   auto& latency = reg.add_histogram("tributary_append_seconds", "Append latency.",
//                                     metrics::exponential_buckets(0.0001, 2, 16));
//   reg.add_callback_gauge("tributary_backlog_rows", "Rows waiting.", [&] { return buffer.rows(); });
//   produced.inc(); latency.observe(0.003);
//   std::string body = reg.render_prometheus();
//
// Updates are lock-free relaxed atomics on objects whose address never changes, so an event-loop
// thread and worker threads can bump the same metric. Registration and rendering take a mutex;
// rendering reads each value once, so a histogram's +Inf bucket always equals its _count (the sum is
// read separately and may trail by in-flight observations).
//
// Registration is get-or-create: the same name and label set returns the same metric, so callers may
// register lazily (e.g. per partition). Several label sets under one name form a family, rendered
// under one # HELP / # TYPE. Names and label names are validated at registration; an invalid one,
// a family re-registered with another type, help text or histogram buckets are programming errors
// (TRIB_ASSERT). Metrics are never removed; references stay valid for the registry's lifetime.
// Limit: at most `series_max` series; further registrations get a working metric that is not
// exported (counted by dropped_series()), so a flood of label sets cannot exhaust memory.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace tributary::metrics {

inline constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
inline constexpr size_t buckets_max = 64;  // histogram boundaries per histogram
inline constexpr size_t series_max_default = 10000;

// Constant labels of one series, e.g. {{"topic", "t"}, {"partition", "0"}}. Rendered sorted by name.
using labels = std::vector<std::pair<std::string, std::string>>;

// A monotonic count.
class counter {
 public:
  void inc(uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// A value that goes up and down.
class gauge {
 public:
  void set(int64_t v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

class double_gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double n) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Counts observations into buckets with fixed upper bounds (inclusive: v <= bound), plus +Inf.
class histogram {
 public:
  // Bounds: finite, strictly increasing, at most buckets_max (TRIB_ASSERT).
  explicit histogram(std::vector<double> bounds);

  void observe(double v) noexcept;  // NaN goes to the +Inf bucket only, as in the Go client

  struct snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf: bounds.size() + 1 entries
    double sum = 0;
    uint64_t count = 0;  // == cumulative.back()
  };
  snapshot read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative; bounds_.size() + 1 slots
  std::atomic<double> sum_{0};
};

// `count` bounds start, start*factor, start*factor^2, ...
std::vector<double> exponential_buckets(double start, double factor, size_t count);
// `count` bounds start, start+width, start+2*width, ...
std::vector<double> linear_buckets(double start, double width, size_t count);

// Formats a sample value as Prometheus does: shortest round-trip form, "+Inf", "-Inf", "NaN".
std::string format_value(double v);

class registry {
 public:
  explicit registry(size_t series_max = series_max_default);
  registry(const registry&) = delete;
  registry& operator=(const registry&) = delete;

  counter& add_counter(std::string_view name, std::string_view help, labels label_set = {});
  gauge& add_gauge(std::string_view name, std::string_view help, labels label_set = {});
  double_gauge& add_double_gauge(std::string_view name, std::string_view help, labels label_set = {});
  // The bucket bounds of a family are fixed by its first registration.
  histogram& add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                           labels label_set = {});
  // Values computed at scrape time, on the scraping thread, under the registry's mutex: the function
  // must be thread-safe with respect to its data and must not call back into the registry. A name and
  // label set takes one callback (registering it twice is a programming error).
  void add_callback_gauge(std::string_view name, std::string_view help, std::function<double()> fn,
                          labels label_set = {});
  void add_callback_counter(std::string_view name, std::string_view help, std::function<uint64_t()> fn,
                            labels label_set = {});

  // The whole registry in text format 0.0.4: families in registration order, series in registration
  // order within a family.
  std::string render_prometheus() const;

  size_t series_count() const;
  size_t dropped_series() const;

 private:
  enum class type { counter, gauge, histogram };
  using instrument = std::variant<std::monostate, std::unique_ptr<counter>, std::unique_ptr<gauge>,
                                  std::unique_ptr<double_gauge>, std::unique_ptr<histogram>,
                                  std::function<uint64_t()>, std::function<double()>>;
  struct series {
    std::string label_text;  // `a="x",b="y"`: sorted, escaped, without braces
    instrument metric;
  };
  struct family {
    std::string name;
    std::string help;
    type kind;
    std::vector<double> bounds;  // histograms only
    std::vector<series> children;
  };

  // With mu_ held: finds or creates the family and the series. Returns nullptr when the series limit
  // is reached; a new series has an empty (monostate) metric for the caller to fill under the same lock.
  series* find_or_create_locked(std::string_view name, std::string_view help, type kind,
                                std::string label_text, const std::vector<double>* bounds);

  size_t series_max_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<family>> families_;
  std::unordered_map<std::string, family*> by_name_;
  std::unordered_map<std::string, std::pair<family*, size_t>> by_series_;  // name{labels} -> child index
  size_t series_count_ = 0;
  size_t dropped_ = 0;
  // Handed out beyond series_max: they work, nobody reads them.
  counter sink_counter_;
  gauge sink_gauge_;
  double_gauge sink_double_gauge_;
  histogram sink_histogram_{{}};
};

}  // namespace tributary::metrics
