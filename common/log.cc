#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>

namespace tributary::log {
namespace {
std::atomic<level> g_level{level::info};
std::atomic<sink_fn> g_sink{nullptr};

bool needs_quotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

void append_value(std::string& out, std::string_view v) {
  if (!needs_quotes(v)) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out.append(fmt::format("\\x{:02x}", static_cast<unsigned char>(c)));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}
}  // namespace

void set_level(level l) noexcept { g_level.store(l, std::memory_order_relaxed); }
level current_level() noexcept { return g_level.load(std::memory_order_relaxed); }

std::optional<level> parse_level(std::string_view name) noexcept {
  for (int i = 0; i <= static_cast<int>(level::off); ++i) {
    if (level_name(static_cast<level>(i)) == name) return static_cast<level>(i);
  }
  return std::nullopt;
}

std::string_view level_name(level l) noexcept {
  switch (l) {
    case level::trace: return "trace";
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
    case level::fatal: return "fatal";
    case level::off: return "off";
  }
  return "unknown";
}

std::string format_line(level l, std::string_view component, std::string_view event,
                        std::initializer_list<field> fields) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = time_point_cast<seconds>(now);
  auto ms = duration_cast<milliseconds>(now - secs).count();
  std::time_t t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

  std::string out;
  out.reserve(128);
  out.append("ts=").append(ts).append(fmt::format(".{:03d}Z", ms));
  out.append(" level=").append(level_name(l));
  out.append(" component=");
  append_value(out, component);
  out.append(" event=");
  append_value(out, event);
  for (const auto& f : fields) {
    out.push_back(' ');
    out.append(f.key);
    out.push_back('=');
    append_value(out, f.value);
  }
  out.push_back('\n');
  return out;
}

void write(level l, std::string_view component, std::string_view event,
           std::initializer_list<field> fields) noexcept {
  if (!enabled(l)) return;
  try {
    std::string line = format_line(l, component, event, fields);
    if (auto sink = g_sink.load(std::memory_order_acquire)) {
      sink(line);
      return;
    }
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  } catch (...) {
    // Out of memory while logging: drop the line rather than throw across a C callback.
  }
}

void set_sink(sink_fn sink) noexcept { g_sink.store(sink, std::memory_order_release); }

}  // namespace tributary::log
