#include "common/assert.h"

#include <cstdio>
#include <cstdlib>

namespace tributary::detail {

void assert_failed(const char* condition, const char* file, int line, std::string_view message) noexcept {
  std::fprintf(stderr, "level=fatal event=assertion_failed condition=\"%s\" at=%s:%d message=\"%.*s\"\n",
               condition, file, line, static_cast<int>(message.size()), message.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace tributary::detail
