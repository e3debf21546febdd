#include "gateway/routes/route_table.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/assert.h"

namespace tributary::gateway::routes {
namespace {

using level = route_table::level;
using piece = route_table::piece;

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool is_topic_char(char c) { return is_name_char(c) || c == '.' || c == '-'; }

std::vector<std::string_view> split_levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

struct filter_result {
  std::vector<level> levels;
  std::vector<std::string> names;  // by capture slot
};

tl::expected<filter_result, std::string> compile_filter(std::string_view filter) {
  if (filter.empty()) return tl::unexpected(std::string("is empty"));
  if (filter.size() > 65535) return tl::unexpected(std::string("is longer than 65,535 bytes"));
  if (filter.starts_with("$share/")) return tl::unexpected(std::string("is a shared subscription"));
  filter_result out;
  auto levels = split_levels(filter);
  for (size_t i = 0; i < levels.size(); ++i) {
    std::string_view l = levels[i];
    level lv;
    if (!l.empty() && (l[0] == '+' || l[0] == '#')) {
      lv.k = l[0] == '+' ? level::kind::single : level::kind::multi;
      if (lv.k == level::kind::multi && i + 1 != levels.size())
        return tl::unexpected(fmt::format("'{}' is not the last level", l));
      std::string_view name = l.substr(1);
      if (!name.empty()) {
        if (name.size() > name_bytes_max)
          return tl::unexpected(
              fmt::format("wildcard name '{}' is longer than {} bytes", name, name_bytes_max));
        if (!std::all_of(name.begin(), name.end(), is_name_char))
          return tl::unexpected(fmt::format("wildcard name '{}' may hold only A-Z, a-z, 0-9 and _", name));
        if (std::find(out.names.begin(), out.names.end(), name) != out.names.end())
          return tl::unexpected(fmt::format("wildcard name '{}' is used twice", name));
        lv.capture = static_cast<int>(out.names.size());
        out.names.emplace_back(name);
      }
    } else {
      if (l.find_first_of("+#") != std::string_view::npos)
        return tl::unexpected(fmt::format("level '{}' mixes a wildcard with other characters", l));
      if (l.find('\0') != std::string_view::npos) return tl::unexpected(std::string("holds a NUL character"));
      lv.text = std::string(l);
    }
    out.levels.push_back(std::move(lv));
  }
  return out;
}

tl::expected<std::vector<piece>, std::string> compile_template(std::string_view t,
                                                               const std::vector<std::string>& names) {
  if (t.size() > template_bytes_max)
    return tl::unexpected(fmt::format("is longer than {} bytes", template_bytes_max));
  std::vector<piece> out;
  std::string literal;
  auto flush = [&] {
    if (!literal.empty()) out.push_back(piece{true, std::move(literal), -1});
    literal.clear();
  };
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (c == '{' && i + 1 < t.size() && t[i + 1] == '{') {
      literal += '{';
      ++i;
    } else if (c == '}' && i + 1 < t.size() && t[i + 1] == '}') {
      literal += '}';
      ++i;
    } else if (c == '{') {
      size_t close = t.find('}', i + 1);
      if (close == std::string_view::npos)
        return tl::unexpected(fmt::format("'{{' at byte {} is not closed", i));
      std::string_view name = t.substr(i + 1, close - i - 1);
      auto it = std::find(names.begin(), names.end(), name);
      if (it == names.end()) {
        return tl::unexpected(
            fmt::format("placeholder {{{}}} names no wildcard of the filter{}", name,
                        names.empty() ? "" : fmt::format(" (it has: {})", fmt::join(names, ", "))));
      }
      flush();
      out.push_back(piece{false, {}, static_cast<int>(it - names.begin())});
      i = close;
    } else if (c == '}') {
      return tl::unexpected(fmt::format("unmatched '}}' at byte {} (write '}}}}' for a literal brace)", i));
    } else {
      literal += c;
    }
  }
  flush();
  return out;
}

std::optional<std::string> check_topic_template(const std::vector<piece>& pieces) {
  bool any = false;
  for (const auto& p : pieces) {
    if (!p.literal) {
      any = true;
      continue;
    }
    for (char c : p.text) {
      if (!is_topic_char(c))
        return fmt::format("holds '{}', not allowed in a topic name (only A-Z, a-z, 0-9, '.', '_', '-')", c);
    }
    if (!p.text.empty()) any = true;
  }
  if (!any) return std::string("is empty");
  return std::nullopt;
}

std::string expand(const std::vector<piece>& pieces, const std::vector<std::string_view>& captures) {
  std::string out;
  for (const auto& p : pieces) {
    if (p.literal) {
      out += p.text;
    } else {
      TRIB_ASSERT(p.capture >= 0 && static_cast<size_t>(p.capture) < captures.size());
      out += captures[static_cast<size_t>(p.capture)];
    }
  }
  return out;
}

// Matches and fills `captures` (by slot). Levels are walked without allocating.
bool match_levels(const std::vector<level>& levels, std::string_view topic,
                  std::vector<std::string_view>& captures) {
  if (!topic.empty() && topic[0] == '$' && !levels.empty() && levels[0].k != level::kind::literal)
    return false;  // MQTT 4.7.2
  size_t pos = 0;
  bool topic_done = false;
  for (size_t i = 0; i < levels.size(); ++i) {
    const level& l = levels[i];
    if (l.k == level::kind::multi) {
      // The rest of the topic (nothing when the topic ended at the parent level).
      if (l.capture >= 0)
        captures[static_cast<size_t>(l.capture)] = topic_done ? std::string_view() : topic.substr(pos);
      return true;
    }
    if (topic_done) return false;
    size_t slash = topic.find('/', pos);
    std::string_view part =
        slash == std::string_view::npos ? topic.substr(pos) : topic.substr(pos, slash - pos);
    if (slash == std::string_view::npos) {
      topic_done = true;
    } else {
      pos = slash + 1;
    }
    if (l.k == level::kind::literal) {
      if (part != l.text) return false;
    } else if (l.capture >= 0) {
      captures[static_cast<size_t>(l.capture)] = part;
    }
  }
  return topic_done;
}

}  // namespace

bool is_valid_kafka_topic(std::string_view topic) noexcept {
  if (topic.empty() || topic.size() > topic_bytes_max || topic == "." || topic == "..") return false;
  return std::all_of(topic.begin(), topic.end(), [](char c) { return is_topic_char(c); });
}

tl::expected<route_table, build_error> route_table::build(const table_spec& spec) {
  if (spec.routes.size() > routes_max) {
    return tl::unexpected(
        build_error{std::nullopt, "routes",
                    fmt::format("{} routes, more than the limit of {}", spec.routes.size(), routes_max)});
  }
  route_table t;
  for (size_t i = 0; i < spec.routes.size(); ++i) {
    const route_spec& r = spec.routes[i];
    auto f = compile_filter(r.filter);
    if (!f)
      return tl::unexpected(build_error{i, "filter", fmt::format("filter \"{}\" {}", r.filter, f.error())});
    auto topic = compile_template(r.topic, f->names);
    if (!topic)
      return tl::unexpected(
          build_error{i, "topic", fmt::format("topic template \"{}\" {}", r.topic, topic.error())});
    if (auto bad = check_topic_template(*topic))
      return tl::unexpected(build_error{i, "topic", fmt::format("topic template \"{}\" {}", r.topic, *bad)});
    auto key = compile_template(r.key, f->names);
    if (!key)
      return tl::unexpected(build_error{i, "key", fmt::format("key template \"{}\" {}", r.key, key.error())});
    compiled c;
    c.levels = std::move(f->levels);
    c.captures = f->names.size();
    c.topic = std::move(*topic);
    c.key = std::move(*key);
    c.null_key = r.key.empty();
    c.priority = r.priority;
    c.ttl_ms = r.ttl_ms;
    t.routes_.push_back(std::move(c));
  }
  t.unmatched_ = spec.unmatched;
  if (spec.unmatched == unmatched_policy::default_topic && !is_valid_kafka_topic(spec.default_topic)) {
    return tl::unexpected(build_error{
        std::nullopt, "default_topic",
        fmt::format(
            "default topic \"{}\" is not a valid topic name (1 to {} of A-Z, a-z, 0-9, '.', '_', '-')",
            spec.default_topic, topic_bytes_max)});
  }
  t.default_topic_ = spec.default_topic;
  t.default_priority_ = spec.default_priority;
  t.default_ttl_ms_ = spec.default_ttl_ms;
  return t;
}

tl::expected<route_target, match_error> route_table::match(std::string_view topic) const {
  thread_local std::vector<std::string_view> captures;  // reused: one match per PUBLISH
  for (size_t i = 0; i < routes_.size(); ++i) {
    const compiled& c = routes_[i];
    captures.assign(c.captures, std::string_view());
    if (!match_levels(c.levels, topic, captures)) continue;
    route_target out;
    out.topic = expand(c.topic, captures);
    if (!is_valid_kafka_topic(out.topic)) return tl::unexpected(match_error::bad_target_topic);
    if (!c.null_key) out.key = expand(c.key, captures);
    out.priority = c.priority;
    out.ttl_ms = c.ttl_ms;
    out.route = i;
    return out;
  }
  if (unmatched_ == unmatched_policy::refuse) return tl::unexpected(match_error::no_route);
  route_target out;
  out.topic = default_topic_;
  out.key = std::string(topic);
  out.priority = default_priority_;
  out.ttl_ms = default_ttl_ms_;
  return out;
}

}  // namespace tributary::gateway::routes
