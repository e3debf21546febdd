#include "common/kafka/protocol/error_code.h"

namespace tributary::kafka::protocol {

std::string_view error_code_name(error_code e) noexcept {
  switch (e) {
#define TRIB_X(name, upper, code) \
  case error_code::name: return #upper;
    TRIB_KAFKA_ERROR_CODES(TRIB_X)
#undef TRIB_X
  }
  return "UNKNOWN_ERROR_CODE";
}

}  // namespace tributary::kafka::protocol
