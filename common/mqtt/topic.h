#pragma once
// Topic names, topic filters and matching (3.1.1 section 4.7, 5.0 section 4.7).
//
// Topic names (PUBLISH, will topic): at least one character, no '+' or '#'.
// Topic filters (SUBSCRIBE, UNSUBSCRIBE): at least one character; '#' only as a whole last level
// ("a/#", "#"); '+' only as a whole level ("+/b", "a/+/c"). Levels may be empty ("a//b", "/a").
// Shared subscriptions (5.0): "$share/<share name>/<filter>", the share name at least one
// character without '+', '#' or '/', followed by a valid filter.
// These functions check structure and UTF-8 (validate_utf8_string) together.
#include <string_view>

#include "common/result.h"

namespace tributary::mqtt {

// Errors: errc::invalid_topic_name, errc::invalid_utf8.
result<void> validate_topic_name(std::string_view topic) noexcept;
// Errors: errc::invalid_topic_filter, errc::invalid_utf8.
result<void> validate_topic_filter(std::string_view filter) noexcept;

// True if the filter starts with "$share/" (5.0 shared subscription).
bool is_shared_subscription(std::string_view filter) noexcept;
// For a shared subscription filter: the share name and the filter after it. Errors:
// errc::invalid_topic_filter (empty or wildcard share name, no filter after it, or an invalid one).
// Precondition: is_shared_subscription(filter).
struct shared_subscription {
  std::string_view share_name;
  std::string_view filter;
};
result<shared_subscription> parse_shared_subscription(std::string_view filter) noexcept;

// Whether `topic` (a valid topic name) matches `filter` (a valid, non-shared topic filter).
// '+' matches exactly one level (possibly empty), '#' matches the parent level and any number of
// levels below it ("a/#" matches "a", "a/b", "a/b/c"). Topics starting with '$' ("$SYS/...") do not
// match filters whose first level is a wildcard ("#", "+/..."), per 4.7.2.
bool topic_matches(std::string_view filter, std::string_view topic) noexcept;

namespace detail {
// The structural checks alone, for the decoder, which has validated UTF-8 already.
bool is_valid_topic_name_structure(std::string_view topic) noexcept;
bool is_valid_topic_filter_structure(std::string_view filter) noexcept;
}  // namespace detail

}  // namespace tributary::mqtt
