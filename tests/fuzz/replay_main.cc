// Replays libFuzzer inputs without libFuzzer: every file named on the command line (directories are
// walked) is fed once to LLVMFuzzerTestOneInput. Lets the gcc/sanitizer build run the seed corpus
// and every past crash as ordinary regression tests.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
int run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", p.c_str());
    return 1;
  }
  std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(data.data(), data.size());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  size_t count = 0;
  int failures = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (!e.is_regular_file()) continue;
        failures += run_file(e.path());
        ++count;
      }
    } else {
      failures += run_file(p);
      ++count;
    }
  }
  // Also feed the empty input and a few tiny ones: cheap edge cases every decoder must survive.
  const uint8_t tiny[4] = {0xff, 0x00, 0x80, 0x7f};
  for (size_t n = 0; n <= sizeof(tiny); ++n) LLVMFuzzerTestOneInput(tiny, n);
  std::printf("replayed %zu inputs\n", count);
  return failures == 0 ? 0 : 1;
}
