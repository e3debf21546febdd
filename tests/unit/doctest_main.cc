// The default runner of the test executables (trib_doctest_main); tests that need their own main()
// (quiet logs) pass OWN_MAIN to trib_unit_test.
#include <doctest/doctest.h>

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  return context.run();
}
