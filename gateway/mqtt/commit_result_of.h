#pragma once
// What the buffer's answer to a submitted reading means to an MQTT session: shared by the two
// adapters that submit readings (mqtt/server.cc for the listener, bridge/bridge.cc for the bridge).
#include <system_error>

#include "gateway/buffer/errc.h"
#include "gateway/mqtt/types.h"

namespace tributary::gateway::mqtt {

inline commit_result commit_result_of(const std::error_code& ec) {
  using buffer::errc;
  if (ec == errc::buffer_full) return commit_result::quota_exceeded;
  if (ec == errc::row_too_large || ec == errc::invalid_row) return commit_result::rejected;
  if (ec == errc::queue_full) return commit_result::queue_full;
  return commit_result::failed;
}

}  // namespace tributary::gateway::mqtt
