#pragma once
// What every command of the `tributary` admin CLI shares: the global options, the errors and exit
// codes, and the pure parsers for `key=value` arguments (-X, --config, --header).
//
// A command group (topic.cc, produce.cc, consume.cc, ...) adds its subcommands to the root CLI11 app
// with `add_<group>_commands(root, chosen)`; the subcommand that is parsed sets `chosen` to the
// function that runs it. main.cc holds the one list of groups.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <tl/expected.hpp>

#include "common/result.h"

namespace CLI {
class App;
}

namespace tributary::cluster::cli {

// ---- limits ---------------------------------------------------------------------------------------
inline constexpr const char* k_bootstrap_default = "127.0.0.1:9092";
inline constexpr int k_timeout_ms_default = 10'000;        // admin requests, metadata, flush grace
inline constexpr int k_timeout_ms_max = 3'600'000;         // one hour
inline constexpr int k_admin_wait_grace_ms = 2'000;        // waited beyond the request timeout
inline constexpr size_t k_property_bytes_max = 64 * 1024;  // one -X / --config / --header argument
inline constexpr int32_t k_partitions_max = 100'000;       // per topic, on the command line

// ---- exit codes (documented in `tributary --help`) ------------------------------------------------
inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;         // the cluster refused or failed the request
inline constexpr int exit_usage = 2;          // bad arguments, configuration or input
inline constexpr int exit_unreachable = 3;    // no usable answer from the cluster within the timeout
inline constexpr int exit_incomplete = 4;     // consume: stopped before --count records arrived
inline constexpr int exit_interrupted = 130;  // SIGINT or SIGTERM

// ---- errors ----------------------------------------------------------------------------------------
enum class errc {
  bad_property = 1,     // not key=value, or an empty key                      (usage)
  property_too_long,    // a key=value argument over k_property_bytes_max       (usage)
  bad_topic_name,       // not 1..249 of [a-zA-Z0-9._-], or "." or ".."         (usage)
  bad_format,           // --format: unknown directive or escape                (usage)
  bad_offset,           // --offset: not beginning|end|N|-N                     (usage)
  bad_arguments,        // options that cannot work together                    (usage)
  bad_input,            // unreadable --file, an input line over the limit      (usage)
  kafka_config,         // librdkafka refused a property                        (usage)
  topic_not_found,      // the topic does not exist                             (failed)
  partition_not_found,  // the partition does not exist                         (failed)
  delivery_failed,      // produce: at least one record was not delivered       (failed)
  partial,              // part of the answer is missing (e.g. configs)         (failed)
  timed_out,            // no answer within the timeout                         (unreachable)
  incomplete,           // consume: fewer than --count records                  (incomplete)
  interrupted,          // a signal stopped the command                         (interrupted)
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

// A failure of a command: the code decides the exit status, the message is the one line printed on
// stderr after "tributary: " (it names the command and the object, e.g. "topic create orders: ...").
struct failure {
  std::error_code code;
  std::string message;
};
template <class T>
using outcome = tl::expected<T, failure>;

inline tl::unexpected<failure> fail_with(std::error_code code, std::string message) {
  return tl::unexpected(failure{code, std::move(message)});
}
template <class E>
requires std::is_error_code_enum_v<E> tl::unexpected<failure> fail_with(E e, std::string message) {
  return tl::unexpected(failure{std::error_code(e), std::move(message)});
}

// The exit status for a failure's code (cli errc, or a librdkafka error via kafka_category()).
int exit_code_for(std::error_code code) noexcept;

// The category of librdkafka's rd_kafka_resp_err_t values (defined in kafka.cc).
const std::error_category& kafka_category() noexcept;
// True for librdkafka errors that mean "no answer" rather than "a refusal": transport, timeouts,
// all brokers down, name resolution.
bool is_unreachable(int rd_kafka_err) noexcept;

// ---- global options ----------------------------------------------------------------------------------
struct property {
  std::string key;
  std::string value;
  bool operator==(const property&) const = default;
};

struct global_options {
  std::string bootstrap = k_bootstrap_default;
  std::vector<property> properties;  // -X key=value, in order (later ones win)
  int timeout_ms = k_timeout_ms_default;
  bool timeout_ms_given = false;  // consume: --timeout-ms also means "stop after T ms without a record"
  bool json = false;
  bool verbose = false;  // librdkafka's warnings and errors on stderr
};

// Adds -b/--bootstrap, -X, --timeout-ms, --json and -v/--verbose to the root app.
void add_global_options(CLI::App& root, global_options& options);

// A parsed subcommand, ready to run.
using command_fn = std::function<outcome<void>(const global_options&)>;
// Adds one group's subcommands to the root app.
using add_commands_fn = void (*)(CLI::App& root, command_fn& chosen);

// ---- pure parsers ------------------------------------------------------------------------------------
// "key=value" split at the first '='; the value may be empty, the key may not.
result<property> parse_property(std::string_view text);
// A CLI11 validator's answer for a key=value argument: empty when valid, else the reason.
std::string check_property(const std::string& text);
// Kafka's topic name rule: 1..249 characters of [a-zA-Z0-9._-], neither "." nor "..".
result<void> check_topic_name(std::string_view name);
inline constexpr size_t k_topic_name_bytes_max = 249;

// ---- output helpers ----------------------------------------------------------------------------------
// Writes the whole string to stdout; false on a write error (e.g. a closed pipe).
bool write_stdout(std::string_view text) noexcept;
// "tributary: <message>\n" on stderr.
void print_error(std::string_view message) noexcept;

// SIGINT and SIGTERM set a flag instead of killing the process (installed by main.cc, without
// SA_RESTART so that a blocking read of stdin returns); long-running commands poll it.
void install_stop_signals() noexcept;
bool stop_requested() noexcept;

}  // namespace tributary::cluster::cli

template <>
struct tributary::errc_info<tributary::cluster::cli::errc> {
  static constexpr const char* name = "cli";
  static const char* message(tributary::cluster::cli::errc e) noexcept;
};
template <>
struct std::is_error_code_enum<tributary::cluster::cli::errc> : std::true_type {};
