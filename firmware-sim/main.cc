// tributary-sim: a fleet of virtual MQTT devices (`run`) and the end-to-end verifier (`verify`).
//
//   tributary-sim run --broker tcp://127.0.0.1:1883 --devices 1000 --rate 1 --duration 60 --report run.json
//   tributary-sim run --scenario fleet.json --report run.json
//   tributary-sim verify --report run.json --bootstrap 127.0.0.1:9092 --topic telemetry
//
// Exit status: 0 success; 1 verify found lost readings (or duplicates with --fail-on-duplicates);
// 2 bad usage, unreadable input, or a client that could not start.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/log.h"
#include "firmware-sim/core/progress.h"
#include "firmware-sim/core/report.h"
#include "firmware-sim/core/scenario.h"
#include "firmware-sim/core/verifier.h"
#include "firmware-sim/io/kafka_source.h"
#include "firmware-sim/io/paho_fleet.h"

namespace {

using namespace tributary;
using namespace tributary::sim;

constexpr int exit_ok = 0;
constexpr int exit_lost = 1;
constexpr int exit_error = 2;

std::atomic<int> g_signals{0};
static_assert(std::atomic<int>::is_always_lock_free);

extern "C" void on_stop_signal(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

void install_signal_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads a whole file of at most `bytes_max`.
tl::expected<std::string, std::string> read_file(const std::string& path, size_t bytes_max) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return tl::unexpected(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  std::string text;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > bytes_max)
      return tl::unexpected(fmt::format("{}: larger than {} bytes", path, bytes_max));
  }
  if (in.bad()) return tl::unexpected(fmt::format("{}: read error", path));
  return text;
}

// Writes through a temporary file and a rename, so a reader never sees half a report.
bool write_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

bool apply_log_level(const std::string& name) {
  const auto level = log::parse_level(name);
  if (!level) {
    fmt::print(stderr, "unknown log level \"{}\"\n", name);
    return false;
  }
  log::set_level(*level);
  return true;
}

// --- run ------------------------------------------------------------------------------------------

struct run_flags {
  std::string scenario_file;
  std::string report_file = "tributary-sim-report.json";
  std::string log_level = "info";
  int64_t progress_ms = 1000;
  int64_t tick_ms = 2;
  bool quiet = false;
  scenario s;
  group_spec g = [] {
    group_spec g;
    g.devices = 10;
    return g;
  }();
  int32_t skew_ms = 0;
  int qos = 1;
  std::string payload = "json";
  std::string overflow = "drop_oldest";
  std::vector<std::string> models{"temperature"};
  double drain_s = 5;
  double close_s = 5;
  double absent_min_s = 5;
  double absent_max_s = 30;
};

void add_run_options(CLI::App& run, run_flags& f, std::vector<CLI::Option*>& group_options) {
  run.add_option("--scenario", f.scenario_file,
                 "JSON scenario file with device groups (keys: see the end of --help)")
      ->check(CLI::ExistingFile);
  run.add_option("--report", f.report_file, "where to write the run report (JSON)")->capture_default_str();
  run.add_option("--broker", f.s.broker, "MQTT server: tcp://host:port or host:port")->capture_default_str();
  run.add_option("--duration", f.s.duration_s, "seconds of readings")
      ->check(CLI::Range(0.001, double(duration_s_max)))
      ->capture_default_str();

  run.add_option("--connect-rate", f.s.connect_rate,
                 "devices powered on per second (ramp-up); 0 = all at once")
      ->check(CLI::Range(0.0, 1e6))
      ->capture_default_str();
  run.add_option("--seed", f.s.seed, "seed of every random choice")->capture_default_str();
  run.add_option("--drain-s", f.drain_s, "after the run, seconds to deliver queued readings")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  run.add_option("--close-s", f.close_s, "then seconds for clean disconnects")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  auto group = [&](CLI::Option* o) { group_options.push_back(o->capture_default_str()); };
  group(run.add_option("--devices", f.g.devices, "number of devices")
            ->check(CLI::Range(1u, fleet_devices_max)));
  group(run.add_option("--rate", f.g.rate_hz, "readings per second per device")
            ->check(CLI::Range(0.0, rate_hz_max)));
  group(run.add_option("--qos", f.qos, "MQTT QoS of readings")->check(CLI::Range(0, 2)));
  group(run.add_option("--payload", f.payload, "reading encoding")->check(CLI::IsMember({"json", "binary"})));
  group(run.add_option("--size", f.g.size_bytes, "minimum payload bytes (readings are padded)")
            ->check(CLI::Range(size_t{0}, payload_bytes_max)));
  group(run.add_option("--models", f.models, "telemetry models: temperature,counter,gps,vibration")
            ->delimiter(',')
            ->check(CLI::IsMember({"temperature", "counter", "gps", "vibration"})));
  group(run.add_option("--topic", f.g.topic_template, "MQTT topic template ({device} {index} {n} {group})"));
  group(run.add_option("--name-template", f.g.name_template, "device name template"));
  group(run.add_option("--client-id-template", f.g.client_id_template, "MQTT client id template"));
  group(run.add_option("--username", f.g.username_template, "user name template (empty: none)"));
  group(run.add_option("--password", f.g.password_template, "password template (empty: none)"));
  group(run.add_option("--queue-max", f.g.queue_max, "readings kept per device while offline")
            ->check(CLI::Range(0u, queue_max_limit)));
  group(run.add_option("--overflow", f.overflow, "what a full offline queue drops")
            ->check(CLI::IsMember({"drop_oldest", "drop_newest"})));
  group(run.add_option("--inflight-max", f.g.inflight_max, "publishes awaiting acknowledgement per device")
            ->check(CLI::Range(1u, inflight_max_limit)));
  group(run.add_option("--backoff-initial-ms", f.g.backoff.initial_ms, "first reconnect delay")
            ->check(CLI::Range(1u, 3'600'000u)));
  group(run.add_option("--backoff-max-ms", f.g.backoff.max_ms, "largest reconnect delay")
            ->check(CLI::Range(1u, 3'600'000u)));
  group(run.add_option("--backoff-multiplier", f.g.backoff.multiplier, "delay growth per failure")
            ->check(CLI::Range(1.0, 100.0)));
  group(run.add_option("--backoff-jitter", f.g.backoff.jitter, "fraction of the delay randomised (0..1)")
            ->check(CLI::Range(0.0, 1.0)));
  group(run.add_option("--churn-per-hour", f.g.churn.leave_per_hour, "times per hour an online device leaves")
            ->check(CLI::Range(0.0, 360000.0)));
  group(run.add_option("--absent-min-s", f.absent_min_s, "shortest absence after leaving")
            ->check(CLI::Range(0.0, 86400.0)));
  group(run.add_option("--absent-max-s", f.absent_max_s, "longest absence after leaving")
            ->check(CLI::Range(0.0, 86400.0)));
  group(run.add_option("--skew-ms", f.skew_ms, "device clocks are off by up to +-this many ms")
            ->check(CLI::Range(0, 7 * 24 * 3600 * 1000)));
  group(run.add_option("--keepalive-s", f.g.keepalive_s, "MQTT keep-alive")->check(CLI::Range(0u, 65535u)));
  group(run.add_option("--connect-timeout-s", f.g.connect_timeout_s, "MQTT connect timeout")
            ->check(CLI::Range(1u, 3600u)));
  run.add_option("--progress-ms", f.progress_ms, "progress line period in ms (0: none)")
      ->capture_default_str();
  run.add_option("--tick-ms", f.tick_ms, "driver loop period in ms")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  run.add_flag("--quiet", f.quiet, "no progress lines and no summary");
  run.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")->capture_default_str();
}

int run_command(const CLI::App& cmd, run_flags& f, const std::vector<CLI::Option*>& group_options) {
  if (!apply_log_level(f.log_level)) return exit_error;
  scenario s;
  if (!f.scenario_file.empty()) {
    for (const CLI::Option* o : group_options) {
      if (o->count() > 0) {
        fmt::print(stderr, "{} describes a group: set it in the scenario file, not with --scenario\n",
                   o->get_name());
        return exit_error;
      }
    }
    auto text = read_file(f.scenario_file, scenario_bytes_max);
    if (!text) {
      fmt::print(stderr, "{}\n", text.error());
      return exit_error;
    }
    auto parsed = parse_scenario(*text, f.scenario_file);
    if (!parsed) {
      fmt::print(stderr, "{}\n", parsed.error().message);
      return exit_error;
    }
    s = std::move(*parsed);
  } else {
    f.g.qos = static_cast<uint8_t>(f.qos);
    f.g.payload = f.payload == "json" ? payload_format::json : payload_format::binary;
    f.g.overflow = f.overflow == "drop_oldest" ? overflow_policy::drop_oldest : overflow_policy::drop_newest;
    f.g.models.mask = 0;
    for (const std::string& m : f.models) {
      if (m == "temperature") f.g.models.mask |= model_temperature;
      if (m == "counter") f.g.models.mask |= model_counter;
      if (m == "gps") f.g.models.mask |= model_gps;
      if (m == "vibration") f.g.models.mask |= model_vibration;
    }
    f.g.skew_min_ms = -f.skew_ms;
    f.g.skew_max_ms = f.skew_ms;
    f.g.churn.absent_min_ms = static_cast<uint32_t>(f.absent_min_s * 1000);
    f.g.churn.absent_max_ms = static_cast<uint32_t>(f.absent_max_s * 1000);
    s.groups.push_back(f.g);
  }
  // Top-level flags are the values without a file, and override the file when given.
  const scenario& flags = f.s;
  const bool from_file = !f.scenario_file.empty();
  auto use = [&](const char* name) { return !from_file || cmd.count(name) > 0; };
  if (use("--broker")) s.broker = flags.broker;
  if (use("--duration")) s.duration_s = flags.duration_s;
  if (use("--connect-rate")) s.connect_rate = flags.connect_rate;
  if (use("--seed")) s.seed = flags.seed;
  if (use("--drain-s")) s.drain_ms = static_cast<uint32_t>(f.drain_s * 1000);
  if (use("--close-s")) s.close_ms = static_cast<uint32_t>(f.close_s * 1000);
  if (auto ok = validate_scenario(s); !ok) {
    fmt::print(stderr, "{}\n", ok.error().message);
    return exit_error;
  }
  install_signal_handlers();
  fleet fl(s, wall_ms());
  TRIB_LOG_INFO("sim", "starting", {"broker", s.broker}, {"devices", fl.size()}, {"groups", s.groups.size()},
                {"duration_s", s.duration_s}, {"connect_rate", s.connect_rate}, {"report", f.report_file});
  io::run_options options;
  options.tick_ms = f.tick_ms;
  options.progress_interval_ms = f.quiet ? 0 : f.progress_ms;
  options.stop_signal = &g_signals;
  auto outcome = io::run_fleet(fl, options);
  if (!outcome) {
    fmt::print(stderr, "run failed: {}\n", outcome.error().message());
    return exit_error;
  }
  const run_report report = make_report(fl, outcome->started_ms, outcome->ended_ms);
  if (!write_file(f.report_file, report_to_json(report, 1))) {
    fmt::print(stderr, "{}: cannot write the report: {}\n", f.report_file, std::strerror(errno));
    return exit_error;
  }
  if (!f.quiet) {
    const std::string summary = format_summary(fl.totals(), fl.size(), report.run_ms, outcome->total_ms);
    std::fwrite(summary.data(), 1, summary.size(), stderr);
    fmt::print(stderr, "report: {}\n", f.report_file);
  }
  return exit_ok;
}

// --- verify -----------------------------------------------------------------------------------------

struct verify_flags {
  std::string report_file;
  std::string json_file;
  std::string latency_from = "record";
  std::vector<std::string> kafka_props;
  std::string log_level = "warn";
  double idle_s = 5;
  double timeout_s = 120;
  double complete_grace_s = 1;
  size_t samples = 20;
  bool fail_on_duplicates = false;
  io::kafka_source_options kafka;
};

void add_verify_options(CLI::App& v, verify_flags& f) {
  v.add_option("--report", f.report_file, "the run report written by `run`")
      ->required()
      ->check(CLI::ExistingFile);
  v.add_option("--bootstrap", f.kafka.bootstrap, "Kafka bootstrap servers")->capture_default_str();
  v.add_option("--topic", f.kafka.topic, "topic the readings were forwarded to")->capture_default_str();
  v.add_option("--group", f.kafka.group_id, "consumer group id (default: a fresh group per run)");
  v.add_option("--idle-s", f.idle_s, "stop after this long without a record")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  v.add_option("--timeout-s", f.timeout_s, "stop after this long in any case")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  v.add_option("--complete-grace-s", f.complete_grace_s,
               "once every acknowledged reading arrived, stop after this long (catches late duplicates)")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  v.add_option("--kafka-prop", f.kafka_props, "extra librdkafka property key=value (repeatable)");
  v.add_option("--latency-from", f.latency_from, "arrival time: record timestamp or consume time")
      ->check(CLI::IsMember({"record", "consume"}))
      ->capture_default_str();
  v.add_option("--samples", f.samples, "examples listed per problem")->capture_default_str();
  v.add_option("--json", f.json_file, "also write the result as JSON to this file");
  v.add_flag("--fail-on-duplicates", f.fail_on_duplicates, "exit 1 on duplicates too");
  v.add_option("--log-level", f.log_level, "trace, debug, info, warn, error")->capture_default_str();
}

std::string join_samples(const std::vector<reading_ref>& v) {
  std::string out;
  for (const reading_ref& r : v) out += fmt::format(" {}#{}", r.device, r.seq);
  return out;
}

int verify_command(verify_flags& f) {
  if (!apply_log_level(f.log_level)) return exit_error;
  auto text = read_file(f.report_file, report_bytes_max);
  if (!text) {
    fmt::print(stderr, "{}\n", text.error());
    return exit_error;
  }
  auto report = parse_report(*text);
  if (!report) {
    fmt::print(stderr, "{}: {}\n", f.report_file, report.error().message);
    return exit_error;
  }
  for (const std::string& kv : f.kafka_props) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      fmt::print(stderr, "--kafka-prop {}: expected key=value\n", kv);
      return exit_error;
    }
    f.kafka.properties.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  f.kafka.idle_ms = static_cast<int64_t>(f.idle_s * 1000);
  f.kafka.deadline_ms = static_cast<int64_t>(f.timeout_s * 1000);
  verify_options vo;
  vo.samples_max = f.samples;
  vo.latency = f.latency_from == "record" ? latency_source::record_timestamp : latency_source::consume_time;
  verifier v(std::move(*report), vo);
  install_signal_handlers();
  const auto grace = std::chrono::milliseconds(static_cast<int64_t>(f.complete_grace_s * 1000));
  std::chrono::steady_clock::time_point complete_since{};
  bool was_complete = false;
  const bool expect_some = v.result().expected > 0;
  auto stop = [&]() {
    if (g_signals.load(std::memory_order_relaxed) > 0) return true;
    if (!expect_some || !v.complete()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (!was_complete) {
      was_complete = true;
      complete_since = now;
    }
    return now - complete_since >= grace;
  };
  auto consumed = io::consume_topic(
      f.kafka, [&](byte_span payload, int64_t ts, int64_t at) { v.add(payload, ts, at); }, stop);
  if (!consumed) {
    fmt::print(stderr, "verify: consuming {} from {} failed: {}\n", f.kafka.topic, f.kafka.bootstrap,
               consumed.error().message());
    return exit_error;
  }
  const verify_result r = v.result();
  fmt::print(
      "verify: records={} expected={} arrived={} lost={} duplicated={} reordered={} unacked={} foreign={} "
      "outside_run={} malformed={} stop={} elapsed={:.1f}s\n",
      r.records, r.expected, r.arrived, r.lost, r.duplicated, r.reordered, r.unacked, r.foreign,
      r.outside_run, r.malformed, consumed->stop_reason, consumed->elapsed_ms / 1000.0);
  fmt::print("latency_ms: p50={} p95={} p99={} max={} min={} (n={}, negative={}, from {})\n",
             r.latency_ms_p50, r.latency_ms_p95, r.latency_ms_p99, r.latency_ms_max, r.latency_ms_min,
             r.latency_count, r.latency_negative,
             f.latency_from == "record" ? "record timestamps" : "consume time");
  if (!r.lost_samples.empty()) fmt::print("lost:{}\n", join_samples(r.lost_samples));
  if (!r.duplicate_samples.empty()) fmt::print("duplicated:{}\n", join_samples(r.duplicate_samples));
  if (!r.reorder_samples.empty()) fmt::print("reordered:{}\n", join_samples(r.reorder_samples));
  if (!f.json_file.empty()) {
    auto refs = [](const std::vector<reading_ref>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (const reading_ref& x : v) a.push_back({{"device", x.device}, {"seq", x.seq}});
      return a;
    };
    nlohmann::ordered_json j;
    j["records"] = r.records;
    j["expected"] = r.expected;
    j["arrived"] = r.arrived;
    j["arrived_acked"] = r.arrived_acked;
    j["lost"] = r.lost;
    j["duplicated"] = r.duplicated;
    j["reordered"] = r.reordered;
    j["unacked"] = r.unacked;
    j["foreign"] = r.foreign;
    j["outside_run"] = r.outside_run;
    j["malformed"] = r.malformed;
    j["latency_ms"] = {{"p50", r.latency_ms_p50},       {"p95", r.latency_ms_p95}, {"p99", r.latency_ms_p99},
                       {"max", r.latency_ms_max},       {"min", r.latency_ms_min}, {"count", r.latency_count},
                       {"negative", r.latency_negative}};
    j["lost_samples"] = refs(r.lost_samples);
    j["duplicate_samples"] = refs(r.duplicate_samples);
    j["reorder_samples"] = refs(r.reorder_samples);
    j["stop_reason"] = consumed->stop_reason;
    if (!write_file(f.json_file, j.dump(1))) {
      fmt::print(stderr, "{}: cannot write: {}\n", f.json_file, std::strerror(errno));
      return exit_error;
    }
  }
  if (!r.ok()) return exit_lost;
  if (f.fail_on_duplicates && r.duplicated > 0) return exit_lost;
  return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tributary-sim: a fleet of virtual MQTT devices, and the end-to-end verifier"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "tributary-sim 0.1.0");

  CLI::App* run = app.add_subcommand("run", "run a fleet of virtual devices against an MQTT server");
  run_flags rf;
  std::vector<CLI::Option*> group_options;
  add_run_options(*run, rf, group_options);
  run->footer(describe_scenario_keys());

  CLI::App* verify = app.add_subcommand(
      "verify", "consume the cluster topic and match readings against a run report (exit 1 on loss)");
  verify_flags vf;
  add_verify_options(*verify, vf);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? exit_ok : exit_error;
  }
  try {
    if (run->parsed()) return run_command(*run, rf, group_options);
    if (verify->parsed()) return verify_command(vf);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tributary-sim: {}\n", e.what());
    return exit_error;
  }
  return exit_error;
}
