#include "gateway/mqtt/reading_builder.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string>

#include "gateway/mqtt/core.h"

namespace tributary::gateway::mqtt {
namespace {

void add(std::vector<buffer::header_view>& hs, std::string_view key, std::string_view value) {
  hs.push_back(buffer::header_view{key, as_bytes(value)});
}

}  // namespace

reading_source source_of(const ::tributary::mqtt::publish_packet& p, std::string_view client_id,
                         std::string_view topic) {
  reading_source src;
  src.client_id = client_id;
  src.topic = topic;
  src.payload = p.payload;
  src.qos = static_cast<uint8_t>(p.qos);
  src.retain = p.retain;
  src.message_expiry_s = p.props.message_expiry_interval_s;
  src.content_type = p.props.content_type;
  src.payload_utf8 = p.props.payload_format_indicator == 1;
  src.user_properties.reserve(p.props.user_properties.size());
  for (const auto& up : p.props.user_properties) src.user_properties.emplace_back(up.name, up.value);
  return src;
}

buffer::reading make_reading(const core_config& config, routes::route_target target,
                             const reading_source& src, instant now) {
  buffer::reading r;
  r.receive_ms = now.unix_ms;
  r.topic = std::move(target.topic);
  if (target.key) r.key.emplace(target.key->begin(), target.key->end());
  r.payload.assign(src.payload.begin(), src.payload.end());
  r.priority = target.priority;
  std::optional<int64_t> expires;
  if (target.ttl_ms > 0) expires = now.unix_ms + static_cast<int64_t>(target.ttl_ms);
  if (src.message_expiry_s) {
    int64_t e = now.unix_ms + int64_t{*src.message_expiry_s} * 1000;
    expires = expires ? std::min(*expires, e) : e;
  }
  r.expires_ms = expires;

  // The headers are encoded here, once, from views: no allocation per key and value, and none for
  // the list itself (it is reused: the event loop builds one reading at a time).
  thread_local std::vector<buffer::header_view> hs;
  hs.clear();
  hs.reserve(8 + std::min(src.user_properties.size(), config.user_properties_max));
  add(hs, header::gateway, config.gateway_id);
  add(hs, header::client_id, src.client_id);
  add(hs, header::mqtt_topic, src.topic);
  const char qos_text[2] = {static_cast<char>('0' + src.qos), 0};
  add(hs, header::mqtt_qos, std::string_view(qos_text, 1));
  char receive_text[24];
  const auto printed = std::to_chars(std::begin(receive_text), std::end(receive_text), now.unix_ms);
  add(hs, header::receive_ms, std::string_view(receive_text, printed.ptr));
  if (src.retain) add(hs, header::mqtt_retain, "1");
  if (src.content_type) add(hs, header::content_type, *src.content_type);
  if (src.payload_utf8) add(hs, header::payload_format, "utf-8");
  if (!src.will_reason.empty()) {
    add(hs, header::event, "will");
    add(hs, header::will_reason, src.will_reason);
  }
  size_t copied = 0;
  for (const auto& [name, value] : src.user_properties) {
    if (copied == config.user_properties_max) break;
    if (name.starts_with(header::reserved_prefix)) continue;  // no spoofing of our own headers
    add(hs, name, value);
    ++copied;
  }
  buffer::encode_header_views(hs, r.headers_encoded);
  hs.clear();  // no views outlive the call
  return r;
}

}  // namespace tributary::gateway::mqtt
