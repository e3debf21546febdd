#include "firmware-sim/core/scenario.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/assert.h"
#include "firmware-sim/core/name_template.h"

namespace tributary::sim {
namespace {

using json = nlohmann::json;

// Reads the keys of one JSON object, remembering which were used so unknown keys can be reported.
class object_reader {
 public:
  object_reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {}

  std::string where(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  const json* get(std::string_view key) {
    used_.insert(std::string(key));
    const auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  template <class T>
  detailed_result<void> number(std::string_view key, T& out, double lo, double hi) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_number()) return type_error(key, "a number", *v);
    const double d = v->get<double>();
    if (std::is_integral_v<T> && !v->is_number_integer()) return type_error(key, "an integer", *v);
    if (!(d >= lo && d <= hi)) {
      return fail_with(errc::bad_scenario,
                       fmt::format("\"{}\": {} is outside [{}, {}]", where(key), v->dump(), lo, hi));
    }
    if constexpr (std::is_integral_v<T>) {
      out = v->is_number_unsigned() ? static_cast<T>(v->get<uint64_t>()) : static_cast<T>(v->get<int64_t>());
    } else {
      out = static_cast<T>(d);
    }
    return {};
  }

  detailed_result<void> string(std::string_view key, std::string& out) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_string()) return type_error(key, "a string", *v);
    out = v->get<std::string>();
    if (out.size() > template_bytes_max) {
      return fail_with(errc::bad_scenario,
                       fmt::format("\"{}\": longer than {} bytes", where(key), template_bytes_max));
    }
    return {};
  }

  detailed_result<void> boolean(std::string_view key, bool& out) {
    const json* v = get(key);
    if (!v) return {};
    if (!v->is_boolean()) return type_error(key, "true or false", *v);
    out = v->get<bool>();
    return {};
  }

  detailed_result<void> finish() const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!used_.contains(it.key())) {
        return fail_with(errc::bad_scenario, fmt::format("unknown key \"{}\"", where(it.key())));
      }
    }
    return {};
  }

  tl::unexpected<error> type_error(std::string_view key, std::string_view expected, const json& got) const {
    return fail_with(errc::bad_scenario,
                     fmt::format("\"{}\": expected {}, got {}", where(key), expected, got.dump()));
  }

 private:
  const json& j_;
  std::string path_;
  std::unordered_set<std::string> used_;
};

#define SIM_TRY(...)                                              \
  do {                                                            \
    auto trib_sim_r_ = (__VA_ARGS__);                             \
    if (!trib_sim_r_) return tl::unexpected(trib_sim_r_.error()); \
  } while (0)

constexpr double dmax = std::numeric_limits<double>::max();

detailed_result<void> require_object(const json& j, const std::string& path) {
  if (!j.is_object()) {
    return fail_with(errc::bad_scenario, fmt::format("\"{}\": expected an object, got {}", path, j.dump()));
  }
  return {};
}

detailed_result<void> read_model_params(const json& j, const std::string& path, model_params& m) {
  m.mask = 0;
  auto enable = [&](std::string_view name) -> detailed_result<uint8_t> {
    if (name == "temperature") return model_temperature;
    if (name == "counter") return model_counter;
    if (name == "gps") return model_gps;
    if (name == "vibration") return model_vibration;
    return fail_with(
        errc::bad_scenario,
        fmt::format("\"{}\": unknown model \"{}\" (temperature, counter, gps, vibration)", path, name));
  };
  if (j.is_array()) {
    for (const json& n : j) {
      if (!n.is_string())
        return fail_with(errc::bad_scenario, fmt::format("\"{}\": expected model names", path));
      auto bit = enable(n.get<std::string>());
      if (!bit) return tl::unexpected(bit.error());
      m.mask |= *bit;
    }
    return {};
  }
  SIM_TRY(require_object(j, path));
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto bit = enable(it.key());
    if (!bit) return tl::unexpected(bit.error());
    m.mask |= *bit;
    const std::string sub = path + "." + it.key();
    SIM_TRY(require_object(it.value(), sub));
    object_reader r(it.value(), sub);
    switch (*bit) {
      case model_temperature:
        SIM_TRY(r.number("base_min_c", m.temp_base_min_c, -273.0, 1000.0));
        SIM_TRY(r.number("base_max_c", m.temp_base_max_c, -273.0, 1000.0));
        SIM_TRY(r.number("drift_c_per_sqrt_h", m.temp_drift_c_per_sqrt_h, 0.0, 100.0));
        SIM_TRY(r.number("noise_c", m.temp_noise_c, 0.0, 100.0));
        break;
      case model_counter: SIM_TRY(r.number("increment_mean", m.counter_increment_mean, 0.0, 1e12)); break;
      case model_gps:
        SIM_TRY(r.number("lat_min", m.gps_lat_min, -90.0, 90.0));
        SIM_TRY(r.number("lat_max", m.gps_lat_max, -90.0, 90.0));
        SIM_TRY(r.number("lon_min", m.gps_lon_min, -180.0, 180.0));
        SIM_TRY(r.number("lon_max", m.gps_lon_max, -180.0, 180.0));
        SIM_TRY(r.number("speed_min_mps", m.gps_speed_min_mps, 0.0, 1000.0));
        SIM_TRY(r.number("speed_max_mps", m.gps_speed_max_mps, 0.0, 1000.0));
        SIM_TRY(r.number("turn_sigma_rad", m.gps_turn_sigma_rad, 0.0, 10.0));
        break;
      case model_vibration:
        SIM_TRY(r.number("base_g", m.vib_base_g, 0.0, 1000.0));
        SIM_TRY(r.number("noise_g", m.vib_noise_g, 0.0, 1000.0));
        SIM_TRY(r.number("burst_chance", m.vib_burst_chance, 0.0, 1.0));
        SIM_TRY(r.number("burst_g", m.vib_burst_g, 0.0, 1000.0));
        SIM_TRY(r.number("burst_readings_max", m.vib_burst_readings_max, 0.0, 1e6));
        break;
      default: TRIB_ASSERT(false);
    }
    SIM_TRY(r.finish());
  }
  return {};
}

// Applies the keys of one group object (or the "defaults" object) over `g`.
detailed_result<void> read_group(const json& j, const std::string& path, group_spec& g) {
  SIM_TRY(require_object(j, path));
  object_reader r(j, path);
  SIM_TRY(r.string("name", g.name));
  SIM_TRY(r.number("devices", g.devices, 0, fleet_devices_max));
  SIM_TRY(r.number("rate_hz", g.rate_hz, 0.0, rate_hz_max));
  SIM_TRY(r.number("qos", g.qos, 0, 2));
  if (const json* p = r.get("payload")) {
    if (*p == "json") {
      g.payload = payload_format::json;
    } else if (*p == "binary") {
      g.payload = payload_format::binary;
    } else {
      return r.type_error("payload", "\"json\" or \"binary\"", *p);
    }
  }
  SIM_TRY(r.number("size", g.size_bytes, 0, payload_bytes_max));
  SIM_TRY(r.string("name_template", g.name_template));
  SIM_TRY(r.string("client_id_template", g.client_id_template));
  SIM_TRY(r.string("username_template", g.username_template));
  SIM_TRY(r.string("password_template", g.password_template));
  SIM_TRY(r.string("topic_template", g.topic_template));
  if (const json* m = r.get("models")) SIM_TRY(read_model_params(*m, r.where("models"), g.models));
  SIM_TRY(r.number("queue_max", g.queue_max, 0, queue_max_limit));
  if (const json* o = r.get("overflow")) {
    if (*o == "drop_oldest") {
      g.overflow = overflow_policy::drop_oldest;
    } else if (*o == "drop_newest") {
      g.overflow = overflow_policy::drop_newest;
    } else {
      return r.type_error("overflow", "\"drop_oldest\" or \"drop_newest\"", *o);
    }
  }
  SIM_TRY(r.number("inflight_max", g.inflight_max, 1, inflight_max_limit));
  if (const json* b = r.get("backoff")) {
    const std::string sub = r.where("backoff");
    SIM_TRY(require_object(*b, sub));
    object_reader br(*b, sub);
    SIM_TRY(br.number("initial_ms", g.backoff.initial_ms, 1, 3'600'000));
    SIM_TRY(br.number("max_ms", g.backoff.max_ms, 1, 3'600'000));
    SIM_TRY(br.number("multiplier", g.backoff.multiplier, 1.0, 100.0));
    SIM_TRY(br.number("jitter", g.backoff.jitter, 0.0, 1.0));
    SIM_TRY(br.finish());
  }
  if (const json* c = r.get("churn")) {
    const std::string sub = r.where("churn");
    SIM_TRY(require_object(*c, sub));
    object_reader cr(*c, sub);
    SIM_TRY(cr.number("leave_per_hour", g.churn.leave_per_hour, 0.0, 3600.0 * 100));
    double lo = g.churn.absent_min_ms / 1000.0;
    double hi = g.churn.absent_max_ms / 1000.0;
    SIM_TRY(cr.number("absent_min_s", lo, 0.0, 86'400.0));
    SIM_TRY(cr.number("absent_max_s", hi, 0.0, 86'400.0));
    g.churn.absent_min_ms = static_cast<uint32_t>(std::llround(lo * 1000));
    g.churn.absent_max_ms = static_cast<uint32_t>(std::llround(hi * 1000));
    SIM_TRY(cr.finish());
  }
  if (const json* s = r.get("clock_skew_ms")) {
    if (!s->is_array() || s->size() != 2 || !(*s)[0].is_number_integer() || !(*s)[1].is_number_integer()) {
      return r.type_error("clock_skew_ms", "[min_ms, max_ms]", *s);
    }
    const int64_t lo = (*s)[0].get<int64_t>();
    const int64_t hi = (*s)[1].get<int64_t>();
    constexpr int64_t skew_abs_max = 7LL * 24 * 3600 * 1000;
    if (lo > hi || lo < -skew_abs_max || hi > skew_abs_max) {
      return fail_with(errc::bad_scenario, fmt::format("\"{}\": needs min <= max within +-{} ms",
                                                       r.where("clock_skew_ms"), skew_abs_max));
    }
    g.skew_min_ms = static_cast<int32_t>(lo);
    g.skew_max_ms = static_cast<int32_t>(hi);
  }
  SIM_TRY(r.number("keepalive_s", g.keepalive_s, 0, 65'535));
  SIM_TRY(r.number("connect_timeout_s", g.connect_timeout_s, 1, 3'600));
  SIM_TRY(r.boolean("clean_session", g.clean_session));
  return r.finish();
}

}  // namespace

uint32_t backoff_delay_ms(const backoff_policy& p, uint32_t attempt, rng& g) {
  TRIB_ASSERT(attempt >= 1);
  double base = p.initial_ms;
  for (uint32_t i = 1; i < attempt && base < p.max_ms; ++i) base *= p.multiplier;
  base = std::min<double>(base, p.max_ms);
  const double delay = base * (1.0 - p.jitter * g.uniform());
  return static_cast<uint32_t>(std::max(1.0, std::round(delay)));
}

std::string_view payload_name(payload_format f) { return f == payload_format::json ? "json" : "binary"; }

uint64_t fleet_size(const scenario& s) {
  uint64_t n = 0;
  for (const group_spec& g : s.groups) n += g.devices;
  return n;
}

detailed_result<void> validate_scenario(const scenario& s) {
  if (s.groups.empty()) return fail_with(errc::bad_scenario, "no device groups");
  if (s.groups.size() > groups_max) {
    return fail_with(errc::limit_exceeded,
                     fmt::format("{} groups, more than {}", s.groups.size(), groups_max));
  }
  const uint64_t n = fleet_size(s);
  if (n == 0) return fail_with(errc::bad_scenario, "the fleet has no devices");
  if (n > fleet_devices_max) {
    return fail_with(errc::limit_exceeded, fmt::format("{} devices, more than {}", n, fleet_devices_max));
  }
  if (!(s.duration_s > 0 && s.duration_s <= duration_s_max)) {
    return fail_with(errc::bad_scenario,
                     fmt::format("duration {} s is outside (0, {}]", s.duration_s, duration_s_max));
  }
  if (!(s.connect_rate >= 0 && s.connect_rate <= 1e6)) {
    return fail_with(errc::bad_scenario, fmt::format("connect rate {} is outside [0, 1e6]", s.connect_rate));
  }
  if (s.broker.empty()) return fail_with(errc::bad_scenario, "no broker address");
  std::unordered_set<std::string> group_names;
  for (const group_spec& g : s.groups) {
    const std::string at = fmt::format("group \"{}\"", g.name);
    if (g.name.empty() || !valid_device_name(g.name)) {
      return fail_with(errc::bad_scenario, fmt::format("{}: a group name is 1..128 of [A-Za-z0-9_.:-]", at));
    }
    if (!group_names.insert(g.name).second) return fail_with(errc::bad_scenario, at + ": defined twice");
    if (!(g.rate_hz >= 0 && g.rate_hz <= rate_hz_max)) {
      return fail_with(errc::bad_scenario,
                       fmt::format("{}: rate {} is outside [0, {}]", at, g.rate_hz, rate_hz_max));
    }
    if (g.qos > 2) return fail_with(errc::bad_scenario, at + ": qos is 0, 1 or 2");
    if (g.size_bytes > payload_bytes_max) {
      return fail_with(errc::bad_scenario, fmt::format("{}: size above {} bytes", at, payload_bytes_max));
    }
    if (g.inflight_max < 1 || g.inflight_max > inflight_max_limit) {
      return fail_with(errc::bad_scenario,
                       fmt::format("{}: inflight_max outside [1, {}]", at, inflight_max_limit));
    }
    if (g.queue_max > queue_max_limit) {
      return fail_with(errc::bad_scenario, fmt::format("{}: queue_max above {}", at, queue_max_limit));
    }
    if (g.backoff.initial_ms < 1 || g.backoff.max_ms < g.backoff.initial_ms || g.backoff.multiplier < 1.0 ||
        !(g.backoff.jitter >= 0 && g.backoff.jitter <= 1)) {
      return fail_with(errc::bad_scenario,
                       at + ": backoff needs 1 <= initial_ms <= max_ms, multiplier >= 1, jitter in [0, 1]");
    }
    if (g.churn.leave_per_hour < 0 || g.churn.absent_min_ms > g.churn.absent_max_ms) {
      return fail_with(errc::bad_scenario,
                       at + ": churn needs leave_per_hour >= 0 and absent_min <= absent_max");
    }
    if (g.skew_min_ms > g.skew_max_ms) return fail_with(errc::bad_scenario, at + ": clock skew min > max");
    const model_params& m = g.models;
    if ((m.mask & ~model_all) != 0 || m.temp_base_min_c > m.temp_base_max_c ||
        m.gps_lat_min > m.gps_lat_max || m.gps_lon_min > m.gps_lon_max ||
        m.gps_speed_min_mps > m.gps_speed_max_mps) {
      return fail_with(errc::bad_scenario, at + ": a model range has min > max");
    }
    SIM_TRY(check_template(g.name_template, false));
    SIM_TRY(check_template(g.client_id_template, true));
    SIM_TRY(check_template(g.username_template, true));
    SIM_TRY(check_template(g.password_template, true));
    SIM_TRY(check_template(g.topic_template, true));
  }
  // Names and client ids must be unique across the fleet: a broker disconnects a client whose id
  // another client takes, and verify matches readings by device name.
  std::unordered_set<std::string> names;
  std::unordered_set<std::string> client_ids;
  names.reserve(n);
  client_ids.reserve(n);
  uint32_t index = 0;
  for (const group_spec& g : s.groups) {
    for (uint32_t i = 0; i < g.devices; ++i) {
      ++index;
      std::string name = expand_template(g.name_template, {index, g.name, {}});
      if (!valid_device_name(name)) {
        return fail_with(errc::bad_scenario,
                         fmt::format("device name \"{}\" (group \"{}\"): a device name is "
                                     "1..128 of [A-Za-z0-9_.:-]",
                                     name, g.name));
      }
      std::string client_id = expand_template(g.client_id_template, {index, g.name, name});
      if (client_id.empty() || client_id.size() > 65'535) {
        return fail_with(errc::bad_scenario, fmt::format("client id of \"{}\" is empty or too long", name));
      }
      if (index == 1 || i == 0) {
        const std::string topic = expand_template(g.topic_template, {index, g.name, name});
        if (topic.empty() || topic.find_first_of("+#") != std::string::npos) {
          return fail_with(
              errc::bad_scenario,
              fmt::format("group \"{}\": topic \"{}\" is empty or has a wildcard", g.name, topic));
        }
      }
      if (!client_ids.insert(std::move(client_id)).second) {
        return fail_with(errc::bad_scenario, fmt::format("device \"{}\": client id used twice", name));
      }
      if (!names.insert(std::move(name)).second) {
        return fail_with(errc::bad_scenario,
                         fmt::format("device name \"{}\" used twice (make name_template use {{index}})",
                                     expand_template(g.name_template, {index, g.name, {}})));
      }
    }
  }
  return {};
}

detailed_result<scenario> parse_scenario(std::string_view text, std::string_view origin) {
  auto prefixed = [&](error e) {
    return tl::unexpected(error{e.code, fmt::format("{}: {}", origin, e.message)});
  };
  if (text.size() > scenario_bytes_max) {
    return prefixed(
        {make_error_code(errc::limit_exceeded), fmt::format("larger than {} bytes", scenario_bytes_max)});
  }
  const json j =
      json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false, /*comments=*/true);
  if (j.is_discarded()) return prefixed({make_error_code(errc::bad_json), "not valid JSON"});
  if (!j.is_object()) return prefixed({make_error_code(errc::bad_scenario), "expected a JSON object"});
  scenario s;
  object_reader r(j, "");
  auto step = [&](auto&& res) -> bool { return static_cast<bool>(res); };
  detailed_result<void> res;
  std::string broker;
  if (!(res = r.string("broker", s.broker))) return prefixed(res.error());
  if (!(res = r.number("duration_s", s.duration_s, 0.0, duration_s_max))) return prefixed(res.error());
  if (!(res = r.number("connect_rate", s.connect_rate, 0.0, 1e6))) return prefixed(res.error());
  if (!(res = r.number("seed", s.seed, 0.0, 1.8e19))) return prefixed(res.error());
  double drain_s = s.drain_ms / 1000.0;
  double close_s = s.close_ms / 1000.0;
  if (!(res = r.number("drain_s", drain_s, 0.0, 3600.0))) return prefixed(res.error());
  if (!(res = r.number("close_s", close_s, 0.0, 3600.0))) return prefixed(res.error());
  s.drain_ms = static_cast<uint32_t>(std::llround(drain_s * 1000));
  s.close_ms = static_cast<uint32_t>(std::llround(close_s * 1000));
  (void)step;
  group_spec defaults;
  if (const json* d = r.get("defaults")) {
    if (!(res = read_group(*d, "defaults", defaults))) return prefixed(res.error());
  }
  const json* groups = r.get("groups");
  if (!groups || !groups->is_array() || groups->empty()) {
    return prefixed({make_error_code(errc::bad_scenario), "\"groups\": expected a non-empty array"});
  }
  if (groups->size() > groups_max) {
    return prefixed({make_error_code(errc::limit_exceeded), fmt::format("more than {} groups", groups_max)});
  }
  for (size_t i = 0; i < groups->size(); ++i) {
    group_spec g = defaults;
    g.name = groups->size() == 1 ? defaults.name : fmt::format("group{}", i + 1);
    if (!(res = read_group((*groups)[i], fmt::format("groups[{}]", i), g))) return prefixed(res.error());
    s.groups.push_back(std::move(g));
  }
  if (!(res = r.finish())) return prefixed(res.error());
  if (!(res = validate_scenario(s))) return prefixed(res.error());
  return s;
}

std::string describe_scenario_keys() {
  return R"(Scenario file keys (JSON; // comments allowed; every key optional except "groups"):
  broker            MQTT server URI, e.g. "tcp://127.0.0.1:1883"        (flag --broker overrides)
  duration_s        run time in seconds (default 60)                     (--duration overrides)
  connect_rate      devices powered on per second; 0 = all at once (500) (--connect-rate overrides)
  seed              seed of every random choice (1)                       (--seed overrides)
  drain_s, close_s  after the run: time to deliver queued readings (5), then to disconnect (5)
  defaults          group keys applied to every group before its own
  groups            array of groups, each with:
    name                  group name ("groupN")
    devices               number of devices (1)
    rate_hz               readings per second per device (1)
    qos                   0, 1 or 2 (1)
    payload               "json" or "binary" ("json")
    size                  minimum payload bytes; readings are padded (0)
    name_template         device name, placeholders {index} {n} {group} ("dev-{index}")
    client_id_template    MQTT client id, also {device} ("{device}")
    username_template     user name ("": none)      password_template   password ("": none)
    topic_template        MQTT topic ("sensors/{device}/telemetry")
    models                ["temperature","counter","gps","vibration"] or an object of model -> parameters:
                          temperature {base_min_c, base_max_c, drift_c_per_sqrt_h, noise_c}
                          counter {increment_mean}
                          gps {lat_min, lat_max, lon_min, lon_max, speed_min_mps, speed_max_mps, turn_sigma_rad}
                          vibration {base_g, noise_g, burst_chance, burst_g, burst_readings_max}
    queue_max             readings kept while offline (1000)
    overflow              "drop_oldest" or "drop_newest" when the queue is full ("drop_oldest")
    inflight_max          publishes awaiting acknowledgement (10)
    backoff               {initial_ms 500, max_ms 30000, multiplier 2, jitter 0.5}
    churn                 {leave_per_hour 0, absent_min_s 5, absent_max_s 30}
    clock_skew_ms         [min, max] device clock offset ([0, 0])
    keepalive_s (30), connect_timeout_s (10), clean_session (true)
)";
}

}  // namespace tributary::sim
