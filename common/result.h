#pragma once
// result<T>: the return type of every operation that can fail in an expected way.
// Each subsystem declares its own `enum class errc` and registers it as an error-code enum (pattern
// below) so the value travels as a std::error_code; it becomes a wire code (Kafka error, MQTT reason
// code) only at the protocol edge.
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include <tl/expected.hpp>

namespace tributary {

template <class T>
using result = tl::expected<T, std::error_code>;

inline tl::unexpected<std::error_code> fail(std::error_code ec) { return tl::unexpected(ec); }

template <class E>
requires std::is_error_code_enum_v<E> tl::unexpected<std::error_code> fail(E e) {
  return tl::unexpected(std::error_code(e));
}

// A ready-made category for a subsystem's errc. The pattern, in the subsystem's header:
//
//   namespace tributary::foo {
//   enum class errc { bad_thing = 1, ... };          // 0 is never used: it means "no error"
//   inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }
//   }
//   template <> struct tributary::errc_info<tributary::foo::errc> {
//     static constexpr const char* name = "foo";
//     static const char* message(tributary::foo::errc e) noexcept;   // defined in foo.cc
//   };
//   template <> struct std::is_error_code_enum<tributary::foo::errc> : std::true_type {};
template <class E>
struct errc_info;

template <class E>
const std::error_category& errc_category() noexcept {
  struct category final : std::error_category {
    const char* name() const noexcept override { return errc_info<E>::name; }
    std::string message(int v) const override { return errc_info<E>::message(static_cast<E>(v)); }
  };
  static const category instance;
  return instance;
}

template <class E>
std::error_code to_error_code(E e) noexcept {
  return {static_cast<int>(e), errc_category<E>()};
}

}  // namespace tributary

// Unwraps a result<T> inside a function returning result<U>: yields the value or returns the error.
// (A GNU statement expression, supported by both gcc and clang.)
#define TRIB_TRY(...)                               \
  ({                                                \
    auto&& trib_try_r_ = (__VA_ARGS__);             \
    if (!trib_try_r_) [[unlikely]]                  \
      return ::tl::unexpected(trib_try_r_.error()); \
    std::move(*trib_try_r_);                        \
  })

// The same for result<void>.
#define TRIB_TRY_VOID(...)                          \
  do {                                              \
    auto&& trib_try_r_ = (__VA_ARGS__);             \
    if (!trib_try_r_) [[unlikely]]                  \
      return ::tl::unexpected(trib_try_r_.error()); \
  } while (0)
