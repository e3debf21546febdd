#include "common/mqtt/properties.h"

#include <array>

#include "common/assert.h"
#include "common/mqtt/errc.h"
#include "common/mqtt/topic.h"
#include "common/mqtt/wire.h"

namespace tributary::mqtt {
namespace {

enum class value_type : uint8_t { none, byte, two_byte, four_byte, varint, utf8_string, binary, utf8_pair };

constexpr uint32_t in(property_context c) { return uint32_t{1} << static_cast<uint8_t>(c); }

using enum property_context;
constexpr uint32_t acks = in(puback) | in(pubrec) | in(pubrel) | in(pubcomp);
constexpr uint32_t every_packet_with_properties = in(connect) | in(connack) | in(publish) | in(will) | acks |
                                                  in(subscribe) | in(suback) | in(unsubscribe) |
                                                  in(unsuback) | in(disconnect) | in(auth);

struct property_spec {
  std::string_view name;  // empty: no such property
  value_type type = value_type::none;
  uint32_t contexts = 0;  // bit set of property_context values
};

// The table of spec section 2.2.2.2, indexed by identifier.
constexpr std::array<property_spec, 0x2B> make_specs() {
  std::array<property_spec, 0x2B> t{};
  using v = value_type;
  t[0x01] = {"payload_format_indicator", v::byte, in(publish) | in(will)};
  t[0x02] = {"message_expiry_interval", v::four_byte, in(publish) | in(will)};
  t[0x03] = {"content_type", v::utf8_string, in(publish) | in(will)};
  t[0x08] = {"response_topic", v::utf8_string, in(publish) | in(will)};
  t[0x09] = {"correlation_data", v::binary, in(publish) | in(will)};
  t[0x0B] = {"subscription_identifier", v::varint, in(publish) | in(subscribe)};
  t[0x11] = {"session_expiry_interval", v::four_byte, in(connect) | in(connack) | in(disconnect)};
  t[0x12] = {"assigned_client_identifier", v::utf8_string, in(connack)};
  t[0x13] = {"server_keep_alive", v::two_byte, in(connack)};
  t[0x15] = {"authentication_method", v::utf8_string, in(connect) | in(connack) | in(auth)};
  t[0x16] = {"authentication_data", v::binary, in(connect) | in(connack) | in(auth)};
  t[0x17] = {"request_problem_information", v::byte, in(connect)};
  t[0x18] = {"will_delay_interval", v::four_byte, in(will)};
  t[0x19] = {"request_response_information", v::byte, in(connect)};
  t[0x1A] = {"response_information", v::utf8_string, in(connack)};
  t[0x1C] = {"server_reference", v::utf8_string, in(connack) | in(disconnect)};
  t[0x1F] = {"reason_string", v::utf8_string,
             in(connack) | acks | in(suback) | in(unsuback) | in(disconnect) | in(auth)};
  t[0x21] = {"receive_maximum", v::two_byte, in(connect) | in(connack)};
  t[0x22] = {"topic_alias_maximum", v::two_byte, in(connect) | in(connack)};
  t[0x23] = {"topic_alias", v::two_byte, in(publish)};
  t[0x24] = {"maximum_qos", v::byte, in(connack)};
  t[0x25] = {"retain_available", v::byte, in(connack)};
  t[0x26] = {"user_property", v::utf8_pair, every_packet_with_properties};
  t[0x27] = {"maximum_packet_size", v::four_byte, in(connect) | in(connack)};
  t[0x28] = {"wildcard_subscription_available", v::byte, in(connack)};
  t[0x29] = {"subscription_identifier_available", v::byte, in(connack)};
  t[0x2A] = {"shared_subscription_available", v::byte, in(connack)};
  return t;
}
constexpr std::array<property_spec, 0x2B> specs = make_specs();

const property_spec* find_spec(uint32_t id) {
  if (id >= specs.size() || specs[id].type == value_type::none) return nullptr;
  return &specs[id];
}

bool is_flag(uint8_t v) { return v <= 1; }

// Reads one property's value into `out`, checking its range.
result<void> read_value(wire::field_reader& r, property_id id, properties& out) {
  using enum property_id;
  switch (id) {
    case payload_format_indicator: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.payload_format_indicator = v;
      return {};
    }
    case message_expiry_interval: out.message_expiry_interval_s = TRIB_TRY(r.u32()); return {};
    case content_type: out.content_type = TRIB_TRY(r.utf8_string()); return {};
    case response_topic: {
      const std::string_view topic = TRIB_TRY(r.utf8_string());
      // [MQTT-3.3.2-14]: a response topic is a topic name, without wildcards.
      if (!detail::is_valid_topic_name_structure(topic)) return fail(errc::invalid_topic_name);
      out.response_topic = topic;
      return {};
    }
    case correlation_data: out.correlation_data = TRIB_TRY(r.binary()); return {};
    case subscription_identifier: {
      const uint32_t v = TRIB_TRY(r.varint());
      if (v == 0) return fail(errc::bad_property_value);  // 3.3.2.3.8: 0 is a protocol error
      out.subscription_identifiers.push_back(v);
      return {};
    }
    case session_expiry_interval: out.session_expiry_interval_s = TRIB_TRY(r.u32()); return {};
    case assigned_client_identifier: out.assigned_client_identifier = TRIB_TRY(r.utf8_string()); return {};
    case server_keep_alive: out.server_keep_alive_s = TRIB_TRY(r.u16()); return {};
    case authentication_method: out.authentication_method = TRIB_TRY(r.utf8_string()); return {};
    case authentication_data: out.authentication_data = TRIB_TRY(r.binary()); return {};
    case request_problem_information: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.request_problem_information = v;
      return {};
    }
    case will_delay_interval: out.will_delay_interval_s = TRIB_TRY(r.u32()); return {};
    case request_response_information: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.request_response_information = v;
      return {};
    }
    case response_information: out.response_information = TRIB_TRY(r.utf8_string()); return {};
    case server_reference: out.server_reference = TRIB_TRY(r.utf8_string()); return {};
    case reason_string: out.reason_string = TRIB_TRY(r.utf8_string()); return {};
    case receive_maximum: {
      const uint16_t v = TRIB_TRY(r.u16());
      if (v == 0) return fail(errc::bad_property_value);  // 3.1.2.11.3 / 3.2.2.3.3
      out.receive_maximum = v;
      return {};
    }
    case topic_alias_maximum: out.topic_alias_maximum = TRIB_TRY(r.u16()); return {};
    case topic_alias: {
      const uint16_t v = TRIB_TRY(r.u16());
      if (v == 0) return fail(errc::bad_property_value);  // [MQTT-3.3.2-8]
      out.topic_alias = v;
      return {};
    }
    case maximum_qos: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);  // 3.2.2.3.4: 0 or 1
      out.maximum_qos = v;
      return {};
    }
    case retain_available: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.retain_available = v;
      return {};
    }
    case user_property: {
      const std::string_view name = TRIB_TRY(r.utf8_string());
      const std::string_view value = TRIB_TRY(r.utf8_string());
      out.user_properties.push_back({name, value});
      return {};
    }
    case maximum_packet_size: {
      const uint32_t v = TRIB_TRY(r.u32());
      if (v == 0) return fail(errc::bad_property_value);  // 3.1.2.11.4 / 3.2.2.3.6
      out.maximum_packet_size = v;
      return {};
    }
    case wildcard_subscription_available: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.wildcard_subscription_available = v;
      return {};
    }
    case subscription_identifier_available: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.subscription_identifier_available = v;
      return {};
    }
    case shared_subscription_available: {
      const uint8_t v = TRIB_TRY(r.u8());
      if (!is_flag(v)) return fail(errc::bad_property_value);
      out.shared_subscription_available = v;
      return {};
    }
  }
  TRIB_ASSERT(false, "property identifier without a reader");
  return fail(errc::unknown_property);
}

// The properties of `p` in identifier order, each once; calls f(id) for each present.
template <class F>
void for_each_present(const properties& p, F&& f) {
  using enum property_id;
  if (p.payload_format_indicator) f(payload_format_indicator);
  if (p.message_expiry_interval_s) f(message_expiry_interval);
  if (p.content_type) f(content_type);
  if (p.response_topic) f(response_topic);
  if (p.correlation_data) f(correlation_data);
  if (!p.subscription_identifiers.empty()) f(subscription_identifier);
  if (p.session_expiry_interval_s) f(session_expiry_interval);
  if (p.assigned_client_identifier) f(assigned_client_identifier);
  if (p.server_keep_alive_s) f(server_keep_alive);
  if (p.authentication_method) f(authentication_method);
  if (p.authentication_data) f(authentication_data);
  if (p.request_problem_information) f(request_problem_information);
  if (p.will_delay_interval_s) f(will_delay_interval);
  if (p.request_response_information) f(request_response_information);
  if (p.response_information) f(response_information);
  if (p.server_reference) f(server_reference);
  if (p.reason_string) f(reason_string);
  if (p.receive_maximum) f(receive_maximum);
  if (p.topic_alias_maximum) f(topic_alias_maximum);
  if (p.topic_alias) f(topic_alias);
  if (p.maximum_qos) f(maximum_qos);
  if (p.retain_available) f(retain_available);
  if (!p.user_properties.empty()) f(user_property);
  if (p.maximum_packet_size) f(maximum_packet_size);
  if (p.wildcard_subscription_available) f(wildcard_subscription_available);
  if (p.subscription_identifier_available) f(subscription_identifier_available);
  if (p.shared_subscription_available) f(shared_subscription_available);
}

void write_id(wire::field_writer& w, property_id id) { w.varint(static_cast<uint8_t>(id)); }

// Writes every present property of `p` (identifier, value), in identifier order.
void write_list(wire::field_writer& w, const properties& p) {
  for_each_present(p, [&](property_id id) {
    using enum property_id;
    switch (id) {
      case subscription_identifier:
        for (uint32_t v : p.subscription_identifiers) {
          write_id(w, id);
          w.varint(v);
        }
        return;
      case user_property:
        for (const auto& up : p.user_properties) {
          write_id(w, id);
          w.utf8_string(up.name);
          w.utf8_string(up.value);
        }
        return;
      default: break;
    }
    write_id(w, id);
    switch (id) {
      case payload_format_indicator: w.u8(*p.payload_format_indicator); return;
      case message_expiry_interval: w.u32(*p.message_expiry_interval_s); return;
      case content_type: w.utf8_string(*p.content_type); return;
      case response_topic: w.utf8_string(*p.response_topic); return;
      case correlation_data: w.binary(*p.correlation_data); return;
      case session_expiry_interval: w.u32(*p.session_expiry_interval_s); return;
      case assigned_client_identifier: w.utf8_string(*p.assigned_client_identifier); return;
      case server_keep_alive: w.u16(*p.server_keep_alive_s); return;
      case authentication_method: w.utf8_string(*p.authentication_method); return;
      case authentication_data: w.binary(*p.authentication_data); return;
      case request_problem_information: w.u8(*p.request_problem_information); return;
      case will_delay_interval: w.u32(*p.will_delay_interval_s); return;
      case request_response_information: w.u8(*p.request_response_information); return;
      case response_information: w.utf8_string(*p.response_information); return;
      case server_reference: w.utf8_string(*p.server_reference); return;
      case reason_string: w.utf8_string(*p.reason_string); return;
      case receive_maximum: w.u16(*p.receive_maximum); return;
      case topic_alias_maximum: w.u16(*p.topic_alias_maximum); return;
      case topic_alias: w.u16(*p.topic_alias); return;
      case maximum_qos: w.u8(*p.maximum_qos); return;
      case retain_available: w.u8(*p.retain_available); return;
      case maximum_packet_size: w.u32(*p.maximum_packet_size); return;
      case wildcard_subscription_available: w.u8(*p.wildcard_subscription_available); return;
      case subscription_identifier_available: w.u8(*p.subscription_identifier_available); return;
      case shared_subscription_available: w.u8(*p.shared_subscription_available); return;
      case subscription_identifier:
      case user_property: break;  // written above
    }
  });
}

}  // namespace

std::string_view property_name(property_id id) noexcept {
  const property_spec* s = find_spec(static_cast<uint8_t>(id));
  return s ? s->name : "unknown";
}

bool property_allowed(property_id id, property_context context) noexcept {
  const property_spec* s = find_spec(static_cast<uint8_t>(id));
  return s && (s->contexts & in(context)) != 0;
}

bool properties_allowed(const properties& p, property_context context) noexcept {
  bool ok = true;
  for_each_present(p, [&](property_id id) { ok = ok && property_allowed(id, context); });
  // Several subscription identifiers only in a PUBLISH.
  if (p.subscription_identifiers.size() > 1 && context != property_context::publish) ok = false;
  return ok;
}

namespace wire {

result<properties> read_properties(field_reader& r, property_context context) {
  const uint32_t length = TRIB_TRY(r.varint());
  field_reader block(TRIB_TRY(r.span(length)));
  properties out;
  uint64_t seen = 0;  // bit i: identifier i already read (identifiers are below 64)
  while (!block.empty()) {
    const uint32_t id = TRIB_TRY(block.varint());
    const property_spec* spec = find_spec(id);
    if (!spec) return fail(errc::unknown_property);
    if ((spec->contexts & in(context)) == 0) return fail(errc::property_not_allowed);
    const auto pid = static_cast<property_id>(id);
    const bool repeatable =
        pid == property_id::user_property ||
        (pid == property_id::subscription_identifier && context == property_context::publish);
    const uint64_t bit = uint64_t{1} << id;
    if ((seen & bit) && !repeatable) return fail(errc::duplicate_property);
    seen |= bit;
    TRIB_TRY_VOID(read_value(block, pid, out));
  }
  return out;
}

void write_properties(field_writer& w, const properties& p, property_context context) {
  TRIB_ASSERT(properties_allowed(p, context), "property not allowed in this packet");
  field_writer counter(nullptr);
  write_list(counter, p);
  w.varint(static_cast<uint32_t>(counter.size()));
  write_list(w, p);
}

}  // namespace wire

}  // namespace tributary::mqtt
