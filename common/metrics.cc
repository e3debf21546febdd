#include "common/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/assert.h"

namespace tributary::metrics {
namespace {

bool valid_name(std::string_view name, bool allow_colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (allow_colon && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// # HELP text: backslash and newline escaped.
std::string escape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// Label values: backslash, double quote and newline escaped.
std::string escape_label_value(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

// Validates, sorts and renders a label set as `a="x",b="y"`.
std::string label_text(labels label_set, bool histogram) {
  std::sort(label_set.begin(), label_set.end());
  std::string out;
  for (size_t i = 0; i < label_set.size(); ++i) {
    const auto& [name, value] = label_set[i];
    TRIB_ASSERT(valid_name(name, false), "invalid metric label name: " + name);
    TRIB_ASSERT(!name.starts_with("__"), "label names starting with __ are reserved: " + name);
    TRIB_ASSERT(!(histogram && name == "le"), "label \"le\" is reserved in histograms");
    TRIB_ASSERT(i == 0 || label_set[i - 1].first != name, "label given twice: " + name);
    if (i > 0) out += ',';
    out += name;
    out += "=\"";
    out += escape_label_value(value);
    out += '"';
  }
  return out;
}

void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   std::string_view labels_a, std::string_view labels_b, std::string_view value) {
  out += name;
  out += suffix;
  if (!labels_a.empty() || !labels_b.empty()) {
    out += '{';
    out += labels_a;
    if (!labels_a.empty() && !labels_b.empty()) out += ',';
    out += labels_b;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

// ---------------------------------------------------------------------------------------------
// histogram
// ---------------------------------------------------------------------------------------------

histogram::histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  TRIB_ASSERT(bounds_.size() <= buckets_max, "too many histogram buckets");
  for (size_t i = 0; i < bounds_.size(); ++i) {
    TRIB_ASSERT(std::isfinite(bounds_[i]), "histogram bounds must be finite (+Inf is implicit)");
    TRIB_ASSERT(i == 0 || bounds_[i - 1] < bounds_[i], "histogram bounds must increase strictly");
  }
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
}

void histogram::observe(double v) noexcept {
  // First bound >= v: le is inclusive. NaN compares false with everything and lands in +Inf.
  size_t i = std::isnan(v)
                 ? bounds_.size()
                 : static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

histogram::snapshot histogram::read() const {
  snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t total = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    total += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = total;
  }
  s.count = total;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> exponential_buckets(double start, double factor, size_t count) {
  TRIB_ASSERT(start > 0 && factor > 1 && count >= 1 && count <= buckets_max);
  std::vector<double> out;
  out.reserve(count);
  for (double b = start; out.size() < count; b *= factor) out.push_back(b);
  return out;
}

std::vector<double> linear_buckets(double start, double width, size_t count) {
  TRIB_ASSERT(width > 0 && count >= 1 && count <= buckets_max);
  std::vector<double> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(start + width * static_cast<double>(i));
  return out;
}

// ---------------------------------------------------------------------------------------------
// registry
// ---------------------------------------------------------------------------------------------

registry::registry(size_t series_max) : series_max_(series_max) {}

namespace {
void check_name_and_help(std::string_view name, std::string_view help) {
  TRIB_ASSERT(valid_name(name, true), "invalid metric name: " + std::string(name));
  TRIB_ASSERT(!help.empty(), "metric needs help text: " + std::string(name));
}

// The instrument of a series, created by `make` if the series is new.
template <class T, class V, class Make>
T& get_or_make(V& metric, std::string_view name, Make make) {
  if (std::holds_alternative<std::monostate>(metric)) metric = make();
  auto* p = std::get_if<std::unique_ptr<T>>(&metric);
  TRIB_ASSERT(p != nullptr, std::string(name) + " registered again as another kind of metric");
  return **p;
}
}  // namespace

registry::series* registry::find_or_create_locked(std::string_view name, std::string_view help, type kind,
                                                  std::string label_text, const std::vector<double>* bounds) {
  std::string key = std::string(name) + '{' + label_text + '}';
  if (auto it = by_series_.find(key); it != by_series_.end()) {
    family* f = it->second.first;
    TRIB_ASSERT(f->kind == kind, "metric registered again with another type: " + f->name);
    TRIB_ASSERT(f->help == help, "metric registered again with other help text: " + f->name);
    TRIB_ASSERT(bounds == nullptr || f->bounds == *bounds,
                "histogram registered again with other buckets: " + key);
    return &f->children[it->second.second];
  }
  if (series_count_ >= series_max_) {
    ++dropped_;
    return nullptr;
  }
  family* f = nullptr;
  if (auto it = by_name_.find(std::string(name)); it != by_name_.end()) {
    f = it->second;
    TRIB_ASSERT(f->kind == kind, "metric family registered again with another type: " + f->name);
    TRIB_ASSERT(f->help == help, "metric family registered again with other help text: " + f->name);
    TRIB_ASSERT(bounds == nullptr || f->bounds == *bounds, "histogram family with other buckets: " + f->name);
  } else {
    auto owned = std::make_unique<family>(family{std::string(name), std::string(help), kind, {}, {}});
    if (bounds != nullptr) owned->bounds = *bounds;
    f = owned.get();
    families_.push_back(std::move(owned));
    by_name_.emplace(f->name, f);
  }
  f->children.push_back(series{std::move(label_text), std::monostate{}});
  by_series_.emplace(std::move(key), std::pair{f, f->children.size() - 1});
  ++series_count_;
  return &f->children.back();
}

counter& registry::add_counter(std::string_view name, std::string_view help, labels label_set) {
  check_name_and_help(name, help);
  std::string lt = label_text(std::move(label_set), false);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::counter, std::move(lt), nullptr);
  if (s == nullptr) return sink_counter_;
  return get_or_make<counter>(s->metric, name, [] { return std::make_unique<counter>(); });
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, labels label_set) {
  check_name_and_help(name, help);
  std::string lt = label_text(std::move(label_set), false);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::gauge, std::move(lt), nullptr);
  if (s == nullptr) return sink_gauge_;
  return get_or_make<gauge>(s->metric, name, [] { return std::make_unique<gauge>(); });
}

double_gauge& registry::add_double_gauge(std::string_view name, std::string_view help, labels label_set) {
  check_name_and_help(name, help);
  std::string lt = label_text(std::move(label_set), false);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::gauge, std::move(lt), nullptr);
  if (s == nullptr) return sink_double_gauge_;
  return get_or_make<double_gauge>(s->metric, name, [] { return std::make_unique<double_gauge>(); });
}

histogram& registry::add_histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                                   labels label_set) {
  check_name_and_help(name, help);
  auto h = std::make_unique<histogram>(std::move(bounds));  // validates the bounds
  std::string lt = label_text(std::move(label_set), true);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::histogram, std::move(lt), &h->bounds());
  if (s == nullptr) return sink_histogram_;
  return get_or_make<histogram>(s->metric, name, [&h] { return std::move(h); });
}

void registry::add_callback_gauge(std::string_view name, std::string_view help, std::function<double()> fn,
                                  labels label_set) {
  check_name_and_help(name, help);
  TRIB_ASSERT(fn != nullptr);
  std::string lt = label_text(std::move(label_set), false);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::gauge, std::move(lt), nullptr);
  if (s == nullptr) return;
  TRIB_ASSERT(std::holds_alternative<std::monostate>(s->metric),
              "metric registered twice: " + std::string(name));
  s->metric = std::move(fn);
}

void registry::add_callback_counter(std::string_view name, std::string_view help,
                                    std::function<uint64_t()> fn, labels label_set) {
  check_name_and_help(name, help);
  TRIB_ASSERT(fn != nullptr);
  std::string lt = label_text(std::move(label_set), false);
  std::lock_guard lock(mu_);
  series* s = find_or_create_locked(name, help, type::counter, std::move(lt), nullptr);
  if (s == nullptr) return;
  TRIB_ASSERT(std::holds_alternative<std::monostate>(s->metric),
              "metric registered twice: " + std::string(name));
  s->metric = std::move(fn);
}

size_t registry::series_count() const {
  std::lock_guard lock(mu_);
  return series_count_;
}

size_t registry::dropped_series() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

std::string registry::render_prometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP ";
    out += f->name;
    out += ' ';
    out += escape_help(f->help);
    out += "\n# TYPE ";
    out += f->name;
    out += f->kind == type::counter ? " counter\n" : f->kind == type::gauge ? " gauge\n" : " histogram\n";
    for (const auto& s : f->children) {
      const std::string& name = f->name;
      const std::string& lt = s.label_text;
      std::visit(
          [&](const auto& m) {
            using M = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<M, std::monostate>) {
              TRIB_ASSERT(false, "metric series without an instrument");
            } else if constexpr (std::is_same_v<M, std::unique_ptr<counter>>) {
              append_sample(out, name, "", lt, "", std::to_string(m->value()));
            } else if constexpr (std::is_same_v<M, std::unique_ptr<gauge>>) {
              append_sample(out, name, "", lt, "", std::to_string(m->value()));
            } else if constexpr (std::is_same_v<M, std::unique_ptr<double_gauge>>) {
              append_sample(out, name, "", lt, "", format_value(m->value()));
            } else if constexpr (std::is_same_v<M, std::function<uint64_t()>>) {
              append_sample(out, name, "", lt, "", std::to_string(m()));
            } else if constexpr (std::is_same_v<M, std::function<double()>>) {
              append_sample(out, name, "", lt, "", format_value(m()));
            } else {
              auto snap = m->read();
              for (size_t i = 0; i <= snap.bounds.size(); ++i) {
                std::string le =
                    "le=\"" + (i < snap.bounds.size() ? format_value(snap.bounds[i]) : "+Inf") + "\"";
                append_sample(out, name, "_bucket", lt, le, std::to_string(snap.cumulative[i]));
              }
              append_sample(out, name, "_sum", lt, "", format_value(snap.sum));
              append_sample(out, name, "_count", lt, "", std::to_string(snap.count));
            }
          },
          s.metric);
    }
  }
  return out;
}

}  // namespace tributary::metrics
