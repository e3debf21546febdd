#include "cluster/controller/leader_report.h"

#include <nlohmann/json.hpp>

namespace tributary::cluster::controller {

namespace {
using json = nlohmann::json;
constexpr int report_version = 1;
}  // namespace

std::vector<uint8_t> encode(const leader_report& r) {
  json led = json::array();
  for (const auto& p : r.led) {
    json isr = json::array();
    for (auto id : p.isr) isr.push_back(id.value);
    json lag = json::array();
    for (const auto& l : p.lag) lag.push_back(json::array({l.replica.value, l.behind}));
    json voters = json::array();
    for (auto id : p.voters) voters.push_back(id.value);
    led.push_back(json::array({p.group, p.term, std::move(isr), std::move(lag), std::move(voters)}));
  }
  const json j = {{"v", report_version}, {"from", r.from.value}, {"led", std::move(led)}};
  const auto text = j.dump();
  return {text.begin(), text.end()};
}

result<leader_report> decode_leader_report(std::span<const uint8_t> bytes) {
  const json j = json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail(errc::malformed_command);
  auto v = j.find("v");
  auto from = j.find("from");
  auto led = j.find("led");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != report_version) {
    return fail(errc::malformed_command);
  }
  if (from == j.end() || !from->is_number_unsigned() || from->get<uint64_t>() == 0 || led == j.end() ||
      !led->is_array()) {
    return fail(errc::malformed_command);
  }
  leader_report r;
  r.from = node_id{from->get<uint64_t>()};
  r.led.reserve(led->size());
  for (const auto& e : *led) {
    if (!e.is_array() || e.size() != 5 || !e[0].is_number_unsigned() || !e[1].is_number_integer() ||
        !e[2].is_array() || !e[3].is_array() || !e[4].is_array()) {
      return fail(errc::malformed_command);
    }
    led_partition p;
    p.group = e[0].get<uint64_t>();
    p.term = e[1].get<int64_t>();
    if (p.group == 0 || p.term < 0) return fail(errc::malformed_command);
    for (const auto& id : e[2]) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) return fail(errc::malformed_command);
      p.isr.push_back(node_id{id.get<uint64_t>()});
    }
    for (const auto& l : e[3]) {
      if (!l.is_array() || l.size() != 2 || !l[0].is_number_unsigned() || l[0].get<uint64_t>() == 0 ||
          !l[1].is_number_integer() || l[1].get<int64_t>() < -1) {
        return fail(errc::malformed_command);
      }
      p.lag.push_back({node_id{l[0].get<uint64_t>()}, l[1].get<int64_t>()});
    }
    for (const auto& id : e[4]) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() == 0) return fail(errc::malformed_command);
      p.voters.push_back(node_id{id.get<uint64_t>()});
    }
    r.led.push_back(std::move(p));
  }
  return r;
}

}  // namespace tributary::cluster::controller
