#pragma once
// The generic error answer to a decoded request the broker does not handle (an API it does not
// implement yet, or a version outside the advertised range, for handlers without their own reject):
// the API's default response with every top-level error_code field of that version set to `error`.
// nullopt when that version's response has no top-level error code (e.g. OffsetCommit, whose errors
// are per partition): then the connection is closed, as Kafka does.
#include <cstdint>
#include <optional>
#include <vector>

#include "common/kafka/protocol/protocol.h"

namespace tributary::cluster::kafka {

namespace protocol = tributary::kafka::protocol;

std::optional<std::vector<uint8_t>> top_level_error_response(const protocol::request& req,
                                                             protocol::error_code error);

}  // namespace tributary::cluster::kafka
