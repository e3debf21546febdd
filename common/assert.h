#pragma once
// TRIB_ASSERT(cond) / TRIB_ASSERT(cond, message): always on, in every build type. On failure it
// prints the condition, the place and the message to stderr and aborts, so a broken invariant stops
// the process with context instead of corrupting data. Use it for preconditions, postconditions and
// invariants, never for input validation (bad input is a result<> error, not a crash).
#include <string_view>

namespace tributary::detail {
[[noreturn]] void assert_failed(const char* condition, const char* file, int line,
                                std::string_view message = {}) noexcept;
}  // namespace tributary::detail

#define TRIB_ASSERT(cond, ...)                                                                  \
  do {                                                                                          \
    if (!(cond)) [[unlikely]]                                                                   \
      ::tributary::detail::assert_failed(#cond, __FILE__, __LINE__ __VA_OPT__(, ) __VA_ARGS__); \
  } while (0)

// Debug-only variant for checks too expensive for release builds.
#ifdef NDEBUG
#define TRIB_DEBUG_ASSERT(cond, ...) \
  do {                               \
  } while (0)
#else
#define TRIB_DEBUG_ASSERT(cond, ...) TRIB_ASSERT(cond __VA_OPT__(, ) __VA_ARGS__)
#endif
