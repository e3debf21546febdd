#include "common/kafka/protocol/errc.h"

#include "common/bytes.h"

namespace tributary {

const char* errc_info<kafka::protocol::errc>::message(kafka::protocol::errc e) noexcept {
  using kafka::protocol::errc;
  switch (e) {
    case errc::truncated: return "input ends inside a field";
    case errc::trailing_bytes: return "bytes left after the message body";
    case errc::bad_length: return "invalid length prefix";
    case errc::bad_varint: return "varint too long";
    case errc::unexpected_null: return "null where the field is not nullable";
    case errc::unknown_api_key: return "unknown api key";
    case errc::unsupported_version: return "unsupported api version";
    case errc::too_many_elements: return "too many array elements";
    case errc::bad_tagged_field: return "tagged field does not match its size";
    case errc::frame_too_large: return "frame larger than the limit";
    case errc::bad_frame_size: return "negative frame size";
  }
  return "unknown kafka.protocol error";
}

namespace kafka::protocol {

std::error_code from_bytes_error(std::error_code ec) noexcept {
  if (ec.category() != errc_category<bytes::errc>()) return ec;
  switch (static_cast<bytes::errc>(ec.value())) {
    case bytes::errc::end_of_input: return errc::truncated;
    case bytes::errc::bad_varint: return errc::bad_varint;
    case bytes::errc::bad_length: return errc::bad_length;
    case bytes::errc::null_not_allowed: return errc::unexpected_null;
  }
  return ec;
}

}  // namespace kafka::protocol
}  // namespace tributary
