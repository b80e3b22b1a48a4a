// Replay mode for a fuzz target without libFuzzer: every file named on the command line (or
// found in a directory named there) goes through LLVMFuzzerTestOneInput once. ctest runs each
// target over its checked-in corpus and crash regressions this way in the ordinary sanitizer
// build, so a fixed finding stays fixed.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace rp::fuzz {
[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "fuzz target finding: %s\n", what);
  std::abort();
}
}  // namespace rp::fuzz

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE|DIR...  (nothing to replay)\n", argv[0]);
    return 2;
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
