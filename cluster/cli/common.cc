#include "cluster/cli/common.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/assert.h"

namespace tributary {

const char* errc_info<cluster::cli::errc>::message(cluster::cli::errc e) noexcept {
  using cluster::cli::errc;
  switch (e) {
    case errc::bad_property: return "expected key=value with a non-empty key";
    case errc::property_too_long: return "key=value argument too long";
    case errc::bad_topic_name:
      return "a topic name is 1 to 249 characters of [a-zA-Z0-9._-], and neither \".\" nor \"..\"";
    case errc::bad_format: return "bad format string";
    case errc::bad_offset: return "expected beginning, end, an offset N or -N (N before the end)";
    case errc::bad_arguments: return "bad arguments";
    case errc::bad_input: return "bad input";
    case errc::kafka_config: return "kafka client configuration refused";
    case errc::topic_not_found: return "topic not found";
    case errc::partition_not_found: return "partition not found";
    case errc::delivery_failed: return "delivery failed";
    case errc::partial: return "part of the answer is missing";
    case errc::timed_out: return "timed out";
    case errc::incomplete: return "fewer records than requested";
    case errc::interrupted: return "interrupted";
  }
  return "unknown cli error";
}

namespace cluster::cli {

int exit_code_for(std::error_code code) noexcept {
  if (!code) return exit_ok;
  if (code.category() == kafka_category())
    return is_unreachable(code.value()) ? exit_unreachable : exit_failed;
  if (code.category() != errc_category<errc>()) return exit_failed;
  switch (static_cast<errc>(code.value())) {
    case errc::bad_property:
    case errc::property_too_long:
    case errc::bad_topic_name:
    case errc::bad_format:
    case errc::bad_offset:
    case errc::bad_arguments:
    case errc::bad_input:
    case errc::kafka_config: return exit_usage;
    case errc::topic_not_found:
    case errc::partition_not_found:
    case errc::delivery_failed:
    case errc::partial: return exit_failed;
    case errc::timed_out: return exit_unreachable;
    case errc::incomplete: return exit_incomplete;
    case errc::interrupted: return exit_interrupted;
  }
  return exit_failed;
}

result<property> parse_property(std::string_view text) {
  if (text.size() > k_property_bytes_max) return fail(errc::property_too_long);
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) return fail(errc::bad_property);
  return property{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

std::string check_property(const std::string& text) {
  auto p = parse_property(text);
  if (p) return {};
  return fmt::format("'{}': {}", text.size() > 80 ? text.substr(0, 80) + "..." : text, p.error().message());
}

result<void> check_topic_name(std::string_view name) {
  if (name.empty() || name.size() > k_topic_name_bytes_max || name == "." || name == "..")
    return fail(errc::bad_topic_name);
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return fail(errc::bad_topic_name);
  }
  return {};
}

void add_global_options(CLI::App& root, global_options& options) {
  root.add_option("-b,--bootstrap", options.bootstrap, "Bootstrap servers, host:port[,host:port...]")
      ->type_name("HOSTS")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast)
      ->capture_default_str();
  root.add_option_function<std::vector<std::string>>(
          "-X",
          [&options](const std::vector<std::string>& texts) {
            for (const std::string& text : texts) {
              auto p = parse_property(text);
              TRIB_ASSERT(p.has_value(), "checked by check_property");
              options.properties.push_back(std::move(*p));
            }
          },
          "librdkafka property key=value (repeatable; TLS, SASL, debug=..., ...)")
      ->type_name("KEY=VALUE")
      ->check(check_property);
  root.add_option_function<int>(
          "--timeout-ms",
          [&options](int ms) {
            options.timeout_ms = ms;
            options.timeout_ms_given = true;
          },
          fmt::format("Timeout of each request to the cluster (default {}); consume: also stop after this "
                      "long without a record",
                      k_timeout_ms_default))
      ->type_name("MS")
      ->check(CLI::Range(1, k_timeout_ms_max))
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  root.add_flag("--json", options.json, "Machine-readable output (JSON; one object per line for consume)");
  root.add_flag("-v,--verbose", options.verbose, "Show librdkafka's warnings and errors on stderr");
}

bool write_stdout(std::string_view text) noexcept {
  if (text.empty()) return true;
  const size_t n = std::fwrite(text.data(), 1, text.size(), stdout);
  return n == text.size();
}

void print_error(std::string_view message) noexcept {
  std::fflush(stdout);
  std::fprintf(stderr, "tributary: %.*s\n", static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
}

namespace {
std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free);
extern "C" void on_stop_signal(int) { g_stop.store(true, std::memory_order_relaxed); }
}  // namespace

void install_stop_signals() noexcept {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a read of stdin returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool stop_requested() noexcept { return g_stop.load(std::memory_order_relaxed); }

}  // namespace cluster::cli
}  // namespace tributary
