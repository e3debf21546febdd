#include "common/mqtt/topic.h"

#include <algorithm>

#include "common/assert.h"
#include "common/mqtt/errc.h"
#include "common/mqtt/utf8.h"

namespace tributary::mqtt {
namespace {

constexpr std::string_view share_prefix = "$share/";

// Yields the '/'-separated levels of a topic or filter, empty levels included ("a//b" has three,
// "" has one).
class level_cursor {
 public:
  explicit level_cursor(std::string_view s) : s_(s) {}
  bool done() const { return done_; }
  std::string_view next() {
    TRIB_DEBUG_ASSERT(!done_);
    const size_t slash = s_.find('/', pos_);
    if (slash == std::string_view::npos) {
      done_ = true;
      return s_.substr(pos_);
    }
    std::string_view level = s_.substr(pos_, slash - pos_);
    pos_ = slash + 1;
    return level;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  bool done_ = false;
};

}  // namespace

namespace detail {

bool is_valid_topic_name_structure(std::string_view topic) noexcept {
  // [MQTT-4.7.3-1] at least one character; [MQTT-4.7.0-1] no wildcards in a topic name.
  // A plain loop: find_first_of("+#") calls memchr once per character of the topic.
  return !topic.empty() &&
         std::none_of(topic.begin(), topic.end(), [](char c) { return c == '+' || c == '#'; });
}

bool is_valid_topic_filter_structure(std::string_view filter) noexcept {
  if (filter.empty()) return false;  // [MQTT-4.7.3-1]
  level_cursor levels(filter);
  while (!levels.done()) {
    const std::string_view level = levels.next();
    if (level == "#") {
      if (!levels.done()) return false;  // [MQTT-4.7.1-2]: '#' is the last level
      continue;
    }
    if (level == "+") continue;
    // [MQTT-4.7.1-2], [MQTT-4.7.1-3]: a wildcard occupies its level alone.
    if (level.find_first_of("+#") != std::string_view::npos) return false;
  }
  return true;
}

}  // namespace detail

result<void> validate_topic_name(std::string_view topic) noexcept {
  TRIB_TRY_VOID(validate_utf8_string(topic));
  if (!detail::is_valid_topic_name_structure(topic)) return fail(errc::invalid_topic_name);
  return {};
}

result<void> validate_topic_filter(std::string_view filter) noexcept {
  TRIB_TRY_VOID(validate_utf8_string(filter));
  if (!detail::is_valid_topic_filter_structure(filter)) return fail(errc::invalid_topic_filter);
  return {};
}

bool is_shared_subscription(std::string_view filter) noexcept { return filter.starts_with(share_prefix); }

result<shared_subscription> parse_shared_subscription(std::string_view filter) noexcept {
  TRIB_ASSERT(is_shared_subscription(filter));
  const std::string_view rest = filter.substr(share_prefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return fail(errc::invalid_topic_filter);  // no filter part
  shared_subscription s{rest.substr(0, slash), rest.substr(slash + 1)};
  // [MQTT-4.8.2-1] a share name of at least one character; [MQTT-4.8.2-2] without '/', '+', '#'.
  if (s.share_name.empty() || s.share_name.find_first_of("+#") != std::string_view::npos)
    return fail(errc::invalid_topic_filter);
  if (!detail::is_valid_topic_filter_structure(s.filter)) return fail(errc::invalid_topic_filter);
  return s;
}

bool topic_matches(std::string_view filter, std::string_view topic) noexcept {
  // [MQTT-4.7.2-1]: a filter starting with a wildcard does not match a topic starting with '$'.
  if (topic.starts_with('$') && (filter.starts_with('#') || filter.starts_with('+'))) return false;
  level_cursor f(filter);
  level_cursor t(topic);
  while (!f.done()) {
    const std::string_view fl = f.next();
    if (fl == "#") return true;  // matches this level and all below, or the parent alone
    if (t.done()) return false;  // the filter has levels the topic lacks
    const std::string_view tl = t.next();
    if (fl != "+" && fl != tl) return false;
  }
  return t.done();
}

}  // namespace tributary::mqtt
