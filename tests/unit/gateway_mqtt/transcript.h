#pragma once
// Transcript harness for the MQTT session core: feed packets, times, commit outcomes and password
// verdicts to a server_core; every action it returns is rendered as one line of text, so a test
// reads as the conversation it checks:
//
//   h.recv(1, connect_v5("dev-1"))  ==  "c1 < CONNACK sp=0 rc=success {receive_maximum=8 ...}\n"
//   h.recv(1, publish(...))         ==  "c1 submit #1 qos=1 topic=telemetry.temp key=dev-1 payload=21.5\n"
//   h.commit(1)                     ==  "c1 < PUBACK id=7 rc=success\n"
//
// Lines: "cN < PACKET ..." (bytes sent, decoded back), "cN submit #T ..." (a reading for the buffer;
// kept for later inspection), "cN verify user=U", "cN close (why)", "cN abort (why)",
// "cN pause", "cN resume". Time only moves when the test says so (advance()).
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/mqtt/codec.h"
#include "gateway/mqtt/core.h"
#include "gateway/routes/route_table.h"

namespace tributary::gateway::mqtt::test {

using proto::protocol_version;
using proto::qos_level;

inline routes::table_spec default_routes() {
  routes::table_spec t;
  t.routes.push_back({"sensors/+device/+kind", "telemetry.{kind}", "{device}", 0, 0});
  t.routes.push_back({"alarms/+device/#", "alarms", "{device}", 9, 60000});
  t.routes.push_back({"status/+device", "status", "{device}", 1, 0});
  t.unmatched = routes::unmatched_policy::refuse;
  return t;
}

inline core_config small_config() {
  core_config c;
  c.gateway_id = "gw-test";
  c.receive_maximum = 4;
  c.topic_alias_maximum = 2;
  c.keep_alive_max_s = 600;
  c.session_expiry_max_s = 3600;
  c.sessions_max = 4;
  c.subscriptions_max = 3;
  c.connect_timeout_ms = 5000;
  c.quota_backoff_ms = 1000;
  c.client_id_bytes_max = 32;
  c.max_packet_bytes = 4096;
  return c;
}

inline std::string props_text(const proto::properties& p) {
  std::vector<std::string> parts;
  if (p.session_expiry_interval_s)
    parts.push_back(fmt::format("session_expiry={}", *p.session_expiry_interval_s));
  if (p.receive_maximum) parts.push_back(fmt::format("receive_maximum={}", *p.receive_maximum));
  if (p.topic_alias_maximum) parts.push_back(fmt::format("topic_alias_maximum={}", *p.topic_alias_maximum));
  if (p.maximum_packet_size) parts.push_back(fmt::format("maximum_packet_size={}", *p.maximum_packet_size));
  if (p.assigned_client_identifier)
    parts.push_back(fmt::format("assigned={}", *p.assigned_client_identifier));
  if (p.server_keep_alive_s) parts.push_back(fmt::format("server_keep_alive={}", *p.server_keep_alive_s));
  if (p.reason_string) parts.push_back(fmt::format("reason_string={}", *p.reason_string));
  if (parts.empty()) return "";
  return fmt::format(" {{{}}}", fmt::join(parts, " "));
}

inline std::string reasons_text(const std::vector<proto::reason_code>& rs) {
  std::vector<std::string> parts;
  for (auto r : rs) parts.push_back(fmt::format("0x{:02x}", static_cast<uint8_t>(r)));
  return fmt::format("[{}]", fmt::join(parts, ","));
}

inline std::string packet_text(const proto::packet& p, protocol_version v) {
  using proto::reason_code_name;
  return std::visit(
      [v](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, proto::connack_packet>) {
          return fmt::format("CONNACK sp={} rc={}{}", x.session_present ? 1 : 0, reason_code_name(x.reason),
                             props_text(x.props));
        } else if constexpr (std::is_same_v<T, proto::puback_packet>) {
          return fmt::format("PUBACK id={} rc={}", x.id.value, reason_code_name(x.reason));
        } else if constexpr (std::is_same_v<T, proto::pubrec_packet>) {
          return fmt::format("PUBREC id={} rc={}", x.id.value, reason_code_name(x.reason));
        } else if constexpr (std::is_same_v<T, proto::pubcomp_packet>) {
          return fmt::format("PUBCOMP id={} rc={}", x.id.value, reason_code_name(x.reason));
        } else if constexpr (std::is_same_v<T, proto::suback_packet>) {
          return fmt::format("SUBACK id={} {}", x.id.value, reasons_text(x.reasons));
        } else if constexpr (std::is_same_v<T, proto::unsuback_packet>) {
          return fmt::format("UNSUBACK id={}{}", x.id.value,
                             v == protocol_version::v5 ? " " + reasons_text(x.reasons) : "");
        } else if constexpr (std::is_same_v<T, proto::pingresp_packet>) {
          return "PINGRESP";
        } else if constexpr (std::is_same_v<T, proto::disconnect_packet>) {
          return fmt::format("DISCONNECT rc={}", reason_code_name(x.reason));
        } else {
          return std::string(proto::packet_type_name(proto::packet_type_of<T>));
        }
      },
      p);
}

inline std::string text_of(const std::vector<uint8_t>& b) { return {b.begin(), b.end()}; }

inline std::string header_value(const buffer::reading& r, std::string_view key) {
  // The MQTT side hands the headers over encoded; a blob that does not decode fails the test.
  std::vector<buffer::header> decoded = r.headers;
  if (!r.headers_encoded.empty()) {
    auto d = buffer::decode_headers(r.headers_encoded, SIZE_MAX);
    if (!d) return "<undecodable>";
    decoded = std::move(*d);
  }
  for (const auto& h : decoded) {
    if (h.key == key) return h.value ? text_of(*h.value) : "<null>";
  }
  return "<none>";
}

class harness {
 public:
  explicit harness(core_config cfg = small_config(), routes::table_spec spec = default_routes())
      : table_(build(spec)), core_(std::move(cfg), table_) {}

  server_core& core() { return core_; }
  instant now() const { return now_; }
  void advance(uint64_t ms) {
    now_.mono_ms += ms;
    now_.unix_ms += static_cast<int64_t>(ms);
  }

  std::string open(uint64_t c) { return render(core_.on_open(connection_id(c), now_)); }

  // Encodes the packet as the client would (a CONNECT in its own version; others in the version of
  // the connection's CONNECT) and feeds it.
  std::string recv(uint64_t c, const proto::packet& p) {
    if (!opened_.count(c)) {
      opened_[c] = true;
      open(c);
    }
    protocol_version v = versions_.count(c) ? versions_[c] : protocol_version::v311;
    if (auto* cp = std::get_if<proto::connect_packet>(&p)) v = versions_[c] = cp->version;
    return recv_bytes(c, proto::encode(p, v));
  }
  std::string recv_bytes(uint64_t c, const std::vector<uint8_t>& bytes) {
    if (!opened_.count(c)) {
      opened_[c] = true;
      open(c);
    }
    return render(core_.on_frame(connection_id(c), bytes, now_));
  }
  std::string frame_error(uint64_t c, bool too_large) {
    return render(core_.on_frame_error(connection_id(c), too_large, now_));
  }
  std::string closed(uint64_t c) { return render(core_.on_closed(connection_id(c), now_)); }
  std::string tick() { return render(core_.tick(now_)); }
  std::string shutdown() { return render(core_.shutdown(now_)); }
  std::string auth(uint64_t c, auth_outcome o) {
    return render(core_.on_authenticated(connection_id(c), o, now_));
  }
  std::string commit(uint64_t token, commit_result r = commit_result::committed) {
    return render(core_.on_committed(commit_token(token), r, now_));
  }

  // The readings submitted, by token.
  const buffer::reading& reading(uint64_t token) {
    REQUIRE(submitted_.count(token) == 1);
    return submitted_.at(token);
  }
  size_t submitted() const { return submitted_.size(); }

  void set_version(uint64_t c, protocol_version v) { versions_[c] = v; }

 private:
  static routes::route_table build(const routes::table_spec& spec) {
    auto t = routes::route_table::build(spec);
    REQUIRE(t);
    return std::move(*t);
  }

  std::string render(const actions& as) {
    std::string out;
    for (const auto& a : as) out += render_one(a) + "\n";
    return out;
  }

  std::string render_one(const action& a) {
    return std::visit(
        [this](const auto& x) -> std::string {
          using T = std::decay_t<decltype(x)>;
          const uint64_t c = x.conn.value;
          if constexpr (std::is_same_v<T, send_action>) {
            std::string out;
            const protocol_version v = versions_.count(c) ? versions_[c] : protocol_version::v311;
            byte_span rest(x.bytes);
            while (!rest.empty()) {
              auto n = proto::frame_length(rest, proto::max_packet_size_limit);
              REQUIRE(n);
              REQUIRE(*n > 0);
              REQUIRE(*n <= rest.size());
              auto p = proto::decode(rest.first(*n), v);
              REQUIRE_MESSAGE(p, "the core sent bytes that do not decode");
              if (!out.empty()) out += "\n";
              out += fmt::format("c{} < {}", c, packet_text(*p, v));
              rest = rest.subspan(*n);
            }
            return out;
          } else if constexpr (std::is_same_v<T, submit_action>) {
            submitted_[x.token.value] = x.row;
            const auto& r = x.row;
            return fmt::format("c{} submit #{} qos={}{} topic={} key={} payload={}", c, x.token.value, x.qos,
                               x.will ? " will" : "", r.topic, r.key ? text_of(*r.key) : "<null>",
                               text_of(r.payload));
          } else if constexpr (std::is_same_v<T, verify_action>) {
            return fmt::format("c{} verify user={} password={}", c, x.username, text_of(x.password));
          } else if constexpr (std::is_same_v<T, close_action>) {
            return fmt::format("c{} {} ({})", c, x.abort ? "abort" : "close", x.why);
          } else {
            return fmt::format("c{} {}", c, x.pause ? "pause" : "resume");
          }
        },
        a);
  }

  routes::route_table table_;
  server_core core_;
  instant now_{1'000'000, 1'700'000'000'000};
  std::map<uint64_t, protocol_version> versions_;
  std::map<uint64_t, bool> opened_;
  std::map<uint64_t, buffer::reading> submitted_;
};

// --- packet builders -----------------------------------------------------------------------------

struct connect_opts {
  protocol_version version = protocol_version::v5;
  bool clean_start = true;
  uint16_t keep_alive_s = 60;
  std::optional<uint32_t> session_expiry_s;
  std::optional<std::string_view> username;
  std::optional<std::string_view> password;
  std::optional<std::string_view> will_topic;
  std::string_view will_payload = "offline";
  std::optional<uint32_t> will_delay_s;
  std::optional<uint32_t> max_packet_bytes;
};

inline proto::connect_packet connect(std::string_view client_id, const connect_opts& o = {}) {
  proto::connect_packet c;
  c.version = o.version;
  c.clean_start = o.clean_start;
  c.keep_alive_s = o.keep_alive_s;
  c.client_id = client_id;
  if (o.version == protocol_version::v5) {
    c.props.session_expiry_interval_s = o.session_expiry_s;
    c.props.maximum_packet_size = o.max_packet_bytes;
  }
  c.username = o.username;
  if (o.password)
    c.password = proto::bytes_view(reinterpret_cast<const uint8_t*>(o.password->data()), o.password->size());
  if (o.will_topic) {
    proto::will_message w;
    w.topic = *o.will_topic;
    w.payload =
        proto::bytes_view(reinterpret_cast<const uint8_t*>(o.will_payload.data()), o.will_payload.size());
    if (o.version == protocol_version::v5) w.props.will_delay_interval_s = o.will_delay_s;
    c.will = w;
  }
  return c;
}

inline proto::connect_packet connect311(std::string_view client_id, connect_opts o = {}) {
  o.version = protocol_version::v311;
  return connect(client_id, o);
}

inline proto::publish_packet publish(std::string_view topic, std::string_view payload, int qos = 1,
                                     uint16_t id = 1) {
  proto::publish_packet p;
  p.topic = topic;
  p.qos = static_cast<qos_level>(qos);
  p.id = proto::packet_id(qos == 0 ? 0 : id);
  p.payload = proto::bytes_view(reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
  return p;
}

inline proto::pubrel_packet pubrel(uint16_t id) { return proto::pubrel_packet{proto::packet_id(id), {}, {}}; }

inline proto::disconnect_packet disconnect(proto::reason_code r = proto::reason_code::normal_disconnection) {
  return proto::disconnect_packet{r, {}};
}

}  // namespace tributary::gateway::mqtt::test
