#pragma once
// Errors of the simulator's adapters (MQTT client, Kafka consumer).
#include <system_error>

#include "common/result.h"

namespace tributary::sim::io {

enum class errc {
  kafka_config = 1,  // librdkafka refused a property
  kafka_subscribe,   // subscribing to the topic failed
  kafka_fatal,       // librdkafka reported a fatal error
  never_assigned,    // the consumer group never assigned a partition before the deadline
  mqtt_client,       // the Paho client could not be created (bad URI, bad client id)
};
inline std::error_code make_error_code(errc e) noexcept { return to_error_code(e); }

}  // namespace tributary::sim::io

template <>
struct tributary::errc_info<tributary::sim::io::errc> {
  static constexpr const char* name = "sim.io";
  static const char* message(tributary::sim::io::errc e) noexcept {
    using tributary::sim::io::errc;
    switch (e) {
      case errc::kafka_config: return "kafka client configuration refused";
      case errc::kafka_subscribe: return "kafka subscribe failed";
      case errc::kafka_fatal: return "kafka client fatal error";
      case errc::never_assigned: return "no partition was assigned before the deadline";
      case errc::mqtt_client: return "MQTT client creation failed";
    }
    return "unknown sim.io error";
  }
};
template <>
struct std::is_error_code_enum<tributary::sim::io::errc> : std::true_type {};
