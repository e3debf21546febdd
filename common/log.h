#pragma once
// Structured logging: one line per event on stderr, key=value fields, e.g.
//   ts=2026-11-23T10:15:02.123Z level=info component=broker event=listening addr=127.0.0.1:9092
// Values with spaces, quotes or '=' are quoted. Each line is written with a single write(2), so
// lines from several threads never interleave. Thread-safe; the level is a process-wide atomic.
//
//   TRIB_LOG_INFO("broker", "listening", {"addr", addr}, {"partitions", n});
//
// Fields take any value fmt can format. The macros skip formatting when the level is disabled.
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/result.h"

namespace tributary::log {

enum class level { trace = 0, debug, info, warn, error, fatal, off };

struct field {
  std::string_view key;
  std::string value;

  template <class T>
  field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  field(std::string_view k, std::string v) : key(k), value(std::move(v)) {}
  field(std::string_view k, std::string_view v) : key(k), value(v) {}
  field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
};

void set_level(level l) noexcept;
level current_level() noexcept;
inline bool enabled(level l) noexcept { return l >= current_level(); }
// "trace", "debug", "info", "warn", "error", "fatal", "off".
std::optional<level> parse_level(std::string_view name) noexcept;
std::string_view level_name(level l) noexcept;

// Formats the line (without writing it); exposed for tests.
std::string format_line(level l, std::string_view component, std::string_view event,
                        std::initializer_list<field> fields);
void write(level l, std::string_view component, std::string_view event,
           std::initializer_list<field> fields = {}) noexcept;

// Tests can capture output: the sink receives whole lines (with '\n'). nullptr restores stderr.
using sink_fn = void (*)(std::string_view line);
void set_sink(sink_fn sink) noexcept;

}  // namespace tributary::log

#define TRIB_LOG(lvl, component, event, ...)                                                           \
  do {                                                                                                 \
    if (::tributary::log::enabled(lvl)) ::tributary::log::write(lvl, component, event, {__VA_ARGS__}); \
  } while (0)
#define TRIB_LOG_TRACE(component, event, ...) \
  TRIB_LOG(::tributary::log::level::trace, component, event, __VA_ARGS__)
#define TRIB_LOG_DEBUG(component, event, ...) \
  TRIB_LOG(::tributary::log::level::debug, component, event, __VA_ARGS__)
#define TRIB_LOG_INFO(component, event, ...) \
  TRIB_LOG(::tributary::log::level::info, component, event, __VA_ARGS__)
#define TRIB_LOG_WARN(component, event, ...) \
  TRIB_LOG(::tributary::log::level::warn, component, event, __VA_ARGS__)
#define TRIB_LOG_ERROR(component, event, ...) \
  TRIB_LOG(::tributary::log::level::error, component, event, __VA_ARGS__)
