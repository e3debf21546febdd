#pragma once
// strong<T, Tag>: an identifier or position that does not silently mix with other integers.
// `using offset = strong<int64_t, struct offset_tag>;` An offset and a term cannot be swapped by
// mistake; arithmetic is explicit through .value.
#include <compare>
#include <cstdint>
#include <functional>
#include <ostream>

namespace tributary {

template <class T, class Tag>
struct strong {
  using value_type = T;
  T value{};

  constexpr strong() = default;
  constexpr explicit strong(T v) : value(v) {}
  constexpr auto operator<=>(const strong&) const = default;
  constexpr bool operator==(const strong&) const = default;

  friend std::ostream& operator<<(std::ostream& os, const strong& s) { return os << s.value; }
};

}  // namespace tributary

template <class T, class Tag>
struct std::hash<tributary::strong<T, Tag>> {
  size_t operator()(const tributary::strong<T, Tag>& s) const noexcept { return std::hash<T>{}(s.value); }
};
