#include "firmware-sim/core/report.h"

#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/assert.h"

namespace tributary::sim {
namespace {

using ojson = nlohmann::ordered_json;

ojson counters_json(const device_counters& c) {
  ojson j;
  j["generated"] = c.generated;
  j["sent"] = c.sent;
  j["resent"] = c.resent;
  j["acked"] = c.acked;
  j["dropped"] = c.dropped;
  j["publish_failures"] = c.publish_failures;
  j["connects"] = c.connects;
  j["connect_failures"] = c.connect_failures;
  j["connection_losses"] = c.connection_losses;
  j["leaves"] = c.leaves;
  j["backoff_ms_max"] = c.backoff_ms_max;
  j["queue_depth_max"] = c.queue_depth_max;
  return j;
}

template <class T>
detailed_result<T> field(const nlohmann::json& j, std::string_view key, std::string_view where) {
  const auto it = j.find(key);
  if (it == j.end()) return fail_with(errc::missing_field, fmt::format("{}: missing \"{}\"", where, key));
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string())
      return fail_with(errc::bad_field, fmt::format("{}: \"{}\" is not a string", where, key));
    return it->template get<std::string>();
  } else if constexpr (std::is_unsigned_v<T>) {
    if (!it->is_number_unsigned() || it->template get<uint64_t>() > std::numeric_limits<T>::max()) {
      return fail_with(errc::bad_field,
                       fmt::format("{}: \"{}\" is not an unsigned integer in range", where, key));
    }
    return static_cast<T>(it->template get<uint64_t>());
  } else if constexpr (std::is_integral_v<T>) {
    if (!it->is_number_integer()) {
      return fail_with(errc::bad_field, fmt::format("{}: \"{}\" is not an integer", where, key));
    }
    const int64_t v = it->template get<int64_t>();
    if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) {
      return fail_with(errc::bad_field, fmt::format("{}: \"{}\" out of range", where, key));
    }
    return static_cast<T>(v);
  } else {
    if (!it->is_number())
      return fail_with(errc::bad_field, fmt::format("{}: \"{}\" is not a number", where, key));
    return it->template get<double>();
  }
}

// Optional counter: absent means 0.
template <class T>
detailed_result<T> counter(const nlohmann::json& j, std::string_view key, std::string_view where) {
  if (!j.contains(key)) return T{0};
  return field<T>(j, key, where);
}

#define REPORT_TRY(var, ...)                            \
  auto var##_r = (__VA_ARGS__);                         \
  if (!var##_r) return tl::unexpected(var##_r.error()); \
  auto var = *var##_r

}  // namespace

run_report make_report(const fleet& f, int64_t started_ms, int64_t ended_ms) {
  run_report r;
  const scenario& s = f.spec();
  r.broker = s.broker;
  r.started_ms = started_ms;
  r.run_ms = f.run_ended_ms() >= 0 ? f.run_ended_ms() : ended_ms - started_ms;
  r.ended_ms = ended_ms;
  r.seed = s.seed;
  for (const group_spec& g : s.groups) {
    r.groups.push_back({g.name, g.devices, g.qos, std::string(payload_name(g.payload)), g.size_bytes,
                        g.rate_hz, g.topic_template});
  }
  const fleet_totals& t = f.totals();
  r.totals = {{"devices", f.size()},
              {"generated", t.generated},
              {"sent", t.sent},
              {"resent", t.resent},
              {"acked", t.acked},
              {"dropped", t.dropped},
              {"unsent", t.queued + t.inflight},
              {"publish_failures", t.publish_failures},
              {"duplicate_acks", t.duplicate_acks},
              {"stale_events", t.stale_events},
              {"connects", t.connects},
              {"reconnects", t.reconnects},
              {"connect_failures", t.connect_failures},
              {"connection_losses", t.connection_losses},
              {"leaves", t.leaves},
              {"rejoins", t.rejoins},
              {"readings_skipped", t.readings_skipped},
              {"backoff_ms_max", t.backoff_ms_max},
              {"queue_depth_max", t.queue_depth_max},
              {"never_started", t.in_state[static_cast<size_t>(device_state::unborn)]}};
  r.devices.reserve(f.size());
  for (device_slot d = 0; d < f.size(); ++d) {
    device_report dr;
    dr.device = f.device_name(d);
    dr.index = d + 1;
    dr.group = f.group_of(d).name;
    dr.client_id = f.client_id(d);
    dr.skew_ms = f.skew_ms(d);
    dr.final_state = std::string(state_name(f.state(d)));
    dr.counters = f.counters(d);
    dr.unsent = f.unsent(d);
    dr.acked_seqs = f.acked(d);
    TRIB_ASSERT(dr.acked_seqs.count() == dr.counters.acked, dr.device);
    r.devices.push_back(std::move(dr));
  }
  return r;
}

std::string report_to_json(const run_report& r, int indent) {
  ojson j;
  j["format"] = report_format_name;
  j["version"] = report_version;
  j["broker"] = r.broker;
  j["started_ms"] = r.started_ms;
  j["run_ms"] = r.run_ms;
  j["ended_ms"] = r.ended_ms;
  j["seed"] = r.seed;
  ojson groups = ojson::array();
  for (const group_report& g : r.groups) {
    groups.push_back({{"name", g.name},
                      {"devices", g.devices},
                      {"qos", g.qos},
                      {"payload", g.payload},
                      {"size", g.size},
                      {"rate_hz", g.rate_hz},
                      {"topic_template", g.topic_template}});
  }
  j["groups"] = std::move(groups);
  ojson totals = ojson::object();
  for (const auto& [k, v] : r.totals) totals[k] = v;
  j["totals"] = std::move(totals);
  std::vector<std::string> device_lines;
  device_lines.reserve(r.devices.size());
  for (const device_report& d : r.devices) {
    ojson dj;
    dj["device"] = d.device;
    dj["index"] = d.index;
    dj["group"] = d.group;
    dj["client_id"] = d.client_id;
    dj["skew_ms"] = d.skew_ms;
    dj["state"] = d.final_state;
    dj.update(counters_json(d.counters));
    dj["unsent"] = d.unsent;
    ojson ranges = ojson::array();
    for (const seq_range& sr : d.acked_seqs.ranges()) ranges.push_back(ojson::array({sr.lo, sr.hi}));
    dj["acked_seqs"] = std::move(ranges);
    device_lines.push_back(dj.dump());
  }
  if (indent < 0) {
    j["devices"] = ojson::array();
    std::string text = j.dump();
    text.pop_back();  // "[]}" -> "[" + devices + "]}"
    text.pop_back();
    text.pop_back();
    text.push_back('[');
    for (size_t i = 0; i < device_lines.size(); ++i) {
      if (i > 0) text.push_back(',');
      text += device_lines[i];
    }
    text += "]}";
    return text;
  }
  // Readable and still compact: the header indented, one line per device.
  j["devices"] = ojson::array();
  std::string text = j.dump(indent);
  const std::string empty_devices = "\"devices\": []\n}";
  TRIB_ASSERT(text.ends_with(empty_devices));
  text.resize(text.size() - empty_devices.size());
  text += "\"devices\": [\n";
  for (size_t i = 0; i < device_lines.size(); ++i) {
    text += std::string(static_cast<size_t>(indent) * 2, ' ');
    text += device_lines[i];
    text += i + 1 < device_lines.size() ? ",\n" : "\n";
  }
  text += std::string(static_cast<size_t>(indent), ' ') + "]\n}\n";
  return text;
}

detailed_result<run_report> parse_report(std::string_view text) {
  if (text.size() > report_bytes_max) {
    return fail_with(errc::limit_exceeded, fmt::format("report larger than {} bytes", report_bytes_max));
  }
  const auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return fail_with(errc::bad_json, "report: not a JSON object");
  REPORT_TRY(format, field<std::string>(j, "format", "report"));
  if (format != report_format_name) {
    return fail_with(errc::bad_report,
                     fmt::format("report: format \"{}\" is not {}", format, report_format_name));
  }
  REPORT_TRY(version, field<int>(j, "version", "report"));
  if (version != report_version) {
    return fail_with(errc::bad_report,
                     fmt::format("report: version {} (this verifier reads {})", version, report_version));
  }
  run_report r;
  REPORT_TRY(broker, field<std::string>(j, "broker", "report"));
  REPORT_TRY(started, field<int64_t>(j, "started_ms", "report"));
  REPORT_TRY(run_ms, field<int64_t>(j, "run_ms", "report"));
  REPORT_TRY(ended, field<int64_t>(j, "ended_ms", "report"));
  REPORT_TRY(seed, field<uint64_t>(j, "seed", "report"));
  r.broker = broker;
  r.started_ms = started;
  r.run_ms = run_ms;
  r.ended_ms = ended;
  r.seed = seed;
  if (const auto g = j.find("groups"); g != j.end() && g->is_array()) {
    for (const auto& gj : *g) {
      if (!gj.is_object()) return fail_with(errc::bad_field, "report: a group is not an object");
      group_report gr;
      REPORT_TRY(name, field<std::string>(gj, "name", "group"));
      REPORT_TRY(devices, counter<uint32_t>(gj, "devices", name));
      REPORT_TRY(qos, counter<uint8_t>(gj, "qos", name));
      gr.name = name;
      gr.devices = devices;
      gr.qos = qos;
      if (gj.contains("payload") && gj["payload"].is_string()) gr.payload = gj["payload"].get<std::string>();
      if (gj.contains("rate_hz") && gj["rate_hz"].is_number()) gr.rate_hz = gj["rate_hz"].get<double>();
      r.groups.push_back(std::move(gr));
    }
  }
  if (const auto t = j.find("totals"); t != j.end() && t->is_object()) {
    for (auto it = t->begin(); it != t->end(); ++it) {
      if (it->is_number_unsigned()) r.totals[it.key()] = it->get<uint64_t>();
    }
  }
  const auto devices = j.find("devices");
  if (devices == j.end() || !devices->is_array())
    return fail_with(errc::missing_field, "report: no \"devices\" array");
  if (devices->size() > fleet_devices_max) {
    return fail_with(errc::limit_exceeded, fmt::format("report: more than {} devices", fleet_devices_max));
  }
  std::unordered_set<std::string> names;
  std::unordered_set<uint32_t> indexes;
  r.devices.reserve(devices->size());
  for (size_t i = 0; i < devices->size(); ++i) {
    const auto& dj = (*devices)[i];
    const std::string where = fmt::format("devices[{}]", i);
    if (!dj.is_object()) return fail_with(errc::bad_field, where + ": not an object");
    device_report d;
    REPORT_TRY(name, field<std::string>(dj, "device", where));
    if (!valid_device_name(name))
      return fail_with(errc::bad_field, fmt::format("{}: bad device name", where));
    REPORT_TRY(index, field<uint32_t>(dj, "index", where));
    if (index == 0) return fail_with(errc::bad_field, fmt::format("{}: index 0", where));
    if (!names.insert(name).second)
      return fail_with(errc::bad_report, fmt::format("device \"{}\" twice", name));
    if (!indexes.insert(index).second)
      return fail_with(errc::bad_report, fmt::format("index {} twice", index));
    d.device = name;
    d.index = index;
    if (dj.contains("group") && dj["group"].is_string()) d.group = dj["group"].get<std::string>();
    if (dj.contains("client_id") && dj["client_id"].is_string())
      d.client_id = dj["client_id"].get<std::string>();
    if (dj.contains("state") && dj["state"].is_string()) d.final_state = dj["state"].get<std::string>();
    REPORT_TRY(skew, counter<int32_t>(dj, "skew_ms", where));
    d.skew_ms = skew;
    device_counters& c = d.counters;
    REPORT_TRY(generated, counter<uint64_t>(dj, "generated", where));
    REPORT_TRY(sent, counter<uint64_t>(dj, "sent", where));
    REPORT_TRY(acked, counter<uint64_t>(dj, "acked", where));
    REPORT_TRY(dropped, counter<uint64_t>(dj, "dropped", where));
    REPORT_TRY(unsent, counter<uint64_t>(dj, "unsent", where));
    REPORT_TRY(connects, counter<uint32_t>(dj, "connects", where));
    REPORT_TRY(losses, counter<uint32_t>(dj, "connection_losses", where));
    c.generated = generated;
    c.sent = sent;
    c.acked = acked;
    c.dropped = dropped;
    c.connects = connects;
    c.connection_losses = losses;
    d.unsent = unsent;
    const auto seqs = dj.find("acked_seqs");
    if (seqs == dj.end() || !seqs->is_array()) {
      return fail_with(errc::missing_field, fmt::format("{}: no \"acked_seqs\" array", where));
    }
    std::vector<seq_range> ranges;
    ranges.reserve(std::min<size_t>(seqs->size(), report_ranges_per_device_max));
    if (seqs->size() > report_ranges_per_device_max) {
      return fail_with(errc::limit_exceeded, fmt::format("{}: too many ranges", where));
    }
    for (const auto& rj : *seqs) {
      if (!rj.is_array() || rj.size() != 2 || !rj[0].is_number_unsigned() || !rj[1].is_number_unsigned()) {
        return fail_with(errc::bad_field, fmt::format("{}: a range is not [lo, hi]", where));
      }
      ranges.push_back({rj[0].get<uint64_t>(), rj[1].get<uint64_t>()});
    }
    auto set = seq_ranges::from_ranges(ranges, report_ranges_per_device_max);
    if (!set) return fail_with(errc::bad_report, fmt::format("{}: {}", where, set.error().message));
    if (set->count() != acked) {
      return fail_with(errc::bad_report,
                       fmt::format("{}: \"acked\" is {} but the ranges hold {}", where, acked, set->count()));
    }
    if (!set->empty() && set->ranges().back().hi > generated) {
      return fail_with(errc::bad_report, fmt::format("{}: acknowledged seq {} beyond generated {}", where,
                                                     set->ranges().back().hi, generated));
    }
    d.acked_seqs = std::move(*set);
    r.devices.push_back(std::move(d));
  }
  return r;
}

}  // namespace tributary::sim
