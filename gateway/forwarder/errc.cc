#include "gateway/forwarder/errc.h"

namespace tributary {

const char* errc_info<gateway::forwarder::errc>::message(gateway::forwarder::errc e) noexcept {
  using gateway::forwarder::errc;
  switch (e) {
    case errc::bad_config: return "invalid forwarder configuration";
    case errc::producer_failed: return "the Kafka producer could not be created";
    case errc::not_active:
      return "the forwarder is not enabled (forwarder.enabled, forwarder.bootstrap_servers)";
  }
  return "unknown forwarder error";
}

}  // namespace tributary
