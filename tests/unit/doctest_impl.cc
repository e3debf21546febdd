// doctest's implementation, once for every test executable (trib_doctest, tests/unit/CMakeLists.txt).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
